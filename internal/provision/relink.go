package provision

import (
	"context"

	"github.com/scimbridge/scimbridge/schemas"
)

// Relink links bridge user id to the directory entry with external id to,
// where it was linked to from (as an access review saw it): the user's
// externalId becomes to and its origin the directory, so the next
// reconcile manages it. It is a write like any other (one transaction,
// HubSpot work planned, audited under actor), and refuses, changing
// nothing, when another bridge user holds to (ECONFLICT) or the user's
// externalId is no longer from (EPRECONDITION): the review is out of date.
func (s *Service) Relink(ctx context.Context, actor schemas.Actor, id, from, to string) error {
	page, err := s.store.QueryUsers(ctx, schemas.Query{Filter: schemas.Eq("externalId", to), StartIndex: 1, Count: 1})
	if err != nil {
		return err
	}
	if len(page.Users) > 0 && page.Users[0].ID != id {
		return schemas.Errorf(schemas.ECONFLICT, "bridge user %s holds that external id since the review: review again", page.Users[0].ID)
	}
	_, err = s.PatchUser(ctx, actor, id, 0, func(u *schemas.User) ([]string, error) {
		if u.ExternalID != from {
			return nil, schemas.Errorf(schemas.EPRECONDITION, "its externalId changed to %q since the review: review again", u.ExternalID)
		}
		u.ExternalID, u.Origin = to, schemas.OriginDirectory
		return []string{"externalId", "origin"}, nil
	})
	return err
}
