package ldapmem

import (
	"bytes"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"sync"
	"time"

	ber "github.com/go-asn1-ber/asn1-ber"
	"github.com/google/uuid"
	"github.com/hashicorp/go-hclog"
	"github.com/jimlambrt/gldap"
)

// Defaults for the one account that may bind.
const (
	DefaultBindDN       = "cn=admin,dc=identity,dc=opentext,dc=net"
	DefaultBindPassword = "secret"
)

// maxCursors bounds the paging cursors kept for clients that never finish
// or abandon a paged search.
const maxCursors = 1024

// Server is an in-memory LDAP server. Create it with New, then Start it;
// Stop and Start again restart it with the same data.
type Server struct {
	bindDN       string
	bindNorm     string
	bindPassword string
	tlsConfig    *tls.Config
	now          func() time.Time
	idSpace      uuid.UUID

	mu      sync.RWMutex
	entries []*entry          // in load order: searches return this order
	byDN    map[string]*entry // normalised DN → entry
	cursors map[string][]*entry
	bound   map[int]string // gldap connection id → bound DN

	net netState
}

// netState is what Start creates and Stop tears down.
type netState struct {
	life    sync.Mutex // serialises Start, ListenTLS and Stop
	mu      sync.Mutex // guards the fields below that the forwarder touches
	gl      *gldap.Server
	glDone  chan error
	backend string
	lns     []net.Listener
	conns   map[net.Conn]struct{}
	wg      sync.WaitGroup
	url     string
	ldaps   string
}

// Option configures a Server.
type Option func(*Server)

// WithBind sets the DN and password that may bind (DefaultBindDN and
// DefaultBindPassword otherwise).
func WithBind(dn, password string) Option {
	return func(s *Server) { s.bindDN, s.bindPassword = dn, password }
}

// WithTLS enables the StartTLS extended operation and ListenTLS.
func WithTLS(cfg *tls.Config) Option { return func(s *Server) { s.tlsConfig = cfg } }

// WithClock sets the clock used for createTimestamp and modifyTimestamp.
func WithClock(now func() time.Time) Option { return func(s *Server) { s.now = now } }

// New loads a tree from LDIF. Parents need not precede children, but
// every entry must have a parsable DN and DNs must be unique. Entries
// without entryUUID get one derived from their DN (stable across runs);
// entries without timestamps get the load time.
func New(ldif io.Reader, opts ...Option) (*Server, error) {
	s := &Server{
		bindDN: DefaultBindDN, bindPassword: DefaultBindPassword, now: time.Now,
		idSpace: uuid.MustParse("6f1c2a4e-8d0b-4c7e-9a51-3b2f0d6e7c81"),
		byDN:    map[string]*entry{}, cursors: map[string][]*entry{}, bound: map[int]string{},
	}
	for _, o := range opts {
		o(s)
	}
	rdns, err := normDN(s.bindDN)
	if err != nil {
		return nil, fmt.Errorf("ldapmem: bind dn: %w", err)
	}
	s.bindNorm = joinDN(rdns)
	recs, err := ParseLDIF(ldif)
	if err != nil {
		return nil, fmt.Errorf("ldapmem: %w", err)
	}
	stamp := s.now().UTC().Format(generalizedTime)
	for _, r := range recs {
		e, err := newEntry(r.DN, r.Attrs)
		if err != nil {
			return nil, fmt.Errorf("ldapmem: %w", err)
		}
		key := joinDN(e.rdns)
		if _, dup := s.byDN[key]; dup {
			return nil, fmt.Errorf("ldapmem: duplicate entry %q", r.DN)
		}
		if e.values("entryUUID") == nil {
			e.set("entryUUID", []string{uuid.NewSHA1(s.idSpace, []byte(key)).String()})
		}
		s.stamp(e, stamp, "", true)
		s.byDN[key] = e
		s.entries = append(s.entries, e)
	}
	return s, nil
}

func newEntry(dn string, attrs []Attr) (*entry, error) {
	rdns, err := normDN(dn)
	if err != nil {
		return nil, fmt.Errorf("dn %q: %w", dn, err)
	}
	if len(rdns) == 0 {
		return nil, errors.New("empty dn")
	}
	e := &entry{dn: dn, rdns: rdns}
	for _, a := range attrs {
		if len(a.Values) > 0 {
			e.set(a.Name, slices.Clone(a.Values))
		}
	}
	return e, nil
}

// stamp fills timestamps; create also fills the creation ones, and only
// where missing (LDIF may carry its own).
func (s *Server) stamp(e *entry, now, who string, load bool) {
	if load {
		for _, n := range []string{"createTimestamp", "modifyTimestamp"} {
			if e.values(n) == nil {
				e.set(n, []string{now})
			}
		}
		return
	}
	e.set("modifyTimestamp", []string{now})
	if who != "" {
		e.set("modifiersName", []string{who})
	}
}

// Start serves LDAP on addr ("127.0.0.1:0" picks a free port). gldap has
// no way to report the port it bound, so the server itself listens on a
// private loopback port and a small forwarder owns the public listener;
// that also lets Stop cut live connections, as a crashed server would.
func (s *Server) Start(addr string) error {
	n := &s.net
	n.life.Lock()
	defer n.life.Unlock()
	if n.gl != nil {
		return errors.New("ldapmem: already started")
	}
	if err := s.startBackend(); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		s.stopLocked()
		return fmt.Errorf("ldapmem: %w", err)
	}
	n.mu.Lock()
	n.url = "ldap://" + ln.Addr().String()
	n.mu.Unlock()
	s.serve(ln)
	return nil
}

// ListenTLS adds an ldaps:// listener (TLS from the first byte) on addr;
// it needs WithTLS and a started server.
func (s *Server) ListenTLS(addr string) error {
	n := &s.net
	n.life.Lock()
	defer n.life.Unlock()
	if s.tlsConfig == nil || n.gl == nil {
		return errors.New("ldapmem: ListenTLS needs WithTLS and Start")
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("ldapmem: %w", err)
	}
	n.mu.Lock()
	n.ldaps = "ldaps://" + ln.Addr().String()
	n.mu.Unlock()
	s.serve(tls.NewListener(ln, s.tlsConfig))
	return nil
}

// URL is the ldap:// URL of the running server.
func (s *Server) URL() string {
	s.net.mu.Lock()
	defer s.net.mu.Unlock()
	return s.net.url
}

// LDAPSURL is the ldaps:// URL after ListenTLS, else "".
func (s *Server) LDAPSURL() string {
	s.net.mu.Lock()
	defer s.net.mu.Unlock()
	return s.net.ldaps
}

// Stop closes the listeners and every client connection, then stops the
// LDAP server. The data stays: Start serves it again.
func (s *Server) Stop() error {
	s.net.life.Lock()
	defer s.net.life.Unlock()
	return s.stopLocked()
}

func (s *Server) stopLocked() error {
	n := &s.net
	n.mu.Lock()
	lns, conns := n.lns, n.conns
	n.lns, n.conns = nil, nil
	n.mu.Unlock()
	for _, ln := range lns {
		ln.Close()
	}
	for c := range conns {
		c.Close()
	}
	n.wg.Wait()
	var err error
	if n.gl != nil {
		err = n.gl.Stop()
		<-n.glDone
		n.gl = nil
	}
	return err
}

func (s *Server) startBackend() error {
	mux, err := gldap.NewMux()
	if err != nil {
		return err
	}
	if err := errors.Join(
		mux.Bind(s.handleBind),
		mux.Search(s.handleSearch),
		mux.Modify(s.handleModify),
		mux.Add(s.handleAdd),
		mux.Delete(s.handleDelete),
		mux.DefaultRoute(s.handleUnsupported),
	); err != nil {
		return err
	}
	if s.tlsConfig != nil {
		if err := mux.ExtendedOperation(s.handleStartTLS, gldap.ExtendedOperationStartTLS); err != nil {
			return err
		}
	}
	s.mu.Lock()
	s.bound = map[int]string{}
	s.mu.Unlock()
	// Pick a free loopback port, then ask gldap to listen there; another
	// process can take it in between, so try a few.
	var lastErr error
	for range 10 {
		probe, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return fmt.Errorf("ldapmem: %w", err)
		}
		addr := probe.Addr().String()
		probe.Close()
		gl, err := gldap.NewServer(gldap.WithLogger(hclog.NewNullLogger()), gldap.WithOnClose(s.forget))
		if err != nil {
			return err
		}
		if err := gl.Router(mux); err != nil {
			return err
		}
		done := make(chan error, 1)
		go func() { done <- gl.Run(addr) }()
		if lastErr = waitListening(addr, done); lastErr == nil {
			s.net.gl, s.net.glDone = gl, done
			s.net.mu.Lock()
			s.net.backend, s.net.conns = addr, map[net.Conn]struct{}{}
			s.net.mu.Unlock()
			return nil
		}
		gl.Stop()
	}
	return fmt.Errorf("ldapmem: start: %w", lastErr)
}

func waitListening(addr string, done chan error) error {
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-done:
			if err == nil {
				err = errors.New("server exited")
			}
			done <- err
			return err
		default:
		}
		if c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
			c.Close()
			return nil
		}
		time.Sleep(5 * time.Millisecond)
	}
	return errors.New("server did not start listening")
}

// serve accepts on ln and forwards each connection to the gldap backend.
func (s *Server) serve(ln net.Listener) {
	n := &s.net
	n.mu.Lock()
	n.lns = append(n.lns, ln)
	backend := n.backend
	n.mu.Unlock()
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			b, err := net.Dial("tcp", backend)
			if err != nil {
				c.Close()
				continue
			}
			n.mu.Lock()
			if n.conns == nil { // stopping
				n.mu.Unlock()
				c.Close()
				b.Close()
				return
			}
			n.conns[c], n.conns[b] = struct{}{}, struct{}{}
			n.wg.Add(2)
			n.mu.Unlock()
			pipe := func(dst, src net.Conn) {
				defer n.wg.Done()
				io.Copy(dst, src)
				dst.Close()
				src.Close()
				n.mu.Lock()
				delete(n.conns, dst)
				delete(n.conns, src)
				n.mu.Unlock()
			}
			go pipe(b, c)
			go pipe(c, b)
		}
	}()
}

// Entries returns the number of entries.
func (s *Server) Entries() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.entries)
}

func (s *Server) forget(connID int) {
	s.mu.Lock()
	delete(s.bound, connID)
	s.mu.Unlock()
}

func (s *Server) boundAs(connID int) (string, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	dn, ok := s.bound[connID]
	return dn, ok
}

func (s *Server) handleBind(w *gldap.ResponseWriter, r *gldap.Request) {
	resp := r.NewBindResponse(gldap.WithResponseCode(gldap.ResultInvalidCredentials))
	defer func() { w.Write(resp) }()
	m, err := r.GetSimpleBindMessage()
	if err != nil {
		resp.SetResultCode(gldap.ResultAuthMethodNotSupported)
		return
	}
	s.forget(r.ConnectionID())
	if m.UserName == "" || m.Password == "" {
		resp.SetResultCode(gldap.ResultUnwillingToPerform)
		resp.SetDiagnosticMessage("anonymous and unauthenticated binds are refused")
		return
	}
	rdns, err := normDN(m.UserName)
	if err != nil {
		resp.SetResultCode(gldap.ResultInvalidDNSyntax)
		return
	}
	if joinDN(rdns) != s.bindNorm || string(m.Password) != s.bindPassword {
		return
	}
	s.mu.Lock()
	s.bound[r.ConnectionID()] = m.UserName
	s.mu.Unlock()
	resp.SetResultCode(gldap.ResultSuccess)
}

func (s *Server) handleStartTLS(w *gldap.ResponseWriter, r *gldap.Request) {
	res := r.NewExtendedResponse(gldap.WithResponseCode(gldap.ResultSuccess))
	res.SetResponseName(gldap.ExtendedOperationStartTLS)
	if err := w.Write(res); err != nil {
		return
	}
	_ = r.StartTLS(s.tlsConfig) // a failed handshake leaves a broken connection, as in slapd
}

func (s *Server) handleUnsupported(w *gldap.ResponseWriter, r *gldap.Request) {
	w.Write(r.NewResponse(gldap.WithResponseCode(gldap.ResultUnwillingToPerform), gldap.WithDiagnosticMessage("operation not supported by ldapmem")))
}

func newCookie() string {
	b := make([]byte, 12)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// attrSelector decides which attributes a search returns (RFC 4511 4.5.1.8).
type attrSelector struct {
	all, ops, none bool
	names          map[string]bool // lower-cased
}

func newAttrSelector(attrs []string) attrSelector {
	sel := attrSelector{names: map[string]bool{}}
	if len(attrs) == 0 {
		sel.all = true
	}
	for _, a := range attrs {
		switch a {
		case "*":
			sel.all = true
		case "+":
			sel.ops = true
		case "1.1":
			sel.none = len(attrs) == 1
		default:
			sel.names[strings.ToLower(a)] = true
		}
	}
	return sel
}

func (sel attrSelector) want(name string) bool {
	if sel.none {
		return false
	}
	l := strings.ToLower(name)
	if sel.names[l] {
		return true
	}
	if isOperational(l) {
		return sel.ops
	}
	return sel.all
}

func (s *Server) handleModify(w *gldap.ResponseWriter, r *gldap.Request) {
	resp := r.NewModifyResponse(gldap.WithResponseCode(gldap.ResultSuccess))
	defer func() { w.Write(resp) }()
	who, ok := s.boundAs(r.ConnectionID())
	if !ok {
		resp.SetResultCode(gldap.ResultInsufficientAccessRights)
		return
	}
	m, err := r.GetModifyMessage()
	if err != nil {
		resp.SetResultCode(gldap.ResultProtocolError)
		return
	}
	rdns, err := normDN(m.DN)
	if err != nil {
		resp.SetResultCode(gldap.ResultInvalidDNSyntax)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	key := joinDN(rdns)
	old, ok := s.byDN[key]
	if !ok {
		resp.SetResultCode(gldap.ResultNoSuchObject)
		return
	}
	e := old.clone()
	for _, c := range m.Changes {
		name, vals := c.Modification.Type, modValues(c.Modification.Vals)
		switch c.Operation {
		case gldap.AddAttribute:
			e.set(name, append(slices.Clone(e.values(name)), vals...))
		case gldap.DeleteAttribute:
			if len(vals) == 0 {
				e.set(name, nil)
				continue
			}
			kept := slices.DeleteFunc(slices.Clone(e.values(name)), func(v string) bool {
				return slices.ContainsFunc(vals, func(d string) bool { return strings.EqualFold(v, d) })
			})
			e.set(name, kept)
		case gldap.ReplaceAttribute:
			e.set(name, slices.Clone(vals))
		default:
			resp.SetResultCode(gldap.ResultUnwillingToPerform)
			return
		}
	}
	s.stamp(e, s.now().UTC().Format(generalizedTime), who, false)
	s.replace(key, old, e)
}

func (s *Server) replace(key string, old, e *entry) {
	s.byDN[key] = e
	if i := slices.Index(s.entries, old); i >= 0 {
		s.entries[i] = e
	}
}

func (s *Server) handleAdd(w *gldap.ResponseWriter, r *gldap.Request) {
	resp := r.NewResponse(gldap.WithApplicationCode(gldap.ApplicationAddResponse), gldap.WithResponseCode(gldap.ResultSuccess))
	defer func() { w.Write(resp) }()
	who, ok := s.boundAs(r.ConnectionID())
	if !ok {
		resp.SetResultCode(gldap.ResultInsufficientAccessRights)
		return
	}
	m, err := r.GetAddMessage()
	if err != nil {
		resp.SetResultCode(gldap.ResultProtocolError)
		return
	}
	attrs := make([]Attr, len(m.Attributes))
	for i, a := range m.Attributes {
		attrs[i] = Attr{Name: a.Type, Values: a.Vals}
	}
	e, err := newEntry(m.DN, attrs)
	if err != nil {
		resp.SetResultCode(gldap.ResultInvalidDNSyntax)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	key := joinDN(e.rdns)
	if _, dup := s.byDN[key]; dup {
		resp.SetResultCode(gldap.ResultEntryAlreadyExists)
		return
	}
	if _, ok := s.byDN[joinDN(e.rdns[1:])]; !ok && len(e.rdns) > 1 {
		resp.SetResultCode(gldap.ResultNoSuchObject)
		return
	}
	now := s.now().UTC().Format(generalizedTime)
	e.set("entryUUID", []string{uuid.NewString()})
	e.set("createTimestamp", []string{now})
	e.set("creatorsName", []string{who})
	s.stamp(e, now, who, false)
	s.byDN[key] = e
	s.entries = append(s.entries, e)
}

func (s *Server) handleDelete(w *gldap.ResponseWriter, r *gldap.Request) {
	resp := r.NewResponse(gldap.WithApplicationCode(gldap.ApplicationDelResponse), gldap.WithResponseCode(gldap.ResultSuccess))
	defer func() { w.Write(resp) }()
	if _, ok := s.boundAs(r.ConnectionID()); !ok {
		resp.SetResultCode(gldap.ResultInsufficientAccessRights)
		return
	}
	m, err := r.GetDeleteMessage()
	if err != nil {
		resp.SetResultCode(gldap.ResultProtocolError)
		return
	}
	rdns, err := normDN(m.DN)
	if err != nil {
		resp.SetResultCode(gldap.ResultInvalidDNSyntax)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	key := joinDN(rdns)
	old, ok := s.byDN[key]
	if !ok {
		resp.SetResultCode(gldap.ResultNoSuchObject)
		return
	}
	for _, e := range s.entries {
		if len(e.rdns) == len(rdns)+1 && within(e.rdns, rdns, 1) {
			resp.SetResultCode(gldap.ResultNotAllowedOnNonLeaf)
			return
		}
	}
	delete(s.byDN, key)
	s.entries = slices.DeleteFunc(s.entries, func(e *entry) bool { return e == old })
}

// modValues works around gldap v0.1.14, which hands over a modification's
// values as the raw content of the BER SET (every value still wrapped in
// its OCTET STRING header) rather than decoded. Content that does not
// parse cleanly as a run of octet strings is kept as given, so a fixed
// gldap keeps working.
func modValues(raw []string) []string {
	var out []string
	for _, r := range raw {
		vals, ok := decodeOctetStrings([]byte(r))
		if !ok {
			out = append(out, r)
			continue
		}
		out = append(out, vals...)
	}
	return out
}

func decodeOctetStrings(b []byte) ([]string, bool) {
	rd := bytes.NewReader(b)
	var out []string
	for rd.Len() > 0 {
		p, err := ber.ReadPacket(rd)
		if err != nil || p.ClassType != ber.ClassUniversal || p.TagType != ber.TypePrimitive || p.Tag != ber.TagOctetString {
			return nil, false
		}
		out = append(out, p.Data.String())
	}
	return out, len(b) > 0
}
