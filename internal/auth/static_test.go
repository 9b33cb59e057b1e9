package auth

import (
	"errors"
	"net/http"
	"slices"
	"testing"

	"github.com/scimbridge/scimbridge/schemas"
)

func TestStaticTokens(t *testing.T) {
	s, err := NewStaticTokens([]Token{
		{Name: "okta", SHA256: HashToken("okta-token-0123456789")},
		{Name: "audit", Token: "audit-token-0123456789", Scopes: []string{schemas.ScopeRead}},
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		header     string
		wantName   string
		wantScopes []string
		wantErr    error
	}{
		{name: "hashed token", header: "Bearer okta-token-0123456789", wantName: "okta", wantScopes: []string{schemas.ScopeRead, schemas.ScopeWrite}},
		{name: "scheme is case-insensitive", header: "bearer okta-token-0123456789", wantName: "okta", wantScopes: []string{schemas.ScopeRead, schemas.ScopeWrite}},
		{name: "plain token, read-only", header: "Bearer audit-token-0123456789", wantName: "audit", wantScopes: []string{schemas.ScopeRead}},
		{name: "wrong token", header: "Bearer okta-token-0123456780", wantErr: ErrInvalidToken},
		{name: "no header", header: "", wantErr: schemas.ErrNoCredentials},
		{name: "basic auth", header: "Basic b2t0YTp4", wantErr: schemas.ErrNoCredentials},
		{name: "empty bearer", header: "Bearer   ", wantErr: schemas.ErrNoCredentials},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, _ := http.NewRequest("GET", "/", nil)
			if tt.header != "" {
				r.Header.Set("Authorization", tt.header)
			}
			p, err := s.Authenticate(r)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if p.Name != tt.wantName || !slices.Equal(p.Scopes, tt.wantScopes) {
				t.Fatalf("principal = %+v", p)
			}
		})
	}
}

func TestTokenValidation(t *testing.T) {
	tests := []struct {
		name string
		tok  Token
		errs int
	}{
		{name: "ok", tok: Token{Name: "a", SHA256: HashToken("x")}},
		{name: "no name, no secret", tok: Token{}, errs: 2},
		{name: "both secrets", tok: Token{Name: "a", SHA256: HashToken("x"), Token: "0123456789abcdef"}, errs: 1},
		{name: "bad hash", tok: Token{Name: "a", SHA256: "zz"}, errs: 1},
		{name: "short plain token", tok: Token{Name: "a", Token: "short"}, errs: 1},
		{name: "unknown scope", tok: Token{Name: "a", SHA256: HashToken("x"), Scopes: []string{"root"}}, errs: 1},
		{name: "networks", tok: Token{Name: "a", SHA256: HashToken("x"), Networks: []string{"10.0.0.0/8", "192.0.2.7", "2001:db8::/32"}}},
		{name: "bad networks", tok: Token{Name: "a", SHA256: HashToken("x"), Networks: []string{"10.0.0.0/33", "example.com", ""}}, errs: 3},
	}
	for _, tt := range tests {
		if got := tt.tok.Validate(); len(got) != tt.errs {
			t.Errorf("%s: Validate() = %v, want %d problems", tt.name, got, tt.errs)
		}
	}
	if _, err := NewStaticTokens([]Token{{Name: "a", SHA256: HashToken("x")}, {Name: "a", SHA256: HashToken("y")}}); err == nil {
		t.Error("duplicate names accepted")
	}
}

func TestStaticTokenNetworks(t *testing.T) {
	s, err := NewStaticTokens([]Token{
		{Name: "open", Token: staticTestToken},
		{Name: "lan", Token: staticNetToken, Networks: []string{internalNetwork, "2001:db8::/32"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, token, remote string
		want                error
	}{
		{name: "unrestricted, anywhere", token: staticTestToken, remote: outsideAddr},
		{name: "inside", token: staticNetToken, remote: internalAddr},
		{name: "inside, IPv4-mapped IPv6", token: staticNetToken, remote: "[::ffff:10.9.8.7]:1234"},
		{name: "inside, IPv6", token: staticNetToken, remote: "[2001:db8::1]:1234"},
		{name: "outside", token: staticNetToken, remote: outsideAddr, want: ErrNetworkNotAllowed},
		{name: "outside, IPv6", token: staticNetToken, remote: "[2001:db9::1]:1234", want: ErrNetworkNotAllowed},
		{name: "address unknown", token: staticNetToken, remote: "somewhere", want: ErrNetworkNotAllowed},
		{name: "wrong token inside", token: staticNetToken + "x", remote: internalAddr, want: ErrInvalidToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := s.Authenticate(requestFrom("Bearer "+tt.token, tt.remote))
			if !errors.Is(err, tt.want) || (err == nil) != (tt.want == nil) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if err != nil && (p != nil || err.Error() != ErrInvalidToken.Error()) {
				t.Fatalf("refusal %v says more than ErrInvalidToken", err)
			}
		})
	}
	// Verify knows no address: restricted tokens are refused.
	if _, err := s.Verify(staticNetToken); !errors.Is(err, ErrNetworkNotAllowed) {
		t.Errorf("Verify of a restricted token: %v", err)
	}
	if p, err := s.Verify(staticTestToken); err != nil || p.Name != "open" {
		t.Errorf("Verify of an unrestricted token: %v %v", p, err)
	}
}
