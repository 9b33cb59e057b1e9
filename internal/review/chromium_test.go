//go:build unix

package review

// The HTML report opened in headless Chromium (Debian's chromium package),
// driven through the DevTools protocol with github.com/chromedp/chromedp. The
// test records every console error, uncaught exception and browser log error
// (CSP violations, failed loads), reads the rendered counts back from the
// DOM, clicks the table headers with real mouse events and types into the
// filter box.
//
// SCIMBRIDGE_REQUIRE_CHROMIUM=1 (set by CI) turns a missing browser into a
// failure; otherwise the test is skipped with a message.
// SCIMBRIDGE_CHROMIUM names another browser binary.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// findChromium returns the browser's path (SCIMBRIDGE_CHROMIUM when set,
// else chromium on the PATH or /usr/bin/chromium), failing or skipping the
// test when there is none.
func findChromium(t *testing.T) string {
	t.Helper()
	if p, ok := os.LookupEnv("SCIMBRIDGE_CHROMIUM"); ok {
		if fileExists(p) {
			return p
		}
	} else {
		for _, name := range []string{"chromium", "chromium-browser"} {
			if p, err := exec.LookPath(name); err == nil {
				return p
			}
		}
		if p := "/usr/bin/chromium"; fileExists(p) {
			return p
		}
	}
	if os.Getenv("SCIMBRIDGE_REQUIRE_CHROMIUM") == "1" {
		t.Fatal("chromium is required (SCIMBRIDGE_REQUIRE_CHROMIUM=1) but not installed: apt-get install -y chromium")
	}
	t.Skip("chromium not installed (apt-get install -y chromium); set SCIMBRIDGE_REQUIRE_CHROMIUM=1 to make this a failure")
	return ""
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}

// browser is one tab of a headless Chromium under chromedp's control.
type browser struct {
	ctx    context.Context // the tab, bounded by the test's timeout
	output *lockedBuffer   // the browser's stdout and stderr

	mu       sync.Mutex
	problems []string // console errors, exceptions, log errors
}

// startBrowser starts Chromium with a blank tab and records what the page
// reports from then on. The browser is stopped when the test ends.
func startBrowser(t *testing.T, timeout time.Duration) *browser {
	t.Helper()
	bin := findChromium(t)
	b := &browser{output: &lockedBuffer{}}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(bin),
		// Containers and CI run the tests as root, where Chromium's sandbox
		// refuses to start.
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("mute-audio", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.WindowSize(1400, 1000),
		chromedp.CombinedOutput(b.output),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	tab, cancelTab := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc() // kills the browser and waits for it
	})
	// The first action starts the browser, which lives as long as tab: it
	// must run without the timeout.
	if err := chromedp.Do(tab); err != nil {
		t.Fatalf("starting %s: %v; output: %s", bin, err, b.output.tail())
	}
	// Listen calls record before the command that follows an event returns,
	// so a problem the page reports is recorded by the next action's end.
	if err := chromedp.Listen(tab, b.record); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(tab, timeout)
	t.Cleanup(cancel)
	b.ctx = ctx
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1400, 1000)); err != nil {
		t.Fatal(err)
	}
	return b
}

// lockedBuffer collects the browser's output for error messages.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *lockedBuffer) tail() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.buf.String()
	return s[max(0, len(s)-2000):]
}

// record keeps what the page reports: console errors and assertions,
// uncaught exceptions and browser log errors. It runs on chromedp's reading
// goroutine, so it only formats and appends.
func (b *browser) record(ev any) {
	var problem string
	switch ev := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeAssert {
			var parts []string
			for _, a := range ev.Args {
				parts = append(parts, string(a.Value)+a.Description)
			}
			problem = "console." + string(ev.Type) + ": " + strings.Join(parts, " ")
		}
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		problem = "exception: " + d.Text
		if d.Exception != nil {
			problem += " " + d.Exception.Description
		}
	case *log.EventEntryAdded:
		if e := ev.Entry; e != nil && e.Level == log.EntryLevelError {
			problem = fmt.Sprintf("log error (%s): %s %s", e.Source, e.Text, e.URL)
		}
	}
	if problem != "" {
		b.mu.Lock()
		b.problems = append(b.problems, problem)
		b.mu.Unlock()
	}
}

func (b *browser) takeProblems() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	p := b.problems
	b.problems = nil
	return p
}

// fail ends the test with err and what the browser said.
func (b *browser) fail(t *testing.T, what string, err error) {
	t.Helper()
	t.Fatalf("%s: %v; problems: %q; browser output: %s", what, err, b.takeProblems(), b.output.tail())
}

// open loads the file at path and waits for its load event.
func (b *browser) open(t *testing.T, path string) {
	t.Helper()
	u := url.URL{Scheme: "file", Path: path}
	if err := chromedp.Do(b.ctx, chromedp.Navigate(u.String())); err != nil {
		b.fail(t, "navigating to "+u.String(), err)
	}
	if href := eval[string](t, b, `location.href`); href != u.String() {
		t.Fatalf("loaded %s, want %s", href, u.String())
	}
}

// eval evaluates a JavaScript expression in the page, awaiting a promise,
// and decodes its JSON-able value.
func eval[T any](t *testing.T, b *browser, expr string) T {
	t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		b.fail(t, fmt.Sprintf("evaluating %q", expr), err)
	}
	return v
}

// click scrolls the element into view and clicks its centre with real
// mouse events, checking that the point hits the element.
func (b *browser) click(t *testing.T, selector string) {
	t.Helper()
	sel, _ := json.Marshal(selector)
	pt := eval[struct {
		X   float64 `json:"x"`
		Y   float64 `json:"y"`
		Hit bool    `json:"hit"`
	}](t, b, fmt.Sprintf(`(() => {
		const el = document.querySelector(%s);
		el.scrollIntoView({block: "center"});
		const r = el.getBoundingClientRect();
		const x = r.left + r.width / 2, y = r.top + r.height / 2;
		const at = document.elementFromPoint(x, y);
		return {x: x, y: y, hit: at === el || el.contains(at)};
	})()`, sel))
	if !pt.Hit {
		t.Fatalf("%s is covered at (%v, %v)", selector, pt.X, pt.Y)
	}
	if err := chromedp.Do(b.ctx, chromedp.MouseEvent(chromedp.MouseMoved, pt.X, pt.Y), chromedp.MouseClickXY(pt.X, pt.Y)); err != nil {
		b.fail(t, "clicking "+selector, err)
	}
}

// insertText types text into the focused element.
func (b *browser) insertText(t *testing.T, text string) {
	t.Helper()
	if _, err := chromedp.Call(b.ctx, input.InsertText, input.InsertTextParams{Text: text}); err != nil {
		b.fail(t, "typing "+text, err)
	}
}

// waitReady waits until the page's script has run.
func (b *browser) waitReady(t *testing.T) {
	t.Helper()
	_, err := chromedp.Run(b.ctx, chromedp.Poll[bool](`document.body !== null && document.body.dataset.ready === "true"`,
		chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(0)))
	if err != nil {
		b.fail(t, "the page's script never finished", err)
	}
}

// tableState is what the findings table shows.
type tableState struct {
	SortKey  string     `json:"sortKey"`
	SortDir  string     `json:"sortDir"`
	AriaSort []string   `json:"ariaSort"`
	Shown    string     `json:"shown"`
	Visible  [][]string `json:"visible"` // severity, category, subject, rank
	Hidden   int        `json:"hidden"`
}

const readTable = `(() => {
	const t = document.getElementById("findings-table");
	const rows = Array.from(t.tBodies[0].rows).filter(r => !r.classList.contains("empty"));
	return {
		sortKey: t.dataset.sortKey || "", sortDir: t.dataset.sortDir || "",
		ariaSort: Array.from(t.tHead.rows[0].cells).map(th => th.getAttribute("aria-sort")),
		shown: document.getElementById("shown").dataset.shown,
		visible: rows.filter(r => !r.hidden).map(r => [r.dataset.severity, r.dataset.category, r.cells[2].textContent, r.cells[0].dataset.sort]),
		hidden: rows.filter(r => r.hidden).length,
	};
})()`

func TestHTMLInChromium(t *testing.T) {
	b := startBrowser(t, 90*time.Second)

	r := hostile()
	path := filepath.Join(t.TempDir(), "review.html")
	var buf bytes.Buffer
	if err := WriteHTML(&buf, r, "Access review <test>"); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	b.open(t, path)
	b.waitReady(t)

	// What the page shows, read back from the DOM.
	type pageCounts struct {
		CountsOk   string         `json:"countsOk"`
		Title      string         `json:"title"`
		Total      int            `json:"total"`
		Rows       int            `json:"rows"`
		ByCategory map[string]int `json:"byCategory"`
		BySeverity map[string]int `json:"bySeverity"`
		Chart      map[string]int `json:"chart"`
		Cards      map[string]int `json:"cards"`
		Script     bool           `json:"script"`
	}
	shown := eval[pageCounts](t, b, `(() => {
		const num = el => Number(el.textContent.trim());
		const byCategory = {}, bySeverity = {}, chart = {}, cards = {};
		document.querySelectorAll("#counts [data-count-category]").forEach(el => byCategory[el.dataset.countCategory] = num(el));
		document.querySelectorAll("[data-count-severity]").forEach(el => cards[el.dataset.countSeverity] = num(el));
		document.querySelectorAll("#counts thead th.num").forEach((th, i) => {
			if (i === 0) return;
			let sum = 0;
			document.querySelectorAll("#counts tbody tr").forEach(tr => sum += num(tr.cells[i + 1]));
			bySeverity[th.textContent.trim()] = sum;
		});
		document.querySelectorAll("svg.chart g.bar").forEach(g => {
			let sum = 0;
			g.querySelectorAll("rect[data-count]").forEach(rc => { if (rc.getBBox().width > 0) sum += Number(rc.dataset.count); });
			chart[g.dataset.category] = sum;
		});
		return {
			countsOk: document.body.dataset.countsOk, title: document.title,
			total: num(document.querySelector("[data-count-total]")),
			rows: document.querySelectorAll("#findings-table tbody tr[data-category]").length,
			byCategory, bySeverity, chart, cards,
			script: document.querySelectorAll("script").length === 1,
		};
	})()`)
	if shown.CountsOk != "true" {
		t.Errorf("the page's own check of its counts against its rows failed (%q)", shown.CountsOk)
	}
	if shown.Title != "Access review <test>" {
		t.Errorf("title = %q", shown.Title)
	}
	if shown.Total != len(r.Findings) || shown.Rows != len(r.Findings) {
		t.Errorf("page shows %d findings in %d rows, report has %d", shown.Total, shown.Rows, len(r.Findings))
	}
	for name, m := range map[string]map[string]int{"summary table": shown.ByCategory, "chart": shown.Chart} {
		if !equalCounts(m, r.Counts) {
			t.Errorf("%s shows %v, report counts %v", name, m, r.Counts)
		}
	}
	for name, m := range map[string]map[string]int{"summary columns": shown.BySeverity, "cards": shown.Cards} {
		if !equalCounts(m, r.BySeverity) {
			t.Errorf("%s show %v, report by severity %v", name, m, r.BySeverity)
		}
	}
	if !shown.Script {
		t.Error("the hostile data injected a script element")
	}

	st := eval[tableState](t, b, readTable)
	if st.Shown != fmt.Sprint(len(r.Findings)) || len(st.Visible) != len(r.Findings) || st.Hidden != 0 {
		t.Fatalf("before any click: %+v", st)
	}

	// Click "Subject": ascending by subject; again: descending.
	b.click(t, `#findings-table th[data-key="subject"] button`)
	st = eval[tableState](t, b, readTable)
	if st.SortKey != "subject" || st.SortDir != "asc" || st.AriaSort[2] != "ascending" || st.AriaSort[0] != "none" {
		t.Errorf("after clicking Subject: key %q dir %q aria %q", st.SortKey, st.SortDir, st.AriaSort)
	}
	subjects := column(st.Visible, 2)
	if !slices.IsSortedFunc(subjects, func(a, b string) int { return strings.Compare(strings.ToLower(a), strings.ToLower(b)) }) {
		t.Errorf("not sorted by subject: %q", subjects)
	}
	b.click(t, `#findings-table th[data-key="subject"] button`)
	st = eval[tableState](t, b, readTable)
	desc := column(st.Visible, 2)
	if st.SortDir != "desc" || st.AriaSort[2] != "descending" ||
		!slices.IsSortedFunc(desc, func(a, b string) int { return strings.Compare(strings.ToLower(b), strings.ToLower(a)) }) {
		t.Errorf("second click on Subject: dir %q, subjects %q", st.SortDir, desc)
	}

	// Click "Severity": most severe first (by rank, not alphabetically).
	b.click(t, `#findings-table th[data-key="severity"] button`)
	st = eval[tableState](t, b, readTable)
	ranks := column(st.Visible, 3)
	if st.SortKey != "severity" || st.SortDir != "asc" || !slices.IsSorted(ranks) || st.Visible[0][0] != SevCritical || st.Visible[len(st.Visible)-1][0] != SevInfo {
		t.Errorf("after clicking Severity: %q %q %q", st.SortKey, st.SortDir, ranks)
	}

	// Type into the filter box.
	b.click(t, `#f-text`)
	b.insertText(t, "PEGGY")
	st = eval[tableState](t, b, readTable)
	wantPeggy := 0
	for _, f := range r.Findings {
		if strings.Contains(strings.ToLower(f.Subject+f.Evidence), "peggy") {
			wantPeggy++
		}
	}
	if st.Shown != fmt.Sprint(wantPeggy) || len(st.Visible) != wantPeggy || st.Hidden != len(r.Findings)-wantPeggy {
		t.Errorf("filter peggy: shown %s, %d visible, %d hidden; want %d", st.Shown, len(st.Visible), st.Hidden, wantPeggy)
	}
	// Clear the text; choose a severity and a category.
	eval[chromedp.Void](t, b, `(() => { const i = document.getElementById("f-text"); i.value = ""; i.dispatchEvent(new Event("input")); return true; })()`)
	eval[chromedp.Void](t, b, `(() => { const s = document.getElementById("f-severity"); s.value = "critical"; s.dispatchEvent(new Event("change")); return true; })()`)
	st = eval[tableState](t, b, readTable)
	if st.Shown != fmt.Sprint(r.BySeverity[SevCritical]) {
		t.Errorf("severity filter: %s shown, want %d", st.Shown, r.BySeverity[SevCritical])
	}
	eval[chromedp.Void](t, b, `(() => { const s = document.getElementById("f-severity"); s.value = ""; s.dispatchEvent(new Event("change"));
		const c = document.getElementById("f-category"); c.value = "sso-readiness"; c.dispatchEvent(new Event("change")); return true; })()`)
	st = eval[tableState](t, b, readTable)
	if st.Shown != fmt.Sprint(r.Counts[CatSSOReadiness]) {
		t.Errorf("category filter: %s shown, want %d", st.Shown, r.Counts[CatSSOReadiness])
	}
	for _, row := range st.Visible {
		if row[1] != CatSSOReadiness {
			t.Errorf("category filter shows %q", row)
		}
	}

	if p := b.takeProblems(); len(p) > 0 {
		t.Errorf("the page reported errors:\n%s", strings.Join(p, "\n"))
	}
}

// TestChromiumHarnessSeesErrors: the harness catches an exception, a
// console error and a CSP violation, so a clean run means something.
func TestChromiumHarnessSeesErrors(t *testing.T) {
	b := startBrowser(t, 60*time.Second)
	page := `<!DOCTYPE html><html><head><meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'sha256-` +
		`AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA='"><title>t</title></head><body>
<script>document.body.dataset.ran = "yes";</script></body></html>`
	path := filepath.Join(t.TempDir(), "bad.html")
	if err := os.WriteFile(path, []byte(page), 0o600); err != nil {
		t.Fatal(err)
	}
	b.open(t, path)
	eval[chromedp.Void](t, b, `setTimeout(() => { console.error("deliberate"); }, 0); setTimeout(() => { throw new Error("boom"); }, 0); true`)
	ran := eval[string](t, b, `new Promise(r => setTimeout(() => r(document.body.dataset.ran || "no"), 200))`)
	if ran != "no" {
		t.Error("the CSP did not block an inline script without its hash")
	}
	problems := strings.Join(b.takeProblems(), "\n")
	t.Logf("harness saw:\n%s", problems)
	for _, want := range []string{"deliberate", "boom", "Content Security Policy"} {
		if !strings.Contains(problems, want) {
			t.Errorf("harness missed %q; it saw:\n%s", want, problems)
		}
	}
}

func column(rows [][]string, i int) []string {
	out := make([]string, len(rows))
	for j, r := range rows {
		out[j] = r[i]
	}
	return out
}

func equalCounts(a, b map[string]int) bool {
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	for k, v := range b {
		if a[k] != v {
			return false
		}
	}
	return true
}
