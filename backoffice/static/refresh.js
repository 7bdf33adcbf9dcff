// A page that follows work in progress (a running job) reloads itself every few seconds, and offers to stop:
// a page that refreshes on its own must let the person turn that off (WCAG 2.2.1).
(function () {
  "use strict";
  var marker = document.querySelector("[data-refresh-seconds]");
  if (!marker) {
    return;
  }
  var timer = window.setTimeout(function () {
    window.location.reload();
  }, Number(marker.getAttribute("data-refresh-seconds")) * 1000);
  var stop = marker.querySelector("[data-refresh-stop]");
  stop.addEventListener("click", function () {
    window.clearTimeout(timer);
    marker.textContent = stop.getAttribute("data-stopped");
  });
})();
