// Launch form: the chosen flavor's size times the count against the quota headroom.
(function () {
  function launchSummary() {
    var form = document.getElementById("launch-form");
    var sizes = document.getElementById("flavor-sizes");
    if (!form || !sizes) return;
    var flavors = JSON.parse(sizes.textContent);
    var out = document.getElementById("launch-summary");
    function headroom(resource) {
      var li = document.querySelector('.charts li[data-resource="' + resource + '"]');
      if (!li) return null;
      var limit = Number(li.dataset.limit), used = Number(li.dataset.used);
      return limit < 0 ? null : limit - used;
    }
    function update() {
      var id = form.elements.flavor.value, count = Number(form.elements.count.value) || 1;
      var f = flavors.find(function (x) { return x.id === id; });
      if (!f) { out.textContent = ""; return; }
      var need = { instances: count, cores: f.vcpus * count, ram: f.ram * count };
      var names = { instances: "instances", cores: "vCPUs", ram: "MB of RAM" };
      var parts = [], over = [];
      Object.keys(need).forEach(function (r) {
        var left = headroom(r);
        parts.push(need[r] + " " + names[r] + (left === null ? "" : " of " + left + " left"));
        if (left !== null && need[r] > left) over.push(names[r]);
      });
      out.textContent = "This launch needs " + parts.join(", ") + "." +
        (over.length ? " Over quota: " + over.join(", ") + "." : "");
      out.className = over.length ? "msg error" : "msg";
    }
    form.addEventListener("input", update);
    form.addEventListener("change", update);
    update();
  }
  document.addEventListener("DOMContentLoaded", launchSummary);
})();

// A poll re-sends the rows of its overlap window; a row the page already shows in that
// version is left alone, so a button being clicked or focused is not replaced under the user.
document.addEventListener("htmx:oobBeforeSwap", function (event) {
  var current = event.detail.target, incoming = event.detail.fragment && event.detail.fragment.firstElementChild;
  if (current && incoming && current.dataset.version && current.dataset.version === incoming.dataset.version) {
    event.detail.shouldSwap = false;
  }
});

// Every destructive button carries data-confirm="Delete <name>?": the click (also the implicit one of Enter in
// the form) is stopped unless the user confirms, before htmx or the browser submits anything.
// data-confirm-value names an input whose value replaces {value} in the question.
document.addEventListener("click", function (event) {
  var button = event.target.closest && event.target.closest("[data-confirm]");
  if (!button || button.disabled) return;
  var question = button.dataset.confirm;
  if (button.dataset.confirmSelection) {  // a bulk action: the question names every selected object
    var names = selectedNames(button.dataset.confirmSelection);
    if (!names.length) {
      window.alert("Select at least one row first.");
      event.preventDefault();
      event.stopPropagation();
      return;
    }
    question = question.replace("{selected}", names.join(", "));
  }
  if (button.dataset.confirmValue) {
    var input = document.getElementById(button.dataset.confirmValue);
    question = question.replace("{value}", input ? input.value : "");
  }
  if (!window.confirm(question)) {
    event.preventDefault();
    event.stopPropagation();
  }
}, true);

// A stop waits up to SHUTDOWN_TIMEOUT for the guest: its row counts the seconds on (from what the
// server measured when it drew the row) until the next poll replaces the row.
document.addEventListener("htmx:load", function (event) {  // the page's first content, then each swapped row
  var root = event.detail.elt, now = String(Date.now());
  if (root.matches && root.matches("progress.countup, .countup-text")) root.dataset.drawnAt = now;
  root.querySelectorAll("progress.countup, .countup-text").forEach(function (el) { el.dataset.drawnAt = now; });
});
setInterval(function () {
  document.querySelectorAll("progress.countup, .countup-text").forEach(function (el) {
    if (!el.dataset.drawnAt) el.dataset.drawnAt = String(Date.now());
    var seconds = Number(el.dataset.elapsed) + Math.floor((Date.now() - Number(el.dataset.drawnAt)) / 1000);
    if (el.tagName === "PROGRESS") {
      el.value = Math.min(seconds, el.max);
    } else {
      var limit = Number(el.dataset.limit);
      el.textContent = seconds < limit ? seconds + " s; the guest is forced off after " + limit + " s"
        : "forcing the guest off";
    }
  });
}, 1000);

// Tables (dashboard/datatable.py): row checkboxes belong to their table's bulk form through form="<id>";
// the header's box selects or clears every row of the page.
function selectedNames(formId) {
  return Array.prototype.map.call(
    document.querySelectorAll('input[name="ids"][form="' + formId + '"]:checked'),
    function (box) { return box.dataset.name || box.value; });
}
document.addEventListener("change", function (event) {
  var all = event.target.closest && event.target.closest("input.select-all");
  if (!all) return;
  document.querySelectorAll('input[name="ids"][form="' + all.dataset.bulk + '"]').forEach(function (box) {
    box.checked = all.checked;
  });
});
// A poll that redraws a row keeps its box ticked.
document.addEventListener("htmx:oobBeforeSwap", function (event) {
  var current = event.detail.target, incoming = event.detail.fragment && event.detail.fragment.firstElementChild;
  if (!current || !incoming || !event.detail.shouldSwap) return;
  var box = current.querySelector && current.querySelector('input[name="ids"]:checked');
  var fresh = box && incoming.querySelector('input[name="ids"][value="' + box.value + '"]');
  if (fresh) fresh.checked = true;
});

// The instance page's head polls while a task runs; once the instance has settled, the page reloads so
// its actions match the new state (the tab is in the URL, so it stays).
document.addEventListener("htmx:load", function (event) {
  var elt = event.detail.elt;
  if (elt && elt.id === "instance-head" && elt.dataset.busy === "false") window.location.reload();
});

// Tabs (role="tab" links, each its own URL): the selected one is in the Tab order, the arrow keys, Home
// and End move between them (the ARIA tabs pattern), Enter opens the focused one.
document.addEventListener("keydown", function (event) {
  var tab = event.target.closest && event.target.closest('[role="tab"]');
  if (!tab) return;
  var all = Array.prototype.slice.call(tab.parentElement.querySelectorAll('[role="tab"]'));
  var index = all.indexOf(tab), next = null;
  if (event.key === "ArrowRight") next = all[(index + 1) % all.length];
  else if (event.key === "ArrowLeft") next = all[(index - 1 + all.length) % all.length];
  else if (event.key === "Home") next = all[0];
  else if (event.key === "End") next = all[all.length - 1];
  if (next) { event.preventDefault(); next.focus(); }
});
