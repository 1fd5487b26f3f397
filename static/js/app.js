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
      existing.replaceWith(row);
    } else if (list.dataset.liveInsert === "on") {
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
      return;
    }
    htmx.process(row);
  });
});
