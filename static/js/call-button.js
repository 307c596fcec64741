// The portal's Call buttons (issue 12): POST only the number to the same API the browser extension uses,
// with the session and the CSRF token from the page. Loaded as a file: the CSP forbids inline script.
(function () {
  "use strict";
  var api = document.querySelector("meta[name='voipxs-call-setup']");
  var csrf = document.querySelector("meta[name='voipxs-csrf']");
  var status = document.getElementById("call-setup-status");
  if (!api || !csrf) { return; }

  function show(text, ok) {
    if (!status) { return; }
    status.textContent = text;
    status.className = ok ? "notice ok" : "notice error";
    status.hidden = false;
  }

  function firstMessage(body) {
    if (!body || typeof body !== "object") { return ""; }
    if (body.message) { return body.message; }
    if (body.detail) { return body.detail; }
    var keys = ["number", "from"];
    for (var i = 0; i < keys.length; i++) {
      if (Array.isArray(body[keys[i]])) { return body[keys[i]][0]; }
    }
    return "";
  }

  function call(button) {
    var number = button.getAttribute("data-call-number");
    if (!number || !window.confirm(button.getAttribute("data-confirm").replace("%s", number))) { return; }
    button.disabled = true;
    fetch(api.content, {
      method: "POST",
      credentials: "same-origin",
      referrerPolicy: "no-referrer",
      headers: {"Content-Type": "application/json", "X-CSRFToken": csrf.content},
      body: JSON.stringify({number: number})
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (body) {
        show(firstMessage(body) || String(response.status), response.ok);
      });
    }).catch(function () {
      show(status ? status.getAttribute("data-offline") : "", false);
    }).then(function () { button.disabled = false; });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("button[data-call-number]") : null;
    if (button) { event.preventDefault(); call(button); }
  });
}());
