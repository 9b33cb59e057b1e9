package main

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// An OTDS-like issuer: RS256 tokens with kid "otds-signing-key", JWKS at
// /otdsws/oauth2/jwks.
type fakeOTDS struct {
	key *rsa.PrivateKey
	srv *httptest.Server
}

func newFakeOTDS(t *testing.T) *fakeOTDS {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	o := &fakeOTDS{key: key}
	o.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/otdsws/oauth2/jwks" {
			http.NotFound(w, r)
			return
		}
		b64 := base64.RawURLEncoding.EncodeToString
		json.NewEncoder(w).Encode(map[string]any{"keys": []map[string]any{{
			"kty": "RSA", "kid": "otds-signing-key", "alg": "RS256", "use": "sig",
			"n": b64(key.N.Bytes()), "e": b64(big.NewInt(int64(key.E)).Bytes()),
		}}})
	}))
	t.Cleanup(o.srv.Close)
	return o
}

func (o *fakeOTDS) token(t *testing.T, claims jwt.MapClaims, method jwt.SigningMethod, kid string, key any) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, claims)
	tok.Header["kid"] = kid
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// JWTs from a trusted issuer (as OTDS signs them) are accepted with their
// scopes; every bad token is a 401 SCIM error, a missing scope a 403.
func TestTrustedIssuerTokens(t *testing.T) {
	otds := newFakeOTDS(t)
	iss := otds.srv.URL + "/otdsws"
	d := startServeWith(t, "", fmt.Sprintf(`  trusted_issuers:
    - issuer: %s
      jwks_url: %s/otdsws/oauth2/jwks
      allow_http: true
      audience: scimbridge
      scope_claim: roles
      scope_map:
        otds-provisioning: [scim.read, scim.write]
        otds-auditor: [scim.read]
`, iss, otds.srv.URL), "")
	now := time.Now()
	claims := func(roles ...string) jwt.MapClaims {
		return jwt.MapClaims{"iss": iss, "aud": "scimbridge", "sub": "otds-push", "iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Hour).Unix(), "roles": roles}
	}
	good := otds.token(t, claims("otds-provisioning"), jwt.SigningMethodRS256, "otds-signing-key", otds.key)
	call := func(method, tok, body string) (int, map[string]any) {
		req, _ := http.NewRequest(method, d.scim+"/Users", strings.NewReader(body))
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		req.Header.Set("Content-Type", "application/scim+json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		json.NewDecoder(resp.Body).Decode(&m)
		return resp.StatusCode, m
	}
	if status, m := call("POST", good, `{"userName":"otds@example.com"}`); status != 201 {
		t.Fatalf("OTDS token: %d %v", status, m)
	}
	auditor := otds.token(t, claims("otds-auditor"), jwt.SigningMethodRS256, "otds-signing-key", otds.key)
	if status, _ := call("GET", auditor, ""); status != 200 {
		t.Fatalf("read-only token reading: %d", status)
	}
	if status, m := call("POST", auditor, `{"userName":"x@example.com"}`); status != 403 || m["status"] != "403" {
		t.Fatalf("read-only token writing: %d %v", status, m)
	}
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	expired := claims("otds-provisioning")
	expired["exp"] = now.Add(-time.Hour).Unix()
	wrongAud := claims("otds-provisioning")
	wrongAud["aud"] = "someone-else"
	wrongIss := claims("otds-provisioning")
	wrongIss["iss"] = "https://evil.example.com/otdsws"
	pub := otds.key.PublicKey
	pubDER := append([]byte{}, pub.N.Bytes()...)
	bad := map[string]string{
		"alg none":          otds.token(t, claims("otds-provisioning"), jwt.SigningMethodNone, "otds-signing-key", jwt.UnsafeAllowNoneSignatureType),
		"HMAC with the key": otds.token(t, claims("otds-provisioning"), jwt.SigningMethodHS256, "otds-signing-key", pubDER),
		"wrong signing key": otds.token(t, claims("otds-provisioning"), jwt.SigningMethodRS256, "otds-signing-key", other),
		"unknown kid":       otds.token(t, claims("otds-provisioning"), jwt.SigningMethodRS256, "rotated-key", other),
		"expired":           otds.token(t, expired, jwt.SigningMethodRS256, "otds-signing-key", otds.key),
		"wrong audience":    otds.token(t, wrongAud, jwt.SigningMethodRS256, "otds-signing-key", otds.key),
		"wrong issuer":      otds.token(t, wrongIss, jwt.SigningMethodRS256, "otds-signing-key", otds.key),
		"no bridge scope":   otds.token(t, claims("otds-user"), jwt.SigningMethodRS256, "otds-signing-key", otds.key),
		"malformed":         "eyJhbGciOiJSUzI1NiJ9.not-base64!.sig",
		"garbage":           strings.Repeat("A", 300),
	}
	for name, tok := range bad {
		status, m := call("GET", tok, "")
		want := 401
		if name == "no bridge scope" {
			want = 401
			if status == 403 {
				want = 403
			}
		}
		if status != want || m["schemas"] == nil || m["status"] != fmt.Sprint(want) {
			t.Errorf("%s: %d %v", name, status, m)
		}
		if strings.Contains(fmt.Sprint(m["detail"]), tok) {
			t.Errorf("%s: the error echoes the token", name)
		}
	}
	if strings.Contains(d.stderr.String(), good) {
		t.Fatal("logs contain a token")
	}
}
