package auth

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/scimbridge/scimbridge/schemas"
)

// Test clients. Secrets are long enough to be searched for in logs.
const (
	testIssuer       = "https://bridge.example.com"
	otdsClientID     = "otds-push"
	otdsSecret       = "otds-secret-0123456789abcdef"
	readerClientID   = "governance"
	readerSecret     = "reader-secret-0123456789abcdef"
	specialClientID  = "odd:client"
	specialSecret    = "sp ecial+secret/%&=0123456789"
	plusClientID     = "odd+client"
	netClientID      = "internal"
	netClientSecret  = "internal-secret-0123456789abcdef"
	loopbackSecret   = "loopback-secret-0123456789abcdef"
	staticTestToken  = "static-token-0123456789abcdef"
	staticNetToken   = "static-net-token-0123456789abcdef"
	testRemoteAddr   = "127.0.0.1:40000"
	outsideAddr      = "192.0.2.10:40000"
	internalAddr     = "10.1.2.3:40000"
	internalNetwork  = "10.0.0.0/8"
	loopbackNetwork  = "127.0.0.0/8"
	testTokenTTL     = time.Hour
	testRotateEvery  = 2 * time.Hour
	testSkew         = time.Minute
	testRefreshLimit = 5 * time.Minute
)

// secrets are what must never show in a log line or an error text.
var secrets = [...]string{otdsSecret, readerSecret, specialSecret, netClientSecret, loopbackSecret, staticTestToken, staticNetToken}

// clock is a settable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Now().Truncate(time.Second)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// syncBuffer collects log output from concurrent writers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func testLogger(buf *syncBuffer) zerolog.Logger {
	return zerolog.New(buf).Level(zerolog.DebugLevel)
}

// assertNoSecrets fails when text holds a secret or one of extra (tokens).
func assertNoSecrets(t testing.TB, what, text string, extra ...string) {
	t.Helper()
	for _, s := range append(secrets[:], extra...) {
		if s != "" && strings.Contains(text, s) {
			t.Errorf("%s contains a secret or token: %q", what, s)
		}
	}
}

func testIssuerConfig(dir string, clk *clock, log zerolog.Logger) IssuerConfig {
	return IssuerConfig{
		Issuer:   testIssuer,
		KeyDir:   dir,
		TokenTTL: testTokenTTL,
		Clients: []Client{
			{ID: otdsClientID, SecretSHA256: HashToken(otdsSecret), Scopes: []string{schemas.ScopeRead, schemas.ScopeWrite, schemas.ScopeAdmin}},
			{ID: readerClientID, Secret: readerSecret, Scopes: []string{schemas.ScopeRead}},
			{ID: specialClientID, Secret: specialSecret},
			{ID: plusClientID, Secret: specialSecret},
			{ID: netClientID, Secret: netClientSecret, Networks: []string{internalNetwork}},
		},
		Log: log,
		Now: clk.Now,
	}
}

func newTestIssuer(t testing.TB, clk *clock, log zerolog.Logger, mutate ...func(*IssuerConfig)) *Issuer {
	t.Helper()
	cfg := testIssuerConfig(t.TempDir(), clk, log)
	for _, m := range mutate {
		m(&cfg)
	}
	iss, err := NewIssuer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return iss
}

// tokenCall is one request to the token endpoint.
type tokenCall struct {
	method      string
	query       string
	contentType string
	form        url.Values
	rawBody     string
	basic       *[2]string // id, secret: form-urlencoded then Basic, per RFC 6749 §2.3.1
	rawBasic    *[2]string // sent as is (curl -u)
	authz       string
}

type tokenReply struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

func callToken(t testing.TB, base string, c tokenCall) tokenReply {
	t.Helper()
	method := c.method
	if method == "" {
		method = http.MethodPost
	}
	body := c.rawBody
	if c.form != nil {
		body = c.form.Encode()
	}
	req, err := http.NewRequest(method, base+"/oauth/token"+c.query, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	ct := c.contentType
	if ct == "" {
		ct = "application/x-www-form-urlencoded"
	}
	req.Header.Set("Content-Type", ct)
	switch {
	case c.basic != nil:
		req.SetBasicAuth(url.QueryEscape(c.basic[0]), url.QueryEscape(c.basic[1]))
	case c.rawBasic != nil:
		req.SetBasicAuth(c.rawBasic[0], c.rawBasic[1])
	case c.authz != "":
		req.Header.Set("Authorization", c.authz)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	r := tokenReply{status: resp.StatusCode, header: resp.Header, raw: string(data)}
	_ = json.Unmarshal(data, &r.body)
	return r
}

// serveIssuer runs the issuer's endpoints on a test server.
func serveIssuer(t testing.TB, iss *Issuer) string {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle("/oauth/token", iss.TokenHandler())
	mux.Handle("/oauth/jwks", iss.JWKSHandler())
	srv := newServer(t, mux)
	return srv
}

// getToken obtains a token with client_secret_post or fails.
func getToken(t testing.TB, base, id, secret, scope string) string {
	t.Helper()
	f := url.Values{"grant_type": {"client_credentials"}, "client_id": {id}, "client_secret": {secret}}
	if scope != "" {
		f.Set("scope", scope)
	}
	r := callToken(t, base, tokenCall{form: f})
	if r.status != http.StatusOK {
		t.Fatalf("token request: %d %s", r.status, r.raw)
	}
	tok, _ := r.body["access_token"].(string)
	return tok
}

// requestFrom is a request carrying authz, as from remote.
func requestFrom(authz, remote string) *http.Request {
	r, _ := http.NewRequest(http.MethodGet, "/scim/v2/Users", nil)
	if authz != "" {
		r.Header.Set("Authorization", authz)
	}
	r.RemoteAddr = remote
	return r
}

// jwtParts decodes a token's header and claims without verifying.
func jwtParts(t testing.TB, tok string) (header, claims map[string]any) {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d parts", len(parts))
	}
	for i, dst := range []*map[string]any{&header, &claims} {
		data, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(data, dst); err != nil {
			t.Fatal(err)
		}
	}
	return header, claims
}

func decodeJSON(t testing.TB, data []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("%v: %s", err, data)
	}
}

func decodeJSONReader(t testing.TB, r io.Reader, v any) {
	t.Helper()
	data, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	decodeJSON(t, data, v)
}

// encodeSeg is a JWT segment of v.
func encodeSeg(t testing.TB, v any) string {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(data)
}
