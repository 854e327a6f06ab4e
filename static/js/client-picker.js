// "Relacione o Cliente" as the person types (progressive enhancement: without this file the
// "Buscar" button sends the form back with the matching clients).
// The select of clients is refilled from GET /clientes/buscar?q= (at most 20 clients, by name
// or identifier); the client already chosen stays chosen, and a polite live region says how
// many were found.
(function () {
  "use strict";

  var DEBOUNCE_MS = 250;

  function option(value, text, selected) {
    var element = document.createElement("option");
    element.value = value;
    element.textContent = text;
    element.selected = Boolean(selected);
    return element;
  }

  function enhance(picker) {
    if (picker.dataset.enhanced) return;
    picker.dataset.enhanced = "1";
    var input = picker.querySelector("[data-client-query]");
    var select = picker.querySelector("[data-client-select]");
    var status = picker.querySelector("[data-client-status]");
    var url = picker.getAttribute("data-search-url");
    if (!input || !select || !url || typeof fetch !== "function") return;
    var empty = select.options.length ? select.options[0].textContent : "";
    var controller = null;
    var timer = null;
    var last = null;

    function fill(results) {
      var chosen = select.options[select.selectedIndex];
      var chosenValue = chosen ? chosen.value : "";
      var chosenText = chosen ? chosen.textContent : "";
      select.textContent = "";
      select.appendChild(option("", empty, !chosenValue));
      var seen = false;
      results.forEach(function (client) {
        var value = String(client.id);
        if (value === chosenValue) seen = true;
        select.appendChild(option(value, client.label, value === chosenValue));
      });
      if (chosenValue && !seen) {
        select.insertBefore(option(chosenValue, chosenText, true), select.options[1] || null);
      }
      if (status) {
        status.textContent =
          results.length === 0
            ? "Nenhum cliente encontrado."
            : results.length + " cliente(s) encontrado(s). Escolha na lista.";
      }
    }

    function search() {
      var text = input.value.trim();
      if (text === last) return;
      last = text;
      if (controller) controller.abort();
      controller = typeof AbortController === "function" ? new AbortController() : null;
      fetch(url + "?" + new URLSearchParams({ q: text }).toString(), {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
        signal: controller ? controller.signal : undefined,
      })
        .then(function (response) {
          if (!response.ok) throw new Error(String(response.status));
          return response.json();
        })
        .then(function (data) {
          fill(data.results || []);
        })
        .catch(function () {
          /* aborted or offline: the Buscar button still works */
        });
    }

    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(search, DEBOUNCE_MS);
    });
    input.addEventListener("keydown", function (event) {
      if (event.key === "Enter") {
        event.preventDefault(); // search here instead of sending the whole form
        clearTimeout(timer);
        search();
      }
    });
  }

  function start() {
    document.querySelectorAll("[data-client-picker]").forEach(enhance);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
