package schemas

import (
	"errors"
	"slices"
)

// Scopes a credential may carry.
const (
	ScopeRead  = "scim.read"
	ScopeWrite = "scim.write"
	ScopeAdmin = "admin"
)

// Principal is an authenticated caller.
type Principal struct {
	// Name identifies the credential in logs and the audit trail; it is
	// never the credential itself.
	Name   string
	Scopes []string
}

// HasScope reports whether the principal was granted scope.
func (p *Principal) HasScope(scope string) bool { return slices.Contains(p.Scopes, scope) }

// ErrNoCredentials is returned by authenticators for a request carrying no
// credential they understand; the HTTP front answers 401 asking for one.
var ErrNoCredentials = errors.New("no credentials")
