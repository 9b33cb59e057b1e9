package scim_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/scim"
)

func mustStatus(t *testing.T, got, want int, body any) {
	t.Helper()
	if got != want {
		t.Fatalf("status %d, want %d: %v", got, want, body)
	}
}

func createUsers(t *testing.T, b *bridge, n int) []string {
	t.Helper()
	ids := make([]string, n)
	for i := range n {
		status, m := b.json("POST", "/Users", map[string]any{
			"userName":    fmt.Sprintf("user%02d@example.com", i),
			"displayName": fmt.Sprintf("User %c", 'Z'-i),
			"title":       []string{"Engineer", "Manager"}[i%2],
			"emails":      []any{map[string]any{"value": fmt.Sprintf("user%02d@example.com", i), "type": "work"}},
		})
		mustStatus(t, status, http.StatusCreated, m)
		ids[i] = m["id"].(string)
	}
	return ids
}

func ids(m map[string]any) []string {
	var out []string
	res, _ := m["Resources"].([]any)
	for _, r := range res {
		out = append(out, r.(map[string]any)["id"].(string))
	}
	return out
}

func TestListPagingSortingProjection(t *testing.T) {
	b := newBridge(t)
	all := createUsers(t, b, 7)

	// Stable creation order across pages; itemsPerPage is what came back.
	var paged []string
	for start := 1; start <= 7; start += 3 {
		status, m := b.json("GET", fmt.Sprintf("/Users?startIndex=%d&count=3", start), nil)
		mustStatus(t, status, 200, m)
		if m["totalResults"] != float64(7) || m["startIndex"] != float64(start) {
			t.Fatalf("page %d: %v", start, m)
		}
		if got := len(ids(m)); m["itemsPerPage"] != float64(got) {
			t.Fatalf("itemsPerPage %v, %d returned", m["itemsPerPage"], got)
		}
		paged = append(paged, ids(m)...)
	}
	if strings.Join(paged, ",") != strings.Join(all, ",") {
		t.Fatalf("paging order %v, want creation order %v", paged, all)
	}

	// count=0 gives only the total.
	_, m := b.json("GET", "/Users?count=0", nil)
	if m["totalResults"] != float64(7) || len(ids(m)) != 0 {
		t.Fatalf("count=0: %v", m)
	}

	// sortBy displayName descending: "User Z" (user00) first.
	_, m = b.json("GET", "/Users?sortBy=displayName&sortOrder=descending&count=2", nil)
	if got := ids(m); len(got) != 2 || got[0] != all[0] || got[1] != all[1] {
		t.Fatalf("descending by displayName: %v", got)
	}
	_, m = b.json("GET", "/Users?sortBy=displayName&count=1", nil)
	if got := ids(m); got[0] != all[6] {
		t.Fatalf("ascending by displayName: %v", got)
	}

	// attributes and excludedAttributes.
	_, m = b.json("GET", "/Users?attributes=userName,name.givenName&filter=title+eq+%22manager%22", nil)
	if m["totalResults"] != float64(3) {
		t.Fatalf("title eq manager (case-insensitive): %v", m)
	}
	first := m["Resources"].([]any)[0].(map[string]any)
	for _, k := range []string{"emails", "title", "meta", "displayName"} {
		if _, ok := first[k]; ok {
			t.Errorf("attributes=userName returned %s", k)
		}
	}
	if first["id"] == nil || first["userName"] == nil || first["schemas"] == nil {
		t.Errorf("projection dropped an always-returned attribute: %v", first)
	}
	_, m = b.json("GET", "/Users/"+all[0]+"?excludedAttributes=emails,meta", nil)
	if _, ok := m["emails"]; ok || m["userName"] == nil {
		t.Errorf("excludedAttributes=emails: %v", m)
	}
	_, m = b.json("GET", "/Users/"+all[0]+"?attributes=emails.value", nil)
	if e := m["emails"].([]any)[0].(map[string]any); e["type"] != nil || e["value"] == nil {
		t.Errorf("attributes=emails.value: %v", m)
	}

	// Bad parameters are SCIM errors.
	for _, q := range []string{"count=x", "startIndex=1.5", "sortOrder=sideways", "sortBy=nope", "filter=userName%20zz%20%22x%22"} {
		status, m := b.json("GET", "/Users?"+q, nil)
		if status != 400 || m["scimType"] == nil {
			t.Errorf("%s: %d %v", q, status, m)
		}
	}
}

func TestETags(t *testing.T) {
	b := newBridge(t)
	id := createUsers(t, b, 1)[0]
	status, hdr, m, _ := b.do("GET", "/Users/"+id, testToken, "", nil, nil)
	mustStatus(t, status, 200, m)
	etag := hdr.Get("ETag")
	if etag == "" || m["meta"].(map[string]any)["version"] != etag {
		t.Fatalf("ETag %q, meta %v", etag, m["meta"])
	}
	if status, _, _, raw := b.do("GET", "/Users/"+id, testToken, "", nil, map[string]string{"If-None-Match": etag}); status != http.StatusNotModified || len(raw) != 0 {
		t.Fatalf("If-None-Match current: %d %s", status, raw)
	}
	patch := []byte(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"title","value":"Boss"}]}`)
	status, hdr, m, _ = b.do("PATCH", "/Users/"+id, testToken, "", patch, map[string]string{"If-Match": etag})
	mustStatus(t, status, 200, m)
	if hdr.Get("ETag") == etag {
		t.Fatalf("ETag did not change after PATCH")
	}
	// The old ETag no longer matches: 412, and nothing changes.
	patch2 := []byte(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"title","value":"Nobody"}]}`)
	status, _, m, _ = b.do("PATCH", "/Users/"+id, testToken, "", patch2, map[string]string{"If-Match": etag})
	mustStatus(t, status, http.StatusPreconditionFailed, m)
	status, _, m, _ = b.do("DELETE", "/Users/"+id, testToken, "", nil, map[string]string{"If-Match": etag})
	mustStatus(t, status, http.StatusPreconditionFailed, m)
	_, m = b.json("GET", "/Users/"+id, nil)
	if m["title"] != "Boss" {
		t.Fatalf("title %v after refused PATCH", m["title"])
	}
	if status, _, _, _ := b.do("GET", "/Users/"+id, testToken, "", nil, map[string]string{"If-None-Match": etag}); status != 200 {
		t.Fatalf("If-None-Match stale: %d", status)
	}
	// GET with If-Match: 412 for a stale tag, 200 for the current one.
	if status, _, _, _ := b.do("GET", "/Users/"+id, testToken, "", nil, map[string]string{"If-Match": etag}); status != http.StatusPreconditionFailed {
		t.Fatalf("GET If-Match stale: %d", status)
	}
	// A list matches when any of its tags does (RFC 9110 §13.1.1), and
	// not when none does.
	_, hdr, _, _ = b.do("GET", "/Users/"+id, testToken, "", nil, nil)
	current := hdr.Get("ETag")
	if status, _, _, _ := b.do("GET", "/Users/"+id, testToken, "", nil, map[string]string{"If-Match": etag + ", " + current}); status != 200 {
		t.Fatalf("GET If-Match current: %d", status)
	}
	status, _, m, _ = b.do("PATCH", "/Users/"+id, testToken, "", patch2, map[string]string{"If-Match": etag + ", " + current})
	mustStatus(t, status, 200, m)
	status, _, m, _ = b.do("PATCH", "/Users/"+id, testToken, "", patch, map[string]string{"If-Match": etag + ", " + current + ", W/\"x\""})
	mustStatus(t, status, http.StatusPreconditionFailed, m)
}

func TestScopesLimitsAndSecrets(t *testing.T) {
	b := newBridge(t)
	createUsers(t, b, 1)
	// A read-only credential reads but cannot write or reach admin.
	if status, _, m, _ := b.do("GET", "/Users", readOnlyToken, "", nil, nil); status != 200 {
		t.Fatalf("read-only GET: %d %v", status, m)
	}
	if status, _, m, _ := b.do("POST", "/Users/.search", readOnlyToken, "", []byte(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"]}`), nil); status != 200 {
		t.Fatalf("read-only .search: %d %v", status, m)
	}
	status, hdr, m, _ := b.do("POST", "/Users", readOnlyToken, "", []byte(`{"userName":"x@example.com"}`), nil)
	if status != http.StatusForbidden || m["status"] != "403" || !strings.Contains(hdr.Get("WWW-Authenticate"), `error="insufficient_scope", scope="scim.write"`) {
		t.Fatalf("read-only POST: %d %v %v", status, m, hdr)
	}
	// RFC 6750 §3.1: no error code without a token, invalid_token for a bad one.
	if status, hdr, _, _ := b.do("GET", "/Users", "", "", nil, nil); status != 401 || hdr.Get("WWW-Authenticate") != `Bearer realm="scimbridge"` {
		t.Fatalf("no token: %d %v", status, hdr)
	}
	if status, hdr, _, _ := b.do("GET", "/Users", "not-a-token", "", nil, nil); status != 401 || !strings.Contains(hdr.Get("WWW-Authenticate"), `error="invalid_token"`) {
		t.Fatalf("bad token: %d %v", status, hdr)
	}
	if status, _, _, _ := b.do("GET", b.srv.URL+"/admin/v1/audit", readOnlyToken, "", nil, nil); status != http.StatusForbidden {
		t.Fatalf("read-only admin: %d", status)
	}
	// Body over the limit (64 KiB here): 413 with a SCIM body.
	big := `{"userName":"big@example.com","title":"` + strings.Repeat("x", 70<<10) + `"}`
	status, _, m, _ = b.do("POST", "/Users", testToken, "", []byte(big), nil)
	if status != http.StatusRequestEntityTooLarge || m["status"] != "413" {
		t.Fatalf("oversized body: %d %v", status, m)
	}
	// A password is accepted, never stored nor returned nor logged.
	status, _, m, raw := b.do("POST", "/Users", testToken, "application/json", []byte(`{"userName":"pw@example.com","password":"S3cret-Passw0rd!"}`), nil)
	mustStatus(t, status, 201, m)
	if strings.Contains(string(raw), "S3cret") {
		t.Fatalf("password echoed: %s", raw)
	}
	// Audit trail pages for admin, with attribute names only.
	status, _, m, raw = b.do("GET", b.srv.URL+"/admin/v1/audit?limit=1", testToken, "", nil, nil)
	if status != 200 || len(m["records"].([]any)) != 1 {
		t.Fatalf("audit: %d %s", status, raw)
	}
	next := m["next"].(float64)
	_, _, m, raw = b.do("GET", fmt.Sprintf("%s/admin/v1/audit?after=%d", b.srv.URL, int(next)), testToken, "", nil, nil)
	if recs := m["records"].([]any); len(recs) != 1 || recs[0].(map[string]any)["actor"] != "test" {
		t.Fatalf("audit page 2: %s", raw)
	}
	if strings.Contains(string(raw), "S3cret") {
		t.Fatalf("audit holds the password: %s", raw)
	}
	logs := b.logs.String()
	for _, secret := range []string{testToken, readOnlyToken, "S3cret"} {
		if strings.Contains(logs, secret) {
			t.Fatalf("logs contain a secret %q", secret)
		}
	}
	if !strings.Contains(logs, `"client":"test"`) || !strings.Contains(logs, `"request_id"`) {
		t.Fatalf("access log lacks client or request id:\n%s", logs)
	}
}

// Input that would reach HubSpot looking like something else, and input
// that would hold the writer for long, is refused up front.
func TestHostileInput(t *testing.T) {
	b := newBridge(t)
	id := createUsers(t, b, 1)[0]
	for _, c := range []struct {
		name, path, method, body, scimType string
	}{
		{"not UTF-8", "/Users", "POST", "{\"userName\":\"bad\xff\xfe@example.com\"}", "invalidSyntax"},
		{"blank userName", "/Users", "POST", `{"userName":"   "}`, "invalidValue"},
		{"padded userName", "/Users", "POST", `{"userName":" pad@example.com "}`, "invalidValue"},
		{"control characters", "/Users", "POST", `{"userName":"ctl\u0007\u001b[31m@example.com"}`, "invalidValue"},
		{"NUL", "/Users", "POST", `{"userName":"a\u0000b@example.com"}`, "invalidValue"},
		{"blank group name", "/Groups", "POST", `{"displayName":" \t "}`, "invalidValue"},
		{"blank name by PATCH", "/Users/" + id, "PATCH", `{"Operations":[{"op":"replace","path":"userName","value":"  "}]}`, "invalidValue"},
		{"id by PATCH", "/Users/" + id, "PATCH", `{"Operations":[{"op":"replace","path":"id","value":"x"}]}`, "mutability"},
		{"meta by PATCH", "/Users/" + id, "PATCH", `{"Operations":[{"op":"replace","path":"meta.created","value":"2020-01-01T00:00:00Z"}]}`, "mutability"},
		{"search count as a string", "/Users/.search", "POST", `{"count":"5"}`, "invalidValue"},
		{"search not an object", "/Users/.search", "POST", `[1]`, "invalidSyntax"},
		{"core-qualified id", "/Users/" + id, "PATCH", `{"Operations":[{"op":"remove","path":"urn:ietf:params:scim:schemas:core:2.0:User:id"}]}`, "mutability"},
	} {
		status, _, m, raw := b.do(c.method, c.path, testToken, "", []byte(c.body), nil)
		if status != http.StatusBadRequest || m["scimType"] != c.scimType {
			t.Errorf("%s: %d %s, want 400 %s", c.name, status, raw, c.scimType)
		}
	}
	// A PATCH of more operations than MaxOperations.
	var ops []string
	for i := range 1001 {
		ops = append(ops, fmt.Sprintf(`{"op":"replace","path":"title","value":"t%d"}`, i))
	}
	status, _, m, _ := b.do("PATCH", "/Users/"+id, testToken, "", []byte(`{"Operations":[`+strings.Join(ops, ",")+`]}`), nil)
	if status != http.StatusBadRequest || m["scimType"] != "invalidValue" || !strings.Contains(fmt.Sprint(m["detail"]), "at most 1000 operations") {
		t.Errorf("1001 operations: %d %v", status, m)
	}
	status, _, m, _ = b.do("PATCH", "/Users/"+id, testToken, "", []byte(`{"Operations":[`+strings.Join(ops[:1000], ",")+`]}`), nil)
	mustStatus(t, status, 200, m)
}

// meta.lastModified as a response shows it is what filters compare with:
// eq finds the resource, gt does not (delta reads by IdPs and governance
// tools start from the last value they saw).
func TestLastModifiedRoundTrips(t *testing.T) {
	b := newBridge(t)
	status, created := b.json("POST", "/Users", map[string]any{"userName": "lm@example.com"})
	mustStatus(t, status, http.StatusCreated, created)
	id := created["id"].(string)
	_, m := b.json("GET", "/Users/"+id, nil)
	lm := m["meta"].(map[string]any)["lastModified"].(string)
	// The write's answer shows the same instant as a read does.
	if wlm := created["meta"].(map[string]any)["lastModified"]; wlm != lm || !strings.Contains(lm, ".") {
		t.Errorf("lastModified: POST answered %v, GET %s", wlm, lm)
	}
	for op, want := range map[string]float64{"eq": 1, "ge": 1, "le": 1, "gt": 0, "lt": 0} {
		q := url.Values{"filter": {fmt.Sprintf(`meta.lastModified %s "%s" and id eq "%s"`, op, lm, id)}}
		status, m := b.json("GET", "/Users?"+q.Encode(), nil)
		if status != 200 || m["totalResults"] != want {
			t.Errorf("meta.lastModified %s %s: %d %v, want %v", op, lm, status, m["totalResults"], want)
		}
	}
}

// attributes naming only what the schema lacks returns id and schemas, not
// the whole resource; unknown names beside known ones are ignored.
func TestProjectionOfUnknownNames(t *testing.T) {
	b := newBridge(t)
	id := createUsers(t, b, 1)[0]
	_, m := b.json("GET", "/Users/"+id+"?attributes=bogus", nil)
	if len(m) != 2 || m["id"] != id || m["schemas"] == nil {
		t.Errorf("attributes=bogus: %v", m)
	}
	_, m = b.json("GET", "/Users/"+id+"?attributes=bogus,userName", nil)
	if len(m) != 3 || m["userName"] != "user00@example.com" {
		t.Errorf("attributes=bogus,userName: %v", m)
	}
	_, m = b.json("GET", "/Users/"+id+"?attributes="+url.QueryEscape(`emails[type eq "work"].value`), nil)
	if emails, _ := m["emails"].([]any); len(m) != 3 || len(emails) != 1 {
		t.Errorf("attributes with a value filter: %v", m)
	}
	_, m = b.json("GET", "/Users?attributes=bogus&filter="+url.QueryEscape(`id eq "`+id+`"`), nil)
	if res, _ := m["Resources"].([]any); len(res) != 1 || len(res[0].(map[string]any)) != 2 {
		t.Errorf("list with attributes=bogus: %v", m)
	}
}

// The discovery lists say how many resources they hold, never list null,
// and refuse a filter (RFC 7644 §4) rather than ignore it.
func TestDiscoveryLists(t *testing.T) {
	b := newBridge(t)
	for path, want := range map[string]int{"/Schemas": 4, "/ResourceTypes": 2} {
		status, m := b.json("GET", path, nil)
		res, _ := m["Resources"].([]any)
		if status != 200 || len(res) < want || m["itemsPerPage"] != float64(len(res)) || m["totalResults"] != float64(len(res)) {
			t.Errorf("%s: %d itemsPerPage %v totalResults %v, %d resources", path, status, m["itemsPerPage"], m["totalResults"], len(res))
		}
		status, _, m, _ = b.do("GET", path+"?filter="+url.QueryEscape(`name eq "User"`), testToken, "", nil, nil)
		if status != http.StatusForbidden || m["status"] != "403" {
			t.Errorf("%s with a filter: %d %v", path, status, m)
		}
	}
}

func TestHealthAndMetrics(t *testing.T) {
	b := newBridge(t)
	createUsers(t, b, 1)
	for _, p := range []string{"/healthz", "/readyz"} {
		resp, err := b.client.Get(b.srv.URL + p)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("%s: %v %v", p, resp, err)
		}
		resp.Body.Close()
	}
	resp, err := b.client.Get(b.srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	buf := new(strings.Builder)
	_, _ = fmt.Fprint(buf, readAll(resp))
	if !strings.Contains(buf.String(), `scimbridge_http_requests_total{method="POST",route="/scim/v2/Users",status="201"} 1`) {
		t.Fatalf("metrics lack the POST /Users counter:\n%s", buf)
	}
}

func TestPerClientRateLimit(t *testing.T) {
	b := newBridgeWith(t, func(c *scim.Config) { c.RateLimit, c.RateWindow = 5, time.Minute })
	for i := range 5 {
		if status, _, m, _ := b.do("GET", "/Users", testToken, "", nil, nil); status != 200 {
			t.Fatalf("request %d: %d %v", i, status, m)
		}
	}
	status, hdr, m, _ := b.do("GET", "/Users", testToken, "", nil, nil)
	if status != http.StatusTooManyRequests || m["status"] != "429" || hdr.Get("Retry-After") == "" {
		t.Fatalf("6th request: %d %v Retry-After=%q", status, m, hdr.Get("Retry-After"))
	}
	// Another client has its own budget.
	if status, _, m, _ := b.do("GET", "/Users", readOnlyToken, "", nil, nil); status != 200 {
		t.Fatalf("other client: %d %v", status, m)
	}
}

// The write handlers answer as the library-mounted front did: 201 with
// Location and ETag for a create, the resource and its ETag for PUT and a
// user PATCH, 204 with no body for a group PATCH and a DELETE; the
// library's schema validation decides what is refused.
func TestWriteAnswers(t *testing.T) {
	b := newBridge(t)
	body := []byte(`{"userName":"wa@example.com","emails":[{"value":"wa@example.com","type":"work"}],"active":"True"}`)
	status, hdr, m, _ := b.do("POST", "/Users", testToken, "", body, nil)
	mustStatus(t, status, http.StatusCreated, m)
	meta := m["meta"].(map[string]any)
	if hdr.Get("Location") == "" || hdr.Get("Location") != meta["location"] || hdr.Get("ETag") != meta["version"] ||
		hdr.Get("Content-Type") != "application/scim+json" || m["active"] != true {
		t.Fatalf("POST: %v %v", hdr, m)
	}
	id := m["id"].(string)
	status, hdr, m, _ = b.do("PUT", "/Users/"+id, testToken, "", []byte(`{"userName":"wa@example.com","title":"T"}`), map[string]string{"If-Match": hdr.Get("ETag")})
	mustStatus(t, status, http.StatusOK, m)
	if hdr.Get("ETag") != `W/"2"` || hdr.Get("Location") != "" || m["title"] != "T" || m["emails"] != nil {
		t.Fatalf("PUT: %v %v", hdr, m)
	}
	// "Schemas" in any spelling is the PatchOp message's.
	status, hdr, m, _ = b.do("PATCH", "/Users/"+id, testToken, "", []byte(`{"Schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"title","value":"U"}]}`), nil)
	mustStatus(t, status, http.StatusOK, m)
	if hdr.Get("ETag") != `W/"3"` || m["title"] != "U" {
		t.Fatalf("PATCH: %v %v", hdr, m)
	}
	status, _, m, _ = b.do("POST", "/Groups", testToken, "", []byte(`{"displayName":"WA","members":[{"value":"`+id+`","display":"ignored"}]}`), nil)
	mustStatus(t, status, http.StatusCreated, m)
	gid := m["id"].(string)
	status, hdr, _, raw := b.do("PATCH", "/Groups/"+gid, testToken, "", []byte(`{"Operations":[{"op":"remove","path":"members[value eq \"`+id+`\"]"}]}`), nil)
	if status != http.StatusNoContent || len(raw) != 0 || hdr.Get("ETag") != `W/"2"` {
		t.Fatalf("group PATCH: %d %v %s (the 204 carries the new version)", status, hdr, raw)
	}
	if _, m := b.json("GET", "/Groups/"+gid, nil); m["members"] != nil || m["meta"].(map[string]any)["version"] != `W/"2"` {
		t.Fatalf("group after PATCH: %v", m)
	}
	status, _, _, raw = b.do("DELETE", "/Users/"+id, testToken, "", nil, nil)
	if status != http.StatusNoContent || len(raw) != 0 {
		t.Fatalf("DELETE: %d %s", status, raw)
	}
	if status, m := b.json("GET", "/Users/"+id, nil); status != http.StatusNotFound {
		t.Fatalf("GET after DELETE: %d %v", status, m)
	}

	id = createUsers(t, b, 1)[0]
	for _, c := range []struct {
		name, method, path, body, scimType string
	}{
		{"userName missing (the library: required)", "POST", "/Users", `{"title":"x"}`, "invalidValue"},
		{"userName twice (the library: duplicate)", "POST", "/Users", `{"userName":"a@example.com","USERNAME":"b@example.com"}`, "invalidSyntax"},
		{"externalId not a string (the library)", "POST", "/Users", `{"userName":"a@example.com","externalId":5}`, "invalidValue"},
		{"displayName missing", "POST", "/Groups", `{"members":[]}`, "invalidValue"},
		{"member without a value", "POST", "/Groups", `{"displayName":"g","members":[{"display":"x"}]}`, "invalidValue"},
		{"boolean that is none", "PUT", "/Users/" + id, `{"userName":"a@example.com","active":"yes"}`, "invalidValue"},
		{"unknown path (the library)", "PATCH", "/Users/" + id, `{"Operations":[{"op":"replace","path":"bogus","value":"x"}]}`, "invalidPath"},
		{"remove without a path (the library)", "PATCH", "/Users/" + id, `{"Operations":[{"op":"remove"}]}`, "noTarget"},
		{"replace with null (the library)", "PATCH", "/Users/" + id, `{"Operations":[{"op":"replace","path":"title","value":null}]}`, "invalidValue"},
		{"op that is none (the library)", "PATCH", "/Users/" + id, `{"Operations":[{"op":"move","path":"title","value":"x"}]}`, "invalidValue"},
		{"path that is not a string (the library)", "PATCH", "/Users/" + id, `{"Operations":[{"op":"replace","path":5,"value":"x"}]}`, "invalidPath"},
		{"readOnly attribute (the engine)", "PATCH", "/Users/" + id, `{"Operations":[{"op":"replace","path":"groups","value":[{"value":"x"}]}]}`, "mutability"},
		{"not an object", "PATCH", "/Users/" + id, `[]`, "invalidSyntax"},
	} {
		status, _, m, raw := b.do(c.method, c.path, testToken, "", []byte(c.body), nil)
		if status != http.StatusBadRequest || m["scimType"] != c.scimType {
			t.Errorf("%s: %d %s, want 400 %s", c.name, status, raw, c.scimType)
		}
	}
	// Paths the library's own parser refused and RFC 7644 allows.
	for _, op := range []string{
		`{"op":"replace","path":" title ","value":"blank"}`,
		`{"op":"add","path":"emails[not (type eq \"home\")].display","value":"Work"}`,
	} {
		status, _, m, _ := b.do("PATCH", "/Users/"+id, testToken, "", []byte(`{"Operations":[`+op+`]}`), nil)
		mustStatus(t, status, http.StatusOK, m)
	}
	// The body limit holds for every write.
	big := []byte(`{"Operations":[{"op":"replace","path":"title","value":"` + strings.Repeat("x", 70<<10) + `"}]}`)
	if status, _, m, _ := b.do("PATCH", "/Users/"+id, testToken, "", big, nil); status != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized PATCH: %d %v", status, m)
	}
}

// /Schemas/{id} and /ResourceTypes/{id} serve the documents the lists
// hold; the lists page with startIndex and count.
func TestDiscoveryItems(t *testing.T) {
	b := newBridge(t)
	_, list := b.json("GET", "/Schemas", nil)
	res := list["Resources"].([]any)
	if len(res) != 7 {
		t.Fatalf("/Schemas holds %d schemas", len(res))
	}
	for _, r := range res {
		id := r.(map[string]any)["id"].(string)
		status, m := b.json("GET", "/Schemas/"+id, nil)
		if status != 200 || fmt.Sprint(m) != fmt.Sprint(r) {
			t.Errorf("/Schemas/%s: %d %v", id, status, m)
		}
	}
	if status, m := b.json("GET", "/Schemas/urn:ietf:params:scim:schemas:core:2.0:user", nil); status != 404 || m["status"] != "404" {
		t.Errorf("a schema id of the wrong case: %d %v", status, m)
	}
	status, m := b.json("GET", "/ResourceTypes/User", nil)
	if exts, _ := m["schemaExtensions"].([]any); status != 200 || m["endpoint"] != "/Users" || m["schema"] != "urn:ietf:params:scim:schemas:core:2.0:User" || len(exts) != 2 {
		t.Errorf("/ResourceTypes/User: %d %v", status, m)
	}
	if status, m := b.json("GET", "/ResourceTypes/Group", nil); status != 200 || m["schemaExtensions"] == nil || m["description"] != "Group" {
		t.Errorf("/ResourceTypes/Group: %d %v", status, m)
	}
	if status, _ := b.json("GET", "/ResourceTypes/Nope", nil); status != 404 {
		t.Errorf("/ResourceTypes/Nope: %d", status)
	}
	status, m = b.json("GET", "/Schemas?startIndex=3&count=2", nil)
	if got := ids(m); status != 200 || m["totalResults"] != float64(7) || m["itemsPerPage"] != float64(2) || m["startIndex"] != float64(3) || len(got) != 2 {
		t.Errorf("/Schemas page: %d %v", status, m)
	}
	if status, m := b.json("GET", "/ResourceTypes?count=x", nil); status != 400 || m["status"] != "400" {
		t.Errorf("count=x: %d %v", status, m)
	}
}

// An extension given twice, its URN in different case, is refused like a
// core attribute given twice, instead of one copy winning.
func TestExtensionGivenTwice(t *testing.T) {
	b := newBridge(t)
	body := []byte(`{"userName":"twice@example.com",
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"A"},
		"urn:ietf:params:scim:schemas:extension:ENTERPRISE:2.0:User":{"department":"B"}}`)
	status, _, m, _ := b.do("POST", "/Users", testToken, "", body, nil)
	if status != http.StatusBadRequest || m["scimType"] != "invalidSyntax" {
		t.Fatalf("POST: %d %v", status, m)
	}
}

// A user PUT back as it was read, manager and all, is unchanged: the
// manager's $ref is the front's to build, not stored from the client.
func TestPutBackAsReadKeepsVersion(t *testing.T) {
	b := newBridge(t)
	mgr := createUsers(t, b, 1)[0]
	body := []byte(`{"userName":"report@example.com","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"manager":{"value":"` + mgr + `"}}}`)
	status, _, m, raw := b.do("POST", "/Users", testToken, "", body, nil)
	mustStatus(t, status, http.StatusCreated, m)
	id := m["id"].(string)
	status, hdr, m, _ := b.do("PUT", "/Users/"+id, testToken, "", raw, nil)
	mustStatus(t, status, http.StatusOK, m)
	if hdr.Get("ETag") != `W/"1"` {
		t.Fatalf("PUT of the user as read: ETag %s, want W/\"1\" (unchanged)", hdr.Get("ETag"))
	}
}
