// Ticks every [data-deadline] countdown once a second. The server renders the deadline and its
// own clock ([data-now]); the time left is counted from the server's clock, so a phone or PC
// whose clock is off still shows the right countdown. Without JS the "escalates at" text stays.
(function () {
  "use strict";

  function pad(n) {
    return n < 10 ? "0" + n : String(n);
  }

  function tick() {
    var items = document.querySelectorAll("[data-deadline]");
    var clientNow = Date.now();
    for (var i = 0; i < items.length; i++) {
      var el = items[i];
      var deadline = Date.parse(el.getAttribute("data-deadline"));
      var serverNow = Date.parse(el.getAttribute("data-now"));
      if (isNaN(deadline) || isNaN(serverNow)) {
        continue;
      }
      if (!el.hasAttribute("data-seen")) {
        el.setAttribute("data-seen", String(clientNow));
      }
      var elapsed = clientNow - Number(el.getAttribute("data-seen"));
      var left = Math.max(0, Math.round((deadline - serverNow - elapsed) / 1000));
      var out = el.querySelector(".countdown-left");
      if (!out) {
        continue;
      }
      out.textContent = Math.floor(left / 60) + ":" + pad(left % 60) + " ·";
      out.hidden = false;
      el.classList.toggle("due", left === 0);
    }
  }

  tick();
  window.setInterval(tick, 1000);
  document.addEventListener("htmx:afterSwap", tick);
})();
