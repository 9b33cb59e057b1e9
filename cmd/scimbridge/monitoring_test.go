package main

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

var metricName = regexp.MustCompile(`\bscimbridge_[a-z0-9_]+\b`)

// exposedMetrics collects the metric names the bridge's code registers:
// every string literal of the module's non-test Go files that is a whole
// scimbridge_* name.
func exposedMetrics(t *testing.T) map[string]bool {
	t.Helper()
	names := map[string]bool{}
	fset := token.NewFileSet()
	err := filepath.WalkDir("../..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if n := d.Name(); path != "../.." && (strings.HasPrefix(n, ".") || n == "testdata" || n == "vendor") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
				if v, err := strconv.Unquote(lit.Value); err == nil && metricName.FindString(v) == v {
					names[v] = true
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(names) < 10 {
		t.Fatalf("found only %d metric names in the code: %v", len(names), names)
	}
	return names
}

// checkMetrics fails for each scimbridge_* name in expr the bridge does
// not expose (a histogram's _bucket, _sum and _count series count as its
// name), and when expr names none.
func checkMetrics(t *testing.T, where, expr string, exposed map[string]bool) {
	t.Helper()
	found := metricName.FindAllString(expr, -1)
	if len(found) == 0 {
		t.Errorf("%s: %q names no scimbridge metric", where, expr)
	}
	for _, name := range found {
		base := name
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			if b, ok := strings.CutSuffix(name, suffix); ok && exposed[b] {
				base = b
			}
		}
		if !exposed[base] {
			t.Errorf("%s: %s is not a metric the bridge exposes", where, name)
		}
	}
	if strings.Count(expr, "(") != strings.Count(expr, ")") || strings.Count(expr, "{") != strings.Count(expr, "}") {
		t.Errorf("%s: unbalanced brackets in %q", where, expr)
	}
}

// TestAlertRules checks docs/alerts.yml: the Prometheus rule file format
// (groups of named rules, each an alert with an expression, a duration,
// a severity and a summary) and that every expression queries metrics the
// bridge exposes.
func TestAlertRules(t *testing.T) {
	raw, err := os.ReadFile("../../docs/alerts.yml")
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Groups []struct {
			Name  string `yaml:"name"`
			Rules []struct {
				Alert       string            `yaml:"alert"`
				Record      string            `yaml:"record"`
				Expr        string            `yaml:"expr"`
				For         string            `yaml:"for"`
				Labels      map[string]string `yaml:"labels"`
				Annotations map[string]string `yaml:"annotations"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	dec := yaml.NewDecoder(strings.NewReader(string(raw)))
	dec.KnownFields(true)
	if err := dec.Decode(&file); err != nil {
		t.Fatalf("docs/alerts.yml: %v", err)
	}
	exposed := exposedMetrics(t)
	alerts := map[string]bool{}
	groups := map[string]bool{}
	used := map[string]bool{}
	for _, g := range file.Groups {
		if g.Name == "" || groups[g.Name] || len(g.Rules) == 0 {
			t.Errorf("group %q: empty, unnamed or repeated", g.Name)
		}
		groups[g.Name] = true
		for _, r := range g.Rules {
			where := g.Name + "/" + r.Alert
			if r.Alert == "" || r.Record != "" || alerts[r.Alert] {
				t.Errorf("%s: every rule is one alert, named once", where)
			}
			alerts[r.Alert] = true
			if r.For != "" {
				if _, err := time.ParseDuration(r.For); err != nil {
					t.Errorf("%s: for: %v", where, err)
				}
			}
			if s := r.Labels["severity"]; s != "critical" && s != "warning" {
				t.Errorf("%s: severity %q is not critical or warning", where, s)
			}
			if r.Annotations["summary"] == "" || r.Annotations["description"] == "" {
				t.Errorf("%s: needs a summary and a description", where)
			}
			checkMetrics(t, where, r.Expr, exposed)
			for _, m := range metricName.FindAllString(r.Expr, -1) {
				used[m] = true
			}
		}
	}
	// What operators must hear about has an alert.
	for _, m := range []string{
		"scimbridge_sweep_differences_total", "scimbridge_removal_verifications_total",
		"scimbridge_provisioning_oldest_pending_age_seconds", "scimbridge_hubspot_requests_total",
		"scimbridge_hubspot_daily_remaining", "scimbridge_hubspot_daily_paused",
		"scimbridge_reconcile_guarded", "scimbridge_sweep_guarded",
		"scimbridge_reconcile_last_run_timestamp_seconds", "scimbridge_sweep_last_run_timestamp_seconds",
		"scimbridge_directory_read_errors_total", "scimbridge_readiness",
	} {
		if !used[m] {
			t.Errorf("no alert uses %s", m)
		}
	}
}

// TestGrafanaDashboard checks docs/grafana-dashboard.json: importable
// (uid, title, the Prometheus data source as the ${DS_PROMETHEUS} input of
// every panel and query) and querying metrics the bridge exposes.
func TestGrafanaDashboard(t *testing.T) {
	raw, err := os.ReadFile("../../docs/grafana-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	type datasource struct{ Type, UID string }
	var dash struct {
		Inputs []struct {
			Name, Type, PluginID string
		} `json:"__inputs"`
		UID, Title    string
		SchemaVersion int
		Panels        []struct {
			ID         int
			Type       string
			Title      string
			Datasource *datasource
			GridPos    struct{ H, W, X, Y int }
			Targets    []struct {
				Expr       string
				RefID      string `json:"refId"`
				Datasource *datasource
			}
		}
		Templating struct {
			List []struct {
				Name       string
				Datasource *datasource
				Definition string
			}
		}
	}
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatalf("docs/grafana-dashboard.json: %v", err)
	}
	if dash.UID == "" || dash.Title == "" || dash.SchemaVersion == 0 {
		t.Fatalf("uid %q, title %q, schemaVersion %d", dash.UID, dash.Title, dash.SchemaVersion)
	}
	if len(dash.Inputs) != 1 || dash.Inputs[0].Name != "DS_PROMETHEUS" || dash.Inputs[0].Type != "datasource" || dash.Inputs[0].PluginID != "prometheus" {
		t.Fatalf("__inputs: %+v", dash.Inputs)
	}
	want := datasource{Type: "prometheus", UID: "${DS_PROMETHEUS}"}
	exposed := exposedMetrics(t)
	ids := map[int]bool{}
	queries := 0
	for _, p := range dash.Panels {
		if ids[p.ID] || p.ID == 0 {
			t.Errorf("panel %q: id %d is not unique", p.Title, p.ID)
		}
		ids[p.ID] = true
		if p.GridPos.W <= 0 || p.GridPos.H <= 0 || p.GridPos.X+p.GridPos.W > 24 {
			t.Errorf("panel %q: gridPos %+v", p.Title, p.GridPos)
		}
		if p.Type == "row" {
			continue
		}
		if p.Datasource == nil || *p.Datasource != want {
			t.Errorf("panel %q: datasource %+v, want %+v", p.Title, p.Datasource, want)
		}
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		var refs []string
		for _, q := range p.Targets {
			queries++
			if q.Datasource == nil || *q.Datasource != want {
				t.Errorf("panel %q: query datasource %+v", p.Title, q.Datasource)
			}
			if slices.Contains(refs, q.RefID) || q.RefID == "" {
				t.Errorf("panel %q: refId %q", p.Title, q.RefID)
			}
			refs = append(refs, q.RefID)
			checkMetrics(t, "panel "+p.Title, q.Expr, exposed)
		}
	}
	for _, v := range dash.Templating.List {
		if v.Datasource == nil || *v.Datasource != want {
			t.Errorf("variable %s: datasource %+v", v.Name, v.Datasource)
		}
		checkMetrics(t, "variable "+v.Name, v.Definition, exposed)
	}
	if queries < 20 {
		t.Errorf("only %d queries", queries)
	}
}
