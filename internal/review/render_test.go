package review

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/hubspot"
)

// hostile is a report whose data tries to break out of every format.
func hostile() *Report {
	in := scenario()
	in.HubSpot.Users = append(in.HubSpot.Users,
		hubspot.User{ID: `h"><script>alert(1)</script>`, Email: "=cmd|' /C calc'!A0@evil.test", RoleID: "r1"},
		hubspot.User{ID: "h-ansi", Email: "\x1b[2Jtab\there\nnewline@example.com", RoleID: "r1"},
	)
	in.HubSpot.LastLogin[`h"><script>alert(1)</script>`] = testNow
	in.HubSpot.LastLogin["h-ansi"] = testNow
	return Run(in)
}

func TestWriteJSON(t *testing.T) {
	r := Run(scenario())
	var buf bytes.Buffer
	if err := WriteJSON(&buf, r); err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(&back, r) {
		t.Error("JSON does not round-trip")
	}
	for _, key := range []string{`"generated"`, `"findings"`, `"counts"`, `"bySeverity"`, `"summary"`, `"hubspotId"`, `"fix"`, `"action"`} {
		if !bytes.Contains(buf.Bytes(), []byte(key)) {
			t.Errorf("JSON lacks %s", key)
		}
	}
	// An empty report has an empty list, not null.
	buf.Reset()
	if err := WriteJSON(&buf, Run(Inputs{Now: testNow})); err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(buf.Bytes(), []byte(`"findings": []`)) {
		t.Errorf("empty report: %s", buf.String())
	}
}

func TestWriteCSV(t *testing.T) {
	r := hostile()
	var buf bytes.Buffer
	if err := WriteCSV(&buf, r); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(r.Findings)+1 {
		t.Fatalf("%d rows for %d findings", len(rows), len(r.Findings))
	}
	if !reflect.DeepEqual(rows[0], csvHeader()) {
		t.Errorf("header = %q", rows[0])
	}
	for i, f := range r.Findings {
		row := rows[i+1]
		if row[0] != f.Severity || row[1] != f.Category || row[6] != csvSafe(f.Evidence) {
			t.Errorf("row %d = %q for %+v", i, row, f)
		}
		if f.Fix != nil && (row[7] != f.Fix.Action || row[8] != f.Fix.Detail) {
			t.Errorf("row %d fix = %q %q", i, row[7], row[8])
		}
		for _, c := range row {
			if c != "" && strings.ContainsRune("=+-@\t\r", rune(c[0])) {
				t.Errorf("row %d: cell %q could run as a formula", i, c)
			}
		}
	}
	if !slicesContain(rows, "'=cmd|' /C calc'!A0@evil.test") {
		t.Error("the formula-like subject is not defused")
	}
}

func slicesContain(rows [][]string, cell string) bool {
	for _, r := range rows {
		for _, c := range r {
			if c == cell {
				return true
			}
		}
	}
	return false
}

func TestWriteTable(t *testing.T) {
	r := hostile()
	var buf bytes.Buffer
	if err := WriteTable(&buf, r); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if !strings.HasPrefix(out, "Access review, 2026-06-01T12:00:00Z\n") {
		t.Errorf("table starts with %q", out[:60])
	}
	for _, s := range []string{
		"Reviewed: 26 HubSpot users, 22 bridge users, 15 directory users; 3 super admins; dormant after 60 days",
		"Findings: 30 (critical 6, high 7, medium 11, low 3, info 3); 17 with a fix",
		"SEVERITY  CATEGORY",
	} {
		if !strings.Contains(out, s) {
			t.Errorf("table lacks %q:\n%s", s, out)
		}
	}
	if strings.ContainsAny(out, "\x1b\t\r") {
		t.Error("control characters reach the terminal")
	}
	// Summary first, then the category matrix, then the findings.
	if i, j := strings.Index(out, "Findings:"), strings.Index(out, "SEVERITY"); i < 0 || j < i {
		t.Error("summary is not first")
	}
	lines := strings.Split(strings.TrimSpace(out[strings.Index(out, "SEVERITY"):]), "\n")
	if len(lines) != len(r.Findings)+1 {
		t.Errorf("%d finding lines for %d findings", len(lines)-1, len(r.Findings))
	}
	// Aligned: the CATEGORY column starts at the same offset on every line.
	col := strings.Index(lines[0], "CATEGORY")
	for _, l := range lines[1:] {
		if l[col-1] != ' ' || l[col] == ' ' {
			t.Errorf("misaligned line %q", l)
			break
		}
	}
	buf.Reset()
	if err := WriteTable(&buf, Run(Inputs{Now: testNow})); err != nil || !strings.Contains(buf.String(), "No findings.") {
		t.Errorf("empty report: %v %s", err, buf.String())
	}
}

func TestWriteHTML(t *testing.T) {
	r := hostile()
	var buf bytes.Buffer
	if err := WriteHTML(&buf, r, `Review <b>&</b> "quarterly"`); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	if strings.Contains(page, "<script>alert(1)") || strings.Contains(page, `<b>&</b>`) {
		t.Error("data is not escaped")
	}
	if !strings.Contains(page, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Error("hostile id not shown escaped")
	}
	// Self-contained: no URL of any kind, no external reference.
	if m := regexp.MustCompile(`(?i)(https?:|//[a-z]|src=|href=|@import|url\()`).FindString(page); m != "" {
		t.Errorf("page references something external: %q", m)
	}
	// The CSP allows exactly the page's style and script, by hash, and the
	// blocks are emitted byte for byte.
	style := between(t, page, "<style>", "</style>")
	script := between(t, page, "<script>", "</script>")
	if strings.Count(page, "<script") != 1 || strings.Count(page, "<style") != 1 {
		t.Error("more than one script or style block")
	}
	csp := between(t, page, `http-equiv="Content-Security-Policy" content="`, `"`)
	for _, want := range []string{"default-src 'none'", "style-src " + sha(style), "script-src " + sha(script), "connect-src 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(page, ` style="`) {
		t.Error("inline style attributes would be blocked by the CSP")
	}
	// Counts rendered for every category and severity.
	for c, n := range r.Counts {
		if !strings.Contains(page, `data-count-category="`+c+`">`+itoa(n)+`<`) {
			t.Errorf("count of %s not shown as %d", c, n)
		}
	}
	for s, n := range r.BySeverity {
		if !strings.Contains(page, `data-count-severity="`+s+`">`+itoa(n)+`<`) {
			t.Errorf("count of %s not shown as %d", s, n)
		}
	}
	if got := strings.Count(page, "<tr data-category="); got != len(r.Findings)+len(Categories()) {
		t.Errorf("%d rows, want %d findings + %d categories", got, len(r.Findings), len(Categories()))
	}
	if got := strings.Count(page, `<rect class="seg `); got != countNonZeroCells(r) {
		t.Errorf("%d chart bars, want %d", got, countNonZeroCells(r))
	}
	buf.Reset()
	if err := WriteHTML(&buf, Run(Inputs{Now: testNow}), ""); err != nil || !strings.Contains(buf.String(), "No findings.") ||
		!strings.Contains(buf.String(), "<title>scimbridge access review</title>") {
		t.Errorf("empty report: %v", err)
	}
}

func countNonZeroCells(r *Report) int {
	n := 0
	for _, m := range severityMatrix(r) {
		for _, c := range m {
			if c > 0 {
				n++
			}
		}
	}
	return n
}

func itoa(n int) string { return strconv.Itoa(n) }

func sha(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}

func between(t *testing.T, s, a, b string) string {
	t.Helper()
	i := strings.Index(s, a)
	if i < 0 {
		t.Fatalf("no %q", a)
	}
	s = s[i+len(a):]
	j := strings.Index(s, b)
	if j < 0 {
		t.Fatalf("no %q after %q", b, a)
	}
	return s[:j]
}
