package reconcile

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/scimbridge/scimbridge/schemas"
)

// Writer is the write path the reconcile applies plans through: the same
// service SCIM requests use (provision.Service, without waiting).
type Writer interface {
	CreateUser(ctx context.Context, actor schemas.Actor, u *schemas.User) (*schemas.User, error)
	PatchUser(ctx context.Context, actor schemas.Actor, id string, expect int64, mutate func(*schemas.User) ([]string, error)) (*schemas.User, error)
	DeleteUser(ctx context.Context, actor schemas.Actor, id string, expect int64) error
	CreateGroup(ctx context.Context, actor schemas.Actor, g *schemas.Group) (*schemas.Group, error)
	PatchGroup(ctx context.Context, actor schemas.Actor, id string, expect int64, mutate func(*schemas.Group) ([]string, error)) (*schemas.Group, error)
	DeleteGroup(ctx context.Context, actor schemas.Actor, id string, expect int64) error
}

// Actor is how reconcile changes appear in the audit trail.
var Actor = schemas.Actor{Name: "directory-reconcile"}

// applyResult counts what an apply did.
type applyResult struct {
	applied atomic.Int64
	failed  atomic.Int64
	mu      sync.Mutex
	errors  []string
}

func (r *applyResult) fail(what string, err error) {
	r.failed.Add(1)
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.errors) < 50 {
		r.errors = append(r.errors, what+": "+err.Error())
	}
}

// apply carries out a plan. Users first (creates, so that managers and
// group members exist), then the other user changes, then groups. Work is
// spread over a few goroutines so the store commits it in batches.
func apply(ctx context.Context, w Writer, p *Plan, cur *Current, workers int, progress func(done, total int)) *applyResult {
	res := &applyResult{}
	ids := map[string]string{} // external id → bridge user id
	for _, u := range cur.Users {
		if u.ExternalID != "" {
			if _, ok := ids[u.ExternalID]; !ok || u.Origin == schemas.OriginDirectory {
				ids[u.ExternalID] = u.ID
			}
		}
	}
	var idsMu sync.RWMutex
	lookup := func(ext string) string {
		idsMu.RLock()
		defer idsMu.RUnlock()
		return ids[ext]
	}
	total := len(p.Users) + len(p.Groups)
	var done atomic.Int64
	tick := func() {
		n := done.Add(1)
		if progress != nil {
			progress(int(n), total)
		}
	}
	var creates, others []UserOp
	for _, op := range p.Users {
		if op.Op == OpCreate {
			creates = append(creates, op)
		} else {
			others = append(others, op)
		}
	}
	parallel(ctx, workers, len(creates), func(i int) {
		defer tick()
		op := creates[i]
		u := *op.Desired
		if u.Enterprise != nil && u.Enterprise.Manager != nil && u.Enterprise.Manager.Value == "" {
			e := *u.Enterprise
			e.Manager = nil // set below, once the manager exists
			u.Enterprise = &e
		}
		created, err := w.CreateUser(ctx, Actor, &u)
		if err != nil {
			res.fail("create "+op.UserName, err)
			return
		}
		res.applied.Add(1)
		idsMu.Lock()
		ids[op.ExternalID] = created.ID
		idsMu.Unlock()
	})
	// Managers of users created in this run.
	var fixups []UserOp
	for _, op := range creates {
		if op.ManagerExternalID != "" && lookup(op.ExternalID) != "" {
			fixups = append(fixups, op)
		}
	}
	parallel(ctx, workers, len(fixups), func(i int) {
		op := fixups[i]
		mgr := lookup(op.ManagerExternalID)
		if mgr == "" {
			return
		}
		_, err := w.PatchUser(ctx, Actor, lookup(op.ExternalID), 0, func(u *schemas.User) ([]string, error) {
			u.Enterprise = withManager(u.Enterprise, mgr)
			return []string{schemas.EnterpriseURI}, nil
		})
		if err != nil {
			res.fail("set the manager of "+op.UserName, err)
		}
	})
	parallel(ctx, workers, len(others), func(i int) {
		defer tick()
		op := others[i]
		var err error
		switch op.Op {
		case OpDelete:
			err = w.DeleteUser(ctx, Actor, op.ID, 0)
		case OpDeactivate, OpUpdate, OpAdopt:
			desired := op.Desired
			_, err = w.PatchUser(ctx, Actor, op.ID, 0, func(u *schemas.User) ([]string, error) {
				if desired == nil { // out of scope: only deactivate
					f := false
					u.Active = &f
					return []string{"active"}, nil
				}
				next := merged(u, desired)
				if op.ManagerExternalID != "" {
					if mgr := lookup(op.ManagerExternalID); mgr != "" {
						next.Enterprise = withManager(next.Enterprise, mgr)
					}
				}
				next.ID, next.Meta, next.Groups, next.HubSpot = u.ID, u.Meta, u.Groups, u.HubSpot
				if op.Op == OpAdopt {
					next.Origin = schemas.OriginDirectory
				}
				changes := diff(u, next)
				*u = *next
				names := make([]string, 0, len(changes)+1)
				for _, c := range changes {
					names = append(names, c.Attribute)
				}
				if op.Op == OpAdopt {
					names = append(names, "origin")
				}
				return names, nil
			})
		}
		if err != nil {
			res.fail(op.Op+" "+op.UserName, err)
			return
		}
		res.applied.Add(1)
	})
	parallel(ctx, workers, len(p.Groups), func(i int) {
		defer tick()
		op := p.Groups[i]
		members := func() []schemas.Member {
			var ms []schemas.Member
			for _, ext := range op.Members {
				if id := lookup(ext); id != "" {
					ms = append(ms, schemas.Member{Value: id})
				}
			}
			return ms
		}
		var err error
		switch op.Op {
		case OpCreate:
			_, err = w.CreateGroup(ctx, Actor, &schemas.Group{DisplayName: op.Name, ExternalID: op.ExternalID,
				Members: members(), MembersLoaded: true, Origin: schemas.OriginDirectory})
		case OpUpdate, OpAdopt:
			_, err = w.PatchGroup(ctx, Actor, op.ID, 0, func(g *schemas.Group) ([]string, error) {
				g.DisplayName, g.ExternalID, g.Origin = op.Name, op.ExternalID, schemas.OriginDirectory
				g.Members = members()
				return []string{"displayName", "externalId", "members"}, nil
			})
		case OpDelete:
			err = w.DeleteGroup(ctx, Actor, op.ID, 0)
		}
		if err != nil {
			res.fail(fmt.Sprintf("%s group %s", op.Op, op.Name), err)
			return
		}
		res.applied.Add(1)
	})
	return res
}

// parallel runs fn(0..n-1) on up to workers goroutines; it stops handing
// out work when ctx ends.
func parallel(ctx context.Context, workers, n int, fn func(i int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(workers, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				fn(i)
			}
		}()
	}
	wg.Wait()
}
