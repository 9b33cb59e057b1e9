package ldap

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	ber "github.com/go-asn1-ber/asn1-ber"
	goldap "github.com/go-ldap/ldap/v3"

	"github.com/scimbridge/scimbridge/directory"
)

// ErrClosed is returned by reads after Close.
var ErrClosed = errors.New("ldap: source closed")

// ErrReferral is returned (wrapped) when a search meets a referral and
// Referrals is fail: the directory holds part of the tree elsewhere.
var ErrReferral = errors.New("ldap: search returned a referral; referrals are not followed")

// Source reads users and groups from an LDAP directory. It keeps one
// connection and serialises reads on it; it is safe for concurrent use.
type Source struct {
	cfg         Config
	tls         *tls.Config
	userFilter  string
	groupFilter string
	userAttrs   []string
	groupAttrs  []string
	modified    string
	dnAttrs     map[string]bool // lower-cased DN-valued attributes to normalise

	readMu sync.Mutex // one read at a time on the connection

	mu      sync.Mutex
	conn    *client
	current int // index in cfg.URLs of conn, or of the last server that worked
	closed  bool
}

var _ directory.ChangeSource = (*Source)(nil)

// Open validates the configuration, connects to the first reachable server
// and binds. The mapping names the attributes to read (nil: the OTDS
// defaults); when cfg.Preset is empty the mapping's preset is used.
func Open(ctx context.Context, cfg Config, mapping *directory.Mapping) (*Source, error) {
	var m directory.Mapping
	if mapping != nil {
		m = *mapping
	}
	if cfg.Preset == "" {
		cfg.Preset = m.Preset
	}
	cfg.SetDefaults()
	if m.Preset == "" {
		m.Preset = cfg.Preset
	}
	m.SetDefaults()
	errs := cfg.Validate()
	errs = append(errs, m.Validate()...)
	if m.Modified == "" {
		errs = append(errs, errors.New("ldap: the mapping names no modified attribute (modifyTimestamp, AD whenChanged)"))
	}
	if err := joinErrs(errs); err != nil {
		return nil, err
	}
	tlsCfg := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: cfg.InsecureSkipVerify, ServerName: cfg.ServerName} //nolint:gosec // opt-in, warned about
	if cfg.CAFile != "" {
		pem, err := os.ReadFile(cfg.CAFile)
		if err != nil {
			return nil, fmt.Errorf("ldap: ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("ldap: ca_file %s: no PEM certificates", cfg.CAFile)
		}
		tlsCfg.RootCAs = pool
	}
	s := &Source{
		cfg: cfg, tls: tlsCfg,
		userFilter:  and(cfg.UserFilter, cfg.ScopeFilter),
		groupFilter: cfg.GroupFilter,
		userAttrs:   m.UserAttributes(),
		groupAttrs:  m.GroupAttributes(),
		modified:    m.Modified,
		dnAttrs:     map[string]bool{},
	}
	for _, a := range []string{m.MemberOf, m.GroupMembers, m.Manager} {
		if a != "" {
			s.dnAttrs[strings.ToLower(a)] = true
		}
	}
	if _, err := s.connection(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// and ANDs filters, dropping empty ones.
func and(filters ...string) string {
	var parts []string
	for _, f := range filters {
		if f = strings.TrimSpace(f); f != "" {
			parts = append(parts, f)
		}
	}
	if len(parts) == 1 {
		return parts[0]
	}
	return "(&" + strings.Join(parts, "") + ")"
}

// MemberOfFilter builds a filter matching entries whose attr (oTMemberOf,
// AD memberOf) holds any of the group DNs, escaping each DN (RFC 4515
// section 3), for use as ScopeFilter.
func MemberOfFilter(attr string, groupDNs ...string) string {
	var b strings.Builder
	if len(groupDNs) != 1 {
		b.WriteString("(|")
	}
	for _, dn := range groupDNs {
		b.WriteString("(" + attr + "=" + goldap.EscapeFilter(dn) + ")")
	}
	if len(groupDNs) != 1 {
		b.WriteString(")")
	}
	return b.String()
}

// GeneralizedTime formats t as an LDAP GeneralizedTime (RFC 4517 section
// 3.3.13) in UTC, whole seconds: the form both OpenLDAP/OpenDJ
// (modifyTimestamp) and AD (whenChanged) compare with >=.
func GeneralizedTime(t time.Time) string { return t.UTC().Format("20060102150405Z") }

// Users calls fn for every user entry in scope, page by page.
func (s *Source) Users(ctx context.Context, fn func(directory.Entry) error) error {
	return s.read(ctx, "users", s.userFilter, s.userAttrs, fn)
}

// Groups calls fn for every group entry.
func (s *Source) Groups(ctx context.Context, fn func(directory.Entry) error) error {
	return s.read(ctx, "groups", s.groupFilter, s.groupAttrs, fn)
}

// UsersChangedSince calls fn for users modified at or after since (to the
// second; the filter rounds down, so nothing on the boundary is missed).
func (s *Source) UsersChangedSince(ctx context.Context, since time.Time, fn func(directory.Entry) error) error {
	return s.read(ctx, "changed users", and(s.userFilter, s.changedFilter(since)), s.userAttrs, fn)
}

// GroupsChangedSince calls fn for groups modified at or after since.
func (s *Source) GroupsChangedSince(ctx context.Context, since time.Time, fn func(directory.Entry) error) error {
	return s.read(ctx, "changed groups", and(s.groupFilter, s.changedFilter(since)), s.groupAttrs, fn)
}

func (s *Source) changedFilter(since time.Time) string {
	return "(" + s.modified + ">=" + goldap.EscapeFilter(GeneralizedTime(since)) + ")"
}

// Close closes the connection; later reads fail with ErrClosed.
func (s *Source) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	if s.conn != nil {
		err := s.conn.Close()
		s.conn = nil
		return err
	}
	return nil
}

// callerError marks an error returned by the caller's fn, passed through
// untouched.
type callerError struct{ err error }

func (e callerError) Error() string { return e.err.Error() }

func (s *Source) read(ctx context.Context, what, filter string, attrs []string, fn func(directory.Entry) error) error {
	s.readMu.Lock()
	defer s.readMu.Unlock()
	for _, base := range s.cfg.Bases {
		delivered := false
		wrapped := func(e directory.Entry) error {
			delivered = true
			return fn(e)
		}
		for attempt := 0; ; attempt++ {
			conn, err := s.connection(ctx)
			if err != nil {
				return directory.Classify(fmt.Errorf("ldap: %s: %w", what, err))
			}
			err = s.search(ctx, conn, base, filter, attrs, wrapped)
			if err == nil {
				break
			}
			var ce callerError
			if errors.As(err, &ce) {
				return ce.err
			}
			s.drop(conn)
			if ctx.Err() != nil {
				return directory.Classify(fmt.Errorf("ldap: %s under %s: %w", what, base, ctx.Err()))
			}
			// A connection that died while idle (server restart, idle
			// timeout, failover) fails the first request: retry once on a
			// fresh connection, but only before anything was delivered, so a
			// read that broke part-way is an error, never a partial result.
			if attempt == 0 && !delivered && goldap.IsErrorWithCode(err, goldap.ErrorNetwork) {
				continue
			}
			return directory.Classify(fmt.Errorf("ldap: %s under %s: %w", what, base, err))
		}
	}
	return nil
}

// search runs one paged subtree search (RFC 2696) and streams its entries,
// a page at a time: a page is decoded whole, ranged attributes are
// completed, then its entries go to fn.
func (s *Source) search(ctx context.Context, c *client, base, filter string, attrs []string, fn func(directory.Entry) error) error {
	// Closing the socket is what interrupts a page in flight when ctx ends.
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	f, err := goldap.CompileFilter(filter)
	if err != nil {
		return err
	}
	paging := goldap.NewControlPaging(s.cfg.PageSize)
	names := make(map[string]string, len(attrs)) // attribute name as sent → lower-cased
	entries := make([]directory.Entry, 0, s.cfg.PageSize)
	for {
		entries = entries[:0]
		ranged := false
		page, err := c.Search(base, goldap.ScopeWholeSubtree, f, attrs, paging, func(dn string, a map[string][]string) error {
			e := s.normalize(dn, a)
			for name := range a {
				if strings.Contains(name, ";range=") {
					ranged = true
				}
			}
			entries = append(entries, e)
			return nil
		}, names)
		if err != nil {
			return baseError(err)
		}
		if len(page.referrals) > 0 && s.cfg.Referrals != ReferralsIgnore {
			s.abandon(c, base, f, attrs, paging, page.cookie)
			return fmt.Errorf("%w: %s", ErrReferral, strings.Join(page.referrals, ", "))
		}
		if ranged {
			for i := range entries {
				if err := s.completeRanges(c, &entries[i]); err != nil {
					s.abandon(c, base, f, attrs, paging, page.cookie)
					return err
				}
			}
		}
		for i := range entries {
			if err := fn(entries[i]); err != nil {
				s.abandon(c, base, f, attrs, paging, page.cookie)
				return callerError{err}
			}
			entries[i] = directory.Entry{}
		}
		if len(page.cookie) == 0 {
			// Done; or the server ignored paging and sent everything in one
			// answer (a size limit would have been an error above).
			return nil
		}
		paging.SetCookie(page.cookie)
	}
}

// abandon tells the server to drop a paged search's state (RFC 2696
// section 3: a page size of zero with the last cookie). Best effort.
func (s *Source) abandon(c *client, base string, f *ber.Packet, attrs []string, paging *goldap.ControlPaging, cookie []byte) {
	if len(cookie) == 0 || c.IsClosing() {
		return
	}
	p := goldap.NewControlPaging(0)
	p.SetCookie(cookie)
	c.Search(base, goldap.ScopeWholeSubtree, f, attrs, p, func(string, map[string][]string) error { return nil }, map[string]string{})
}

// normalize makes the entry: values are used as decoded (binary values such
// as objectGUID stay raw bytes); the DN and DN-valued attributes are
// normalised (NormalizeDN) so references match, which costs nothing for
// DNs already in normal form.
func (s *Source) normalize(dn string, attrs map[string][]string) directory.Entry {
	for name, values := range attrs {
		if s.dnAttrs[name] {
			for i, v := range values {
				values[i] = NormalizeDN(v)
			}
		}
	}
	return directory.Entry{Ref: NormalizeDN(dn), Attrs: attrs}
}

// completeRanges fetches the rest of attributes that Active Directory
// returned in slices (member;range=0-1499, past MaxValRange) and files them
// under the plain attribute, so a big group is never read short.
func (s *Source) completeRanges(c *client, e *directory.Entry) error {
	for name, values := range e.Attrs {
		i := strings.Index(name, ";range=")
		if i < 0 {
			continue
		}
		attr := name[:i]
		all := values
		_, high, err := parseRange(name[i+len(";range="):])
		for err == nil && high >= 0 {
			next := attr + ";range=" + strconv.Itoa(high+1) + "-*"
			found, n := false, 0
			_, serr := c.Search(e.Ref, goldap.ScopeBaseObject, presentObjectClass(), []string{next}, nil,
				func(_ string, a map[string][]string) error {
					n++
					for an, av := range a {
						if j := strings.Index(an, ";range="); j >= 0 && an[:j] == attr {
							all = append(all, av...)
							_, high, err = parseRange(an[j+len(";range="):])
							found = true
						}
					}
					return nil
				}, map[string]string{})
			if serr != nil {
				return serr
			}
			if n != 1 || !found {
				return fmt.Errorf("ldap: %s: ranged read of %s lost the range", e.Ref, attr)
			}
		}
		if err != nil {
			return fmt.Errorf("ldap: %s: %s: %w", e.Ref, name, err)
		}
		delete(e.Attrs, name)
		if s.dnAttrs[attr] {
			for k, v := range all {
				all[k] = NormalizeDN(v)
			}
		}
		e.Attrs[attr] = all
	}
	return nil
}

func presentObjectClass() *ber.Packet {
	f, _ := goldap.CompileFilter("(objectClass=*)")
	return f
}

// parseRange reads "low-high" where high may be "*" (the last slice,
// reported as -1).
func parseRange(r string) (low, high int, err error) {
	lo, hi, ok := strings.Cut(r, "-")
	if !ok {
		return 0, 0, fmt.Errorf("bad range %q", r)
	}
	if low, err = strconv.Atoi(lo); err != nil {
		return 0, 0, fmt.Errorf("bad range %q", r)
	}
	if hi == "*" {
		return low, -1, nil
	}
	if high, err = strconv.Atoi(hi); err != nil || high < low {
		return 0, 0, fmt.Errorf("bad range %q", r)
	}
	return low, high, nil
}

// connection returns the open connection, or dials one: the last server
// that worked first, then the others in order.
func (s *Source) connection(ctx context.Context) (*client, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrClosed
	}
	if s.conn != nil && !s.conn.IsClosing() {
		return s.conn, nil
	}
	s.conn = nil
	conn, i, err := s.dialAny(ctx, s.current)
	if err != nil {
		return nil, err
	}
	s.conn, s.current = conn, i
	return conn, nil
}

// dialAny dials and binds to the first server that answers, trying the
// URLs in order from index first. It returns the connection and the index
// of its URL, or an error whose cause sums up every server's (see
// dialCause).
func (s *Source) dialAny(ctx context.Context, first int) (*client, int, error) {
	var errs []error
	var causes []directory.Cause
	n := len(s.cfg.URLs)
	for k := range n {
		i := (first + k) % n
		if err := ctx.Err(); err != nil {
			return nil, 0, err
		}
		conn, err := s.dial(ctx, s.cfg.URLs[i])
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", s.cfg.URLs[i], err))
			causes = append(causes, directory.CauseOf(err))
			continue
		}
		return conn, i, nil
	}
	err := fmt.Errorf("ldap: no server reachable: %w", errors.Join(errs...))
	if c := dialCause(causes); c != "" {
		err = &directory.Error{Cause: c, Err: err}
	}
	return nil, 0, err
}

// drop forgets a broken connection so the next read dials again.
func (s *Source) drop(conn *client) {
	conn.Close()
	s.mu.Lock()
	if s.conn == conn {
		s.conn = nil
	}
	s.mu.Unlock()
}

func (s *Source) dial(ctx context.Context, raw string) (*client, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, err
	}
	host := u.Host
	if u.Port() == "" {
		port := "389"
		if u.Scheme == "ldaps" {
			port = "636"
		}
		host = net.JoinHostPort(u.Hostname(), port)
	}
	tlsCfg := s.tls.Clone()
	if tlsCfg.ServerName == "" {
		tlsCfg.ServerName = u.Hostname()
	}
	dctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	d := net.Dialer{Timeout: s.cfg.Timeout, KeepAlive: 30 * time.Second}
	var nc net.Conn
	if u.Scheme == "ldaps" {
		nc, err = (&tls.Dialer{NetDialer: &d, Config: tlsCfg}).DialContext(dctx, "tcp", host)
	} else {
		nc, err = d.DialContext(dctx, "tcp", host)
	}
	if err != nil {
		return nil, err
	}
	conn := newClient(nc, s.cfg.Timeout)
	// Bound the handshake and bind by ctx as well as by Timeout.
	stop := context.AfterFunc(dctx, func() { conn.Close() })
	defer stop()
	if s.cfg.StartTLS && u.Scheme == "ldap" {
		if err := conn.StartTLS(tlsCfg); err != nil {
			conn.Close()
			return nil, fmt.Errorf("starttls: %w", deadlineError(dctx, err))
		}
	}
	if s.cfg.BindDN != "" {
		if err := conn.Bind(s.cfg.BindDN, s.cfg.BindPassword); err != nil {
			conn.Close()
			return nil, bindError(s.cfg.BindDN, deadlineError(dctx, err))
		}
	}
	if dctx.Err() != nil {
		conn.Close()
		return nil, dctx.Err()
	}
	return conn, nil
}
