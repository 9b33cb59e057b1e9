package scim

import (
	"context"
	"net/http"

	"github.com/scimbridge/scimbridge/internal/review"
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

// Auditor pages through the audit trail for /admin/v1/audit.
type Auditor interface {
	Audit(ctx context.Context, after int64, limit int, resourceID string) (records any, next int64, err error)
}

// Pinger reports readiness for /readyz.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Reconciler runs and reports directory reconciles for /admin/v1/reconcile.
type Reconciler interface {
	ReconcileStatus(ctx context.Context) (any, error)
	// Reconcile runs a full reconcile now; it returns ErrBusy-like errors
	// with code ECONFLICT when another run is going.
	Reconcile(ctx context.Context, force, dryRun bool) (any, error)
}

// Reviewer runs access reviews for /admin/v1/review.
type Reviewer interface {
	// Review runs a review now (concurrent callers share one run).
	Review(ctx context.Context) (*review.Report, error)
	// LatestReview is the last scheduled review with what changed since
	// the one before; nil when none has run (or none is scheduled).
	LatestReview(ctx context.Context) (*review.Stored, error)
}

// StatusReporter reports the HubSpot provisioning queue for
// /admin/v1/provisioning.
type StatusReporter interface {
	ProvisioningStatus(ctx context.Context) (any, error)
	// Recreate replaces a user's HubSpot account, which keeps an older
	// email, by one under the user's email (POST
	// /admin/v1/provisioning/{id}/recreate).
	Recreate(ctx context.Context, actor schemas.Actor, userID string) (any, error)
	// SweepReport shows the drift sweep's last result and next run (GET
	// /admin/v1/sweep); SweepNow runs one (POST /admin/v1/sweep), an
	// ECONFLICT error while one runs.
	SweepReport(ctx context.Context) (any, error)
	SweepNow(ctx context.Context, force, dryRun bool) (any, error)
}
