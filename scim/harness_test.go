package scim_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/scimbridge/scimbridge/internal/admin"
	"github.com/scimbridge/scimbridge/internal/auth"
	"github.com/scimbridge/scimbridge/internal/provision"
	"github.com/scimbridge/scimbridge/internal/store/sqlite"
	"github.com/scimbridge/scimbridge/schemas"
	"github.com/scimbridge/scimbridge/scim"
)

const (
	testToken     = "test-token-0123456789"
	readOnlyToken = "read-only-token-0123456789"
)

// bridge is a SCIM front on a real SQLite store, served over loopback HTTP.
type bridge struct {
	t      testing.TB
	srv    *httptest.Server
	base   string
	logs   *syncWriter
	client *http.Client
	front  http.Handler
}

func newBridge(t testing.TB) *bridge { return newBridgeWith(t, nil) }

func newBridgeWith(t testing.TB, tune func(*scim.Config)) *bridge {
	t.Helper()
	cat := schemas.MustLoad()
	st, err := sqlite.Open(context.Background(), sqlite.Config{Path: filepath.Join(t.TempDir(), "test.db")}, cat)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	logs := &syncWriter{w: &bytes.Buffer{}}
	log := zerolog.New(logs)
	svc := provision.New(st, nil, log)
	tokens, err := auth.NewStaticTokens([]auth.Token{
		{Name: "test", Token: testToken, Scopes: []string{schemas.ScopeRead, schemas.ScopeWrite, schemas.ScopeAdmin}},
		{Name: "auditor", SHA256: auth.HashToken(readOnlyToken), Scopes: []string{schemas.ScopeRead}},
	})
	if err != nil {
		t.Fatal(err)
	}
	b := &bridge{t: t, logs: logs}
	var handler http.Handler
	b.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler.ServeHTTP(w, r) }))
	t.Cleanup(b.srv.Close)
	reg := prometheus.NewRegistry()
	cfg := scim.Config{BaseURL: b.srv.URL + "/scim/v2", BodyLimit: 64 << 10}
	if tune != nil {
		tune(&cfg)
	}
	front, err := scim.New(cfg, scim.Deps{
		Users: svc, Groups: svc, Ready: svc, Auth: tokens, Catalog: cat, Log: log,
		Mounts:  []scim.Mount{{Pattern: admin.Prefix, Scope: schemas.ScopeAdmin, Handler: admin.New(admin.Deps{Auditor: svc})}},
		Metrics: reg, Gatherer: reg,
	})
	if err != nil {
		t.Fatal(err)
	}
	handler = front
	b.front = front
	b.base = b.srv.URL + "/scim/v2"
	b.client = b.srv.Client()
	return b
}

// do sends a request with the test token (token "" sends none) and returns
// the status, headers and decoded JSON body (nil when empty).
func (b *bridge) do(method, path, token, ctype string, body []byte, hdr map[string]string) (int, http.Header, map[string]any, []byte) {
	b.t.Helper()
	url := path
	if !strings.HasPrefix(path, "http") {
		url = b.base + path
	}
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		b.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if ctype == "" && body != nil {
		ctype = "application/scim+json"
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := b.client.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &m); err != nil {
			b.t.Fatalf("%s %s: response is not a JSON object: %s", method, path, raw)
		}
	}
	return resp.StatusCode, resp.Header, m, raw
}

func (b *bridge) json(method, path string, body any) (int, map[string]any) {
	b.t.Helper()
	var data []byte
	if body != nil {
		var err error
		if data, err = json.Marshal(body); err != nil {
			b.t.Fatal(err)
		}
	}
	status, _, m, _ := b.do(method, path, testToken, "", data, nil)
	return status, m
}

type syncWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

func (s *syncWriter) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.String()
}

func readAll(resp *http.Response) string {
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}
