package auth

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"

	"github.com/scimbridge/scimbridge/schemas"
)

func newServer(t testing.TB, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

func ccForm(kv ...string) url.Values {
	f := url.Values{"grant_type": {"client_credentials"}}
	for i := 0; i+1 < len(kv); i += 2 {
		f.Add(kv[i], kv[i+1])
	}
	return f
}

func TestTokenEndpoint(t *testing.T) {
	var logs syncBuffer
	clk := newClock()
	iss := newTestIssuer(t, clk, testLogger(&logs), func(c *IssuerConfig) {
		c.Clients = append(c.Clients, Client{ID: "loopback-only", Secret: loopbackSecret, Networks: []string{loopbackNetwork}})
	})
	base := serveIssuer(t, iss)
	rw := schemas.ScopeRead + " " + schemas.ScopeWrite
	all := rw + " " + schemas.ScopeAdmin

	tests := []struct {
		name      string
		call      tokenCall
		status    int
		errCode   string // "" for success
		descHas   string
		wantScope string
		wantSub   string
	}{
		// Success: both client authentication methods.
		{name: "client_secret_post", call: tokenCall{form: ccForm("client_id", otdsClientID, "client_secret", otdsSecret)},
			status: 200, wantScope: all, wantSub: otdsClientID},
		{name: "client_secret_basic", call: tokenCall{form: ccForm(), basic: &[2]string{otdsClientID, otdsSecret}},
			status: 200, wantScope: all, wantSub: otdsClientID},
		{name: "basic with client_id repeated in the body", call: tokenCall{form: ccForm("client_id", otdsClientID), basic: &[2]string{otdsClientID, otdsSecret}},
			status: 200, wantScope: all, wantSub: otdsClientID},
		{name: "basic, id and secret form-urlencoded (RFC 6749 2.3.1)", call: tokenCall{form: ccForm(), basic: &[2]string{specialClientID, specialSecret}},
			status: 200, wantScope: rw, wantSub: specialClientID},
		{name: "basic sent unencoded, as curl -u does", call: tokenCall{form: ccForm(), rawBasic: &[2]string{plusClientID, specialSecret}},
			status: 200, wantScope: rw, wantSub: plusClientID},
		{name: "basic encoded, + in the id", call: tokenCall{form: ccForm(), basic: &[2]string{plusClientID, specialSecret}},
			status: 200, wantScope: rw, wantSub: plusClientID},
		{name: "post with special characters", call: tokenCall{form: ccForm("client_id", specialClientID, "client_secret", specialSecret)},
			status: 200, wantScope: rw, wantSub: specialClientID},
		{name: "default scopes", call: tokenCall{form: ccForm("client_id", readerClientID, "client_secret", readerSecret)},
			status: 200, wantScope: schemas.ScopeRead, wantSub: readerClientID},
		{name: "content type with charset", call: tokenCall{form: ccForm("client_id", readerClientID, "client_secret", readerSecret), contentType: "application/x-www-form-urlencoded; charset=UTF-8"},
			status: 200, wantScope: schemas.ScopeRead, wantSub: readerClientID},

		// Scope narrowing.
		{name: "scope narrowed to read", call: tokenCall{form: ccForm("client_id", otdsClientID, "client_secret", otdsSecret, "scope", "scim.read")},
			status: 200, wantScope: schemas.ScopeRead, wantSub: otdsClientID},
		{name: "scope narrowed, order normalized", call: tokenCall{form: ccForm("client_id", otdsClientID, "client_secret", otdsSecret, "scope", "admin scim.read")},
			status: 200, wantScope: schemas.ScopeRead + " " + schemas.ScopeAdmin, wantSub: otdsClientID},
		{name: "empty scope means all", call: tokenCall{form: ccForm("client_id", otdsClientID, "client_secret", otdsSecret, "scope", "")},
			status: 200, wantScope: all, wantSub: otdsClientID},
		{name: "scope beyond the client", call: tokenCall{form: ccForm("client_id", readerClientID, "client_secret", readerSecret, "scope", "scim.read scim.write")},
			status: 400, errCode: "invalid_scope", descHas: "scim.write"},
		{name: "unknown scope", call: tokenCall{form: ccForm("client_id", otdsClientID, "client_secret", otdsSecret, "scope", "openid")},
			status: 400, errCode: "invalid_scope"},

		// Grant type.
		{name: "password grant", call: tokenCall{form: url.Values{"grant_type": {"password"}, "client_id": {otdsClientID}, "client_secret": {otdsSecret}}},
			status: 400, errCode: "unsupported_grant_type"},
		{name: "authorization_code grant", call: tokenCall{form: url.Values{"grant_type": {"authorization_code"}}, basic: &[2]string{otdsClientID, otdsSecret}},
			status: 400, errCode: "unsupported_grant_type"},
		{name: "no grant type", call: tokenCall{form: url.Values{"client_id": {otdsClientID}, "client_secret": {otdsSecret}}},
			status: 400, errCode: "invalid_request"},

		// Client authentication.
		{name: "wrong secret, post", call: tokenCall{form: ccForm("client_id", otdsClientID, "client_secret", readerSecret)},
			status: 401, errCode: "invalid_client"},
		{name: "wrong secret, basic", call: tokenCall{form: ccForm(), basic: &[2]string{otdsClientID, readerSecret}},
			status: 401, errCode: "invalid_client"},
		{name: "another client's secret", call: tokenCall{form: ccForm("client_id", readerClientID, "client_secret", otdsSecret)},
			status: 401, errCode: "invalid_client"},
		{name: "unknown client", call: tokenCall{form: ccForm("client_id", "nobody", "client_secret", otdsSecret)},
			status: 401, errCode: "invalid_client"},
		{name: "client_id without secret", call: tokenCall{form: ccForm("client_id", otdsClientID)},
			status: 401, errCode: "invalid_client"},
		{name: "empty secret", call: tokenCall{form: ccForm("client_id", otdsClientID, "client_secret", "")},
			status: 401, errCode: "invalid_client"},
		{name: "no credentials at all", call: tokenCall{form: ccForm()},
			status: 401, errCode: "invalid_client"},
		{name: "malformed Basic", call: tokenCall{form: ccForm(), authz: "Basic !!!notbase64"},
			status: 401, errCode: "invalid_client"},
		{name: "Bearer instead of client credentials", call: tokenCall{form: ccForm(), authz: "Bearer " + otdsSecret},
			status: 401, errCode: "invalid_client"},
		{name: "both basic and post", call: tokenCall{form: ccForm("client_id", otdsClientID, "client_secret", otdsSecret), basic: &[2]string{otdsClientID, otdsSecret}},
			status: 400, errCode: "invalid_request", descHas: "not both"},
		{name: "body client_id differs from basic", call: tokenCall{form: ccForm("client_id", readerClientID), basic: &[2]string{otdsClientID, otdsSecret}},
			status: 400, errCode: "invalid_request"},

		// Networks.
		{name: "client outside its networks", call: tokenCall{form: ccForm("client_id", netClientID, "client_secret", netClientSecret)},
			status: 401, errCode: "invalid_client"},
		{name: "client inside its networks", call: tokenCall{form: ccForm("client_id", "loopback-only", "client_secret", loopbackSecret)},
			status: 200, wantScope: rw, wantSub: "loopback-only"},

		// Request shape.
		{name: "GET", call: tokenCall{method: http.MethodGet}, status: 405, errCode: "invalid_request"},
		{name: "JSON body", call: tokenCall{rawBody: `{"grant_type":"client_credentials"}`, contentType: "application/json", basic: &[2]string{otdsClientID, otdsSecret}},
			status: 400, errCode: "invalid_request"},
		{name: "no content type", call: tokenCall{rawBody: "grant_type=client_credentials", contentType: "text/plain"},
			status: 400, errCode: "invalid_request"},
		{name: "body too large", call: tokenCall{rawBody: "grant_type=client_credentials&pad=" + strings.Repeat("a", 17<<10)},
			status: 413, errCode: "invalid_request"},
		{name: "repeated parameter", call: tokenCall{rawBody: "grant_type=client_credentials&grant_type=client_credentials", basic: &[2]string{otdsClientID, otdsSecret}},
			status: 400, errCode: "invalid_request", descHas: "grant_type"},
		{name: "malformed form", call: tokenCall{rawBody: "grant_type=%zz", basic: &[2]string{otdsClientID, otdsSecret}},
			status: 400, errCode: "invalid_request"},
		{name: "secret in the URL", call: tokenCall{query: "?client_secret=" + url.QueryEscape(otdsSecret), form: ccForm("client_id", otdsClientID)},
			status: 400, errCode: "invalid_request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := callToken(t, base, tt.call)
			if r.status != tt.status {
				t.Fatalf("status %d, want %d: %s", r.status, tt.status, r.raw)
			}
			if got := r.header.Get("Cache-Control"); got != "no-store" {
				t.Errorf("Cache-Control %q", got)
			}
			if got := r.header.Get("Pragma"); got != "no-cache" {
				t.Errorf("Pragma %q", got)
			}
			if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type %q", ct)
			}
			assertNoSecrets(t, "response", r.raw)
			if tt.errCode != "" {
				if r.body["error"] != tt.errCode {
					t.Errorf("error %v, want %s", r.body["error"], tt.errCode)
				}
				desc, _ := r.body["error_description"].(string)
				if desc == "" || !strings.Contains(desc, tt.descHas) {
					t.Errorf("error_description %q, want it to mention %q", desc, tt.descHas)
				}
				if _, ok := r.body["access_token"]; ok {
					t.Error("error with an access token")
				}
				wantChallenge := ""
				if tt.errCode == "invalid_client" {
					wantChallenge = `Basic realm="scimbridge"`
					if desc != clientAuthFailed {
						t.Errorf("invalid_client says %q, want only %q", desc, clientAuthFailed)
					}
				}
				if got := r.header.Get("WWW-Authenticate"); got != wantChallenge {
					t.Errorf("WWW-Authenticate %q, want %q", got, wantChallenge)
				}
				if tt.status == 405 && r.header.Get("Allow") != http.MethodPost {
					t.Errorf("Allow %q", r.header.Get("Allow"))
				}
				return
			}
			if r.body["token_type"] != "Bearer" || r.body["scope"] != tt.wantScope || r.body["expires_in"] != float64(testTokenTTL/time.Second) {
				t.Fatalf("reply %s", r.raw)
			}
			tok, _ := r.body["access_token"].(string)
			head, claims := jwtParts(t, tok)
			if head["alg"] != AlgES256 || head["typ"] != "at+jwt" || head["kid"] == "" {
				t.Errorf("header %v", head)
			}
			now := float64(clk.Now().Unix())
			if claims["iss"] != testIssuer || claims["sub"] != tt.wantSub || claims["client_id"] != tt.wantSub ||
				claims["scope"] != tt.wantScope || claims["iat"] != now || claims["nbf"] != now ||
				claims["exp"] != now+testTokenTTL.Seconds() || claims["jti"] == "" || claims["jti"] == nil {
				t.Errorf("claims %v", claims)
			}
			if aud, _ := claims["aud"].([]any); len(aud) != 1 || aud[0] != DefaultAudience {
				t.Errorf("aud %v", claims["aud"])
			}
			p, err := NewChain(nil, iss, nil).Authenticate(requestFrom("Bearer "+tok, testRemoteAddr))
			if err != nil {
				t.Fatalf("issued token refused: %v", err)
			}
			if p.Name != "oauth:"+tt.wantSub || strings.Join(p.Scopes, " ") != tt.wantScope {
				t.Errorf("principal %+v", p)
			}
		})
	}
	out := logs.String()
	assertNoSecrets(t, "log", out)
	for _, want := range []string{"caller address outside the client's networks", "wrong client secret", "unknown client_id", "token issued"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q", want)
		}
	}
	if strings.Contains(out, `"client_id":"nobody"`) {
		t.Error("an unknown client_id was logged")
	}
}

func TestTokenJTIUnique(t *testing.T) {
	iss := newTestIssuer(t, newClock(), testLogger(&syncBuffer{}))
	base := serveIssuer(t, iss)
	seen := map[any]bool{}
	for range 5 {
		_, claims := jwtParts(t, getToken(t, base, otdsClientID, otdsSecret, ""))
		if seen[claims["jti"]] {
			t.Fatal("jti repeated")
		}
		seen[claims["jti"]] = true
	}
}

// The client's networks also bind the tokens it got.
func TestTokenNetworksAtUse(t *testing.T) {
	var logs syncBuffer
	iss := newTestIssuer(t, newClock(), testLogger(&logs))
	// Call the handler directly to come from the client's network.
	req := httptest.NewRequest(http.MethodPost, "/oauth/token", strings.NewReader(ccForm("client_id", netClientID, "client_secret", netClientSecret).Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.RemoteAddr = internalAddr
	rec := httptest.NewRecorder()
	iss.TokenHandler().ServeHTTP(rec, req)
	if rec.Code != 200 {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	var body struct {
		AccessToken string `json:"access_token"`
	}
	decodeJSON(t, rec.Body.Bytes(), &body)
	if _, claims := jwtParts(t, body.AccessToken); claims["sub"] != netClientID {
		t.Fatalf("claims %v", claims)
	}
	chain := NewChain(nil, iss, nil)
	chain.Log = testLogger(&logs)
	if p, err := chain.Authenticate(requestFrom("Bearer "+body.AccessToken, internalAddr)); err != nil || p.Name != "oauth:"+netClientID {
		t.Fatalf("inside: %v %v", p, err)
	}
	_, err := chain.Authenticate(requestFrom("Bearer "+body.AccessToken, outsideAddr))
	if !errors.Is(err, ErrNetworkNotAllowed) || err.Error() != ErrInvalidToken.Error() {
		t.Fatalf("outside: %v", err)
	}
	if _, err := iss.Verify(body.AccessToken); !errors.Is(err, ErrNetworkNotAllowed) {
		t.Fatalf("unknown address: %v", err)
	}
	if !strings.Contains(logs.String(), "oauth client "+netClientID) {
		t.Errorf("log does not say which credential: %s", logs.String())
	}
	assertNoSecrets(t, "log", logs.String(), body.AccessToken)
}

func TestJWKSVerifiesIssuedToken(t *testing.T) {
	for _, alg := range []string{AlgES256, AlgRS256} {
		t.Run(alg, func(t *testing.T) {
			iss := newTestIssuer(t, newClock(), testLogger(&syncBuffer{}), func(c *IssuerConfig) { c.Algorithm = alg; c.Now = nil })
			base := serveIssuer(t, iss)
			tok := getToken(t, base, otdsClientID, otdsSecret, "scim.read")

			resp, err := http.Get(base + "/oauth/jwks")
			if err != nil {
				t.Fatal(err)
			}
			var set struct {
				Keys []map[string]any `json:"keys"`
			}
			decodeJSONReader(t, resp.Body, &set)
			resp.Body.Close()
			if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Cache-Control"), "max-age=") {
				t.Fatalf("%d %v", resp.StatusCode, resp.Header)
			}
			head, _ := jwtParts(t, tok)
			if len(set.Keys) != 1 || set.Keys[0]["kid"] != head["kid"] || set.Keys[0]["alg"] != alg || set.Keys[0]["use"] != "sig" {
				t.Fatalf("jwks %v", set)
			}
			for _, private := range []string{"d", "p", "q", "dp", "dq", "qi"} {
				if _, ok := set.Keys[0][private]; ok {
					t.Fatalf("JWKS publishes private parameter %s", private)
				}
			}

			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			kf, err := keyfunc.NewDefaultCtx(ctx, []string{base + "/oauth/jwks"})
			if err != nil {
				t.Fatal(err)
			}
			parsed, err := jwt.Parse(tok, kf.Keyfunc, jwt.WithValidMethods([]string{alg}), jwt.WithIssuer(testIssuer), jwt.WithAudience(DefaultAudience))
			if err != nil || !parsed.Valid {
				t.Fatalf("token does not verify with the JWKS: %v", err)
			}

			resp, err = http.Post(base+"/oauth/jwks", "text/plain", nil)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusMethodNotAllowed {
				t.Errorf("POST /oauth/jwks: %d", resp.StatusCode)
			}
		})
	}
}

func jwksKids(t *testing.T, iss *Issuer) []string {
	t.Helper()
	rec := httptest.NewRecorder()
	iss.JWKSHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/oauth/jwks", nil))
	var set struct {
		Keys []struct {
			Kid string `json:"kid"`
		} `json:"keys"`
	}
	decodeJSON(t, rec.Body.Bytes(), &set)
	var kids []string
	for _, k := range set.Keys {
		kids = append(kids, k.Kid)
	}
	slices.Sort(kids)
	return kids
}
