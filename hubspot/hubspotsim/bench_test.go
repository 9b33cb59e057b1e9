package hubspotsim

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// benchSim is a portal of n users with limits off.
func benchSim(b *testing.B, n int) (*Sim, []string) {
	b.Helper()
	seed := testSeed()
	seed.Limits = Limits{TenSecondly: -1, Daily: -1}
	for i := range n {
		seed.Users = append(seed.Users, SeedUser{Email: fmt.Sprintf("u%06d@example.com", i), Role: "Sales Representative", PrimaryTeam: "NA Sales"})
	}
	sim, err := New(Config{Seed: seed})
	if err != nil {
		b.Fatal(err)
	}
	st := sim.State()
	ids := make([]string, len(st.Users))
	for i, u := range st.Users {
		ids[i] = u.ID
	}
	return sim, ids
}

// BenchmarkGetUser reads users by id over real HTTP (loopback, keep-alive).
func BenchmarkGetUser(b *testing.B) {
	sim, ids := benchSim(b, 10_000)
	srv := httptest.NewServer(sim.Handler())
	defer srv.Close()
	c := srv.Client()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		req, _ := http.NewRequest("GET", srv.URL+usersPath+"/"+ids[i%len(ids)], nil)
		req.Header.Set("Authorization", "Bearer "+tokFull)
		res, err := c.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != 200 {
			b.Fatalf("status %d", res.StatusCode)
		}
		i++
	}
}

// BenchmarkGetUserHandler is the simulator's own cost per read, without
// the network.
func BenchmarkGetUserHandler(b *testing.B) {
	sim, ids := benchSim(b, 10_000)
	h := sim.Handler()
	reqs := make([]*http.Request, len(ids))
	for i, id := range ids {
		reqs[i] = httptest.NewRequest("GET", usersPath+"/"+id, nil)
		reqs[i].Header.Set("Authorization", "Bearer "+tokFull)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, reqs[i%len(reqs)])
		if rec.Code != 200 {
			b.Fatalf("status %d", rec.Code)
		}
		i++
	}
}

// BenchmarkCreateDelete100k pushes 100,000 users in and out, as the
// bridge's benchmarks do.
func BenchmarkCreateDelete100k(b *testing.B) {
	for b.Loop() {
		sim, err := New(Config{Seed: testSeed()})
		if err != nil {
			b.Fatal(err)
		}
		h := sim.Handler()
		ids := make([]string, 0, 100_000)
		for i := range 100_000 {
			req := httptest.NewRequest("POST", usersPath, strings.NewReader(fmt.Sprintf(`{"email":"u%06d@example.com","sendWelcomeEmail":false,"roleId":%q,"primaryTeamId":%q}`, i, roleRep, teamNA)))
			req.Header.Set("Authorization", "Bearer "+tokFull)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != 201 {
				b.Fatalf("create: %d %s", rec.Code, rec.Body)
			}
			ids = append(ids, rec.Header().Get("Location"))
		}
		for _, loc := range ids {
			req := httptest.NewRequest("DELETE", loc, nil)
			req.Header.Set("Authorization", "Bearer "+tokFull)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != 204 {
				b.Fatalf("delete: %d %s", rec.Code, rec.Body)
			}
		}
	}
}

// BenchmarkCRMSearch is the cost of one CRM users search over 50,000
// records, each with a pending PATCH inside the search lag (so every
// record has two versions): an IN of 100 hs_internal_user_id values (the
// byLink index) and a full scan by email token.
func BenchmarkCRMSearch(b *testing.B) {
	seed := testSeed()
	seed.Limits = Limits{TenSecondly: -1, Daily: -1}
	const n = 50_000
	for i := range n {
		seed.Users = append(seed.Users, SeedUser{ID: fmt.Sprint(20_000_000 + i), Email: fmt.Sprintf("u%06d@example.com", i)})
	}
	// The search limit is not what is measured; the lag is kept.
	sim, err := New(Config{Seed: seed, Behaviour: Behaviour{CRMSearchPerSecond: -1}})
	if err != nil {
		b.Fatal(err)
	}
	h := sim.Handler()
	for _, r := range sim.CRMUsers() {
		req := httptest.NewRequest("PATCH", "/crm/v3/objects/users/"+r.ID, strings.NewReader(`{"properties":{"hs_job_title":"Engineer"}}`))
		req.Header.Set("Authorization", "Bearer "+tokFull)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != 200 {
			b.Fatalf("patch: %d %s", rec.Code, rec.Body)
		}
	}
	values := make([]string, 100)
	for i := range values {
		values[i] = fmt.Sprintf("%q", fmt.Sprint(20_000_000+i*487))
	}
	bodies := map[string]string{
		"IN 100 ids": `{"filterGroups":[{"filters":[{"propertyName":"hs_internal_user_id","operator":"IN","values":[` + strings.Join(values, ",") + `]}]}],"limit":100}`,
		"full scan":  `{"filterGroups":[{"filters":[{"propertyName":"hs_email","operator":"EQ","value":"u012345@example.com"}]}]}`,
	}
	for name, body := range bodies {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				req := httptest.NewRequest("POST", "/crm/v3/objects/users/search", strings.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+tokFull)
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"total":`) {
					b.Fatalf("search: %d %s", rec.Code, rec.Body)
				}
			}
		})
	}
}
