// A table wider than the screen scrolls inside its own box (the style
// sheet); this makes such a table reachable with the keyboard, so that it
// can be scrolled without a mouse. Tables that fit stay out of the tab order.
(function () {
  var mark = function () {
    var tables = document.querySelectorAll("main table, main .table-scroll");
    for (var i = 0; i < tables.length; i++) {
      var t = tables[i];
      if (t.scrollWidth > t.clientWidth + 1) {
        t.setAttribute("tabindex", "0");
      } else if (t.getAttribute("tabindex") === "0") {
        t.removeAttribute("tabindex");
      }
    }
  };
  mark();
  window.addEventListener("resize", mark);
  document.addEventListener("htmx:afterSettle", mark);
  document.addEventListener("portcullis:swapped", mark); // live.js swapped the page's content
})();
