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
	// ScanUsers calls fn for every user, in creation order, with groups and
	// Origin filled in (as GetUser with groups reads it). It reads in pages,
	// not in one transaction: a user that exists throughout the scan is
	// passed exactly once, as it was before or after any change made
	// meanwhile; one created or deleted meanwhile may or may not be seen.
	// fn may use the store, Update included. fn's error stops the scan and
	// is returned unchanged. fn's user is fn's to keep.
	ScanUsers(ctx context.Context, fn func(*schemas.User) error) error
	// ScanGroups is ScanUsers for groups, each with its members (as GetGroup
	// reads them) when withMembers.
	ScanGroups(ctx context.Context, withMembers bool, fn func(*schemas.Group) error) error
	// Runs lists the most recent reconcile runs, newest (last inserted)
	// first. limit <= 0 means 20; drivers cap it at 1000.
	Runs(ctx context.Context, limit int) ([]*Run, error)
	// State reads a value saved with Tx.SetState ("" when unset).
	State(ctx context.Context, key string) (string, error)

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

	// GetProvisioning returns a user's provisioning row, or an ENOTFOUND
	// error.
	GetProvisioning(ctx context.Context, userID string) (*Provisioning, error)
	// DueProvisioning lists the rows with work to do (DesiredVersion >
	// AppliedVersion) whose NextAttempt is not after now, earliest
	// NextAttempt first, then by UserID. limit <= 0 means 100; drivers cap
	// it at 1000.
	DueProvisioning(ctx context.Context, now time.Time, limit int) ([]*Provisioning, error)
	// NextProvisioningDue returns the earliest NextAttempt among the rows
	// with work to do, and false when there are none.
	NextProvisioningDue(ctx context.Context) (time.Time, bool, error)
	// ProvisioningCounts counts the rows by State, plus the key "_pending"
	// (always present) for the rows with DesiredVersion > AppliedVersion.
	// States should therefore not start with '_'.
	ProvisioningCounts(ctx context.Context) (map[string]int, error)
	// OldestPending is when the longest-waiting row that is being worked
	// on (not parked as failed or deferred, not waiting to verify a
	// removal) first ran ahead of what was applied; ok is false when
	// there is none.
	OldestPending(ctx context.Context) (t time.Time, ok bool, err error)
	// ListProvisioning pages through every row in UserID order: the rows
	// whose UserID sorts after after ("" for the first page), at most limit
	// of them (limit <= 0 means 100; drivers cap it at 1000).
	ListProvisioning(ctx context.Context, after string, limit int) ([]*Provisioning, error)
}

// Tx is the view of the database inside one write transaction.
type Tx interface {
	// Now is the transaction's timestamp; every resource written in the
	// transaction gets it as meta.lastModified.
	Now() time.Time

	GetUser(id string, withGroups bool) (*schemas.User, error)
	// CreateUser inserts u, assigning u.ID when empty and filling u.Meta.
	// userName and email values are checked and stored in NFC as
	// schemas.PrepareNames says (u is updated to match); a refused value is
	// an EINVALID error. A userName with the same RFC 8265 comparison key
	// (schemas.UsernameFold: width, case and normalization do not count)
	// as another user's is an ECONFLICT error; so is one equal to
	// another's under schemas.Fold. Emails may repeat across users (RFC
	// 7643 §4.1.2: their uniqueness is none); one HubSpot account for two
	// users is the provisioning engine's to refuse. An empty u.Origin
	// stores (and becomes)
	// schemas.OriginSCIM; an origin other than the schemas.Origin*
	// constants is an EINVALID error.
	CreateUser(u *schemas.User) error
	// ReplaceUser overwrites the stored user u.ID with u (groups and the
	// HubSpot extension are not taken from u), bumps its version and fills
	// u.Meta. When the name the user shows as a group member changes
	// (members.display: displayName, else userName), the groups holding it
	// get a new version too, as their representation changed. An empty
	// u.Origin keeps the stored origin (SCIM PUT and PATCH build the user
	// without one) and is set to it; another origin replaces it, as in
	// CreateUser. Names are checked and unique as in CreateUser, with two
	// allowances for users stored before those rules: a value the user
	// already holds may stay even if the profile now refuses it, and a
	// userName key the user already holds may stay even if another user
	// holds it too (store.NameChecker lists such users).
	ReplaceUser(u *schemas.User) error
	// DeleteUser removes the user and its group memberships; it returns the
	// ids of the groups it was a member of. The user's provisioning row is
	// kept: the HubSpot account of a deleted user still has to be removed.
	DeleteUser(id string) (groupIDs []string, err error)

	GetGroup(id string, withMembers bool) (*schemas.Group, error)
	// CreateGroup inserts g with its members. Every member must name an
	// existing user or group (EINVALID otherwise); Member.Type is filled in.
	// A displayName equal to another group's without regard to case is an
	// ECONFLICT error. g.Origin is stored as in CreateUser.
	CreateGroup(g *schemas.Group) error
	// ReplaceGroup overwrites displayName, externalId and the member list of
	// group g.ID, writing only the membership difference, and bumps the
	// version of the group and of every user who joined or left. A new
	// displayName also changes the groups attribute of every user member
	// and the members.display of every group holding g: those get a new
	// version as well. It returns the ids of the members that were added or
	// removed (not the members that stayed through a rename). g.Origin is
	// stored, or kept when empty, as in ReplaceUser.
	ReplaceGroup(g *schemas.Group) (changedMembers []string, err error)
	// DeleteGroup removes the group; it returns the ids of its former members.
	DeleteGroup(id string) (formerMembers []string, err error)

	// GetProvisioning returns a user's provisioning row, or an ENOTFOUND
	// error.
	GetProvisioning(userID string) (*Provisioning, error)
	// SetDesired upserts a user's desired HubSpot state: it is
	// SetDesiredOf(KindUser, userID, desired).
	SetDesired(userID string, desired []byte) (p *Provisioning, changed bool, err error)
	// SetDesiredOf upserts the desired HubSpot state of the row key of
	// kind. When desired differs byte-wise from the stored document, or
	// there is no row yet, the row gets desired, DesiredVersion+1, Attempts
	// 0, a zero NextAttempt (due now) and State "pending", keeping its
	// HubSpotID; otherwise nothing is written. It returns the row as it
	// then stands and whether it changed. A row keeps the kind it was
	// created with: key held by a row of another kind is an ECONFLICT
	// error, and an unknown kind an EINVALID one.
	SetDesiredOf(kind ProvisioningKind, key string, desired []byte) (p *Provisioning, changed bool, err error)
	// RecordOutcome stores what a worker did with version o.Version of the
	// user's desired state (see Outcome); an ENOTFOUND error when the row is
	// gone. The row may have moved on meanwhile (DesiredVersion >
	// o.Version): the outcome is still recorded, AppliedVersion and
	// AttemptedVersion never go back, and the newer version stays due. A
	// version the row never had (above its DesiredVersion: the row was
	// deleted and created anew meanwhile) leaves both versions alone.
	RecordOutcome(userID string, o Outcome) error
	// SetHubSpotExt replaces the user's HubSpot extension (nil removes
	// it) without a new version or meta.lastModified, as an Outcome's Ext
	// does; a user that does not exist is no error (nothing to show it on).
	// The engine uses it to show new work as pending in the transaction
	// that queues it.
	SetHubSpotExt(userID string, ext *schemas.HubSpotExt) error
	// DeleteProvisioning removes a user's row; an ENOTFOUND error when
	// there is none.
	DeleteProvisioning(userID string) error
	// LinkedUser returns the id of the user whose row (of KindUser) links
	// hubspotID, or "" when none does (or hubspotID is ""), so that two
	// bridge users never adopt one HubSpot user. Team rows link HubSpot
	// teams, whose ids are another number space, and are not looked at.
	LinkedUser(hubspotID string) (string, error)
	// ReportsOf returns the ids of the users whose enterprise extension
	// names managerID as manager.value (exactly), in id order; an index
	// lookup, not a scan.
	ReportsOf(managerID string) ([]string, error)
	// TouchProvisioning gives every row a new DesiredVersion and a zero
	// NextAttempt, making all of them due now (after a change on HubSpot's
	// side, such as its role or team catalogue, that the desired documents
	// cannot show). State and Attempts are kept. It returns the number of
	// rows.
	TouchProvisioning() (int, error)
	// TouchProvisioningOf makes one row due again now with a fresh retry
	// count (as TouchProvisioning does for all); false when there is none.
	TouchProvisioningOf(userID string) (bool, error)

	// SaveRun inserts r when r.ID is 0, assigning r.ID, and otherwise
	// overwrites run r.ID (an ENOTFOUND error when there is none).
	SaveRun(r *Run) error
	// SetState saves a small named value (e.g. the directory high-water
	// mark), replacing the key's earlier one. An empty key is an EINVALID
	// error.
	SetState(key, value string) error

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

// ProvisioningKind says what a provisioning row provisions.
type ProvisioningKind string

const (
	// KindUser rows hold a SCIM user's HubSpot account; the row key is
	// the user's id.
	KindUser ProvisioningKind = "user"
	// KindTeam rows hold a SCIM group's HubSpot team (the engine's
	// manage_teams); the engine chooses their keys apart from user ids.
	KindTeam ProvisioningKind = "team"
)

// Valid reports whether k is one of the kinds above.
func (k ProvisioningKind) Valid() bool { return k == KindUser || k == KindTeam }

// Provisioning is the provisioning engine's state of one SCIM user (or,
// of KindTeam, one group's team): the HubSpot state it should have
// (opaque to the store), its versions and the outcome of applying it. A
// row outlives its user (a deleted user's HubSpot account must still be
// removed) until the engine deletes it.
//
// Times are kept at microsecond precision and returned in UTC.
type Provisioning struct {
	// UserID is the row's key: the user's id for a row of KindUser. Keys
	// are unique across kinds.
	UserID string
	// Kind is what the row provisions, set when the row is created.
	Kind ProvisioningKind
	// Desired is the engine's JSON document, stored and returned byte for
	// byte.
	Desired []byte
	// DesiredVersion grows by one whenever Desired changes and on
	// TouchProvisioning; the row has work to do while it is ahead of
	// AppliedVersion.
	DesiredVersion int64
	// AppliedVersion is the desired version last applied successfully.
	AppliedVersion int64
	// AttemptedVersion is the desired version of the last attempt,
	// successful or not.
	AttemptedVersion int64
	// HubSpotID is the linked HubSpot user id, "" if none.
	HubSpotID string
	// State is engine-defined (pending, synced, failed, skipped, removed…).
	State     string
	LastError string
	// Attempts counts the consecutive failed attempts.
	Attempts int
	// NextAttempt is when the work is due: not before it (zero: now).
	NextAttempt time.Time
	// LastSynced is when HubSpot was last found or made in step; zero if
	// never.
	LastSynced time.Time
	// Updated is the timestamp of the transaction that last wrote the row.
	Updated time.Time
}

// Due reports whether the row has work to do at now.
func (p *Provisioning) Due(now time.Time) bool {
	return p.DesiredVersion > p.AppliedVersion && !p.NextAttempt.After(now)
}

// Outcome is what a worker records after working on one desired version.
type Outcome struct {
	// Version is the DesiredVersion the worker worked from.
	Version int64
	// Done reports success: AppliedVersion becomes max(AppliedVersion,
	// Version) and Attempts 0. Otherwise Attempts grows by one and, unless
	// the row moved on to a newer version (which stays due as it is), the
	// work is due again at NextAttempt.
	Done bool
	// HubSpotID is the link from now on ("" clears it).
	HubSpotID string
	// State and LastError replace the row's.
	State, LastError string
	// NextAttempt is the retry time of a failure.
	NextAttempt time.Time
	// Synced sets LastSynced to the transaction's time.
	Synced bool
	// Ext, when not nil and the user exists, becomes the user's HubSpot
	// extension (urn:…:hubspot:2.0:User) as stored on the user, without a
	// new version or meta.lastModified: it reports HubSpot's side and is
	// not a change of the SCIM resource. nil leaves it alone.
	Ext *schemas.HubSpotExt
	// ClearExt removes the user's HubSpot extension. Setting both Ext and
	// ClearExt is an EINVALID error.
	ClearExt bool
}

// Run is one reconcile run, recorded for status, metrics and audit. Times
// are kept at microsecond precision and returned in UTC; a zero Finished
// means the run has not ended.
type Run struct {
	ID       int64     `json:"id"`
	Kind     string    `json:"kind"` // full, incremental
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished,omitzero"`
	// Outcome is running, ok, failed, guarded (the deletion guard held it
	// back) or dry-run.
	Outcome string `json:"outcome"`
	// Counts are the planned and applied changes by kind.
	Counts map[string]int `json:"counts,omitempty"`
	Error  string         `json:"error,omitempty"`
	Forced bool           `json:"forced,omitempty"`
}
