package reconcile

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/scimbridge/scimbridge/directory"
	"github.com/scimbridge/scimbridge/internal/provision"
	"github.com/scimbridge/scimbridge/schemas"
)

// Snapshot is what a read of the directory found, mapped to SCIM.
type Snapshot struct {
	Users  []*DirUser
	Groups []directory.Group
	// Skipped lists entries that could not be mapped (no external id, no
	// userName…): they are left alone, never treated as removed.
	Skipped []string
	// HighWater is the latest change timestamp seen.
	HighWater time.Time
	// Complete is true for a full read, false for a changed-since read
	// (which cannot show removals).
	Complete bool
	stored   func(ext string, sum [32]byte) bool
}

// readFull reads every user and group. Any error aborts: a partial read
// must never look like removals. stored, when set, tells whether the
// bridge already holds a user's controlled attributes exactly (by external
// id and digest): such users are kept without their serialised resource.
func readFull(ctx context.Context, src directory.Source, m *directory.Mapping, stored func(ext string, sum [32]byte) bool) (*Snapshot, error) {
	s := &Snapshot{Complete: true, stored: stored}
	if err := sourceRead(ctx, src.Users, s.addUser(m)); err != nil {
		return nil, fmt.Errorf("reconcile: reading directory users: %w", err)
	}
	if err := sourceRead(ctx, src.Groups, s.addGroup(m)); err != nil {
		return nil, fmt.Errorf("reconcile: reading directory groups: %w", err)
	}
	return s, nil
}

// readChanged reads what changed since a time.
func readChanged(ctx context.Context, src directory.ChangeSource, m *directory.Mapping, since time.Time) (*Snapshot, error) {
	s := &Snapshot{}
	if err := sourceRead(ctx, func(ctx context.Context, fn func(directory.Entry) error) error {
		return src.UsersChangedSince(ctx, since, fn)
	}, s.addUser(m)); err != nil {
		return nil, fmt.Errorf("reconcile: reading changed directory users: %w", err)
	}
	if err := sourceRead(ctx, func(ctx context.Context, fn func(directory.Entry) error) error {
		return src.GroupsChangedSince(ctx, since, fn)
	}, s.addGroup(m)); err != nil {
		return nil, fmt.Errorf("reconcile: reading changed directory groups: %w", err)
	}
	return s, nil
}

func (s *Snapshot) addUser(m *directory.Mapping) func(directory.Entry) error {
	return func(e directory.Entry) error {
		u, err := m.MapUser(e)
		if err != nil {
			s.Skipped = append(s.Skipped, err.Error())
			return nil
		}
		if u.Modified.After(s.HighWater) {
			s.HighWater = u.Modified
		}
		d, err := compactDir(&u, s.stored)
		if err != nil {
			return err
		}
		s.Users = append(s.Users, d)
		return nil
	}
}

func (s *Snapshot) addGroup(m *directory.Mapping) func(directory.Entry) error {
	return func(e directory.Entry) error {
		g, err := m.MapGroup(e)
		if err != nil {
			s.Skipped = append(s.Skipped, err.Error())
			return nil
		}
		g.Ref = refKey(g.Ref)
		for i, ref := range g.Members {
			g.Members[i] = refKey(ref)
		}
		if g.Modified.After(s.HighWater) {
			s.HighWater = g.Modified
		}
		s.Groups = append(s.Groups, g)
		return nil
	}
}

// DirUser is a directory user as the reconcile keeps it: what matching and
// comparing need, and the mapped SCIM user serialised, decoded only for the
// users a run creates or updates. A 100,000-user directory then fits in a
// third of the memory the mapped structs take.
type DirUser struct {
	Ref, ExternalID, UserName string
	// Email is the address HubSpot would know the user by.
	Email  string
	Active bool
	// Sum digests the attributes the directory controls, manager left out
	// (it is compared as a resolved id).
	Sum        [32]byte
	ManagerRef string
	MemberOf   []string
	Modified   time.Time
	// blob is the mapped user as JSON; nil when the bridge's user has the
	// same controlled attributes (Stored).
	blob []byte
}

// compactDir keeps what the reconcile needs of a mapped user. References
// are folded once here (DNs compare without regard to case), so the model's
// maps reuse them.
func compactDir(u *directory.User, stored func(string, [32]byte) bool) (*DirUser, error) {
	d := &DirUser{
		Ref: refKey(u.Ref), ExternalID: u.ExternalID, UserName: u.Resource.UserName, Email: provision.EmailOf(&u.Resource), Active: u.Resource.IsActive(),
		Sum: controlledSum(&u.Resource), ManagerRef: refKey(u.ManagerRef), MemberOf: u.MemberOf, Modified: u.Modified,
	}
	for i, ref := range d.MemberOf {
		d.MemberOf[i] = refKey(ref)
	}
	if stored == nil || !stored(d.ExternalID, d.Sum) {
		var err error
		if d.blob, err = json.Marshal(&u.Resource); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// Stored reports that the bridge's user already has this user's
// controlled attributes: the resource is then read from the store.
func (d *DirUser) Stored() bool { return d.blob == nil }

// Resource decodes the mapped SCIM user.
func (d *DirUser) Resource() (schemas.User, error) {
	var u schemas.User
	err := json.Unmarshal(d.blob, &u)
	return u, err
}

// NewSnapshot builds a full snapshot from mapped users and groups.
func NewSnapshot(users []directory.User, groups []directory.Group) (*Snapshot, error) {
	s := &Snapshot{Groups: groups, Complete: true}
	for i := range users {
		d, err := compactDir(&users[i], nil)
		if err != nil {
			return nil, err
		}
		s.Users = append(s.Users, d)
	}
	return s, nil
}
