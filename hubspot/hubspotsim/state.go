package hubspotsim

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/scimbridge/scimbridge/hubspot"
)

// First ids handed out. Distinct ranges make a role id passed as a team id
// (and the like) fail loudly. User ids stay below 2^31 because the login
// activity spec types userId as int32.
const (
	firstRoleID  = 3000001
	firstTeamID  = 5000001
	firstUserID  = 10000001
	firstLoginID = 70000001
)

// Membership types of the beta Teams API.
const (
	memberDefault = hubspot.MemberDefault
	memberExtra   = hubspot.MemberExtra
)

type user struct {
	id         int64
	email      string // lower case
	firstName  string
	lastName   string
	roleID     string // "" for none
	primary    int64  // 0 for none
	secondary  []int64
	superAdmin bool
	// pending: invited and not yet accepted or logged in; such a user
	// refuses name changes (Behaviour.InvitesAcceptedAtOnce).
	pending bool
}

type role struct {
	id      string
	name    string
	billing bool // requiresBillingWrite
}

type team struct {
	id     int64
	name   string
	parent int64 // 0 for none
}

// tombstone remembers a deleted user: a user id names a global HubSpot
// identity, so deleting it again answers 204 and creating the same email
// again reuses the id (both observed live; see README).
type tombstone struct {
	user      user
	deletedAt time.Time
}

// db is the portal's state. Sim.mu guards it.
type db struct {
	users   map[int64]*user
	byEmail map[string]int64
	// order holds user ids in ascending order, including deleted ones not
	// yet compacted away (dead counts them): list pages walk it, so an
	// `after` cursor (the last id of a page) is stable under inserts.
	order []int64
	dead  int

	gone        map[int64]*tombstone
	goneByEmail map[string]int64
	recentGone  []*tombstone // deletion order, for Faults.DeletedListedFor

	roles     map[string]*role
	roleOrder []string
	teams     map[int64]*team
	// members: team id → user id → DEFAULT|EXTRA, kept equal to the users'
	// primary and secondary teams.
	members map[int64]map[int64]string

	logins []*login // ascending by (at, id)

	nextRole, nextTeam, nextUser, nextLogin int64
}

func newDB() *db {
	return &db{
		users: map[int64]*user{}, byEmail: map[string]int64{},
		gone: map[int64]*tombstone{}, goneByEmail: map[string]int64{},
		roles: map[string]*role{}, teams: map[int64]*team{}, members: map[int64]map[int64]string{},
		nextRole: firstRoleID, nextTeam: firstTeamID, nextUser: firstUserID, nextLogin: firstLoginID,
	}
}

func idString(id int64) string { return strconv.FormatInt(id, 10) }

// parseID reads a numeric id; ok is false for anything else.
func parseID(s string) (int64, bool) {
	id, err := strconv.ParseInt(s, 10, 64)
	return id, err == nil && id > 0
}

func normEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// wire renders u as HubSpot's PublicUser. roleIds is always present:
// [roleId] or [] (the spec marks it required).
func (u *user) wire() hubspot.User {
	out := hubspot.User{
		ID: idString(u.id), Email: u.email, FirstName: u.firstName, LastName: u.lastName,
		RoleID: u.roleID, RoleIDs: []string{}, SuperAdmin: u.superAdmin,
	}
	if u.roleID != "" {
		out.RoleIDs = []string{u.roleID}
	}
	if u.primary != 0 {
		out.PrimaryTeamID = idString(u.primary)
	}
	for _, t := range u.secondary {
		out.SecondaryTeamIDs = append(out.SecondaryTeamIDs, idString(t))
	}
	return out
}

// insertUser adds u (its id already chosen) to the indexes.
func (d *db) insertUser(u *user) {
	d.users[u.id] = u
	d.byEmail[u.email] = u.id
	i, found := slices.BinarySearch(d.order, u.id)
	if found {
		d.dead-- // a deleted id come back
	} else {
		d.order = slices.Insert(d.order, i, u.id)
	}
	d.setTeams(u, u.primary, u.secondary)
	if u.id >= d.nextUser {
		d.nextUser = u.id + 1
	}
}

// newUserID reuses the id of a deleted user with the same email, as
// HubSpot does, or hands out the next one.
func (d *db) newUserID(email string) int64 {
	if id, ok := d.goneByEmail[email]; ok {
		delete(d.goneByEmail, email)
		delete(d.gone, id)
		return id
	}
	id := d.nextUser
	d.nextUser++
	return id
}

func (d *db) deleteUser(u *user, now time.Time) {
	d.setTeams(u, 0, nil)
	delete(d.users, u.id)
	delete(d.byEmail, u.email)
	t := &tombstone{user: *u, deletedAt: now}
	d.gone[u.id] = t
	d.goneByEmail[u.email] = u.id
	d.recentGone = append(d.recentGone, t)
	d.dead++
	if d.dead > 1024 && d.dead > len(d.order)/2 {
		live := d.order[:0]
		for _, id := range d.order {
			if d.users[id] != nil {
				live = append(live, id)
			}
		}
		d.order, d.dead = live, 0
	}
}

// setTeams gives u the primary and secondary teams and keeps the members
// index in step. A user has at most one main (DEFAULT) team; a team is not
// both the main and an additional team of the same user.
func (d *db) setTeams(u *user, primary int64, secondary []int64) {
	if u.primary != 0 {
		delete(d.members[u.primary], u.id)
	}
	for _, t := range u.secondary {
		delete(d.members[t], u.id)
	}
	u.primary = primary
	u.secondary = normSecondary(primary, secondary)
	if primary != 0 {
		d.memberSet(primary)[u.id] = memberDefault
	}
	for _, t := range u.secondary {
		d.memberSet(t)[u.id] = memberExtra
	}
}

func (d *db) memberSet(teamID int64) map[int64]string {
	m := d.members[teamID]
	if m == nil {
		m = map[int64]string{}
		d.members[teamID] = m
	}
	return m
}

// normSecondary drops duplicates and the primary team, keeping order.
//
// Assumption: HubSpot does not document a primary team also listed as
// secondary; the simulator drops it from the secondary teams rather than
// refusing the request.
func normSecondary(primary int64, secondary []int64) []int64 {
	var out []int64
	for _, t := range secondary {
		if t != primary && !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out
}

// lookupUser finds a live user by id (idProperty USER_ID, the default) or
// email (EMAIL, case-insensitive).
func (d *db) lookupUser(key, idProperty string) (*user, *apiError) {
	switch idProperty {
	case "", "USER_ID":
		id, ok := parseID(key)
		if !ok {
			// Assumption: HubSpot does not document what a non-numeric
			// USER_ID gets; a 400 shows the caller forgot idProperty=EMAIL.
			return nil, invalidField("userId", "INVALID_ID", "userId "+strconv.Quote(key)+" is not a user id; use idProperty=EMAIL to address a user by email", key)
		}
		if u := d.users[id]; u != nil {
			return u, nil
		}
	case "EMAIL":
		if id, ok := d.byEmail[normEmail(key)]; ok {
			return d.users[id], nil
		}
	default:
		return nil, invalidField("idProperty", "INVALID_ENUM", "idProperty must be USER_ID or EMAIL", idProperty)
	}
	return nil, notFound("No user found for " + key)
}

// lookupGone finds a user deleted after since, by the same keys.
func (d *db) lookupGone(key, idProperty string, since time.Time) *tombstone {
	var t *tombstone
	if idProperty == "EMAIL" {
		t = d.gone[d.goneByEmail[normEmail(key)]]
	} else if id, ok := parseID(key); ok {
		t = d.gone[id]
	}
	if t == nil || !t.deletedAt.After(since) {
		return nil
	}
	return t
}

// listUsers returns up to limit users with ids above after, in id order,
// and the cursor of the next page (0 when this is the last). Users deleted
// after ghostsSince (when set) are still listed.
func (d *db) listUsers(after int64, limit int, ghostsSince time.Time) ([]hubspot.User, int64) {
	live := make([]*user, 0, min(limit+1, 1024))
	i, _ := slices.BinarySearch(d.order, after+1)
	for ; i < len(d.order) && len(live) <= limit; i++ {
		if u := d.users[d.order[i]]; u != nil {
			live = append(live, u)
		}
	}
	var ghosts []*user
	if !ghostsSince.IsZero() {
		keep := d.recentGone[:0]
		for _, t := range d.recentGone {
			if !t.deletedAt.After(ghostsSince) {
				continue
			}
			keep = append(keep, t)
			if t.user.id > after && d.users[t.user.id] == nil && d.gone[t.user.id] == t {
				ghosts = append(ghosts, &t.user)
			}
		}
		clear(d.recentGone[len(keep):])
		d.recentGone = keep
		slices.SortFunc(ghosts, func(a, b *user) int { return cmp.Compare(a.id, b.id) })
	} else {
		d.recentGone = d.recentGone[:0]
	}
	page := make([]hubspot.User, 0, min(limit, len(live)+len(ghosts)))
	var last int64
	for len(live)+len(ghosts) > 0 {
		if len(page) == limit {
			return page, last // more to come: the cursor is the last id sent
		}
		var u *user
		if len(ghosts) == 0 || (len(live) > 0 && live[0].id < ghosts[0].id) {
			u, live = live[0], live[1:]
		} else {
			u, ghosts = ghosts[0], ghosts[1:]
		}
		page = append(page, u.wire())
		last = u.id
	}
	return page, 0
}

// roleByID returns the role or nil.
func (d *db) roleByID(id string) *role { return d.roles[id] }

func (d *db) teamByID(s string) *team {
	id, ok := parseID(s)
	if !ok {
		return nil
	}
	return d.teams[id]
}

// sortedMembers lists the ids of a team's members of one type, ascending.
func (d *db) sortedMembers(teamID int64, typ string) []int64 {
	var ids []int64
	for id, t := range d.members[teamID] {
		if t == typ {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

func idStrings(ids []int64) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = idString(id)
	}
	return out
}
