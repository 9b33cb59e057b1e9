package directory

import (
	"context"
	"time"
)

// Entry is one directory object as a driver read it.
type Entry struct {
	// Ref is how other entries refer to this one: the DN over LDAP, the
	// object id over OTDS REST. Group members and memberOf values are Refs.
	Ref string
	// Attrs maps attribute names, lower-cased, to their values. Binary
	// values (objectGUID) are raw bytes in a string.
	Attrs map[string][]string
}

// First returns the first value of an attribute (name in any case), or "".
func (e Entry) First(name string) string {
	if v := e.Attrs[lower(name)]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// Values returns all values of an attribute (name in any case).
func (e Entry) Values(name string) []string { return e.Attrs[lower(name)] }

// Source streams a directory's users and groups in scope. Implementations
// read every page; they return an error, never a partial result, when a
// read fails part-way, so a directory outage cannot look like deletions.
type Source interface {
	// Users calls fn for every user entry in scope.
	Users(ctx context.Context, fn func(Entry) error) error
	// Groups calls fn for every group entry in scope.
	Groups(ctx context.Context, fn func(Entry) error) error
	// Close releases connections.
	Close() error
}

// ChangeSource is a Source that can list what changed since a time (LDAP
// modifyTimestamp). Removals are not visible this way: full reads find them.
type ChangeSource interface {
	Source
	UsersChangedSince(ctx context.Context, since time.Time, fn func(Entry) error) error
	GroupsChangedSince(ctx context.Context, since time.Time, fn func(Entry) error) error
}

// Prober is a Source that can check cheaply, without reading users, that
// the directory answers the way reads need it to: the LDAP driver dials,
// binds and reads each search base's entry. Probe returns an *Error (see
// CauseOf) when it does not. Health checks call it on a timer.
type Prober interface {
	Probe(ctx context.Context) error
}
