// Live updates: after each websocket message (already swapped in by htmx's ws
// extension), fire `request-changed` on <body> so regions that show requests
// refresh themselves (hx-trigger="request-changed from:body"), and
// `request-changed-<id>` for regions showing that one request. (A named event
// instead of an hx-trigger filter: filters are eval'd, and the CSP forbids eval.)
function fireRequestChanged(detail) {
  htmx.trigger(document.body, "request-changed", detail);
  if (detail && detail.request_id) {
    htmx.trigger(document.body, "request-changed-" + detail.request_id, detail);
  }
}

// The language switcher submits on change (no inline handler: the CSP forbids them).
document.addEventListener("change", function (evt) {
  if (evt.target.matches && evt.target.matches("select[data-autosubmit]")) {
    evt.target.form.submit();
  }
});

document.addEventListener("htmx:wsAfterMessage", function (evt) {
  var marker = document.getElementById("live-event");
  var data = {};
  try { data = JSON.parse(marker && marker.dataset.liveEvent || "{}"); } catch (e) { data = {}; }
  document.body.dataset.liveSeen = String((Number(document.body.dataset.liveSeen) || 0) + 1);
  fireRequestChanged(data);
  // Said, not only shown: pages whose regions follow pushes announce what changed (the
  // inbox says arrivals and departures itself).
  if (marker && marker.dataset.announce && document.querySelector("[data-live-announce]")) {
    toast(marker.dataset.announce);
  }
});
document.addEventListener("htmx:wsOpen", function () {
  // A change between the page's render and the socket opening (or while it
  // reconnected) was never pushed to this page: refresh what it shows, once.
  var body = document.getElementById("request-body");
  var shown = body ? { request_id: Number(body.dataset.requestId) } : {};
  fireRequestChanged(shown);
  document.body.dataset.wsOpen = "1";
});
document.addEventListener("htmx:wsClose", function () {
  document.body.dataset.wsOpen = "0";
});

// A pushed inbox row (out of band into #inbox-rows) replaces the row of the
// same request if the page shows it, else joins the list in deadline order,
// like the server sorts each page. Filtered or later pages take no arrivals
// (the row may not match the filter); they still get updates of shown rows.
document.addEventListener("htmx:oobBeforeSwap", function (evt) {
  var list = evt.detail.target;
  if (!list || list.id !== "inbox-rows") return;
  evt.detail.shouldSwap = false;
  var arrivals = evt.detail.fragment.querySelectorAll("[data-testid=inbox-row]");
  Array.prototype.forEach.call(arrivals, function (row) {
    var existing = document.getElementById(row.id);
    if (existing) {
      // Morphed, not replaced: a comment typed into the row, and the focus, stay (live.js).
      Idiomorph.morph(existing, row);
      row = existing;
    } else if (list.dataset.liveInsert === "on") {
      inboxToast("arrived", row);
      var due = row.dataset.due || "\uffff";
      var before = null;
      var rows = list.querySelectorAll("[data-testid=inbox-row]");
      for (var i = 0; i < rows.length; i++) {
        if ((rows[i].dataset.due || "\uffff") > due) { before = rows[i]; break; }
      }
      list.insertBefore(row, before);
      var empty = document.getElementById("inbox-empty");
      if (empty) empty.remove();
    } else {
      inboxToast("arrived", row); // not listed on a filtered or later page, still worth knowing
      return;
    }
    htmx.process(row);
  });
});

// ---- Inbox: keyboard, focus that survives live changes, toasts ----------------------
// Keys (listed in the page's help dialog): j/k move, a approve, r reject (focuses the
// comment; Enter there rejects), x select, ? help, Esc leaves the comment field.
function inboxRows() {
  var list = document.getElementById("inbox-rows");
  return list ? Array.prototype.slice.call(list.querySelectorAll("[data-testid=inbox-row]")) : [];
}

function currentRow() {
  var active = document.activeElement;
  var row = active && active.closest ? active.closest("[data-testid=inbox-row]") : null;
  return row || document.querySelector("#inbox-rows [data-testid=inbox-row].active");
}

// The row that has (or last had) the focus, and its neighbours, for when it leaves.
var inboxFocus = { element: null, id: null, next: null, prev: null };

function rememberRow(row) {
  var rows = inboxRows();
  var i = rows.indexOf(row);
  inboxFocus.id = row.id;
  inboxFocus.next = i >= 0 && rows[i + 1] ? rows[i + 1].id : null;
  inboxFocus.prev = i > 0 ? rows[i - 1].id : null;
  rows.forEach(function (r) { r.classList.toggle("active", r === row); });
}

function focusRow(row) {
  if (!row) return;
  rememberRow(row);
  row.focus();
  row.scrollIntoView({ block: "nearest" });
}

document.addEventListener("focusin", function (evt) {
  var row = evt.target.closest ? evt.target.closest("[data-testid=inbox-row]") : null;
  if (row) {
    inboxFocus.element = evt.target;
    rememberRow(row);
  }
});

// When the element with the focus leaves with its row (decided here, decided
// elsewhere and pushed, re-rendered), the focus goes to the same request's new row,
// else the next row, else the previous one, else the list's heading.
function restoreInboxFocus() {
  var active = document.activeElement;
  if (active && active !== document.body && active.isConnected) return;
  var byId = function (id) {
    var el = id ? document.getElementById(id) : null;
    return el && el.matches("[data-testid=inbox-row]") ? el : null;
  };
  var target = byId(inboxFocus.id) || byId(inboxFocus.next) || byId(inboxFocus.prev) || inboxRows()[0];
  if (target) {
    focusRow(target);
  } else {
    var fallback = document.getElementById("inbox-empty") || document.getElementById("inbox-title");
    if (fallback) fallback.focus();
  }
}

new MutationObserver(function (mutations) {
  var focused = inboxFocus.element;
  if (!focused || focused.isConnected) return;
  for (var i = 0; i < mutations.length; i++) {
    var removed = mutations[i].removedNodes;
    for (var j = 0; j < removed.length; j++) {
      if (removed[j] === focused || (removed[j].contains && removed[j].contains(focused))) {
        inboxFocus.element = null;
        restoreInboxFocus();
        return;
      }
    }
  }
}).observe(document.documentElement, { childList: true, subtree: true });

function toast(text) {
  var region = document.getElementById("toasts");
  if (!region || !text) return;
  var item = document.createElement("p");
  item.className = "toast";
  item.dataset.testid = "toast";
  item.textContent = text;
  region.appendChild(item);
  while (region.children.length > 3) region.removeChild(region.firstChild);
  setTimeout(function () { item.remove(); }, 10000);
}

function rowLabel(row) {
  var link = row.querySelector("[data-testid=open]");
  return link ? link.textContent.trim() : "#" + row.dataset.requestId;
}

function inboxToast(kind, row) {
  var list = document.getElementById("inbox-rows");
  var template = list && list.dataset[kind === "arrived" ? "toastArrived" : "toastLeft"];
  if (template) toast(template.replace("{label}", rowLabel(row)));
}

// A pushed removal of a row this page shows (`<div id="inbox-row-N"
// hx-swap-oob="delete">`, which carries no row of its own): say so before it goes.
document.addEventListener("htmx:oobBeforeSwap", function (evt) {
  var target = evt.detail.target;
  var fragment = evt.detail.fragment;
  if (!target || !target.matches || !target.matches("[data-testid=inbox-row]") || !fragment) return;
  var isRow = function (el) { return el.matches && el.matches("[data-testid=inbox-row]"); };
  var carriesRow = isRow(fragment) || (fragment.querySelector && fragment.querySelector("[data-testid=inbox-row]"));
  if (!carriesRow) inboxToast("left", target);
});

function openKeysHelp() {
  var dialog = document.getElementById("keys-dialog");
  if (!dialog || dialog.open) return;
  var opener = document.activeElement;
  dialog.addEventListener("close", function () {
    if (opener && opener.isConnected && opener !== document.body) opener.focus();
    else restoreInboxFocus();
  }, { once: true });
  dialog.showModal();
}

document.addEventListener("click", function (evt) {
  if (evt.target.closest && evt.target.closest("[data-keys-open]")) openKeysHelp();
});

function isTyping(el) {
  if (!el || !el.tagName) return false;
  if (el.isContentEditable || el.tagName === "TEXTAREA" || el.tagName === "SELECT") return true;
  return el.tagName === "INPUT" && !/^(checkbox|radio|button|submit|reset)$/.test(el.type);
}

document.addEventListener("keydown", function (evt) {
  if (!document.getElementById("inbox-rows")) return;
  if (evt.ctrlKey || evt.metaKey || evt.altKey || evt.isComposing) return;
  var dialog = document.getElementById("keys-dialog");
  if (dialog && dialog.open) return; // the dialog handles Esc itself
  var target = evt.target;
  if (isTyping(target)) {
    var form = target.form;
    if (target.name === "comment" && form && form.closest("[data-testid=inbox-row]")) {
      if (evt.key === "Enter" && form.dataset.intent === "reject") {
        evt.preventDefault();
        form.querySelector("[data-testid=reject]").click();
      } else if (evt.key === "Escape") {
        evt.preventDefault();
        delete form.dataset.intent;
        focusRow(form.closest("[data-testid=inbox-row]"));
      }
    }
    return;
  }
  var rows = inboxRows();
  var row = currentRow();
  var i = row ? rows.indexOf(row) : -1;
  switch (evt.key) {
    case "?":
      openKeysHelp();
      break;
    case "j":
      focusRow(rows[Math.min(i + 1, rows.length - 1)]);
      break;
    case "k":
      focusRow(rows[Math.max(i - 1, 0)]);
      break;
    case "a":
      if (!row) { focusRow(rows[0]); break; }
      row.querySelector("[data-testid=approve]").click();
      break;
    case "r":
      if (!row) { focusRow(rows[0]); break; }
      var comment = row.querySelector("input[name=comment]");
      if (comment.value.trim()) {
        row.querySelector("[data-testid=reject]").click();
      } else {
        comment.form.dataset.intent = "reject";
        comment.focus();
      }
      break;
    case "x":
      if (!row) { focusRow(rows[0]); break; }
      var box = row.querySelector("[data-testid=select]");
      box.checked = !box.checked;
      break;
    default:
      return;
  }
  evt.preventDefault();
});
