package hubspotsim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// crmBases are the users-object paths of every version served.
func crmBases() []string {
	return []string{"/crm/v3/objects/users", "/crm/objects/2026-03/users", "/crm/objects/2026-09-beta/users"}
}

type crmObj struct {
	ID         string             `json:"id"`
	Properties map[string]*string `json:"properties"`
	CreatedAt  time.Time          `json:"createdAt"`
	UpdatedAt  time.Time          `json:"updatedAt"`
	Archived   bool               `json:"archived"`
}

func (o crmObj) prop(name string) string {
	if v := o.Properties[name]; v != nil {
		return *v
	}
	return ""
}

type crmSearchAnswer struct {
	Total   int      `json:"total"`
	Results []crmObj `json:"results"`
	Paging  *struct {
		Next struct {
			After string `json:"after"`
		} `json:"next"`
	} `json:"paging"`
}

func crmSeed() *Seed {
	sd := testSeed()
	sd.CRMUserProperties = []SeedCRMProperty{
		{Name: "department", Label: "Department"},
		{Name: "cost_center"},
		{Name: "badge", ReadOnly: true},
		{Name: "employee_number", Unique: true},
		{Name: "tier", Options: []string{"gold", "silver"}},
	}
	sd.Users = append(sd.Users, SeedUser{Email: "bob@example.com", FirstName: "Bob", LastName: "Builder"})
	sd.CRMUsers = []SeedCRMUser{
		{Email: "bob@example.com", Properties: map[string]string{"hs_job_title": "Engineer", "department": "R&D", "employee_number": "E-7"}},
		// A stray record carrying the admin's Settings id (a duplicate).
		{Properties: map[string]string{"hs_internal_user_id": "99999999", "hs_job_title": "Ghost"}},
	}
	return sd
}

func (e *env) crmRecordOf(userID string) CRMUserState {
	e.t.Helper()
	r, ok := e.sim.CRMUserOf(userID)
	if !ok {
		e.t.Fatalf("Settings user %s has no CRM record; records: %+v", userID, e.sim.CRMUsers())
	}
	return r
}

func TestCRMRecordsFollowSettingsUsers(t *testing.T) {
	e := newEnv(t, Config{Seed: crmSeed()})
	admin := e.crmRecordOf(adminID)
	if admin.Properties["hs_internal_user_id"] != adminID || admin.Properties["hs_email"] != adminEmail ||
		admin.Properties["hs_object_id"] != admin.ID || admin.ID == adminID {
		t.Errorf("seeded admin's record %+v", admin)
	}

	u := e.createUser("Carol@Example.com", map[string]any{"firstName": "Carol", "lastName": "Danvers"})
	rec := e.crmRecordOf(u.ID)
	if rec.Properties["hs_email"] != "carol@example.com" || rec.Properties["hs_given_name"] != "Carol" ||
		rec.Properties["hs_family_name"] != "Danvers" || rec.Properties["hs_internal_user_id"] != u.ID {
		t.Errorf("record of a created user: %+v", rec)
	}
	// The API sees the record Behaviour.CRMRecordDelay after the user
	// was made (behaviour_test.go has the details).
	e.do("GET", crmBases()[0]+"/"+rec.ID, tokCRM, nil).wantError(t, http.StatusNotFound, catNotFound, "")
	e.clock.Advance(DefaultCRMRecordDelay)
	for _, base := range crmBases() {
		var o crmObj
		e.do("GET", base+"/"+rec.ID+"?properties=hs_internal_user_id,hs_email,hs_job_title", tokCRM, nil).wantStatus(t, http.StatusOK).decode(t, &o)
		if o.ID != rec.ID || o.prop("hs_internal_user_id") != u.ID || o.prop("hs_object_id") != rec.ID {
			t.Errorf("%s: read %+v", base, o)
		}
		if v, present := o.Properties["hs_job_title"]; !present || v != nil {
			t.Errorf("%s: hs_job_title asked for without a value should be null, got %v (present %v)", base, v, present)
		}
		if _, present := o.Properties["nonexistent"]; present {
			t.Errorf("%s: unknown property sent back", base)
		}
	}

	// A Settings rename shows on the record (once Carol has accepted her
	// invitation: before, HubSpot refuses name changes).
	e.sim.AcceptInvite(u.Email)
	e.do("PUT", "/settings/users/2026-03/"+u.ID, tokFull, map[string]any{"lastName": "Marvel"}).wantStatus(t, http.StatusOK)
	if got := e.crmRecordOf(u.ID).Properties["hs_family_name"]; got != "Marvel" {
		t.Errorf("hs_family_name after rename = %q", got)
	}

	// Deleting the Settings user archives the record.
	e.do("DELETE", "/settings/users/2026-03/"+u.ID, tokFull, nil).wantStatus(t, http.StatusNoContent)
	if _, ok := e.sim.CRMUserOf(u.ID); ok {
		t.Error("deleted user still has a live record")
	}
	e.do("GET", "/crm/v3/objects/users/"+rec.ID, tokCRM, nil).wantError(t, http.StatusNotFound, catNotFound, "")
	var arch crmObj
	e.do("GET", "/crm/v3/objects/users/"+rec.ID+"?archived=true", tokCRM, nil).wantStatus(t, http.StatusOK).decode(t, &arch)
	if !arch.Archived {
		t.Errorf("archived read %+v", arch)
	}
	// Created again (HubSpot reuses the Settings id): a new record.
	again := e.createUser("carol@example.com", nil)
	if again.ID != u.ID {
		t.Fatalf("re-created user got id %s, want %s", again.ID, u.ID)
	}
	if rec2 := e.crmRecordOf(u.ID); rec2.ID == rec.ID {
		t.Errorf("re-created user reuses archived record %s", rec.ID)
	}
}

func TestCRMRecordCreatedWhenAnswerLost(t *testing.T) {
	e := newEnv(t, Config{Seed: crmSeed(), Faults: Faults{LostAnswerRate: 1, Methods: []string{"POST"}, Paths: []string{"/settings/"}}})
	r := e.do("POST", "/settings/users/2026-03", tokFull, map[string]any{"email": "lost@example.com", "sendWelcomeEmail": false})
	if r.err == nil {
		t.Fatalf("answer not lost: %d %s", r.status, r.body)
	}
	u, ok := findUser(e.sim.State(), "lost@example.com")
	if !ok {
		t.Fatal("lost-answer create not committed")
	}
	e.crmRecordOf(u.ID)
}

func TestCRMPatch(t *testing.T) {
	e := newEnv(t, Config{Seed: crmSeed()})
	bob, _ := findUser(e.sim.State(), "bob@example.com")
	rec := e.crmRecordOf(bob.ID)
	path := "/crm/objects/2026-03/users/" + rec.ID

	var o crmObj
	e.do("PATCH", path, tokCRM, map[string]any{"properties": map[string]any{"department": "Sales", "cost_center": "CC-1"}}).
		wantStatus(t, http.StatusOK).decode(t, &o)
	if o.prop("department") != "Sales" || o.prop("cost_center") != "CC-1" || o.prop("hs_object_id") != rec.ID {
		t.Errorf("PATCH answer %+v", o)
	}
	if _, shown := o.Properties["hs_job_title"]; shown {
		t.Errorf("PATCH answer shows a property it did not write: %+v", o.Properties)
	}
	after := e.crmRecordOf(bob.ID)
	if after.Properties["hs_job_title"] != "Engineer" || after.Properties["department"] != "Sales" || !after.UpdatedAt.After(rec.UpdatedAt) && !after.UpdatedAt.Equal(rec.UpdatedAt) {
		t.Errorf("after PATCH %+v", after)
	}

	// "" clears.
	e.do("PATCH", path, tokCRM, map[string]any{"properties": map[string]any{"cost_center": ""}}).wantStatus(t, http.StatusOK)
	if _, has := e.crmRecordOf(bob.ID).Properties["cost_center"]; has {
		t.Error("cost_center not cleared")
	}

	// Refusals: nothing is applied, the message names each property.
	for _, tc := range []struct {
		props map[string]any
		code  string
		name  string
	}{
		{map[string]any{"department": "Ops", "favourite_colour": "blue"}, "PROPERTY_DOESNT_EXIST", "favourite_colour"},
		{map[string]any{"department": "Ops", "hs_email": "x@example.com"}, "READ_ONLY_VALUE", "hs_email"},
		{map[string]any{"department": "Ops", "badge": "B1"}, "READ_ONLY_VALUE", "badge"},
		{map[string]any{"department": "Ops", "hs_internal_user_id": "1"}, "READ_ONLY_VALUE", "hs_internal_user_id"},
		{map[string]any{"department": "Ops", "tier": "bronze"}, "INVALID_OPTION", "tier"},
		{map[string]any{"department": "Ops", "hs_availability_status": "busy"}, "INVALID_OPTION", "hs_availability_status"},
	} {
		eb := e.do("PATCH", path, tokCRM, map[string]any{"properties": tc.props}).wantError(t, http.StatusBadRequest, catValidation, "")
		prefix := "Property values were not valid: "
		if !strings.HasPrefix(eb.Message, prefix) {
			t.Fatalf("message %q", eb.Message)
		}
		var issues []propIssue
		if err := json.Unmarshal([]byte(strings.TrimPrefix(eb.Message, prefix)), &issues); err != nil {
			t.Fatalf("embedded issues %q: %v", eb.Message, err)
		}
		if len(issues) != 1 || issues[0].Name != tc.name || issues[0].Error != tc.code || issues[0].IsValid {
			t.Errorf("issues %+v, want %s %s", issues, tc.name, tc.code)
		}
		if got := e.crmRecordOf(bob.ID).Properties["department"]; got != "Sales" {
			t.Fatalf("refused PATCH applied department=%q", got)
		}
	}

	// Enumerations take their options; numbers must be numbers.
	e.do("PATCH", path, tokCRM, map[string]any{"properties": map[string]any{"tier": "gold", "hs_availability_status": "away"}}).wantStatus(t, http.StatusOK)

	// By a unique property; not by hs_internal_user_id (not unique).
	e.do("PATCH", "/crm/v3/objects/users/E-7?idProperty=employee_number", tokCRM, map[string]any{"properties": map[string]any{"department": "HR"}}).wantStatus(t, http.StatusOK)
	if got := e.crmRecordOf(bob.ID).Properties["department"]; got != "HR" {
		t.Errorf("PATCH by employee_number: department %q", got)
	}
	e.do("PATCH", "/crm/v3/objects/users/"+bob.ID+"?idProperty=hs_internal_user_id", tokCRM, map[string]any{"properties": map[string]any{"department": "HR"}}).
		wantError(t, http.StatusBadRequest, catValidation, "idProperty")

	e.do("PATCH", "/crm/v3/objects/users/123", tokCRM, map[string]any{"properties": map[string]any{"department": "HR"}}).wantError(t, http.StatusNotFound, catNotFound, "")
	e.do("PATCH", path, tokCRM, map[string]any{}).wantError(t, http.StatusBadRequest, catValidation, "properties")
}

func TestCRMScopes(t *testing.T) {
	e := newEnv(t, Config{Seed: crmSeed()})
	rec := e.crmRecordOf(adminID)
	for _, call := range []struct{ method, path string }{
		{"GET", "/crm/v3/objects/users"},
		{"GET", "/crm/objects/2026-03/users/" + rec.ID},
		{"POST", "/crm/objects/2026-03/users/search"},
		{"POST", "/crm/objects/2026-03/users/batch/read"},
		{"GET", "/crm/properties/2026-03/user"},
		{"PATCH", "/crm/objects/2026-03/users/" + rec.ID},
	} {
		// settings.users.* does not open the CRM object.
		eb := e.do(call.method, call.path, tokRead, map[string]any{}).wantError(t, http.StatusForbidden, catScopes, "")
		want := ScopeCRMUsersRead
		if call.method == "PATCH" {
			want = ScopeCRMUsersWrite
		}
		if !slices.Contains(eb.Context["missingScopes"], want) {
			t.Errorf("%s %s: missingScopes %v, want %s", call.method, call.path, eb.Context["missingScopes"], want)
		}
	}
	e.do("GET", "/crm/v3/objects/users", "", nil).wantError(t, http.StatusUnauthorized, catAuth, "")
}

func TestCRMProperties(t *testing.T) {
	e := newEnv(t, Config{Seed: crmSeed()})
	for _, p := range []string{"/crm/v3/properties/user", "/crm/v3/properties/users", "/crm/properties/2026-03/user", "/crm/properties/2026-03/0-115"} {
		var out struct {
			Results []propertyWire `json:"results"`
		}
		e.do("GET", p, tokCRM, nil).wantStatus(t, http.StatusOK).decode(t, &out)
		by := map[string]propertyWire{}
		for _, pw := range out.Results {
			by[pw.Name] = pw
		}
		if jt := by["hs_job_title"]; jt.ModificationMetadata.ReadOnlyValue || !jt.HubSpotDefined || jt.Type != "string" {
			t.Errorf("%s: hs_job_title %+v", p, jt)
		}
		if id := by["hs_internal_user_id"]; !id.ModificationMetadata.ReadOnlyValue || id.HasUniqueValue {
			t.Errorf("%s: hs_internal_user_id %+v", p, id)
		}
		if d, ok := by["department"]; !ok || d.HubSpotDefined || d.ModificationMetadata.ReadOnlyValue || d.Label != "Department" {
			t.Errorf("%s: department %+v", p, d)
		}
		if tier := by["tier"]; tier.Type != "enumeration" || len(tier.Options) != 2 {
			t.Errorf("%s: tier %+v", p, tier)
		}
	}
	e.do("GET", "/crm/properties/2026-03/user/hs_working_hours", tokCRM, nil).wantStatus(t, http.StatusOK)
	e.do("GET", "/crm/properties/2026-03/user/nope", tokCRM, nil).wantError(t, http.StatusNotFound, catNotFound, "")
	e.do("GET", "/crm/properties/2026-03/contacts", tokCRM, nil).wantError(t, http.StatusNotFound, catNotFound, "")
	var arch struct {
		Results []propertyWire `json:"results"`
	}
	e.do("GET", "/crm/v3/properties/user?archived=true", tokCRM, nil).wantStatus(t, http.StatusOK).decode(t, &arch)
	if len(arch.Results) != 0 {
		t.Errorf("archived properties %+v", arch.Results)
	}
}

func TestCRMSearch(t *testing.T) {
	e := newEnv(t, Config{Seed: crmSeed()})
	var ids []string
	for i := range 25 {
		ids = append(ids, e.createUser(fmt.Sprintf("s%02d@example.com", i), map[string]any{"firstName": "S", "lastName": fmt.Sprint(i)}).ID)
	}
	// Search sees the records once they have appeared and the search lag
	// has passed (behaviour_test.go has the details).
	e.clock.Advance(DefaultCRMRecordDelay + DefaultCRMSearchLag)
	search := func(body map[string]any) crmSearchAnswer {
		t.Helper()
		e.clock.Advance(time.Second / DefaultCRMSearchPerSecond) // within the search limit
		var a crmSearchAnswer
		e.do("POST", "/crm/objects/2026-03/users/search", tokCRM, body).wantStatus(t, http.StatusOK).decode(t, &a)
		return a
	}
	eq := func(prop, v string) map[string]any {
		return map[string]any{"propertyName": prop, "operator": "EQ", "value": v}
	}

	a := search(map[string]any{"filterGroups": []any{map[string]any{"filters": []any{eq("hs_internal_user_id", ids[3])}}}, "properties": []string{"hs_email"}})
	if a.Total != 1 || len(a.Results) != 1 || a.Results[0].prop("hs_email") != "s03@example.com" || a.Paging != nil {
		t.Errorf("EQ search %+v", a)
	}
	// Values are numbers as JSON too; strings compare without case.
	a = search(map[string]any{"filterGroups": []any{map[string]any{"filters": []any{eq("hs_email", "S04@EXAMPLE.COM")}}}})
	if a.Total != 1 {
		t.Errorf("case-insensitive EQ %+v", a)
	}

	// IN with paging: 25 users, pages of 10.
	in := map[string]any{"propertyName": "hs_internal_user_id", "operator": "IN", "values": append(slices.Clone(ids), "424242")}
	var got []string
	after := ""
	for page := 0; ; page++ {
		body := map[string]any{"filterGroups": []any{map[string]any{"filters": []any{in}}}, "properties": []string{"hs_internal_user_id"}, "limit": 10}
		if after != "" {
			body["after"] = after
		}
		a := search(body)
		if a.Total != 25 || len(a.Results) > 10 {
			t.Fatalf("page %d: total %d, %d results", page, a.Total, len(a.Results))
		}
		for _, r := range a.Results {
			got = append(got, r.prop("hs_internal_user_id"))
		}
		if a.Paging == nil {
			break
		}
		after = a.Paging.Next.After
	}
	if !sameSet(got, ids) {
		t.Errorf("IN search found %v, want %v", got, ids)
	}

	// Groups are ORed, filters ANDed; archived records are not found.
	e.do("DELETE", "/settings/users/2026-03/"+ids[1], tokFull, nil).wantStatus(t, http.StatusNoContent)
	e.clock.Advance(DefaultCRMSearchLag) // until search sees the archive
	a = search(map[string]any{"filterGroups": []any{
		map[string]any{"filters": []any{eq("hs_internal_user_id", ids[0]), eq("hs_given_name", "S")}},
		map[string]any{"filters": []any{eq("hs_internal_user_id", ids[1])}},
		map[string]any{"filters": []any{eq("hs_internal_user_id", ids[2]), eq("hs_given_name", "nope")}},
	}})
	if a.Total != 1 || a.Results[0].ID != e.crmRecordOf(ids[0]).ID {
		t.Errorf("OR/AND search %+v", a)
	}
	// The stray duplicate carries no Settings user but is searchable.
	a = search(map[string]any{"filterGroups": []any{map[string]any{"filters": []any{eq("hs_internal_user_id", "99999999")}}}, "properties": []string{"hs_job_title"}})
	if a.Total != 1 || a.Results[0].prop("hs_job_title") != "Ghost" {
		t.Errorf("stray record search %+v", a)
	}
	// HAS_PROPERTY, sorting, query.
	a = search(map[string]any{"filterGroups": []any{map[string]any{"filters": []any{map[string]any{"propertyName": "hs_job_title", "operator": "HAS_PROPERTY"}}}}})
	if a.Total != 2 {
		t.Errorf("HAS_PROPERTY hs_job_title: %d", a.Total)
	}
	a = search(map[string]any{"query": "s1", "sorts": []any{map[string]any{"propertyName": "hs_email", "direction": "DESCENDING"}}, "properties": []string{"hs_email"}, "limit": 200})
	if a.Total != 10 || a.Results[0].prop("hs_email") != "s19@example.com" {
		t.Errorf("query and sort: total %d, first %+v", a.Total, a.Results)
	}

	for name, body := range map[string]map[string]any{
		"limit over 200":   {"limit": 201},
		"unknown property": {"filterGroups": []any{map[string]any{"filters": []any{eq("favourite_colour", "x")}}}},
		"bad operator":     {"filterGroups": []any{map[string]any{"filters": []any{map[string]any{"propertyName": "hs_email", "operator": "LIKE", "value": "x"}}}}},
		"101 IN values":    {"filterGroups": []any{map[string]any{"filters": []any{map[string]any{"propertyName": "hs_email", "operator": "IN", "values": make([]string, 101)}}}}},
		"past 10,000":      {"after": "9950", "limit": 100},
		"six groups":       {"filterGroups": []any{map[string]any{}, map[string]any{}, map[string]any{}, map[string]any{}, map[string]any{}, map[string]any{}}},
	} {
		e.clock.Advance(time.Second / DefaultCRMSearchPerSecond)
		r := e.do("POST", "/crm/objects/2026-03/users/search", tokCRM, body)
		if r.status != http.StatusBadRequest {
			t.Errorf("%s: status %d %s", name, r.status, r.body)
		}
	}
}

func TestCRMBatchReadAndList(t *testing.T) {
	e := newEnv(t, Config{Seed: crmSeed()})
	bob, _ := findUser(e.sim.State(), "bob@example.com")
	admin, bobRec := e.crmRecordOf(adminID), e.crmRecordOf(bob.ID)

	var out struct {
		Status    string   `json:"status"`
		Results   []crmObj `json:"results"`
		NumErrors int      `json:"numErrors"`
		Errors    []struct {
			Category string              `json:"category"`
			Context  map[string][]string `json:"context"`
		} `json:"errors"`
	}
	e.do("POST", "/crm/v3/objects/users/batch/read", tokCRM, map[string]any{
		"inputs": []any{map[string]any{"id": admin.ID}, map[string]any{"id": bobRec.ID}}, "properties": []string{"department"}, "propertiesWithHistory": []string{},
	}).wantStatus(t, http.StatusOK).decode(t, &out)
	if out.Status != "COMPLETE" || len(out.Results) != 2 || out.Results[1].prop("department") != "R&D" {
		t.Errorf("batch read %+v", out)
	}
	e.do("POST", "/crm/v3/objects/users/batch/read", tokCRM, map[string]any{
		"inputs": []any{map[string]any{"id": admin.ID}, map[string]any{"id": "200999999999"}}, "properties": []string{},
	}).wantStatus(t, http.StatusMultiStatus).decode(t, &out)
	if len(out.Results) != 1 || out.NumErrors != 1 || out.Errors[0].Category != catNotFound || !slices.Equal(out.Errors[0].Context["ids"], []string{"200999999999"}) {
		t.Errorf("batch read with a missing id %+v", out)
	}
	// By a unique custom property; hs_internal_user_id is not unique.
	e.do("POST", "/crm/v3/objects/users/batch/read", tokCRM, map[string]any{"idProperty": "employee_number", "inputs": []any{map[string]any{"id": "E-7"}}}).
		wantStatus(t, http.StatusOK).decode(t, &out)
	if len(out.Results) != 1 || out.Results[0].ID != bobRec.ID {
		t.Errorf("batch read by employee_number %+v", out)
	}
	e.do("POST", "/crm/v3/objects/users/batch/read", tokCRM, map[string]any{"idProperty": "hs_internal_user_id", "inputs": []any{map[string]any{"id": adminID}}}).
		wantError(t, http.StatusBadRequest, catValidation, "idProperty")
	many := make([]any, 101)
	for i := range many {
		many[i] = map[string]any{"id": fmt.Sprint(firstCRMUserID + i)}
	}
	e.do("POST", "/crm/v3/objects/users/batch/read", tokCRM, map[string]any{"inputs": many}).wantError(t, http.StatusBadRequest, catValidation, "inputs")

	// List: pages in id order, 10 by default, at most 100.
	for range 12 {
		e.createUser(fmt.Sprintf("l%d-%d@example.com", time.Now().UnixNano(), len(e.sim.CRMUsers())), nil)
	}
	e.clock.Advance(DefaultCRMRecordDelay) // until the new records appear
	var all []string
	next := "/crm/objects/2026-03/users?properties=hs_email"
	for next != "" {
		var page struct {
			Results []crmObj `json:"results"`
			Paging  *struct {
				Next struct {
					After string `json:"after"`
					Link  string `json:"link"`
				} `json:"next"`
			} `json:"paging"`
		}
		e.do("GET", next, tokCRM, nil).wantStatus(t, http.StatusOK).decode(t, &page)
		if len(page.Results) > 10 {
			t.Fatalf("page of %d", len(page.Results))
		}
		for _, r := range page.Results {
			all = append(all, r.ID)
		}
		next = ""
		if page.Paging != nil {
			next = strings.TrimPrefix(page.Paging.Next.Link, e.srv.URL)
		}
	}
	if len(all) != len(e.sim.CRMUsers()) || !slices.IsSorted(all) {
		t.Errorf("listed %d records %v, state has %d", len(all), all, len(e.sim.CRMUsers()))
	}
	e.do("GET", "/crm/v3/objects/users?limit=101", tokCRM, nil).wantError(t, http.StatusBadRequest, catValidation, "limit")

	var insp struct {
		Users []CRMUserState `json:"users"`
	}
	e.do("GET", "/_sim/crm-users", "", nil).wantStatus(t, http.StatusOK).decode(t, &insp)
	if len(insp.Users) != len(all) {
		t.Errorf("/_sim/crm-users lists %d records, want %d", len(insp.Users), len(all))
	}
}

func TestCRMSeedErrors(t *testing.T) {
	for name, mod := range map[string]func(*Seed){
		"bad name":      func(s *Seed) { s.CRMUserProperties = []SeedCRMProperty{{Name: "Department"}} },
		"defined twice": func(s *Seed) { s.CRMUserProperties = []SeedCRMProperty{{Name: "hs_job_title"}} },
		"unknown user":  func(s *Seed) { s.CRMUsers = []SeedCRMUser{{Email: "nobody@example.com"}} },
		"unknown property": func(s *Seed) {
			s.CRMUsers = []SeedCRMUser{{Email: adminEmail, Properties: map[string]string{"nope": "x"}}}
		},
		"simulator-kept one": func(s *Seed) {
			s.CRMUsers = []SeedCRMUser{{Email: adminEmail, Properties: map[string]string{"hs_object_id": "1"}}}
		},
	} {
		sd := testSeed()
		mod(sd)
		if _, err := New(Config{Seed: sd}); err == nil {
			t.Errorf("%s: seed accepted", name)
		}
	}
	sd, err := ParseSeed([]byte("crmUserProperties:\n  - name: region\n    options: [emea, na]\ncrmUsers:\n  - properties: {hs_internal_user_id: '5', region: emea}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if sd.CRMUserProperties[0].Name != "region" || sd.CRMUsers[0].Properties["region"] != "emea" {
		t.Errorf("parsed %+v", sd)
	}
}

// A batch update writes every record or, when one input is refused, none
// (the stricter reading; see batchUpdateCRMUsers).
func TestCRMBatchUpdate(t *testing.T) {
	e := newEnv(t, Config{Seed: crmSeed()})
	bob, _ := findUser(e.sim.State(), "bob@example.com")
	bobRec, adminRec := e.crmRecordOf(bob.ID), e.crmRecordOf(adminID)
	path := "/crm/objects/2026-03/users/batch/update"
	input := func(id string, props map[string]any) map[string]any {
		return map[string]any{"id": id, "properties": props}
	}

	var out struct {
		Status  string   `json:"status"`
		Results []crmObj `json:"results"`
	}
	e.do("POST", path, tokCRM, map[string]any{"inputs": []any{
		input(bobRec.ID, map[string]any{"department": "Sales"}),
		input(adminRec.ID, map[string]any{"department": "IT", "cost_center": "CC-9"}),
	}}).wantStatus(t, http.StatusOK).decode(t, &out)
	if out.Status != "COMPLETE" || len(out.Results) != 2 {
		t.Fatalf("answer %+v", out)
	}
	if e.crmRecordOf(bob.ID).Properties["department"] != "Sales" || e.crmRecordOf(adminID).Properties["cost_center"] != "CC-9" {
		t.Fatalf("after the batch: %v / %v", e.crmRecordOf(bob.ID).Properties, e.crmRecordOf(adminID).Properties)
	}

	for _, tc := range []struct {
		name   string
		inputs []any
		field  string
	}{
		{"unknown property", []any{input(bobRec.ID, map[string]any{"department": "Ops"}), input(adminRec.ID, map[string]any{"favourite_colour": "blue"})}, ""},
		{"read-only property", []any{input(bobRec.ID, map[string]any{"department": "Ops"}), input(adminRec.ID, map[string]any{"hs_email": "x@example.com"})}, ""},
		{"unknown record", []any{input(bobRec.ID, map[string]any{"department": "Ops"}), input("123", map[string]any{"department": "Ops"})}, ""},
		{"one record twice", []any{input(bobRec.ID, map[string]any{"department": "Ops"}), input(bobRec.ID, map[string]any{"department": "HR"})}, ""},
		{"no properties", []any{map[string]any{"id": bobRec.ID}}, "inputs.properties"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.do("POST", path, tokCRM, map[string]any{"inputs": tc.inputs}).wantError(t, http.StatusBadRequest, catValidation, tc.field)
			if got := e.crmRecordOf(bob.ID).Properties["department"]; got != "Sales" {
				t.Fatalf("a refused batch wrote department=%q", got)
			}
		})
	}
	var many []any
	for range crmBatchMax + 1 {
		many = append(many, input(bobRec.ID, map[string]any{"department": "Ops"}))
	}
	e.do("POST", path, tokCRM, map[string]any{"inputs": many}).wantError(t, http.StatusBadRequest, catValidation, "inputs")
	e.do("POST", path, tokCRM, map[string]any{}).wantError(t, http.StatusBadRequest, catValidation, "inputs")
	e.do("POST", "/crm/objects/2026-03/users/batch/read", tokCRM, map[string]any{"properties": []string{}}).wantError(t, http.StatusBadRequest, catValidation, "inputs")
	e.do("POST", path, tokRead, map[string]any{"inputs": []any{}}).wantError(t, http.StatusForbidden, catScopes, "")
}
