// The expense report form (templates/approvals/request_new.html): add and remove
// lines in the page, several receipts chosen at once become one line each, and the
// attendees field shows for meals. Without this file the form still works: "Add
// line" posts and comes back with one more line, a removed line's box is ticked,
// and the server spreads several receipts over the lines itself.
(function () {
  "use strict";

  // Every form with lines: the new report, the resubmit form on the request page.
  function forms() { return document.querySelectorAll("form #lines"); }
  function total(f) { return f.querySelector("[name='lines-TOTAL_FORMS']"); }

  function visibleLines(f) {
    return Array.prototype.filter.call(f.querySelectorAll("[data-line-form]"), function (el) {
      return !el.hidden && !el.closest("template");
    });
  }

  function renumber(f) {
    var lines = f.querySelector("#lines");
    var word = lines && lines.dataset.lineWord;
    if (!word) return;
    visibleLines(f).forEach(function (el, i) {
      var legend = el.querySelector("legend");
      if (legend) legend.textContent = word + " " + (i + 1);
    });
  }

  // One more line from the <template> (prefix __prefix__ → the next index).
  function addLine(f) {
    var tpl = f.querySelector("#line-template");
    var count = total(f);
    if (!tpl || !count) return null;
    var index = Number(count.value) || 0;
    var holder = document.createElement("div");
    holder.innerHTML = tpl.innerHTML.replace(/__prefix__/g, String(index));
    var line = holder.firstElementChild;
    var first = f.querySelector("[name='lines-0-currency']");
    var currency = line.querySelector("[name$='-currency']");
    if (first && currency) currency.value = first.value;  // a trip is mostly one currency
    f.querySelector("#lines").appendChild(line);
    count.value = String(index + 1);
    if (window.htmx) htmx.process(line);
    prepare(line);
    renumber(f);
    return line;
  }

  function prepare(root) {
    Array.prototype.forEach.call(root.querySelectorAll("[data-line-form]"), showAttendees);
    if (root.matches && root.matches("[data-line-form]")) showAttendees(root);
  }

  function showAttendees(line) {
    var category = line.querySelector("select[name$='-category']");
    var attendees = line.querySelector("[data-for-category]");
    if (!category || !attendees) return;
    attendees.hidden = category.value !== attendees.dataset.forCategory;
  }

  // A line with nothing in it yet: the first of several receipts goes there.
  function isEmpty(line) {
    var names = ["-amount", "-merchant", "-stashed"];
    var filled = names.some(function (suffix) {
      var input = line.querySelector("[name$='" + suffix + "']");
      return input && input.value;
    });
    var file = line.querySelector("input[type=file][name$='-receipt']");
    return !filled && !(file && file.files && file.files.length);
  }

  // Several receipts at once: each file into its own line's receipt input.
  function spreadReceipts(input) {
    var f = input.form;
    if (!f || typeof DataTransfer === "undefined") return;  // the server spreads them
    var files = Array.prototype.slice.call(input.files || []);
    if (!files.length) return;
    var free = visibleLines(f).filter(isEmpty);
    files.forEach(function (file) {
      var line = free.shift() || addLine(f);
      if (!line) return;
      var target = line.querySelector("input[type=file][name$='-receipt']");
      var moved = new DataTransfer();
      moved.items.add(file);
      target.files = moved.files;
      target.dispatchEvent(new Event("change", { bubbles: true }));
    });
    input.value = "";  // sent once, in the lines
    var first = visibleLines(f)[0];
    if (first) {
      var amount = first.querySelector("[name$='-amount']");
      if (amount) amount.focus();
    }
  }

  document.addEventListener("click", function (evt) {
    var button = evt.target.closest && evt.target.closest("[data-testid=add-line]");
    if (!button || !button.form || !button.form.querySelector("#lines")) return;
    evt.preventDefault();
    var line = addLine(button.form);
    var first = line && line.querySelector("input:not([type=hidden]), select");
    if (first) first.focus();
  });

  document.addEventListener("change", function (evt) {
    var t = evt.target;
    if (!t.closest || !t.form || !t.form.querySelector("#lines")) return;
    if (t.matches("[data-testid=receipts]")) spreadReceipts(t);
    if (t.matches("select[name$='-category']")) showAttendees(t.closest("[data-line-form]"));
    if (t.matches("[data-testid=remove-line]") && t.checked) {
      var line = t.closest("[data-line-form]");
      var f = t.form;
      if (visibleLines(f).length <= 1) { t.checked = false; return; }  // one line stays
      line.hidden = true;  // posted with its DELETE box ticked: the server drops it
      renumber(f);
    }
  });

  function init() {
    Array.prototype.forEach.call(forms(), function (lines) {
      var f = lines.closest("form");
      // With this file, "Add line" adds in the page: Enter in a field submits the report.
      var add = f.querySelector("[data-testid=add-line]");
      if (add) add.type = "button";
      prepare(f);
    });
  }
  document.addEventListener("DOMContentLoaded", init);
  document.addEventListener("htmx:afterSwap", init);
  if (document.readyState !== "loading") init();
})();
