package otdsfake_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/directory/otdsrest/otdsfake"
)

type fixture struct {
	fake *otdsfake.Server
	ts   *httptest.Server
	mu   sync.Mutex
	now  time.Time
}

func (fx *fixture) clock() time.Time {
	fx.mu.Lock()
	defer fx.mu.Unlock()
	return fx.now
}

func (fx *fixture) advance(d time.Duration) {
	fx.mu.Lock()
	defer fx.mu.Unlock()
	fx.now = fx.now.Add(d)
}

func newFixture(t *testing.T, mut func(*otdsfake.Config)) *fixture {
	t.Helper()
	fx := &fixture{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	cfg := otdsfake.Config{
		Clients:  []otdsfake.Client{{ID: "c", Secret: "s"}},
		Accounts: []otdsfake.Account{{UserName: "admin", Password: "pw"}},
		Now:      fx.clock,
		Partitions: []otdsfake.Partition{{
			Name:   "P",
			Groups: []otdsfake.Object{{Name: "G"}, {Name: "H", MemberOf: []string{"G"}}},
			Users: []otdsfake.Object{
				{Name: "u1", Attributes: map[string][]string{"mail": {"u1@x"}, "oTDepartment": {"Sales"}}, MemberOf: []string{"G"}},
				{Name: "u2", Attributes: map[string][]string{"accountDisabled": {"true"}}},
				{Name: "u3", Description: "third"},
			},
		}},
	}
	if mut != nil {
		mut(&cfg)
	}
	f, err := otdsfake.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	fx.fake = f
	fx.ts = httptest.NewServer(f.Handler())
	t.Cleanup(fx.ts.Close)
	return fx
}

// do sends a request and decodes the JSON answer.
func (fx *fixture) do(t *testing.T, method, path string, header map[string]string, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, fx.ts.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := fx.ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, b)
	}
	return resp.StatusCode, out
}

func (fx *fixture) token(t *testing.T) map[string]string {
	t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {"c"}, "client_secret": {"s"}}
	st, ans := fx.do(t, "POST", fx.fake.Prefix()+"/oauth2/token",
		map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, form.Encode())
	if st != 200 || ans["token_type"] != "Bearer" || ans["expires_in"].(float64) <= 0 {
		t.Fatalf("token: %d %v", st, ans)
	}
	return map[string]string{"Authorization": "Bearer " + ans["access_token"].(string)}
}

func (fx *fixture) ticket(t *testing.T) map[string]string {
	t.Helper()
	st, ans := fx.do(t, "POST", fx.fake.Prefix()+"/rest/authentication/credentials",
		map[string]string{"Content-Type": "application/json"}, `{"userName":"admin","password":"pw"}`)
	tk, _ := ans["ticket"].(string)
	if st != 200 || !strings.HasPrefix(tk, "*OTDSSSO*") {
		t.Fatalf("login: %d %v", st, ans)
	}
	return map[string]string{"OTDSTicket": tk}
}

func TestAuthErrors(t *testing.T) {
	fx := newFixture(t, nil)
	p := fx.fake.Prefix()
	tests := []struct {
		name       string
		method     string
		path       string
		header     map[string]string
		body       string
		wantStatus int
		wantError  string
	}{
		{name: "wrong secret", method: "POST", path: p + "/oauth2/token", body: "grant_type=client_credentials&client_id=c&client_secret=x",
			header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, wantStatus: 401, wantError: "invalid_client"},
		{name: "wrong grant", method: "POST", path: p + "/oauth2/token", body: "grant_type=password&client_id=c&client_secret=s",
			header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, wantStatus: 400, wantError: "unsupported_grant_type"},
		{name: "wrong password", method: "POST", path: p + "/rest/authentication/credentials", body: `{"userName":"admin","password":"x"}`,
			wantStatus: 401, wantError: "Invalid username or password"},
		{name: "no credential", method: "GET", path: p + "/rest/users", wantStatus: 401},
		{name: "bad token", method: "GET", path: p + "/rest/users", header: map[string]string{"Authorization": "Bearer nope"}, wantStatus: 401},
		{name: "unknown ticket", method: "GET", path: p + "/rest/users", header: map[string]string{"OTDSTicket": "*OTDSSSO*nope"}, wantStatus: 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, ans := fx.do(t, tt.method, tt.path, tt.header, tt.body)
			if st != tt.wantStatus || tt.wantError != "" && ans["error"] != tt.wantError {
				t.Errorf("%d %v, want %d %q", st, ans, tt.wantStatus, tt.wantError)
			}
		})
	}
}

func TestExpiry(t *testing.T) {
	fx := newFixture(t, func(c *otdsfake.Config) { c.TokenLifetime = 2 * time.Second })
	tok, tk := fx.token(t), fx.ticket(t)
	path := fx.fake.Prefix() + "/rest/users"
	if st, _ := fx.do(t, "GET", path, tok, ""); st != 200 {
		t.Fatalf("fresh token: %d", st)
	}
	fx.advance(2 * time.Second)
	if st, _ := fx.do(t, "GET", path, tok, ""); st != 401 {
		t.Errorf("expired token: %d, want 401", st)
	}
	if st, _ := fx.do(t, "GET", path, tk, ""); st != 200 {
		t.Errorf("ticket: %d, want 200", st)
	}
	fx.fake.ExpireCredentials()
	st, ans := fx.do(t, "GET", path, tk, "")
	if st != 400 || ans["status"] != float64(1034) || ans["error"] != "Expired OTDS SSO ticket" {
		t.Errorf("expired ticket: %d %v, want 400 1034", st, ans)
	}
}

func TestListing(t *testing.T) {
	fx := newFixture(t, nil)
	tok := fx.token(t)
	p := fx.fake.Prefix()
	page := func(q string) (int, map[string]any) { return fx.do(t, "GET", p+"/rest/users?"+q, tok, "") }

	st, ans := page("page_size=2&attrsAsKeys=true&where_partition_name=P")
	if st != 200 || ans["actualPageSize"] != float64(2) || ans["requestedPageSize"] != float64(2) {
		t.Fatalf("first page: %d %v", st, ans)
	}
	u1 := ans["users"].([]any)[0].(map[string]any)
	attrs := u1["attributes"].(map[string]any)
	if u1["id"] != "u1@P" || u1["objectClass"] != "oTPerson" || u1["userPartitionID"] != "P" ||
		!strings.HasPrefix(u1["location"].(string), "oTPerson="+u1["uuid"].(string)+",orgunit=users,partition=P,") {
		t.Errorf("user shape: %v", u1)
	}
	if mo := attrs["oTMemberOf"].([]any); len(mo) != 1 || !strings.HasPrefix(mo[0].(string), "oTGroup=") ||
		attrs["accountDisabled"].([]any)[0] != "false" || attrs["entryUUID"].([]any)[0] != u1["uuid"] {
		t.Errorf("attributes: %v", attrs)
	}
	cookie := ans["nextPageCookie"].(string)

	// The cookie belongs to its search, and pages on.
	if st, _ := page("page_size=2&attrsAsKeys=true&next_page_cookie=" + url.QueryEscape(cookie)); st != 400 {
		t.Errorf("cookie with other parameters: %d, want 400", st)
	}
	st, ans = page("page_size=2&attrsAsKeys=true&where_partition_name=P&next_page_cookie=" + url.QueryEscape(cookie))
	if st != 200 || ans["actualPageSize"] != float64(1) || ans["nextPageCookie"] != nil {
		t.Errorf("last page: %d %v", st, ans)
	}
	if st, _ := page("page_size=2&next_page_cookie=bogus"); st != 400 {
		t.Errorf("unknown cookie: %d, want 400", st)
	}
	fx.advance(11 * time.Minute)
	if st, _ := page("page_size=2&attrsAsKeys=true&where_partition_name=P&next_page_cookie=" + url.QueryEscape(cookie)); st != 400 {
		t.Errorf("expired cookie: %d, want 400", st)
	}

	// The values shape, filters, state, unknown partition, paging errors.
	_, ans = page("")
	u := ans["users"].([]any)[0].(map[string]any)
	if u["attributes"] != nil || len(u["values"].([]any)) == 0 {
		t.Errorf("values shape: %v", u)
	}
	for q, want := range map[string]int{
		"where_filter=oTDepartment%3Dsales": 1, "where_filter=mail%3D*%40x": 1, "where_filter=u": 3,
		"where_state=disabled": 1, "where_state=enabled": 2,
	} {
		if st, ans := page(q); st != 200 || ans["actualPageSize"] != float64(want) {
			t.Errorf("%s: %d %v, want %d users", q, st, ans["actualPageSize"], want)
		}
	}
	for _, q := range []string{"where_partition_name=Nope", "page_size=0", "where_state=odd", "where_filter=%28%3D"} {
		if st, _ := page(q); st < 400 {
			t.Errorf("%s: %d, want an error", q, st)
		}
	}
}

func TestMemberOfAndGroups(t *testing.T) {
	fx := newFixture(t, func(c *otdsfake.Config) { c.CookieAsArray = true })
	tk := fx.ticket(t)
	p := fx.fake.Prefix()
	st, ans := fx.do(t, "GET", p+"/rest/users/"+url.PathEscape("u1@P")+"/memberof", tk, "")
	if gs := ans["groups"].([]any); st != 200 || len(gs) != 1 || gs[0].(map[string]any)["id"] != "G@P" {
		t.Errorf("memberof: %d %v", st, ans)
	}
	st, ans = fx.do(t, "GET", p+"/rest/groups?page_size=1&attrsAsKeys=true", tk, "")
	g := ans["groups"].([]any)[0].(map[string]any)
	if st != 200 || g["numMembers"] != float64(2) || g["objectClass"] != "oTGroup" {
		t.Errorf("group: %d %v", st, g)
	}
	if c := ans["nextPageCookie"].([]any); len(c) != 1 {
		t.Errorf("array cookie: %v", ans["nextPageCookie"])
	}
	if st, _ := fx.do(t, "GET", p+"/rest/groups/"+url.PathEscape("G@P")+"/members", tk, ""); st != 404 {
		t.Errorf("members endpoint: %d, want 404 (not modelled)", st)
	}
	if st, _ := fx.do(t, "GET", p+"/rest/users/nobody/memberof", tk, ""); st != 404 {
		t.Errorf("memberof of nobody: %d", st)
	}
}

func TestFaultsAndCounts(t *testing.T) {
	fx := newFixture(t, nil)
	tok := fx.token(t)
	path := fx.fake.Prefix() + "/rest/users"
	fx.fake.AddFault(otdsfake.FailNth(otdsfake.RouteUsers, 2))
	fx.fake.AddFault(otdsfake.ExpiredTicketNth(otdsfake.RouteUsers, 3))
	want := []int{200, 500, 400, 200}
	for i, w := range want {
		if st, _ := fx.do(t, "GET", path, tok, ""); st != w {
			t.Errorf("request %d: %d, want %d", i+1, st, w)
		}
	}
	if n := fx.fake.Count(otdsfake.RouteUsers); n != 4 {
		t.Errorf("count = %d", n)
	}
	fx.fake.AddFault(otdsfake.DropNth(otdsfake.RouteGroups, 1))
	req, _ := http.NewRequest("GET", fx.ts.URL+fx.fake.Prefix()+"/rest/groups", nil)
	req.Header.Set("Authorization", tok["Authorization"])
	if resp, err := fx.ts.Client().Do(req); err == nil {
		resp.Body.Close()
		t.Errorf("dropped request answered %d", resp.StatusCode)
	}
}

func TestTenantAndStart(t *testing.T) {
	s, err := otdsfake.Start(otdsfake.Config{Tenant: "acme", Clients: []otdsfake.Client{{ID: "c", Secret: "s"}}}, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := s.RESTURL(s.URL); got != s.URL+"/otdstenant/acme/otdsws/rest" {
		t.Errorf("REST URL %s", got)
	}
	resp, err := http.PostForm(s.URL+"/otdstenant/acme/otdsws/oauth2/token",
		url.Values{"grant_type": {"client_credentials"}, "client_id": {"c"}, "client_secret": {"s"}})
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("tenant token: %v %v", resp, err)
	}
	resp.Body.Close()
	resp, err = http.Get(s.URL + "/otdsws/rest/users")
	if err != nil || resp.StatusCode != 404 {
		t.Fatalf("untenanted path: %v %v", resp, err)
	}
	resp.Body.Close()
	if err := s.Close(); err != nil {
		t.Error(err)
	}
}

func TestSeedAndChanges(t *testing.T) {
	bad := []otdsfake.Config{
		{Partitions: []otdsfake.Partition{{Name: "P"}, {Name: "P"}}},
		{Partitions: []otdsfake.Partition{{Name: "P", Users: []otdsfake.Object{{Name: "u", MemberOf: []string{"missing"}}}}}},
		{Partitions: []otdsfake.Partition{{Name: "P", Users: []otdsfake.Object{{Name: "u"}, {Name: "u"}}}}},
		{MemberOfStyle: "odd"},
		{ExpiredTicketStatus: 403},
	}
	for i, c := range bad {
		if _, err := otdsfake.New(c); err == nil {
			t.Errorf("config %d accepted", i)
		}
	}
	fx := newFixture(t, nil)
	tok := fx.token(t)
	if err := fx.fake.PutUser("P", otdsfake.Object{Name: "u4", MemberOf: []string{"H"}}); err != nil {
		t.Fatal(err)
	}
	if !fx.fake.Delete("u1@P") || fx.fake.Delete("u1@P") {
		t.Error("Delete")
	}
	_, ans := fx.do(t, "GET", fx.fake.Prefix()+"/rest/users?attrsAsKeys=true", tok, "")
	var ids []string
	for _, u := range ans["users"].([]any) {
		ids = append(ids, u.(map[string]any)["id"].(string))
	}
	if strings.Join(ids, ",") != "u2@P,u3@P,u4@P" {
		t.Errorf("users after changes: %v", ids)
	}
}
