package review

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"html/template"
	"io"
	"strconv"
	"time"
)

// WriteHTML writes the report as one self-contained HTML page: inline CSS
// and JavaScript only (a Content-Security-Policy meta tag allows exactly
// those two blocks, by hash, and nothing else: no network, no fonts, no
// images from anywhere), with a summary (counts by category and severity),
// an inline SVG chart of the counts drawn here, and a table of findings
// that sorts on a header click and filters by category, severity and
// text. Without JavaScript the page still shows everything, unsorted.
// Every value is escaped by html/template.
func WriteHTML(w io.Writer, r *Report, title string) error {
	if title == "" {
		title = "scimbridge access review"
	}
	v := htmlView{
		Title:     title,
		CSS:       template.CSS(pageCSS),
		JS:        template.JS(pageJS),
		CSP:       template.HTML(cspMeta()),
		Generated: r.Generated.UTC().Format(time.RFC3339),
		Report:    r,
		Total:     len(r.Findings),
	}
	matrix := severityMatrix(r)
	for _, s := range Severities() {
		v.Severities = append(v.Severities, sevCount{Severity: s, Count: r.BySeverity[s]})
	}
	maxTotal := 0
	for _, c := range Categories() {
		maxTotal = max(maxTotal, r.Counts[c])
	}
	const labelW, barW, rowH = 230, 520, 26
	v.Chart.Width = labelW + barW + 60
	for i, c := range Categories() {
		row := catRow{Category: c, Title: CategoryTitle(c), Total: r.Counts[c], Y: 10 + i*rowH}
		row.TextY = row.Y + 13
		row.CountX = labelW + 8
		x := float64(labelW)
		for _, s := range Severities() {
			n := matrix[c][s]
			row.Cells = append(row.Cells, sevCount{Severity: s, Count: n})
			if n == 0 || maxTotal == 0 {
				continue
			}
			wd := float64(n) / float64(maxTotal) * barW
			row.Segs = append(row.Segs, seg{
				Severity: s, Count: n, X: fmtF(x), W: fmtF(max(wd, 1)),
				Label: fmt.Sprintf("%s, %s: %d", CategoryTitle(c), s, n), Y: row.Y,
			})
			x += wd
		}
		row.CountX = int(x) + 8
		v.Rows = append(v.Rows, row)
	}
	v.Chart.Height = 10 + len(v.Rows)*rowH + 34
	v.Chart.LegendY = 10 + len(v.Rows)*rowH + 14
	for i, s := range Severities() {
		v.Chart.Legend = append(v.Chart.Legend, legendItem{Severity: s, X: labelW + i*104, TextX: labelW + i*104 + 16})
	}
	v.Findings = make([]findingView, len(r.Findings))
	for i, f := range r.Findings {
		fv := findingView{Finding: f, Rank: SeverityRank(f.Severity), CatRank: categoryRank(f.Category), CatTitle: CategoryTitle(f.Category)}
		if f.Fix != nil {
			fv.FixAction, fv.FixDetail = f.Fix.Action, f.Fix.Detail
		}
		v.Findings[i] = fv
	}
	return htmlTemplate.Execute(w, v)
}

func fmtF(f float64) string { return strconv.FormatFloat(f, 'f', 2, 64) }

// cspMeta is the policy: nothing may load, only the page's own style and
// script blocks (by hash) run.
func cspMeta() string {
	hash := func(s string) string {
		sum := sha256.Sum256([]byte(s))
		return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
	}
	return `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src ` + hash(pageCSS) +
		`; script-src ` + hash(pageJS) + `; img-src 'none'; font-src 'none'; connect-src 'none'; base-uri 'none'; form-action 'none'">`
}

type htmlView struct {
	Title, Generated string
	CSS              template.CSS
	JS               template.JS
	CSP              template.HTML
	Report           *Report
	Total            int
	Severities       []sevCount
	Rows             []catRow
	Chart            struct {
		Width, Height, LegendY int
		Legend                 []legendItem
	}
	Findings []findingView
}

type sevCount struct {
	Severity string
	Count    int
}

type catRow struct {
	Category, Title string
	Total           int
	Cells           []sevCount
	Segs            []seg
	Y, TextY        int
	CountX          int
}

type seg struct {
	Severity, X, W, Label string
	Count, Y              int
}

type legendItem struct {
	Severity string
	X, TextX int
}

type findingView struct {
	Finding
	Rank, CatRank        int
	CatTitle             string
	FixAction, FixDetail string
}

// htmlTemplate is parsed once and never changed.
var htmlTemplate = template.Must(template.New("review").Parse(pageHTML))

const pageHTML = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
{{.CSP}}
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="scimbridge review">
<title>{{.Title}}</title>
<style>{{.CSS}}</style>
</head>
<body data-total="{{.Total}}">
<header>
<h1>{{.Title}}</h1>
<p class="meta">Generated <time datetime="{{.Generated}}">{{.Generated}}</time> ·
{{.Report.Summary.HubSpotUsers}} HubSpot users · {{.Report.Summary.BridgeUsers}} bridge users ·
{{if .Report.Summary.DirectoryConfigured}}{{.Report.Summary.DirectoryUsers}} directory users{{else}}no directory{{end}} ·
{{.Report.Summary.SuperAdmins}} super admins · dormant after {{.Report.Summary.DormantDays}} days</p>
</header>
<main>
<section id="summary" aria-labelledby="summary-h">
<h2 id="summary-h">Summary</h2>
<div class="cards">
<div class="card total"><span class="n" data-count-total>{{.Total}}</span><span class="l">findings</span><span class="s">{{.Report.Summary.Fixable}} with a fix</span></div>
{{range .Severities}}<div class="card sev-{{.Severity}}"><span class="n" data-count-severity="{{.Severity}}">{{.Count}}</span><span class="l">{{.Severity}}</span></div>
{{end}}</div>
{{with .Report.Summary.Notes}}<ul class="notes">{{range .}}<li>{{.}}</li>{{end}}</ul>{{end}}
<table id="counts" class="counts">
<thead><tr><th scope="col">Category</th><th scope="col" class="num">Total</th>{{range .Severities}}<th scope="col" class="num">{{.Severity}}</th>{{end}}</tr></thead>
<tbody>
{{range .Rows}}<tr data-category="{{.Category}}"><th scope="row">{{.Title}} <code>{{.Category}}</code></th><td class="num" data-count-category="{{.Category}}">{{.Total}}</td>{{$c := .Category}}{{range .Cells}}<td class="num{{if not .Count}} zero{{end}}" data-count-cell="{{$c}}/{{.Severity}}">{{.Count}}</td>{{end}}</tr>
{{end}}</tbody>
</table>
</section>
<section id="chart" aria-labelledby="chart-h">
<h2 id="chart-h">Findings by category and severity</h2>
<svg class="chart" width="{{.Chart.Width}}" height="{{.Chart.Height}}" viewBox="0 0 {{.Chart.Width}} {{.Chart.Height}}" role="img" aria-label="Findings by category, stacked by severity">
{{range .Rows}}<g class="bar" data-category="{{.Category}}" data-total="{{.Total}}">
<text class="label" x="222" y="{{.TextY}}" text-anchor="end">{{.Title}}</text>
{{range .Segs}}<rect class="seg sev-{{.Severity}}" x="{{.X}}" y="{{.Y}}" width="{{.W}}" height="18" data-severity="{{.Severity}}" data-count="{{.Count}}"><title>{{.Label}}</title></rect>
{{end}}<text class="count" x="{{.CountX}}" y="{{.TextY}}">{{.Total}}</text>
</g>
{{end}}{{range .Chart.Legend}}<rect class="sev-{{.Severity}}" x="{{.X}}" y="{{$.Chart.LegendY}}" width="12" height="12"></rect><text class="legend" x="{{.TextX}}" y="{{$.Chart.LegendY}}" dy="10">{{.Severity}}</text>
{{end}}</svg>
</section>
<section id="findings" aria-labelledby="findings-h">
<h2 id="findings-h">Findings</h2>
<div class="filters" role="search">
<label>Category <select id="f-category"><option value="">all</option>{{range .Rows}}<option value="{{.Category}}">{{.Title}} ({{.Total}})</option>{{end}}</select></label>
<label>Severity <select id="f-severity"><option value="">all</option>{{range .Severities}}<option value="{{.Severity}}">{{.Severity}} ({{.Count}})</option>{{end}}</select></label>
<label>Text <input id="f-text" type="search" placeholder="email, id, evidence…" autocomplete="off"></label>
<span id="shown" data-shown="{{.Total}}" aria-live="polite">{{.Total}} of {{.Total}} findings shown</span>
</div>
<table id="findings-table" class="findings">
<thead><tr>
<th scope="col" data-key="severity" data-type="number" aria-sort="ascending"><button type="button">Severity</button></th>
<th scope="col" data-key="category" data-type="number" aria-sort="none"><button type="button">Category</button></th>
<th scope="col" data-key="subject" aria-sort="none"><button type="button">Subject</button></th>
<th scope="col" data-key="hubspot" aria-sort="none"><button type="button">HubSpot id</button></th>
<th scope="col" data-key="bridge" aria-sort="none"><button type="button">Bridge id</button></th>
<th scope="col" data-key="external" aria-sort="none"><button type="button">External id</button></th>
<th scope="col" data-key="evidence" aria-sort="none"><button type="button">Evidence</button></th>
<th scope="col" data-key="fix" aria-sort="none"><button type="button">Fix</button></th>
</tr></thead>
<tbody>
{{range .Findings}}<tr data-category="{{.Category}}" data-severity="{{.Severity}}"><td data-sort="{{.Rank}}"><span class="badge sev-{{.Severity}}">{{.Severity}}</span></td><td data-sort="{{.CatRank}}" title="{{.Category}}">{{.CatTitle}}</td><td class="subj">{{.Subject}}</td><td class="id">{{.HubSpotID}}</td><td class="id">{{.BridgeID}}</td><td class="id">{{.ExternalID}}</td><td class="ev">{{.Evidence}}</td><td class="fix">{{if .FixAction}}<strong>{{.FixAction}}</strong> {{.FixDetail}}{{end}}</td></tr>
{{else}}<tr class="empty"><td colspan="8">No findings.</td></tr>
{{end}}</tbody>
</table>
</section>
</main>
<script>{{.JS}}</script>
</body>
</html>
`
