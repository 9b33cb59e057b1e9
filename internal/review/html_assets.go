package review

// pageCSS is the HTML report's only style sheet (system fonts only).
const pageCSS = `
:root{--fg:#1f2328;--muted:#59636e;--line:#d1d9e0;--bg:#fff;--soft:#f6f8fa;
--critical:#b42318;--high:#e0620d;--medium:#b58100;--low:#2e6bd9;--info:#6b7280}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:var(--fg);background:var(--bg)}
header{padding:20px 28px 8px;border-bottom:1px solid var(--line)}
h1{margin:0 0 4px;font-size:22px}
h2{font-size:17px;margin:26px 0 10px}
.meta{margin:0;color:var(--muted)}
main{padding:0 28px 40px}
.cards{display:flex;flex-wrap:wrap;gap:10px}
.card{min-width:110px;padding:10px 14px;border:1px solid var(--line);border-left:5px solid var(--info);border-radius:6px;background:var(--soft);display:flex;flex-direction:column}
.card .n{font-size:26px;font-weight:700;line-height:1.1}
.card .l{color:var(--muted);text-transform:capitalize}
.card .s{color:var(--muted);font-size:12px}
.card.total{border-left-color:var(--fg)}
.card.sev-critical{border-left-color:var(--critical)}
.card.sev-high{border-left-color:var(--high)}
.card.sev-medium{border-left-color:var(--medium)}
.card.sev-low{border-left-color:var(--low)}
.card.sev-info{border-left-color:var(--info)}
.notes{color:var(--muted);padding-left:18px}
table{border-collapse:collapse}
.counts{margin-top:14px}
.counts th,.counts td{padding:4px 10px;border-bottom:1px solid var(--line);text-align:left}
.counts code{color:var(--muted);font-size:12px}
.num{text-align:right!important;font-variant-numeric:tabular-nums}
.zero{color:#b8c0c8}
svg.chart{max-width:100%;height:auto;font:12px system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif}
svg .label,svg .count,svg .legend{fill:var(--fg)}
svg .count{fill:var(--muted)}
.sev-critical{fill:var(--critical)}
.sev-high{fill:var(--high)}
.sev-medium{fill:var(--medium)}
.sev-low{fill:var(--low)}
.sev-info{fill:var(--info)}
.filters{display:flex;flex-wrap:wrap;gap:14px;align-items:center;margin-bottom:10px}
.filters input,.filters select{font:inherit;padding:3px 6px;border:1px solid var(--line);border-radius:4px}
.filters input{min-width:240px}
#shown{color:var(--muted)}
.findings{width:100%}
.findings th{position:sticky;top:0;background:var(--soft);border-bottom:2px solid var(--line);text-align:left;padding:0}
.findings th button{all:unset;display:block;width:100%;padding:6px 8px;cursor:pointer;font-weight:600;white-space:nowrap}
.findings th button:focus-visible{outline:2px solid var(--low)}
.findings th[aria-sort=ascending] button::after{content:" \25B2";color:var(--muted)}
.findings th[aria-sort=descending] button::after{content:" \25BC";color:var(--muted)}
.findings td{padding:5px 8px;border-bottom:1px solid var(--line);vertical-align:top;overflow-wrap:anywhere}
.findings td.ev{min-width:240px}
.findings td.id{font:11px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;word-break:break-all;min-width:9ch;max-width:13ch}
.findings td.fix{min-width:160px}
.findings td.subj{min-width:24ch}
.findings tr:hover td{background:var(--soft)}
.badge{display:inline-block;padding:0 7px;border-radius:9px;color:#fff;font-size:12px;font-weight:600}
.badge.sev-critical{background:var(--critical)}
.badge.sev-high{background:var(--high)}
.badge.sev-medium{background:var(--medium)}
.badge.sev-low{background:var(--low)}
.badge.sev-info{background:var(--info)}
@media print{.filters{display:none}.findings th{position:static}}
`

// pageJS sorts and filters the findings table and checks the summary's
// counts against the rows (body data-counts-ok), with no library.
const pageJS = `
(function () {
  "use strict";
  var table = document.getElementById("findings-table");
  var tbody = table.tBodies[0];
  var rows = Array.prototype.filter.call(tbody.rows, function (r) { return !r.classList.contains("empty"); });
  var headers = Array.prototype.slice.call(table.tHead.rows[0].cells);
  var fCat = document.getElementById("f-category");
  var fSev = document.getElementById("f-severity");
  var fText = document.getElementById("f-text");
  var shown = document.getElementById("shown");
  var texts = new Map();
  rows.forEach(function (r, i) { r.dataset.index = String(i); });

  function textOf(r) {
    var t = texts.get(r);
    if (t === undefined) { t = r.textContent.toLowerCase(); texts.set(r, t); }
    return t;
  }

  function applyFilter() {
    var c = fCat.value, s = fSev.value, q = fText.value.trim().toLowerCase(), n = 0;
    rows.forEach(function (r) {
      var ok = (!c || r.dataset.category === c) && (!s || r.dataset.severity === s) && (!q || textOf(r).indexOf(q) >= 0);
      r.hidden = !ok;
      if (ok) { n++; }
    });
    shown.dataset.shown = String(n);
    shown.textContent = n + " of " + rows.length + " findings shown";
  }

  var sortCol = 0, sortDir = 1;
  function sortBy(col) {
    var th = headers[col];
    var numeric = th.dataset.type === "number";
    sortDir = sortCol === col ? -sortDir : 1;
    sortCol = col;
    var keyed = rows.map(function (r) {
      var td = r.cells[col];
      var k = td.dataset.sort !== undefined ? td.dataset.sort : td.textContent;
      return { r: r, k: numeric ? Number(k) : k.toLowerCase(), i: Number(r.dataset.index) };
    });
    keyed.sort(function (a, b) {
      if (a.k < b.k) { return -sortDir; }
      if (a.k > b.k) { return sortDir; }
      return a.i - b.i;
    });
    var frag = document.createDocumentFragment();
    keyed.forEach(function (x) { frag.appendChild(x.r); });
    tbody.appendChild(frag);
    rows = keyed.map(function (x) { return x.r; });
    headers.forEach(function (h) { h.setAttribute("aria-sort", "none"); });
    th.setAttribute("aria-sort", sortDir > 0 ? "ascending" : "descending");
    table.dataset.sortKey = th.dataset.key;
    table.dataset.sortDir = sortDir > 0 ? "asc" : "desc";
  }

  headers.forEach(function (th, i) {
    th.querySelector("button").addEventListener("click", function () { sortBy(i); });
  });
  fCat.addEventListener("change", applyFilter);
  fSev.addEventListener("change", applyFilter);
  fText.addEventListener("input", applyFilter);

  // Check the summary against the rows: every count shown must agree.
  var byCat = {}, bySev = {}, byCell = {};
  rows.forEach(function (r) {
    var c = r.dataset.category, s = r.dataset.severity;
    byCat[c] = (byCat[c] || 0) + 1;
    bySev[s] = (bySev[s] || 0) + 1;
    byCell[c + "/" + s] = (byCell[c + "/" + s] || 0) + 1;
  });
  var ok = true;
  function check(sel, attr, counts) {
    document.querySelectorAll(sel).forEach(function (el) {
      if (Number(el.textContent) !== (counts[el.getAttribute(attr)] || 0)) { ok = false; el.classList.add("mismatch"); }
    });
  }
  check("[data-count-category]", "data-count-category", byCat);
  check("[data-count-severity]", "data-count-severity", bySev);
  check("[data-count-cell]", "data-count-cell", byCell);
  document.querySelectorAll("g.bar").forEach(function (g) {
    var sum = 0;
    g.querySelectorAll("rect[data-count]").forEach(function (el) { sum += Number(el.dataset.count); });
    if (sum !== (byCat[g.dataset.category] || 0)) { ok = false; }
  });
  if (Number(document.querySelector("[data-count-total]").textContent) !== rows.length) { ok = false; }
  applyFilter();
  document.body.dataset.countsOk = String(ok);
  document.body.dataset.ready = "true";
})();
`
