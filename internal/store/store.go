package store

import (
	"context"
	"time"

	"github.com/scimbridge/scimbridge/schemas"
)

// Store is the persistence a scimbridge process needs. Implementations are
// safe for concurrent use.
type Store interface {
	Reader
	// Update runs fn in a write transaction and commits it when fn returns
	// nil. fn must only touch the database through tx and must not call
	// Update itself. Drivers may commit several callers' transactions
	// together (group commit); each caller still sees only its own outcome.
	Update(ctx context.Context, fn func(tx Tx) error) error
	// Ping reports whether the database answers.
	Ping(ctx context.Context) error
	Close() error
}

// Reader answers queries from committed data.
type Reader interface {
	// GetUser returns the user with the given id, or an ENOTFOUND error.
	// withGroups loads the read-only groups attribute.
	GetUser(ctx context.Context, id string, withGroups bool) (*schemas.User, error)
	// QueryUsers answers a list request. Results come in a stable order: the
	// sort key if given, then creation order. The filter must already be
	// validated against the User resource type; the driver may still refuse
	// a construct it cannot evaluate with an EINVALID error.
	QueryUsers(ctx context.Context, q schemas.Query) (*UserPage, error)
	// GetGroup returns the group with the given id; withMembers loads members.
	GetGroup(ctx context.Context, id string, withMembers bool) (*schemas.Group, error)
	QueryGroups(ctx context.Context, q schemas.Query) (*GroupPage, error)
	// Audit lists audit records in ascending sequence after q.After.
	Audit(ctx context.Context, q AuditQuery) ([]AuditRecord, error)
}

// Tx is the view of the database inside one write transaction.
type Tx interface {
	// Now is the transaction's timestamp; every resource written in the
	// transaction gets it as meta.lastModified.
	Now() time.Time

	GetUser(id string, withGroups bool) (*schemas.User, error)
	// CreateUser inserts u, assigning u.ID when empty and filling u.Meta.
	// A userName equal to another user's without regard to case is an
	// ECONFLICT error.
	CreateUser(u *schemas.User) error
	// ReplaceUser overwrites the stored user u.ID with u (groups and the
	// HubSpot extension are not taken from u), bumps its version and fills
	// u.Meta.
	ReplaceUser(u *schemas.User) error
	// DeleteUser removes the user and its group memberships; it returns the
	// ids of the groups it was a member of.
	DeleteUser(id string) (groupIDs []string, err error)

	GetGroup(id string, withMembers bool) (*schemas.Group, error)
	// CreateGroup inserts g with its members. Every member must name an
	// existing user or group (EINVALID otherwise); Member.Type is filled in.
	// A displayName equal to another group's without regard to case is an
	// ECONFLICT error.
	CreateGroup(g *schemas.Group) error
	// ReplaceGroup overwrites displayName, externalId and the member list of
	// group g.ID, writing only the membership difference, and bumps the
	// version of the group and of every user who joined or left. It returns
	// the ids of the members that were added or removed.
	ReplaceGroup(g *schemas.Group) (changedMembers []string, err error)
	// DeleteGroup removes the group; it returns the ids of its former members.
	DeleteGroup(id string) (formerMembers []string, err error)

	// AddAudit appends a record to the audit trail; Seq and At are filled in.
	AddAudit(rec *AuditRecord) error
	// AfterCommit registers f to run once the transaction has committed.
	AfterCommit(f func())
}

// UserPage is one page of a user query.
type UserPage struct {
	// Total is the number of users matching the filter, over all pages.
	Total int
	Users []*schemas.User
}

// GroupPage is one page of a group query.
type GroupPage struct {
	Total  int
	Groups []*schemas.Group
}

// AuditRecord is one entry of the audit trail. It never holds secrets:
// Changed lists attribute names, not values.
type AuditRecord struct {
	Seq          int64     `json:"seq"`
	At           time.Time `json:"at"`
	Actor        string    `json:"actor"`
	Action       string    `json:"action"`
	ResourceType string    `json:"resourceType"`
	ResourceID   string    `json:"resourceId"`
	RequestID    string    `json:"requestId,omitempty"`
	Changed      []string  `json:"changed,omitempty"`
	Detail       string    `json:"detail,omitempty"`
}

// AuditQuery pages through the audit trail.
type AuditQuery struct {
	// After is the last Seq already seen (0 for the start).
	After int64
	// Limit bounds the page size; drivers cap it at 1000.
	Limit int
	// ResourceID, when set, keeps only that resource's records.
	ResourceID string
}
