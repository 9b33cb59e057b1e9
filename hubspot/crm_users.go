package hubspot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// The CRM users object (PublicApiSpecs/CRM/Users; HubSpot's "Users API"
// guide) holds a user's profile properties: job title, working hours,
// time zone, phone, and whatever custom properties the portal defines.
// The Settings user has no such fields.
//
// Three id domains meet here and must not be mixed: a CRM record id (id,
// equal to hs_object_id) names the user in one portal only; the Settings
// user-provisioning id is the record's hs_internal_user_id property and
// names the user across portals; owner ids (hubspot_owner_id) are a third
// domain. The guide: "id and hs_object_id are the same and represent a
// user only in the HubSpot account from which the data was requested. This
// is different than the id values in the user provisioning API
// (hs_internal_user_id) … and in the owners API (hubspot_owner_id)."
//
// HubSpot creates the record itself for every user of the portal; the API
// only reads and updates it. It does not document when the record appears
// after a Settings user is created (live, it can lag until the invite is
// accepted), nor that hs_internal_user_id is unique, so records are found
// by search on the link property, never by idProperty.

// DefaultCRMLinkProperty is the users-object property that holds the
// Settings user id (see above).
const DefaultCRMLinkProperty = "hs_internal_user_id"

// CRMUserBatchSize is how many link values one search carries
// (CRMUsersByLink), in step with HubSpot's batch limit of 100 inputs.
const CRMUserBatchSize = 100

// crmSearchLimit is the search page size: "The maximum results to return,
// up to 200 objects" (PublicObjectSearchRequest.limit).
const crmSearchLimit = 200

// Codes HubSpot gives a property it refuses in a write, in the entries of
// "Property values were not valid: [{…, "error": CODE, "name": …}]".
const (
	CodePropertyDoesntExist = "PROPERTY_DOESNT_EXIST"
	CodeReadOnlyValue       = "READ_ONLY_VALUE"
	CodeInvalidOption       = "INVALID_OPTION"
)

// ErrAmbiguousCRMUser is wrapped when more than one users-object record
// carries the same link value: the caller cannot tell which profile is the
// user's and must not write to either.
var ErrAmbiguousCRMUser = errors.New("hubspot: several CRM user records share one link value")

// AmbiguousCRMUsersError names the link values more than one record
// carries; it wraps ErrAmbiguousCRMUser.
type AmbiguousCRMUsersError struct {
	LinkProperty string
	Values       []string
}

func (e *AmbiguousCRMUsersError) Error() string {
	return fmt.Sprintf("hubspot: CRM users by %s: %s: %s", e.LinkProperty, ErrAmbiguousCRMUser, strings.Join(e.Values, ", "))
}

func (e *AmbiguousCRMUsersError) Unwrap() error { return ErrAmbiguousCRMUser }

// CRMUser is a record of the CRM users object (SimplePublicObject).
type CRMUser struct {
	// ID is the record id (= hs_object_id), valid in this portal only. It
	// is neither the Settings user id nor an owner id.
	ID string
	// Properties holds the values HubSpot sent. A property asked for that
	// has no value comes back as null and is left out here, so a missing
	// key means "no value" and "" is never sent by HubSpot for one.
	Properties map[string]string
	CreatedAt  time.Time
	UpdatedAt  time.Time
	Archived   bool
}

// UnmarshalJSON reads a SimplePublicObject, dropping null property values.
func (u *CRMUser) UnmarshalJSON(data []byte) error {
	var raw struct {
		ID         string             `json:"id"`
		Properties map[string]*string `json:"properties"`
		CreatedAt  time.Time          `json:"createdAt"`
		UpdatedAt  time.Time          `json:"updatedAt"`
		Archived   bool               `json:"archived"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return err
	}
	*u = CRMUser{ID: raw.ID, CreatedAt: raw.CreatedAt, UpdatedAt: raw.UpdatedAt, Archived: raw.Archived,
		Properties: make(map[string]string, len(raw.Properties))}
	for k, v := range raw.Properties {
		if v != nil {
			u.Properties[k] = *v
		}
	}
	return nil
}

// Property is a property definition of a CRM object (the Properties API's
// Property schema, trimmed to what the bridge uses).
type Property struct {
	Name      string
	Label     string
	Type      string // string, number, enumeration, datetime, bool…
	FieldType string // text, textarea, select, number…
	GroupName string
	// ReadOnly is modificationMetadata.readOnlyValue: HubSpot refuses
	// writes of the value (400, READ_ONLY_VALUE).
	ReadOnly bool
	// HasUniqueValue: the property can address records (idProperty).
	HasUniqueValue bool
	HubSpotDefined bool
	Calculated     bool
	// Options are the allowed values of an enumeration.
	Options []PropertyOption
}

// PropertyOption is one allowed value of an enumeration property.
type PropertyOption struct {
	Label  string `json:"label"`
	Value  string `json:"value"`
	Hidden bool   `json:"hidden,omitempty"`
}

// UnmarshalJSON reads the Properties API's Property.
func (p *Property) UnmarshalJSON(data []byte) error {
	var raw struct {
		Name                 string           `json:"name"`
		Label                string           `json:"label"`
		Type                 string           `json:"type"`
		FieldType            string           `json:"fieldType"`
		GroupName            string           `json:"groupName"`
		HasUniqueValue       bool             `json:"hasUniqueValue"`
		HubSpotDefined       bool             `json:"hubspotDefined"`
		Calculated           bool             `json:"calculated"`
		Options              []PropertyOption `json:"options"`
		ModificationMetadata struct {
			ReadOnlyValue bool `json:"readOnlyValue"`
		} `json:"modificationMetadata"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return err
	}
	*p = Property{Name: raw.Name, Label: raw.Label, Type: raw.Type, FieldType: raw.FieldType, GroupName: raw.GroupName,
		ReadOnly: raw.ModificationMetadata.ReadOnlyValue, HasUniqueValue: raw.HasUniqueValue,
		HubSpotDefined: raw.HubSpotDefined, Calculated: raw.Calculated, Options: raw.Options}
	return nil
}

// crmPaths are the users-object paths for the client's API version: the
// v3 paths for v3, the 2026-03 CRM paths otherwise (the CRM specs publish
// no beta differences the bridge needs). The properties path names the
// object "user", as the Users API guide does ("GET crm/properties/2026-03/user").
func (c *Client) crmPaths() (objects, properties string) {
	if c.paths.version == VersionV3 {
		return "/crm/v3/objects/users", "/crm/v3/properties/user"
	}
	return "/crm/objects/2026-03/users", "/crm/properties/2026-03/user"
}

func (c *Client) crmUserPath(id string) string {
	objects, _ := c.crmPaths()
	return objects + "/" + url.PathEscape(id)
}

// crmUserEndpoint is crmUserPath's template.
func (c *Client) crmUserEndpoint() string {
	objects, _ := c.crmPaths()
	return objects + "/{userId}"
}

// CRMUserProperties lists the property definitions of the users object
// (GET /crm/properties/2026-03/user, scope crm.objects.users.read), to
// find out whether the portal has the properties a mapping writes.
func (c *Client) CRMUserProperties(ctx context.Context) ([]Property, error) {
	_, path := c.crmPaths()
	var out struct {
		Results []Property `json:"results"`
	}
	if err := c.do(ctx, &request{method: http.MethodGet, path: path, out: &out}); err != nil {
		return nil, fmt.Errorf("hubspot: list CRM user properties: %w", err)
	}
	return out.Results, nil
}

// CheckCRMUserProperties reports which of names the users object lacks
// and which it has read-only, so a mapping can be refused before it
// writes anything.
func (c *Client) CheckCRMUserProperties(ctx context.Context, names []string) (missing, readOnly []string, err error) {
	defs, err := c.CRMUserProperties(ctx)
	if err != nil {
		return nil, nil, err
	}
	byName := make(map[string]Property, len(defs))
	for _, p := range defs {
		byName[p.Name] = p
	}
	for _, n := range names {
		switch p, ok := byName[n]; {
		case !ok:
			missing = append(missing, n)
		case p.ReadOnly:
			readOnly = append(readOnly, n)
		}
	}
	return missing, readOnly, nil
}

// GetCRMUser reads a users-object record by its record id (not a Settings
// user id); props are the properties to return besides HubSpot's defaults
// (hs_object_id, hs_createdate, hs_lastmodifieddate). IsNotFound(err) when
// there is no such record.
func (c *Client) GetCRMUser(ctx context.Context, id string, props []string) (*CRMUser, error) {
	if strings.TrimSpace(id) == "" {
		return nil, errors.New("hubspot: get CRM user: record id is required")
	}
	var q url.Values
	if len(props) > 0 {
		q = url.Values{"properties": {strings.Join(props, ",")}}
	}
	var u CRMUser
	if err := c.do(ctx, &request{method: http.MethodGet, path: c.crmUserPath(id), endpoint: c.crmUserEndpoint(), query: q, out: &u}); err != nil {
		return nil, fmt.Errorf("hubspot: get CRM user %s: %w", id, err)
	}
	return &u, nil
}

// FindCRMUser finds the users-object record whose linkProperty (usually
// DefaultCRMLinkProperty, holding the Settings user id) equals value, by
// search. props are returned besides the defaults; linkProperty always is.
//
// No record: an error for which IsNotFound is true (HubSpot's search
// answers 200 with total 0; the error says so). A user created moments
// ago may not be found yet: HubSpot creates the record itself, when it
// does not say, and search is eventually consistent. Several records: an
// error wrapping ErrAmbiguousCRMUser.
func (c *Client) FindCRMUser(ctx context.Context, linkProperty, value string, props []string) (*CRMUser, error) {
	if linkProperty == "" || strings.TrimSpace(value) == "" {
		return nil, errors.New("hubspot: find CRM user: link property and value are required")
	}
	objects, _ := c.crmPaths()
	page, err := c.searchCRMUsers(ctx, crmFilter{PropertyName: linkProperty, Operator: "EQ", Value: value},
		withProperty(props, linkProperty), 2, "")
	if err != nil {
		return nil, fmt.Errorf("hubspot: find CRM user %s=%s: %w", linkProperty, value, err)
	}
	switch {
	case len(page.Results) == 0:
		nf := &Error{StatusCode: http.StatusNotFound, Status: "error", Category: "OBJECT_NOT_FOUND",
			Message: fmt.Sprintf("no users record has %s = %q (search answered 200 with total 0)", linkProperty, value),
			Method:  http.MethodPost, Path: objects + "/search"}
		return nil, fmt.Errorf("hubspot: find CRM user %s=%s: %w", linkProperty, value, nf)
	case len(page.Results) > 1 || page.Total > 1:
		ids := make([]string, len(page.Results))
		for i, u := range page.Results {
			ids[i] = u.ID
		}
		return nil, fmt.Errorf("hubspot: find CRM user %s=%s: %w (%d records, e.g. %s)",
			linkProperty, value, ErrAmbiguousCRMUser, max(page.Total, len(page.Results)), strings.Join(ids, ", "))
	}
	return &page.Results[0], nil
}

// CRMUsersByLink finds the users-object records of many users at once:
// the answer maps each value of values (e.g. Settings user ids) to its
// record. Values without a record are absent. It sends one search per
// CRMUserBatchSize values (filter IN), so an access review of 50,000
// users takes 500 searches, spaced by the client's rate limiter.
//
// Matching is case-insensitive and ignores surrounding spaces (string
// values are sent lower-cased, as HubSpot's search wants for IN). Values
// that more than one record carries are left out of the map and named in
// an *AmbiguousCRMUsersError (wrapping ErrAmbiguousCRMUser), returned
// together with the map of the others.
func (c *Client) CRMUsersByLink(ctx context.Context, linkProperty string, values []string, props []string) (map[string]*CRMUser, error) {
	if linkProperty == "" {
		return nil, errors.New("hubspot: CRM users by link: link property is required")
	}
	// key (normalised) → the caller's spellings of it.
	wanted := map[string][]string{}
	var keys []string
	for _, v := range values {
		k := linkKey(v)
		if k == "" {
			continue
		}
		if _, seen := wanted[k]; !seen {
			keys = append(keys, k)
		}
		if !slices.Contains(wanted[k], v) {
			wanted[k] = append(wanted[k], v)
		}
	}
	props = withProperty(props, linkProperty)
	found := make(map[string]*CRMUser, len(keys))
	ambiguous := map[string]bool{}
	for start := 0; start < len(keys); start += CRMUserBatchSize {
		chunk := keys[start:min(start+CRMUserBatchSize, len(keys))]
		filter := crmFilter{PropertyName: linkProperty, Operator: "IN", Values: chunk}
		seen := map[string]bool{}
		for after := ""; ; {
			page, err := c.searchCRMUsers(ctx, filter, props, crmSearchLimit, after)
			if err != nil {
				return nil, fmt.Errorf("hubspot: CRM users by %s (values %d–%d of %d): %w",
					linkProperty, start+1, start+len(chunk), len(keys), err)
			}
			for i := range page.Results {
				u := &page.Results[i]
				k := linkKey(u.Properties[linkProperty])
				if _, ok := wanted[k]; !ok {
					continue
				}
				if prev := found[k]; prev != nil && prev.ID != u.ID {
					ambiguous[k] = true
				}
				found[k] = u
			}
			next := nextCursor(page.Paging)
			if next == "" {
				break
			}
			if seen[next] {
				return nil, fmt.Errorf("hubspot: CRM users by %s: search paging cursor %q repeats", linkProperty, next)
			}
			seen[next], after = true, next
		}
	}
	out := make(map[string]*CRMUser, len(found))
	var dup []string
	for k, u := range found {
		if ambiguous[k] {
			dup = append(dup, wanted[k]...)
			continue
		}
		for _, v := range wanted[k] {
			out[v] = u
		}
	}
	if len(dup) > 0 {
		slices.Sort(dup)
		return out, &AmbiguousCRMUsersError{LinkProperty: linkProperty, Values: dup}
	}
	return out, nil
}

// CRMUsersByID reads many users-object records by record id with batch
// reads of up to CRMUserBatchSize ids (POST …/users/batch/read), which,
// unlike search, show a write at once. The answer maps each id found to
// its record; ids HubSpot does not know (it answers 207 naming them) are
// absent. props are returned besides HubSpot's defaults.
func (c *Client) CRMUsersByID(ctx context.Context, ids []string, props []string) (map[string]*CRMUser, error) {
	objects, _ := c.crmPaths()
	out := make(map[string]*CRMUser, len(ids))
	for start := 0; start < len(ids); start += CRMUserBatchSize {
		chunk := ids[start:min(start+CRMUserBatchSize, len(ids))]
		type input struct {
			ID string `json:"id"`
		}
		body := struct {
			Inputs     []input  `json:"inputs"`
			Properties []string `json:"properties"`
		}{Properties: props}
		if body.Properties == nil {
			body.Properties = []string{}
		}
		for _, id := range chunk {
			body.Inputs = append(body.Inputs, input{id})
		}
		var page struct {
			Results []CRMUser `json:"results"`
		}
		// A batch read changes nothing: after an ambiguous outcome it is
		// simply sent again.
		err := c.do(ctx, &request{method: http.MethodPost, path: objects + "/batch/read", body: body, out: &page,
			resolve: func(context.Context) (bool, error) { return false, nil }})
		if err != nil {
			return nil, fmt.Errorf("hubspot: read %d CRM users: %w", len(chunk), err)
		}
		for i := range page.Results {
			out[page.Results[i].ID] = &page.Results[i]
		}
	}
	return out, nil
}

// UpdateCRMUser sets the given properties of the record id (a record id,
// not a Settings user id) with PATCH, leaving all others as they are; ""
// clears a value. It answers HubSpot's view of the record, which holds the
// properties written and the defaults.
//
// HubSpot refuses the whole PATCH (400 VALIDATION_ERROR) when a property
// does not exist, is read-only or has a value it does not allow; see
// UnknownProperties, ReadOnlyProperties and PropertyErrors.
func (c *Client) UpdateCRMUser(ctx context.Context, id string, props map[string]string) (*CRMUser, error) {
	if strings.TrimSpace(id) == "" {
		return nil, errors.New("hubspot: update CRM user: record id is required")
	}
	if len(props) == 0 {
		return nil, fmt.Errorf("hubspot: update CRM user %s: no properties to set", id)
	}
	body := struct {
		Properties map[string]string `json:"properties"`
	}{props}
	var u CRMUser
	if err := c.do(ctx, &request{method: http.MethodPatch, path: c.crmUserPath(id), endpoint: c.crmUserEndpoint(), body: body, out: &u}); err != nil {
		return nil, fmt.Errorf("hubspot: update CRM user %s: %w", id, err)
	}
	return &u, nil
}

// UpdateCRMUsers sets properties of many records (record ids, not
// Settings user ids) with batch updates of up to CRMUserBatchSize records
// (POST …/users/batch/update), leaving other properties as they are; ""
// clears a value. It answers HubSpot's view of the records written, by
// record id.
//
// A refusal names no record: HubSpot may refuse the whole batch for one
// bad input (a property that does not exist or is read-only, a record
// that does not exist), so a caller that must know which record is at
// fault writes them one by one with UpdateCRMUser. Records a 207 answer
// leaves out are absent from the result.
func (c *Client) UpdateCRMUsers(ctx context.Context, props map[string]map[string]string) (map[string]*CRMUser, error) {
	objects, _ := c.crmPaths()
	ids := slices.Sorted(maps.Keys(props))
	out := make(map[string]*CRMUser, len(ids))
	for start := 0; start < len(ids); start += CRMUserBatchSize {
		chunk := ids[start:min(start+CRMUserBatchSize, len(ids))]
		type input struct {
			ID         string            `json:"id"`
			Properties map[string]string `json:"properties"`
		}
		body := struct {
			Inputs []input `json:"inputs"`
		}{}
		for _, id := range chunk {
			if strings.TrimSpace(id) == "" || len(props[id]) == 0 {
				return nil, fmt.Errorf("hubspot: update CRM users: record %q has no id or no properties", id)
			}
			body.Inputs = append(body.Inputs, input{id, props[id]})
		}
		var page struct {
			Results []CRMUser `json:"results"`
		}
		// Setting the same values again does no harm: after an ambiguous
		// outcome the batch is simply sent again.
		err := c.do(ctx, &request{method: http.MethodPost, path: objects + "/batch/update", body: body, out: &page,
			resolve: func(context.Context) (bool, error) { return false, nil }})
		if err != nil {
			return nil, fmt.Errorf("hubspot: update %d CRM users: %w", len(chunk), err)
		}
		for i := range page.Results {
			out[page.Results[i].ID] = &page.Results[i]
		}
	}
	return out, nil
}

// crmFilter is one Filter of a PublicObjectSearchRequest.
type crmFilter struct {
	PropertyName string   `json:"propertyName"`
	Operator     string   `json:"operator"`
	Value        string   `json:"value,omitempty"`
	Values       []string `json:"values,omitempty"`
}

type crmFilterGroup struct {
	Filters []crmFilter `json:"filters"`
}

// crmSearchRequest is PublicObjectSearchRequest: {filterGroups, properties,
// limit, after}. (sorts is left out: the spec types it as strings, the
// docs as objects, and these searches need no order.)
type crmSearchRequest struct {
	FilterGroups []crmFilterGroup `json:"filterGroups"`
	Properties   []string         `json:"properties"`
	Limit        int              `json:"limit"`
	After        string           `json:"after,omitempty"`
}

// crmSearchPage is CollectionResponseWithTotalSimplePublicObject.
type crmSearchPage struct {
	Total   int       `json:"total"`
	Results []CRMUser `json:"results"`
	Paging  *Paging   `json:"paging,omitempty"`
}

// searchCRMUsers sends one search. A search changes nothing, so after an
// ambiguous outcome (network error, timeout, 5xx) it is simply sent again.
func (c *Client) searchCRMUsers(ctx context.Context, f crmFilter, props []string, limit int, after string) (*crmSearchPage, error) {
	objects, _ := c.crmPaths()
	body := crmSearchRequest{
		FilterGroups: []crmFilterGroup{{Filters: []crmFilter{f}}},
		Properties:   props, Limit: limit, After: after,
	}
	var page crmSearchPage
	err := c.do(ctx, &request{method: http.MethodPost, path: objects + "/search", body: body, out: &page, search: true,
		resolve: func(context.Context) (bool, error) { return false, nil }})
	if err != nil {
		return nil, err
	}
	return &page, nil
}

// withProperty returns props with name added when missing (a copy).
func withProperty(props []string, name string) []string {
	out := slices.Clone(props)
	if !slices.Contains(out, name) {
		out = append(out, name)
	}
	return out
}

// linkKey normalises a link value for matching: trimmed, lower case.
func linkKey(v string) string { return strings.ToLower(strings.TrimSpace(v)) }
