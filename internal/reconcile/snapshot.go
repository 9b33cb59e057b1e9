package reconcile

import (
	"context"
	"fmt"
	"time"

	"github.com/scimbridge/scimbridge/directory"
)

// Snapshot is what a read of the directory found, mapped to SCIM.
type Snapshot struct {
	Users  []directory.User
	Groups []directory.Group
	// Skipped lists entries that could not be mapped (no external id, no
	// userName…): they are left alone, never treated as removed.
	Skipped []string
	// HighWater is the latest change timestamp seen.
	HighWater time.Time
	// Complete is true for a full read, false for a changed-since read
	// (which cannot show removals).
	Complete bool
}

// readFull reads every user and group. Any error aborts: a partial read
// must never look like removals.
func readFull(ctx context.Context, src directory.Source, m *directory.Mapping) (*Snapshot, error) {
	s := &Snapshot{Complete: true}
	if err := src.Users(ctx, s.addUser(m)); err != nil {
		return nil, fmt.Errorf("reconcile: reading directory users: %w", err)
	}
	if err := src.Groups(ctx, s.addGroup(m)); err != nil {
		return nil, fmt.Errorf("reconcile: reading directory groups: %w", err)
	}
	return s, nil
}

// readChanged reads what changed since a time.
func readChanged(ctx context.Context, src directory.ChangeSource, m *directory.Mapping, since time.Time) (*Snapshot, error) {
	s := &Snapshot{}
	if err := src.UsersChangedSince(ctx, since, s.addUser(m)); err != nil {
		return nil, fmt.Errorf("reconcile: reading changed directory users: %w", err)
	}
	if err := src.GroupsChangedSince(ctx, since, s.addGroup(m)); err != nil {
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
		s.Users = append(s.Users, u)
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
		if g.Modified.After(s.HighWater) {
			s.HighWater = g.Modified
		}
		s.Groups = append(s.Groups, g)
		return nil
	}
}
