package review

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/scimbridge/scimbridge/hubspot"
	"github.com/scimbridge/scimbridge/internal/provision"
	"github.com/scimbridge/scimbridge/internal/store"
	"github.com/scimbridge/scimbridge/schemas"
)

// HubSpotReader is what a review reads from HubSpot (*hubspot.Client).
type HubSpotReader interface {
	AllUsers(ctx context.Context) ([]hubspot.User, error)
	Roles(ctx context.Context) ([]hubspot.Role, error)
	Teams(ctx context.Context) ([]hubspot.Team, error)
	AllLogins(ctx context.Context, userID string) ([]hubspot.Login, error)
}

// Sources are where Collect reads a review's inputs.
type Sources struct {
	Store   store.Store
	HubSpot HubSpotReader
	// Directory reads the directory; nil when none is configured.
	Directory func(ctx context.Context) (*Directory, error)
	Rules     *provision.Rules
	Config    Config
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Collect reads the three sides concurrently: the bridge's users and
// provisioning rows, HubSpot's users, roles, teams and login activity, and
// the directory. A side that cannot be read fails the collection (a review
// on partial data would report false orphans), except the login activity:
// a portal whose token lacks the activity scope is reviewed without the
// dormancy checks, and the report says so.
func Collect(ctx context.Context, s Sources) (Inputs, error) {
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	in := Inputs{Now: now().UTC(), Rules: s.Rules, Config: s.Config}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) {
		in.Bridge, err = bridgeUsers(gctx, s.Store)
		return err
	})
	g.Go(func() (err error) {
		if in.HubSpot.Users, err = s.HubSpot.AllUsers(gctx); err != nil {
			return fmt.Errorf("review: reading HubSpot users: %w", err)
		}
		return nil
	})
	g.Go(func() (err error) {
		if in.HubSpot.Roles, err = s.HubSpot.Roles(gctx); err != nil {
			return fmt.Errorf("review: reading HubSpot roles: %w", err)
		}
		if in.HubSpot.Teams, err = s.HubSpot.Teams(gctx); err != nil {
			return fmt.Errorf("review: reading HubSpot teams: %w", err)
		}
		return nil
	})
	g.Go(func() error {
		logins, err := s.HubSpot.AllLogins(gctx, "")
		switch {
		case err == nil:
			in.HubSpot.LastLogin, in.HubSpot.LoginsKnown = LastLogins(logins), true
		case hubspot.IsForbidden(err):
			in.Notes = append(in.Notes, "HubSpot refused the login activity ("+err.Error()+"); grant the token the account-info.security.read scope")
		default:
			return fmt.Errorf("review: reading HubSpot login activity: %w", err)
		}
		return nil
	})
	if s.Directory != nil {
		g.Go(func() (err error) {
			if in.Directory, err = s.Directory(gctx); err != nil {
				return fmt.Errorf("review: reading the directory: %w", err)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return Inputs{}, err
	}
	return in, nil
}

// bridgeUsers joins the store's users with their provisioning rows. A row
// whose user was deleted is kept (its HubSpot account must go too), with
// the email from its last desired state.
func bridgeUsers(ctx context.Context, st store.Store) ([]BridgeUser, error) {
	rows := map[string]*store.Provisioning{}
	for after := ""; ; {
		page, err := st.ListProvisioning(ctx, after, 1000)
		if err != nil {
			return nil, fmt.Errorf("review: reading provisioning state: %w", err)
		}
		for _, p := range page {
			if p.Kind == store.KindTeam {
				continue // a group's team (manage_teams), not a user
			}
			p.Desired = compactDesired(p.Desired)
			rows[p.UserID] = p
		}
		if len(page) < 1000 {
			break
		}
		after = page[len(page)-1].UserID
	}
	var out []BridgeUser
	err := st.ScanUsers(ctx, func(u *schemas.User) error {
		b := BridgeUser{
			ID: u.ID, ExternalID: u.ExternalID, UserName: u.UserName, Email: provision.EmailOf(u),
			Active: u.IsActive(), Origin: u.Origin, User: u,
		}
		for _, g := range u.Groups {
			b.Groups = append(b.Groups, g.Display)
		}
		if p := rows[u.ID]; p != nil {
			withRow(&b, p)
			delete(rows, u.ID)
		}
		out = append(out, b)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("review: reading the bridge's users: %w", err)
	}
	for _, p := range rows { // deleted in the bridge, HubSpot work left
		b := BridgeUser{ID: p.UserID}
		withRow(&b, p)
		out = append(out, b)
	}
	return out, nil
}

func withRow(b *BridgeUser, p *store.Provisioning) {
	b.HubSpotID, b.State, b.LastError = p.HubSpotID, p.State, p.LastError
	b.Pending = p.DesiredVersion > p.AppliedVersion
	if b.Email == "" && len(p.Desired) > 0 {
		var d provision.Desired
		if json.Unmarshal(p.Desired, &d) == nil {
			b.Email = d.Email
		}
	}
}

// compactDesired keeps of a desired document what the review needs (the
// email), so a large portal's rows do not sit in memory whole.
func compactDesired(doc []byte) []byte {
	var d struct {
		Email string `json:"email,omitempty"`
	}
	if json.Unmarshal(doc, &d) != nil || d.Email == "" {
		return nil
	}
	out, _ := json.Marshal(d)
	return out
}
