package scim_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/rs/zerolog"

	"github.com/scimbridge/scimbridge/internal/auth"
	"github.com/scimbridge/scimbridge/internal/health"
	"github.com/scimbridge/scimbridge/internal/provision"
	"github.com/scimbridge/scimbridge/internal/store/sqlite"
	"github.com/scimbridge/scimbridge/schemas"
	"github.com/scimbridge/scimbridge/scim"
)

// TestReadyz drives /readyz over HTTP through a real SQLite store: ready; degraded (200) while an upstream is
// in trouble; unavailable (503) once the store is closed, which is the one
// state in which the replica cannot take SCIM writes.
func TestReadyz(t *testing.T) {
	cat := schemas.MustLoad()
	st, err := sqlite.Open(context.Background(), sqlite.Config{Path: filepath.Join(t.TempDir(), "test.db")}, cat)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	svc := provision.New(st, nil, zerolog.Nop())
	tokens, err := auth.NewStaticTokens([]auth.Token{
		{Name: "test", Token: testToken, Scopes: []string{schemas.ScopeRead, schemas.ScopeWrite, schemas.ScopeAdmin}},
		{Name: "auditor", Token: readOnlyToken, Scopes: []string{schemas.ScopeRead}},
	})
	if err != nil {
		t.Fatal(err)
	}
	var upstreamDown atomic.Bool
	checks := health.New(nil)
	checks.Register(health.Check{Name: "store", Impact: health.Critical, Func: func(ctx context.Context) health.Result {
		if err := st.Ping(ctx); err != nil {
			return health.Down(err.Error(), nil)
		}
		return health.OK(map[string]any{"pingLatencyMs": 0.1})
	}})
	checks.Register(health.Check{Name: "hubspot", Impact: health.Degrades, Func: func(context.Context) health.Result {
		if upstreamDown.Load() {
			return health.Degrade("the last 3 requests to HubSpot failed", nil)
		}
		return health.OK(nil)
	}})
	srv := httptest.NewUnstartedServer(nil)
	deps := scim.Deps{
		Users: svc, Groups: svc, Ready: svc, Health: checks, Auth: tokens, Catalog: cat, Log: zerolog.Nop(),
	}
	// A mount must say which scope its requests need.
	unscoped := deps
	unscoped.Mounts = []scim.Mount{{Pattern: "/admin/v1", Handler: http.NotFoundHandler()}}
	if _, err := scim.New(scim.Config{BaseURL: "http://bridge.test/scim/v2"}, unscoped); err == nil {
		t.Fatal("a mount without a scope was accepted")
	}
	front, err := scim.New(scim.Config{BaseURL: "http://" + srv.Listener.Addr().String() + "/scim/v2"}, deps)
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = front
	srv.Start()
	defer srv.Close()

	get := func(path, token string) (int, map[string]any) {
		t.Helper()
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		return resp.StatusCode, m
	}
	reasons := func(m map[string]any) string {
		var out []string
		for _, r := range m["reasons"].([]any) {
			out = append(out, r.(string))
		}
		return strings.Join(out, "; ")
	}

	if status, m := get("/readyz", ""); status != 200 || m["status"] != "ready" || m["reasons"] != nil {
		t.Fatalf("healthy: %d %v", status, m)
	}
	upstreamDown.Store(true)
	if status, m := get("/readyz", ""); status != 200 || m["status"] != "degraded" || reasons(m) != "hubspot: the last 3 requests to HubSpot failed" {
		t.Fatalf("HubSpot in trouble: %d %v", status, m)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	status, m := get("/readyz", "")
	if status != 503 || m["status"] != "unavailable" || !strings.HasPrefix(reasons(m), "store: ") || !strings.Contains(reasons(m), "hubspot: ") {
		t.Fatalf("store closed: %d %v", status, m)
	}
	// Liveness is not readiness.
	if status, m := get("/healthz", ""); status != 200 || m["status"] != "ok" {
		t.Fatalf("healthz with the store closed: %d %v", status, m)
	}
}
