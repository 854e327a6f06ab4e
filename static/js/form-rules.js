// The rules of a catalog item's form (templates/catalog/_form_fields.html), live:
// a dependent selection offers only the options of its parent's answer, and a field shown only
// for a value of another appears when that value is chosen. A hidden field's inputs are
// disabled, so its answer is not sent. Without this file every field shows, a conditional one
// with its "Preencha somente se" hint, and the server ignores answers to hidden fields.
// Also the admin's field definition form (templates/admin/forms/_definition.html).
(function () {
  "use strict";

  function inputsOf(wrapper) {
    return wrapper.querySelectorAll("input, select, textarea");
  }

  function wire(form) {
    var wrappers = Array.prototype.slice.call(form.querySelectorAll("[data-field]"));
    var byKey = {};
    wrappers.forEach(function (wrapper) { byKey[wrapper.getAttribute("data-field")] = wrapper; });

    // A field's answer as the rules see it: nothing while the field is hidden.
    function answer(key) {
      var wrapper = byKey[key];
      if (!wrapper || wrapper.hidden) return "";
      var radios = wrapper.querySelectorAll("input[type=radio]");
      if (radios.length) {
        var checked = wrapper.querySelector("input[type=radio]:checked");
        return checked ? checked.value : "";
      }
      var input = wrapper.querySelector("input, select, textarea");
      return input ? String(input.value || "") : "";
    }

    // The options for the parent's answer; every parent's, in order, while it is empty.
    function optionsFor(byParent, parentAnswer) {
      if (parentAnswer) return byParent[parentAnswer] || [];
      var seen = [];
      Object.keys(byParent).forEach(function (value) {
        byParent[value].forEach(function (option) {
          if (seen.indexOf(option) === -1) seen.push(option);
        });
      });
      return seen;
    }

    function narrow(select) {
      var byParent = JSON.parse(select.getAttribute("data-options") || "{}");
      var wanted = optionsFor(byParent, answer(select.getAttribute("data-depends-on")));
      var offered = Array.prototype.slice.call(select.options, 1).map(function (o) { return o.value; });
      if (offered.join("\n") === wanted.join("\n")) return;
      var keep = select.value;
      while (select.options.length > 1) select.remove(1);
      wanted.forEach(function (value) {
        select.add(new Option(value, value, false, value === keep));
      });
    }

    // In form order: a field depends on, or shows for, fields that come before it, so one
    // pass settles a chain (a condition on a hidden field is false).
    function apply() {
      wrappers.forEach(function (wrapper) {
        var on = wrapper.getAttribute("data-show-when");
        if (on) {
          var show = answer(on) === wrapper.getAttribute("data-show-value");
          wrapper.hidden = !show;
          inputsOf(wrapper).forEach(function (input) { input.disabled = !show; });
        }
        var dependent = wrapper.querySelector("select[data-depends-on]");
        if (dependent && !wrapper.hidden) narrow(dependent);
      });
      form.dispatchEvent(new CustomEvent("form-rules:applied"));
    }

    form.addEventListener("change", apply);
    apply();
  }

  // Administração > Campos: the definition form shows only the inputs of the chosen type
  // (without this file all show, each saying which type it serves).
  function wireDefinition(form) {
    var type = form.querySelector("select[name=type]");
    if (!type) return;
    function apply() {
      form.querySelectorAll("[data-for-type]").forEach(function (part) {
        part.hidden = part.getAttribute("data-for-type").split(" ").indexOf(type.value) === -1;
      });
      form.querySelectorAll("[data-unless-type]").forEach(function (part) {
        part.hidden = part.getAttribute("data-unless-type") === type.value;
      });
    }
    type.addEventListener("change", apply);
    apply();
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form[data-form-rules]").forEach(wire);
    document.querySelectorAll("form[data-definition]").forEach(wireDefinition);
  });
})();
