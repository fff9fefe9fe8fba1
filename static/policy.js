// The catalog editor: the gutter follows the text as it scrolls and grows,
// and "Line N" in an error puts the cursor on that line.
(function () {
  const area = document.getElementById("catalog");
  const gutter = document.querySelector(".code-editor .gutter");
  if (!area || !gutter) return;
  const number = () => {
    const n = area.value.split("\n").length;
    let s = "";
    for (let i = 1; i <= n; i++) s += i + "\n";
    gutter.textContent = s;
    gutter.scrollTop = area.scrollTop;
  };
  area.addEventListener("input", number);
  area.addEventListener("scroll", () => { gutter.scrollTop = area.scrollTop; });
  document.querySelectorAll("a.goto-line").forEach((a) => {
    a.addEventListener("click", (ev) => {
      ev.preventDefault();
      const line = parseInt(a.dataset.line, 10);
      const lines = area.value.split("\n");
      let start = 0;
      for (let i = 0; i < line - 1 && i < lines.length; i++) start += lines[i].length + 1;
      const end = start + (lines[line - 1] || "").length;
      area.focus();
      area.setSelectionRange(start, end);
      const lh = parseFloat(getComputedStyle(area).lineHeight) || 18;
      area.scrollTop = Math.max(0, (line - 5) * lh);
    });
  });
  // A changed matrix cell takes its new colour at once.
  document.querySelectorAll("#matrix td.access-cell select").forEach((sel) => {
    sel.addEventListener("change", () => {
      const td = sel.closest("td");
      td.className = td.className.replace(/\baccess-(allow|web|whitelist|egress|deny)\b/, "access-" + sel.value);
    });
  });
})();
