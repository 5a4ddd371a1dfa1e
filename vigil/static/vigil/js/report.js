/* Vigil public report form: proof of work and the optional location button.
 *
 * Written in ES5 with run-time feature checks: if anything here is missing or fails, the
 * form falls back to the no-JavaScript path (nojs=1) instead of refusing the report.
 */
(function () {
  "use strict";

  var form = document.getElementById("report-form");
  if (!form) {
    return;
  }

  var BATCH = 256;
  var token = form.elements.namedItem("pow_token");
  var answer = form.elements.namedItem("pow_answer");
  var bits = parseInt(form.getAttribute("data-pow-bits"), 10) || 0;
  var sendButton = document.getElementById("send-report");
  var powStatus = document.getElementById("pow-status");
  var state = "solving"; // "solving" | "ready" | "failed"
  var sendWhenReady = false;

  function fallBackToNoScript() {
    state = "failed";
    if (!form.elements.namedItem("nojs")) {
      var input = document.createElement("input");
      input.type = "hidden";
      input.name = "nojs";
      input.value = "1";
      form.appendChild(input);
    }
    finish();
  }

  function finish() {
    if (sendWhenReady) {
      sendWhenReady = false;
      form.submit();
    }
  }

  function zeroBits(bytes) {
    var count = 0;
    for (var i = 0; i < bytes.length; i++) {
      var b = bytes[i];
      if (b === 0) {
        count += 8;
        continue;
      }
      while ((b & 0x80) === 0) {
        count += 1;
        b <<= 1;
      }
      break;
    }
    return count;
  }

  function solve(text, difficulty, start) {
    var encoder = new TextEncoder();
    var jobs = [];
    for (var i = start; i < start + BATCH; i++) {
      jobs.push(window.crypto.subtle.digest("SHA-256", encoder.encode(text + ":" + i)));
    }
    return Promise.all(jobs).then(function (digests) {
      for (var j = 0; j < digests.length; j++) {
        if (zeroBits(new Uint8Array(digests[j])) >= difficulty) {
          return String(start + j);
        }
      }
      return solve(text, difficulty, start + BATCH);
    });
  }

  function startProofOfWork() {
    if (!token || !answer || !token.value) {
      return;
    }
    if (answer.value) {
      state = "ready";
      return;
    }
    try {
      if (!(window.crypto && window.crypto.subtle && window.TextEncoder && window.Promise)) {
        fallBackToNoScript();
        return;
      }
      solve(token.value, bits, 0).then(
        function (found) {
          answer.value = found;
          state = "ready";
          if (powStatus) {
            powStatus.textContent = "";
          }
          finish();
        },
        fallBackToNoScript
      );
    } catch (err) {
      fallBackToNoScript();
    }
  }

  form.addEventListener("submit", function (event) {
    if (state === "solving") {
      event.preventDefault();
      sendWhenReady = true;
      if (sendButton) {
        sendButton.disabled = true;
      }
      if (powStatus && sendButton) {
        powStatus.textContent = sendButton.getAttribute("data-preparing") || "";
      }
      return;
    }
    if (sendButton) {
      // Stops a second tap from sending the same report twice (the token is single-use anyway).
      window.setTimeout(function () { sendButton.disabled = true; }, 0);
    }
  });

  /* Location: only after the person presses the button and the browser asks them. */
  var box = document.getElementById("location");
  var useButton = document.getElementById("use-location");
  var clearButton = document.getElementById("clear-location");
  var locationStatus = document.getElementById("location-status");
  var latitude = form.elements.namedItem("latitude");
  var longitude = form.elements.namedItem("longitude");

  function say(key) {
    if (locationStatus && box) {
      locationStatus.textContent = box.getAttribute("data-" + key) || "";
    }
  }

  if (box && useButton && latitude && longitude && navigator.geolocation) {
    box.hidden = false;
    useButton.addEventListener("click", function () {
      say("finding");
      navigator.geolocation.getCurrentPosition(
        function (position) {
          // Four decimals (about 11 m) is already far finer than the area the server keeps.
          latitude.value = position.coords.latitude.toFixed(4);
          longitude.value = position.coords.longitude.toFixed(4);
          say("added");
          if (clearButton) {
            clearButton.hidden = false;
          }
        },
        function () {
          say("failed");
        },
        { enableHighAccuracy: false, timeout: 20000, maximumAge: 60000 }
      );
    });
    if (clearButton) {
      clearButton.addEventListener("click", function () {
        latitude.value = "";
        longitude.value = "";
        clearButton.hidden = true;
        if (locationStatus) {
          locationStatus.textContent = "";
        }
      });
    }
  }

  startProofOfWork();
})();
