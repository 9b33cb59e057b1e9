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

func memberIDs(g *schemas.Group) []string {
	ids := make([]string, 0, len(g.Members))
	for _, m := range g.Members {
		ids = append(ids, m.Value)
	}
	return ids
}

// CreateGroup stores a new group with its members; the members' HubSpot
// roles and teams follow.
func (s *Service) CreateGroup(ctx context.Context, actor schemas.Actor, g *schemas.Group) (*schemas.Group, error) {
	var out *schemas.Group
	w := pending{}
	err := s.store.Update(ctx, func(tx store.Tx) error {
		if err := tx.CreateGroup(g); err != nil {
			return err
		}
		if err := s.desireGroupTeam(tx, w, g.ID, g); err != nil {
			return err
		}
		if err := s.desireMembers(tx, w, memberIDs(g)); err != nil {
			return err
		}
		if err := audit(tx, actor, ActionCreate, kindGroup, g.ID, changedAttributes(nil, g)); err != nil {
			return err
		}
		var err error
		out, err = tx.GetGroup(g.ID, true)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, s.settle(ctx, w, nil)
}

// ReplaceGroup replaces a group's attributes and member list (PUT).
func (s *Service) ReplaceGroup(ctx context.Context, actor schemas.Actor, g *schemas.Group, expect int64) (*schemas.Group, error) {
	var out *schemas.Group
	w := pending{}
	err := s.store.Update(ctx, func(tx store.Tx) error {
		cur, err := tx.GetGroup(g.ID, true)
		if err != nil {
			return err
		}
		if err := checkVersion(kindGroup, g.ID, cur.Meta.Version, expect); err != nil {
			return err
		}
		if err := s.replaceGroup(tx, w, actor, ActionReplace, cur, g, changedGroup(cur, g)); err != nil {
			return err
		}
		out, err = tx.GetGroup(g.ID, true)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, s.settle(ctx, w, nil)
}

// replaceGroup writes next over cur when something changed and recomputes
// the users the change affects: those who joined or left, and on a rename
// every member (a group's name can map to a role or team).
func (s *Service) replaceGroup(tx store.Tx, w pending, actor schemas.Actor, action string, cur, next *schemas.Group, changed []string) error {
	if len(changed) == 0 {
		return nil
	}
	moved, err := tx.ReplaceGroup(next)
	if err != nil {
		return err
	}
	affected := moved
	if !strings.EqualFold(cur.DisplayName, next.DisplayName) {
		affected = append(slices.Clone(moved), memberIDs(next)...)
	}
	if cur.DisplayName != next.DisplayName {
		if err := s.desireGroupTeam(tx, w, next.ID, next); err != nil {
			return err
		}
	}
	if err := s.desireMembers(tx, w, affected); err != nil {
		return err
	}
	return audit(tx, actor, action, kindGroup, next.ID, changed)
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
		slices.SortFunc(c.Members, func(a, b schemas.Member) int { return strings.Compare(a.Value, b.Value) })
		return &c
	}
	return changedAttributes(strip(cur), strip(next))
}

// PatchGroup applies mutate to the current group (members loaded) in one
// transaction.
func (s *Service) PatchGroup(ctx context.Context, actor schemas.Actor, id string, expect int64, mutate func(*schemas.Group) ([]string, error)) (*schemas.Group, error) {
	var out *schemas.Group
	w := pending{}
	err := s.store.Update(ctx, func(tx store.Tx) error {
		cur, err := tx.GetGroup(id, true)
		if err != nil {
			return err
		}
		if err := checkVersion(kindGroup, id, cur.Meta.Version, expect); err != nil {
			return err
		}
		before := *cur
		before.Members = slices.Clone(cur.Members)
		changed, err := mutate(cur)
		if err != nil {
			return err
		}
		if err := s.replaceGroup(tx, w, actor, ActionPatch, &before, cur, changed); err != nil {
			return err
		}
		out = cur
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, s.settle(ctx, w, nil)
}

// DeleteGroup removes a group; its former members' roles and teams follow.
func (s *Service) DeleteGroup(ctx context.Context, actor schemas.Actor, id string, expect int64) error {
	w := pending{}
	err := s.store.Update(ctx, func(tx store.Tx) error {
		cur, err := tx.GetGroup(id, false)
		if err != nil {
			return err
		}
		if err := checkVersion(kindGroup, id, cur.Meta.Version, expect); err != nil {
			return err
		}
		former, err := tx.DeleteGroup(id)
		if err != nil {
			return err
		}
		if err := s.desireGroupTeam(tx, w, id, nil); err != nil {
			return err
		}
		if err := s.desireMembers(tx, w, former); err != nil {
			return err
		}
		return audit(tx, actor, ActionDelete, kindGroup, id, nil)
	})
	if err != nil {
		return err
	}
	return s.settle(ctx, w, nil)
}

// desireGroupTeam notes a group's HubSpot team change when teams are managed.
func (s *Service) desireGroupTeam(tx store.Tx, w pending, id string, g *schemas.Group) error {
	if s.engine == nil {
		return nil
	}
	p, err := s.engine.desireTeam(tx, id, g)
	if err != nil || p == nil {
		return err
	}
	w[teamKey(id)] = p.DesiredVersion
	return nil
}
