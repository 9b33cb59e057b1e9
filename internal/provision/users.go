package provision

import (
	"context"

	"github.com/scimbridge/scimbridge/internal/store"
	"github.com/scimbridge/scimbridge/schemas"
)

const kindUser = "User"

// GetUser reads one user.
func (s *Service) GetUser(ctx context.Context, id string, withGroups bool) (*schemas.User, error) {
	return s.store.GetUser(ctx, id, withGroups)
}

// QueryUsers answers a list request.
func (s *Service) QueryUsers(ctx context.Context, q schemas.Query) (int, []*schemas.User, error) {
	page, err := s.store.QueryUsers(ctx, q)
	if err != nil {
		return 0, nil, err
	}
	return page.Total, page.Users, nil
}

// CreateUser stores a new user.
func (s *Service) CreateUser(ctx context.Context, actor schemas.Actor, u *schemas.User) (*schemas.User, error) {
	err := s.store.Update(ctx, func(tx store.Tx) error {
		if err := tx.CreateUser(u); err != nil {
			return err
		}
		return audit(tx, actor, ActionCreate, kindUser, u.ID, changedAttributes(nil, u))
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}

// ReplaceUser replaces a user's attributes (PUT).
func (s *Service) ReplaceUser(ctx context.Context, actor schemas.Actor, u *schemas.User, expect int64) (*schemas.User, error) {
	var out *schemas.User
	err := s.store.Update(ctx, func(tx store.Tx) error {
		cur, err := tx.GetUser(u.ID, false)
		if err != nil {
			return err
		}
		if err := checkVersion(kindUser, u.ID, cur.Meta.Version, expect); err != nil {
			return err
		}
		if changed := changedAttributes(cur, u); len(changed) > 0 {
			if err := tx.ReplaceUser(u); err != nil {
				return err
			}
			if err := audit(tx, actor, ActionReplace, kindUser, u.ID, changed); err != nil {
				return err
			}
		}
		out, err = tx.GetUser(u.ID, true)
		return err
	})
	return out, err
}

// PatchUser applies mutate to the current user in one transaction.
func (s *Service) PatchUser(ctx context.Context, actor schemas.Actor, id string, expect int64, mutate func(*schemas.User) ([]string, error)) (*schemas.User, error) {
	var out *schemas.User
	err := s.store.Update(ctx, func(tx store.Tx) error {
		cur, err := tx.GetUser(id, true)
		if err != nil {
			return err
		}
		if err := checkVersion(kindUser, id, cur.Meta.Version, expect); err != nil {
			return err
		}
		changed, err := mutate(cur)
		if err != nil {
			return err
		}
		if len(changed) > 0 {
			if err := tx.ReplaceUser(cur); err != nil {
				return err
			}
			if err := audit(tx, actor, ActionPatch, kindUser, id, changed); err != nil {
				return err
			}
		}
		out = cur
		return nil
	})
	return out, err
}

// DeleteUser removes a user.
func (s *Service) DeleteUser(ctx context.Context, actor schemas.Actor, id string, expect int64) error {
	return s.store.Update(ctx, func(tx store.Tx) error {
		cur, err := tx.GetUser(id, false)
		if err != nil {
			return err
		}
		if err := checkVersion(kindUser, id, cur.Meta.Version, expect); err != nil {
			return err
		}
		if _, err := tx.DeleteUser(id); err != nil {
			return err
		}
		return audit(tx, actor, ActionDelete, kindUser, id, nil)
	})
}
