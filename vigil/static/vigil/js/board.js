// Shows whether the board's live stream is connected, so a dispatcher never trusts a frozen board.
(function () {
  "use strict";
  function show(state) {
    var box = document.getElementById("live-state");
    if (!box) { return; }
    box.querySelectorAll("[data-live]").forEach(function (el) {
      el.hidden = el.getAttribute("data-live") !== state;
    });
    box.setAttribute("data-state", state);
  }
  document.body.addEventListener("htmx:sseOpen", function () { show("open"); });
  document.body.addEventListener("htmx:sseError", function () { show("closed"); });
})();
