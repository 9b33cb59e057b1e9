// Package ldaptest starts a real OpenLDAP slapd for tests: a throwaway mdb
// database in t.TempDir() with the core, cosine, inetorgperson and nis
// schemas plus an OTDS-shaped schema (otds.schema), loaded from LDIF with
// slapadd, listening on random loopback ports for ldap://, ldaps:// and
// StartTLS with a freshly generated CA.
//
// Without slapd (Debian: apt-get install slapd ldap-utils) tests fall back
// to the in-process directory/ldapmem server, unless SCIMBRIDGE_REQUIRE_SLAPD=1
// (set in CI), which makes a missing slapd fatal. SCIMBRIDGE_LDAPTEST=mem
// forces the fallback. Tests that need what only slapd does (referral
// objects, schema checks) check Real.
package ldaptest

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/scimbridge/scimbridge/directory/ldapmem"
)

// The suffix and root account of every test server.
const (
	Suffix   = "dc=identity,dc=opentext,dc=net"
	BindDN   = "cn=admin," + Suffix
	Password = "secret"
)

// RequireEnv names the variable that makes a missing slapd fatal.
const RequireEnv = "SCIMBRIDGE_REQUIRE_SLAPD"

// BackendEnv set to "mem" runs every test server on ldapmem even where
// slapd is installed (to check the fallback).
const BackendEnv = "SCIMBRIDGE_LDAPTEST"

//go:embed otds.schema
var otdsSchema []byte

// Server is a running test directory.
type Server struct {
	t       testing.TB
	dir     string
	conf    string
	slapd   string
	port    int
	tlsPort int
	ca      *testCA

	mu      sync.Mutex
	cmd     *exec.Cmd
	exited  chan struct{}
	log     *syncBuffer
	mem     *ldapmem.Server
	memAddr [2]string
}

type options struct {
	ldif      [][]byte
	files     []string
	forceMem  bool
	slapdPath string
}

// Option configures Start.
type Option func(*options)

// WithLDIF loads LDIF content (several are concatenated in order). Without
// any, the directory holds only the suffix entry. Content must include
// the suffix entry itself.
func WithLDIF(data []byte) Option { return func(o *options) { o.ldif = append(o.ldif, data) } }

// WithLDIFFile loads an LDIF file, as WithLDIF.
func WithLDIFFile(path string) Option { return func(o *options) { o.files = append(o.files, path) } }

// WithInMemory uses directory/ldapmem even when slapd is installed.
func WithInMemory() Option { return func(o *options) { o.forceMem = true } }

// Start starts a directory for the test and stops it at cleanup.
func Start(t testing.TB, opts ...Option) *Server {
	t.Helper()
	var o options
	for _, f := range opts {
		f(&o)
	}
	ldif := baseLDIF()
	if len(o.ldif) > 0 || len(o.files) > 0 {
		ldif = nil
		for _, d := range o.ldif {
			ldif = append(append(ldif, d...), "\n\n"...)
		}
		for _, f := range o.files {
			d, err := os.ReadFile(f)
			if err != nil {
				t.Fatalf("ldaptest: %v", err)
			}
			ldif = append(append(ldif, d...), "\n\n"...)
		}
	}
	s := &Server{t: t, dir: t.TempDir(), log: &syncBuffer{}}
	var err error
	if s.ca, err = newTestCA(s.dir); err != nil {
		t.Fatalf("ldaptest: %v", err)
	}
	slapd, slapadd := findSlapd()
	if os.Getenv(BackendEnv) == "mem" {
		o.forceMem = true
	}
	if o.forceMem || slapd == "" || slapadd == "" {
		if !o.forceMem && os.Getenv(RequireEnv) == "1" {
			t.Fatalf("ldaptest: slapd/slapadd not found and %s=1: apt-get install slapd ldap-utils", RequireEnv)
		}
		if !o.forceMem {
			t.Logf("ldaptest: slapd not installed (apt-get install slapd ldap-utils); using the in-process ldapmem server")
		}
		s.startMem(ldif)
		t.Cleanup(func() { s.Stop() })
		return s
	}
	s.startSlapd(slapd, slapadd, ldif)
	t.Cleanup(func() { s.Stop() })
	return s
}

func baseLDIF() []byte {
	return []byte("dn: " + Suffix + "\nobjectClass: top\nobjectClass: dcObject\nobjectClass: organization\ndc: identity\no: OpenText Directory Services\n\n")
}

func findSlapd() (slapd, slapadd string) {
	look := func(name string) string {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
		if p := "/usr/sbin/" + name; fileExists(p) {
			return p
		}
		return ""
	}
	return look("slapd"), look("slapadd")
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// Real reports whether the server is OpenLDAP slapd (false: ldapmem).
func (s *Server) Real() bool { return s.mem == nil }

// URL is the ldap:// URL (plain, StartTLS-capable).
func (s *Server) URL() string {
	if s.mem != nil {
		return "ldap://" + s.memAddr[0]
	}
	return "ldap://127.0.0.1:" + strconv.Itoa(s.port)
}

// LDAPSURL is the ldaps:// URL.
func (s *Server) LDAPSURL() string {
	if s.mem != nil {
		return "ldaps://" + s.memAddr[1]
	}
	return "ldaps://127.0.0.1:" + strconv.Itoa(s.tlsPort)
}

// CAFile is the PEM file of the CA that signed the server certificate
// (valid for 127.0.0.1 and localhost).
func (s *Server) CAFile() string { return s.ca.caFile }

// BindDN is the root DN; Password its password.
func (s *Server) BindDN() string { return BindDN }

// Password is the bind password.
func (s *Server) Password() string { return Password }

// Dir is the server's temporary directory (configuration, database).
func (s *Server) Dir() string { return s.dir }

// Conn dials and binds a go-ldap connection, closed at cleanup.
func (s *Server) Conn() *ldap.Conn {
	s.t.Helper()
	c, err := ldap.DialURL(s.URL(), ldap.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}))
	if err != nil {
		s.t.Fatalf("ldaptest: dial: %v", err)
	}
	if err := c.Bind(BindDN, Password); err != nil {
		c.Close()
		s.t.Fatalf("ldaptest: bind: %v", err)
	}
	s.t.Cleanup(func() { c.Close() })
	return c
}

// Add adds an entry; attrs maps attribute names to values.
func (s *Server) Add(dn string, attrs map[string][]string) {
	s.t.Helper()
	req := ldap.NewAddRequest(dn, nil)
	for _, k := range sortedKeys(attrs) {
		req.Attribute(k, attrs[k])
	}
	if err := s.Conn().Add(req); err != nil {
		s.t.Fatalf("ldaptest: add %s: %v", dn, err)
	}
}

// Modify replaces the given attributes of an entry (an empty value list
// removes the attribute).
func (s *Server) Modify(dn string, replace map[string][]string) {
	s.t.Helper()
	req := ldap.NewModifyRequest(dn, nil)
	for _, k := range sortedKeys(replace) {
		req.Replace(k, replace[k])
	}
	if err := s.Conn().Modify(req); err != nil {
		s.t.Fatalf("ldaptest: modify %s: %v", dn, err)
	}
}

// Delete deletes an entry.
func (s *Server) Delete(dn string) {
	s.t.Helper()
	if err := s.Conn().Del(ldap.NewDelRequest(dn, nil)); err != nil {
		s.t.Fatalf("ldaptest: delete %s: %v", dn, err)
	}
}

// Stop stops the server, cutting open connections; the data stays for
// Restart. Stopping a stopped server does nothing.
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mem != nil {
		s.mem.Stop()
		return
	}
	if s.cmd == nil {
		return
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	s.cmd.Process.Signal(syscall.SIGCONT) // a frozen server handles the SIGTERM once resumed
	select {
	case <-s.exited:
	case <-time.After(10 * time.Second):
		s.cmd.Process.Kill()
		<-s.exited
	}
	s.cmd = nil
}

// Freeze suspends slapd (SIGSTOP), as a hung server: the kernel still
// accepts connections on its ports, but no request is answered, so clients
// see timeouts rather than refused connections. Thaw resumes it; Stop
// works on a frozen server. The in-process fallback cannot be frozen: the
// test is skipped there (tests that need this check Real first).
func (s *Server) Freeze() {
	s.t.Helper()
	s.signal(syscall.SIGSTOP)
	// The signal is delivered asynchronously: wait until the kernel reports
	// the process stopped (state T in /proc/PID/stat), so that no request
	// sent after Freeze is answered.
	s.mu.Lock()
	pid := s.cmd.Process.Pid
	s.mu.Unlock()
	stat := "/proc/" + strconv.Itoa(pid) + "/stat"
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		b, err := os.ReadFile(stat)
		if err != nil {
			time.Sleep(100 * time.Millisecond) // no /proc: give the signal time
			return
		}
		// The state follows the parenthesised command name.
		if i := bytes.LastIndexByte(b, ')'); i >= 0 && i+2 < len(b) && (b[i+2] == 'T' || b[i+2] == 't') {
			return
		}
	}
	s.t.Fatalf("ldaptest: slapd did not stop within 5s of SIGSTOP")
}

// Thaw resumes a server suspended by Freeze.
func (s *Server) Thaw() { s.signal(syscall.SIGCONT) }

func (s *Server) signal(sig syscall.Signal) {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mem != nil {
		s.t.Skipf("ldaptest: %v needs slapd, not the in-process fallback", sig)
	}
	if s.cmd == nil {
		s.t.Fatalf("ldaptest: %v: slapd is not running", sig)
	}
	if err := s.cmd.Process.Signal(sig); err != nil {
		s.t.Fatalf("ldaptest: %v: %v", sig, err)
	}
}

// Restart starts a stopped server again on the same ports.
func (s *Server) Restart() {
	s.t.Helper()
	s.Stop()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mem != nil {
		if err := s.mem.Start(s.memAddr[0]); err != nil {
			s.t.Fatalf("ldaptest: restart: %v", err)
		}
		if err := s.mem.ListenTLS(s.memAddr[1]); err != nil {
			s.t.Fatalf("ldaptest: restart: %v", err)
		}
		return
	}
	if err := s.launch(); err != nil {
		s.t.Fatalf("ldaptest: restart: %v\n%s", err, s.log.String())
	}
}

func (s *Server) startMem(ldif []byte) {
	tlsCfg, err := s.ca.serverTLS()
	if err != nil {
		s.t.Fatalf("ldaptest: %v", err)
	}
	m, err := ldapmem.New(bytes.NewReader(ldif), ldapmem.WithBind(BindDN, Password), ldapmem.WithTLS(tlsCfg))
	if err != nil {
		s.t.Fatalf("ldaptest: %v", err)
	}
	if err := m.Start("127.0.0.1:0"); err != nil {
		s.t.Fatalf("ldaptest: %v", err)
	}
	if err := m.ListenTLS("127.0.0.1:0"); err != nil {
		m.Stop()
		s.t.Fatalf("ldaptest: %v", err)
	}
	s.mem = m
	s.memAddr = [2]string{strings.TrimPrefix(m.URL(), "ldap://"), strings.TrimPrefix(m.LDAPSURL(), "ldaps://")}
}

func (s *Server) startSlapd(slapd, slapadd string, ldif []byte) {
	t := s.t
	schema := filepath.Join(s.dir, "otds.schema")
	if err := os.WriteFile(schema, otdsSchema, 0o600); err != nil {
		t.Fatalf("ldaptest: %v", err)
	}
	db := filepath.Join(s.dir, "db")
	if err := os.Mkdir(db, 0o700); err != nil {
		t.Fatalf("ldaptest: %v", err)
	}
	s.conf = filepath.Join(s.dir, "slapd.conf")
	if err := os.WriteFile(s.conf, []byte(slapdConf(s.dir, schema, db, s.ca)), 0o600); err != nil {
		t.Fatalf("ldaptest: %v", err)
	}
	ldifFile := filepath.Join(s.dir, "data.ldif")
	if err := os.WriteFile(ldifFile, ldif, 0o600); err != nil {
		t.Fatalf("ldaptest: %v", err)
	}
	// slapadd fills entryUUID, timestamps and entryCSN itself; -q skips
	// consistency checks that a fresh database does not need.
	if out, err := exec.Command(slapadd, "-q", "-f", s.conf, "-l", ldifFile).CombinedOutput(); err != nil {
		t.Fatalf("ldaptest: slapadd: %v\n%s", err, out)
	}
	s.slapd = slapd
	var err error
	for range 5 {
		if s.port, err = freePort(); err != nil {
			break
		}
		if s.tlsPort, err = freePort(); err != nil {
			break
		}
		if err = s.launch(); err == nil {
			return
		}
	}
	t.Fatalf("ldaptest: slapd did not start: %v\n%s", err, s.log.String())
}

// launch runs slapd in the foreground (-d 0) and waits until it answers.
func (s *Server) launch() error {
	urls := fmt.Sprintf("ldap://127.0.0.1:%d/ ldaps://127.0.0.1:%d/", s.port, s.tlsPort)
	cmd := exec.Command(s.slapd, "-f", s.conf, "-h", urls, "-d", "0")
	cmd.Stdout, cmd.Stderr = s.log, s.log
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	deadline := time.Now().Add(15 * time.Second)
	for {
		select {
		case <-exited:
			return errors.New("slapd exited")
		default:
		}
		if c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(s.port), time.Second); err == nil {
			c.Close()
			s.cmd, s.exited = cmd, exited
			return nil
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			<-exited
			return errors.New("slapd did not listen within 15s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func slapdConf(dir, schema, db string, ca *testCA) string {
	var b strings.Builder
	for _, sc := range []string{"core", "cosine", "inetorgperson", "nis"} {
		fmt.Fprintf(&b, "include /etc/ldap/schema/%s.schema\n", sc)
	}
	fmt.Fprintf(&b, "include %s\n", schema)
	fmt.Fprintf(&b, "pidfile %s\nargsfile %s\n", filepath.Join(dir, "slapd.pid"), filepath.Join(dir, "slapd.args"))
	// Debian builds the backends as modules.
	if fileExists("/usr/lib/ldap/back_mdb.la") || fileExists("/usr/lib/ldap/back_mdb.so") {
		b.WriteString("modulepath /usr/lib/ldap\nmoduleload back_mdb\n")
	}
	fmt.Fprintf(&b, "TLSCACertificateFile %s\nTLSCertificateFile %s\nTLSCertificateKeyFile %s\n", ca.caFile, ca.certFile, ca.keyFile)
	b.WriteString("sizelimit unlimited\ntimelimit unlimited\n")
	fmt.Fprintf(&b, "database mdb\nmaxsize 4294967296\nsuffix %q\nrootdn %q\nrootpw %s\ndirectory %s\n", Suffix, BindDN, Password, db)
	b.WriteString("dbnosync\nindex objectClass eq\nindex entryUUID eq\nlimits * size=unlimited time=unlimited\n")
	return b.String()
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// syncBuffer collects slapd's output for failure messages.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.buf.Len() > 1<<20 {
		b.buf.Reset()
	}
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func sortedKeys(m map[string][]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
