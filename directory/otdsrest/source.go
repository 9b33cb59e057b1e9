package otdsrest

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/rs/zerolog"

	"github.com/scimbridge/scimbridge/directory"
)

// Source reads users and groups from OTDS's REST API. It is safe for
// concurrent use.
type Source struct {
	cfg       Config
	base      string // BaseURL, no trailing slash
	tokenPath string // the token URL's path, for errors
	http      *http.Client
	transport *http.Transport // ours, closed by Close; nil for a caller's client
	auth      *authenticator
	memberOf  string // lower-cased attribute carrying a user's groups (oTMemberOf)
	members   string // lower-cased attribute carrying a group's members (oTMember)
	log       zerolog.Logger
	closed    atomic.Bool
}

var _ directory.Source = (*Source)(nil)

// maxEmptyPages bounds consecutive empty pages that still carry a cookie,
// so a server that keeps answering them cannot hold a scan forever.
const maxEmptyPages = 1000

// Open checks cfg (after SetDefaults) and returns a Source. It does not
// contact OTDS: the first read logs in (Ping checks the connection and
// credentials up front). mapping names the membership attributes
// (MemberOf, GroupMembers); nil means the OTDS preset.
func Open(ctx context.Context, cfg Config, mapping *directory.Mapping) (*Source, error) {
	_ = ctx // nothing to wait for: Open makes no request
	cfg.SetDefaults()
	if errs := cfg.Validate(); len(errs) > 0 {
		return nil, fmt.Errorf("otdsrest: configuration: %w", errors.Join(errs...))
	}
	var m directory.Mapping
	if mapping != nil {
		m = *mapping
	}
	m.SetDefaults()
	s := &Source{
		cfg:      cfg,
		base:     cfg.BaseURL,
		log:      cfg.Log,
		memberOf: strings.ToLower(m.MemberOf),
		members:  strings.ToLower(m.GroupMembers),
	}
	if s.memberOf == "" {
		s.memberOf = "otmemberof"
	}
	if s.members == "" {
		s.members = "otmember"
	}
	if cfg.HTTPClient != nil {
		c := *cfg.HTTPClient
		s.http = &c
	} else {
		s.transport = http.DefaultTransport.(*http.Transport).Clone()
		if cfg.CAFile != "" {
			pem, err := os.ReadFile(cfg.CAFile)
			if err != nil {
				return nil, fmt.Errorf("otdsrest: ca_file: %w", err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("otdsrest: ca_file %s: no PEM certificate found", cfg.CAFile)
			}
			s.transport.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
		}
		s.http = &http.Client{Transport: s.transport}
	}
	// Never follow redirects: the OTDSTicket header would go along to
	// whatever host the redirect names. A 3xx is an error.
	s.http.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	switch cfg.Auth {
	case AuthOAuth2:
		u, _ := url.Parse(cfg.TokenURL) // validated
		s.tokenPath = u.Path
		s.auth = newAuthenticator("Authorization", "Bearer ", s.oauth2Login, cfg.Now, cfg.ClientSecret)
	case AuthTicket:
		s.auth = newAuthenticator("OTDSTicket", "", s.ticketLogin, cfg.Now, cfg.Password)
	}
	return s, nil
}

// Close releases idle connections; later reads return ErrClosed.
func (s *Source) Close() error {
	s.closed.Store(true)
	if s.transport != nil {
		s.transport.CloseIdleConnections()
	}
	return nil
}

// Ping logs in if needed and reads one user, to check the base URL, the
// credentials and the first partition.
func (s *Source) Ping(ctx context.Context) error {
	q := url.Values{"page_size": {"1"}, "attrsAsKeys": {"true"}}
	if len(s.cfg.Partitions) > 0 {
		q.Set("where_partition_name", s.cfg.Partitions[0])
	}
	var p page
	if err := s.get(ctx, "/users", "ping", q, &p); err != nil {
		return err
	}
	if _, err := p.items("users"); err != nil {
		return fmt.Errorf("otdsrest: GET /users (ping): %w", err)
	}
	return nil
}

// Users calls fn for every user in scope, page by page, partition by
// partition. Each entry's Ref is the user's id; its membership attribute
// (oTMemberOf) holds the ids of its groups in scope (see Groups).
//
// Cost: a scan of the groups first (to translate oTMemberOf DNs into group
// ids and to know which groups are in scope), then the user pages; with
// Memberships auto, one GET /users/{id}/memberof per user that carries no
// oTMemberOf, and with memberof, one per user.
//
// On any failure (a page, a memberof request, the login) Users returns an
// error: the entries already passed to fn must be discarded.
func (s *Source) Users(ctx context.Context, fn func(directory.Entry) error) error {
	if s.closed.Load() {
		return ErrClosed
	}
	gx, _, err := s.readGroups(ctx)
	if err != nil {
		return err
	}
	return s.readUsers(ctx, gx, fn)
}

// Groups calls fn for every group in scope, once all are read. Each
// entry's Ref is the group's id; its members attribute (oTMember) lists the
// ids of its member users and groups.
//
// OTDS's REST API gives groups no member list (GET /groups/{id}/members is
// unconfirmed), so members are found by inverting memberships: the users'
// (read as Users does, at the same cost) and the groups' own oTMemberOf
// (nested groups; when OTDS sends groups without oTMemberOf, nested
// memberships cannot be seen). Members a group does carry in oTMember are
// added after translating their DNs. Nothing reaches fn when any request
// fails.
func (s *Source) Groups(ctx context.Context, fn func(directory.Entry) error) error {
	if s.closed.Load() {
		return ErrClosed
	}
	gx, groups, err := s.readGroups(ctx)
	if err != nil {
		return err
	}
	ux := newIndex()
	members := map[string][]string{}
	err = s.readUsers(ctx, gx, func(e directory.Entry) error {
		ux.add(e)
		for _, g := range e.Attrs[s.memberOf] {
			members[g] = append(members[g], e.Ref)
		}
		return nil
	})
	if err != nil {
		return err
	}
	unresolved := 0
	for i := range groups {
		g := &groups[i]
		parents := gx.resolveAll(g.Attrs[s.memberOf], &unresolved)
		setRefs(g.Attrs, s.memberOf, parents)
		for _, p := range parents {
			members[p] = append(members[p], g.Ref)
		}
	}
	for i := range groups {
		g := &groups[i]
		var list []string
		for _, v := range g.Attrs[s.members] {
			if id, ok := ux.resolve(v); ok {
				list = append(list, id)
			} else if id, ok := gx.resolve(v); ok {
				list = append(list, id)
			} else {
				unresolved++
			}
		}
		setRefs(g.Attrs, s.members, dedupe(append(list, members[g.Ref]...)))
	}
	if unresolved > 0 {
		s.log.Debug().Int("unresolved", unresolved).
			Msg("otdsrest: group memberships naming objects out of scope were dropped")
	}
	for _, g := range groups {
		if err := fn(g); err != nil {
			return err
		}
	}
	return nil
}

// readGroups reads every group in scope.
func (s *Source) readGroups(ctx context.Context) (*index, []directory.Entry, error) {
	gx := newIndex()
	var groups []directory.Entry
	err := s.scan(ctx, "groups", s.cfg.GroupFilter, func(objs []object) error {
		for _, o := range objs {
			if o.ID == "" {
				return fmt.Errorf("otdsrest: GET /groups: group %q has no id", o.Name)
			}
			e := directory.Entry{Ref: o.ID, Attrs: o.attrs()}
			gx.add(e)
			groups = append(groups, e)
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	s.log.Debug().Int("groups", len(groups)).Msg("otdsrest: groups read")
	return gx, groups, nil
}

// readUsers reads every user in scope and resolves their groups against gx.
func (s *Source) readUsers(ctx context.Context, gx *index, fn func(directory.Entry) error) error {
	var n, calls, unresolved int
	err := s.scan(ctx, "users", s.cfg.Filter, func(objs []object) error {
		entries := make([]directory.Entry, len(objs))
		var need []int // users whose groups come from /memberof
		for i, o := range objs {
			if o.ID == "" {
				return fmt.Errorf("otdsrest: GET /users: user %q has no id", o.Name)
			}
			attrs := o.attrs()
			raw, present := attrs[s.memberOf]
			entries[i] = directory.Entry{Ref: o.ID, Attrs: attrs}
			switch {
			case s.cfg.Memberships == MembershipsMemberOf,
				s.cfg.Memberships == MembershipsAuto && !present:
				need = append(need, i)
				delete(attrs, s.memberOf)
			default:
				setRefs(attrs, s.memberOf, gx.resolveAll(raw, &unresolved))
			}
		}
		if len(need) > 0 {
			ids := make([]string, len(need))
			for j, i := range need {
				ids[j] = entries[i].Ref
			}
			got, dropped, err := s.memberships(ctx, gx, ids)
			if err != nil {
				return err
			}
			calls += len(need)
			unresolved += dropped
			for j, i := range need {
				setRefs(entries[i].Attrs, s.memberOf, got[j])
			}
		}
		for _, e := range entries {
			if err := fn(e); err != nil {
				return err
			}
		}
		n += len(entries)
		return nil
	})
	if err != nil {
		return err
	}
	s.log.Debug().Int("users", n).Int("memberof_requests", calls).Int("unresolved_memberships", unresolved).
		Msg("otdsrest: users read")
	return nil
}

// scan pages through GET /<key> (users or groups) in every partition in
// scope, calling fn per page. Errors of fn are returned unchanged.
func (s *Source) scan(ctx context.Context, key, filter string, fn func([]object) error) error {
	parts := s.cfg.Partitions
	if len(parts) == 0 {
		parts = []string{""}
	}
	for _, part := range parts {
		var next cookie
		empty := 0
		for n := 1; ; n++ {
			detail := "page " + strconv.Itoa(n)
			if part != "" {
				detail = "partition " + strconv.Quote(part) + ", " + detail
			}
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("otdsrest: GET /%s (%s): %w", key, detail, err)
			}
			q := url.Values{"page_size": {strconv.Itoa(s.cfg.PageSize)}, "attrsAsKeys": {"true"}}
			if part != "" {
				q.Set("where_partition_name", part)
			}
			if filter != "" {
				q.Set("where_filter", filter)
			}
			if next != "" {
				q.Set("next_page_cookie", string(next))
			}
			var p page
			if err := s.get(ctx, "/"+key, detail, q, &p); err != nil {
				return err
			}
			objs, err := p.items(key)
			if err != nil {
				return fmt.Errorf("otdsrest: GET /%s (%s): %w", key, detail, err)
			}
			if err := fn(objs); err != nil {
				return err
			}
			if p.NextPageCookie == "" {
				break
			}
			if len(objs) > 0 {
				empty = 0
			} else if empty++; empty >= maxEmptyPages {
				return fmt.Errorf("otdsrest: GET /%s (%s): %d empty pages in a row, each with a next page cookie", key, detail, empty)
			}
			next = p.NextPageCookie
		}
	}
	return nil
}
