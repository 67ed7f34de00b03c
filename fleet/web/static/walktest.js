// The walk-test page, from one event stream: each step turns green when the hub reports
// its sensor (the first still waiting is highlighted as the one to do now), every event
// is listed as it arrives (an alarm says whether it was the test or went to the family),
// and a running test's time left counts down; at zero the page reloads to say it ended.
"use strict";
(function () {
  var walk = document.getElementById("walk-steps");
  if (!walk || !window.EventSource) return;
  var steps = Array.prototype.slice.call(walk.querySelectorAll(".step"));
  var log = document.getElementById("wt-log");
  function highlight() {
    var next = steps.filter(function (s) { return !s.classList.contains("passed"); })[0];
    steps.forEach(function (s) { s.classList.toggle("current", s === next); });
    document.getElementById("walk-done").hidden = Boolean(next);
  }
  highlight();
  // Left open after the last step too: the list goes on, and the open page keeps the
  // test from ending as abandoned.
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
    highlight();
    var item = document.createElement("li");
    item.textContent = event.line;
    if (event.verdict) item.className = event.verdict === "test" ? "ok" : "error";
    log.appendChild(item);
  };
  var left = document.getElementById("wt-left");
  if (!left) return;
  var end = Date.now() + Number(left.dataset.left) * 1000;
  var timer = setInterval(function () {
    var s = Math.max(0, Math.round((end - Date.now()) / 1000));
    left.textContent = Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0");
    if (s === 0) {
      clearInterval(timer);
      window.location.reload();
    }
  }, 1000);
})();
