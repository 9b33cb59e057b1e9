package hubspot

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// User is a HubSpot user (Settings user provisioning). All ids are strings.
type User struct {
	ID               string   `json:"id"`
	Email            string   `json:"email"`
	FirstName        string   `json:"firstName,omitempty"`
	LastName         string   `json:"lastName,omitempty"`
	RoleID           string   `json:"roleId,omitempty"`
	RoleIDs          []string `json:"roleIds"`
	PrimaryTeamID    string   `json:"primaryTeamId,omitempty"`
	SecondaryTeamIDs []string `json:"secondaryTeamIds,omitempty"`
	SuperAdmin       bool     `json:"superAdmin"`
	SendWelcomeEmail bool     `json:"sendWelcomeEmail,omitempty"`
	// SeatNames is sent by the 2026-09-beta version only.
	SeatNames []string `json:"seatNames,omitempty"`
}

// UserCreate is the body of a user creation. Email is required.
type UserCreate struct {
	Email            string   `json:"email"`
	SendWelcomeEmail bool     `json:"sendWelcomeEmail"`
	FirstName        string   `json:"firstName,omitempty"`
	LastName         string   `json:"lastName,omitempty"`
	RoleID           string   `json:"roleId,omitempty"`
	PrimaryTeamID    string   `json:"primaryTeamId,omitempty"`
	SecondaryTeamIDs []string `json:"secondaryTeamIds,omitempty"`
}

// UserUpdate is the body of a user update: send only what changes. Nil
// fields are left out. HubSpot does not document what an omitted field
// does (the 2026-09-beta guide says to "include only the fields you want
// to update", so omitted fields are kept), nor how to clear a main team:
// PrimaryTeamID "" is the bridge's reading, sent only when the main team
// must go. A non-nil empty SecondaryTeamIDs is sent as [] (no additional
// teams), never as null. Email cannot be changed.
//
// A user who has not accepted HubSpot's invitation yet refuses an update
// carrying a name, even an unchanged one (IsInvitationPending): leave the
// names out unless they change.
type UserUpdate struct {
	FirstName        *string  `json:"firstName,omitempty"`
	LastName         *string  `json:"lastName,omitempty"`
	RoleID           *string  `json:"roleId,omitempty"`
	PrimaryTeamID    *string  `json:"primaryTeamId,omitempty"`
	SecondaryTeamIDs []string `json:"secondaryTeamIds"`
}

// Empty reports whether the update changes nothing.
func (u UserUpdate) Empty() bool {
	return u.FirstName == nil && u.LastName == nil && u.RoleID == nil && u.PrimaryTeamID == nil && u.SecondaryTeamIDs == nil
}

// Fields names the fields the update sets, in JSON spelling.
func (u UserUpdate) Fields() []string {
	var f []string
	for _, x := range []struct {
		set  bool
		name string
	}{{u.FirstName != nil, "firstName"}, {u.LastName != nil, "lastName"}, {u.RoleID != nil, "roleId"},
		{u.PrimaryTeamID != nil, "primaryTeamId"}, {u.SecondaryTeamIDs != nil, "secondaryTeamIds"}} {
		if x.set {
			f = append(f, x.name)
		}
	}
	return f
}

// WithoutNames is the update with the names left out.
func (u UserUpdate) WithoutNames() UserUpdate {
	u.FirstName, u.LastName = nil, nil
	return u
}

// MarshalJSON leaves out a nil SecondaryTeamIDs and sends an empty one as [].
func (u UserUpdate) MarshalJSON() ([]byte, error) {
	type plain UserUpdate
	if u.SecondaryTeamIDs != nil {
		return json.Marshal(plain(u))
	}
	return json.Marshal(struct {
		plain
		SecondaryTeamIDs []string `json:"secondaryTeamIds,omitempty"`
	}{plain: plain(u)})
}

// Role is a permission set. Roles carrying a paid seat need the
// settings.billing.write scope to assign.
type Role struct {
	ID                   string `json:"id"`
	Name                 string `json:"name"`
	RequiresBillingWrite bool   `json:"requiresBillingWrite"`
}

// Team as listed by the users API: members by main (userIds) and
// additional (secondaryUserIds) membership. The beta Teams API returns
// id, name and parentTeamId only.
type Team struct {
	ID               string   `json:"id"`
	Name             string   `json:"name"`
	UserIDs          []string `json:"userIds"`
	SecondaryUserIDs []string `json:"secondaryUserIds"`
	ParentTeamID     string   `json:"parentTeamId,omitempty"`
}

// Team membership types of the beta Teams API.
const (
	MemberDefault = "DEFAULT" // the user's main team
	MemberExtra   = "EXTRA"   // an additional team
)

// TeamMember is one membership in the beta Teams API.
type TeamMember struct {
	UserID string `json:"userId"`
	Type   string `json:"type"`
}

// Login is one entry of the login activity log (last 90 days).
type Login struct {
	ID             string    `json:"id"`
	UserID         string    `json:"userId"`
	Email          string    `json:"email"`
	LoginAt        time.Time `json:"loginAt"`
	LoginSucceeded bool      `json:"loginSucceeded"`
	IPAddress      string    `json:"ipAddress,omitempty"`
	CountryCode    string    `json:"countryCode,omitempty"`
	RegionCode     string    `json:"regionCode,omitempty"`
	UserAgent      string    `json:"userAgent,omitempty"`
	Location       string    `json:"location,omitempty"`
}

// UnmarshalJSON accepts userId as a number (the spec's int32) or a
// string, and loginAt as an RFC 3339 date-time (the spec) or epoch
// milliseconds.
func (l *Login) UnmarshalJSON(data []byte) error {
	type plain Login
	var raw struct {
		plain
		UserID  json.RawMessage `json:"userId"`
		LoginAt json.RawMessage `json:"loginAt"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return err
	}
	*l = Login(raw.plain)
	l.UserID = idString(raw.UserID)
	if t := bytes.Trim(raw.LoginAt, `"`); len(t) > 0 && string(t) != "null" {
		if ms, err := strconv.ParseInt(string(t), 10, 64); err == nil {
			l.LoginAt = time.UnixMilli(ms).UTC()
		} else if l.LoginAt, err = time.Parse(time.RFC3339Nano, string(t)); err != nil {
			return fmt.Errorf("hubspot: login %s: loginAt: %w", l.ID, err)
		}
	}
	return nil
}

// idString reads a JSON id given as a string or a number.
func idString(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		return n.String()
	}
	return ""
}

// Paging is HubSpot's cursor paging block: absent on the last page.
type Paging struct {
	Next *struct {
		After string `json:"after"`
		Link  string `json:"link,omitempty"`
	} `json:"next,omitempty"`
}
