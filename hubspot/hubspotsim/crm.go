package hubspotsim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/scimbridge/scimbridge/hubspot"
)

// The CRM users object: PublicApiSpecs/CRM/Users (v3 at /crm/v3/objects/users;
// 2025-09, 2026-03, 2026-09 and 2026-09-beta at /crm/objects/{version}/users)
// and its property definitions from PublicApiSpecs/CRM/Properties
// (/crm/v3/properties/user, /crm/properties/{version}/user). Simulated:
// list, read, PATCH, batch read, batch update and search of records, and
// reading the property definitions. Not simulated (the catch-all 404
// answers): create, archive, batch create and archive, upsert, merge, GDPR
// delete and associations, which a provisioning bridge has no business
// calling (HubSpot keeps the records itself), and property definition
// writes.
//
// HubSpot keeps one users-object record per user of the portal. Here a
// record is made for every seeded user and for every user created through
// the Settings API, and archived when that user is deleted; its id is a
// CRM record id (from firstCRMUserID, a range no Settings id reaches) and
// its hs_internal_user_id is the Settings user id. A record made for a
// user created through the API appears to the API Behaviour.CRMRecordDelay
// after the user was made (the live join took a bounded wait, see
// Behaviour), and search sees every record as it was
// Behaviour.CRMSearchLag ago; seeded records are there from the start.
// Assumptions: the record does not wait for the invitation to be
// accepted, a user created again with a reused Settings id gets a new
// record, and email and name changes of the Settings user reach the
// record at once (and search after the lag).

const (
	firstCRMUserID = 200000000001
	// The list's default limit is the spec's; the maximum is an assumption
	// (HubSpot's object lists are commonly capped at 100).
	crmListDefault = 10
	crmListMax     = 100
	// Search: "The maximum results to return, up to 200 objects" (spec);
	// HubSpot's search docs cap a query at 10,000 results and five filter
	// groups of at most six filters, 18 filters in all.
	crmSearchDefault   = 10
	crmSearchMax       = 200
	crmSearchWindow    = 10000
	crmMaxFilterGroups = 5
	crmMaxGroupFilters = 6
	crmMaxFilters      = 18
	// Assumption: IN and NOT_IN take at most 100 values, the batch limit.
	crmMaxInValues = 100
	// Batch read: 100 inputs, HubSpot's limit for CRM object batches.
	crmBatchMax = 100
)

// crmObjectTypes are the names the properties paths accept for the users
// object: "user" (the Users API guide's), "users" and its type id 0-115.
func crmObjectTypes() []string { return []string{"user", "users", "0-115"} }

type crmRecord struct {
	id      int64
	userID  int64 // the Settings user's id; 0 for a record no user owns
	created time.Time
	// seeded records (made by New from the seed) are visible and
	// searchable from the start, whatever the Behaviour.
	seeded bool
	// current is the record as it is now: what GET, PATCH, batch read
	// and list see. It sits in the record, so a search over records
	// without pending changes costs about what it did before searches
	// lagged.
	current crmVersion
	// past holds, oldest first, earlier versions a search may still be
	// due to see (Behaviour.CRMSearchLag): a write moves the current
	// version here and never changes it again. Versions no search can be
	// due any more are dropped at the next write (change).
	past []crmVersion
}

// crmVersion is one state of a record, from at on.
type crmVersion struct {
	at         time.Time
	props      map[string]string
	updated    time.Time
	archivedAt time.Time // zero while not archived
}

func (v *crmVersion) archived() bool { return !v.archivedAt.IsZero() }

// cur is the record as it is now.
func (r *crmRecord) cur() *crmVersion { return &r.current }

// appearsAt is when the API starts to see r: delay after it was made
// (Behaviour.CRMRecordDelay, resolved; negative: at once), or at once for
// a seeded record.
func (r *crmRecord) appearsAt(delay time.Duration) time.Time {
	if r.seeded || delay < 0 {
		return r.created
	}
	return r.created.Add(delay)
}

// asOf is the version of r a search whose cutoff is at sees: the newest
// written at or before at, or else the oldest kept (the lag grew since
// older ones were dropped, or a seeded record's first version).
func (r *crmRecord) asOf(at time.Time) *crmVersion {
	if !r.current.at.After(at) || len(r.past) == 0 {
		return &r.current
	}
	for i := len(r.past) - 1; i > 0; i-- {
		if !r.past[i].at.After(at) {
			return &r.past[i]
		}
	}
	return &r.past[0]
}

// change applies fn to a copy of r's current version and, when fn
// reports a change, makes the copy current as written at now, keeping
// the old one for searches. Versions older than the one a search with
// lag (Behaviour.CRMSearchLag, resolved; negative: none) sees at now are
// dropped: searches only move forward.
func (r *crmRecord) change(now time.Time, lag time.Duration, fn func(v *crmVersion) bool) {
	next := r.current
	next.at = now
	next.props = make(map[string]string, len(r.current.props)+1)
	for k, v := range r.current.props {
		next.props[k] = v
	}
	if !fn(&next) {
		return
	}
	r.past = append(r.past, r.current)
	r.current = next
	cutoff := now
	if lag > 0 {
		cutoff = now.Add(-lag)
	}
	if !r.current.at.After(cutoff) {
		clear(r.past)
		r.past = r.past[:0]
		return
	}
	keep := 0 // the newest past version a search at cutoff sees
	for i := range r.past {
		if !r.past[i].at.After(cutoff) {
			keep = i
		}
	}
	if keep > 0 {
		n := copy(r.past, r.past[keep:])
		clear(r.past[n:])
		r.past = r.past[:n]
	}
}

// crmView is what an API read may see of the users object at one moment:
// records that have appeared (Behaviour.CRMRecordDelay) by now.
type crmView struct {
	now   time.Time
	delay time.Duration
}

func (s *Sim) crmView() crmView { return crmView{now: s.now(), delay: s.Behaviour().CRMRecordDelay} }

// sees reports whether r had appeared by the view's moment. Seeded
// records were there before the simulator started, whatever the moment
// (a search looks CRMSearchLag into the past).
func (w crmView) sees(r *crmRecord) bool { return r.seeded || !w.now.Before(r.appearsAt(w.delay)) }

// crmStore is the users object. Sim.mu guards the records; the property
// definitions do not change after New.
type crmStore struct {
	props  []*crmProp
	byName map[string]*crmProp
	recs   map[int64]*crmRecord
	order  []int64         // record ids, ascending (ids only grow)
	live   map[int64]int64 // Settings user id → its live record's id
	// byLink indexes records by hs_internal_user_id (normalised; the
	// value is read-only, so it never moves), for searches on it.
	byLink map[string][]int64
	next   int64
}

func newCRMStore(props []*crmProp) *crmStore {
	st := &crmStore{byName: map[string]*crmProp{}, recs: map[int64]*crmRecord{}, live: map[int64]int64{},
		byLink: map[string][]int64{}, next: firstCRMUserID}
	for _, p := range props {
		st.addProp(p)
	}
	return st
}

func (st *crmStore) addProp(p *crmProp) {
	p.order = len(st.props) + 1
	st.props = append(st.props, p)
	st.byName[p.name] = p
}

// crmTime formats a datetime property value as HubSpot's CRM does.
func crmTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// newRecord makes a record at now. Its first version may be filled in
// place until the record is published (the end of the write that made
// it).
func (st *crmStore) newRecord(userID int64, now time.Time) *crmRecord {
	now = now.UTC().Truncate(time.Millisecond)
	r := &crmRecord{id: st.next, userID: userID, created: now, current: crmVersion{at: now, updated: now, props: map[string]string{
		crmPropID: idString(st.next), crmPropCreated: crmTime(now), crmPropModified: crmTime(now),
	}}}
	v := r.cur()
	st.next++
	st.recs[r.id] = r
	st.order = append(st.order, r.id)
	if userID != 0 {
		v.props[crmPropInternalUser] = idString(userID)
		st.live[userID] = r.id
		st.indexLink(r)
	}
	return r
}

// indexLink adds r to byLink under its hs_internal_user_id. The value is
// read-only, so every version of r has the same one.
func (st *crmStore) indexLink(r *crmRecord) {
	if v, ok := r.cur().props[crmPropInternalUser]; ok {
		k := normValue(st.byName[crmPropInternalUser], v)
		st.byLink[k] = append(st.byLink[k], r.id)
	}
}

func (v *crmVersion) touch(now time.Time) {
	v.updated = now.UTC().Truncate(time.Millisecond)
	v.props[crmPropModified] = crmTime(v.updated)
}

// sync makes the record of Settings user id follow u: made when the user
// has none, archived when the user is gone (u nil), email and names
// copied otherwise. lag is Behaviour.CRMSearchLag (resolved).
func (st *crmStore) sync(u *user, id int64, now time.Time, lag time.Duration) {
	rid, has := st.live[id]
	switch {
	case u == nil && has:
		st.recs[rid].change(now, lag, func(v *crmVersion) bool {
			v.archivedAt = now.UTC().Truncate(time.Millisecond)
			return true
		})
		delete(st.live, id)
	case u == nil:
	case !has:
		st.newRecord(id, now).cur().setIdentity(u)
	default:
		st.recs[rid].change(now, lag, func(v *crmVersion) bool {
			if !v.setIdentity(u) {
				return false
			}
			v.touch(now)
			return true
		})
	}
}

// setIdentity copies u's email and names into v (a version not yet
// stored); it reports a change.
func (v *crmVersion) setIdentity(u *user) bool {
	changed := false
	set := func(name, value string) {
		if v.props[name] == value {
			return
		}
		changed = true
		if value == "" {
			delete(v.props, name)
		} else {
			v.props[name] = value
		}
	}
	set(crmPropEmail, u.email)
	set(crmPropGivenName, u.firstName)
	set(crmPropFamilyName, u.lastName)
	set(crmPropName, strings.TrimSpace(u.firstName+" "+u.lastName))
	return changed
}

// crmFollow wraps a Settings user create, update or delete: once the
// operation has succeeded, the user's users-object record follows it.
func (s *Sim) crmFollow(h func(*call)) func(*call) {
	return func(c *call) {
		var target int64
		if c.r.Method == http.MethodDelete {
			s.mu.RLock()
			if u, _ := s.db.lookupUser(c.path("userId"), c.query("idProperty")); u != nil {
				target = u.id
			}
			s.mu.RUnlock()
		}
		cw := &captureWriter{ResponseWriter: c.w}
		c.w = cw
		h(c)
		if cw.status >= http.StatusMultipleChoices {
			return
		}
		if target == 0 {
			var out struct {
				ID string `json:"id"`
			}
			if json.Unmarshal(cw.body.Bytes(), &out) != nil {
				return
			}
			target, _ = parseID(out.ID)
		}
		if target == 0 {
			return
		}
		lag := s.Behaviour().CRMSearchLag
		s.mu.Lock()
		s.crm.sync(s.db.users[target], target, s.now(), lag)
		s.mu.Unlock()
	}
}

// captureWriter keeps the status and the (small) body of an answer.
type captureWriter struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (w *captureWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *captureWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	if w.body.Len() < 1<<16 {
		w.body.Write(b)
	}
	return w.ResponseWriter.Write(b)
}

func (s *Sim) crmRoutes() {
	objVersions := []string{"2025-09", "2026-03", "2026-09", "2026-09-beta"}
	propVersions := []string{"2025-09", "2026-03", "2026-09"}
	read := []string{ScopeCRMUsersRead}
	write := []string{ScopeCRMUsersWrite}
	for _, base := range []string{"/crm/v3/objects/users", "/crm/objects/{version}/users"} {
		for _, root := range []string{base, base + "/{$}"} {
			s.route("GET "+root, objVersions, read, s.listCRMUsers)
		}
		s.route("GET "+base+"/{userId}", objVersions, read, s.getCRMUser)
		s.route("PATCH "+base+"/{userId}", objVersions, write, s.patchCRMUser)
		s.route("POST "+base+"/batch/read", objVersions, read, s.batchReadCRMUsers)
		s.route("POST "+base+"/batch/update", objVersions, write, s.batchUpdateCRMUsers)
		s.route("POST "+base+"/search", objVersions, read, s.searchCRMUsers)
	}
	for _, base := range []string{"/crm/v3/properties/{objectType}", "/crm/properties/{version}/{objectType}"} {
		s.route("GET "+base, propVersions, read, s.listCRMProperties)
		s.route("GET "+base+"/{propertyName}", propVersions, read, s.getCRMProperty)
	}
	s.mux.HandleFunc("GET /_sim/crm-users", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, struct {
			Users []CRMUserState `json:"users"`
		}{s.CRMUsers()})
	})
}

// crmObject is SimplePublicObject. Properties asked for that have no
// value are sent as null, as HubSpot does.
type crmObject struct {
	ID         string             `json:"id"`
	Properties map[string]*string `json:"properties"`
	CreatedAt  time.Time          `json:"createdAt"`
	UpdatedAt  time.Time          `json:"updatedAt"`
	Archived   bool               `json:"archived"`
	ArchivedAt *time.Time         `json:"archivedAt,omitempty"`
}

// wire renders version v of r with HubSpot's default properties
// (hs_object_id, hs_createdate, hs_lastmodifieddate, as in the guide's
// examples) and those asked for; names the object does not have are
// ignored ("If any of the specified properties are not present on the
// requested object(s), they will be ignored").
func (st *crmStore) wire(r *crmRecord, v *crmVersion, requested []string) crmObject {
	o := crmObject{ID: idString(r.id), Properties: map[string]*string{}, CreatedAt: r.created, UpdatedAt: v.updated, Archived: v.archived()}
	if o.Archived {
		at := v.archivedAt
		o.ArchivedAt = &at
	}
	show := func(name string) {
		if st.byName[name] == nil {
			return
		}
		if v, ok := v.props[name]; ok {
			o.Properties[name] = &v
		} else {
			o.Properties[name] = nil
		}
	}
	for _, n := range []string{crmPropID, crmPropCreated, crmPropModified} {
		show(n)
	}
	for _, n := range requested {
		show(n)
	}
	return o
}

// requestedProps reads a comma-separated (or repeated) list parameter.
func requestedProps(q url.Values, key string) []string {
	var out []string
	for _, v := range q[key] {
		for p := range strings.SplitSeq(v, ",") {
			if p = strings.TrimSpace(p); p != "" && !slices.Contains(out, p) {
				out = append(out, p)
			}
		}
	}
	return out
}

func archivedParam(c *call) (bool, *apiError) {
	switch v := c.query("archived"); v {
	case "", "false":
		return false, nil
	case "true":
		return true, nil
	default:
		return false, invalidField("archived", "INVALID_BOOLEAN", "archived must be true or false", v)
	}
}

// lookup finds a record the view sees (Behaviour.CRMRecordDelay) by
// record id or, with idProperty, by the value of a unique property;
// archived picks archived records only (the spec's "Whether to return
// only results that have been archived"). GET, PATCH and batch read see
// the current version: only search lags (Behaviour.CRMSearchLag).
func (st *crmStore) lookup(key, idProperty string, archived bool, view crmView) (*crmRecord, *apiError) {
	if idProperty != "" && idProperty != crmPropID {
		p := st.byName[idProperty]
		switch {
		case p == nil:
			return nil, invalidField("idProperty", "PROPERTY_DOESNT_EXIST", "Property "+strconv.Quote(idProperty)+" does not exist", idProperty)
		case !p.unique:
			// Assumption: HubSpot reads by idProperty only for properties
			// with unique values ("The name of a property whose values
			// are unique for this object type").
			return nil, invalidField("idProperty", "NOT_UNIQUE", "Property "+strconv.Quote(idProperty)+" does not have unique values and cannot identify a user", idProperty)
		}
		for _, id := range st.order {
			if r := st.recs[id]; r.cur().archived() == archived && view.sees(r) && strings.EqualFold(r.cur().props[idProperty], strings.TrimSpace(key)) {
				return r, nil
			}
		}
		return nil, notFound("Object not found.").ctx("id", key)
	}
	if id, ok := parseID(key); ok {
		if r := st.recs[id]; r != nil && r.cur().archived() == archived && view.sees(r) {
			return r, nil
		}
	}
	return nil, notFound("Object not found.").ctx("id", key)
}

type crmPage struct {
	Results []crmObject     `json:"results"`
	Paging  *hubspot.Paging `json:"paging,omitempty"`
}

// listCRMUsers: GET …/users?limit=&after=&properties=&archived= →
// CollectionResponseSimplePublicObjectWithAssociationsForwardPaging, in
// record id order; after is the last id of the page before. Records that
// have not appeared yet (Behaviour.CRMRecordDelay) are left out, so one
// that appears later below the cursor is missed by a walk under way.
func (s *Sim) listCRMUsers(c *call) {
	limit, e := parseLimit(c.query("limit"), crmListDefault, crmListMax)
	if e != nil {
		c.fail(e)
		return
	}
	archived, e := archivedParam(c)
	if e != nil {
		c.fail(e)
		return
	}
	var after int64
	if a := c.query("after"); a != "" {
		var ok bool
		if after, ok = parseID(a); !ok {
			c.fail(invalidField("after", "INVALID_CURSOR", "after is not a paging cursor this endpoint handed out", a))
			return
		}
	}
	props := requestedProps(c.r.URL.Query(), "properties")
	view := s.crmView()
	s.mu.RLock()
	var page []*crmRecord
	i, _ := slices.BinarySearch(s.crm.order, after+1)
	for ; i < len(s.crm.order) && len(page) <= limit; i++ {
		if r := s.crm.recs[s.crm.order[i]]; r.cur().archived() == archived && view.sees(r) {
			page = append(page, r)
		}
	}
	out := crmPage{Results: make([]crmObject, 0, min(len(page), limit))}
	for _, r := range page[:min(len(page), limit)] {
		out.Results = append(out.Results, s.crm.wire(r, r.cur(), props))
	}
	s.mu.RUnlock()
	if len(page) > limit {
		out.Paging = nextPage(c.r, out.Results[limit-1].ID)
	}
	c.json(http.StatusOK, out)
}

// getCRMUser: GET …/users/{userId}[?properties=&idProperty=&archived=] → 200 or 404.
func (s *Sim) getCRMUser(c *call) {
	archived, e := archivedParam(c)
	if e != nil {
		c.fail(e)
		return
	}
	props := requestedProps(c.r.URL.Query(), "properties")
	view := s.crmView()
	s.mu.RLock()
	r, e := s.crm.lookup(c.path("userId"), c.query("idProperty"), archived, view)
	var out crmObject
	if r != nil {
		out = s.crm.wire(r, r.cur(), props)
	}
	s.mu.RUnlock()
	c.answer(http.StatusOK, out, e)
}

// propIssue is one entry of the array HubSpot embeds in the message of a
// refused CRM write: "Property values were not valid: [{…}]".
type propIssue struct {
	IsValid               bool   `json:"isValid"`
	Message               string `json:"message"`
	Error                 string `json:"error"`
	Name                  string `json:"name"`
	LocalizedErrorMessage string `json:"localizedErrorMessage"`
}

// propertyValuesError is HubSpot's 400 for property values it refuses:
// category VALIDATION_ERROR and the issues as JSON inside message.
//
// Assumption: the codes PROPERTY_DOESNT_EXIST and INVALID_OPTION and
// their messages are the ones HubSpot's CRM sends for contacts and
// companies; READ_ONLY_VALUE and its message are the simulator's guess
// for a read-only property.
func propertyValuesError(issues []propIssue) *apiError {
	b, _ := json.Marshal(issues)
	return newError(http.StatusBadRequest, catValidation, "Property values were not valid: "+string(b))
}

func issue(name, code, msg string) propIssue {
	return propIssue{Message: msg, Error: code, Name: name, LocalizedErrorMessage: msg}
}

// propertyValue reads one value of a properties map: a string, or a
// number or boolean as its text; null clears.
func propertyValue(raw json.RawMessage) (string, bool) {
	t := bytes.TrimSpace(raw)
	switch {
	case len(t) == 0 || string(t) == "null":
		return "", true
	case t[0] == '"':
		var s string
		return s, json.Unmarshal(t, &s) == nil
	case t[0] == '{' || t[0] == '[':
		return "", false
	}
	return string(t), true
}

// patchCRMUser: PATCH …/users/{userId}[?idProperty=] {properties:{…}} →
// 200 SimplePublicObject with the defaults and the properties written.
// "Provided property values will be overwritten. Read-only and
// non-existent properties will result in an error. Properties values can
// be cleared by passing an empty string." (spec). Any refused property
// refuses the whole PATCH.
func (s *Sim) patchCRMUser(c *call) {
	var in struct {
		Properties *map[string]json.RawMessage `json:"properties"`
	}
	if e := decodeBody(c, &in); e != nil {
		c.fail(e)
		return
	}
	if in.Properties == nil {
		c.fail(invalidField("properties", "REQUIRED", "properties is required"))
		return
	}
	values, issues := s.crmWriteValues(*in.Properties)
	if len(issues) > 0 {
		c.fail(propertyValuesError(issues))
		return
	}
	view, lag := s.crmView(), s.Behaviour().CRMSearchLag
	out, e := s.update(func() (any, *apiError) {
		r, e := s.crm.lookup(c.path("userId"), c.query("idProperty"), false, view)
		if e != nil {
			return nil, e
		}
		r.set(view.now, lag, values)
		return s.crm.wire(r, r.cur(), slices.Sorted(maps.Keys(values))), nil
	})
	c.answer(http.StatusOK, out, e)
}

// crmWriteValues checks the property values of a write against the
// property definitions: each refused one is an issue.
func (s *Sim) crmWriteValues(props map[string]json.RawMessage) (map[string]string, []propIssue) {
	values := map[string]string{}
	var issues []propIssue
	for _, name := range slices.Sorted(maps.Keys(props)) {
		v, ok := propertyValue(props[name])
		p := s.crm.byName[name]
		switch {
		case p == nil:
			issues = append(issues, issue(name, "PROPERTY_DOESNT_EXIST", fmt.Sprintf("Property %q does not exist", name)))
		case p.readOnly:
			issues = append(issues, issue(name, "READ_ONLY_VALUE", fmt.Sprintf("Property %q is a read only property; its value cannot be set.", name)))
		case !ok:
			issues = append(issues, issue(name, "INVALID_TYPE", fmt.Sprintf("The value of property %q must be a string", name)))
		case v != "" && len(p.options) > 0 && !slices.Contains(p.options, v):
			issues = append(issues, issue(name, "INVALID_OPTION",
				fmt.Sprintf("%q was not one of the allowed options: %s", v, strings.Join(p.options, ", "))))
		case v != "" && p.typ == "number":
			if _, err := strconv.ParseFloat(v, 64); err != nil {
				issues = append(issues, issue(name, "INVALID_FLOAT", fmt.Sprintf("%q is not a valid number for property %q", v, name)))
				continue
			}
			values[name] = v
		default:
			values[name] = v
		}
	}
	return values, issues
}

// set writes values ("" clears one) as a change made at now, which search
// shows lag later.
func (r *crmRecord) set(now time.Time, lag time.Duration, values map[string]string) {
	r.change(now, lag, func(cur *crmVersion) bool {
		changed := false
		for name, v := range values {
			if cur.props[name] == v {
				continue
			}
			changed = true
			if v == "" {
				delete(cur.props, name)
			} else {
				cur.props[name] = v
			}
		}
		if changed {
			cur.touch(now)
		}
		return changed
	})
}

// batchUpdateCRMUsers: POST …/users/batch/update
// {inputs:[{id, idProperty?, properties}]} → 200 BatchResponseSimplePublicObject
// (PublicApiSpecs/CRM/Users/Rollouts/424/2026-03/users.json). At most 100
// inputs, like every CRM batch. Assumption: the batch is all or nothing —
// an input naming a record that does not exist (or one not made yet), a
// property refused, or one record twice refuses the whole batch with
// 400 VALIDATION_ERROR and writes nothing. HubSpot documents a 207 for
// partial outcomes too; refusing the whole batch is the stricter reading:
// a client that copes with it (by writing the records one by one) copes
// with a 207's per-record errors as well.
func (s *Sim) batchUpdateCRMUsers(c *call) {
	var in struct {
		Inputs *[]struct {
			ID         json.RawMessage             `json:"id"`
			IDProperty string                      `json:"idProperty"`
			Properties *map[string]json.RawMessage `json:"properties"`
		} `json:"inputs"`
	}
	if e := decodeBody(c, &in); e != nil {
		c.fail(e)
		return
	}
	if e := batchSize(in.Inputs); e != nil {
		c.fail(e)
		return
	}
	type write struct {
		key, idProperty string
		values          map[string]string
	}
	var writes []write
	var issues []propIssue
	for _, inp := range *in.Inputs {
		key, ok := propertyValue(inp.ID)
		if !ok || key == "" {
			c.fail(invalidField("inputs.id", "REQUIRED", "Every input needs an id"))
			return
		}
		if inp.Properties == nil {
			c.fail(invalidField("inputs.properties", "REQUIRED", "Every input needs properties"))
			return
		}
		values, more := s.crmWriteValues(*inp.Properties)
		issues = append(issues, more...)
		writes = append(writes, write{key, inp.IDProperty, values})
	}
	if len(issues) > 0 {
		c.fail(propertyValuesError(issues))
		return
	}
	view, lag := s.crmView(), s.Behaviour().CRMSearchLag
	started := s.now().UTC().Truncate(time.Millisecond)
	out, e := s.update(func() (any, *apiError) {
		recs := make([]*crmRecord, len(writes))
		seen := map[int64]bool{}
		var missing, twice []string
		for i, w := range writes {
			r, e := s.crm.lookup(w.key, w.idProperty, false, view)
			switch {
			case e != nil && e.status != http.StatusNotFound:
				return nil, e
			case e != nil:
				missing = append(missing, w.key)
			case seen[r.id]:
				twice = append(twice, w.key)
			default:
				seen[r.id], recs[i] = true, r
			}
		}
		if len(missing) > 0 {
			return nil, newError(http.StatusBadRequest, catValidation,
				"Could not update some USER objects: they do not exist: "+strings.Join(missing, ", ")).ctx("ids", missing...)
		}
		if len(twice) > 0 {
			return nil, newError(http.StatusBadRequest, catValidation,
				"Duplicate IDs found in batch input: "+strings.Join(twice, ", ")).ctx("ids", twice...)
		}
		res := crmBatchResult{Status: "COMPLETE", Results: []crmObject{}, RequestedAt: started, StartedAt: started}
		for i, w := range writes {
			recs[i].set(view.now, lag, w.values)
			res.Results = append(res.Results, s.crm.wire(recs[i], recs[i].cur(), slices.Sorted(maps.Keys(w.values))))
		}
		res.CompletedAt = s.now().UTC().Truncate(time.Millisecond)
		return res, nil
	})
	c.answer(http.StatusOK, out, e)
}

// batchSize checks a CRM batch's inputs: required, at most crmBatchMax.
func batchSize[T any](inputs *[]T) *apiError {
	switch {
	case inputs == nil:
		return invalidField("inputs", "REQUIRED", "inputs is required")
	case len(*inputs) > crmBatchMax:
		n := len(*inputs)
		return invalidField("inputs", "TOO_MANY_INPUTS", fmt.Sprintf("Batch input has %d inputs; the limit is %d", n, crmBatchMax), strconv.Itoa(n))
	}
	return nil
}

// crmBatchResult is BatchResponseSimplePublicObject(WithErrors).
type crmBatchResult struct {
	Status      string          `json:"status"`
	Results     []crmObject     `json:"results"`
	NumErrors   int             `json:"numErrors,omitempty"`
	Errors      []standardError `json:"errors,omitempty"`
	RequestedAt time.Time       `json:"requestedAt"`
	StartedAt   time.Time       `json:"startedAt"`
	CompletedAt time.Time       `json:"completedAt"`
}

// batchReadCRMUsers: POST …/users/batch/read[?archived=]
// {inputs:[{id}], idProperty?, properties, propertiesWithHistory} → 200
// with every record, or 207 with those found and one OBJECT_NOT_FOUND
// error listing the ids not found (context.ids), as HubSpot's CRM batch
// reads answer. At most 100 inputs.
func (s *Sim) batchReadCRMUsers(c *call) {
	archived, e := archivedParam(c)
	if e != nil {
		c.fail(e)
		return
	}
	var in struct {
		Inputs *[]struct {
			ID json.RawMessage `json:"id"`
		} `json:"inputs"`
		IDProperty string   `json:"idProperty"`
		Properties []string `json:"properties"`
	}
	if e := decodeBody(c, &in); e != nil {
		c.fail(e)
		return
	}
	if e := batchSize(in.Inputs); e != nil {
		c.fail(e)
		return
	}
	started := s.now().UTC().Truncate(time.Millisecond)
	out := crmBatchResult{Status: "COMPLETE", Results: []crmObject{}, RequestedAt: started, StartedAt: started}
	var missing []string
	seen := map[int64]bool{}
	view := s.crmView()
	s.mu.RLock()
	for _, inp := range *in.Inputs {
		key, ok := propertyValue(inp.ID)
		if !ok || key == "" {
			s.mu.RUnlock()
			c.fail(invalidField("inputs.id", "REQUIRED", "Every input needs an id"))
			return
		}
		r, e := s.crm.lookup(key, in.IDProperty, archived, view)
		switch {
		case e != nil && e.status != http.StatusNotFound:
			s.mu.RUnlock()
			c.fail(e)
			return
		case e != nil:
			missing = append(missing, key)
		case !seen[r.id]:
			seen[r.id] = true
			out.Results = append(out.Results, s.crm.wire(r, r.cur(), in.Properties))
		}
	}
	s.mu.RUnlock()
	out.CompletedAt = s.now().UTC().Truncate(time.Millisecond)
	if len(missing) == 0 {
		c.json(http.StatusOK, out)
		return
	}
	out.Errors = []standardError{{
		Status: "error", Category: catNotFound,
		Message: "Could not get some USER objects, they may be deleted or not exist. Check that ids are valid.",
		Context: map[string][]string{"ids": missing}, Errors: []hubspot.ErrorDetail{}, Links: map[string]string{},
	}}
	out.NumErrors = len(out.Errors)
	c.json(http.StatusMultiStatus, out)
}

// CRMUserState is a users-object record as the inspection shows it: its
// current state, whether or not the API sees it yet.
type CRMUserState struct {
	ID string `json:"id"`
	// UserID is the Settings user id ("" for a record no user owns).
	UserID     string            `json:"userId,omitempty"`
	Properties map[string]string `json:"properties"`
	CreatedAt  time.Time         `json:"createdAt"`
	UpdatedAt  time.Time         `json:"updatedAt"`
	Archived   bool              `json:"archived"`
	ArchivedAt *time.Time        `json:"archivedAt,omitempty"`
	// AppearsAt is when the API reads see the record
	// (Behaviour.CRMRecordDelay after it was made; CreatedAt for a seeded
	// record). Search sees it Behaviour.CRMSearchLag later.
	AppearsAt time.Time `json:"appearsAt"`
}

func (r *crmRecord) state(delay time.Duration) CRMUserState {
	v := r.cur()
	st := CRMUserState{ID: idString(r.id), Properties: make(map[string]string, len(v.props)),
		CreatedAt: r.created, UpdatedAt: v.updated, Archived: v.archived(), AppearsAt: r.appearsAt(delay)}
	if r.userID != 0 {
		st.UserID = idString(r.userID)
	}
	for k, v := range v.props {
		st.Properties[k] = v
	}
	if st.Archived {
		at := v.archivedAt
		st.ArchivedAt = &at
	}
	return st
}

// CRMUsers returns a copy of every users-object record, archived ones and
// ones the API does not see yet included, in id order (also GET
// /_sim/crm-users).
func (s *Sim) CRMUsers() []CRMUserState {
	delay := s.Behaviour().CRMRecordDelay
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]CRMUserState, 0, len(s.crm.order))
	for _, id := range s.crm.order {
		out = append(out, s.crm.recs[id].state(delay))
	}
	return out
}

// CRMUserOf returns the live users-object record of the Settings user
// with id userID, whether or not the API sees it yet (see AppearsAt).
func (s *Sim) CRMUserOf(userID string) (CRMUserState, bool) {
	id, ok := parseID(userID)
	if !ok {
		return CRMUserState{}, false
	}
	delay := s.Behaviour().CRMRecordDelay
	s.mu.RLock()
	defer s.mu.RUnlock()
	rid, ok := s.crm.live[id]
	if !ok {
		return CRMUserState{}, false
	}
	return s.crm.recs[rid].state(delay), true
}
