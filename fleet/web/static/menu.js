// The header's menu folds on a phone. Loaded in <head>, not deferred, so the "js" class
// folds the menu before the first paint; without script the menu simply stays open.
"use strict";
document.documentElement.classList.add("js");
function setMenu(button, open) {
  button.setAttribute("aria-expanded", String(open));
  document.getElementById(button.getAttribute("aria-controls")).classList.toggle("open", open);
}
document.addEventListener("click", function (event) {
  var button = event.target.closest && event.target.closest(".menu-toggle");
  if (button) setMenu(button, button.getAttribute("aria-expanded") !== "true");
});
// Escape folds an open menu and gives the focus back to its button.
document.addEventListener("keydown", function (event) {
  var button = document.querySelector('.menu-toggle[aria-expanded="true"]');
  if (event.key !== "Escape" || !button) return;
  setMenu(button, false);
  button.focus();
});
