// The door's live counts (liaison/events): <div id="live-counts" data-url="…counts.json"> with
// <span data-count="registered">: refreshed every 15 seconds while the page is visible.
(function () {
  "use strict";
  var box = document.getElementById("live-counts");
  if (!box || !window.fetch) {
    return;
  }
  function refresh() {
    if (document.hidden) {
      return;
    }
    fetch(box.getAttribute("data-url"), {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (counts) {
        if (!counts) {
          return;
        }
        box.querySelectorAll("[data-count]").forEach(function (cell) {
          var value = counts[cell.getAttribute("data-count")];
          if (value !== undefined) {
            cell.textContent = String(value);
          }
        });
      })
      .catch(function () { /* offline at the door: keep the last counts */ });
  }
  window.setInterval(refresh, 15000);
})();
