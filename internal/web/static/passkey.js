// pocdir's passkeys: the WebAuthn ceremony needs the browser's
// navigator.credentials, which only a script can call. Everything else
// (the challenge, the checks, what is kept) is the server's. A form marked
// data-passkey="register" or "login" asks the server for the options, lets
// the browser ask the authenticator, and sends the answer back as a
// form with its anti-forgery token, like every other form.
(function () {
  "use strict";

  function toBytes(s) {
    var b64 = s.replace(/-/g, "+").replace(/_/g, "/");
    while (b64.length % 4) b64 += "=";
    var bin = atob(b64), out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out.buffer;
  }

  function toText(buf) {
    var bytes = new Uint8Array(buf), bin = "";
    for (var i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]);
    return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  // The options as the browser wants them: challenges and ids as bytes.
  function creationOptions(o) {
    var pk = o.publicKey;
    pk.challenge = toBytes(pk.challenge);
    pk.user.id = toBytes(pk.user.id);
    (pk.excludeCredentials || []).forEach(function (c) { c.id = toBytes(c.id); });
    return o;
  }

  function requestOptions(o) {
    var pk = o.publicKey;
    pk.challenge = toBytes(pk.challenge);
    (pk.allowCredentials || []).forEach(function (c) { c.id = toBytes(c.id); });
    return o;
  }

  // The answer as JSON, bytes in base64url.
  function answer(cred) {
    var r = cred.response, out = {
      id: cred.id, rawId: toText(cred.rawId), type: cred.type,
      clientExtensionResults: cred.getClientExtensionResults ? cred.getClientExtensionResults() : {},
      response: { clientDataJSON: toText(r.clientDataJSON) }
    };
    if (r.attestationObject) {
      out.response.attestationObject = toText(r.attestationObject);
      if (r.getTransports) out.response.transports = r.getTransports();
    } else {
      out.response.authenticatorData = toText(r.authenticatorData);
      out.response.signature = toText(r.signature);
      if (r.userHandle) out.response.userHandle = toText(r.userHandle);
    }
    if (cred.authenticatorAttachment) out.authenticatorAttachment = cred.authenticatorAttachment;
    return JSON.stringify(out);
  }

  function post(url, fields) {
    var body = new URLSearchParams();
    Object.keys(fields).forEach(function (k) { body.append(k, fields[k]); });
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json" }, body: body
    }).then(function (resp) {
      return resp.json().then(function (j) {
        if (!resp.ok) throw new Error(j.error || resp.statusText);
        return j;
      });
    });
  }

  function ceremony(form) {
    var kind = form.getAttribute("data-passkey");
    var status = form.querySelector("[data-passkey-status]");
    var button = form.querySelector("button[type=submit]");
    var say = function (msg) { if (status) status.textContent = msg; };
    var csrf = form.querySelector("input[name=csrf]").value;
    var fields = { csrf: csrf };
    var name = form.querySelector("input[name=name]");
    if (name) fields.name = name.value;
    button.disabled = true;
    say(form.getAttribute("data-waiting") || "");
    post(form.getAttribute("data-options"), { csrf: csrf }).then(function (o) {
      return kind === "register"
        ? navigator.credentials.create(creationOptions(o))
        : navigator.credentials.get(requestOptions(o));
    }).then(function (cred) {
      fields.credential = answer(cred);
      return post(form.getAttribute("action"), fields);
    }).then(function (j) {
      // The account page comes back to itself: a change of the fragment
      // alone would not load it again.
      var to = new URL(j.redirect, window.location.href);
      if (to.pathname === window.location.pathname && to.search === window.location.search) {
        window.location.hash = to.hash;
        window.location.reload();
      } else {
        window.location.assign(to.href);
      }
    }).catch(function (e) {
      button.disabled = false;
      say(e && e.name === "NotAllowedError" ? form.getAttribute("data-cancelled") : (e && e.message) || "");
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var forms = document.querySelectorAll("form[data-passkey]");
    for (var i = 0; i < forms.length; i++) {
      var form = forms[i];
      if (!window.PublicKeyCredential) {
        // No WebAuthn in this browser: the form says so instead.
        var note = form.querySelector("[data-passkey-status]");
        if (note) note.textContent = form.getAttribute("data-unsupported") || "";
        form.querySelector("button[type=submit]").disabled = true;
        continue;
      }
      form.addEventListener("submit", function (ev) {
        ev.preventDefault();
        ceremony(ev.currentTarget);
      });
    }
  });
})();
