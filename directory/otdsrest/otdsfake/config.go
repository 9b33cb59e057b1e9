package otdsfake

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Config seeds and tunes a Server. The zero value serves an empty directory
// under /otdsws with no way to log in.
type Config struct {
	// Tenant, when set, serves everything under /otdstenant/<Tenant>/otdsws
	// instead of /otdsws.
	Tenant string
	// Clients may obtain OAuth2 tokens with the client-credentials grant.
	Clients []Client
	// Accounts may log in for a ticket.
	Accounts []Account

	// TokenLifetime is the expires_in of access tokens (default 1 h).
	TokenLifetime time.Duration
	// TicketLifetime is how long a ticket stays valid (default 1 h).
	TicketLifetime time.Duration
	// ExpiredTicketStatus is the status an expired ticket answers: 400
	// (default, with {"status":1034,"error":"Expired OTDS SSO ticket"}) or
	// 401.
	ExpiredTicketStatus int

	// CookieLifetime is how long a page cookie stays usable (default 10 min).
	CookieLifetime time.Duration
	// DefaultPageSize applies when page_size is absent (default 250);
	// MaxPageSize caps it (default 1000).
	DefaultPageSize int
	MaxPageSize     int
	// CookieAsArray sends nextPageCookie as ["…"] ([] at the end) instead
	// of a string (null at the end).
	CookieAsArray bool
	// IgnoreAttrsAsKeys always answers the "values" list shape, as a server
	// without attrsAsKeys support would.
	IgnoreAttrsAsKeys bool
	// MemberOfStyle is how objects carry oTMemberOf: MemberOfShortDN
	// (default), MemberOfLocation or MemberOfOmitted.
	MemberOfStyle string

	// Partitions hold the objects, listed in this order.
	Partitions []Partition

	// Now replaces the clock (token, ticket and cookie expiry).
	Now func() time.Time
}

// Client is an OAuth2 client.
type Client struct{ ID, Secret string }

// Account is a user that may log in for a ticket.
type Account struct{ UserName, Password string }

// Partition is a user partition.
type Partition struct {
	Name   string
	Users  []Object
	Groups []Object
}

// Object is a user or a group.
type Object struct {
	// Name is the object's name (a user's login name, a group's name).
	Name string
	// ID defaults to Name@Partition.
	ID string
	// UUID defaults to one derived from the partition, kind and name.
	UUID        string
	Description string
	// Attributes are the object's attributes (oTExternalID3, mail,
	// givenName, …). entryUUID, entryDN and cn are filled when absent, and
	// users get accountDisabled ["false"] when absent; oTMemberOf is
	// computed from MemberOf.
	Attributes map[string][]string
	// MemberOf names the groups this object is a direct member of: a group
	// id, or a group name in the same partition.
	MemberOf []string
}

// oTMemberOf styles.
const (
	// MemberOfShortDN lists groups as oTGroup=<uuid>,dc=identity,dc=opentext,dc=net,
	// the form in OpenText's pyxecm example.
	MemberOfShortDN = "short"
	// MemberOfLocation lists each group's location (its full DN).
	MemberOfLocation = "location"
	// MemberOfOmitted leaves oTMemberOf out: clients must ask
	// /users/{id}/memberof.
	MemberOfOmitted = "omitted"
)

const suffix = "dc=identity,dc=opentext,dc=net"

func (c *Config) setDefaults() {
	if c.TokenLifetime == 0 {
		c.TokenLifetime = time.Hour
	}
	if c.TicketLifetime == 0 {
		c.TicketLifetime = time.Hour
	}
	if c.ExpiredTicketStatus == 0 {
		c.ExpiredTicketStatus = http.StatusBadRequest
	}
	if c.CookieLifetime == 0 {
		c.CookieLifetime = 10 * time.Minute
	}
	if c.DefaultPageSize == 0 {
		c.DefaultPageSize = 250
	}
	if c.MaxPageSize == 0 {
		c.MaxPageSize = 1000
	}
	if c.MemberOfStyle == "" {
		c.MemberOfStyle = MemberOfShortDN
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}

func (c *Config) validate() error {
	var errs []error
	if c.TokenLifetime < 0 || c.TicketLifetime < 0 || c.CookieLifetime < 0 {
		errs = append(errs, errors.New("lifetimes must not be negative"))
	}
	if c.ExpiredTicketStatus != http.StatusBadRequest && c.ExpiredTicketStatus != http.StatusUnauthorized {
		errs = append(errs, fmt.Errorf("expired ticket status %d is not 400 or 401", c.ExpiredTicketStatus))
	}
	if c.DefaultPageSize < 0 || c.MaxPageSize < 0 {
		errs = append(errs, errors.New("page sizes must not be negative"))
	}
	switch c.MemberOfStyle {
	case MemberOfShortDN, MemberOfLocation, MemberOfOmitted:
	default:
		errs = append(errs, fmt.Errorf("member-of style %q is not %s, %s or %s", c.MemberOfStyle, MemberOfShortDN, MemberOfLocation, MemberOfOmitted))
	}
	if strings.ContainsAny(c.Tenant, "/?#") {
		errs = append(errs, fmt.Errorf("tenant %q must be one path segment", c.Tenant))
	}
	if len(errs) > 0 {
		return fmt.Errorf("otdsfake: %w", errors.Join(errs...))
	}
	return nil
}
