package reconcile

import (
	"context"
	"slices"

	"github.com/scimbridge/scimbridge/directory"
)

// ViewUser is one directory user as an access review sees it: identity,
// status, provisioning scope and groups (display names, nested membership
// included when the reconcile is configured so).
type ViewUser struct {
	ExternalID, UserName, Email string
	Active                      bool
	// InScope: the reconcile would provision the user (member of a scope
	// group, or no scope groups configured).
	InScope bool
	Groups  []string
}

// ReadView reads the whole directory and returns every user the mapping
// accepts, in external-id order, with scope and groups computed exactly as
// the reconcile computes them. Entries the mapping skips are returned as
// skipped. Any read error aborts: a partial view would report removals.
func ReadView(ctx context.Context, src directory.Source, m *directory.Mapping, cfg Config) (users []ViewUser, skipped []string, err error) {
	// Keep no serialised resources: the view needs only the compact fields.
	snap, err := readFull(ctx, src, m, func(string, [32]byte) bool { return true })
	if err != nil {
		return nil, nil, err
	}
	model := NewModel(snap)
	member := model.memberships(cfg.NestedGroups)
	users = make([]ViewUser, 0, len(model.Users))
	for _, ext := range sortedKeys(model.Users) {
		du := model.Users[ext]
		gids := member[ext]
		v := ViewUser{
			ExternalID: ext, UserName: du.UserName, Email: du.Email, Active: du.Active,
			InScope: model.inScope(gids, cfg.ScopeGroups),
		}
		for _, gid := range gids {
			if g := model.Groups[gid]; g != nil && g.Name != "" {
				v.Groups = append(v.Groups, g.Name)
			}
		}
		slices.Sort(v.Groups)
		users = append(users, v)
	}
	return users, snap.Skipped, nil
}
