package auth

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"
	"github.com/rs/zerolog"

	"github.com/scimbridge/scimbridge/schemas"
)

// FuzzChain feeds arbitrary Authorization headers to a Chain with every
// kind of credential configured. It must never panic, never grant a
// principal to anything but the few valid tokens, and never echo the
// token in an error or a log line. Seeds: testdata/fuzz/FuzzChain. A
// bounded run: go test -run '^$' -fuzz FuzzChain -fuzztime 30s ./internal/auth/
func FuzzChain(f *testing.F) {
	clk := newClock()
	var setupLogs syncBuffer
	iss := newTestIssuer(f, clk, testLogger(&setupLogs))
	o := newOTDS(f)
	tr := newTestTrusted(f, otdsIssuers(o, clk, &setupLogs))
	static, err := NewStaticTokens([]Token{
		{Name: "okta", Token: staticTestToken},
		{Name: "lan", Token: staticNetToken, Networks: []string{internalNetwork}},
	})
	if err != nil {
		f.Fatal(err)
	}
	own, _, err := iss.issue(iss.byID[otdsClientID], []string{schemas.ScopeRead})
	if err != nil {
		f.Fatal(err)
	}
	otdsTok := sign(f, jwt.SigningMethodRS256, o.key(otdsKID), otdsKID, otdsClaims(clk.Now()))
	valid := []string{staticTestToken, own, otdsTok}

	for _, s := range []string{
		"", "Bearer", "Bearer ", "Basic b2t0YTp4", "Bearer " + staticTestToken, "Bearer " + staticNetToken,
		"Bearer " + own, "Bearer " + otdsTok, "Bearer " + own[:len(own)-2], "Bearer " + otdsTok + ".",
		"Bearer " + strings.Replace(own, ".", "..", 1), "Bearer ...", "Bearer a.b.c", "Bearer \x00.\x00.\x00",
	} {
		f.Add(s)
	}

	f.Fuzz(func(t *testing.T, authz string) {
		var logs syncBuffer
		chain := NewChain(static, iss, tr)
		chain.Log = zerolog.New(&logs).Level(zerolog.DebugLevel)
		r := requestFrom("", outsideAddr)
		r.Header["Authorization"] = []string{authz}
		p, err := chain.Authenticate(r)
		tok, _ := BearerToken(r)
		if err == nil {
			if p == nil || !slices.Contains(valid, tok) {
				t.Fatalf("principal %+v for %q", p, authz)
			}
			return
		}
		if p != nil {
			t.Fatal("principal with an error")
		}
		if !errors.Is(err, schemas.ErrNoCredentials) && !errors.Is(err, ErrInvalidToken) {
			t.Fatalf("error %v is neither ErrNoCredentials nor ErrInvalidToken", err)
		}
		if len(err.Error()) > 60 {
			t.Fatalf("long error text %q", err)
		}
		if len(tok) > 40 && (strings.Contains(err.Error(), tok) || strings.Contains(logs.String(), tok)) {
			t.Fatalf("token echoed: %v / %s", err, logs.String())
		}
		assertNoSecrets(t, "log", logs.String(), own, otdsTok)
	})
}
