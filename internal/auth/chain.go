package auth

import (
	"errors"
	"net/http"
	"net/netip"

	"github.com/rs/zerolog"

	"github.com/scimbridge/scimbridge/schemas"
)

// Chain is the HTTP front's Authenticator over every kind of credential:
// JWT-shaped bearer tokens go to the Issuer (the bridge's own tokens) or
// to Trusted (external issuers), picked by their iss; anything else is
// looked up among the static tokens. Credentials restricted to networks
// are checked against the TCP peer's address (r.RemoteAddr; forwarding
// headers are not believed): behind a reverse proxy, list the proxy's
// address or leave networks empty.
type Chain struct {
	static  *StaticTokens
	issuer  *Issuer
	trusted *Trusted

	// Log receives a debug line per refused token, and a warning when a
	// valid one is used from outside its networks. Never the token.
	Log zerolog.Logger
}

// NewChain combines the credential kinds; any may be nil. The Issuer's
// own iss takes precedence over a trusted issuer with the same iss.
func NewChain(static *StaticTokens, issuer *Issuer, trusted *Trusted) *Chain {
	return &Chain{static: static, issuer: issuer, trusted: trusted}
}

// Authenticate implements the HTTP front's Authenticator. It returns
// schemas.ErrNoCredentials for a request without a bearer token, and one
// of this package's refusals (all matching ErrInvalidToken) for a token
// it does not accept.
func (c *Chain) Authenticate(r *http.Request) (*schemas.Principal, error) {
	tok, ok := BearerToken(r)
	if !ok {
		return nil, schemas.ErrNoCredentials
	}
	addr := remoteIP(r)
	kind, p, err := c.verify(tok, addr)
	if err != nil {
		var denied *deniedFrom
		if errors.As(err, &denied) {
			c.Log.Warn().Str("credential", denied.credential).Str("remote", addr.String()).
				Msg("auth: valid credential used from outside its networks; refused")
		} else {
			c.Log.Debug().Str("credential", kind).Str("remote", addr.String()).Str("reason", err.Error()).
				Msg("auth: bearer token refused")
		}
		return nil, err
	}
	return p, nil
}

func (c *Chain) verify(tok string, addr netip.Addr) (kind string, p *schemas.Principal, err error) {
	if looksLikeJWT(tok) {
		h, err := peekJWT(tok)
		switch {
		case err != nil && c.static != nil:
			// Not a JWT after all; maybe a static token with dots.
		case err != nil:
			return "jwt", nil, err
		case c.issuer != nil && h.iss == c.issuer.cfg.Issuer:
			p, err := c.issuer.VerifyFrom(tok, addr)
			return "oauth", p, err
		case c.trusted.has(h.iss):
			p, err := c.trusted.Verify(tok)
			return "trusted issuer", p, err
		default:
			return "jwt", nil, ErrUnknownIssuer
		}
	}
	if c.static == nil {
		return "static", nil, ErrInvalidToken
	}
	p, err = c.static.VerifyFrom(tok, addr)
	return "static", p, err
}
