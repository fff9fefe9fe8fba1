// Live progress of a running scan, from the server's event stream.
(function () {
  var box = document.getElementById("scan-status");
  if (!box || box.dataset.running !== "yes" || !window.EventSource) return;
  var bar = document.getElementById("scan-progress");
  var text = document.getElementById("scan-progress-text");
  var state = document.getElementById("scan-state");
  // The page gives the line's wording in the reader's language, with
  // {Name} where a figure goes.
  var phases = JSON.parse(box.dataset.phases || "{}");
  var statuses = JSON.parse(box.dataset.statuses || "{}");
  var fill = function (format, values) {
    return format.replace(/\{(\w+)\}/g, function (m, name) { return name in values ? values[name] : m; });
  };
  var source = new EventSource("/scans/" + box.dataset.scan + "/events");
  source.addEventListener("progress", function (e) {
    var p = JSON.parse(e.data);
    if (p.ports_total > 0) bar.value = Math.floor((100 * p.ports_done) / p.ports_total);
    text.textContent = fill(box.dataset.progress, {Done: p.hosts_done, Total: p.hosts_total, Rate: Math.round(p.rate)}) +
      (p.remaining_seconds > 0 ? fill(box.dataset.left, {Seconds: Math.ceil(p.remaining_seconds)}) : "") +
      (p.phase ? " (" + (phases[p.phase] || p.phase) + ")" : "");
    if (p.done) {
      state.textContent = statuses[p.status] || p.status;
      source.close();
      window.location.reload();
    }
  });
  source.onerror = function () { source.close(); setTimeout(function () { window.location.reload(); }, 3000); };
})();
