package ldap

import (
	"context"
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/directory"
	"github.com/scimbridge/scimbridge/directory/ldaptest"
)

// The read-speed yardstick: OpenLDAP's own client paging through the same
// entries, asking for the same attributes, writing LDIF nowhere:
//
//	ldapsearch -x -H URL -D BINDDN -w PW -b BASE -E pr=1000/noprompt -LLL FILTER ATTRS… >/dev/null
//
// Run: go test ./directory/ldap -run '^$' -bench Read10k -benchtime 10x
// (TestReadSpeed, outside -race and with SCIMBRIDGE_LDAP_SPEED=1, asserts
// the driver stays within 1.5× of it.)

const benchUsers = 10000

type benchEnv struct {
	srv        *ldaptest.Server
	ldapsearch string
	attrs      []string
}

func newBenchEnv(tb testing.TB) *benchEnv {
	tb.Helper()
	path, err := exec.LookPath("ldapsearch")
	if err != nil {
		tb.Skip("ldapsearch not installed (apt-get install ldap-utils)")
	}
	srv := ldaptest.Start(tb, ldaptest.WithLDIF(synthetic(tb, benchUsers, 200)))
	if !srv.Real() {
		tb.Skip("the comparison needs slapd")
	}
	var m directory.Mapping
	m.SetDefaults()
	return &benchEnv{srv: srv, ldapsearch: path, attrs: m.UserAttributes()}
}

func (e *benchEnv) open(tb testing.TB) *Source {
	s, err := Open(context.Background(), Config{URLs: []string{e.srv.URL()}, BindDN: e.srv.BindDN(), BindPassword: e.srv.Password()}, nil)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

func (e *benchEnv) driverRead(tb testing.TB, s *Source) {
	if n, err := count(context.Background(), s.Users); err != nil || n != benchUsers {
		tb.Fatalf("driver: %d, %v", n, err)
	}
}

func (e *benchEnv) ldapsearchRead(tb testing.TB) {
	args := append([]string{"-x", "-H", e.srv.URL(), "-D", e.srv.BindDN(), "-w", e.srv.Password(),
		"-b", DefaultBase, "-E", "pr=1000/noprompt", "-LLL", OTDSUserFilter}, e.attrs...)
	cmd := exec.Command(e.ldapsearch, args...)
	var stderr strings.Builder
	cmd.Stdout, cmd.Stderr = io.Discard, &stderr
	if err := cmd.Run(); err != nil {
		tb.Fatalf("ldapsearch: %v\n%s", err, stderr.String())
	}
}

func BenchmarkRead10k(b *testing.B) {
	e := newBenchEnv(b)
	b.Run("driver", func(b *testing.B) {
		s := e.open(b)
		for b.Loop() {
			e.driverRead(b, s)
		}
	})
	b.Run("ldapsearch", func(b *testing.B) {
		for b.Loop() {
			e.ldapsearchRead(b)
		}
	})
}

// median times fn over runs.
func median(runs int, fn func()) time.Duration {
	d := make([]time.Duration, runs)
	for i := range d {
		start := time.Now()
		fn()
		d[i] = time.Since(start)
	}
	slices.Sort(d)
	return d[runs/2]
}
