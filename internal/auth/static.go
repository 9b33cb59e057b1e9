package auth

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"slices"
	"strings"

	"github.com/scimbridge/scimbridge/schemas"
)

// ErrInvalidToken is returned for a token no credential matches.
var ErrInvalidToken = errors.New("the bearer token is not valid")

// knownScopes are the scopes a credential may be granted.
var knownScopes = []string{schemas.ScopeRead, schemas.ScopeWrite, schemas.ScopeAdmin}

// Token is one configured bearer token.
type Token struct {
	// Name identifies the client in logs and the audit trail.
	Name string `yaml:"name"`
	// SHA256 is the lowercase hex SHA-256 of the token: the form to keep in
	// configuration files (`printf %s "$TOKEN" | sha256sum`).
	SHA256 string `yaml:"sha256,omitempty"`
	// Token is the plain token, for demos and secrets injected through the
	// environment (SCIMBRIDGE_AUTH_TOKENS_0_TOKEN or …_TOKEN_FILE). It is
	// hashed on load and never logged.
	Token string `yaml:"token,omitempty" secret:"true"`
	// Scopes granted; empty means scim.read and scim.write. Use
	// [scim.read] for read-only clients such as governance tools, and add
	// admin for /admin endpoints.
	Scopes []string `yaml:"scopes,omitempty"`
	// Networks are the CIDR prefixes (or single addresses) the token may
	// be used from; empty means anywhere. The address is the TCP peer's
	// (forwarding headers are not believed): behind a reverse proxy, list
	// the proxy's address or leave this empty.
	Networks []string `yaml:"networks,omitempty"`
}

// Validate reports every problem with the token's configuration.
func (t Token) Validate() []error {
	var errs []error
	if strings.TrimSpace(t.Name) == "" {
		errs = append(errs, errors.New("name is required"))
	}
	switch {
	case t.SHA256 == "" && t.Token == "":
		errs = append(errs, errors.New("set sha256 (preferred) or token"))
	case t.SHA256 != "" && t.Token != "":
		errs = append(errs, errors.New("set only one of sha256 and token"))
	case t.SHA256 != "":
		if b, err := hex.DecodeString(t.SHA256); err != nil || len(b) != sha256.Size {
			errs = append(errs, errors.New("sha256 must be 64 hex digits"))
		}
	case len(t.Token) < 16:
		errs = append(errs, errors.New("token must be at least 16 characters"))
	}
	for _, s := range t.Scopes {
		if !slices.Contains(knownScopes, s) {
			errs = append(errs, fmt.Errorf("unknown scope %q (known: %s)", s, strings.Join(knownScopes, ", ")))
		}
	}
	_, netErrs := parseNetworks(t.Networks)
	return append(errs, netErrs...)
}

type entry struct {
	name   string
	hash   [sha256.Size]byte
	scopes []string
	nets   []netip.Prefix
}

// StaticTokens authenticates requests by their bearer token.
type StaticTokens struct {
	entries []entry
}

// NewStaticTokens checks and loads the configured tokens.
func NewStaticTokens(tokens []Token) (*StaticTokens, error) {
	s := &StaticTokens{}
	names := map[string]bool{}
	for i, t := range tokens {
		if errs := t.Validate(); len(errs) > 0 {
			return nil, fmt.Errorf("auth: token %d (%q): %w", i, t.Name, errors.Join(errs...))
		}
		if names[t.Name] {
			return nil, fmt.Errorf("auth: token name %q used twice", t.Name)
		}
		names[t.Name] = true
		nets, _ := parseNetworks(t.Networks) // validated
		e := entry{name: t.Name, scopes: t.Scopes, nets: nets}
		if len(e.scopes) == 0 {
			e.scopes = []string{schemas.ScopeRead, schemas.ScopeWrite}
		}
		if t.SHA256 != "" {
			b, _ := hex.DecodeString(strings.ToLower(t.SHA256))
			copy(e.hash[:], b)
		} else {
			e.hash = sha256.Sum256([]byte(t.Token))
		}
		s.entries = append(s.entries, e)
	}
	return s, nil
}

// BearerToken extracts the token of an "Authorization: Bearer …" header
// (RFC 6750 §2.1; the scheme is case-insensitive).
func BearerToken(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	return tok, tok != ""
}

// Authenticate implements the HTTP front's Authenticator.
func (s *StaticTokens) Authenticate(r *http.Request) (*schemas.Principal, error) {
	tok, ok := BearerToken(r)
	if !ok {
		return nil, schemas.ErrNoCredentials
	}
	return s.VerifyFrom(tok, remoteIP(r))
}

// Verify checks a token presented from an unknown address: tokens
// restricted to networks are refused (ErrNetworkNotAllowed). The HTTP
// front goes through Authenticate, which knows the address.
func (s *StaticTokens) Verify(token string) (*schemas.Principal, error) {
	return s.VerifyFrom(token, netip.Addr{})
}

// VerifyFrom checks a token presented from addr (the zero Addr: unknown).
// Every configured hash is compared, in constant time, so timing tells
// nothing about which one is close. A matching token used outside its
// networks fails with ErrNetworkNotAllowed, whose text does not say so.
func (s *StaticTokens) VerifyFrom(token string, addr netip.Addr) (*schemas.Principal, error) {
	sum := sha256.Sum256([]byte(token))
	match := -1
	for i := range s.entries {
		if subtle.ConstantTimeCompare(sum[:], s.entries[i].hash[:]) == 1 {
			match = i
		}
	}
	if match < 0 {
		return nil, ErrInvalidToken
	}
	e := s.entries[match]
	if !allowedFrom(e.nets, addr) {
		return nil, &deniedFrom{credential: "static token " + e.name}
	}
	return &schemas.Principal{Name: e.name, Scopes: slices.Clone(e.scopes)}, nil
}

// HashToken returns the hex SHA-256 of a token, the form kept in configuration.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}
