package provision_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/scimbridge/scimbridge/hubspot"
	"github.com/scimbridge/scimbridge/hubspot/hubspotsim"
	"github.com/scimbridge/scimbridge/internal/provision"
	"github.com/scimbridge/scimbridge/internal/store"
	"github.com/scimbridge/scimbridge/internal/store/sqlite"
	"github.com/scimbridge/scimbridge/schemas"
)

// BenchmarkSweep10k sweeps a portal of 10,000 users, each a bridge user in
// step with HubSpot, and reports the HubSpot calls one sweep makes (the
// target: at most 101) beside its time.
//
//	go test -run '^$' -bench BenchmarkSweep10k -benchtime 5x ./internal/provision
func BenchmarkSweep10k(b *testing.B) {
	const n = 10_000
	ctx := context.Background()
	seed := hubspotsim.DefaultSeed()
	for i := range n {
		seed.Users = append(seed.Users, hubspotsim.SeedUser{ID: fmt.Sprint(20000000 + i), Email: fmt.Sprintf("u%05d@example.com", i),
			FirstName: "U", LastName: fmt.Sprint(i), Role: "Sales Representative"})
	}
	sim, err := hubspotsim.New(hubspotsim.Config{Seed: seed,
		Limits: hubspotsim.Limits{TenSecondly: 100000, Interval: 10 * time.Second, Daily: 10_000_000}})
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(sim.Handler())
	defer srv.Close()
	client, err := hubspot.New(hubspot.Config{BaseURL: srv.URL, Token: hubspotsim.DemoToken, RateLimit: 100000, DailyLimit: 10_000_000})
	if err != nil {
		b.Fatal(err)
	}
	st, err := sqlite.Open(ctx, sqlite.Config{Path: filepath.Join(b.TempDir(), "bridge.db")}, schemas.MustLoad())
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	// The store as the engine leaves it once every user is synced.
	for lo := 0; lo < n; lo += 1000 {
		err := st.Update(ctx, func(tx store.Tx) error {
			for i := lo; i < lo+1000; i++ {
				u := &schemas.User{UserName: fmt.Sprintf("u%05d", i), Name: &schemas.Name{GivenName: "U", FamilyName: fmt.Sprint(i)},
					Emails: []schemas.MultiValue{{Value: fmt.Sprintf("u%05d@example.com", i), Primary: true}}}
				if err := tx.CreateUser(u); err != nil {
					return err
				}
				d, _ := json.Marshal(provision.Desired{Present: true, Email: u.Emails[0].Value, FirstName: "U", LastName: fmt.Sprint(i), RoleID: "3000002"})
				p, _, err := tx.SetDesired(u.ID, d)
				if err != nil {
					return err
				}
				if err := tx.RecordOutcome(u.ID, store.Outcome{Version: p.DesiredVersion, Done: true, Synced: true,
					State: provision.StateSynced, HubSpotID: fmt.Sprint(20000000 + i)}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	rules := provision.Rules{DefaultRole: "Sales Representative"}
	engine, err := provision.NewEngine(provision.EngineConfig{SweepInterval: -1}, st, client, &rules, zerolog.Nop())
	if err != nil {
		b.Fatal(err)
	}
	if _, err := engine.LoadCatalog(ctx); err != nil {
		b.Fatal(err)
	}
	sim.ResetStats()
	b.ResetTimer()
	var res *provision.SweepResult
	for range b.N {
		if res, err = engine.Sweep(ctx, provision.SweepOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if res.Managed != n || res.Requeued != 0 {
		b.Fatalf("sweep of a portal in step: %+v", res)
	}
	b.ReportMetric(float64(sim.Stats().Total)/float64(b.N), "hubspot-calls/op")
	b.ReportMetric(float64(res.HubSpotUsers), "hubspot-users")
}
