/* Administração › Catálogo › routing rules: ticking a region ticks its UFs, and a region's
   box follows its UFs (ticked when all are, "mixed" when some are). Without this script the
   server reads a ticked region as all its UFs. */
(function () {
  "use strict";
  function ufsOf(key) {
    return document.querySelectorAll('input[data-region-of="' + key + '"]');
  }
  function sync(key) {
    var box = document.querySelector('input[data-region="' + key + '"]');
    var ufs = Array.prototype.slice.call(ufsOf(key));
    var ticked = ufs.filter(function (uf) { return uf.checked; }).length;
    box.checked = ticked === ufs.length;
    box.indeterminate = ticked > 0 && ticked < ufs.length;
  }
  document.querySelectorAll("input[data-region]").forEach(function (box) {
    var key = box.getAttribute("data-region");
    box.addEventListener("change", function () {
      ufsOf(key).forEach(function (uf) { uf.checked = box.checked; });
      box.indeterminate = false;
    });
    ufsOf(key).forEach(function (uf) {
      uf.addEventListener("change", function () { sync(key); });
    });
    sync(key);
  });
})();
