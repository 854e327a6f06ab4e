/* The per-file size limit, checked in the browser before anything is sent (a progressive
   enhancement: without JavaScript the server answers 413 with the form and the typed text
   kept). Every file input carries its limit in bytes (data-max-bytes). A chosen file over it is
   named in an error tied to the input (aria-describedby), in the gov.br "feedback danger" style
   of the server's field errors, and its form is not sent until the file is removed or
   replaced. */
(function () {
  "use strict";

  var MB = 1024 * 1024;
  var INPUTS = "input[type=file][data-max-bytes]";

  function limitOf(input) {
    return parseInt(input.getAttribute("data-max-bytes") || "0", 10) || 0;
  }

  // Limits as the server writes them: "10 MB", or "512 KB" below a megabyte.
  function describe(bytes) {
    if (bytes >= MB) return Math.floor(bytes / MB) + " MB";
    if (bytes >= 1024) return Math.floor(bytes / 1024) + " KB";
    return bytes + " bytes";
  }

  function tooBig(input) {
    var limit = limitOf(input);
    if (!limit) return [];
    return Array.prototype.filter.call(input.files || [], function (file) {
      return file.size > limit;
    });
  }

  function errorId(input) {
    return input.id + "-size-error";
  }

  function describedBy(input, add) {
    var ids = (input.getAttribute("aria-describedby") || "").split(/\s+/).filter(function (id) {
      return id && id !== errorId(input);
    });
    if (add) ids.push(errorId(input));
    if (ids.length) input.setAttribute("aria-describedby", ids.join(" "));
    else input.removeAttribute("aria-describedby");
  }

  function clear(input) {
    var error = document.getElementById(errorId(input));
    if (error) error.parentNode.removeChild(error);
    describedBy(input, false);
    // Only the invalid mark this script set goes; a refusal the server rendered stays.
    if (input.getAttribute("data-size-invalid") === "true") {
      input.removeAttribute("aria-invalid");
      input.removeAttribute("data-size-invalid");
    }
  }

  // Shows (or clears) the input's error; true when a chosen file is too big.
  function check(input) {
    var big = tooBig(input);
    if (!big.length) {
      clear(input);
      return false;
    }
    var limit = describe(limitOf(input));
    var error = document.getElementById(errorId(input));
    if (!error) {
      error = document.createElement("span");
      error.id = errorId(input);
      error.className = "feedback danger upload-size-error";
      error.setAttribute("role", "alert");
      var field = input.closest("[data-upload]") || input.parentNode;
      field.appendChild(error);
    }
    error.textContent = "";
    var icon = document.createElement("i");
    icon.className = "fas fa-times-circle";
    icon.setAttribute("aria-hidden", "true");
    error.appendChild(icon);
    var sentences = big.map(function (file) {
      return "O arquivo “" + file.name + "” é maior que o limite de " + limit + ".";
    });
    sentences.push(big.length === 1
      ? "Remova-o ou escolha um arquivo menor para enviar."
      : "Remova-os ou escolha arquivos menores para enviar.");
    error.appendChild(document.createTextNode(" " + sentences.join(" ")));
    describedBy(input, true);
    if (input.getAttribute("aria-invalid") !== "true") {
      input.setAttribute("aria-invalid", "true");
      input.setAttribute("data-size-invalid", "true");
    }
    return true;
  }

  document.addEventListener("change", function (event) {
    if (event.target.matches && event.target.matches(INPUTS)) check(event.target);
  });

  // Captured on the document, so it runs before the form's own listeners (portal.js sends
  // large uploads in the background) and stops them too.
  document.addEventListener("submit", function (event) {
    var first = null;
    event.target.querySelectorAll(INPUTS).forEach(function (input) {
      if (check(input) && !first) first = input;
    });
    if (!first) return;
    event.preventDefault();
    event.stopPropagation();
    first.focus(); // visually hidden, but its focus ring shows on the button (portal.css)
  }, true);

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll(INPUTS).forEach(function (input) {
      check(input); // files a browser kept when the page was reloaded or reopened
      // portal.js's Remover rebuilds the list after changing the input's files.
      var field = input.closest("[data-upload]");
      var list = field && field.querySelector(".upload-list");
      if (list && typeof MutationObserver === "function") {
        new MutationObserver(function () { check(input); }).observe(list, { childList: true });
      }
    });
  });
})();
