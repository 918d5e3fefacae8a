// Progressive enhancements only: every page works without this file.
(function () {
  "use strict";

  // <button data-confirm="…">: ask before submitting.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-confirm]");
    if (button && !window.confirm(button.getAttribute("data-confirm"))) {
      event.preventDefault();
    }
  });

  // <input type="checkbox" data-select-all="name">: (un)tick every checkbox called name.
  document.querySelectorAll("[data-select-all]").forEach(function (master) {
    master.addEventListener("change", function () {
      var name = master.getAttribute("data-select-all");
      document.querySelectorAll('input[type="checkbox"][name="' + name + '"]').forEach(function (box) {
        box.checked = master.checked;
      });
    });
  });

  // <div data-bulk-toolbar="name">: bulk actions for the ticked checkboxes called name, shown
  // only while at least one is ticked (without this file the bar is always there and works).
  document.querySelectorAll("[data-bulk-toolbar]").forEach(function (bar) {
    var name = bar.getAttribute("data-bulk-toolbar");
    var form = bar.closest("form") || document;
    var counter = bar.querySelector("[data-bulk-count]");
    function update() {
      var ticked = form.querySelectorAll('input[type="checkbox"][name="' + name + '"]:checked').length;
      bar.hidden = ticked === 0;
      if (counter) {
        counter.textContent = counter.getAttribute("data-bulk-count").replace("{n}", String(ticked));
      }
    }
    form.addEventListener("change", update);
    window.addEventListener("pageshow", update);  // boxes the browser ticked again on back/reload
    update();
  });

  // The language switch reloads the page: keep what was typed into the page's other forms
  // (never passwords, files or hidden fields) and put it back once the page is shown again.
  var KEEP = "liaison.keep:" + location.pathname + location.search;
  function keptFields(form) {
    return Array.prototype.filter.call(form.elements, function (el) {
      return el.name && !el.disabled && ["password", "file", "hidden", "submit", "button"].indexOf(el.type) < 0;
    });
  }
  function otherForms() {
    return Array.prototype.filter.call(document.forms, function (form) {
      return !form.classList.contains("language-switch") && form.method.toLowerCase() === "post";
    });
  }
  document.querySelectorAll("form.language-switch").forEach(function (switcher) {
    switcher.addEventListener("submit", function () {
      var saved = otherForms().map(function (form) {
        return keptFields(form).map(function (el) {
          if (el.type === "checkbox" || el.type === "radio") { return el.checked; }
          if (el.multiple) { return Array.prototype.map.call(el.selectedOptions, function (o) { return o.value; }); }
          return el.value;
        });
      });
      try { window.sessionStorage.setItem(KEEP, JSON.stringify(saved)); } catch (e) { /* storage off */ }
    });
  });
  (function restore() {
    var saved = null;
    try {
      saved = JSON.parse(window.sessionStorage.getItem(KEEP) || "null");
      window.sessionStorage.removeItem(KEEP);
    } catch (e) { return; }
    if (!saved) { return; }
    otherForms().forEach(function (form, i) {
      var values = saved[i], fields = keptFields(form);
      if (!values || values.length !== fields.length) { return; }
      fields.forEach(function (el, j) {
        if (el.type === "checkbox" || el.type === "radio") { el.checked = values[j]; }
        else if (el.multiple) { Array.prototype.forEach.call(el.options, function (o) { o.selected = values[j].indexOf(o.value) >= 0; }); }
        else { el.value = values[j]; }
      });
    });
  })();

  // Forms with data-once: disable the submit buttons after the first submit (double clicks).
  // The server is idempotent anyway (a token per form); this only spares a second request.
  document.querySelectorAll("form[data-once]").forEach(function (form) {
    form.addEventListener("submit", function () {
      window.setTimeout(function () {
        form.querySelectorAll('button[type="submit"]').forEach(function (b) { b.disabled = true; });
      }, 0);
    });
  });
})();
