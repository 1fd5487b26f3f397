// Receipts read while the report form is open (issue 26, approvals/views/receipts.py).
// When a receipt is chosen in a line, it is uploaded to be read (OCR on the server's own
// queue); the form asks for the reading every ~700 ms and fills the line's amount,
// currency, date, merchant and VAT only where the person has not typed, marking each
// filled field "check this" (data-testid="ocr-filled"). What the person types is never
// overwritten; a field they change afterwards loses its mark and is not recorded as read.
// The uploaded file becomes the line's receipt (its `stashed` token): not sent twice.
// Without this file (or without OCR) the form works by hand as before.
(function () {
  "use strict";

  var FIELDS = ["amount", "currency", "date", "merchant", "vat"];
  var filling = false;  // our own change events are not the person's

  function config(line) {
    var lines = line.closest("#lines");
    return lines && lines.dataset.ocrUrl ? lines.dataset : null;
  }

  function input(line, name) {
    return line.querySelector("[name$='-" + name + "']:not([type=file])");
  }

  function status(line) {
    var box = line.querySelector("[data-testid=ocr-status]");
    if (!box) {
      box = document.createElement("p");
      box.className = "hint ocr-status";
      box.setAttribute("data-testid", "ocr-status");
      box.setAttribute("aria-live", "polite");
      var field = line.querySelector(".receipt-field") || line;
      field.appendChild(box);
    }
    return box;
  }

  function say(line, text, state) {
    var box = status(line);
    box.textContent = text;
    box.dataset.state = state || "";
  }

  function recordFilled(line) {
    var hidden = input(line, "ocr_fields");
    if (!hidden) return;
    var names = [];
    FIELDS.forEach(function (name) {
      var el = input(line, name);
      if (el && el.dataset.ocrFilled === "1") names.push(name);
    });
    hidden.value = names.join(",");
  }

  function unmark(el) {
    if (!el || el.dataset.ocrFilled !== "1") return;
    delete el.dataset.ocrFilled;
    var wrapper = el.closest(".field");
    var badge = wrapper && wrapper.querySelector(".ocr-badge");
    if (badge) badge.remove();
    if (wrapper) wrapper.classList.remove("ocr-filled");
  }

  function mark(line, el, name, word) {
    el.dataset.ocrFilled = "1";
    var wrapper = el.closest(".field");
    if (!wrapper) return;
    wrapper.classList.add("ocr-filled");
    if (wrapper.querySelector(".ocr-badge")) return;
    var badge = document.createElement("span");
    badge.className = "ocr-badge";
    badge.setAttribute("data-testid", "ocr-filled");
    badge.dataset.field = name;
    badge.textContent = word;
    var label = wrapper.querySelector("label");
    (label || wrapper).appendChild(badge);
  }

  function fill(line, fields, word) {
    filling = true;
    try {
      FIELDS.forEach(function (name) {
        var el = input(line, name);
        var value = fields[name];
        if (name === "date" && el && el.type !== "date") value = fields.date_local || value;
        if (!el || !value || el.dataset.typed === "1") return;
        if (name !== "currency" && el.value) return;  // something is there: theirs
        if (name === "currency") {
          if (!Array.prototype.some.call(el.options, function (o) { return o.value === value; })) return;
          if (el.value === value) { mark(line, el, name, word); return; }
        }
        el.value = value;
        mark(line, el, name, word);
        el.dispatchEvent(new Event("change", { bubbles: true }));
      });
    } finally {
      filling = false;
    }
    recordFilled(line);
  }

  function attached(line, file, stash) {
    var kept = input(line, "stashed");
    if (!kept || !stash) return;
    kept.value = stash;
    var note = line.querySelector("[data-testid=receipt-kept]");
    if (!note) {
      note = document.createElement("p");
      note.className = "hint";
      note.setAttribute("data-testid", "receipt-kept");
      (line.querySelector(".receipt-field") || line).insertBefore(
        note, (line.querySelector(".receipt-field") || line).firstChild);
    }
    var cfg = config(line);
    note.textContent = (cfg.ocrAttached || "") + " " + file.name;
  }

  function poll(line, url, every, until, word) {
    if (Date.now() > until) return;
    window.setTimeout(function () {
      if (!line.isConnected || line.dataset.ocrUrl !== url) return;  // replaced meanwhile
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (body) {
          if (!body) { poll(line, url, every * 1.5, until, word); return; }
          say(line, body.message, body.status);
          if (!body.done) { poll(line, url, every, until, word); return; }
          fill(line, body.fields || {}, word);
        })
        .catch(function () { poll(line, url, every * 1.5, until, word); });
    }, every);
  }

  function read(fileInput) {
    var line = fileInput.closest("[data-line-form]");
    var cfg = line && config(line);
    var file = fileInput.files && fileInput.files[0];
    if (!cfg || !file || !window.fetch || !window.FormData) return;
    var token = fileInput.form.querySelector("[name=csrfmiddlewaretoken]");
    var body = new FormData();
    body.append("receipt", file);
    say(line, cfg.ocrReading, "pending");
    fetch(cfg.ocrUrl, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "X-CSRFToken": token ? token.value : "", Accept: "application/json" },
    })
      .then(function (r) { return r.json().then(function (j) { return { ok: r.ok, body: j }; }); })
      .then(function (res) {
        if (!res.ok) { say(line, res.body.error || cfg.ocrFailed, "refused"); return; }
        var state = res.body;
        say(line, state.message, state.status);
        if (fileInput.files && fileInput.files[0] === file) {
          attached(line, file, state.stash);
          if (state.stash) fileInput.value = "";  // kept on the server: not sent twice
        }
        line.dataset.ocrUrl = state.poll_url;
        if (!state.done) {
          poll(line, state.poll_url, state.poll_ms || 700, Date.now() + 120000, cfg.ocrCheck);
        } else {
          fill(line, state.fields || {}, cfg.ocrCheck);
        }
      })
      .catch(function () { say(line, cfg.ocrFailed, "failed"); });
  }

  document.addEventListener("change", function (evt) {
    var t = evt.target;
    if (!t.closest || !t.closest("[data-line-form]")) return;
    if (t.matches("input[type=file][name$='-receipt'], input[type=file][name$='-photo']")) {
      read(t);
      return;
    }
    if (!filling) typed(t);
  });
  document.addEventListener("input", function (evt) {
    if (!filling && evt.target.closest && evt.target.closest("[data-line-form]")) typed(evt.target);
  });

  // The person changed a field: it is theirs from now on (never filled, not "read").
  function typed(el) {
    var line = el.closest("[data-line-form]");
    var name = FIELDS.filter(function (n) { return el.name && el.name.endsWith("-" + n); })[0];
    if (!line || !name) return;
    el.dataset.typed = "1";
    unmark(el);
    recordFilled(line);
  }
})();
