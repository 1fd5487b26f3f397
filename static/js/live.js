// Live updates never destroy what a person is doing.
//
// Pushed refreshes (#request-body, #home-body, #request-table, the request's live state)
// and the answers to the request page's own forms are swapped with htmx's "morph" swap
// (idiomorph, vendored from npm into static/vendor/): the new HTML is merged into the
// elements already on the page instead of replacing them, so the element with the focus,
// its caret, open <details> and the scroll position stay, and only what changed changes.
// Why idiomorph rather than swapping smaller regions: the request page's forms themselves
// depend on the state (which level, who may act), so they must follow a change too; a
// morph does that for every page with one rule instead of a hand-written patch per region.
//
// What idiomorph would still overwrite, this file protects:
// - a field the person changed keeps its value (and a select its choice), focused or not;
//   their own send of a form hands that form back to the server's answer;
// - a section marked `data-live-action` (one action of the request page) that the new
//   state no longer offers, while the person has typed into it or has the focus there,
//   is kept: read-only, its buttons off, with what happened in words next to it (hidden
//   sentences the page carries, templates/approvals/_moved_on.html), a button to copy
//   the text and a link to what still makes sense; the words are also announced in the
//   page's aria-live region (#toasts).
(function () {
  "use strict";
  if (!window.Idiomorph) return;

  var typed = new WeakSet();

  function isField(el) {
    return !!el && (el.tagName === "INPUT" || el.tagName === "TEXTAREA" || el.tagName === "SELECT");
  }

  function remember(evt) {
    if (isField(evt.target) && evt.target.type !== "hidden") typed.add(evt.target);
  }
  document.addEventListener("input", remember, true);
  document.addEventListener("change", remember, true);

  function fieldOf(node) {
    return node.tagName === "OPTION" && node.parentElement ? node.closest("select") : node;
  }

  Idiomorph.defaults.ignoreActiveValue = true;
  Idiomorph.defaults.callbacks.beforeAttributeUpdated = function (name, node) {
    if ((name === "value" || name === "checked" || name === "selected") && typed.has(fieldOf(node))) {
      return false;
    }
    if (name === "open" && node.tagName === "DETAILS") return false; // the reader opened or closed it
    return true;
  };

  function fieldsIn(section) {
    return Array.prototype.filter.call(section.querySelectorAll("input, textarea, select"), function (f) {
      return f.type !== "hidden";
    });
  }

  function holdsWork(section) {
    var active = document.activeElement;
    if (active && isField(active) && section.contains(active)) return true;
    return fieldsIn(section).some(function (f) {
      return typed.has(f) && String(f.value).trim() !== "";
    });
  }

  var kept = [];
  Idiomorph.defaults.callbacks.beforeNodeRemoved = function (node) {
    if (node.nodeType !== 1 || !node.hasAttribute("data-live-action") || !holdsWork(node)) return true;
    kept.push(node);
    return false;
  };

  // The person's own send: from now on that form shows the server's answer.
  document.addEventListener("htmx:beforeSwap", function (evt) {
    var source = evt.detail.requestConfig && evt.detail.requestConfig.elt;
    var form = source && (source.tagName === "FORM" ? source : source.closest && source.closest("form"));
    if (!form || (evt.detail.requestConfig.verb || "").toLowerCase() === "get") return;
    Array.prototype.forEach.call(form.elements, function (f) { typed.delete(f); });
  });

  function words(section) {
    var box = document.getElementById("live-words");
    var pick = function (selector) {
      var el = box && box.querySelector(selector);
      return el ? el.textContent.trim() : "";
    };
    var specific = section.dataset.liveAction === "resubmit"
      ? pick("[data-kind=resubmit]")
      : pick('[data-level="' + section.dataset.level + '"]');
    return specific || pick("[data-request]") || pick("[data-fallback]");
  }

  function announce(text) {
    if (typeof window.toast === "function") window.toast(text);
  }

  function keepMovedOn(section) {
    var what = words(section);
    var note = section.querySelector("[data-moved-on-note]");
    var before = note ? note.querySelector("[data-slot=what]").textContent : "";
    if (!note) {
      var source = document.getElementById("moved-on-note");
      if (!source || !source.firstElementChild) return;
      note = source.firstElementChild.cloneNode(true);
      note.id = section.id + "-note";
      var heading = section.querySelector("h2");
      section.insertBefore(note, heading ? heading.nextSibling : section.firstChild);
    }
    note.querySelector("[data-slot=what]").textContent = what;
    section.dataset.movedOn = "1";
    var active = document.activeElement;
    fieldsIn(section).forEach(function (f) {
      if (f.tagName === "SELECT") f.disabled = true; else f.readOnly = true;
      f.setAttribute("aria-describedby", note.id);
    });
    section.querySelectorAll("button[type=submit], button:not([type])").forEach(function (b) {
      if (b === active) note.focus(); // a disabled button would drop the focus on <body>
      b.disabled = true;
    });
    if (what !== before) announce(what);
  }

  document.addEventListener("htmx:afterSwap", function () {
    var list = kept;
    kept = [];
    list.forEach(function (section) {
      if (section.isConnected) keepMovedOn(section);
    });
  });

  // A kept section's form cannot be sent any more (its level or request moved on).
  document.addEventListener("submit", function (evt) {
    var section = evt.target.closest && evt.target.closest("[data-moved-on]");
    if (section) { evt.preventDefault(); evt.stopPropagation(); }
  }, true);

  document.addEventListener("click", function (evt) {
    var button = evt.target.closest && evt.target.closest("[data-copy-typed]");
    if (!button) return;
    var section = button.closest("[data-live-action]");
    var fields = section ? fieldsIn(section).filter(function (f) { return f.tagName !== "SELECT"; }) : [];
    var text = fields.map(function (f) { return f.value; }).filter(Boolean).join("\n");
    var done = function () { announce(button.dataset.copied); };
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(text).then(done, function () { selectFirst(fields); });
    } else {
      selectFirst(fields);
    }
  });

  function selectFirst(fields) {
    // No clipboard here: select the text so the person can copy it themselves.
    var field = fields.filter(function (f) { return f.value; })[0];
    if (field) { field.focus(); field.select(); }
  }
})();
