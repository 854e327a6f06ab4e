// Small progressive enhancements; every page works without this file.
(function () {
  "use strict";

  function closeMenusOutside(event) {
    document.querySelectorAll("details.nav-menu[open]").forEach(function (menu) {
      if (!menu.contains(event.target)) menu.removeAttribute("open");
    });
  }

  function closeMenusOnEscape(event) {
    if (event.key !== "Escape") return;
    document.querySelectorAll("details.nav-menu[open], details.action-dialog[open]").forEach(function (menu) {
      menu.removeAttribute("open");
      var summary = menu.querySelector("summary");
      if (summary) summary.focus();
    });
  }

  // "Requisitado para": show the chosen person's e-mail and phone.
  function wirePersonPicker(form) {
    var picker = form.querySelector("[data-person-picker]");
    if (!picker) return;
    picker.addEventListener("change", function () {
      var option = picker.options[picker.selectedIndex];
      var email = form.querySelector("[data-person-email]");
      var phone = form.querySelector("[data-person-phone]");
      if (email) email.value = option.getAttribute("data-email") || "";
      if (phone) phone.value = option.getAttribute("data-phone") || "";
    });
  }

  // Options that depend on another field's answer (Sintoma by Funcionalidade).
  function wireDependentOptions(form) {
    form.querySelectorAll("select[data-depends-on]").forEach(function (child) {
      var parent = form.querySelector("#" + child.getAttribute("data-depends-on"));
      var byParent = JSON.parse(child.getAttribute("data-options") || "{}");
      if (!parent) return;
      parent.addEventListener("change", function () {
        var keep = child.value;
        var options = byParent[parent.value] || [];
        while (child.options.length > 1) child.remove(1);
        options.forEach(function (value) {
          var option = new Option(value, value, false, value === keep);
          child.add(option);
        });
        child.dispatchEvent(new Event("change", { bubbles: true }));
      });
    });
  }

  // "Informações necessárias": the required fields still empty, kept live.
  function wireMissingPanel(form) {
    var list = document.getElementById("missing-list");
    var done = document.getElementById("missing-done");
    if (!list) return;
    var fields = form.querySelectorAll("[data-required-label]");
    function refresh() {
      list.textContent = "";
      var missing = 0;
      fields.forEach(function (field) {
        if (String(field.value || "").trim() === "") {
          var item = document.createElement("li");
          item.textContent = field.getAttribute("data-required-label");
          list.appendChild(item);
          missing += 1;
        }
      });
      if (done) done.hidden = missing > 0;
    }
    form.addEventListener("input", refresh);
    form.addEventListener("change", refresh);
    refresh();
  }

  document.addEventListener("click", closeMenusOutside);
  document.addEventListener("keydown", closeMenusOnEscape);
  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("request-form");
    if (form) {
      wirePersonPicker(form);
      wireDependentOptions(form);
      wireMissingPanel(form);
    }
  });
})();
