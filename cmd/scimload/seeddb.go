package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/scimbridge/scimbridge/internal/provision"
	"github.com/scimbridge/scimbridge/internal/store/sqlite"
	"github.com/scimbridge/scimbridge/schemas"
)

// runSeedDB writes the dataset of seed straight into a bridge database,
// with the bridge stopped: the same users and groups (userBody, groups of
// group-members), created by the same service calls a SCIM POST makes
// without HubSpot (provision.Service: the store write and its audit
// record), minus HTTP. It takes 1,000,000 users in minutes where seeding
// over HTTP takes hours.
func runSeedDB(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("seed-db", flag.ContinueOnError)
	db := fs.String("db", "", "the bridge's database file (store.path); the bridge must not be running")
	users := fs.Int("users", 100000, "users to create")
	groups := fs.Int("groups", 1000, "groups to create")
	members := fs.Int("group-members", 100, "members per group")
	prefix := fs.String("prefix", "user", "userName prefix of the users")
	conc := fs.Int("concurrency", 64, "concurrent creates (committed together by the store)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *db == "" {
		return errors.New("seed-db: --db is required")
	}
	st, err := sqlite.Open(ctx, sqlite.Config{Path: *db}, schemas.MustLoad())
	if err != nil {
		return err
	}
	defer st.Close()
	svc := provision.New(st, nil, zerolog.Nop())
	actor := schemas.Actor{Name: "seed-db"}

	each := func(n int, fn func(i int) error) error {
		var next atomic.Int64
		var wg sync.WaitGroup
		var mu sync.Mutex
		var first error
		for range *conc {
			wg.Go(func() {
				for {
					i := int(next.Add(1)) - 1
					if i >= n || ctx.Err() != nil {
						return
					}
					if err := fn(i); err != nil {
						mu.Lock()
						first = cmp.Or(first, err)
						mu.Unlock()
						return
					}
				}
			})
		}
		wg.Wait()
		return errors.Join(first, ctx.Err())
	}

	start := time.Now()
	ids := make([]string, *users)
	err = each(*users, func(i int) error {
		u, err := userFromBody(userBody(*prefix, i))
		if err != nil {
			return err
		}
		created, err := svc.CreateUser(ctx, actor, u)
		if err != nil {
			return fmt.Errorf("user %d: %w", i, err)
		}
		ids[i] = created.ID
		return nil
	})
	if err != nil {
		return err
	}
	el := time.Since(start)
	fmt.Fprintf(out, "seeded %d users in %s (%.0f/s)\n", *users, el.Round(time.Millisecond), float64(*users)/el.Seconds())
	if *users == 0 {
		return nil
	}
	start = time.Now()
	err = each(*groups, func(g int) error {
		grp := &schemas.Group{DisplayName: fmt.Sprintf("Bench Group %04d", g)}
		for k := range *members {
			grp.Members = append(grp.Members, schemas.Member{Value: ids[(g**members+k)%len(ids)]})
		}
		if _, err := svc.CreateGroup(ctx, actor, grp); err != nil {
			return fmt.Errorf("group %d: %w", g, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "seeded %d groups of %d members in %s\n", *groups, *members, time.Since(start).Round(time.Millisecond))
	return nil
}

// userFromBody reads a SCIM user body as the bridge stores it.
func userFromBody(body map[string]any) (*schemas.User, error) {
	delete(body, "schemas")
	data, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	var u schemas.User
	return &u, json.Unmarshal(data, &u)
}
