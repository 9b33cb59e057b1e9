package hubspotsim

import (
	"cmp"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/scimbridge/scimbridge/hubspot"
)

// Teams, two ways. The users API lists teams read-only with their
// members (GET …/users/teams, PublicTeam). The Teams API
// (PublicApiSpecs/Settings/Teams/Rollouts/325899: 2026-09, published as
// GA, and 2026-09-beta) creates, renames and deletes teams and manages
// members by type: DEFAULT is the user's main team (primaryTeamId, at
// most one), EXTRA an additional team (secondaryTeamIds). Both views read
// the same state, so they always agree.
//
// The two Teams versions have the same paths, schemas, required fields
// and scopes (the GA file adds only descriptions), so the handlers below
// do not look at the version: /settings/teams/{version} stands for
// either, and answers (Location, paging links) keep the version asked.

// listUserTeams: GET …/users/teams → {results:[{id, name, userIds, secondaryUserIds}]}, no paging.
func (s *Sim) listUserTeams(c *call) {
	s.mu.RLock()
	out := s.db.teamList()
	s.mu.RUnlock()
	c.json(http.StatusOK, struct {
		Results []hubspot.Team `json:"results"`
	}{out})
}

func (d *db) sortedTeams() []*team {
	ts := make([]*team, 0, len(d.teams))
	for _, t := range d.teams {
		ts = append(ts, t)
	}
	slices.SortFunc(ts, func(a, b *team) int { return cmp.Compare(a.id, b.id) })
	return ts
}

func (d *db) teamList() []hubspot.Team {
	out := []hubspot.Team{}
	for _, t := range d.sortedTeams() {
		out = append(out, hubspot.Team{
			ID: idString(t.id), Name: t.name,
			UserIDs:          idStrings(d.sortedMembers(t.id, memberDefault)),
			SecondaryUserIDs: idStrings(d.sortedMembers(t.id, memberExtra)),
		})
	}
	return out
}

// teamResponse is the Teams API's TeamResponse.
type teamResponse struct {
	ID           string `json:"id"`
	Name         string `json:"name"`
	ParentTeamID string `json:"parentTeamId,omitempty"`
}

func (t *team) wire() teamResponse {
	r := teamResponse{ID: idString(t.id), Name: t.name}
	if t.parent != 0 {
		r.ParentTeamID = idString(t.parent)
	}
	return r
}

// listTeams: GET /settings/teams/{version}?limit=&after= → paged TeamResponses in id order.
func (s *Sim) listTeams(c *call) {
	limit, after, e := pageParams(c)
	if e != nil {
		c.fail(e)
		return
	}
	s.mu.RLock()
	var out []teamResponse
	next := ""
	for _, t := range s.db.sortedTeams() {
		if t.id <= after {
			continue
		}
		if len(out) == limit {
			next = out[len(out)-1].ID
			break
		}
		out = append(out, t.wire())
	}
	s.mu.RUnlock()
	c.json(http.StatusOK, pageOf(c, out, next))
}

// page is a CollectionResponse…ForwardPaging.
type page[T any] struct {
	Results []T             `json:"results"`
	Paging  *hubspot.Paging `json:"paging,omitempty"`
}

func pageOf[T any](c *call, results []T, next string) page[T] {
	p := page[T]{Results: results}
	if p.Results == nil {
		p.Results = []T{}
	}
	if next != "" {
		p.Paging = nextPage(c.r, next)
	}
	return p
}

// pageParams reads limit (default 100) and a numeric after cursor.
func pageParams(c *call) (int, int64, *apiError) {
	limit, e := parseLimit(c.query("limit"), defaultListLimit, 0)
	if e != nil {
		return 0, 0, e
	}
	var after int64
	if a := c.query("after"); a != "" {
		var ok bool
		if after, ok = parseID(a); !ok {
			return 0, 0, invalidField("after", "INVALID_CURSOR", "after is not a paging cursor this endpoint handed out", a)
		}
	}
	return limit, after, nil
}

type teamInput struct {
	Name         *string       `json:"name"`
	ParentTeamID *string       `json:"parentTeamId"`
	Members      *[]memberBody `json:"members"`
}

// memberBody is a TeamMemberAssignment (and TeamMemberResponse).
type memberBody = hubspot.TeamMember

// createTeam: POST /settings/teams/{version} {name, members, parentTeamId?} → 201 TeamResponse.
// TeamCreateRequest requires name and members (parentTeamId is "an
// optional field"); members are applied like POST …/members, all or
// nothing.
func (s *Sim) createTeam(c *call) {
	var in teamInput
	if e := decodeBody(c, &in); e != nil {
		c.fail(e)
		return
	}
	if in.Name == nil || strings.TrimSpace(*in.Name) == "" {
		c.fail(invalidField("name", "REQUIRED", "name is required"))
		return
	}
	if in.Members == nil {
		c.fail(invalidField("members", "REQUIRED", "members is required (it may be empty)"))
		return
	}
	name := strings.TrimSpace(*in.Name)
	out, e := s.update(func() (any, *apiError) {
		if e := s.db.checkTeamName(name, 0); e != nil {
			return nil, e
		}
		t := &team{id: s.db.nextTeam, name: name}
		if in.ParentTeamID != nil && *in.ParentTeamID != "" {
			p := s.db.teamByID(*in.ParentTeamID)
			if p == nil {
				return nil, invalidField("parentTeamId", "INVALID_TEAM", "Team "+strconv.Quote(*in.ParentTeamID)+" does not exist in this account", *in.ParentTeamID)
			}
			t.parent = p.id
		}
		users := make([]*user, len(*in.Members))
		for i, m := range *in.Members {
			u, e := s.db.memberUser(m)
			if e != nil {
				return nil, e
			}
			users[i] = u
		}
		s.db.nextTeam++
		s.db.teams[t.id] = t
		for i, m := range *in.Members {
			s.db.addMember(t.id, users[i], m.Type)
		}
		return t.wire(), nil
	})
	if e != nil {
		c.fail(e)
		return
	}
	c.header("Location", selfURL(c.r, strings.TrimSuffix(c.r.URL.Path, "/")+"/"+out.(teamResponse).ID))
	c.json(http.StatusCreated, out)
}

// checkTeamName refuses a name another team has.
//
// Assumption: HubSpot does not document duplicate team names; the UI
// refuses them, so the simulator answers 409 CONFLICT (case-insensitive).
func (d *db) checkTeamName(name string, self int64) *apiError {
	for _, t := range d.teams {
		if t.id != self && strings.EqualFold(t.name, name) {
			return newError(http.StatusConflict, catConflict, "A team named "+strconv.Quote(name)+" already exists")
		}
	}
	return nil
}

// getTeam: GET /settings/teams/{version}/{teamId} → 200 TeamResponse or 404.
func (s *Sim) getTeam(c *call) {
	s.mu.RLock()
	t, e := s.db.pathTeam(c)
	var out teamResponse
	if t != nil {
		out = t.wire()
	}
	s.mu.RUnlock()
	if e != nil {
		c.fail(e)
		return
	}
	c.json(http.StatusOK, out)
}

func (d *db) pathTeam(c *call) (*team, *apiError) {
	if t := d.teamByID(c.path("teamId")); t != nil {
		return t, nil
	}
	return nil, notFound("No team found for " + c.path("teamId"))
}

// updateTeam: PATCH /settings/teams/{version}/{teamId} {name, parentTeamId} → 200 TeamResponse.
//
// TeamUpdateRequest (2026-09 and 2026-09-beta alike) marks both name and
// parentTeamId required, typed as opaque objects (HubSpot's rendering of
// an optional value). So a body lacking either key is a 400
// VALIDATION_ERROR naming it; parentTeamId null means no parent, a string
// names the parent, which must exist and be neither the team nor one of
// its descendants. Assumption: "" names no team, so it is refused like
// any unknown id (the stricter reading; null is the way to clear), and
// name must be a non-empty string.
func (s *Sim) updateTeam(c *call) {
	var raw map[string]json.RawMessage
	if e := decodeBody(c, &raw); e != nil {
		c.fail(e)
		return
	}
	if raw == nil { // the body was JSON null
		c.fail(invalidField("name", "REQUIRED", "name is required"))
		return
	}
	var name string
	if v, present := raw["name"]; !present {
		c.fail(invalidField("name", "REQUIRED", "name is required"))
		return
	} else if json.Unmarshal(v, &name) != nil || strings.TrimSpace(name) == "" {
		c.fail(invalidField("name", "INVALID_TYPE", "name must be a non-empty string", string(v)))
		return
	}
	name = strings.TrimSpace(name)
	rawParent, present := raw["parentTeamId"]
	if !present {
		c.fail(invalidField("parentTeamId", "REQUIRED", "parentTeamId is required (null for a team without a parent)"))
		return
	}
	var parentRef *string
	if err := json.Unmarshal(rawParent, &parentRef); err != nil {
		c.fail(invalidField("parentTeamId", "INVALID_TYPE", "parentTeamId must be a team id (a string) or null", string(rawParent)))
		return
	}
	out, e := s.update(func() (any, *apiError) {
		t, e := s.db.pathTeam(c)
		if e != nil {
			return nil, e
		}
		if e := s.db.checkTeamName(name, t.id); e != nil {
			return nil, e
		}
		var parent int64
		if parentRef != nil {
			v := *parentRef
			p := s.db.teamByID(v)
			if p == nil {
				return nil, invalidField("parentTeamId", "INVALID_TEAM", "Team "+strconv.Quote(v)+" does not exist in this account", v)
			}
			for a := p; a != nil; a = s.db.teams[a.parent] {
				if a.id == t.id {
					return nil, invalidField("parentTeamId", "INVALID_TEAM", "A team cannot be its own ancestor", v)
				}
			}
			parent = p.id
		}
		t.name, t.parent = name, parent
		return t.wire(), nil
	})
	c.answer(http.StatusOK, out, e)
}

// deleteTeam: DELETE /settings/teams/{version}/{teamId} → 204. Its
// members lose it as main or additional team.
//
// Assumption: HubSpot does not document sub-teams of a deleted team; the
// simulator makes them top-level teams.
func (s *Sim) deleteTeam(c *call) {
	_, e := s.update(func() (any, *apiError) {
		t, e := s.db.pathTeam(c)
		if e != nil {
			return nil, e
		}
		for uid := range s.db.members[t.id] {
			u := s.db.users[uid]
			primary := u.primary
			if primary == t.id {
				primary = 0
			}
			s.db.setTeams(u, primary, slices.DeleteFunc(slices.Clone(u.secondary), func(id int64) bool { return id == t.id }))
		}
		delete(s.db.members, t.id)
		delete(s.db.teams, t.id)
		for _, o := range s.db.teams {
			if o.parent == t.id {
				o.parent = 0
			}
		}
		return nil, nil
	})
	c.answer(http.StatusNoContent, nil, e)
}

// listMembers: GET …/{teamId}/members?limit=&after= → paged TeamMemberResponses in user id order.
func (s *Sim) listMembers(c *call) {
	limit, after, e := pageParams(c)
	if e != nil {
		c.fail(e)
		return
	}
	s.mu.RLock()
	t, e := s.db.pathTeam(c)
	var out []memberBody
	next := ""
	if t != nil {
		ids := make([]int64, 0, len(s.db.members[t.id]))
		for id := range s.db.members[t.id] {
			if id > after {
				ids = append(ids, id)
			}
		}
		slices.Sort(ids)
		if len(ids) > limit {
			ids = ids[:limit]
			next = idString(ids[limit-1])
		}
		for _, id := range ids {
			out = append(out, memberBody{UserID: idString(id), Type: s.db.members[t.id][id]})
		}
	}
	s.mu.RUnlock()
	if e != nil {
		c.fail(e)
		return
	}
	c.json(http.StatusOK, pageOf(c, out, next))
}

// addMember: POST …/{teamId}/members {userId, type} → 201 TeamMemberResponse.
func (s *Sim) addMember(c *call) {
	var in memberBody
	if e := decodeBody(c, &in); e != nil {
		c.fail(e)
		return
	}
	out, e := s.update(func() (any, *apiError) {
		t, e := s.db.pathTeam(c)
		if e != nil {
			return nil, e
		}
		u, e := s.db.memberUser(in)
		if e != nil {
			return nil, e
		}
		return s.db.addMember(t.id, u, in.Type), nil
	})
	c.answer(http.StatusCreated, out, e)
}

// memberUser validates one TeamMemberAssignment and returns its user.
func (d *db) memberUser(m memberBody) (*user, *apiError) {
	if m.Type != memberDefault && m.Type != memberExtra {
		return nil, invalidField("type", "INVALID_ENUM", "type must be DEFAULT or EXTRA", m.Type)
	}
	if m.UserID == "" {
		return nil, invalidField("userId", "REQUIRED", "userId is required")
	}
	id, _ := parseID(m.UserID)
	u := d.users[id]
	if u == nil {
		return nil, invalidField("userId", "INVALID_USER", "User "+strconv.Quote(m.UserID)+" does not exist in this account", m.UserID)
	}
	if u.superAdmin {
		return nil, superAdminRefused("changed")
	}
	return u, nil
}

// addMember makes u a member of team by type. DEFAULT makes it the user's
// main team (the previous main team loses the user, and the team stops
// being additional); EXTRA adds it to the additional teams.
//
// Assumption: HubSpot does not document EXTRA for the user's main team;
// the simulator leaves the main membership alone and answers DEFAULT.
func (d *db) addMember(teamID int64, u *user, typ string) memberBody {
	switch {
	case typ == memberDefault:
		d.setTeams(u, teamID, u.secondary)
	case u.primary != teamID && !slices.Contains(u.secondary, teamID):
		d.setTeams(u, u.primary, append(slices.Clone(u.secondary), teamID))
	}
	return memberBody{UserID: idString(u.id), Type: d.members[teamID][u.id]}
}

// batchResult is a BatchResponseTeamMemberResponse.
type batchResult struct {
	Status      string          `json:"status"`
	Results     []memberBody    `json:"results"`
	NumErrors   int             `json:"numErrors,omitempty"`
	Errors      []standardError `json:"errors,omitempty"`
	RequestedAt time.Time       `json:"requestedAt"`
	StartedAt   time.Time       `json:"startedAt"`
	CompletedAt time.Time       `json:"completedAt"`
}

// standardError is the batch APIs' StandardError.
type standardError struct {
	Status   string                `json:"status"`
	Category string                `json:"category"`
	Message  string                `json:"message"`
	Context  map[string][]string   `json:"context"`
	Errors   []hubspot.ErrorDetail `json:"errors"`
	Links    map[string]string     `json:"links"`
}

// addMembersBatch: POST …/{teamId}/members/batch {inputs:[…]} → 200
// BatchResponse with status COMPLETE. Each input is applied on its own;
// refused ones are listed in errors (the spec documents only 200).
func (s *Sim) addMembersBatch(c *call) {
	var in struct {
		Inputs *[]memberBody `json:"inputs"`
	}
	if e := decodeBody(c, &in); e != nil {
		c.fail(e)
		return
	}
	if in.Inputs == nil {
		c.fail(invalidField("inputs", "REQUIRED", "inputs is required"))
		return
	}
	started := s.now().UTC().Truncate(time.Millisecond)
	out, e := s.update(func() (any, *apiError) {
		t, e := s.db.pathTeam(c)
		if e != nil {
			return nil, e
		}
		out := batchResult{Status: "COMPLETE", Results: []memberBody{}, RequestedAt: started, StartedAt: started}
		for _, m := range *in.Inputs {
			u, e := s.db.memberUser(m)
			if e != nil {
				out.Errors = append(out.Errors, standardError{
					Status: "error", Category: e.body.Category, Message: e.body.Message,
					Context: map[string][]string{"userId": {m.UserID}}, Errors: e.body.Errors, Links: map[string]string{},
				})
				continue
			}
			out.Results = append(out.Results, s.db.addMember(t.id, u, m.Type))
		}
		out.NumErrors = len(out.Errors)
		out.CompletedAt = s.now().UTC().Truncate(time.Millisecond)
		return out, nil
	})
	c.answer(http.StatusOK, out, e)
}

// removeMember: DELETE …/{teamId}/members/{userId}?type=DEFAULT|EXTRA
// (default DEFAULT) → 204; 404 when the user is not a member of that type.
func (s *Sim) removeMember(c *call) {
	typ := c.query("type")
	if typ == "" {
		typ = memberDefault
	}
	if typ != memberDefault && typ != memberExtra {
		c.fail(invalidField("type", "INVALID_ENUM", "type must be DEFAULT or EXTRA", typ))
		return
	}
	_, e := s.update(func() (any, *apiError) {
		t, e := s.db.pathTeam(c)
		if e != nil {
			return nil, e
		}
		id, _ := parseID(c.path("userId"))
		u := s.db.users[id]
		if u == nil || s.db.members[t.id][id] != typ {
			return nil, notFound("User " + c.path("userId") + " is not a " + typ + " member of team " + idString(t.id))
		}
		if u.superAdmin {
			return nil, superAdminRefused("changed")
		}
		if typ == memberDefault {
			s.db.setTeams(u, 0, u.secondary)
		} else {
			s.db.setTeams(u, u.primary, slices.DeleteFunc(slices.Clone(u.secondary), func(x int64) bool { return x == t.id }))
		}
		return nil, nil
	})
	c.answer(http.StatusNoContent, nil, e)
}
