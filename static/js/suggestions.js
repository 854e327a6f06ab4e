// Articles from the Base de Conhecimento while someone types (progressive enhancement: the
// pages work the same without this file).
// - The request form: after a pause in Descrição, "Artigos que podem ajudar" (new tab links).
// - The staff view of a request: "Inserir artigo" puts "Título: <link>" into the text box
//   used last (the message, a note, the resolution's reason).
(function () {
  "use strict";

  var DEBOUNCE_MS = 400;
  var MIN_LETTERS = 3;

  function letters(text) {
    return text.replace(/[^0-9A-Za-z\u00C0-\u024F]/g, "").length;
  }

  // Fetches suggestions for the latest text only: a slower, older answer is dropped.
  function suggester(url, extra, onResult) {
    var controller = null;
    var lastText = null;
    return function (text) {
      text = text.trim();
      if (text === lastText) return;
      lastText = text;
      if (controller) controller.abort();
      if (letters(text) < MIN_LETTERS) {
        onResult([]);
        return;
      }
      controller = typeof AbortController === "function" ? new AbortController() : null;
      var query = new URLSearchParams(extra);
      query.set("q", text);
      fetch(url + "?" + query.toString(), {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
        signal: controller ? controller.signal : undefined,
      })
        .then(function (response) {
          if (!response.ok) throw new Error(String(response.status));
          return response.json();
        })
        .then(function (data) {
          onResult(Array.isArray(data.articles) ? data.articles : []);
        })
        .catch(function () {
          /* aborted or offline: keep what is shown */
        });
    };
  }

  function debounce(fn, ms) {
    var timer = null;
    return function (value) {
      clearTimeout(timer);
      timer = setTimeout(function () {
        fn(value);
      }, ms);
    };
  }

  function newTabNote() {
    var note = document.createElement("span");
    note.className = "sr-only";
    note.textContent = " (abre em nova aba)";
    return note;
  }

  function articleLink(article) {
    var link = document.createElement("a");
    link.href = article.url;
    link.target = "_blank";
    link.rel = "noopener";
    link.className = "kb-suggestion-title";
    link.textContent = article.title;
    var icon = document.createElement("i");
    icon.className = "fas fa-external-link-alt";
    icon.setAttribute("aria-hidden", "true");
    link.appendChild(document.createTextNode(" "));
    link.appendChild(icon);
    link.appendChild(newTabNote());
    return link;
  }

  // --- the request form -------------------------------------------------------------------

  function wireFormSuggestions(region) {
    var field = document.getElementById(region.getAttribute("data-suggest-for"));
    if (!field) return;
    var shown = "";
    function render(articles) {
      var key = articles
        .map(function (a) {
          return a.url;
        })
        .join(" ");
      if (key === shown) return; // the same list: nothing new to announce
      shown = key;
      region.textContent = "";
      if (!articles.length) return;
      var title = document.createElement("h2");
      title.className = "kb-suggestions-title";
      title.id = "kb-suggestions-title";
      title.textContent = "Artigos que podem ajudar";
      var list = document.createElement("ul");
      list.setAttribute("role", "list");
      list.setAttribute("aria-labelledby", title.id);
      articles.forEach(function (article) {
        var item = document.createElement("li");
        item.appendChild(articleLink(article));
        if (article.summary) {
          var summary = document.createElement("p");
          summary.className = "kb-suggestion-summary";
          summary.textContent = article.summary;
          item.appendChild(summary);
        }
        list.appendChild(item);
      });
      region.appendChild(title);
      region.appendChild(list);
    }
    var ask = suggester(
      region.getAttribute("data-suggest-url"),
      { item: region.getAttribute("data-item") || "" },
      render
    );
    var later = debounce(ask, DEBOUNCE_MS);
    field.addEventListener("input", function () {
      later(field.value);
    });
    if (field.value) later(field.value); // a form sent back with errors
  }

  // --- staff: insert an article's link ----------------------------------------------------

  function insertAtCursor(textarea, text) {
    var start = textarea.selectionStart;
    var end = textarea.selectionEnd;
    if (typeof start !== "number") start = end = textarea.value.length;
    var before = textarea.value.slice(0, start);
    var after = textarea.value.slice(end);
    var pad = before && !/\s$/.test(before) ? " " : "";
    var insert = pad + text;
    textarea.value = before + insert + after;
    var caret = start + insert.length;
    var dialog = textarea.closest("details");
    if (dialog) dialog.open = true;
    textarea.focus();
    textarea.setSelectionRange(caret, caret);
    textarea.dispatchEvent(new Event("input", { bubbles: true }));
  }

  function labelOf(textarea) {
    var label = textarea.id ? document.querySelector("label[for='" + textarea.id + "']") : null;
    return label ? label.textContent.replace("*", "").trim() : "campo de texto";
  }

  function wireInsertArticle(box) {
    var targets = document.querySelectorAll(box.getAttribute("data-targets") || "main textarea");
    if (!targets.length) return;
    var lastUsed = document.getElementById(box.getAttribute("data-default-target")) || targets[0];
    Array.prototype.forEach.call(targets, function (textarea) {
      textarea.addEventListener("focus", function () {
        lastUsed = textarea;
      });
    });
    var controls = box.querySelector("[data-insert-controls]");
    var input = box.querySelector("input[type=search]");
    var button = box.querySelector("[data-insert-search]");
    var list = box.querySelector("[data-insert-results]");
    var status = box.querySelector("[data-insert-status]");
    var base = (box.getAttribute("data-base-url") || "").replace(/\/$/, "");
    controls.hidden = false;

    function render(articles) {
      list.textContent = "";
      status.textContent = articles.length
        ? articles.length + " artigo(s) encontrado(s)."
        : letters(input.value) >= MIN_LETTERS
          ? "Nenhum artigo encontrado."
          : "";
      articles.forEach(function (article) {
        var item = document.createElement("li");
        item.appendChild(articleLink(article));
        var insert = document.createElement("button");
        insert.type = "button";
        insert.className = "br-button secondary small";
        insert.textContent = "Inserir link";
        insert.setAttribute("aria-label", "Inserir link: " + article.title);
        insert.addEventListener("click", function () {
          insertAtCursor(lastUsed, article.title + ": " + base + article.url);
          status.textContent = "Link inserido em “" + labelOf(lastUsed) + "”.";
        });
        item.appendChild(insert);
        list.appendChild(item);
      });
    }
    var ask = suggester(box.getAttribute("data-suggest-url"), {}, render);
    var later = debounce(ask, DEBOUNCE_MS);
    input.addEventListener("input", function () {
      later(input.value);
    });
    input.addEventListener("keydown", function (event) {
      if (event.key === "Enter") {
        event.preventDefault(); // not the surrounding form, if any
        ask(input.value);
      }
    });
    button.addEventListener("click", function () {
      ask(input.value);
    });
  }

  document.querySelectorAll("[data-suggest-for]").forEach(wireFormSuggestions);
  document.querySelectorAll("[data-insert-article]").forEach(wireInsertArticle);
})();
