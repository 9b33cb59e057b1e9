package scim

import (
	"context"
	"net/http"

	"github.com/scimbridge/scimbridge/schemas"
)

// Users is the user service behind /Users. Errors carry a schemas.Error code.
type Users interface {
	GetUser(ctx context.Context, id string, withGroups bool) (*schemas.User, error)
	QueryUsers(ctx context.Context, q schemas.Query) (total int, users []*schemas.User, err error)
	CreateUser(ctx context.Context, actor schemas.Actor, u *schemas.User) (*schemas.User, error)
	// ReplaceUser replaces the user u.ID; expect > 0 demands that version.
	ReplaceUser(ctx context.Context, actor schemas.Actor, u *schemas.User, expect int64) (*schemas.User, error)
	// PatchUser applies mutate to the current user atomically; mutate
	// reports which attributes changed, and nothing is written when none did.
	PatchUser(ctx context.Context, actor schemas.Actor, id string, expect int64, mutate func(*schemas.User) ([]string, error)) (*schemas.User, error)
	DeleteUser(ctx context.Context, actor schemas.Actor, id string, expect int64) error
}

// Groups is the group service behind /Groups.
type Groups interface {
	GetGroup(ctx context.Context, id string, withMembers bool) (*schemas.Group, error)
	QueryGroups(ctx context.Context, q schemas.Query) (total int, groups []*schemas.Group, err error)
	CreateGroup(ctx context.Context, actor schemas.Actor, g *schemas.Group) (*schemas.Group, error)
	ReplaceGroup(ctx context.Context, actor schemas.Actor, g *schemas.Group, expect int64) (*schemas.Group, error)
	PatchGroup(ctx context.Context, actor schemas.Actor, id string, expect int64, mutate func(*schemas.Group) ([]string, error)) (*schemas.Group, error)
	DeleteGroup(ctx context.Context, actor schemas.Actor, id string, expect int64) error
}

// Authenticator turns request credentials into a principal. It returns
// schemas.ErrNoCredentials when the request carries none it understands, and any
// other error for credentials it rejects; the error text may be shown to
// the client, so it must not echo the credential.
type Authenticator interface {
	Authenticate(r *http.Request) (*schemas.Principal, error)
}

// Pinger reports readiness for /readyz.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Health reports readiness for /readyz.
type Health interface {
	// Ready is "ready", "degraded" (HubSpot or the directory in trouble:
	// writes are still taken and queued) or "unavailable" (no writes can be
	// taken), with a "check: reason" line per check in trouble. It must be
	// cheap: no network calls.
	Ready(ctx context.Context) (status string, reasons []string)
}

// healthUnavailable is the readiness status that answers 503.
const healthUnavailable = "unavailable"

// readiness is /readyz's body.
type readiness struct {
	Status  string   `json:"status"`
	Reasons []string `json:"reasons,omitempty"`
}
