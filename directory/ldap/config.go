package ldap

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/scimbridge/scimbridge/directory"
)

// Presets fill the filter defaults; they match directory.Mapping's presets.
const (
	PresetOTDS = directory.PresetOTDS
	PresetAD   = directory.PresetAD
)

// Referral policies.
const (
	// ReferralsFail makes a search that returns a referral or a
	// continuation reference fail: part of the tree lives elsewhere and a
	// read without it would look like deletions.
	ReferralsFail = "fail"
	// ReferralsIgnore skips continuation references. Active Directory
	// returns them for DomainDnsZones, ForestDnsZones and Configuration on
	// every subtree search from a domain root; they hold no users.
	ReferralsIgnore = "ignore"
)

// Defaults.
const (
	DefaultBase     = "dc=identity,dc=opentext,dc=net"
	DefaultTimeout  = 30 * time.Second
	DefaultPageSize = 1000

	OTDSUserFilter  = "(objectClass=oTPerson)"
	OTDSGroupFilter = "(objectClass=oTGroup)"
	ADUserFilter    = "(&(objectCategory=person)(objectClass=user))"
	ADGroupFilter   = "(objectClass=group)"
)

// Config configures the LDAP driver. Zero values take the defaults that
// SetDefaults fills; Validate reports every problem at once.
type Config struct {
	// URLs lists the servers, ldap://host:port or ldaps://host:port. With
	// several, connecting tries them in order, starting with the last one
	// that worked, and a connection lost to a network error is
	// re-established (on the next server if need be) by the next read.
	// OpenDJ-era OTDS listens on 41389 (ldap) and 41636 (ldaps) by common
	// report (unconfirmed): give the port explicitly.
	URLs []string `yaml:"urls"`
	// StartTLS upgrades ldap:// connections with the StartTLS extended
	// operation (RFC 4511 section 4.14) before binding. Not used with
	// ldaps://.
	StartTLS bool `yaml:"start_tls"`
	// CAFile is a PEM bundle of CAs trusted for the servers' certificates,
	// instead of the system pool.
	CAFile string `yaml:"ca_file"`
	// ServerName is the name checked in the server certificate; default:
	// the host of each URL.
	ServerName string `yaml:"server_name"`
	// InsecureSkipVerify turns off certificate verification: anyone on the
	// path can read the bind password and the directory. For a lab only;
	// Warnings reports it, and callers should log that loudly.
	InsecureSkipVerify bool `yaml:"insecure_skip_verify"`
	// BindDN and BindPassword authenticate with a simple bind (RFC 4513
	// section 5.1.3). Both empty: no bind (anonymous), which most
	// directories refuse for user data. BindPassword is a secret: callers
	// read it from a file or the environment (the _FILE convention) and
	// never log it.
	BindDN       string `yaml:"bind_dn"`
	BindPassword string `yaml:"bind_password"`
	// Timeout bounds dialling (TCP and TLS handshakes) and every single
	// LDAP operation, including each page of a search. Default 30s.
	Timeout time.Duration `yaml:"timeout"`
	// PageSize is the RFC 2696 simple paged results size. Default 1000,
	// Active Directory's MaxPageSize; OpenDJ and OpenLDAP accept it too.
	PageSize uint32 `yaml:"page_size"`
	// Bases are the search bases, searched in order with subtree scope;
	// give one per OTDS partition to read only some. They must not
	// overlap. Default dc=identity,dc=opentext,dc=net.
	Bases []string `yaml:"bases"`
	// UserFilter selects users. Default by preset: OTDS
	// (objectClass=oTPerson); AD (&(objectCategory=person)(objectClass=user)).
	UserFilter string `yaml:"user_filter"`
	// GroupFilter selects groups. Default by preset: OTDS
	// (objectClass=oTGroup); AD (objectClass=group).
	GroupFilter string `yaml:"group_filter"`
	// ScopeFilter is ANDed into the user filter to narrow the users in
	// scope, for example membership of a "HubSpot Users" group:
	// (oTMemberOf=cn=HubSpot Users,ou=groups,…). It is an LDAP filter,
	// written by the operator; build it from untrusted values only with
	// MemberOfFilter or goldap.EscapeFilter.
	ScopeFilter string `yaml:"scope_filter"`
	// Preset is otds or ad; it picks the filter defaults. Open takes the
	// mapping's preset when this is empty.
	Preset string `yaml:"preset"`
	// Referrals is fail (default) or ignore: what to do with continuation
	// references in search results. Referrals are never chased; a search
	// answered with a referral result (the base is elsewhere) always fails.
	Referrals string `yaml:"referrals"`
}

// SetDefaults fills unset fields.
func (c *Config) SetDefaults() {
	if c.Preset == "" {
		c.Preset = PresetOTDS
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.PageSize == 0 {
		c.PageSize = DefaultPageSize
	}
	if len(c.Bases) == 0 {
		c.Bases = []string{DefaultBase}
	}
	if c.Referrals == "" {
		c.Referrals = ReferralsFail
	}
	switch c.Preset {
	case PresetAD:
		c.UserFilter = orDefault(c.UserFilter, ADUserFilter)
		c.GroupFilter = orDefault(c.GroupFilter, ADGroupFilter)
	default:
		c.UserFilter = orDefault(c.UserFilter, OTDSUserFilter)
		c.GroupFilter = orDefault(c.GroupFilter, OTDSGroupFilter)
	}
}

func orDefault(v, def string) string {
	if strings.TrimSpace(v) == "" {
		return def
	}
	return v
}

// Validate reports every configuration problem.
func (c *Config) Validate() []error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf("ldap: "+format, args...)) }
	if len(c.URLs) == 0 {
		add("urls: at least one ldap:// or ldaps:// URL is required")
	}
	for i, raw := range c.URLs {
		u, err := url.Parse(raw)
		switch {
		case err != nil:
			add("urls[%d]: %v", i, err)
		case u.Scheme != "ldap" && u.Scheme != "ldaps":
			add("urls[%d]: %q: scheme must be ldap or ldaps", i, raw)
		case u.Host == "":
			add("urls[%d]: %q has no host", i, raw)
		case u.Scheme == "ldaps" && c.StartTLS:
			add("urls[%d]: start_tls does not apply to ldaps:// (already TLS)", i)
		}
	}
	if c.CAFile != "" {
		if _, err := os.Stat(c.CAFile); err != nil {
			add("ca_file: %v", err)
		}
	}
	if (c.BindDN == "") != (c.BindPassword == "") {
		add("bind_dn and bind_password go together (an empty password would be an unauthenticated bind)")
	}
	if c.BindDN != "" {
		if _, err := goldap.ParseDN(c.BindDN); err != nil {
			add("bind_dn: %v", err)
		}
	}
	if c.Timeout < 0 {
		add("timeout: must not be negative")
	}
	if c.Preset != PresetOTDS && c.Preset != PresetAD {
		add("preset: %q is not otds or ad", c.Preset)
	}
	if c.Referrals != ReferralsFail && c.Referrals != ReferralsIgnore {
		add("referrals: %q is not fail or ignore", c.Referrals)
	}
	var bases []*goldap.DN
	for i, b := range c.Bases {
		dn, err := goldap.ParseDN(b)
		if err != nil {
			add("bases[%d]: %v", i, err)
			continue
		}
		for j, other := range bases {
			if other == nil {
				continue
			}
			if dn.EqualFold(other) || dn.AncestorOfFold(other) || other.AncestorOfFold(dn) {
				add("bases[%d] and bases[%d] overlap: entries would be read twice", j, i)
			}
		}
		bases = append(bases, dn)
	}
	for _, f := range []struct{ name, filter string }{
		{"user_filter", c.UserFilter}, {"group_filter", c.GroupFilter}, {"scope_filter", c.ScopeFilter},
	} {
		if f.filter == "" && f.name == "scope_filter" {
			continue
		}
		if _, err := goldap.CompileFilter(f.filter); err != nil {
			add("%s: %q: %v", f.name, f.filter, err)
		}
	}
	return errs
}

// Warnings lists settings that work but are unsafe; callers log them at
// warning level when opening the source.
func (c *Config) Warnings() []string {
	var w []string
	if c.InsecureSkipVerify {
		w = append(w, "ldap: insecure_skip_verify is set: TLS certificates are NOT verified; the bind password and directory data can be intercepted")
	}
	if c.BindPassword != "" && !c.StartTLS {
		for _, u := range c.URLs {
			if strings.HasPrefix(strings.ToLower(u), "ldap://") {
				w = append(w, "ldap: "+u+" without start_tls sends the bind password in clear text")
			}
		}
	}
	return w
}

func joinErrs(errs []error) error {
	if len(errs) == 0 {
		return nil
	}
	return errors.Join(errs...)
}
