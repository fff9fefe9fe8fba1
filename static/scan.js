// Live progress of a running scan, from the server's event stream.
(function () {
  var box = document.getElementById("scan-status");
  if (!box || box.dataset.running !== "yes" || !window.EventSource) return;
  var bar = document.getElementById("scan-progress");
  var text = document.getElementById("scan-progress-text");
  var state = document.getElementById("scan-state");
  var source = new EventSource("/scans/" + box.dataset.scan + "/events");
  source.addEventListener("progress", function (e) {
    var p = JSON.parse(e.data);
    if (p.ports_total > 0) bar.value = Math.floor((100 * p.ports_done) / p.ports_total);
    text.textContent = p.hosts_done + " of " + p.hosts_total + " hosts, " + Math.round(p.rate) + " ports/s" +
      (p.remaining_seconds > 0 ? ", about " + Math.ceil(p.remaining_seconds) + " s left" : "") + (p.phase ? " (" + p.phase + ")" : "");
    if (p.done) {
      state.textContent = p.status;
      source.close();
      window.location.reload();
    }
  });
  source.onerror = function () { source.close(); setTimeout(function () { window.location.reload(); }, 3000); };
})();
