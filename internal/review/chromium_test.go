//go:build unix

package review

// The HTML report opened in headless Chromium (Debian's chromium package),
// driven through the DevTools protocol with the standard library only: the
// browser is started with --remote-debugging-pipe, so the protocol's JSON
// messages travel over two pipes (fd 3 in, fd 4 out, NUL-terminated)
// instead of a websocket. The test records every console error, uncaught
// exception and browser log error (CSP violations, failed loads), reads the
// rendered counts back from the DOM, clicks the table headers with real
// mouse events and types into the filter box.
//
// SCIMBRIDGE_REQUIRE_CHROMIUM=1 (set by CI) turns a missing browser into a
// failure; otherwise the test is skipped with a message.
// SCIMBRIDGE_CHROMIUM names another browser binary.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
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

// cdpMsg is one DevTools protocol message: a reply (ID set) or an event.
type cdpMsg struct {
	ID        int             `json:"id,omitempty"`
	Method    string          `json:"method,omitempty"`
	Params    json.RawMessage `json:"params,omitempty"`
	Result    json.RawMessage `json:"result,omitempty"`
	SessionID string          `json:"sessionId,omitempty"`
	Error     *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error,omitempty"`
}

// browser is a headless Chromium under DevTools control.
type browser struct {
	cmd     *exec.Cmd
	in      io.WriteCloser
	session string

	mu       sync.Mutex
	next     int
	pending  map[int]chan cdpMsg
	problems []string // console errors, exceptions, log errors
	loads    chan struct{}
	stderr   bytes.Buffer
	done     chan struct{}
}

func startBrowser(t *testing.T) *browser {
	t.Helper()
	bin := findChromium(t)
	profile := t.TempDir()
	toChrome, chromeIn, err := os.Pipe() // chrome reads fd 3
	if err != nil {
		t.Fatal(err)
	}
	chromeOut, fromChrome, err := os.Pipe() // chrome writes fd 4
	if err != nil {
		t.Fatal(err)
	}
	b := &browser{pending: map[int]chan cdpMsg{}, loads: make(chan struct{}, 16), done: make(chan struct{})}
	b.cmd = exec.Command(bin,
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-extensions", "--disable-default-apps", "--mute-audio", "--hide-scrollbars",
		"--remote-debugging-pipe", "--window-size=1400,1000",
		"--user-data-dir="+profile, "about:blank")
	b.cmd.ExtraFiles = []*os.File{toChrome, fromChrome}
	b.cmd.Stderr = &lockedWriter{mu: &b.mu, w: &b.stderr}
	b.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // its helpers die with it
	if err := b.cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", bin, err)
	}
	toChrome.Close()
	fromChrome.Close()
	b.in = chromeIn
	t.Cleanup(func() {
		b.in.Close()
		pgid := b.cmd.Process.Pid
		_ = syscall.Kill(-pgid, syscall.SIGKILL) // the browser's own process group only
		_ = b.cmd.Wait()
		<-b.done
	})
	go b.read(chromeOut)
	return b
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func (b *browser) read(r io.ReadCloser) {
	defer close(b.done)
	defer r.Close()
	br := bufio.NewReaderSize(r, 1<<20)
	for {
		raw, err := br.ReadBytes(0)
		if err != nil {
			b.mu.Lock()
			for id, ch := range b.pending {
				close(ch)
				delete(b.pending, id)
			}
			b.mu.Unlock()
			return
		}
		var m cdpMsg
		if json.Unmarshal(raw[:len(raw)-1], &m) != nil {
			continue
		}
		if m.ID != 0 {
			b.mu.Lock()
			ch := b.pending[m.ID]
			delete(b.pending, m.ID)
			b.mu.Unlock()
			if ch != nil {
				ch <- m
			}
			continue
		}
		b.event(m)
	}
}

// event records what the page reports.
func (b *browser) event(m cdpMsg) {
	var problem string
	switch m.Method {
	case "Runtime.consoleAPICalled":
		var p struct {
			Type string `json:"type"`
			Args []struct {
				Value       any    `json:"value"`
				Description string `json:"description"`
			} `json:"args"`
		}
		_ = json.Unmarshal(m.Params, &p)
		if p.Type == "error" || p.Type == "assert" {
			var parts []string
			for _, a := range p.Args {
				parts = append(parts, fmt.Sprint(a.Value)+a.Description)
			}
			problem = "console." + p.Type + ": " + strings.Join(parts, " ")
		}
	case "Runtime.exceptionThrown":
		var p struct {
			ExceptionDetails struct {
				Text      string `json:"text"`
				Exception struct {
					Description string `json:"description"`
				} `json:"exception"`
			} `json:"exceptionDetails"`
		}
		_ = json.Unmarshal(m.Params, &p)
		problem = "exception: " + p.ExceptionDetails.Text + " " + p.ExceptionDetails.Exception.Description
	case "Log.entryAdded":
		var p struct {
			Entry struct {
				Level, Source, Text, URL string
			} `json:"entry"`
		}
		_ = json.Unmarshal(m.Params, &p)
		if p.Entry.Level == "error" {
			problem = fmt.Sprintf("log error (%s): %s %s", p.Entry.Source, p.Entry.Text, p.Entry.URL)
		}
	case "Page.loadEventFired":
		select {
		case b.loads <- struct{}{}:
		default:
		}
	}
	if problem != "" {
		b.mu.Lock()
		b.problems = append(b.problems, problem)
		b.mu.Unlock()
	}
}

// call sends one command (to the attached page unless browser-wide) and
// decodes its result.
func (b *browser) call(ctx context.Context, method string, params, result any) error {
	return b.callIn(ctx, b.session, method, params, result)
}

func (b *browser) callIn(ctx context.Context, session, method string, params, result any) error {
	b.mu.Lock()
	b.next++
	id := b.next
	ch := make(chan cdpMsg, 1)
	b.pending[id] = ch
	b.mu.Unlock()
	msg := map[string]any{"id": id, "method": method}
	if params != nil {
		msg["params"] = params
	}
	if session != "" {
		msg["sessionId"] = session
	}
	data, err := json.Marshal(msg)
	if err != nil {
		return err
	}
	if _, err := b.in.Write(append(data, 0)); err != nil {
		return fmt.Errorf("%s: %w", method, err)
	}
	select {
	case m, ok := <-ch:
		if !ok {
			return fmt.Errorf("%s: browser closed the pipe; stderr: %s", method, b.stderrTail())
		}
		if m.Error != nil {
			return fmt.Errorf("%s: %s (%d)", method, m.Error.Message, m.Error.Code)
		}
		if result != nil {
			return json.Unmarshal(m.Result, result)
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%s: %w; stderr: %s", method, ctx.Err(), b.stderrTail())
	}
}

func (b *browser) stderrTail() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.stderr.String()
	return s[max(0, len(s)-2000):]
}

func (b *browser) takeProblems() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	p := b.problems
	b.problems = nil
	return p
}

// open attaches to a new page and loads path, waiting for the load event.
func (b *browser) open(ctx context.Context, t *testing.T, path string) {
	t.Helper()
	var target struct {
		TargetID string `json:"targetId"`
	}
	if err := b.callIn(ctx, "", "Target.createTarget", map[string]any{"url": "about:blank"}, &target); err != nil {
		t.Fatal(err)
	}
	var att struct {
		SessionID string `json:"sessionId"`
	}
	if err := b.callIn(ctx, "", "Target.attachToTarget", map[string]any{"targetId": target.TargetID, "flatten": true}, &att); err != nil {
		t.Fatal(err)
	}
	b.session = att.SessionID
	for _, domain := range []string{"Runtime.enable", "Log.enable", "Page.enable"} {
		if err := b.call(ctx, domain, nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.call(ctx, "Emulation.setDeviceMetricsOverride", map[string]any{"width": 1400, "height": 1000, "deviceScaleFactor": 1, "mobile": false}, nil); err != nil {
		t.Fatal(err)
	}
	for len(b.loads) > 0 {
		<-b.loads
	}
	u := url.URL{Scheme: "file", Path: path}
	var nav struct {
		ErrorText string `json:"errorText"`
	}
	if err := b.call(ctx, "Page.navigate", map[string]any{"url": u.String()}, &nav); err != nil {
		t.Fatal(err)
	}
	if nav.ErrorText != "" {
		t.Fatalf("navigating to %s: %s", u.String(), nav.ErrorText)
	}
	select {
	case <-b.loads:
	case <-ctx.Done():
		t.Fatalf("no load event: %v", ctx.Err())
	}
	// The load event seen may have been about:blank's: wait for ours.
	want, _ := json.Marshal(u.String())
	for {
		var loaded bool
		b.eval(ctx, t, fmt.Sprintf(`location.href === %s && document.readyState === "complete"`, want), &loaded)
		if loaded {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s never finished loading: %v", u.String(), ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// eval evaluates a JavaScript expression in the page and decodes its
// JSON-able value into out.
func (b *browser) eval(ctx context.Context, t *testing.T, expr string, out any) {
	t.Helper()
	var res struct {
		Result struct {
			Type  string          `json:"type"`
			Value json.RawMessage `json:"value"`
		} `json:"result"`
		ExceptionDetails *struct {
			Text string `json:"text"`
		} `json:"exceptionDetails"`
	}
	if err := b.call(ctx, "Runtime.evaluate", map[string]any{"expression": expr, "returnByValue": true, "awaitPromise": true}, &res); err != nil {
		t.Fatal(err)
	}
	if res.ExceptionDetails != nil {
		t.Fatalf("evaluating %q: %s", expr, res.ExceptionDetails.Text)
	}
	if out != nil {
		if err := json.Unmarshal(res.Result.Value, out); err != nil {
			t.Fatalf("evaluating %q: %v (%s)", expr, err, res.Result.Value)
		}
	}
}

// click scrolls the element into view and clicks its centre with real
// mouse events, checking that the point hits the element.
func (b *browser) click(ctx context.Context, t *testing.T, selector string) {
	t.Helper()
	var pt struct {
		X, Y float64
		Hit  bool
	}
	sel, _ := json.Marshal(selector)
	b.eval(ctx, t, fmt.Sprintf(`(() => {
		const el = document.querySelector(%s);
		el.scrollIntoView({block: "center"});
		const r = el.getBoundingClientRect();
		const x = r.left + r.width / 2, y = r.top + r.height / 2;
		const at = document.elementFromPoint(x, y);
		return {x: x, y: y, hit: at === el || el.contains(at)};
	})()`, sel), &pt)
	if !pt.Hit {
		t.Fatalf("%s is covered at (%v, %v)", selector, pt.X, pt.Y)
	}
	for _, typ := range []string{"mouseMoved", "mousePressed", "mouseReleased"} {
		ev := map[string]any{"type": typ, "x": pt.X, "y": pt.Y}
		if typ != "mouseMoved" {
			ev["button"], ev["clickCount"] = "left", 1
		}
		if err := b.call(ctx, "Input.dispatchMouseEvent", ev, nil); err != nil {
			t.Fatal(err)
		}
	}
}

// waitReady waits until the page's script has run.
func (b *browser) waitReady(ctx context.Context, t *testing.T) {
	t.Helper()
	for {
		var ready bool
		b.eval(ctx, t, `document.body !== null && document.body.dataset.ready === "true"`, &ready)
		if ready {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the page's script never finished: %v; problems: %q", ctx.Err(), b.takeProblems())
		case <-time.After(50 * time.Millisecond):
		}
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
	b := startBrowser(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()

	r := hostile()
	path := filepath.Join(t.TempDir(), "review.html")
	var buf bytes.Buffer
	if err := WriteHTML(&buf, r, "Access review <test>"); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	b.open(ctx, t, path)
	b.waitReady(ctx, t)

	// What the page shows, read back from the DOM.
	var shown struct {
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
	b.eval(ctx, t, `(() => {
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
	})()`, &shown)
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

	var st tableState
	b.eval(ctx, t, readTable, &st)
	if st.Shown != fmt.Sprint(len(r.Findings)) || len(st.Visible) != len(r.Findings) || st.Hidden != 0 {
		t.Fatalf("before any click: %+v", st)
	}

	// Click "Subject": ascending by subject; again: descending.
	b.click(ctx, t, `#findings-table th[data-key="subject"] button`)
	b.eval(ctx, t, readTable, &st)
	if st.SortKey != "subject" || st.SortDir != "asc" || st.AriaSort[2] != "ascending" || st.AriaSort[0] != "none" {
		t.Errorf("after clicking Subject: key %q dir %q aria %q", st.SortKey, st.SortDir, st.AriaSort)
	}
	subjects := column(st.Visible, 2)
	if !slices.IsSortedFunc(subjects, func(a, b string) int { return strings.Compare(strings.ToLower(a), strings.ToLower(b)) }) {
		t.Errorf("not sorted by subject: %q", subjects)
	}
	b.click(ctx, t, `#findings-table th[data-key="subject"] button`)
	b.eval(ctx, t, readTable, &st)
	desc := column(st.Visible, 2)
	if st.SortDir != "desc" || st.AriaSort[2] != "descending" ||
		!slices.IsSortedFunc(desc, func(a, b string) int { return strings.Compare(strings.ToLower(b), strings.ToLower(a)) }) {
		t.Errorf("second click on Subject: dir %q, subjects %q", st.SortDir, desc)
	}

	// Click "Severity": most severe first (by rank, not alphabetically).
	b.click(ctx, t, `#findings-table th[data-key="severity"] button`)
	b.eval(ctx, t, readTable, &st)
	ranks := column(st.Visible, 3)
	if st.SortKey != "severity" || st.SortDir != "asc" || !slices.IsSorted(ranks) || st.Visible[0][0] != SevCritical || st.Visible[len(st.Visible)-1][0] != SevInfo {
		t.Errorf("after clicking Severity: %q %q %q", st.SortKey, st.SortDir, ranks)
	}

	// Type into the filter box.
	b.click(ctx, t, `#f-text`)
	if err := b.call(ctx, "Input.insertText", map[string]any{"text": "PEGGY"}, nil); err != nil {
		t.Fatal(err)
	}
	b.eval(ctx, t, readTable, &st)
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
	b.eval(ctx, t, `(() => { const i = document.getElementById("f-text"); i.value = ""; i.dispatchEvent(new Event("input")); return true; })()`, nil)
	b.eval(ctx, t, `(() => { const s = document.getElementById("f-severity"); s.value = "critical"; s.dispatchEvent(new Event("change")); return true; })()`, nil)
	b.eval(ctx, t, readTable, &st)
	if st.Shown != fmt.Sprint(r.BySeverity[SevCritical]) {
		t.Errorf("severity filter: %s shown, want %d", st.Shown, r.BySeverity[SevCritical])
	}
	b.eval(ctx, t, `(() => { const s = document.getElementById("f-severity"); s.value = ""; s.dispatchEvent(new Event("change"));
		const c = document.getElementById("f-category"); c.value = "sso-readiness"; c.dispatchEvent(new Event("change")); return true; })()`, nil)
	b.eval(ctx, t, readTable, &st)
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
	b := startBrowser(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	page := `<!DOCTYPE html><html><head><meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'sha256-` +
		`AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA='"><title>t</title></head><body>
<script>document.body.dataset.ran = "yes";</script></body></html>`
	path := filepath.Join(t.TempDir(), "bad.html")
	if err := os.WriteFile(path, []byte(page), 0o600); err != nil {
		t.Fatal(err)
	}
	b.open(ctx, t, path)
	b.eval(ctx, t, `setTimeout(() => { console.error("deliberate"); }, 0); setTimeout(() => { throw new Error("boom"); }, 0); true`, nil)
	var ran string
	b.eval(ctx, t, `new Promise(r => setTimeout(() => r(document.body.dataset.ran || "no"), 200))`, &ran)
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
