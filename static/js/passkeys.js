// Passkeys (WebAuthn) for the step-up prompt and /accounts/passkeys/. No inline
// script (the CSP forbids it): forms say what they need in data attributes.
//
// A form with data-passkey-options (a step-up prompt) asks the browser for an
// assertion before it is sent; one with data-passkey-register fetches creation
// options from that URL and asks for a new credential. The answer goes into the
// form's hidden field and the form is submitted again (htmx or plain), so the
// server gets the proof together with the action it confirms.
(function () {
  function csrf(form) {
    var input = form.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function showError(form, selector) {
    var slot = form.querySelector(selector);
    if (slot) { slot.hidden = false; }
  }

  async function assertion(form) {
    var options = PublicKeyCredential.parseRequestOptionsFromJSON(JSON.parse(form.dataset.passkeyOptions));
    var credential = await navigator.credentials.get({ publicKey: options });
    return JSON.stringify(credential.toJSON());
  }

  async function creation(form) {
    var response = await fetch(form.dataset.passkeyRegister, {
      method: "POST", credentials: "same-origin", headers: { "X-CSRFToken": csrf(form) },
    });
    if (!response.ok) { throw new Error("options refused"); }
    var body = await response.json();
    var options = PublicKeyCredential.parseCreationOptionsFromJSON(JSON.parse(body.options));
    var credential = await navigator.credentials.create({ publicKey: options });
    return JSON.stringify(credential.toJSON());
  }

  // Capture phase: runs before htmx's own submit listener on the form.
  document.addEventListener("submit", function (evt) {
    var form = evt.target;
    var field, make, errorSlot;
    if (form.dataset.passkeyOptions) {
      field = form.querySelector("input[name=stepup_credential]");
      make = assertion; errorSlot = "[data-testid=step-up-passkey-error]";
    } else if (form.dataset.passkeyRegister) {
      field = form.querySelector("input[name=credential]");
      make = creation; errorSlot = "[data-testid=passkey-browser-error]";
    } else {
      return;
    }
    if (!field || field.value) { return; }
    evt.preventDefault();
    evt.stopImmediatePropagation();
    make(form).then(function (value) {
      field.value = value;
      form.requestSubmit();
    }, function () {
      showError(form, errorSlot);
    });
  }, true);
})();
