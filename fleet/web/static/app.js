// The walk-test: each step turns green when the hub reports its sensor, live, through
// server-sent events; the first step still waiting is highlighted as the one to do now.
"use strict";
(function () {
  var walk = document.getElementById("walk");
  if (!walk || !window.EventSource) return;
  var steps = Array.prototype.slice.call(walk.querySelectorAll(".step"));
  function highlight() {
    var next = steps.filter(function (s) { return !s.classList.contains("passed"); })[0];
    steps.forEach(function (s) { s.classList.toggle("current", s === next); });
    document.getElementById("walk-done").hidden = Boolean(next);
    return next;
  }
  highlight();
  var source = new EventSource(walk.dataset.stream);
  source.onmessage = function (message) {
    var event = JSON.parse(message.data);
    steps.forEach(function (s) {
      if (s.dataset.sensor === String(event.sensor) && !s.classList.contains("passed")) {
        s.classList.add("passed");
        var state = s.querySelector(".state");
        state.textContent = state.dataset.ok;
      }
    });
    if (!highlight()) source.close();
  };
})();

// Open alerts: the server says "changed" when the user's alerts change, and htmx then
// fetches the list again (the section listens for "alerts-changed").
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
