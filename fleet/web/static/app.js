// Open alerts: the server says "changed" when the user's alerts change, and htmx then
// fetches the list again (the section listens for "alerts-changed").
"use strict";
(function () {
  var section = document.getElementById("alerts");
  if (!section || !window.EventSource) return;
  var source = new EventSource(section.dataset.stream);
  var opened = false;
  function refresh() {
    document.body.dispatchEvent(new CustomEvent("alerts-changed"));
  }
  source.onmessage = refresh;
  // After a reconnection, catch up on whatever changed while the stream was down.
  source.onopen = function () {
    if (opened) refresh();
    opened = true;
  };
})();
