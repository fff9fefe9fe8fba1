// Keeps a page current: the server's change stream says when what the
// page shows has changed, and the page's main content is fetched again and
// swapped in. A reader who is typing keeps what they typed: a notice
// offers to reload instead. The flash that confirmed the reader's own step
// is shown once by the server, so the swap keeps it: a scan that finishes a
// second after "Marked implemented" must not take that confirmation away.
(function () {
  var live = document.getElementById("live");
  var main = document.getElementById("main");
  if (!live || !main || !window.EventSource || !window.fetch || !window.DOMParser) return;
  var texts = { updated: live.dataset.updated, stale: live.dataset.stale, reload: live.dataset.reload };
  var status = document.createElement("p");
  status.id = "live-status";
  status.className = "live-status";
  status.setAttribute("role", "status");
  document.body.appendChild(status);
  var typed = false;
  main.addEventListener("input", function () { typed = true; });
  var editing = function () {
    var f = document.activeElement;
    return typed || (f && main.contains(f) && /^(INPUT|TEXTAREA|SELECT)$/.test(f.tagName));
  };
  var say = function (text, withReload) {
    status.textContent = text;
    if (withReload) {
      var b = document.createElement("button");
      b.type = "button";
      b.className = "secondary";
      b.textContent = texts.reload;
      b.addEventListener("click", function () { window.location.reload(); });
      status.appendChild(document.createTextNode(" "));
      status.appendChild(b);
    }
  };
  var busy = false, again = false;
  var refresh = function () {
    if (busy) { again = true; return; }
    if (editing()) { say(texts.stale, true); return; }
    busy = true;
    fetch(window.location.href, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (res) {
        // A redirect (to the login page) or an error: the full page says why.
        if (!res.ok || res.redirected) { window.location.reload(); return null; }
        return res.text();
      })
      .then(function (html) {
        if (html === null) return;
        var doc = new DOMParser().parseFromString(html, "text/html");
        var fresh = doc.getElementById("main");
        if (!fresh) { window.location.reload(); return; }
        if (editing()) { say(texts.stale, true); return; }
        var flash = main.querySelector(":scope > .flash[data-kind]");
        main.innerHTML = fresh.innerHTML;
        if (flash && !main.querySelector(":scope > .flash[data-kind]")) main.insertBefore(flash, main.firstChild);
        document.title = doc.title;
        if (window.htmx) window.htmx.process(main);
        // Scripts that mark the content (tables.js) mark the new content too.
        document.dispatchEvent(new CustomEvent("portcullis:swapped"));
        say(texts.updated, false);
      })
      .catch(function () { say(texts.stale, true); })
      .finally(function () {
        busy = false;
        if (again) { again = false; refresh(); }
      });
  };
  var source = new EventSource(live.dataset.src);
  source.addEventListener("changed", refresh);
  // The session ended or access was withdrawn: the page stays as it is.
  source.addEventListener("end", function () { source.close(); });
})();
