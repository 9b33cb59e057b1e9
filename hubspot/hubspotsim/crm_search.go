package hubspotsim

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/scimbridge/scimbridge/hubspot"
)

// Search of the users object: POST …/users/search with a
// PublicObjectSearchRequest {filterGroups:[{filters:[{propertyName,
// operator, value?, highValue?, values?}]}], properties, limit, after,
// sorts, query} → CollectionResponseWithTotalSimplePublicObject {total,
// results, paging?}. Filter groups are ORed, the filters of a group ANDed.
//
// Assumptions (HubSpot's search docs describe behaviour the spec does
// not): after is an offset, and a query may not reach past 10,000
// results; no filter groups match every record; string comparisons ignore
// letter case; a record without a value matches NEQ, NOT_IN and
// NOT_CONTAINS_TOKEN; the default order is by record id; a filter or sort
// on a property the object does not have is a 400; query matches email
// and names by substring.
//
// Search is the one read that lags (Behaviour.CRMSearchLag): it matches,
// sorts and answers each record as it was the lag ago (crmRecord.asOf),
// and sees a record the lag after it appeared (Behaviour.CRMRecordDelay).
// It is also the one read under its own rate limit
// (Behaviour.CRMSearchPerSecond, in the pipeline: Sim.serveAPI).

type searchFilter struct {
	PropertyName string            `json:"propertyName"`
	Operator     string            `json:"operator"`
	Value        json.RawMessage   `json:"value"`
	HighValue    json.RawMessage   `json:"highValue"`
	Values       []json.RawMessage `json:"values"`
}

type searchRequest struct {
	FilterGroups []struct {
		Filters []searchFilter `json:"filters"`
	} `json:"filterGroups"`
	Properties []string          `json:"properties"`
	Limit      *int              `json:"limit"`
	After      json.RawMessage   `json:"after"`
	Sorts      []json.RawMessage `json:"sorts"`
	Query      string            `json:"query"`
}

// filter is a checked searchFilter. key and keys hold the normalised
// value(s) of EQ, NEQ, IN and NOT_IN, so that a search of 100 values over
// 50,000 records is map lookups, not 5 million comparisons.
type filter struct {
	prop        *crmProp
	op          string
	value, high string
	values      []string
	key         string
	keys        map[string]bool
}

type searchPage struct {
	Total   int             `json:"total"`
	Results []crmObject     `json:"results"`
	Paging  *hubspot.Paging `json:"paging,omitempty"`
}

func (s *Sim) searchCRMUsers(c *call) {
	var in searchRequest
	if e := decodeBody(c, &in); e != nil {
		c.fail(e)
		return
	}
	limit := crmSearchDefault
	if in.Limit != nil {
		limit = *in.Limit
	}
	if limit < 1 || limit > crmSearchMax {
		c.fail(invalidField("limit", "OUT_OF_RANGE", fmt.Sprintf("limit must be between 1 and %d", crmSearchMax), strconv.Itoa(limit)))
		return
	}
	offset := 0
	if a, ok := propertyValue(in.After); !ok {
		c.fail(invalidField("after", "INVALID_CURSOR", "after must be a paging cursor"))
		return
	} else if a != "" {
		n, err := strconv.Atoi(a)
		if err != nil || n < 0 {
			c.fail(invalidField("after", "INVALID_CURSOR", "after is not a paging cursor this endpoint handed out", a))
			return
		}
		offset = n
	}
	if offset+limit > crmSearchWindow {
		c.fail(invalidField("after", "OUT_OF_RANGE",
			fmt.Sprintf("Search pages past %d results are not available; narrow the filters", crmSearchWindow), strconv.Itoa(offset)))
		return
	}
	groups, e := s.crm.checkFilters(in)
	if e != nil {
		c.fail(e)
		return
	}
	sortBy, desc, e := s.crm.checkSort(in.Sorts)
	if e != nil {
		c.fail(e)
		return
	}
	query := strings.ToLower(strings.TrimSpace(in.Query))

	// The search sees the portal as of cutoff: records that had appeared
	// by then, each in the version it had then.
	b := s.Behaviour()
	cutoff := b.searchCutoff(s.now())
	view := crmView{now: cutoff, delay: b.CRMRecordDelay}
	type hit struct {
		r *crmRecord
		v *crmVersion
	}
	s.mu.RLock()
	var hits []hit
	ids, indexed := s.crm.candidates(groups)
	if !indexed {
		ids = s.crm.order
	}
	for _, id := range ids {
		r := s.crm.recs[id]
		if !view.sees(r) {
			continue
		}
		if v := r.asOf(cutoff); !v.archived() && matchGroups(groups, v.props) && matchQuery(query, v.props) {
			hits = append(hits, hit{r, v})
		}
	}
	if sortBy != nil {
		slices.SortStableFunc(hits, func(a, b hit) int {
			va, oka := a.v.props[sortBy.name]
			vb, okb := b.v.props[sortBy.name]
			var n int
			switch {
			case !oka && !okb:
			case !oka:
				n = 1 // records without a value last
			case !okb:
				n = -1
			default:
				n = compareValues(sortBy, va, vb)
			}
			if desc && oka && okb {
				n = -n
			}
			return n
		})
	}
	out := searchPage{Total: len(hits), Results: []crmObject{}}
	for _, h := range hits[min(offset, len(hits)):min(offset+limit, len(hits))] {
		out.Results = append(out.Results, s.crm.wire(h.r, h.v, in.Properties))
	}
	s.mu.RUnlock()
	if offset+limit < len(hits) {
		out.Paging = &hubspot.Paging{}
		out.Paging.Next = &struct {
			After string `json:"after"`
			Link  string `json:"link,omitempty"`
		}{After: strconv.Itoa(offset + limit)}
	}
	c.json(http.StatusOK, out)
}

// searchOperators is the Filter.operator enum of the spec.
func searchOperators() []string {
	return []string{"EQ", "NEQ", "LT", "LTE", "GT", "GTE", "BETWEEN", "IN", "NOT_IN", "HAS_PROPERTY", "NOT_HAS_PROPERTY", "CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"}
}

// checkFilters validates the filter groups against the limits and the
// property definitions.
func (st *crmStore) checkFilters(in searchRequest) ([][]filter, *apiError) {
	if len(in.FilterGroups) > crmMaxFilterGroups {
		return nil, invalidField("filterGroups", "TOO_MANY_FILTER_GROUPS", fmt.Sprintf("At most %d filter groups are allowed", crmMaxFilterGroups))
	}
	total := 0
	groups := make([][]filter, 0, len(in.FilterGroups))
	for _, g := range in.FilterGroups {
		if len(g.Filters) > crmMaxGroupFilters {
			return nil, invalidField("filterGroups.filters", "TOO_MANY_FILTERS", fmt.Sprintf("At most %d filters are allowed in a filter group", crmMaxGroupFilters))
		}
		if total += len(g.Filters); total > crmMaxFilters {
			return nil, invalidField("filterGroups", "TOO_MANY_FILTERS", fmt.Sprintf("At most %d filters are allowed in all", crmMaxFilters))
		}
		var fs []filter
		for _, f := range g.Filters {
			p := st.byName[f.PropertyName]
			if p == nil {
				return nil, invalidField("filterGroups.filters.propertyName", "PROPERTY_DOESNT_EXIST",
					fmt.Sprintf("Property %q does not exist", f.PropertyName), f.PropertyName)
			}
			op := strings.ToUpper(f.Operator)
			if !slices.Contains(searchOperators(), op) {
				return nil, invalidField("filterGroups.filters.operator", "INVALID_ENUM",
					"operator must be one of "+strings.Join(searchOperators(), ", "), f.Operator)
			}
			nf := filter{prop: p, op: op}
			value, okV := propertyValue(f.Value)
			high, okH := propertyValue(f.HighValue)
			if !okV || !okH {
				return nil, invalidField("filterGroups.filters.value", "INVALID_TYPE", "value must be a string")
			}
			nf.value, nf.high = value, high
			switch op {
			case "HAS_PROPERTY", "NOT_HAS_PROPERTY":
			case "IN", "NOT_IN":
				if len(f.Values) == 0 || len(f.Values) > crmMaxInValues {
					return nil, invalidField("filterGroups.filters.values", "OUT_OF_RANGE",
						fmt.Sprintf("%s needs between 1 and %d values", op, crmMaxInValues))
				}
				for _, raw := range f.Values {
					v, ok := propertyValue(raw)
					if !ok {
						return nil, invalidField("filterGroups.filters.values", "INVALID_TYPE", "values must be strings")
					}
					nf.values = append(nf.values, v)
				}
			case "BETWEEN":
				if value == "" || high == "" {
					return nil, invalidField("filterGroups.filters.highValue", "REQUIRED", "BETWEEN needs value and highValue")
				}
			default:
				if len(f.Value) == 0 || string(f.Value) == "null" {
					return nil, invalidField("filterGroups.filters.value", "REQUIRED", op+" needs a value")
				}
			}
			nf.key = normValue(p, nf.value)
			if nf.values != nil {
				nf.keys = make(map[string]bool, len(nf.values))
				for _, v := range nf.values {
					nf.keys[normValue(p, v)] = true
				}
			}
			fs = append(fs, nf)
		}
		groups = append(groups, fs)
	}
	return groups, nil
}

// checkSort reads the first sort: a property name ("-name" descending) or
// {propertyName, direction: ASCENDING|DESCENDING}. nil: record id order.
func (st *crmStore) checkSort(sorts []json.RawMessage) (*crmProp, bool, *apiError) {
	if len(sorts) == 0 {
		return nil, false, nil
	}
	var name, dir string
	var obj struct {
		PropertyName string `json:"propertyName"`
		Direction    string `json:"direction"`
	}
	if json.Unmarshal(sorts[0], &name) != nil {
		if json.Unmarshal(sorts[0], &obj) != nil {
			return nil, false, invalidField("sorts", "INVALID_SORT", "sorts must name properties")
		}
		name, dir = obj.PropertyName, strings.ToUpper(obj.Direction)
	} else if rest, ok := strings.CutPrefix(name, "-"); ok {
		name, dir = rest, "DESCENDING"
	}
	p := st.byName[name]
	if p == nil {
		return nil, false, invalidField("sorts", "PROPERTY_DOESNT_EXIST", fmt.Sprintf("Property %q does not exist", name), name)
	}
	return p, dir == "DESCENDING", nil
}

// candidates narrows a search through the byLink index when every filter
// group has an EQ or IN filter on hs_internal_user_id: the ids of the
// records that can match, ascending. indexed is false when a full scan is
// needed.
func (st *crmStore) candidates(groups [][]filter) (ids []int64, indexed bool) {
	if len(groups) == 0 {
		return nil, false
	}
	set := map[int64]bool{}
	for _, g := range groups {
		i := slices.IndexFunc(g, func(f filter) bool {
			return f.prop.name == crmPropInternalUser && (f.op == "EQ" || f.op == "IN")
		})
		if i < 0 {
			return nil, false
		}
		if g[i].op == "EQ" {
			for _, id := range st.byLink[g[i].key] {
				set[id] = true
			}
			continue
		}
		for k := range g[i].keys {
			for _, id := range st.byLink[k] {
				set[id] = true
			}
		}
	}
	ids = make([]int64, 0, len(set))
	for id := range set {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids, true
}

// matchGroups reports whether a record whose values are props matches
// the filter groups.
func matchGroups(groups [][]filter, props map[string]string) bool {
	if len(groups) == 0 {
		return true
	}
	for _, g := range groups {
		all := true
		for _, f := range g {
			if !f.match(props) {
				all = false
				break
			}
		}
		if all {
			return true
		}
	}
	return false
}

func (f filter) match(props map[string]string) bool {
	v, has := props[f.prop.name]
	switch f.op {
	case "HAS_PROPERTY":
		return has
	case "NOT_HAS_PROPERTY":
		return !has
	}
	if !has {
		return f.op == "NEQ" || f.op == "NOT_IN" || f.op == "NOT_CONTAINS_TOKEN"
	}
	switch f.op {
	case "EQ":
		return normValue(f.prop, v) == f.key
	case "NEQ":
		return normValue(f.prop, v) != f.key
	case "IN":
		return f.keys[normValue(f.prop, v)]
	case "NOT_IN":
		return !f.keys[normValue(f.prop, v)]
	case "LT":
		return compareValues(f.prop, v, f.value) < 0
	case "LTE":
		return compareValues(f.prop, v, f.value) <= 0
	case "GT":
		return compareValues(f.prop, v, f.value) > 0
	case "GTE":
		return compareValues(f.prop, v, f.value) >= 0
	case "BETWEEN":
		return compareValues(f.prop, v, f.value) >= 0 && compareValues(f.prop, v, f.high) <= 0
	case "CONTAINS_TOKEN":
		return containsToken(v, f.value)
	case "NOT_CONTAINS_TOKEN":
		return !containsToken(v, f.value)
	}
	return false
}

// compareValues compares two values of p: numerically for numbers,
// as instants for datetimes (ISO 8601 or epoch milliseconds), otherwise
// as strings ignoring case and surrounding spaces.
func compareValues(p *crmProp, a, b string) int {
	a, b = strings.TrimSpace(a), strings.TrimSpace(b)
	switch p.typ {
	case "number":
		x, errA := strconv.ParseFloat(a, 64)
		y, errB := strconv.ParseFloat(b, 64)
		if errA == nil && errB == nil {
			return cmp.Compare(x, y)
		}
	case "datetime", "date":
		x, okA := parseInstant(a)
		y, okB := parseInstant(b)
		if okA && okB {
			return x.Compare(y)
		}
	}
	return strings.Compare(strings.ToLower(a), strings.ToLower(b))
}

// normValue is the form of a value of p that equality compares: a
// canonical number, epoch milliseconds, or lower-case text, consistent
// with compareValues.
func normValue(p *crmProp, v string) string {
	v = strings.TrimSpace(v)
	switch p.typ {
	case "number":
		if x, err := strconv.ParseFloat(v, 64); err == nil {
			return strconv.FormatFloat(x, 'g', -1, 64)
		}
	case "datetime", "date":
		if t, ok := parseInstant(v); ok {
			return strconv.FormatInt(t.UnixMilli(), 10)
		}
	}
	return strings.ToLower(v)
}

func parseInstant(s string) (time.Time, bool) {
	if ms, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.UnixMilli(ms), true
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	return t, err == nil
}

// containsToken matches a whole word of v, or v against a pattern with *
// wildcards.
func containsToken(v, token string) bool {
	v, token = strings.ToLower(v), strings.ToLower(strings.TrimSpace(token))
	if strings.Contains(token, "*") {
		ok, _ := path.Match(token, v)
		return ok
	}
	for _, w := range strings.FieldsFunc(v, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		if w == token {
			return true
		}
	}
	return v == token
}

func matchQuery(q string, props map[string]string) bool {
	if q == "" {
		return true
	}
	for _, p := range []string{crmPropEmail, crmPropGivenName, crmPropFamilyName, crmPropName} {
		if strings.Contains(strings.ToLower(props[p]), q) {
			return true
		}
	}
	return false
}

// propertyWire is the Properties API's Property.
type propertyWire struct {
	Name                 string          `json:"name"`
	Label                string          `json:"label"`
	Type                 string          `json:"type"`
	FieldType            string          `json:"fieldType"`
	Description          string          `json:"description"`
	GroupName            string          `json:"groupName"`
	Options              []optionWire    `json:"options"`
	DisplayOrder         int             `json:"displayOrder"`
	Calculated           bool            `json:"calculated"`
	ExternalOptions      bool            `json:"externalOptions"`
	HasUniqueValue       bool            `json:"hasUniqueValue"`
	Hidden               bool            `json:"hidden"`
	HubSpotDefined       bool            `json:"hubspotDefined"`
	FormField            bool            `json:"formField"`
	DataSensitivity      string          `json:"dataSensitivity"`
	Archived             bool            `json:"archived"`
	ModificationMetadata modificationsMD `json:"modificationMetadata"`
}

type optionWire struct {
	Label        string `json:"label"`
	Value        string `json:"value"`
	DisplayOrder int    `json:"displayOrder"`
	Hidden       bool   `json:"hidden"`
}

type modificationsMD struct {
	Archivable         bool `json:"archivable"`
	ReadOnlyDefinition bool `json:"readOnlyDefinition"`
	ReadOnlyOptions    bool `json:"readOnlyOptions"`
	ReadOnlyValue      bool `json:"readOnlyValue"`
}

func (p *crmProp) wire() propertyWire {
	w := propertyWire{Name: p.name, Label: p.label, Type: p.typ, FieldType: p.fieldType, Description: p.description,
		GroupName: p.group, Options: []optionWire{}, DisplayOrder: p.order, Calculated: p.calculated,
		HasUniqueValue: p.unique, HubSpotDefined: p.hubspotDefined, DataSensitivity: "non_sensitive",
		ModificationMetadata: modificationsMD{Archivable: !p.hubspotDefined, ReadOnlyDefinition: p.hubspotDefined,
			ReadOnlyOptions: p.hubspotDefined, ReadOnlyValue: p.readOnly}}
	for i, o := range p.options {
		w.Options = append(w.Options, optionWire{Label: o, Value: o, DisplayOrder: i})
	}
	return w
}

// crmObjectType checks the {objectType} of a properties path: only the
// users object is simulated.
func crmObjectType(c *call) *apiError {
	if t := c.path("objectType"); !slices.Contains(crmObjectTypes(), strings.ToLower(t)) {
		return notFound("Properties of object type " + strconv.Quote(t) + " are not simulated by hubspotsim (only the users object: user, users, 0-115)")
	}
	return nil
}

// listCRMProperties: GET /crm/properties/{version}/user[?archived=] →
// CollectionResponsePropertyNoPaging {results}. No property is archived.
func (s *Sim) listCRMProperties(c *call) {
	if e := crmObjectType(c); e != nil {
		c.fail(e)
		return
	}
	archived, e := archivedParam(c)
	if e != nil {
		c.fail(e)
		return
	}
	out := struct {
		Results []propertyWire `json:"results"`
	}{Results: []propertyWire{}}
	if !archived {
		for _, p := range s.crm.props {
			out.Results = append(out.Results, p.wire())
		}
	}
	c.json(http.StatusOK, out)
}

// getCRMProperty: GET /crm/properties/{version}/user/{propertyName} → 200 or 404.
func (s *Sim) getCRMProperty(c *call) {
	if e := crmObjectType(c); e != nil {
		c.fail(e)
		return
	}
	p := s.crm.byName[c.path("propertyName")]
	if p == nil {
		c.fail(notFound("Property " + strconv.Quote(c.path("propertyName")) + " does not exist"))
		return
	}
	c.json(http.StatusOK, p.wire())
}
