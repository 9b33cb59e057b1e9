package provision

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/scimbridge/scimbridge/internal/store"
	"github.com/scimbridge/scimbridge/schemas"
)

// pending collects, inside a write transaction, the users whose HubSpot
// work the request should wait for, with the desired version to wait for.
type pending map[string]int64

// desireUser computes the desired state of one user inside tx and notes it
// for waiting. u is nil for a deleted user.
func (s *Service) desireUser(tx store.Tx, w pending, userID string, u *schemas.User) error {
	if s.engine == nil {
		return nil
	}
	p, _, err := s.engine.desire(tx, userID, u)
	if err != nil || p == nil {
		return err
	}
	w[userID] = p.DesiredVersion
	return nil
}

// desireMembers recomputes the users among ids (group members whose groups
// changed); ids of groups are skipped, as memberships are not inherited.
func (s *Service) desireMembers(tx store.Tx, w pending, ids []string) error {
	if s.engine == nil {
		return nil
	}
	for _, id := range ids {
		u, err := tx.GetUser(id, true)
		if store.ErrorCode(err) == store.ENOTFOUND {
			continue
		}
		if err != nil {
			return err
		}
		if err := s.desireUser(tx, w, id, u); err != nil {
			return err
		}
	}
	return nil
}

// checkEmailChange enforces the email_change policy: HubSpot cannot change
// a user's email, so under "reject" a provisioned user's address is fixed.
func (s *Service) checkEmailChange(tx store.Tx, next *schemas.User) error {
	if s.engine == nil || s.engine.rules.EmailChange != EmailReject {
		return nil
	}
	p, err := tx.GetProvisioning(next.ID)
	if store.ErrorCode(err) == store.ENOTFOUND {
		return nil
	}
	if err != nil {
		return err
	}
	if p.HubSpotID == "" {
		return nil
	}
	var d Desired
	if err := json.Unmarshal(p.Desired, &d); err != nil {
		// Under reject the stored user's email is the one HubSpot has
		// (every change of it was refused): compare with that instead.
		s.log.Error().Err(err).Str("user_id", next.ID).Msg("the stored desired state does not decode; checking the email change against the stored user")
		cur, err := tx.GetUser(next.ID, false)
		if err != nil {
			return err
		}
		d.Email = EmailOf(cur)
	}
	if newEmail := EmailOf(next); d.Email != "" && newEmail != "" && !strings.EqualFold(newEmail, d.Email) {
		return &schemas.Error{Code: schemas.EMUTABILITY, Message: "The user's HubSpot account is " + d.Email +
			" and HubSpot cannot change a user's email; the bridge is configured to refuse the change to " + newEmail +
			" (provisioning.email_change: reject). Set it to recreate to replace the HubSpot user instead."}
	}
	return nil
}

// settle waits (bounded) for the HubSpot work of the users in w and turns
// a permanent refusal into an error. undo, when set, is called for a
// refused user before the error is returned (a create that HubSpot refused
// is taken back, so the client sees one outcome).
func (s *Service) settle(ctx context.Context, w pending, undo func(userID string) error) error {
	if s.engine == nil || len(w) == 0 || s.noWait {
		return nil
	}
	wctx := ctx
	if s.engine.cfg.Wait > 0 {
		var cancel context.CancelFunc
		wctx, cancel = context.WithTimeout(ctx, s.engine.cfg.Wait)
		defer cancel()
	}
	for id, v := range w {
		p, err := s.engine.WaitFor(wctx, id, v)
		if err != nil {
			if store.ErrorCode(err) == store.ENOTFOUND || wctx.Err() != nil {
				continue // removed and forgotten, or still working: answer now
			}
			return err
		}
		if p.State == StateFailed && p.AttemptedVersion >= v {
			if undo != nil {
				if p.HubSpotID != "" {
					// The HubSpot user was created; what failed after it
					// (profile attributes) shows on the user's extension.
					continue
				}
				// HubSpot holds nothing: take the create back.
				if err := undo(id); err != nil {
					return err
				}
			}
			return refusedError(p)
		}
	}
	return nil
}

// stillRefused returns the standing refusal of a user whose request
// changed nothing in HubSpot, so the client keeps seeing the problem.
func (s *Service) stillRefused(ctx context.Context, userID string) error {
	if s.engine == nil || s.noWait {
		return nil
	}
	p, err := s.store.GetProvisioning(ctx, userID)
	if err != nil {
		return nil
	}
	if p.State == StateFailed && p.AttemptedVersion >= p.DesiredVersion {
		return refusedError(p)
	}
	return nil
}

func refusedError(p *store.Provisioning) error {
	what := "user " + p.UserID
	if p.Kind == store.KindTeam {
		what = "the group's team"
		var d desiredTeam
		if json.Unmarshal(p.Desired, &d) == nil && d.Name != "" {
			what = "the team " + strconv.Quote(d.Name)
		}
	}
	return &schemas.Error{Code: schemas.EREFUSED, Message: "HubSpot provisioning of " + what + " failed: " + p.LastError}
}

// undoCreate takes back a created user whose HubSpot account was refused.
func (s *Service) undoCreate(actor schemas.Actor) func(string) error {
	return func(id string) error {
		return s.store.Update(context.Background(), func(tx store.Tx) error {
			if _, err := tx.DeleteUser(id); err != nil && store.ErrorCode(err) != store.ENOTFOUND {
				return err
			}
			if err := tx.DeleteProvisioning(id); err != nil && store.ErrorCode(err) != store.ENOTFOUND {
				return err
			}
			// Reports given this user as their manager lose them again.
			if s.engine != nil {
				if err := s.engine.desireReports(tx, id); err != nil {
					return err
				}
			}
			return tx.AddAudit(&store.AuditRecord{
				Actor: actor.Name, RequestID: actor.RequestID, Action: ActionDelete, ResourceType: kindUser, ResourceID: id,
				Detail: "create taken back: HubSpot refused the user",
			})
		})
	}
}
