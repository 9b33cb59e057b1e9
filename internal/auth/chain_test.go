package auth

import (
	"errors"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"

	"github.com/scimbridge/scimbridge/schemas"
)

// dottedStatic is a static token that looks like a JWT but is not one.
const dottedStatic = "abcdefgh.ijklmnop.qrstuvwx"

func TestChain(t *testing.T) {
	clk := newClock()
	var logs syncBuffer
	iss := newTestIssuer(t, clk, testLogger(&logs))
	o := newOTDS(t)
	tr := newTestTrusted(t, otdsIssuers(o, clk, &logs))
	static, err := NewStaticTokens([]Token{
		{Name: "okta", Token: staticTestToken, Scopes: []string{schemas.ScopeRead}},
		{Name: "lan", Token: staticNetToken, Networks: []string{internalNetwork}},
		{Name: "dotted", Token: dottedStatic},
	})
	if err != nil {
		t.Fatal(err)
	}
	chain := NewChain(static, iss, tr)
	chain.Log = testLogger(&logs)
	base := serveIssuer(t, iss)
	own := getToken(t, base, readerClientID, readerSecret, "")
	otdsTok := sign(t, jwt.SigningMethodRS256, o.key(otdsKID), otdsKID, otdsClaims(clk.Now()))
	strangerTok := sign(t, jwt.SigningMethodRS256, o.key(otdsKID), otdsKID, otdsClaims(clk.Now(), "iss", "https://stranger.example.com"))
	expiredOwn := signOwn(t, iss, jwt.MapClaims{"iss": testIssuer, "aud": DefaultAudience, "sub": readerClientID, "client_id": readerClientID,
		"scope": "scim.read", "iat": clk.Now().Add(-2 * testTokenTTL).Unix(), "exp": clk.Now().Add(-testTokenTTL).Unix()}, nil)

	tests := []struct {
		name, authz, remote string
		wantName            string
		wantErr             error
	}{
		{name: "no header", wantErr: schemas.ErrNoCredentials},
		{name: "basic", authz: "Basic b2t0YTp4", wantErr: schemas.ErrNoCredentials},
		{name: "empty bearer", authz: "Bearer ", wantErr: schemas.ErrNoCredentials},
		{name: "static", authz: "Bearer " + staticTestToken, wantName: "okta"},
		{name: "static with dots", authz: "Bearer " + dottedStatic, wantName: "dotted"},
		{name: "static inside its network", authz: "Bearer " + staticNetToken, remote: internalAddr, wantName: "lan"},
		{name: "static outside its network", authz: "Bearer " + staticNetToken, wantErr: ErrNetworkNotAllowed},
		{name: "own token", authz: "Bearer " + own, wantName: "oauth:" + readerClientID},
		{name: "own token, scheme in lower case", authz: "bearer " + own, wantName: "oauth:" + readerClientID},
		{name: "own token expired", authz: "Bearer " + expiredOwn, wantErr: ErrTokenExpired},
		{name: "OTDS token", authz: "Bearer " + otdsTok, wantName: "otds:alice"},
		{name: "JWT of an unknown issuer", authz: "Bearer " + strangerTok, wantErr: ErrUnknownIssuer},
		{name: "unknown opaque token", authz: "Bearer nope-0123456789abcdef", wantErr: ErrInvalidToken},
		{name: "JWT-shaped garbage", authz: "Bearer aaaa.bbbb.cccc", wantErr: ErrInvalidToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			remote := tt.remote
			if remote == "" {
				remote = outsideAddr
			}
			p, err := chain.Authenticate(requestFrom(tt.authz, remote))
			if !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				if p != nil {
					t.Fatal("principal with an error")
				}
				return
			}
			if p.Name != tt.wantName {
				t.Fatalf("principal %+v", p)
			}
		})
	}
	out := logs.String()
	if !strings.Contains(out, `"credential":"static token lan"`) {
		t.Errorf("network refusal not logged: %s", out)
	}
	assertNoSecrets(t, "log", out, own, otdsTok, strangerTok, expiredOwn, dottedStatic)

	// Without static tokens JWT-shaped garbage is malformed; with nothing
	// configured every token is refused.
	if _, err := NewChain(nil, iss, nil).Authenticate(requestFrom("Bearer aaaa.bbbb.cccc", testRemoteAddr)); !errors.Is(err, ErrMalformedToken) {
		t.Errorf("garbage JWT: %v", err)
	}
	if _, err := NewChain(nil, nil, nil).Authenticate(requestFrom("Bearer "+own, testRemoteAddr)); !errors.Is(err, ErrUnknownIssuer) {
		t.Errorf("empty chain, JWT: %v", err)
	}
	if _, err := NewChain(nil, nil, nil).Authenticate(requestFrom("Bearer "+staticTestToken, testRemoteAddr)); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("empty chain, opaque: %v", err)
	}
}
