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

// CreateUser stores a new user and its desired HubSpot state, then waits
// for HubSpot; a user HubSpot refuses is taken back.
func (s *Service) CreateUser(ctx context.Context, actor schemas.Actor, u *schemas.User) (*schemas.User, error) {
	w := pending{}
	defaultActive(u)
	err := s.store.Update(ctx, func(tx store.Tx) error {
		if err := tx.CreateUser(u); err != nil {
			return err
		}
		if err := s.desireUser(tx, w, u.ID, u); err != nil {
			return err
		}
		return audit(tx, actor, ActionCreate, kindUser, u.ID, changedAttributes(nil, u))
	})
	if err != nil {
		return nil, err
	}
	if err := s.settle(ctx, w, s.undoCreate(actor)); err != nil {
		return nil, err
	}
	return s.reread(ctx, u, w)
}

// defaultActive stores a user without an active attribute as active, so
// that what the bridge does (provision them) and what filters see
// (active eq true) agree. RFC 7643 gives active no default.
func defaultActive(u *schemas.User) {
	if u.Active == nil {
		t := true
		u.Active = &t
	}
}

// reread returns the user as stored after HubSpot work (with the HubSpot
// extension filled in), or u itself when nothing was waited for.
func (s *Service) reread(ctx context.Context, u *schemas.User, w pending) (*schemas.User, error) {
	if len(w) == 0 {
		return u, nil
	}
	return s.store.GetUser(ctx, u.ID, true)
}

// ReplaceUser replaces a user's attributes (PUT).
func (s *Service) ReplaceUser(ctx context.Context, actor schemas.Actor, u *schemas.User, expect int64) (*schemas.User, error) {
	w := pending{}
	defaultActive(u)
	err := s.store.Update(ctx, func(tx store.Tx) error {
		cur, err := tx.GetUser(u.ID, false)
		if err != nil {
			return err
		}
		if err := checkVersion(kindUser, u.ID, cur.Meta.Version, expect); err != nil {
			return err
		}
		changed := changedAttributes(cur, u)
		if len(changed) == 0 {
			return nil
		}
		if err := s.checkEmailChange(tx, u); err != nil {
			return err
		}
		if err := tx.ReplaceUser(u); err != nil {
			return err
		}
		next, err := tx.GetUser(u.ID, true)
		if err != nil {
			return err
		}
		if err := s.desireUser(tx, w, u.ID, next); err != nil {
			return err
		}
		return audit(tx, actor, ActionReplace, kindUser, u.ID, changed)
	})
	return s.finishUser(ctx, u.ID, w, err)
}

// finishUser waits for HubSpot and reads the user back.
func (s *Service) finishUser(ctx context.Context, id string, w pending, err error) (*schemas.User, error) {
	if err != nil {
		return nil, err
	}
	if len(w) > 0 {
		err = s.settle(ctx, w, nil)
	} else {
		err = s.stillRefused(ctx, id)
	}
	if err != nil {
		return nil, err
	}
	return s.store.GetUser(ctx, id, true)
}

// PatchUser applies mutate to the current user in one transaction.
func (s *Service) PatchUser(ctx context.Context, actor schemas.Actor, id string, expect int64, mutate func(*schemas.User) ([]string, error)) (*schemas.User, error) {
	w := pending{}
	err := s.store.Update(ctx, func(tx store.Tx) error {
		cur, err := tx.GetUser(id, true)
		if err != nil {
			return err
		}
		if err := checkVersion(kindUser, id, cur.Meta.Version, expect); err != nil {
			return err
		}
		changed, err := mutate(cur)
		if err != nil || len(changed) == 0 {
			return err
		}
		defaultActive(cur)
		if err := s.checkEmailChange(tx, cur); err != nil {
			return err
		}
		if err := tx.ReplaceUser(cur); err != nil {
			return err
		}
		if err := s.desireUser(tx, w, id, cur); err != nil {
			return err
		}
		return audit(tx, actor, ActionPatch, kindUser, id, changed)
	})
	return s.finishUser(ctx, id, w, err)
}

// DeleteUser removes a user; the leaver policy applies in HubSpot.
func (s *Service) DeleteUser(ctx context.Context, actor schemas.Actor, id string, expect int64) error {
	w := pending{}
	err := s.store.Update(ctx, func(tx store.Tx) error {
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
		if err := s.desireUser(tx, w, id, nil); err != nil {
			return err
		}
		return audit(tx, actor, ActionDelete, kindUser, id, nil)
	})
	if err != nil {
		return err
	}
	return s.settle(ctx, w, nil)
}
