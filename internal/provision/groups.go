package provision

import (
	"context"
	"slices"
	"strings"

	"github.com/scimbridge/scimbridge/internal/store"
	"github.com/scimbridge/scimbridge/schemas"
)

const kindGroup = "Group"

// GetGroup reads one group.
func (s *Service) GetGroup(ctx context.Context, id string, withMembers bool) (*schemas.Group, error) {
	return s.store.GetGroup(ctx, id, withMembers)
}

// QueryGroups answers a list request.
func (s *Service) QueryGroups(ctx context.Context, q schemas.Query) (int, []*schemas.Group, error) {
	page, err := s.store.QueryGroups(ctx, q)
	if err != nil {
		return 0, nil, err
	}
	return page.Total, page.Groups, nil
}

// CreateGroup stores a new group with its members.
func (s *Service) CreateGroup(ctx context.Context, actor schemas.Actor, g *schemas.Group) (*schemas.Group, error) {
	var out *schemas.Group
	err := s.store.Update(ctx, func(tx store.Tx) error {
		if err := tx.CreateGroup(g); err != nil {
			return err
		}
		if err := audit(tx, actor, ActionCreate, kindGroup, g.ID, changedAttributes(nil, g)); err != nil {
			return err
		}
		var err error
		out, err = tx.GetGroup(g.ID, true)
		return err
	})
	return out, err
}

// ReplaceGroup replaces a group's attributes and member list (PUT).
func (s *Service) ReplaceGroup(ctx context.Context, actor schemas.Actor, g *schemas.Group, expect int64) (*schemas.Group, error) {
	var out *schemas.Group
	err := s.store.Update(ctx, func(tx store.Tx) error {
		cur, err := tx.GetGroup(g.ID, true)
		if err != nil {
			return err
		}
		if err := checkVersion(kindGroup, g.ID, cur.Meta.Version, expect); err != nil {
			return err
		}
		if changed := changedGroup(cur, g); len(changed) > 0 {
			if _, err := tx.ReplaceGroup(g); err != nil {
				return err
			}
			if err := audit(tx, actor, ActionReplace, kindGroup, g.ID, changed); err != nil {
				return err
			}
		}
		out, err = tx.GetGroup(g.ID, true)
		return err
	})
	return out, err
}

// changedGroup compares groups by the attributes a client sets: member
// display names and $refs are derived, so only member ids count.
func changedGroup(cur, next *schemas.Group) []string {
	strip := func(g *schemas.Group) *schemas.Group {
		c := *g
		c.Members = make([]schemas.Member, len(g.Members))
		for i, m := range g.Members {
			c.Members[i] = schemas.Member{Value: m.Value}
		}
		sortMembers(c.Members)
		return &c
	}
	return changedAttributes(strip(cur), strip(next))
}

// PatchGroup applies mutate to the current group (members loaded) in one
// transaction.
func (s *Service) PatchGroup(ctx context.Context, actor schemas.Actor, id string, expect int64, mutate func(*schemas.Group) ([]string, error)) (*schemas.Group, error) {
	var out *schemas.Group
	err := s.store.Update(ctx, func(tx store.Tx) error {
		cur, err := tx.GetGroup(id, true)
		if err != nil {
			return err
		}
		if err := checkVersion(kindGroup, id, cur.Meta.Version, expect); err != nil {
			return err
		}
		changed, err := mutate(cur)
		if err != nil {
			return err
		}
		if len(changed) > 0 {
			if _, err := tx.ReplaceGroup(cur); err != nil {
				return err
			}
			if err := audit(tx, actor, ActionPatch, kindGroup, id, changed); err != nil {
				return err
			}
		}
		out = cur
		return nil
	})
	return out, err
}

// DeleteGroup removes a group.
func (s *Service) DeleteGroup(ctx context.Context, actor schemas.Actor, id string, expect int64) error {
	return s.store.Update(ctx, func(tx store.Tx) error {
		cur, err := tx.GetGroup(id, false)
		if err != nil {
			return err
		}
		if err := checkVersion(kindGroup, id, cur.Meta.Version, expect); err != nil {
			return err
		}
		if _, err := tx.DeleteGroup(id); err != nil {
			return err
		}
		return audit(tx, actor, ActionDelete, kindGroup, id, nil)
	})
}

func sortMembers(ms []schemas.Member) {
	slices.SortFunc(ms, func(a, b schemas.Member) int { return strings.Compare(a.Value, b.Value) })
}
