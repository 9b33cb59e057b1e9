package scim_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/scimbridge/scimbridge/internal/auth"
	"github.com/scimbridge/scimbridge/internal/provision"
	"github.com/scimbridge/scimbridge/internal/store/sqlite"
	"github.com/scimbridge/scimbridge/schemas"
	"github.com/scimbridge/scimbridge/scim"
)

// BenchmarkListPage is the server's CPU for one page of 100 users (with
// their groups attribute), from routing and authentication to the
// rendered ListResponse, without the network: GET /Users?startIndex=…
// &count=100 at successive startIndexes over 10,000 users. It is what
// paging through every user costs per page.
//
//	go test -run '^$' -bench ListPage -cpuprofile cpu.out ./scim
func BenchmarkListPage(b *testing.B) {
	const users = 10_000
	cat := schemas.MustLoad()
	st, err := sqlite.Open(context.Background(), sqlite.Config{Path: filepath.Join(b.TempDir(), "bench.db")}, cat)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	svc := provision.New(st, nil, zerolog.Nop())
	ids := make([]string, users)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range 32 {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < users; i = int(next.Add(1)) - 1 {
				active := true
				u, err := svc.CreateUser(context.Background(), schemas.Actor{Name: "bench"}, &schemas.User{
					UserName: fmt.Sprintf("user%06d@bench.example.com", i), ExternalID: fmt.Sprintf("ext-%06d", i),
					DisplayName: fmt.Sprintf("Bench User %d", i), Active: &active, Title: "Engineer",
					Name:       &schemas.Name{GivenName: "Bench", FamilyName: fmt.Sprintf("User%d", i)},
					Emails:     []schemas.MultiValue{{Value: fmt.Sprintf("user%06d@bench.example.com", i), Type: "work", Primary: true}},
					Enterprise: &schemas.EnterpriseExt{Department: "Sales", EmployeeNumber: fmt.Sprint(100000 + i)},
				})
				if err != nil {
					b.Error(err)
					return
				}
				ids[i] = u.ID
			}
		})
	}
	wg.Wait()
	for g := range users / 100 {
		members := make([]schemas.Member, 100)
		for k := range members {
			members[k].Value = ids[g*100+k]
		}
		if _, err := svc.CreateGroup(context.Background(), schemas.Actor{Name: "bench"},
			&schemas.Group{DisplayName: fmt.Sprintf("Bench Group %04d", g), Members: members}); err != nil {
			b.Fatal(err)
		}
	}
	tokens, err := auth.NewStaticTokens([]auth.Token{{Name: "bench", Token: testToken, Scopes: []string{schemas.ScopeRead}}})
	if err != nil {
		b.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	front, err := scim.New(scim.Config{BaseURL: "http://bench.example/scim/v2"}, scim.Deps{
		Users: svc, Groups: svc, Ready: svc, Auth: tokens, Catalog: cat, Log: zerolog.Nop(),
		Metrics: reg, Gatherer: reg,
	})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	page := 0
	for b.Loop() {
		r := httptest.NewRequest(http.MethodGet, fmt.Sprintf("/scim/v2/Users?startIndex=%d&count=100", 1+page*100), nil)
		r.Header.Set("Authorization", "Bearer "+testToken)
		w := httptest.NewRecorder()
		front.ServeHTTP(w, r)
		if w.Code != http.StatusOK {
			b.Fatalf("%d %s", w.Code, w.Body)
		}
		b.SetBytes(int64(w.Body.Len()))
		_, _ = io.Copy(io.Discard, w.Body)
		page = (page + 1) % (users / 100)
	}
}
