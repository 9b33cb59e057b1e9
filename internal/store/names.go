package store

import (
	"context"
	"strconv"

	"github.com/scimbridge/scimbridge/schemas"
)

// NameProblem is a stored user whose userName or email breaks a rule that
// writes enforce (see schemas.PrepareNames and Tx.CreateUser): its
// userName has the RFC 8265 comparison key of another user's
// (NameCollides), or the PRECIS UsernameCaseMapped profile refuses its
// userName or an email value (NameRefused). Only users stored
// before the rules can have one; stores keep them as they are, readable,
// changeable and deletable, and report them for an administrator to fix.
type NameProblem struct {
	UserID   string `json:"userId"`
	UserName string `json:"userName"`
	// Attribute is "userName" or "emails".
	Attribute string `json:"attribute"`
	Value     string `json:"value"`
	Kind      string `json:"kind"`
	// Detail says why the value is refused, or the key it shares.
	Detail string `json:"detail"`
	// With lists the other users whose userName has the same key
	// (NameCollides), in creation order.
	With []string `json:"with,omitempty"`
}

// NameProblem kinds.
const (
	NameCollides = "collides"
	NameRefused  = "refused"
)

// NameChecker is implemented by drivers that can list their NameProblems
// without changing anything.
type NameChecker interface {
	CheckNames(ctx context.Context) ([]NameProblem, error)
}

// NameAudit finds the NameProblems among the users given to Add, so that
// every driver reports by the same rules.
type NameAudit struct {
	names   keyIndex
	refused []NameProblem
}

type nameHolder struct{ id, userName string }

// keyIndex groups holders by key, remembering the order keys came in.
type keyIndex struct {
	order []string
	by    map[string][]nameHolder
}

func (k *keyIndex) add(key string, h nameHolder) {
	if k.by == nil {
		k.by = map[string][]nameHolder{}
	}
	if _, ok := k.by[key]; !ok {
		k.order = append(k.order, key)
	}
	k.by[key] = append(k.by[key], h)
}

// Add records one stored user. Users should come in creation order.
func (a *NameAudit) Add(u *schemas.User) {
	a.names.add(schemas.UsernameFold(u.UserName), nameHolder{u.ID, u.UserName})
	if msg := schemas.CheckUserName(u.UserName); msg != "" {
		a.refused = append(a.refused, NameProblem{UserID: u.ID, UserName: u.UserName, Attribute: "userName",
			Value: u.UserName, Kind: NameRefused, Detail: msg})
	}
	for _, e := range u.Emails {
		if msg := schemas.CheckEmail(e.Value); msg != "" {
			a.refused = append(a.refused, NameProblem{UserID: u.ID, UserName: u.UserName, Attribute: "emails",
				Value: e.Value, Kind: NameRefused, Detail: msg})
		}
	}
}

// Problems lists what Add found: collisions, key by key in the order the
// keys came, each user of a key in turn; then refusals.
func (a *NameAudit) Problems() []NameProblem {
	var out []NameProblem
	for _, key := range a.names.order {
		hs := a.names.by[key]
		if len(hs) < 2 {
			continue
		}
		for i, h := range hs {
			p := NameProblem{UserID: h.id, UserName: h.userName, Attribute: "userName", Value: h.userName, Kind: NameCollides,
				Detail: "userName compares equal to another user's under RFC 8265 (comparison key " + strconv.Quote(key) + ")"}
			for j, o := range hs {
				if j != i {
					p.With = append(p.With, o.id)
				}
			}
			out = append(out, p)
		}
	}
	return append(out, a.refused...)
}
