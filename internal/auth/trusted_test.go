package auth

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/scimbridge/scimbridge/schemas"
)

const (
	otdsIssuer  = "https://otds.example.com/otdsws"
	otdsIssuer2 = "https://otds.example.com/otdstenant/t2/otdsws"
	otdsKID     = "otds-signing-key"
	otdsPath    = "/otdsws/oauth2/jwks"
	otdsPath2   = "/otdstenant/t2/otdsws/oauth2/jwks"
)

// otds is a test OTDS: it publishes RSA keys at its JWKS paths and signs
// RS256 tokens with a kid, as OTDS does.
type otds struct {
	url  string
	mu   sync.Mutex
	keys map[string]*rsa.PrivateKey
	down atomic.Bool
	hits map[string]*atomic.Int64
}

func newOTDS(t testing.TB) *otds {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	o := &otds{keys: map[string]*rsa.PrivateKey{otdsKID: key}, hits: map[string]*atomic.Int64{otdsPath: {}, otdsPath2: {}}}
	mux := http.NewServeMux()
	for path, n := range o.hits {
		mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			n.Add(1)
			if o.down.Load() {
				http.Error(w, "down", http.StatusServiceUnavailable)
				return
			}
			o.mu.Lock()
			defer o.mu.Unlock()
			set := map[string][]map[string]string{"keys": {}}
			for kid, k := range o.keys {
				n, e := rsaParams(&k.PublicKey)
				set["keys"] = append(set["keys"], map[string]string{"kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid, "n": n, "e": e})
			}
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(set)
		})
	}
	o.url = newServer(t, mux)
	return o
}

func (o *otds) key(kid string) *rsa.PrivateKey {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.keys[kid]
}

func (o *otds) publish(kid string, key *rsa.PrivateKey) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.keys[kid] = key
}

// sign makes an RS256 token with kid signed by key.
func sign(t testing.TB, method jwt.SigningMethod, key any, kid string, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, claims)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func otdsIssuers(o *otds, clk *clock, logs *syncBuffer) []TrustedIssuer {
	return []TrustedIssuer{
		{
			Name: "otds", Issuer: otdsIssuer, JWKSURL: o.url + otdsPath, Audience: DefaultAudience,
			ScopeClaim: "scp", RefreshUnknownKID: testRefreshLimit, Log: testLogger(logs), Now: clk.Now,
		},
		{
			Name: "otds-t2", Issuer: otdsIssuer2, JWKSURL: o.url + otdsPath2, Audience: DefaultAudience,
			ScopeClaim: "roles",
			ScopeMap: map[string][]string{
				"otadmins@otds.admin": {schemas.ScopeRead, schemas.ScopeWrite, schemas.ScopeAdmin},
				"SCIM Readers":        {schemas.ScopeRead},
			},
			Log: testLogger(logs), Now: clk.Now,
		},
	}
}

func newTestTrusted(t testing.TB, issuers []TrustedIssuer) *Trusted {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	tr, err := NewTrusted(ctx, issuers)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func otdsClaims(now time.Time, kv ...any) jwt.MapClaims {
	c := jwt.MapClaims{
		"iss": otdsIssuer, "sub": "alice", "aud": DefaultAudience,
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Hour).Unix(),
		"scp": []string{schemas.ScopeRead, schemas.ScopeWrite},
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(c, kv[i].(string))
		} else {
			c[kv[i].(string)] = kv[i+1]
		}
	}
	return c
}

func TestTrustedAccepts(t *testing.T) {
	o := newOTDS(t)
	clk := newClock()
	var logs syncBuffer
	tr := newTestTrusted(t, otdsIssuers(o, clk, &logs))
	now := clk.Now()
	key := o.key(otdsKID)
	rs := jwt.SigningMethodRS256
	tests := []struct {
		name   string
		claims jwt.MapClaims
		want   schemas.Principal
	}{
		{name: "scp array", claims: otdsClaims(now),
			want: schemas.Principal{Name: "otds:alice", Scopes: []string{schemas.ScopeRead, schemas.ScopeWrite}}},
		{name: "scp string, unknown values dropped", claims: otdsClaims(now, "scp", "openid scim.read profile"),
			want: schemas.Principal{Name: "otds:alice", Scopes: []string{schemas.ScopeRead}}},
		{name: "aud array", claims: otdsClaims(now, "aud", []string{"other", DefaultAudience}),
			want: schemas.Principal{Name: "otds:alice", Scopes: []string{schemas.ScopeRead, schemas.ScopeWrite}}},
		{name: "within skew after exp", claims: otdsClaims(now, "exp", now.Add(-30*time.Second).Unix()),
			want: schemas.Principal{Name: "otds:alice", Scopes: []string{schemas.ScopeRead, schemas.ScopeWrite}}},
		{name: "roles through the scope map", claims: otdsClaims(now, "iss", otdsIssuer2, "scp", nil, "roles", []string{"otadmins@otds.admin", "Everyone"}),
			want: schemas.Principal{Name: "otds-t2:alice", Scopes: []string{schemas.ScopeRead, schemas.ScopeWrite, schemas.ScopeAdmin}}},
		{name: "roles: mapped, passed through, dropped", claims: otdsClaims(now, "iss", otdsIssuer2, "roles", []any{"SCIM Readers", "scim.write", 42, "Everyone"}),
			want: schemas.Principal{Name: "otds-t2:alice", Scopes: []string{schemas.ScopeRead, schemas.ScopeWrite}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok := sign(t, rs, key, otdsKID, tt.claims)
			p, err := tr.Verify(tok)
			if err != nil {
				t.Fatal(err)
			}
			if p.Name != tt.want.Name || !slices.Equal(p.Scopes, tt.want.Scopes) {
				t.Fatalf("principal %+v, want %+v", p, tt.want)
			}
			// The Chain sends it to the trusted issuer.
			p, err = NewChain(nil, nil, tr).Authenticate(requestFrom("Bearer "+tok, testRemoteAddr))
			if err != nil || p.Name != tt.want.Name {
				t.Fatalf("chain: %v %v", p, err)
			}
		})
	}
}

func TestTrustedRefusals(t *testing.T) {
	o := newOTDS(t)
	clk := newClock()
	var logs syncBuffer
	tr := newTestTrusted(t, otdsIssuers(o, clk, &logs))
	now := clk.Now()
	key := o.key(otdsKID)
	rs := jwt.SigningMethodRS256
	pubDER, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	pkcs1PEM := pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(&key.PublicKey)})
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	valid := sign(t, rs, key, otdsKID, otdsClaims(now))
	parts := strings.Split(valid, ".")

	tests := []struct {
		name  string
		token string
		want  error
	}{
		{name: "alg none", token: sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, otdsKID, otdsClaims(now)), want: ErrAlgNone},
		{name: "alg None, mixed case", token: encodeSeg(t, map[string]string{"alg": "None", "kid": otdsKID}) + "." + parts[1] + ".", want: ErrAlgNone},
		{name: "HS256 signed with the RSA public key PEM", token: sign(t, jwt.SigningMethodHS256, pubPEM, otdsKID, otdsClaims(now)), want: ErrAlgHMAC},
		{name: "HS256 signed with the PKCS #1 public key", token: sign(t, jwt.SigningMethodHS256, pkcs1PEM, otdsKID, otdsClaims(now)), want: ErrAlgHMAC},
		{name: "HS512 signed with the DER public key", token: sign(t, jwt.SigningMethodHS512, pubDER, otdsKID, otdsClaims(now)), want: ErrAlgHMAC},
		{name: "RS384 not allowed", token: sign(t, jwt.SigningMethodRS384, key, otdsKID, otdsClaims(now)), want: ErrAlgNotAllowed},
		{name: "PS256 not allowed", token: sign(t, jwt.SigningMethodPS256, key, otdsKID, otdsClaims(now)), want: ErrAlgNotAllowed},
		{name: "expired", token: sign(t, rs, key, otdsKID, otdsClaims(now, "exp", now.Add(-2*time.Minute).Unix())), want: ErrTokenExpired},
		{name: "not yet valid", token: sign(t, rs, key, otdsKID, otdsClaims(now, "nbf", now.Add(2*time.Minute).Unix())), want: ErrTokenNotYetValid},
		{name: "issued in the future", token: sign(t, rs, key, otdsKID, otdsClaims(now, "iat", now.Add(2*time.Minute).Unix())), want: ErrTokenNotYetValid},
		{name: "no exp", token: sign(t, rs, key, otdsKID, otdsClaims(now, "exp", nil)), want: ErrMissingClaim},
		{name: "wrong issuer", token: sign(t, rs, key, otdsKID, otdsClaims(now, "iss", "https://evil.example.com/otdsws")), want: ErrUnknownIssuer},
		{name: "issuer with a trailing slash", token: sign(t, rs, key, otdsKID, otdsClaims(now, "iss", otdsIssuer+"/")), want: ErrUnknownIssuer},
		{name: "no issuer", token: sign(t, rs, key, otdsKID, otdsClaims(now, "iss", nil)), want: ErrUnknownIssuer},
		{name: "issuer not a string", token: sign(t, rs, key, otdsKID, otdsClaims(now, "iss", 7)), want: ErrMalformedToken},
		{name: "wrong audience", token: sign(t, rs, key, otdsKID, otdsClaims(now, "aud", "hubspot")), want: ErrWrongAudience},
		{name: "no audience", token: sign(t, rs, key, otdsKID, otdsClaims(now, "aud", nil)), want: ErrWrongAudience},
		{name: "unknown kid", token: sign(t, rs, key, "someone-elses-key", otdsClaims(now)), want: ErrUnknownKey},
		{name: "kid not a string", token: encodeSeg(t, map[string]any{"alg": "RS256", "kid": 1}) + "." + parts[1] + "." + parts[2], want: ErrMalformedToken},
		{name: "signed by another key", token: sign(t, rs, other, otdsKID, otdsClaims(now)), want: ErrBadSignature},
		{name: "exp as a string", token: sign(t, rs, key, otdsKID, otdsClaims(now, "exp", fmt.Sprint(now.Add(time.Hour).Unix()))), want: ErrMalformedToken},
		{name: "a critical extension", token: func() string {
			tok := jwt.NewWithClaims(rs, otdsClaims(now))
			tok.Header["kid"], tok.Header["crit"] = otdsKID, []string{"exp"}
			s, err := tok.SignedString(key)
			if err != nil {
				t.Fatal(err)
			}
			return s
		}(), want: ErrMalformedToken},
		{name: "no kid, signed by another key", token: sign(t, rs, other, "", otdsClaims(now)), want: ErrBadSignature},
		{name: "claims swapped after signing", token: parts[0] + "." + encodeSeg(t, otdsClaims(now, "sub", "root", "scp", []string{"admin"})) + "." + parts[2], want: ErrBadSignature},
		{name: "signature stripped", token: parts[0] + "." + parts[1] + ".", want: ErrBadSignature},
		{name: "no subject", token: sign(t, rs, key, otdsKID, otdsClaims(now, "sub", nil)), want: ErrMissingClaim},
		{name: "subject with a newline", token: sign(t, rs, key, otdsKID, otdsClaims(now, "sub", "alice\nlevel=admin")), want: ErrMissingClaim},
		{name: "subject too long", token: sign(t, rs, key, otdsKID, otdsClaims(now, "sub", strings.Repeat("a", 300))), want: ErrMissingClaim},
		{name: "no bridge scope", token: sign(t, rs, key, otdsKID, otdsClaims(now, "scp", []string{"openid", "profile"})), want: ErrNoBridgeScope},
		{name: "no scope claim", token: sign(t, rs, key, otdsKID, otdsClaims(now, "scp", nil)), want: ErrNoBridgeScope},
		{name: "scope claim an object", token: sign(t, rs, key, otdsKID, otdsClaims(now, "scp", map[string]string{"scim.read": "yes"})), want: ErrNoBridgeScope},
		{name: "garbage", token: "garbage", want: ErrMalformedToken},
		{name: "empty", token: "", want: ErrMalformedToken},
		{name: "dots", token: "..", want: ErrMalformedToken},
		{name: "four segments", token: valid + ".x", want: ErrMalformedToken},
		{name: "padding", token: parts[0] + "=." + parts[1] + "." + parts[2], want: ErrMalformedToken},
		{name: "header a JSON array", token: encodeSeg(t, []string{"RS256"}) + "." + parts[1] + "." + parts[2], want: ErrMalformedToken},
		{name: "claims not JSON", token: parts[0] + ".bm90IGpzb24." + parts[2], want: ErrMalformedToken},
		{name: "huge", token: strings.Repeat("a", maxTokenLen) + "." + parts[1] + "." + parts[2], want: ErrMalformedToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := tr.Verify(tt.token)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if p != nil {
				t.Fatal("principal with an error")
			}
			if !errors.Is(err, ErrInvalidToken) {
				t.Error("refusal does not match ErrInvalidToken")
			}
			if (tt.token != "" && strings.Contains(err.Error(), tt.token)) || len(err.Error()) > 60 {
				t.Errorf("error text %q", err)
			}
			// Through the Chain: the same refusal, never a principal.
			if tt.token != "" {
				_, cerr := NewChain(nil, nil, tr).Authenticate(requestFrom("Bearer "+tt.token, testRemoteAddr))
				if cerr == nil || errors.Is(cerr, schemas.ErrNoCredentials) {
					t.Fatalf("chain: %v", cerr)
				}
			}
		})
	}
	assertNoSecrets(t, "log", logs.String(), valid, parts[2])
}

// An unknown kid refetches the JWKS once; more unknown kids within the
// interval do not, and callers never wait for the limit.
func TestTrustedUnknownKIDRefresh(t *testing.T) {
	o := newOTDS(t)
	clk := newClock()
	var logs syncBuffer
	tr := newTestTrusted(t, otdsIssuers(o, clk, &logs)[:1])
	hits := o.hits[otdsPath]
	if got := hits.Load(); got != 1 {
		t.Fatalf("JWKS fetched %d times at start", got)
	}
	now := clk.Now()
	if _, err := tr.Verify(sign(t, jwt.SigningMethodRS256, o.key(otdsKID), otdsKID, otdsClaims(now))); err != nil {
		t.Fatal(err)
	}
	if got := hits.Load(); got != 1 {
		t.Fatalf("known kid fetched the JWKS: %d", got)
	}

	// OTDS rotates its key: the first token with the new kid refetches.
	rotated, _ := rsa.GenerateKey(rand.Reader, 2048)
	o.publish("otds-signing-key-2", rotated)
	if p, err := tr.Verify(sign(t, jwt.SigningMethodRS256, rotated, "otds-signing-key-2", otdsClaims(now))); err != nil || p.Name != "otds:alice" {
		t.Fatalf("rotated key: %v %v", p, err)
	}
	if got := hits.Load(); got != 2 {
		t.Fatalf("JWKS fetched %d times, want 2", got)
	}

	// Unknown kids within the interval: no fetch, and no waiting.
	bogus := sign(t, jwt.SigningMethodRS256, rotated, "bogus", otdsClaims(now))
	start := time.Now()
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			if _, err := tr.Verify(bogus); !errors.Is(err, ErrUnknownKey) {
				t.Errorf("bogus kid: %v", err)
			}
		})
	}
	wg.Wait()
	if got := hits.Load(); got != 2 {
		t.Fatalf("rate limit broken: %d fetches", got)
	}
	if time.Since(start) > 5*time.Second {
		t.Fatal("refused tokens waited for the rate limit")
	}

	// After the interval, one more fetch for any number of callers.
	clk.Advance(testRefreshLimit)
	for range 20 {
		wg.Go(func() {
			if _, err := tr.Verify(bogus); !errors.Is(err, ErrUnknownKey) {
				t.Errorf("bogus kid: %v", err)
			}
		})
	}
	wg.Wait()
	if got := hits.Load(); got != 3 {
		t.Fatalf("JWKS fetched %d times, want 3", got)
	}
	assertNoSecrets(t, "log", logs.String(), bogus)
}

// A JWKS down at start is not fatal: the first token refetches it.
func TestTrustedJWKSDownAtStart(t *testing.T) {
	o := newOTDS(t)
	o.down.Store(true)
	clk := newClock()
	var logs syncBuffer
	tr := newTestTrusted(t, otdsIssuers(o, clk, &logs)[:1])
	if !strings.Contains(logs.String(), "JWKS fetch failed") {
		t.Errorf("failure not logged: %s", logs.String())
	}
	tok := sign(t, jwt.SigningMethodRS256, o.key(otdsKID), otdsKID, otdsClaims(clk.Now()))
	o.down.Store(false)
	if _, err := tr.Verify(tok); err != nil {
		t.Fatalf("after the JWKS came back: %v", err)
	}
}

func TestTrustedConfig(t *testing.T) {
	ok := func() TrustedIssuer {
		return TrustedIssuer{Issuer: otdsIssuer, JWKSURL: "https://otds.example.com/otdsws/oauth2/jwks", Audience: DefaultAudience}
	}
	tests := []struct {
		name   string
		mutate func(*TrustedIssuer)
		errs   int
	}{
		{name: "ok", mutate: func(*TrustedIssuer) {}},
		{name: "any audience", mutate: func(c *TrustedIssuer) { c.Audience = AnyAudience }},
		{name: "nothing", mutate: func(c *TrustedIssuer) { *c = TrustedIssuer{} }, errs: 4}, // issuer, name, jwks_url, audience
		{name: "plain http elsewhere", mutate: func(c *TrustedIssuer) { c.JWKSURL = "http://otds.example.com/jwks" }, errs: 1},
		{name: "plain http allowed", mutate: func(c *TrustedIssuer) { c.JWKSURL, c.AllowHTTP = "http://otds:8080/jwks", true }},
		{name: "plain http on loopback", mutate: func(c *TrustedIssuer) { c.JWKSURL = "http://127.0.0.1:8080/jwks" }},
		{name: "credentials in the URL", mutate: func(c *TrustedIssuer) { c.JWKSURL = "https://u:p@otds.example.com/jwks" }, errs: 1},
		{name: "ftp", mutate: func(c *TrustedIssuer) { c.JWKSURL = "ftp://otds.example.com/jwks" }, errs: 1},
		{name: "HMAC and none algorithms", mutate: func(c *TrustedIssuer) { c.Algorithms = []string{"HS256", "none", "RS256"} }, errs: 2},
		{name: "unknown scope in the map", mutate: func(c *TrustedIssuer) { c.ScopeMap = map[string][]string{"Admins": {"root"}} }, errs: 1},
		{name: "skew too large", mutate: func(c *TrustedIssuer) { c.MaxSkew = time.Hour }, errs: 1},
		{name: "ca_file with a client", mutate: func(c *TrustedIssuer) { c.CAFile, c.HTTPClient = "/ca.pem", http.DefaultClient }, errs: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ok()
			tt.mutate(&c)
			c.SetDefaults()
			if errs := c.Validate(); len(errs) != tt.errs {
				t.Fatalf("Validate() = %v, want %d problems", errs, tt.errs)
			}
		})
	}
	c := ok()
	c.SetDefaults()
	if c.Name != "otds.example.com" || !slices.Equal(c.Algorithms, []string{"RS256"}) || c.ScopeClaim != "scope" ||
		c.SubjectClaim != "sub" || c.MaxSkew != time.Minute || c.RefreshUnknownKID != 5*time.Minute {
		t.Errorf("defaults %+v", c)
	}
	if _, err := NewTrusted(context.Background(), []TrustedIssuer{ok(), ok()}); err == nil || !strings.Contains(err.Error(), "twice") {
		t.Errorf("duplicate issuer: %v", err)
	}
	bad := ok()
	bad.CAFile = "/nonexistent/ca.pem"
	if _, err := NewTrusted(context.Background(), []TrustedIssuer{bad}); err == nil {
		t.Error("missing ca_file accepted")
	}
}

func TestClaimHelpers(t *testing.T) {
	claims := map[string]any{
		"realm_access": map[string]any{"roles": []any{"scim-admin"}},
		"a.b":          "scim.read",
	}
	if got := claimValues(claimAt(claims, "realm_access.roles")); !slices.Equal(got, []string{"scim-admin"}) {
		t.Errorf("dotted path: %v", got)
	}
	if got := claimValues(claimAt(claims, "a.b")); !slices.Equal(got, []string{"scim.read"}) {
		t.Errorf("literal name with a dot: %v", got)
	}
	if claimAt(claims, "realm_access.roles.x") != nil || claimAt(claims, "missing") != nil {
		t.Error("missing path found")
	}
	if got := mapScopes([]string{"scim-admin", "admin", "x"}, map[string][]string{"scim-admin": {"scim.write"}}); !slices.Equal(got, []string{"scim.write", "admin"}) {
		t.Errorf("mapScopes: %v", got)
	}
}
