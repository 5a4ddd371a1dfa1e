// Progressive enhancement of /subscribe/: shows only the field of the chosen channel, and
// offers browser notifications (Web Push) when the server has a VAPID key and the browser
// supports it. Phone and email work without this file.
(function () {
  "use strict";
  var form = document.getElementById("subscribe-form");
  if (!form) { return; }
  var status = document.getElementById("push-status");
  var vapidKey = form.getAttribute("data-vapid-key");
  var pushSupported = vapidKey && "serviceWorker" in navigator && "PushManager" in window && "Notification" in window;

  function chosen() {
    var radio = form.querySelector("input[name=channel]:checked");
    return radio ? radio.value : "sms";
  }
  function showFields() {
    var channel = chosen();
    document.getElementById("phone-field").hidden = channel !== "sms";
    document.getElementById("email-field").hidden = channel !== "email";
  }
  if (pushSupported) {
    var option = form.querySelector("label.channel-webpush");
    if (option) { option.hidden = false; }
  }
  form.addEventListener("change", showFields);
  showFields();

  function keyBytes(base64) {
    var padded = (base64 + "===".slice((base64.length + 3) % 4)).replace(/-/g, "+").replace(/_/g, "/");
    var raw = atob(padded);
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) { bytes[i] = raw.charCodeAt(i); }
    return bytes;
  }

  form.addEventListener("submit", function (event) {
    if (!pushSupported || chosen() !== "webpush") { return; }
    event.preventDefault();
    status.textContent = form.getAttribute("data-working");
    navigator.serviceWorker.register("/sw.js", { scope: "/" })
      .then(function () { return navigator.serviceWorker.ready; })
      .then(function (registration) {
        return Notification.requestPermission().then(function (permission) {
          if (permission !== "granted") { throw new Error("denied"); }
          return registration.pushManager.getSubscription().then(function (existing) {
            return existing || registration.pushManager.subscribe({
              userVisibleOnly: true, applicationServerKey: keyBytes(vapidKey)
            });
          });
        });
      })
      .then(function (subscription) {
        form.querySelector("input[name=push_subscription]").value = JSON.stringify(subscription);
        return fetch(form.getAttribute("data-push-url"), {
          method: "POST", body: new FormData(form), credentials: "same-origin",
          headers: { "X-CSRFToken": form.querySelector("input[name=csrfmiddlewaretoken]").value }
        });
      })
      .then(function (response) { return response.json(); })
      .then(function (answer) { status.textContent = answer.ok ? answer.message : answer.error; })
      .catch(function () { status.textContent = form.getAttribute("data-denied"); });
  });
})();
