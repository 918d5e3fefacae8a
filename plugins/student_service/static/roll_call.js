// Live counts of an emergency roll call: polls the page's JSON endpoint (no inline script).
(function () {
  "use strict";
  var box = document.querySelector("[data-counts-url]");
  if (!box || !box.hasAttribute("data-poll")) { return; }
  var url = box.getAttribute("data-counts-url");
  var seconds = parseInt(box.getAttribute("data-poll"), 10) || 15;
  function set(name, value) {
    var el = box.querySelector('[data-count="' + name + '"]');
    if (el && value !== null && value !== undefined) { el.textContent = String(value); }
  }
  function refresh() {
    fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (!data) { return; }
        Object.keys(data.counts).forEach(function (mark) { set(mark, data.counts[mark]); });
        set("total", data.total);
        set("reached_total", data.reached);
        var done = box.querySelector("[data-reached-everyone]");
        if (done) {
          done.hidden = data.minutes_to_reach_everyone === null;
          set("minutes", data.minutes_to_reach_everyone);
        }
        if (data.open) { window.setTimeout(refresh, seconds * 1000); }
      })
      .catch(function () { window.setTimeout(refresh, seconds * 2000); });
  }
  window.setTimeout(refresh, seconds * 1000);
})();
