// Live updates: after each websocket message (already swapped in by htmx's ws
// extension), fire `request-changed` on <body> so regions that show that
// request refresh themselves (hx-trigger="request-changed from:body").
document.addEventListener("htmx:wsAfterMessage", function (evt) {
  var marker = document.getElementById("live-event");
  var data = {};
  try { data = JSON.parse(marker && marker.dataset.liveEvent || "{}"); } catch (e) { data = {}; }
  document.body.dataset.liveSeen = String((Number(document.body.dataset.liveSeen) || 0) + 1);
  htmx.trigger(document.body, "request-changed", data);
});
document.addEventListener("htmx:wsOpen", function () {
  // A change between the page's render and the socket opening (or while it
  // reconnected) was never pushed to this page: refresh what it shows, once.
  var body = document.getElementById("request-body");
  var shown = body ? { request_id: Number(body.dataset.requestId) } : {};
  htmx.trigger(document.body, "request-changed", shown);
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
