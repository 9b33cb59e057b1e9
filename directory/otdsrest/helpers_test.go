package otdsrest_test

import (
	"context"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/directory"
	"github.com/scimbridge/scimbridge/directory/otdsrest"
	"github.com/scimbridge/scimbridge/directory/otdsrest/otdsfake"
)

// Secrets the tests look for in errors and logs.
const (
	clientID     = "scimbridge"
	clientSecret = "client-secret-7f3a9c"
	userName     = "reader@otds.admin"
	password     = "pass-word-51e2b8"
)

// seed is a small directory: two partitions, nested groups, a membership
// across partitions, a disabled user and users in no group.
func seed() []otdsfake.Partition {
	return []otdsfake.Partition{
		{
			Name: "Corp",
			Groups: []otdsfake.Object{
				{Name: "Sales"},
				{Name: "EMEA Sales", MemberOf: []string{"Sales"}},
				{Name: "Support"},
			},
			Users: []otdsfake.Object{
				{Name: "ada", Attributes: map[string][]string{
					"oTExternalID3": {"ada@corp.example"}, "mail": {"ada@corp.example"},
					"givenName": {"Ada"}, "sn": {"Lovelace"}, "oTDepartment": {"Sales"},
					"title": {"Account Executive"}, "accountDisabled": {"false"},
				}, MemberOf: []string{"EMEA Sales"}},
				{Name: "bob", Attributes: map[string][]string{
					"oTExternalID3": {"bob@corp.example"}, "mail": {"bob@corp.example"},
					"givenName": {"Bob"}, "sn": {"Byrne"}, "accountDisabled": {"true"},
				}, MemberOf: []string{"Support", "Sales"}},
				{Name: "cy", Attributes: map[string][]string{"mail": {"cy@corp.example"}}},
				{Name: "dee", Attributes: map[string][]string{"oTExternalID3": {"dee@corp.example"}}, MemberOf: []string{"Support"}},
				{Name: "eve", Attributes: map[string][]string{"oTExternalID3": {"eve@corp.example"}}},
			},
		},
		{
			Name:   "Contractors",
			Groups: []otdsfake.Object{{Name: "Contract Staff"}},
			Users: []otdsfake.Object{
				{Name: "fay", Attributes: map[string][]string{"oTExternalID3": {"fay@contractors.example"}},
					MemberOf: []string{"Contract Staff", "Support@Corp"}},
				{Name: "gus", Attributes: map[string][]string{"oTExternalID3": {"gus@contractors.example"}}},
			},
		},
	}
}

// Ids in listing order.
var (
	corpUsers       = []string{"ada@Corp", "bob@Corp", "cy@Corp", "dee@Corp", "eve@Corp"}
	contractorUsers = []string{"fay@Contractors", "gus@Contractors"}
	allUsers        = append(append([]string{}, corpUsers...), contractorUsers...)
	allGroups       = []string{"Sales@Corp", "EMEA Sales@Corp", "Support@Corp", "Contract Staff@Contractors"}
)

type env struct {
	fake *otdsfake.Server
	ts   *httptest.Server
}

// newEnv starts a fake seeded with seed() over real HTTP.
func newEnv(t *testing.T, mut func(*otdsfake.Config)) *env {
	t.Helper()
	cfg := otdsfake.Config{
		Clients:    []otdsfake.Client{{ID: clientID, Secret: clientSecret}},
		Accounts:   []otdsfake.Account{{UserName: userName, Password: password}},
		Partitions: seed(),
	}
	if mut != nil {
		mut(&cfg)
	}
	f, err := otdsfake.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(f.Handler())
	t.Cleanup(ts.Close)
	return &env{fake: f, ts: ts}
}

// config is an OAuth2 configuration for the fake.
func (e *env) config() otdsrest.Config {
	return otdsrest.Config{
		BaseURL:      e.fake.RESTURL(e.ts.URL),
		ClientID:     clientID,
		ClientSecret: clientSecret,
		HTTPClient:   e.ts.Client(),
		Timeout:      5 * time.Second,
	}
}

func ticketConfig(c *otdsrest.Config) {
	c.ClientID, c.ClientSecret = "", ""
	c.Auth, c.UserName, c.Password = otdsrest.AuthTicket, userName, password
}

func (e *env) open(t *testing.T, mut func(*otdsrest.Config)) *otdsrest.Source {
	t.Helper()
	cfg := e.config()
	if mut != nil {
		mut(&cfg)
	}
	src, err := otdsrest.Open(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = src.Close() })
	return src
}

func users(ctx context.Context, src directory.Source) ([]directory.Entry, error) {
	var out []directory.Entry
	err := src.Users(ctx, func(e directory.Entry) error { out = append(out, e); return nil })
	return out, err
}

func groups(ctx context.Context, src directory.Source) ([]directory.Entry, error) {
	var out []directory.Entry
	err := src.Groups(ctx, func(e directory.Entry) error { out = append(out, e); return nil })
	return out, err
}

func refs(es []directory.Entry) []string {
	out := make([]string, 0, len(es))
	for _, e := range es {
		out = append(out, e.Ref)
	}
	return out
}

func byRef(es []directory.Entry) map[string]directory.Entry {
	out := map[string]directory.Entry{}
	for _, e := range es {
		out[e.Ref] = e
	}
	return out
}

// clock is a settable clock shared by the fake and the driver.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}
