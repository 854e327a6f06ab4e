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

  function fold(text) {
    return String(text).normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  }

  // Search as you type over a list of people: a filter box above the plain <select>.
  function wireSearchableSelect(select) {
    var box = document.createElement("input");
    box.type = "search";
    box.id = select.id + "-filter";
    box.className = "select-filter";
    box.placeholder = "Digite um nome para filtrar";
    box.setAttribute("aria-controls", select.id);
    var label = document.createElement("label");
    label.htmlFor = box.id;
    label.className = "sr-only";
    label.textContent = "Filtrar " + (select.labels && select.labels[0] ? select.labels[0].textContent.trim() : "lista");
    select.parentNode.insertBefore(label, select);
    select.parentNode.insertBefore(box, select);
    box.addEventListener("input", function () {
      var wanted = fold(box.value.trim());
      var firstVisible = null;
      Array.prototype.forEach.call(select.options, function (option) {
        var show = option.selected || fold(option.textContent).indexOf(wanted) !== -1;
        option.hidden = !show;
        if (show && !firstVisible && !option.selected) firstVisible = option;
      });
      if (!select.multiple && wanted && select.selectedOptions.length && select.selectedOptions[0].hidden) {
        if (firstVisible) firstVisible.selected = true;
      }
    });
  }

  document.addEventListener("click", closeMenusOutside);
  document.addEventListener("keydown", closeMenusOnEscape);
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("select[data-searchable]").forEach(wireSearchableSelect);
    var form = document.getElementById("request-form");
    if (form) {
      wirePersonPicker(form);
      wireDependentOptions(form);
      wireMissingPanel(form);
    }
  });
})();
