// Open alerts: the server says "changed" when the user's alerts change, and htmx then
// fetches the list again (the section listens for "alerts-changed").
"use strict";
(function () {
  var section = document.getElementById("alerts");
  if (!section || !window.EventSource) return;
  var source = new EventSource(section.dataset.stream);
  function refresh() {
    document.body.dispatchEvent(new CustomEvent("alerts-changed"));
  }
  source.onmessage = refresh;
  // The stream reports changes from when it opens: catch up on whatever changed since the
  // page was made (or while a reconnection was under way).
  source.onopen = function () {
    refresh();
    document.body.dataset.alertsLive = "open";  // the section itself is swapped by htmx
  };
})();
