package admin_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/scimbridge/scimbridge/internal/admin"
	"github.com/scimbridge/scimbridge/internal/auth"
	"github.com/scimbridge/scimbridge/internal/health"
	"github.com/scimbridge/scimbridge/internal/provision"
	"github.com/scimbridge/scimbridge/internal/reconcile"
	"github.com/scimbridge/scimbridge/internal/store"
	"github.com/scimbridge/scimbridge/internal/store/sqlite"
	"github.com/scimbridge/scimbridge/schemas"
	"github.com/scimbridge/scimbridge/scim"
)

const (
	adminToken = "admin-token-0123456789abcdef"
	readToken  = "read-token-0123456789abcdef"
)

// front is the admin API mounted on a real SCIM front over a real socket,
// on a real SQLite store.
type front struct {
	t   *testing.T
	url string
	svc *provision.Service
}

func newFront(t *testing.T, d admin.Deps, tune func(*scim.Config, *admin.Deps, *provision.Service)) *front {
	t.Helper()
	cat := schemas.MustLoad()
	st, err := sqlite.Open(context.Background(), sqlite.Config{Path: filepath.Join(t.TempDir(), "test.db")}, cat)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	svc := provision.New(st, nil, zerolog.Nop())
	tokens, err := auth.NewStaticTokens([]auth.Token{
		{Name: "admin", Token: adminToken, Scopes: []string{schemas.ScopeRead, schemas.ScopeWrite, schemas.ScopeAdmin}},
		{Name: "reader", Token: readToken, Scopes: []string{schemas.ScopeRead}},
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(nil)
	cfg := scim.Config{BaseURL: "http://" + srv.Listener.Addr().String() + "/scim/v2"}
	if tune != nil {
		tune(&cfg, &d, svc)
	}
	reg := prometheus.NewRegistry()
	h, err := scim.New(cfg, scim.Deps{
		Users: svc, Groups: svc, Ready: svc, Auth: tokens, Catalog: cat, Log: zerolog.Nop(), Metrics: reg, Gatherer: reg,
		Mounts: []scim.Mount{{Pattern: admin.Prefix, Scope: schemas.ScopeAdmin, Handler: admin.New(d)}},
	})
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = h
	srv.Start()
	t.Cleanup(srv.Close)
	return &front{t: t, url: srv.URL, svc: svc}
}

// do sends a request and answers the status, headers and body.
func (f *front) do(method, path, token string, body string) (int, http.Header, string) {
	f.t.Helper()
	req, err := http.NewRequest(method, f.url+path, strings.NewReader(body))
	if err != nil {
		f.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/scim+json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		f.t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, string(raw)
}

// json is do with the body decoded.
func (f *front) json(method, path, token string) (int, map[string]any) {
	f.t.Helper()
	status, _, raw := f.do(method, path, token, "")
	var m map[string]any
	if err := json.Unmarshal([]byte(raw), &m); err != nil {
		f.t.Fatalf("%s %s: %d %q: %v", method, path, status, raw, err)
	}
	return status, m
}

// scimError checks a SCIM error body.
func scimError(t *testing.T, what string, status int, m map[string]any, want int, detail string) {
	t.Helper()
	schemasList, _ := m["schemas"].([]any)
	if status != want || m["status"] != itoa(want) || len(schemasList) != 1 || schemasList[0] != schemas.ErrorURI ||
		!strings.Contains(m["detail"].(string), detail) {
		t.Fatalf("%s: %d %v, want %d with %q", what, status, m, want, detail)
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

// TestAuthAndRouting: every endpoint needs the admin scope; unknown paths
// and methods are SCIM errors; a service not configured is a 404 that
// says so.
func TestAuthAndRouting(t *testing.T) {
	f := newFront(t, admin.Deps{}, nil)
	for _, p := range []string{"/audit", "/status", "/reconcile", "/provisioning", "/sweep", "/review", "/review/latest", "/nope"} {
		status, hdr, _ := f.do("GET", admin.Prefix+p, "", "")
		if status != 401 || hdr.Get("WWW-Authenticate") != `Bearer realm="scimbridge"` {
			t.Fatalf("GET %s without credentials: %d %v", p, status, hdr)
		}
		status, hdr, _ = f.do("GET", admin.Prefix+p, readToken, "")
		if status != 403 || !strings.Contains(hdr.Get("WWW-Authenticate"), `scope="`+schemas.ScopeAdmin+`"`) {
			t.Fatalf("GET %s with a read-only token: %d %v", p, status, hdr)
		}
	}
	for _, c := range []struct{ method, path, detail string }{
		{"GET", "/audit", "No audit trail is configured."},
		{"GET", "/status", "No health checks are configured."},
		{"GET", "/reconcile", "No directory is configured."},
		{"POST", "/reconcile", "No directory is configured."},
		{"GET", "/provisioning", "HubSpot provisioning is not configured."},
		{"POST", "/provisioning/u1/recreate", "HubSpot provisioning is not configured."},
		{"GET", "/sweep", "HubSpot provisioning is not configured."},
		{"POST", "/sweep", "HubSpot provisioning is not configured."},
		{"GET", "/review", "Access reviews need HubSpot provisioning"},
		{"GET", "/review/latest", "Access reviews need HubSpot provisioning"},
		{"GET", "/nope", "No such endpoint: /admin/v1/nope"},
		{"GET", "/debug/pprof/", "No such endpoint"},
	} {
		status, m := f.json(c.method, admin.Prefix+c.path, adminToken)
		scimError(t, c.method+" "+c.path, status, m, 404, c.detail)
	}
	status, m := f.json("DELETE", admin.Prefix+"/audit", adminToken)
	scimError(t, "DELETE /audit", status, m, 405, "DELETE is not allowed on /admin/v1/audit")
}

// TestAudit pages through the audit trail of real writes.
func TestAudit(t *testing.T) {
	f := newFront(t, admin.Deps{}, func(_ *scim.Config, d *admin.Deps, svc *provision.Service) { d.Auditor = svc })
	for _, name := range []string{"a@example.com", "b@example.com"} {
		if status, _, raw := f.do("POST", "/scim/v2/Users", adminToken, `{"userName":"`+name+`"}`); status != 201 {
			t.Fatalf("create %s: %d %s", name, status, raw)
		}
	}
	status, m := f.json("GET", admin.Prefix+"/audit?limit=1", adminToken)
	recs, _ := m["records"].([]any)
	if status != 200 || len(recs) != 1 || recs[0].(map[string]any)["actor"] != "admin" || recs[0].(map[string]any)["action"] != "create" {
		t.Fatalf("audit page 1: %d %v", status, m)
	}
	next := int(m["next"].(float64))
	status, m = f.json("GET", admin.Prefix+"/audit?after="+itoa(next), adminToken)
	if recs, _ := m["records"].([]any); status != 200 || len(recs) != 1 {
		t.Fatalf("audit page 2: %d %v", status, m)
	}
	status, m = f.json("GET", admin.Prefix+"/audit?after="+itoa(int(m["next"].(float64))), adminToken)
	if recs, ok := m["records"].([]any); status != 200 || !ok || len(recs) != 0 {
		t.Fatalf("audit past the end: %d %v", status, m)
	}
	for _, q := range []string{"?limit=0", "?after=-1", "?limit=x"} {
		status, m := f.json("GET", admin.Prefix+"/audit"+q, adminToken)
		scimError(t, "audit"+q, status, m, 400, "after and limit must be")
	}
	// The HTTP metrics name the admin route as they name SCIM's.
	_, _, metrics := f.do("GET", "/metrics", "", "")
	for _, want := range []string{`route="/admin/v1/audit",status="200"`, `route="/admin/v1/audit",status="400"`} {
		if !strings.Contains(metrics, want) {
			t.Fatalf("metrics lack %s:\n%s", want, metrics)
		}
	}
}

// TestStatus shows every check of a real health registry.
func TestStatus(t *testing.T) {
	var down atomic.Bool
	checks := health.New(nil)
	checks.Register(health.Check{Name: "store", Impact: health.Critical, Func: func(context.Context) health.Result {
		return health.OK(map[string]any{"pingLatencyMs": 0.1})
	}})
	checks.Register(health.Check{Name: "hubspot", Impact: health.Degrades, Func: func(context.Context) health.Result {
		if down.Load() {
			return health.Degrade("the last 3 requests to HubSpot failed", nil)
		}
		return health.OK(nil)
	}})
	f := newFront(t, admin.Deps{Health: checks}, nil)
	down.Store(true)
	status, hdr, raw := f.do("GET", admin.Prefix+"/status", adminToken, "")
	var m map[string]any
	_ = json.Unmarshal([]byte(raw), &m)
	cs, _ := m["checks"].([]any)
	if status != 200 || hdr.Get("Cache-Control") != "no-store" || m["status"] != "degraded" || len(cs) != 2 {
		t.Fatalf("status: %d %v %s", status, hdr, raw)
	}
	st, hub := cs[0].(map[string]any), cs[1].(map[string]any)
	if st["name"] != "store" || st["status"] != "ok" || st["impact"] != "critical" || st["lastSuccess"] == nil || st["detail"] == nil ||
		hub["name"] != "hubspot" || hub["status"] != "degraded" || hub["reason"] == nil || hub["since"] == nil {
		t.Fatalf("checks: %v", cs)
	}
}

// busyReconciler is a reconciler whose run is always under way.
type busyReconciler struct{}

func (busyReconciler) ReconcileStatus(context.Context) (*reconcile.Status, error) {
	return &reconcile.Status{Recent: []*store.Run{}}, nil
}

func (busyReconciler) Reconcile(context.Context, bool, bool) (*reconcile.Result, error) {
	return nil, &schemas.Error{Code: schemas.ECONFLICT, Message: "A reconcile is running; try again when it has finished."}
}

// TestRunParameters: a run's force and dryRun are booleans or refused; a
// run already going is a 409 without scimType.
func TestRunParameters(t *testing.T) {
	f := newFront(t, admin.Deps{Reconciler: busyReconciler{}}, nil)
	status, m := f.json("GET", admin.Prefix+"/reconcile", adminToken)
	if recent, ok := m["recent"].([]any); status != 200 || !ok || len(recent) != 0 {
		t.Fatalf("reconcile status: %d %v", status, m)
	}
	status, m = f.json("POST", admin.Prefix+"/reconcile?dryRun=yes", adminToken)
	scimError(t, "dryRun=yes", status, m, 400, `dryRun must be true or false, not "yes".`)
	status, m = f.json("POST", admin.Prefix+"/reconcile?force=2", adminToken)
	scimError(t, "force=2", status, m, 400, `force must be true or false`)
	status, m = f.json("POST", admin.Prefix+"/reconcile?dryRun=true", adminToken)
	scimError(t, "busy", status, m, 409, "A reconcile is running")
	if _, ok := m["scimType"]; ok {
		t.Fatalf("a busy run has a scimType: %v", m)
	}
}

// TestProfilingAndRateLimit: pprof is served only when enabled, and the
// admin API shares the per-client rate limit of the front.
func TestProfilingAndRateLimit(t *testing.T) {
	f := newFront(t, admin.Deps{Config: admin.Config{Profiling: true}}, func(c *scim.Config, _ *admin.Deps, _ *provision.Service) {
		c.RateLimit, c.RateWindow = 3, 1<<62
	})
	if status, hdr, raw := f.do("GET", admin.Prefix+"/debug/pprof/index", adminToken, ""); status != 200 || !strings.Contains(raw, "goroutine") {
		t.Fatalf("pprof index: %d %v", status, hdr)
	}
	if status, _, raw := f.do("GET", admin.Prefix+"/debug/pprof/goroutine?debug=1", adminToken, ""); status != 200 || !strings.Contains(raw, "goroutine profile") {
		t.Fatalf("pprof goroutine: %d %.200s", status, raw)
	}
	f.do("GET", admin.Prefix+"/status", adminToken, "")
	status, hdr, raw := f.do("GET", admin.Prefix+"/status", adminToken, "")
	if status != 429 || hdr.Get("Retry-After") == "" || !strings.Contains(raw, "Too many requests from this client") {
		t.Fatalf("over the rate limit: %d %v %s", status, hdr, raw)
	}
	// Another client has its own budget.
	if status, _, _ := f.do("GET", admin.Prefix+"/status", readToken, ""); status != 403 {
		t.Fatalf("another client: %d", status)
	}
}
