package auth

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/scimbridge/scimbridge/schemas"
)

func TestIssuerConfigValidate(t *testing.T) {
	ok := func() IssuerConfig {
		return IssuerConfig{Issuer: testIssuer, KeyDir: "/tmp/k", Clients: []Client{{ID: "a", SecretSHA256: HashToken("x")}}}
	}
	tests := []struct {
		name   string
		mutate func(*IssuerConfig)
		errs   int
	}{
		{name: "ok", mutate: func(*IssuerConfig) {}},
		{name: "nothing set", mutate: func(c *IssuerConfig) { *c = IssuerConfig{} }, errs: 3}, // issuer, key, clients
		{name: "issuer not a URL", mutate: func(c *IssuerConfig) { c.Issuer = "bridge" }, errs: 1},
		{name: "bad algorithm", mutate: func(c *IssuerConfig) { c.Algorithm = "HS256" }, errs: 1},
		{name: "key_file and key_dir", mutate: func(c *IssuerConfig) { c.KeyFile = "/k.pem" }, errs: 1},
		{name: "rotation with key_file", mutate: func(c *IssuerConfig) { c.KeyDir, c.KeyFile, c.RotateEvery = "", "/k.pem", time.Hour }, errs: 1},
		{name: "rotation too often", mutate: func(c *IssuerConfig) { c.RotateEvery = time.Second }, errs: 1},
		{name: "negative rotation", mutate: func(c *IssuerConfig) { c.RotateEvery = -time.Hour }, errs: 1},
		{name: "ttl too long", mutate: func(c *IssuerConfig) { c.TokenTTL = 48 * time.Hour }, errs: 1},
		{name: "ttl too short", mutate: func(c *IssuerConfig) { c.TokenTTL = time.Second }, errs: 1},
		{name: "skew too large", mutate: func(c *IssuerConfig) { c.MaxSkew = time.Hour }, errs: 1},
		{name: "client problems, all reported", mutate: func(c *IssuerConfig) {
			c.Clients = []Client{
				{ID: "", Secret: "short", Scopes: []string{"root"}, Networks: []string{"10.0.0.0/33", "nonsense"}}, // 5
				{ID: "has space", SecretSHA256: "zz"},                                     // 2
				{ID: "dup", SecretSHA256: HashToken("x"), Secret: "0123456789abcdef0123"}, // 1
				{ID: "dup", SecretSHA256: HashToken("y")},                                 // 1 (twice)
			}
		}, errs: 9},
		{name: "networks ok", mutate: func(c *IssuerConfig) { c.Clients[0].Networks = []string{"10.0.0.0/8", "192.0.2.1", "2001:db8::/32"} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ok()
			tt.mutate(&c)
			c.SetDefaults()
			errs := c.Validate()
			if len(errs) != tt.errs {
				t.Fatalf("Validate() = %v, want %d problems", errs, tt.errs)
			}
			for _, e := range errs {
				assertNoSecrets(t, "config error", e.Error(), "0123456789abcdef0123")
			}
		})
	}
	// Defaults.
	c := ok()
	c.SetDefaults()
	if c.Audience != DefaultAudience || c.Algorithm != AlgES256 || c.TokenTTL != time.Hour || c.MaxSkew != time.Minute ||
		!slices.Equal(c.Clients[0].Scopes, []string{schemas.ScopeRead, schemas.ScopeWrite}) || c.Now == nil {
		t.Errorf("defaults: %+v", c)
	}
	// NewIssuer does not write defaults into the caller's clients.
	c = ok()
	c.KeyDir = t.TempDir()
	if _, err := NewIssuer(c); err != nil {
		t.Fatal(err)
	}
	if c.Clients[0].Scopes != nil {
		t.Error("NewIssuer changed the caller's configuration")
	}
	if _, err := NewIssuer(IssuerConfig{}); err == nil {
		t.Error("empty configuration accepted")
	}
}

// The generated key is persisted (PEM, 0600) and reloaded with the same
// kid; tokens survive a restart.
func TestIssuerKeyPersisted(t *testing.T) {
	clk := newClock()
	dir := t.TempDir()
	cfg := testIssuerConfig(dir, clk, testLogger(&syncBuffer{}))
	first, err := NewIssuer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	kids := jwksKids(t, first)
	files, _ := filepath.Glob(filepath.Join(dir, "signing-*.pem"))
	if len(kids) != 1 || len(files) != 1 {
		t.Fatalf("kids %v, files %v", kids, files)
	}
	fi, err := os.Stat(files[0])
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, %v", fi.Mode(), err)
	}
	data, _ := os.ReadFile(files[0])
	if b, _ := pem.Decode(data); b == nil || b.Type != "PRIVATE KEY" {
		t.Fatal("key file is not a PKCS #8 PEM")
	}
	tok := getToken(t, serveIssuer(t, first), otdsClientID, otdsSecret, "")

	clk.Advance(10 * time.Minute)
	second, err := NewIssuer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if got := jwksKids(t, second); !slices.Equal(got, kids) {
		t.Fatalf("kid after restart %v, want %v", got, kids)
	}
	if p, err := second.Verify(tok); err != nil || p.Name != "oauth:"+otdsClientID {
		t.Fatalf("token from before the restart: %v %v", p, err)
	}
	if files2, _ := filepath.Glob(filepath.Join(dir, "signing-*.pem")); len(files2) != 1 {
		t.Fatalf("restart wrote more keys: %v", files2)
	}

	// A removed client's tokens die at once; so do tokens with a scope the
	// client no longer has.
	cfg.Clients = slices.DeleteFunc(slices.Clone(cfg.Clients), func(c Client) bool { return c.ID == otdsClientID })
	third, err := NewIssuer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := third.Verify(tok); !errors.Is(err, ErrClientRevoked) {
		t.Fatalf("removed client's token: %v", err)
	}
	cfg.Clients = append(cfg.Clients, Client{ID: otdsClientID, SecretSHA256: HashToken(otdsSecret), Scopes: []string{schemas.ScopeRead}})
	fourth, err := NewIssuer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fourth.Verify(tok); !errors.Is(err, ErrClientRevoked) {
		t.Fatalf("token with a withdrawn scope: %v", err)
	}
	readTok := getToken(t, serveIssuer(t, fourth), otdsClientID, otdsSecret, "")
	if p, err := fourth.Verify(readTok); err != nil || !slices.Equal(p.Scopes, []string{schemas.ScopeRead}) {
		t.Fatalf("new token: %v %v", p, err)
	}
}

func writePEM(t *testing.T, typ string, der []byte, mode os.FileMode) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "key.pem")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), mode); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestIssuerKeyFile(t *testing.T) {
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ecDER, _ := x509.MarshalECPrivateKey(ec)
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	smallRSA, _ := rsa.GenerateKey(rand.Reader, 1024)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	p384DER, _ := x509.MarshalECPrivateKey(p384)
	pkcs8, _ := x509.MarshalPKCS8PrivateKey(rsaKey)

	tests := []struct {
		name    string
		alg     string
		path    string
		pub     crypto.PublicKey
		wantErr string
	}{
		{name: "SEC 1 EC key", alg: AlgES256, path: writePEM(t, "EC PRIVATE KEY", ecDER, 0o600), pub: &ec.PublicKey},
		{name: "PKCS #1 RSA key", alg: AlgRS256, path: writePEM(t, "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rsaKey), 0o600), pub: &rsaKey.PublicKey},
		{name: "PKCS #8 RSA key, group-readable (warned)", alg: AlgRS256, path: writePEM(t, "PRIVATE KEY", pkcs8, 0o640), pub: &rsaKey.PublicKey},
		{name: "algorithm mismatch", alg: AlgES256, path: writePEM(t, "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rsaKey), 0o600), wantErr: "not ES256"},
		{name: "small RSA key", alg: AlgRS256, path: writePEM(t, "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(smallRSA), 0o600), wantErr: "2048"},
		{name: "P-384 key", alg: AlgES256, path: writePEM(t, "EC PRIVATE KEY", p384DER, 0o600), wantErr: "P-256"},
		{name: "not a key", alg: AlgES256, path: writePEM(t, "CERTIFICATE", []byte("x"), 0o600), wantErr: "no PEM private key"},
		{name: "garbage in a key block", alg: AlgES256, path: writePEM(t, "PRIVATE KEY", []byte("garbage"), 0o600), wantErr: "does not parse"},
		{name: "encrypted", alg: AlgES256, path: writePEM(t, "ENCRYPTED PRIVATE KEY", []byte("x"), 0o600), wantErr: "encrypted"},
		{name: "missing file", alg: AlgES256, path: filepath.Join(t.TempDir(), "none.pem"), wantErr: "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs syncBuffer
			cfg := testIssuerConfig("", newClock(), testLogger(&logs))
			cfg.KeyFile, cfg.Algorithm = tt.path, tt.alg
			iss, err := NewIssuer(cfg)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			kid, _ := thumbprint(tt.pub)
			if got := jwksKids(t, iss); !slices.Equal(got, []string{kid}) {
				t.Fatalf("kids %v, want %s", got, kid)
			}
			tok := getToken(t, serveIssuer(t, iss), readerClientID, readerSecret, "")
			if head, _ := jwtParts(t, tok); head["alg"] != tt.alg || head["kid"] != kid {
				t.Fatalf("header %v", head)
			}
			if _, err := iss.Verify(tok); err != nil {
				t.Fatal(err)
			}
			if warned := strings.Contains(logs.String(), "readable by group or others"); warned != strings.Contains(tt.name, "warned") {
				t.Errorf("permission warning %v: %s", warned, logs.String())
			}
			entries, _ := os.ReadDir(filepath.Dir(tt.path))
			if len(entries) != 1 {
				t.Error("key_file mode wrote files")
			}
		})
	}
}

// Rotation signs with a new key and keeps the previous public key, and its
// tokens, until the last of them has expired; a restart keeps both.
func TestIssuerRotation(t *testing.T) {
	clk := newClock()
	dir := t.TempDir()
	var logs syncBuffer
	cfg := testIssuerConfig(dir, clk, testLogger(&logs))
	cfg.RotateEvery = testRotateEvery
	cfg.MaxSkew = testSkew
	iss, err := NewIssuer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	base := serveIssuer(t, iss)
	first := jwksKids(t, iss)

	clk.Advance(testRotateEvery - 10*time.Minute)
	oldTok := getToken(t, base, otdsClientID, otdsSecret, "") // expires 50 minutes after the rotation
	if head, _ := jwtParts(t, oldTok); head["kid"] != first[0] {
		t.Fatal("token not signed by the first key")
	}

	clk.Advance(10 * time.Minute) // rotation due
	newTok := getToken(t, base, otdsClientID, otdsSecret, "")
	newHead, _ := jwtParts(t, newTok)
	if newHead["kid"] == first[0] {
		t.Fatal("no rotation")
	}
	both := jwksKids(t, iss)
	if len(both) != 2 || !slices.Contains(both, first[0]) {
		t.Fatalf("JWKS after rotation: %v", both)
	}
	for _, tok := range []string{oldTok, newTok} {
		if _, err := iss.Verify(tok); err != nil {
			t.Fatalf("after rotation: %v", err)
		}
	}

	// A restart keeps both keys, and signs with the new one.
	restarted, err := NewIssuer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if got := jwksKids(t, restarted); !slices.Equal(got, both) {
		t.Fatalf("JWKS after restart %v, want %v", got, both)
	}
	if _, err := restarted.Verify(oldTok); err != nil {
		t.Fatalf("old token after restart: %v", err)
	}
	tok := getToken(t, serveIssuer(t, restarted), otdsClientID, otdsSecret, "")
	if head, _ := jwtParts(t, tok); head["kid"] != newHead["kid"] {
		t.Fatal("restart does not sign with the newest key")
	}

	// Until the old key's last token expires (plus the skew) it stays.
	clk.Advance(testTokenTTL + testSkew - time.Second)
	if got := jwksKids(t, iss); len(got) != 2 {
		t.Fatalf("previous key dropped early: %v", got)
	}
	clk.Advance(2 * time.Second)
	if got := jwksKids(t, iss); len(got) != 1 || got[0] != newHead["kid"] {
		t.Fatalf("previous key kept too long: %v", got)
	}
	if _, err := iss.Verify(oldTok); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("token of the dropped key: %v", err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "signing-*.pem"))
	if len(files) != 1 {
		t.Fatalf("retired key file not removed: %v", files)
	}
	again, err := NewIssuer(cfg)
	if err != nil || !slices.Equal(jwksKids(t, again), []string{newHead["kid"].(string)}) {
		t.Fatalf("restart after retirement: %v", err)
	}
	esTok := getToken(t, serveIssuer(t, again), otdsClientID, otdsSecret, "")
	out := logs.String()
	if !strings.Contains(out, `"reason":"rotation"`) || !strings.Contains(out, "retired signing key removed") {
		t.Errorf("log: %s", out)
	}
	assertNoSecrets(t, "log", out, oldTok, newTok)

	// A changed algorithm rotates at once.
	cfg.Algorithm = AlgRS256
	rs, err := NewIssuer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	tok = getToken(t, serveIssuer(t, rs), otdsClientID, otdsSecret, "")
	if head, _ := jwtParts(t, tok); head["alg"] != AlgRS256 {
		t.Fatalf("after algorithm change: %v", head)
	}
	if got := jwksKids(t, rs); len(got) != 2 {
		t.Fatalf("the ES256 key should stay until its tokens expire: %v", got)
	}
	if _, err := rs.Verify(esTok); err != nil {
		t.Fatalf("ES256 token after switching to RS256: %v", err)
	}
}

// signOwn signs claims with the issuer's current key, with header
// overrides.
func signOwn(t *testing.T, iss *Issuer, claims jwt.MapClaims, header map[string]any) string {
	t.Helper()
	k := iss.keys[len(iss.keys)-1]
	tok := jwt.NewWithClaims(k.method(), claims)
	tok.Header["kid"] = k.kid
	tok.Header["typ"] = accessTokenType
	for name, v := range header {
		if v == nil {
			delete(tok.Header, name)
		} else {
			tok.Header[name] = v
		}
	}
	s, err := tok.SignedString(k.priv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestIssuerVerifyRefusals(t *testing.T) {
	clk := newClock()
	iss := newTestIssuer(t, clk, testLogger(&syncBuffer{}))
	now := clk.Now()
	good := func() jwt.MapClaims {
		return jwt.MapClaims{
			"iss": testIssuer, "aud": DefaultAudience, "sub": otdsClientID, "client_id": otdsClientID,
			"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Hour).Unix(), "jti": "x", "scope": "scim.read",
		}
	}
	with := func(kv ...any) jwt.MapClaims {
		c := good()
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i+1] == nil {
				delete(c, kv[i].(string))
			} else {
				c[kv[i].(string)] = kv[i+1]
			}
		}
		return c
	}
	k := iss.keys[0]
	pubDER, _ := x509.MarshalPKIXPublicKey(k.priv.Public())
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	hmacTok := func(key []byte) string {
		tok := jwt.NewWithClaims(jwt.SigningMethodHS256, good())
		tok.Header["kid"] = k.kid
		tok.Header["typ"] = accessTokenType
		s, _ := tok.SignedString(key)
		return s
	}
	noneTok := func() string {
		tok := jwt.NewWithClaims(jwt.SigningMethodNone, good())
		tok.Header["kid"] = k.kid
		tok.Header["typ"] = accessTokenType
		s, _ := tok.SignedString(jwt.UnsafeAllowNoneSignatureType)
		return s
	}
	otherKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	forged := jwt.NewWithClaims(jwt.SigningMethodES256, good())
	forged.Header["kid"] = k.kid
	forged.Header["typ"] = accessTokenType
	forgedTok, _ := forged.SignedString(otherKey)
	valid := signOwn(t, iss, good(), nil)
	parts := strings.Split(valid, ".")
	tampered := parts[0] + "." + encodeSeg(t, with("scope", "scim.read scim.write admin")) + "." + parts[2]

	tests := []struct {
		name  string
		token string
		want  error
	}{
		{name: "valid", token: valid},
		{name: "alg none", token: noneTok(), want: ErrAlgNone},
		{name: "HS256 with the public key PEM", token: hmacTok(pubPEM), want: ErrAlgHMAC},
		{name: "HS256 with the public key DER", token: hmacTok(pubDER), want: ErrAlgHMAC},
		{name: "RS256 header on an ES256 key", token: signOwn(t, iss, good(), map[string]any{"alg": "RS256"}), want: ErrAlgNotAllowed},
		{name: "ES384", token: signOwn(t, iss, good(), map[string]any{"alg": "ES384"}), want: ErrAlgNotAllowed},
		{name: "forged signature", token: forgedTok, want: ErrBadSignature},
		{name: "tampered claims", token: tampered, want: ErrBadSignature},
		{name: "unknown kid", token: signOwn(t, iss, good(), map[string]any{"kid": "nope"}), want: ErrUnknownKey},
		{name: "no kid", token: signOwn(t, iss, good(), map[string]any{"kid": nil}), want: ErrUnknownKey},
		{name: "typ JWT", token: signOwn(t, iss, good(), map[string]any{"typ": "JWT"}), want: ErrNotAccessToken},
		{name: "other issuer", token: signOwn(t, iss, with("iss", "https://evil.example.com"), nil), want: ErrUnknownIssuer},
		{name: "wrong audience", token: signOwn(t, iss, with("aud", "someone-else"), nil), want: ErrWrongAudience},
		{name: "no audience", token: signOwn(t, iss, with("aud", nil), nil), want: ErrMissingClaim},
		{name: "expired", token: signOwn(t, iss, with("exp", now.Add(-2*time.Minute).Unix()), nil), want: ErrTokenExpired},
		{name: "expired within skew", token: signOwn(t, iss, with("exp", now.Add(-30*time.Second).Unix()), nil)},
		{name: "no exp", token: signOwn(t, iss, with("exp", nil), nil), want: ErrMissingClaim},
		{name: "nbf in the future", token: signOwn(t, iss, with("nbf", now.Add(5*time.Minute).Unix()), nil), want: ErrTokenNotYetValid},
		{name: "iat in the future", token: signOwn(t, iss, with("iat", now.Add(5*time.Minute).Unix()), nil), want: ErrTokenNotYetValid},
		{name: "exp a string", token: signOwn(t, iss, with("exp", "tomorrow"), nil), want: ErrMalformedToken},
		{name: "no sub", token: signOwn(t, iss, with("sub", nil), nil), want: ErrMissingClaim},
		{name: "client_id differs from sub", token: signOwn(t, iss, with("client_id", readerClientID), nil), want: ErrMissingClaim},
		{name: "unknown client", token: signOwn(t, iss, with("sub", "ghost", "client_id", "ghost"), nil), want: ErrClientRevoked},
		{name: "scope beyond the client", token: signOwn(t, iss, with("sub", readerClientID, "client_id", readerClientID, "scope", "scim.read admin"), nil), want: ErrClientRevoked},
		{name: "no scope", token: signOwn(t, iss, with("scope", nil), nil), want: ErrNoBridgeScope},
		{name: "garbage", token: "garbage", want: ErrMalformedToken},
		{name: "three dots of garbage", token: "a.b.c", want: ErrMalformedToken},
		{name: "header not JSON", token: "bm90IGpzb24.e30.c2ln", want: ErrMalformedToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := iss.Verify(tt.token)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if err != nil {
				if p != nil {
					t.Fatal("principal with an error")
				}
				if !errors.Is(err, ErrInvalidToken) {
					t.Error("refusal does not match ErrInvalidToken")
				}
				if strings.Contains(err.Error(), tt.token) || len(err.Error()) > 60 {
					t.Errorf("error text %q", err)
				}
			}
		})
	}
}
