package hubspot_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/scimbridge/scimbridge/hubspot"
	"github.com/scimbridge/scimbridge/hubspot/contract"
	"github.com/scimbridge/scimbridge/hubspot/hubspotsim"
)

// coverageCall is one exported method of *hubspot.Client that talks to
// HubSpot, called against the simulator. fixture carries what earlier
// calls learnt (the calls run in order).
type coverageCall struct {
	method string
	call   func(ctx context.Context, c *hubspot.Client, f *coverageFixture) error
	// simRefuses, when set, says why the simulator answers this call with
	// an error (the call is still made and checked).
	simRefuses string
}

type coverageFixture struct {
	srv      *simServer
	version  string
	created  *hubspot.User
	team     *hubspot.Team
	crmID    string
	loginUID string
}

// coverageCalls calls every method of *hubspot.Client that takes a context
// (the ones that talk to HubSpot). TestContractCoverage fails when a
// method is missing here: add it, so that its calls are checked against
// the contract.
var coverageCalls = []coverageCall{
	{method: "ListUsers", call: func(ctx context.Context, c *hubspot.Client, f *coverageFixture) error {
		_, next, err := c.ListUsers(ctx, "", 2)
		if err == nil && next != "" {
			_, _, err = c.ListUsers(ctx, next, 2) // a page with a cursor
		}
		return err
	}},
	{method: "AllUsers", call: func(ctx context.Context, c *hubspot.Client, f *coverageFixture) error {
		_, err := c.AllUsers(ctx)
		return err
	}},
	{method: "GetUser", call: func(ctx context.Context, c *hubspot.Client, f *coverageFixture) error {
		_, err := c.GetUser(ctx, "20000000")
		return err
	}},
	{method: "GetUserByEmail", call: func(ctx context.Context, c *hubspot.Client, f *coverageFixture) error {
		_, err := c.GetUserByEmail(ctx, "crm001@example.com")
		return err
	}},
	{method: "CreateUser", call: func(ctx context.Context, c *hubspot.Client, f *coverageFixture) error {
		var err error
		f.created, err = c.CreateUser(ctx, hubspot.UserCreate{Email: "coverage-" + f.version + "@example.com",
			FirstName: "Cover", LastName: "Age", SecondaryTeamIDs: []string{}})
		return err
	}},
	{method: "UpdateUser", call: func(ctx context.Context, c *hubspot.Client, f *coverageFixture) error {
		// A user who has not accepted the invitation refuses names.
		none := ""
		_, err := c.UpdateUser(ctx, f.created.ID, hubspot.UserUpdate{PrimaryTeamID: &none, SecondaryTeamIDs: []string{}})
		return err
	}},
	{method: "Roles", call: func(ctx context.Context, c *hubspot.Client, f *coverageFixture) error {
		_, err := c.Roles(ctx)
		return err
	}},
	{method: "Teams", call: func(ctx context.Context, c *hubspot.Client, f *coverageFixture) error {
		_, err := c.Teams(ctx)
		return err
	}},
	{method: "Seats", call: func(ctx context.Context, c *hubspot.Client, f *coverageFixture) error {
		_, err := c.Seats(ctx)
		if errors.Is(err, hubspot.ErrNoSeatsAPI) {
			return nil // no call for this version
		}
		return err
	}},
	{method: "Logins", call: func(ctx context.Context, c *hubspot.Client, f *coverageFixture) error {
		logins, _, err := c.Logins(ctx, "", "", 10)
		if err == nil && len(logins) > 0 {
			f.loginUID = logins[0].UserID
			_, _, err = c.Logins(ctx, f.loginUID, "", 10)
		}
		return err
	}},
	{method: "AllLogins", call: func(ctx context.Context, c *hubspot.Client, f *coverageFixture) error {
		_, err := c.AllLogins(ctx, f.loginUID)
		return err
	}},
	{method: "TeamsAPIPage", call: func(ctx context.Context, c *hubspot.Client, f *coverageFixture) error {
		_, _, err := c.TeamsAPIPage(ctx, "", 1)
		return err
	}},
	{method: "CreateTeam", call: func(ctx context.Context, c *hubspot.Client, f *coverageFixture) error {
		var err error
		f.team, err = c.CreateTeam(ctx, "Coverage "+f.version, nil)
		return err
	}},
	{method: "GetTeam", call: func(ctx context.Context, c *hubspot.Client, f *coverageFixture) error {
		_, err := c.GetTeam(ctx, f.team.ID)
		return err
	}},
	{method: "RenameTeam", call: func(ctx context.Context, c *hubspot.Client, f *coverageFixture) error {
		_, err := c.RenameTeam(ctx, f.team.ID, "Coverage renamed "+f.version)
		return err
	}},
	{method: "AddTeamMember", call: func(ctx context.Context, c *hubspot.Client, f *coverageFixture) error {
		return c.AddTeamMember(ctx, f.team.ID, hubspot.TeamMember{UserID: f.created.ID, Type: hubspot.MemberExtra})
	}},
	{method: "TeamMembers", call: func(ctx context.Context, c *hubspot.Client, f *coverageFixture) error {
		_, err := c.TeamMembers(ctx, f.team.ID)
		return err
	}},
	{method: "RemoveTeamMember", call: func(ctx context.Context, c *hubspot.Client, f *coverageFixture) error {
		return c.RemoveTeamMember(ctx, f.team.ID, f.created.ID, hubspot.MemberExtra)
	}},
	{method: "DeleteTeam", call: func(ctx context.Context, c *hubspot.Client, f *coverageFixture) error {
		return c.DeleteTeam(ctx, f.team.ID)
	}},
	{method: "DeleteUser", call: func(ctx context.Context, c *hubspot.Client, f *coverageFixture) error {
		return c.DeleteUser(ctx, f.created.ID)
	}},
	{method: "WaitDeleted", call: func(ctx context.Context, c *hubspot.Client, f *coverageFixture) error {
		return c.WaitDeleted(ctx, f.created.ID, time.Minute)
	}},
	{method: "CRMUserProperties", call: func(ctx context.Context, c *hubspot.Client, f *coverageFixture) error {
		_, err := c.CRMUserProperties(ctx)
		return err
	}},
	{method: "CheckCRMUserProperties", call: func(ctx context.Context, c *hubspot.Client, f *coverageFixture) error {
		_, _, err := c.CheckCRMUserProperties(ctx, []string{"hs_job_title", "no_such_property"})
		return err
	}},
	{method: "FindCRMUser", call: func(ctx context.Context, c *hubspot.Client, f *coverageFixture) error {
		u, err := c.FindCRMUser(ctx, hubspot.DefaultCRMLinkProperty, "20000001", []string{"hs_job_title"})
		if err == nil {
			f.crmID = u.ID
		}
		return err
	}},
	{method: "CRMUsersByLink", call: func(ctx context.Context, c *hubspot.Client, f *coverageFixture) error {
		_, err := c.CRMUsersByLink(ctx, hubspot.DefaultCRMLinkProperty, []string{"20000001", "20000002"}, nil)
		return err
	}},
	{method: "GetCRMUser", call: func(ctx context.Context, c *hubspot.Client, f *coverageFixture) error {
		_, err := c.GetCRMUser(ctx, f.crmID, []string{"hs_job_title", "department"})
		return err
	}},
	{method: "CRMUsersByID", call: func(ctx context.Context, c *hubspot.Client, f *coverageFixture) error {
		_, err := c.CRMUsersByID(ctx, []string{f.crmID, "999999999"}, []string{"hs_job_title"})
		return err
	}},
	{method: "UpdateCRMUser", call: func(ctx context.Context, c *hubspot.Client, f *coverageFixture) error {
		_, err := c.UpdateCRMUser(ctx, f.crmID, map[string]string{"hs_job_title": "Cartographer"})
		return err
	}},
	{method: "UpdateCRMUsers", call: func(ctx context.Context, c *hubspot.Client, f *coverageFixture) error {
		got, err := c.UpdateCRMUsers(ctx, map[string]map[string]string{f.crmID: {"hs_job_title": "Surveyor"}})
		if err == nil && (got[f.crmID] == nil || got[f.crmID].Properties["hs_job_title"] != "Surveyor") {
			err = fmt.Errorf("batch update answered %+v", got)
		}
		return err
	}},
	{method: "AccountDetails", call: func(ctx context.Context, c *hubspot.Client, f *coverageFixture) error {
		_, err := c.AccountDetails(ctx)
		return err
	}},
	{method: "DailyAPIUsage", call: func(ctx context.Context, c *hubspot.Client, f *coverageFixture) error {
		_, err := c.DailyAPIUsage(ctx)
		return err
	}},
	{method: "TokenInfo", simRefuses: "the demo token is a private-app token: token information answers 404",
		call: func(ctx context.Context, c *hubspot.Client, f *coverageFixture) error {
			_, err := c.TokenInfo(ctx)
			return err
		}},
}

// TestContractCoverage calls every method of *hubspot.Client that talks to
// HubSpot against the simulator, for every users and Teams API version,
// through the contract's validating transport: no call may be one the
// contract lacks, no request or answer may break it, and together the
// calls must exercise every operation of the contract (so the contract
// describes the client, not more).
func TestContractCoverage(t *testing.T) {
	ctxType := reflect.TypeFor[context.Context]()
	client := reflect.TypeFor[*hubspot.Client]()
	table := map[string]bool{}
	for _, cc := range coverageCalls {
		table[cc.method] = true
	}
	for i := range client.NumMethod() {
		m := client.Method(i)
		talks := m.Type.NumIn() > 1 && m.Type.In(1) == ctxType
		switch {
		case talks && !table[m.Name]:
			t.Errorf("(*hubspot.Client).%s talks to HubSpot but coverageCalls does not call it: add it, so its calls are checked against hubspot/contract/openapi.yaml", m.Name)
		case !talks && table[m.Name]:
			t.Errorf("coverageCalls calls (*hubspot.Client).%s, which takes no context", m.Name)
		}
		delete(table, m.Name)
	}
	for name := range table {
		t.Errorf("coverageCalls names %s, which *hubspot.Client does not have", name)
	}

	ct := mustContract(t)
	seen := map[string]bool{}
	for _, v := range []struct{ users, teams string }{
		{hubspot.Version202603, hubspot.TeamsVersion202609},
		{hubspot.VersionV3, hubspot.TeamsVersion202609Beta},
		{hubspot.Version202609Beta, hubspot.TeamsVersion202609},
	} {
		t.Run(v.users+"+teams-"+v.teams, func(t *testing.T) {
			for _, op := range exerciseClient(t, ct, v.users, v.teams) {
				seen[op] = true
			}
		})
	}
	if t.Failed() {
		return
	}
	for _, op := range ct.Operations() {
		if !seen[op] {
			t.Errorf("the contract has %s, which no client method calls: remove it from openapi.yaml or add the method to coverageCalls", op)
		}
	}
}

// exerciseClient runs coverageCalls against a fresh simulator and returns
// the contract operations they made.
func exerciseClient(t *testing.T, ct *contract.Contract, users, teams string) []string {
	clk := newFakeClock()
	srv := startCRMSim(t, clk, 3, hubspotsim.Faults{})
	srv.Sim.RecordLogin("crm000@example.com", clk.Now().Add(-time.Hour), true)
	tr := ct.Transport(http.DefaultTransport.(*http.Transport).Clone(), contract.TestReporter(t))
	reg := prometheus.NewPedanticRegistry()
	c := simClient(t, srv, clk, func(cfg *hubspot.Config) {
		cfg.APIVersion, cfg.TeamsAPIVersion = users, teams
		cfg.HTTPClient = &http.Client{Transport: tr}
		cfg.Metrics = reg
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	f := &coverageFixture{srv: srv, version: strings.ReplaceAll(users+"-"+teams, ".", "")}
	for _, cc := range coverageCalls {
		err := cc.call(ctx, c, f)
		switch {
		case err != nil && cc.simRefuses == "":
			t.Fatalf("%s: %v", cc.method, err)
		case err == nil && cc.simRefuses != "":
			t.Logf("%s succeeded, though %s", cc.method, cc.simRefuses)
		}
	}
	ops := tr.Seen()
	// The metrics name each call by its contract operation, never by a
	// path with ids in it.
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "scimbridge_hubspot_requests_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, lp := range m.GetLabel() {
				labels[lp.GetName()] = lp.GetValue()
			}
			if op := labels["method"] + " " + labels["endpoint"]; !slices.Contains(ct.Operations(), op) {
				t.Errorf("requests_total counts %q, which is not a contract operation", op)
			}
		}
	}
	// The client keeps to the versions it was configured with: the users
	// API's, the Teams API's, and for the CRM, login activity and account
	// information v3 with v3, 2026-03 otherwise (see crmPaths,
	// accountInfoBase and pathsFor).
	others := "2026-03"
	usersBase := "/settings/users/" + users
	if users == hubspot.VersionV3 {
		others, usersBase = "v3", "/settings/v3/users"
	}
	prefixes := []string{usersBase, "/settings/teams/" + teams + "/", "/oauth/v1/access-tokens/",
		"/account-info/" + others + "/", "/crm/properties/" + others + "/", "/crm/objects/" + others + "/"}
	if others == "v3" {
		prefixes = append(prefixes, "/crm/v3/")
	}
	for _, op := range ops {
		_, path, _ := strings.Cut(op, " ")
		if path != "/settings/teams/"+teams && !slices.ContainsFunc(prefixes, func(p string) bool { return strings.HasPrefix(path, p) }) {
			t.Errorf("%s: not a path of users API %s, Teams API %s", op, users, teams)
		}
	}
	t.Logf("%d operations: %s", len(ops), strings.Join(ops, ", "))
	return ops
}
