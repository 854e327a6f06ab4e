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
        if (field.disabled || field.closest("[hidden]")) return; // a field that does not apply
        var value = field.tagName === "FIELDSET" ? (field.querySelector("input:checked") || {}).value : field.value;
        if (String(value || "").trim() === "") {
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
    form.addEventListener("form-rules:applied", refresh); // static/js/form-rules.js
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

  // Size as the server shows it (the "filesize" filter): 512 B, 3.4 KB, 1.2 MB.
  function formatSize(bytes) {
    if (bytes < 1024) return bytes + " B";
    if (bytes < 1024 * 1024) return (bytes / 1024).toFixed(1) + " KB";
    return (bytes / 1024 / 1024).toFixed(1) + " MB";
  }

  function canEditFiles() {
    try {
      return typeof DataTransfer === "function" && new DataTransfer().items !== undefined;
    } catch (error) {
      return false;
    }
  }

  // gov.br DS upload: the chosen files, each with its size and a remove button. Choosing
  // again adds to the list instead of replacing it.
  function wireUpload(field) {
    var input = field.querySelector(".upload-input");
    var list = field.querySelector(".upload-list");
    var status = field.querySelector(".upload-status");
    var maxBytes = parseInt(field.getAttribute("data-max-bytes") || "0", 10);
    var editable = canEditFiles();
    var kept = [];

    function sync() {
      if (editable) {
        var transfer = new DataTransfer();
        kept.forEach(function (file) { transfer.items.add(file); });
        input.files = transfer.files;
      }
      render();
    }

    function render() {
      list.textContent = "";
      kept.forEach(function (file, index) {
        var item = document.createElement("li");
        var name = document.createElement("span");
        name.className = "upload-name";
        name.textContent = file.name;
        var size = document.createElement("span");
        size.className = "file-size";
        size.textContent = formatSize(file.size);
        item.appendChild(name);
        item.appendChild(size);
        if (maxBytes && file.size > maxBytes) {
          var warning = document.createElement("span");
          warning.className = "feedback danger upload-too-big";
          warning.textContent = "Maior que o limite de " + Math.round(maxBytes / 1024 / 1024) + " MB: remova ou escolha outro arquivo.";
          item.appendChild(warning);
        }
        if (editable) {
          var remove = document.createElement("button");
          remove.type = "button";
          remove.className = "br-button secondary small upload-remove";
          remove.textContent = "Remover";
          var hidden = document.createElement("span");
          hidden.className = "sr-only";
          hidden.textContent = " " + file.name;
          remove.appendChild(hidden);
          remove.addEventListener("click", function () {
            kept.splice(index, 1);
            sync();
            status.textContent = file.name + " removido. " + summary();
            var next = list.querySelectorAll(".upload-remove")[Math.min(index, kept.length - 1)];
            (next || input).focus();
          });
          item.appendChild(remove);
        }
        list.appendChild(item);
      });
      list.hidden = kept.length === 0;
      status.hidden = false;
      status.textContent = summary();
    }

    function summary() {
      if (kept.length === 0) return "Nenhum arquivo escolhido.";
      return kept.length === 1 ? "1 arquivo escolhido." : kept.length + " arquivos escolhidos.";
    }

    input.addEventListener("change", function () {
      var chosen = Array.prototype.slice.call(input.files);
      if (!editable) kept = [];
      chosen.forEach(function (file) {
        var known = kept.some(function (other) {
          return other.name === file.name && other.size === file.size && other.lastModified === file.lastModified;
        });
        if (!known) kept.push(file);
      });
      sync();
    });
  }

  // Forms carrying large files are sent in the background so the page can show progress;
  // the answer then replaces the page, as a normal submission would.
  var PROGRESS_FROM_BYTES = 1024 * 1024;

  function wireUploadProgress(form) {
    form.addEventListener("submit", function (event) {
      var inputs = form.querySelectorAll(".upload-input");
      var total = 0;
      inputs.forEach(function (input) {
        Array.prototype.forEach.call(input.files || [], function (file) { total += file.size; });
      });
      if (total < PROGRESS_FROM_BYTES || typeof FormData !== "function") return;
      event.preventDefault();
      var status = form.querySelector(".upload-status");
      var bar = document.createElement("progress");
      bar.className = "upload-progress";
      bar.max = 100;
      bar.value = 0;
      bar.setAttribute("aria-label", "Envio dos arquivos");
      status.hidden = false;
      status.textContent = "Enviando os arquivos: 0%";
      status.parentNode.insertBefore(bar, status);
      form.querySelectorAll("button[type=submit]").forEach(function (button) { button.disabled = true; });
      var request = new XMLHttpRequest();
      request.open("POST", form.action || window.location.href);
      request.upload.addEventListener("progress", function (progress) {
        if (!progress.lengthComputable) return;
        var percent = Math.round((progress.loaded / progress.total) * 100);
        bar.value = percent;
        status.textContent = "Enviando os arquivos: " + percent + "%";
      });
      request.addEventListener("load", function () {
        document.open();
        document.write(request.responseText);
        document.close();
        if (request.responseURL) window.history.replaceState(null, "", request.responseURL);
      });
      request.addEventListener("error", function () {
        bar.remove();
        status.textContent = "Não foi possível enviar. Verifique a conexão e tente de novo; os arquivos continuam escolhidos.";
        form.querySelectorAll("button[type=submit]").forEach(function (button) { button.disabled = false; });
      });
      request.send(new FormData(form));
    });
  }

  // A filter box over a list of checkboxes (Quem pode acompanhar esta solicitação?).
  function wireFilterableList(group) {
    var list = group.querySelector(".checkbox-list");
    if (!list || list.children.length < 2) return;
    var box = document.createElement("input");
    box.type = "search";
    box.id = group.id + "-filter";
    box.className = "select-filter";
    box.placeholder = "Digite um nome para filtrar";
    box.setAttribute("aria-controls", list.id || "");
    var label = document.createElement("label");
    label.htmlFor = box.id;
    label.className = "sr-only";
    label.textContent = "Filtrar pessoas";
    var count = document.createElement("p");
    count.className = "sr-only";
    count.setAttribute("aria-live", "polite");
    list.parentNode.insertBefore(label, list);
    list.parentNode.insertBefore(box, list);
    list.parentNode.insertBefore(count, list.nextSibling);
    box.addEventListener("input", function () {
      var wanted = fold(box.value.trim());
      var shown = 0;
      Array.prototype.forEach.call(list.children, function (item) {
        var checkbox = item.querySelector("input");
        var show = (checkbox && checkbox.checked) || fold(item.textContent).indexOf(wanted) !== -1;
        item.hidden = !show;
        if (show) shown += 1;
      });
      count.textContent = shown + (shown === 1 ? " pessoa na lista." : " pessoas na lista.");
    });
  }

  // The accessibility bar's links move the focus to their target too (not only the scroll),
  // so the next Tab starts there in every browser.
  function wireShortcut(link) {
    link.addEventListener("click", function () {
      var target = document.getElementById(link.getAttribute("href").slice(1));
      if (target) window.setTimeout(function () { target.focus(); }, 0);
    });
  }

  document.addEventListener("click", closeMenusOutside);
  document.addEventListener("keydown", closeMenusOnEscape);
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("select[data-searchable]").forEach(wireSearchableSelect);
    document.querySelectorAll("[data-upload]").forEach(wireUpload);
    document.querySelectorAll(".shortcuts a[href^='#']").forEach(wireShortcut);
    document.querySelectorAll("[data-filterable]").forEach(wireFilterableList);
    document.querySelectorAll("form[enctype='multipart/form-data']").forEach(wireUploadProgress);
    var form = document.getElementById("request-form");
    if (form) {
      wirePersonPicker(form);
      wireMissingPanel(form);
    }
  });
})();
