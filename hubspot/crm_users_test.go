package hubspot_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/hubspot"
	"github.com/scimbridge/scimbridge/hubspot/hubspotsim"
)

const (
	settingsOnlyToken = "pat-settings-only" // settings.users.* but no crm.objects.users.*
	crmSearchEP       = "POST /crm/objects/{version}/users/search"
	link              = hubspot.DefaultCRMLinkProperty
)

// startCRMSim serves the default portal plus n users (crm%03d@example.com)
// whose records carry department and title, a stray record duplicating
// the first of them, and a token without CRM scopes.
func startCRMSim(t *testing.T, clk *fakeClock, n int, faults hubspotsim.Faults) *simServer {
	t.Helper()
	seed := hubspotsim.DefaultSeed()
	for i := range n {
		email := fmt.Sprintf("crm%03d@example.com", i)
		seed.Users = append(seed.Users, hubspotsim.SeedUser{ID: fmt.Sprint(20000000 + i), Email: email, FirstName: "Crm", LastName: fmt.Sprint(i)})
		seed.CRMUsers = append(seed.CRMUsers, hubspotsim.SeedCRMUser{Email: email,
			Properties: map[string]string{"department": fmt.Sprintf("Dept %d", i%7), "hs_job_title": "Engineer"}})
	}
	seed.CRMUsers = append(seed.CRMUsers, hubspotsim.SeedCRMUser{Properties: map[string]string{link: "20000000", "hs_job_title": "Stale copy"}})
	seed.Tokens = append(seed.Tokens, hubspotsim.SeedToken{Token: settingsOnlyToken,
		Scopes: []string{hubspotsim.ScopeUsersRead, hubspotsim.ScopeUsersWrite}})
	cfg := hubspotsim.Config{Seed: seed, Faults: faults, RandSeed: 7}
	if clk != nil {
		cfg.Now = clk.Now
	}
	return serveSim(t, cfg)
}

func TestCRMUsersSim(t *testing.T) {
	for _, version := range []string{hubspot.Version202603, hubspot.VersionV3} {
		t.Run(version, func(t *testing.T) {
			clk := newFakeClock()
			srv := startCRMSim(t, clk, 3, hubspotsim.Faults{})
			c := simClient(t, srv, clk, func(cfg *hubspot.Config) { cfg.APIVersion = version })
			runCRMContract(t, c, srv, true, clk.Advance)
			prefix := map[string]string{"2026-03": "/crm/objects/{version}/users", "v3": "/crm/v3/objects/users"}[version]
			if srv.Sim.Stats().Calls("POST "+prefix+"/search", 0) == 0 {
				t.Errorf("no searches on %s: %v", prefix, srv.Sim.Stats().Endpoints)
			}
		})
	}
}

// runCRMContract checks the users-object calls; with writable false it
// only reads.
// advance moves the simulator's clock: HubSpot makes a user's CRM record
// some time after the user, and search shows writes late.
func runCRMContract(t *testing.T, c *hubspot.Client, srv *simServer, writable bool, advance func(time.Duration)) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)

	t.Run("properties", func(t *testing.T) {
		props, err := c.CRMUserProperties(ctx)
		if err != nil {
			t.Fatal(err)
		}
		by := map[string]hubspot.Property{}
		for _, p := range props {
			by[p.Name] = p
		}
		if p, ok := by["hs_job_title"]; !ok || p.ReadOnly || p.Type != "string" || p.Label == "" {
			t.Errorf("hs_job_title %+v (present %v)", p, ok)
		}
		if p, ok := by[link]; !ok || !p.ReadOnly {
			t.Errorf("%s %+v (present %v), want read-only", link, p, ok)
		}
		if p := by["hs_availability_status"]; p.Type != "enumeration" || !slices.ContainsFunc(p.Options, func(o hubspot.PropertyOption) bool { return o.Value == "away" }) {
			t.Errorf("hs_availability_status %+v", p)
		}
		missing, readOnly, err := c.CheckCRMUserProperties(ctx, []string{"hs_job_title", "department", "favourite_colour", "hs_email"})
		if err != nil || !slices.Equal(missing, []string{"favourite_colour"}) || !slices.Equal(readOnly, []string{"hs_email"}) {
			t.Errorf("CheckCRMUserProperties = missing %v, read-only %v, %v", missing, readOnly, err)
		}
	})

	t.Run("find by link", func(t *testing.T) {
		u, err := c.FindCRMUser(ctx, link, "20000001", []string{"department", "hs_email"})
		if err != nil {
			t.Fatal(err)
		}
		if u.ID == "20000001" || u.Properties[link] != "20000001" || u.Properties["hs_email"] != "crm001@example.com" ||
			u.Properties["department"] != "Dept 1" || u.Properties["hs_object_id"] != u.ID || u.CreatedAt.IsZero() {
			t.Errorf("FindCRMUser = %+v", u)
		}
		if _, set := u.Properties["hs_job_title"]; set {
			t.Errorf("property not asked for came back: %v", u.Properties)
		}
		byID, err := c.GetCRMUser(ctx, u.ID, []string{"department", "cost_center"})
		if err != nil || byID.ID != u.ID || byID.Properties["department"] != "Dept 1" {
			t.Errorf("GetCRMUser = %+v, %v", byID, err)
		}
		if _, set := byID.Properties["cost_center"]; set {
			t.Errorf("null property decoded as a value: %v", byID.Properties)
		}

		_, err = c.FindCRMUser(ctx, link, "424242", nil)
		if !hubspot.IsNotFound(err) || !strings.Contains(err.Error(), "424242") {
			t.Errorf("FindCRMUser(unknown) = %v, want IsNotFound", err)
		}
		if _, err := c.GetCRMUser(ctx, "200999999999", nil); !hubspot.IsNotFound(err) {
			t.Errorf("GetCRMUser(unknown) = %v", err)
		}
		// Two records carry 20000000: refuse to pick one.
		if _, err := c.FindCRMUser(ctx, link, "20000000", nil); !errors.Is(err, hubspot.ErrAmbiguousCRMUser) {
			t.Errorf("FindCRMUser(duplicated) = %v, want ErrAmbiguousCRMUser", err)
		}
	})

	t.Run("batch by link", func(t *testing.T) {
		users, err := c.AllUsers(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, u := range users {
			ids = append(ids, u.ID)
		}
		got, err := c.CRMUsersByLink(ctx, link, append(ids, "424242", " "+ids[len(ids)-1]+" "), []string{"hs_email"})
		if !errors.Is(err, hubspot.ErrAmbiguousCRMUser) || !strings.Contains(err.Error(), "20000000") {
			t.Errorf("CRMUsersByLink err = %v, want the duplicate 20000000 named", err)
		}
		for _, u := range users {
			r := got[u.ID]
			switch {
			case u.ID == "20000000":
				if r != nil {
					t.Errorf("ambiguous 20000000 mapped to %+v", r)
				}
			case r == nil || r.Properties[link] != u.ID || !strings.EqualFold(r.Properties["hs_email"], u.Email):
				t.Errorf("user %s (%s): record %+v", u.ID, u.Email, r)
			}
		}
		if got["424242"] != nil || got[" "+ids[len(ids)-1]+" "] == nil {
			t.Errorf("unknown or spaced values: %v", got)
		}
	})

	if !writable {
		return
	}

	t.Run("update only given properties", func(t *testing.T) {
		u, err := c.FindCRMUser(ctx, link, "20000002", nil)
		if err != nil {
			t.Fatal(err)
		}
		out, err := c.UpdateCRMUser(ctx, u.ID, map[string]string{"department": "Finance", "cost_center": "CC-42", "hs_availability_status": "away"})
		if err != nil {
			t.Fatal(err)
		}
		if out.ID != u.ID || out.Properties["department"] != "Finance" || out.Properties["cost_center"] != "CC-42" {
			t.Errorf("UpdateCRMUser = %+v", out)
		}
		out, err = c.UpdateCRMUser(ctx, u.ID, map[string]string{"cost_center": ""})
		if err != nil {
			t.Fatal(err)
		}
		after, err := c.GetCRMUser(ctx, u.ID, []string{"department", "cost_center", "hs_job_title", "hs_availability_status", "hs_email"})
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]string{"department": "Finance", "hs_job_title": "Engineer", "hs_availability_status": "away", "hs_email": "crm002@example.com"}
		for k, v := range want {
			if after.Properties[k] != v {
				t.Errorf("%s = %q, want %q (%v)", k, after.Properties[k], v, after.Properties)
			}
		}
		if _, set := after.Properties["cost_center"]; set {
			t.Errorf("cost_center not cleared: %v", after.Properties)
		}
	})

	t.Run("refused properties", func(t *testing.T) {
		u, err := c.FindCRMUser(ctx, link, "20000001", nil)
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.UpdateCRMUser(ctx, u.ID, map[string]string{"department": "Legal", "favourite_colour": "blue", "shoe_size": "9"})
		var he *hubspot.Error
		if !hubspot.IsValidation(err) || !hubspot.IsPermanent(err) || !errors.As(err, &he) || he.Category != "VALIDATION_ERROR" {
			t.Fatalf("unknown properties: %v, want a 400 VALIDATION_ERROR", err)
		}
		if got := hubspot.UnknownProperties(err); !slices.Equal(got, []string{"favourite_colour", "shoe_size"}) {
			t.Errorf("UnknownProperties = %v (%v)", got, err)
		}
		if got := hubspot.ReadOnlyProperties(err); got != nil {
			t.Errorf("ReadOnlyProperties = %v", got)
		}
		_, err = c.UpdateCRMUser(ctx, u.ID, map[string]string{"department": "Legal", "hs_email": "x@example.com"})
		if got := hubspot.ReadOnlyProperties(err); !hubspot.IsValidation(err) || !slices.Equal(got, []string{"hs_email"}) {
			t.Errorf("read-only: ReadOnlyProperties = %v, %v", got, err)
		}
		_, err = c.UpdateCRMUser(ctx, u.ID, map[string]string{"hs_availability_status": "busy"})
		if pe := hubspot.PropertyErrors(err); len(pe) != 1 || pe[0].Name != "hs_availability_status" || pe[0].Code != hubspot.CodeInvalidOption {
			t.Errorf("invalid option: PropertyErrors = %+v, %v", pe, err)
		}
		if after, err := c.GetCRMUser(ctx, u.ID, []string{"department"}); err != nil || after.Properties["department"] != "Dept 1" {
			t.Errorf("a refused PATCH changed the record: %+v, %v", after, err)
		}
		if _, err := c.UpdateCRMUser(ctx, u.ID, nil); err == nil {
			t.Error("empty update accepted")
		}
	})

	t.Run("record follows the Settings user", func(t *testing.T) {
		created, err := c.CreateUser(ctx, hubspot.UserCreate{Email: "Follow.Me@example.com", FirstName: "Fol", LastName: "Low"})
		if err != nil {
			t.Fatal(err)
		}
		// The record is not there yet; it is once HubSpot has made it and
		// search has caught up.
		if _, err := c.FindCRMUser(ctx, link, created.ID, nil); !hubspot.IsNotFound(err) {
			t.Errorf("record of a user created this instant: %v, want not found yet", err)
		}
		advance(hubspotsim.DefaultCRMRecordDelay + hubspotsim.DefaultCRMSearchLag)
		rec, err := c.FindCRMUser(ctx, link, created.ID, []string{"hs_email", "hs_given_name"})
		if err != nil {
			t.Fatal(err)
		}
		if rec.ID == created.ID || rec.Properties["hs_email"] != "follow.me@example.com" || rec.Properties["hs_given_name"] != "Fol" {
			t.Errorf("record of the new user %+v", rec)
		}
		if _, err := c.UpdateCRMUser(ctx, rec.ID, map[string]string{"hs_job_title": "Intern"}); err != nil {
			t.Fatal(err)
		}
		if err := c.DeleteUser(ctx, created.ID); err != nil {
			t.Fatal(err)
		}
		advance(hubspotsim.DefaultCRMSearchLag)
		if _, err := c.FindCRMUser(ctx, link, created.ID, nil); !hubspot.IsNotFound(err) {
			t.Errorf("record after deleting the Settings user: %v, want not found", err)
		}
		if _, err := c.GetCRMUser(ctx, rec.ID, nil); !hubspot.IsNotFound(err) {
			t.Errorf("GetCRMUser after deletion: %v, want 404", err)
		}
		if srv != nil {
			for _, r := range srv.Sim.CRMUsers() {
				if r.ID == rec.ID && (!r.Archived || r.Properties["hs_job_title"] != "Intern") {
					t.Errorf("record after deletion %+v, want archived", r)
				}
			}
		}
	})

	t.Run("missing scope", func(t *testing.T) {
		if srv == nil {
			t.Skip("needs the simulator's settings-only token")
		}
		nc := simClient(t, srv, newFakeClock(), func(cfg *hubspot.Config) {
			cfg.Token = settingsOnlyToken
			cfg.APIVersion = c.APIVersion()
		})
		for name, call := range map[string]func() error{
			"properties": func() error { _, err := nc.CRMUserProperties(ctx); return err },
			"find":       func() error { _, err := nc.FindCRMUser(ctx, link, "20000001", nil); return err },
			"batch":      func() error { _, err := nc.CRMUsersByLink(ctx, link, []string{"20000001"}, nil); return err },
			"update": func() error {
				_, err := nc.UpdateCRMUser(ctx, "200000000001", map[string]string{"department": "x"})
				return err
			},
		} {
			err := call()
			var he *hubspot.Error
			if !hubspot.IsForbidden(err) || !errors.As(err, &he) || he.StatusCode != http.StatusForbidden {
				t.Errorf("%s: %v, want 403", name, err)
				continue
			}
			want := "crm.objects.users.read"
			if name == "update" {
				want = "crm.objects.users.write"
			}
			if !slices.Contains(he.MissingScopes(), want) {
				t.Errorf("%s: missing scopes %v, want %s", name, he.MissingScopes(), want)
			}
		}
	})
}

// TestCRMUsersByLinkBatches looks up 250 users: three searches of at most
// 100 values, every user found.
func TestCRMUsersByLinkBatches(t *testing.T) {
	clk := newFakeClock()
	srv := startCRMSim(t, clk, 250, hubspotsim.Faults{})
	c := simClient(t, srv, clk, nil)
	var ids []string
	for i := 1; i < 250; i++ { // 20000000 is duplicated on purpose; leave it out
		ids = append(ids, fmt.Sprint(20000000+i))
	}
	ids = append(ids, "10000001") // the admin
	got, err := c.CRMUsersByLink(context.Background(), link, ids, []string{"department"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 250 {
		t.Fatalf("%d of 250 users found", len(got))
	}
	for i := 1; i < 250; i++ {
		id := fmt.Sprint(20000000 + i)
		if r := got[id]; r == nil || r.Properties["department"] != fmt.Sprintf("Dept %d", i%7) {
			t.Errorf("user %s: %+v", id, r)
		}
	}
	if n := settledCalls(srv, crmSearchEP, 0, 3).Calls(crmSearchEP, 0); n != 3 {
		t.Errorf("%d searches for 250 values, want 3 (batches of %d)", n, hubspot.CRMUserBatchSize)
	}
}

// TestCRMSearchRetried: a search changes nothing, so 5xx and lost answers
// are retried like reads.
func TestCRMSearchRetried(t *testing.T) {
	srv := startCRMSim(t, nil, 120, hubspotsim.Faults{ErrorRate: 0.4, LostAnswerRate: 0.2, Methods: []string{"POST"}, Paths: []string{"/crm/"}})
	// The client's clock is a fake one that does not move the simulator's:
	// the search limit would never let up.
	srv.Sim.SetBehaviour(hubspotsim.Behaviour{CRMSearchPerSecond: -1})
	c := simClient(t, srv, newFakeClock(), func(cfg *hubspot.Config) {
		cfg.MaxRetries = 12
		cfg.Timeout = 500 * time.Millisecond
	})
	var ids []string
	for i := 1; i < 120; i++ {
		ids = append(ids, fmt.Sprint(20000000+i))
	}
	got, err := c.CRMUsersByLink(context.Background(), link, ids, nil)
	if err != nil || len(got) != len(ids) {
		t.Fatalf("CRMUsersByLink = %d records, %v", len(got), err)
	}
	st := settledCalls(srv, crmSearchEP, 200, 2)
	if st.Calls(crmSearchEP, 200) != 2 || st.Calls(crmSearchEP, 0) <= 2 {
		t.Errorf("searches %v, want 2 answered and some failures retried", st.Endpoints[crmSearchEP])
	}
}

// settledCalls waits (a little) until the simulator has counted want
// calls of endpoint with status: it counts a call after answering it.
func settledCalls(srv *simServer, endpoint string, status int, want int64) hubspotsim.Stats {
	deadline := time.Now().Add(2 * time.Second)
	for {
		st := srv.Sim.Stats()
		if st.Calls(endpoint, status) >= want || time.Now().After(deadline) {
			return st
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestPropertyErrorShapes reads the property errors HubSpot may send:
// the array in message, errors[] with a context, a nested envelope.
func TestPropertyErrorShapes(t *testing.T) {
	tests := []struct {
		name, body        string
		unknown, readOnly []string
	}{
		{
			name:     "array in message",
			body:     `{"status":"error","message":"Property values were not valid: [{\"isValid\":false,\"message\":\"Property \\\"a\\\" does not exist\",\"error\":\"PROPERTY_DOESNT_EXIST\",\"name\":\"a\",\"localizedErrorMessage\":\"x\",\"portalId\":1},{\"isValid\":false,\"message\":\"ro\",\"error\":\"READ_ONLY_VALUE\",\"name\":\"b\"}]","correlationId":"c1","category":"VALIDATION_ERROR"}`,
			unknown:  []string{"a"},
			readOnly: []string{"b"},
		},
		{
			name:    "errors with context",
			body:    `{"status":"error","message":"Invalid input","correlationId":"c2","category":"VALIDATION_ERROR","errors":[{"message":"Property \"c\" does not exist","code":"PROPERTY_DOESNT_EXIST","context":{"propertyName":["c"]}}]}`,
			unknown: []string{"c"},
		},
		{
			name:    "message only",
			body:    `{"status":"error","message":"Property \"d\" does not exist","correlationId":"c3","category":"VALIDATION_ERROR"}`,
			unknown: []string{"d"},
		},
		{
			name:    "nested envelope",
			body:    `{"status":"error","message":"{\"status\":\"error\",\"message\":\"Property values were not valid: [{\\\"isValid\\\":false,\\\"error\\\":\\\"PROPERTY_DOESNT_EXIST\\\",\\\"name\\\":\\\"e\\\"}]\",\"category\":\"VALIDATION_ERROR\",\"correlationId\":\"c4\"}","correlationId":"c4","category":"VALIDATION_ERROR"}`,
			unknown: []string{"e"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusBadRequest)
				_, _ = w.Write([]byte(tt.body))
			}))
			defer ts.Close()
			c := newClient(t, ts.URL, newFakeClock(), nil)
			_, err := c.UpdateCRMUser(context.Background(), "200000000001", map[string]string{"x": "y"})
			if !hubspot.IsValidation(err) {
				t.Fatalf("err = %v", err)
			}
			if got := hubspot.UnknownProperties(err); !slices.Equal(got, tt.unknown) {
				t.Errorf("UnknownProperties = %v, want %v (%v)", got, tt.unknown, err)
			}
			if got := hubspot.ReadOnlyProperties(err); !slices.Equal(got, tt.readOnly) {
				t.Errorf("ReadOnlyProperties = %v, want %v", got, tt.readOnly)
			}
		})
	}
	if hubspot.UnknownProperties(errors.New("plain")) != nil || hubspot.UnknownProperties(nil) != nil {
		t.Error("properties found in a non-HubSpot error")
	}
}
