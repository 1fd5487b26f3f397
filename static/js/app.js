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
  document.body.dataset.wsOpen = "1";
});
document.addEventListener("htmx:wsClose", function () {
  document.body.dataset.wsOpen = "0";
});
