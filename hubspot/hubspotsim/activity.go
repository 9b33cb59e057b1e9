package hubspotsim

import (
	"cmp"
	"encoding/base64"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Login activity: GET /account-info/2026-03/activity/login?userId=&limit=&after=
// (PublicApiSpecs/Account/Audit Logs), scope account-info.security.read,
// covering the last 90 days.

// loginRetention is how far back the login log reaches.
const loginRetention = 90 * 24 * time.Hour

type login struct {
	id          int64
	userID      int64 // 0 when the email is no user of the portal
	email       string
	at          time.Time
	ok          bool
	ip          string
	countryCode string
	regionCode  string
	userAgent   string
}

// loginWire is a PublicLoginAudit. The spec types userId as an integer
// (int32), unlike every other id in these APIs, so it goes out as a JSON
// number; id is a string.
type loginWire struct {
	ID             string    `json:"id"`
	UserID         *int64    `json:"userId,omitempty"`
	Email          string    `json:"email,omitempty"`
	LoginAt        time.Time `json:"loginAt"`
	LoginSucceeded bool      `json:"loginSucceeded"`
	IPAddress      string    `json:"ipAddress,omitempty"`
	CountryCode    string    `json:"countryCode,omitempty"`
	RegionCode     string    `json:"regionCode,omitempty"`
	UserAgent      string    `json:"userAgent,omitempty"`
}

func (l *login) wire() loginWire {
	w := loginWire{
		ID: idString(l.id), Email: l.email, LoginAt: l.at.UTC().Truncate(time.Millisecond), LoginSucceeded: l.ok,
		IPAddress: l.ip, CountryCode: l.countryCode, RegionCode: l.regionCode, UserAgent: l.userAgent,
	}
	if l.userID != 0 {
		uid := l.userID
		w.UserID = &uid
	}
	return w
}

// addLogin records l in time order.
func (d *db) addLogin(l *login) {
	l.id = d.nextLogin
	d.nextLogin++
	if l.userID == 0 {
		if id, ok := d.byEmail[normEmail(l.email)]; ok {
			l.userID = id
		}
	}
	l.email = normEmail(l.email)
	i, _ := slices.BinarySearchFunc(d.logins, l, compareLogins)
	d.logins = slices.Insert(d.logins, i, l)
}

func compareLogins(a, b *login) int {
	if c := a.at.Compare(b.at); c != 0 {
		return c
	}
	return cmp.Compare(a.id, b.id)
}

// RecordLogin records a login of the user with email at at. A successful
// one also accepts a pending invitation (Behaviour.InvitesAcceptedAtOnce):
// a user who has logged in is on the portal.
func (s *Sim) RecordLogin(email string, at time.Time, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.db.addLogin(&login{email: email, at: at, ok: ok, ip: "203.0.113.10", countryCode: "us", regionCode: "ca", userAgent: "Mozilla/5.0 (hubspotsim)"})
	if id, found := s.db.byEmail[normEmail(email)]; found && ok {
		s.db.users[id].pending = false
	}
}

// AcceptInvite marks the user with email as having accepted the
// invitation (also POST /_sim/accept); false when no user has that email.
func (s *Sim) AcceptInvite(email string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, found := s.db.byEmail[normEmail(email)]
	if found {
		s.db.users[id].pending = false
	}
	return found
}

// listLogins answers newest first. The cursor is opaque (it encodes the
// position in that order, so logins recorded meanwhile do not shift
// pages). limit defaults to 100 and may not exceed 200.
//
// Assumption: HubSpot documents neither the order nor what a limit over
// 200 does; the simulator refuses it with 400 so a client that works here
// works under either behaviour.
func (s *Sim) listLogins(c *call) {
	limit, e := parseLimit(c.query("limit"), defaultListLimit, maxLoginLimit)
	if e != nil {
		c.fail(e)
		return
	}
	var userID int64
	if v := c.query("userId"); v != "" {
		var ok bool
		if userID, ok = parseID(v); !ok {
			c.fail(invalidField("userId", "INVALID_INTEGER", "userId must be an integer", v))
			return
		}
	}
	var before *login // the cursor position: results come strictly before it
	if a := c.query("after"); a != "" {
		var ok bool
		if before, ok = decodeLoginCursor(a); !ok {
			c.fail(invalidField("after", "INVALID_CURSOR", "after is not a paging cursor this endpoint handed out", a))
			return
		}
	}
	now := s.now()
	oldest := now.Add(-loginRetention)
	s.mu.RLock()
	logins := s.db.logins
	i := len(logins)
	if before != nil {
		i, _ = slices.BinarySearchFunc(logins, before, compareLogins)
	}
	out := []loginWire{}
	next := ""
	var last *login
	for i--; i >= 0 && !logins[i].at.Before(oldest); i-- {
		l := logins[i]
		if userID != 0 && l.userID != userID {
			continue
		}
		if len(out) == limit {
			next = encodeLoginCursor(last.at, last.id)
			break
		}
		out = append(out, l.wire())
		last = l
	}
	s.mu.RUnlock()
	c.json(http.StatusOK, pageOf(c, out, next))
}

func encodeLoginCursor(at time.Time, id int64) string {
	return base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, "%d.%d", at.UnixNano(), id))
}

func decodeLoginCursor(s string) (*login, bool) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, false
	}
	ns, idText, ok := strings.Cut(string(b), ".")
	if !ok {
		return nil, false
	}
	n, err1 := strconv.ParseInt(ns, 10, 64)
	id, ok := parseID(idText)
	if err1 != nil || !ok {
		return nil, false
	}
	return &login{at: time.Unix(0, n), id: id}, true
}
