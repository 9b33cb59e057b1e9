package reconcile_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/scimbridge/scimbridge/directory"
	"github.com/scimbridge/scimbridge/directory/ldap"
	"github.com/scimbridge/scimbridge/directory/ldapmem"
	"github.com/scimbridge/scimbridge/directory/ldaptest"
	"github.com/scimbridge/scimbridge/hubspot"
	"github.com/scimbridge/scimbridge/hubspot/hubspotsim"
	"github.com/scimbridge/scimbridge/internal/provision"
	"github.com/scimbridge/scimbridge/internal/reconcile"
	"github.com/scimbridge/scimbridge/internal/store/sqlite"
	"github.com/scimbridge/scimbridge/schemas"
)

const partition = "ou=Root,ou=Bench,ou=IdentityProviders,dc=identity,dc=opentext,dc=net"

func userDN(i int) string  { return fmt.Sprintf("cn=user%06d,%s", i, partition) }
func groupDN(i int) string { return fmt.Sprintf("cn=group%05d,ou=groups,%s", i, partition) }
func email(i int) string   { return fmt.Sprintf("user%06d@bench.example.com", i) }

// world is a real slapd, the bridge's store and provisioning engine, and
// the HubSpot simulator, with a reconcile runner between them.
type world struct {
	t       *testing.T
	ldap    *ldaptest.Server
	st      *sqlite.Store
	sim     *hubspotsim.Sim
	mapping directory.Mapping
	svc     *provision.Service
}

func newWorld(t *testing.T, users, groups int) *world {
	t.Helper()
	var ldif bytes.Buffer
	if err := ldapmem.WriteSynthetic(&ldif, ldapmem.Synthetic{Users: users, Groups: groups}); err != nil {
		t.Fatal(err)
	}
	// An empty partition, to point a misconfigured source at.
	ldif.WriteString("\ndn: ou=Empty,ou=IdentityProviders,dc=identity,dc=opentext,dc=net\nobjectClass: top\nobjectClass: organizationalUnit\nou: Empty\n")
	w := &world{t: t, ldap: ldaptest.Start(t, ldaptest.WithLDIF(ldif.Bytes()))}
	w.mapping.SetDefaults()
	var err error
	w.st, err = sqlite.Open(context.Background(), sqlite.Config{Path: filepath.Join(t.TempDir(), "bridge.db")}, schemas.MustLoad())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.st.Close() })
	if w.sim, err = hubspotsim.New(hubspotsim.Config{Limits: hubspotsim.Limits{TenSecondly: 100000, Daily: 10_000_000}}); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(w.sim.Handler())
	t.Cleanup(srv.Close)
	client, err := hubspot.New(hubspot.Config{BaseURL: srv.URL, Token: hubspotsim.DemoToken, RateLimit: 100000, DailyLimit: 10_000_000})
	if err != nil {
		t.Fatal(err)
	}
	engine, err := provision.NewEngine(provision.EngineConfig{Wait: -1, MaxBackoff: 100 * time.Millisecond}, w.st, client,
		&provision.Rules{DefaultRole: "Sales Representative"}, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = engine.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	w.svc = provision.New(w.st, engine, zerolog.Nop()).NoWait()
	return w
}

func (w *world) source(bases ...string) *ldap.Source {
	w.t.Helper()
	if len(bases) == 0 {
		bases = []string{"ou=Bench,ou=IdentityProviders,dc=identity,dc=opentext,dc=net"}
	}
	src, err := ldap.Open(context.Background(), ldap.Config{URLs: []string{w.ldap.URL()}, BindDN: w.ldap.BindDN(),
		BindPassword: w.ldap.Password(), Bases: bases, PageSize: 7, Timeout: 5 * time.Second}, &w.mapping)
	if err != nil {
		w.t.Fatal(err)
	}
	w.t.Cleanup(func() { src.Close() })
	return src
}

func (w *world) runner(src directory.Source, cfg reconcile.Config) *reconcile.Runner {
	return reconcile.NewRunner(cfg, src, &w.mapping, w.st, w.svc, zerolog.Nop(), nil)
}

// bridgeUser finds the bridge user with a userName, or nil.
func (w *world) bridgeUser(userName string) *schemas.User {
	w.t.Helper()
	var found *schemas.User
	_ = w.st.ScanUsers(context.Background(), func(u *schemas.User) error {
		if strings.EqualFold(u.UserName, userName) {
			found = u
		}
		return nil
	})
	return found
}

func (w *world) activeUsers() int {
	n := 0
	_ = w.st.ScanUsers(context.Background(), func(u *schemas.User) error {
		if u.IsActive() {
			n++
		}
		return nil
	})
	return n
}

func (w *world) hub(email string) *hubspot.User {
	for _, u := range w.sim.State().Users {
		if strings.EqualFold(u.Email, email) {
			return &u
		}
	}
	return nil
}

func (w *world) eventually(what string, cond func() error) {
	w.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			w.t.Fatalf("%s: %v", what, err)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// full runs a full reconcile and checks its outcome.
func full(t *testing.T, r *reconcile.Runner, opt reconcile.Options, outcome string) *reconcile.Result {
	t.Helper()
	res, err := r.Full(context.Background(), opt)
	if err != nil && outcome != reconcile.OutcomeFailed {
		t.Fatal(err)
	}
	if res == nil || res.Run.Outcome != outcome {
		t.Fatalf("outcome %+v (%v), want %s", res, err, outcome)
	}
	return res
}

func mustRun(t *testing.T, res *reconcile.Result, err error, outcome string) *reconcile.Result {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	if res == nil || res.Run.Outcome != outcome {
		t.Fatalf("outcome %+v, want %s", res, outcome)
	}
	return res
}

func TestJoinerMoverLeaver(t *testing.T) {
	w := newWorld(t, 40, 4)
	r := w.runner(w.source(), reconcile.Config{})
	ctx := context.Background()

	// Joiners.
	res := full(t, r, reconcile.Options{}, reconcile.OutcomeOK)
	if c := res.Run.Counts; c["users_create"] != 40 || c["groups_create"] != 4 {
		t.Fatalf("first run: %v", c)
	}
	w.eventually("joiners in HubSpot", func() error {
		if n := len(w.sim.State().Users); n != 41 {
			return fmt.Errorf("%d HubSpot users", n)
		}
		return nil
	})
	u := w.bridgeUser(email(1))
	if u == nil || u.Origin != schemas.OriginDirectory || u.Enterprise == nil || u.Enterprise.Department == "" || len(u.Groups) == 0 {
		t.Fatalf("reconciled user: %+v", u)
	}
	// A second full run changes nothing.
	res = full(t, r, reconcile.Options{}, reconcile.OutcomeOK)
	if !res.Plan.Empty() {
		t.Fatalf("no-change run planned %v", res.Plan.Counts())
	}

	// Mover: department and name; leaver: disabled. The mover has accepted
	// HubSpot's invitation (HubSpot refuses a name change before that).
	w.sim.AcceptInvite(email(1))
	w.ldap.Modify(userDN(1), map[string][]string{"oTDepartment": {"Customer Success"}, "sn": {"Moved"}})
	w.ldap.Modify(userDN(2), map[string][]string{"accountDisabled": {"true"}})
	time.Sleep(1100 * time.Millisecond) // modifyTimestamp has one-second resolution
	res, err := r.Incremental(ctx)
	res = mustRun(t, res, err, reconcile.OutcomeOK)
	if c := res.Run.Counts; c["users_update"] != 1 || c["users_deactivate"] != 1 {
		t.Fatalf("incremental run: %v", c)
	}
	if u := w.bridgeUser(email(1)); u.Enterprise.Department != "Customer Success" || u.Name.FamilyName != "Moved" {
		t.Fatalf("mover: %+v", u)
	}
	w.eventually("mover and leaver in HubSpot", func() error {
		if h := w.hub(email(1)); h == nil || h.LastName != "Moved" {
			return fmt.Errorf("mover: %+v", h)
		}
		if h := w.hub(email(2)); h != nil {
			return fmt.Errorf("disabled user still in HubSpot")
		}
		return nil
	})

	// Leaver: deleted. Incremental polls cannot see removals; full runs can.
	w.ldap.Delete(userDN(3))
	if res, err := r.Incremental(ctx); err != nil || (res != nil && res.Plan.Deprovisions() > 0) {
		t.Fatalf("incremental run after a delete: %+v %v", res, err)
	}
	res = full(t, r, reconcile.Options{}, reconcile.OutcomeOK)
	if res.Run.Counts["users_delete"] != 1 || w.bridgeUser(email(3)) != nil {
		t.Fatalf("delete: %v", res.Run.Counts)
	}
	w.eventually("deleted user out of HubSpot", func() error {
		if w.hub(email(3)) != nil {
			return fmt.Errorf("still there")
		}
		return nil
	})

	// Re-enabled: restored.
	w.ldap.Modify(userDN(2), map[string][]string{"accountDisabled": {"false"}})
	full(t, r, reconcile.Options{}, reconcile.OutcomeOK)
	w.eventually("re-enabled user back in HubSpot", func() error {
		if w.hub(email(2)) == nil {
			return fmt.Errorf("missing")
		}
		return nil
	})
}

func TestScopeGroup(t *testing.T) {
	w := newWorld(t, 30, 3)
	members := []string{}
	for i := range 20 {
		members = append(members, userDN(i))
	}
	w.ldap.Add("cn=HubSpot Users,ou=groups,"+partition, map[string][]string{
		"objectClass": {"top", "oTGroup"}, "cn": {"HubSpot Users"}, "oTMember": members})
	r := w.runner(w.source(), reconcile.Config{ScopeGroups: []string{"HubSpot Users"}})
	ctx := context.Background()
	res := full(t, r, reconcile.Options{}, reconcile.OutcomeOK)
	if res.Run.Counts["users_create"] != 20 || w.bridgeUser(email(25)) != nil {
		t.Fatalf("scoped run: %v", res.Run.Counts)
	}
	// Leaving the scope group deprovisions.
	w.ldap.Modify("cn=HubSpot Users,ou=groups,"+partition, map[string][]string{"oTMember": members[1:]})
	time.Sleep(1100 * time.Millisecond)
	res, err := r.Incremental(ctx)
	mustRun(t, res, err, reconcile.OutcomeOK)
	if u := w.bridgeUser(email(0)); u == nil || u.IsActive() {
		t.Fatalf("user out of scope: %+v", u)
	}
	w.eventually("out-of-scope user out of HubSpot", func() error {
		if w.hub(email(0)) != nil {
			return fmt.Errorf("still there")
		}
		return nil
	})
}

// stopAfter wraps a source and stops slapd after n users were read: the
// read must then fail rather than look like removals.
type stopAfter struct {
	directory.Source
	n    int
	stop func()
	seen atomic.Int64
}

func (s *stopAfter) Users(ctx context.Context, fn func(directory.Entry) error) error {
	return s.Source.Users(ctx, func(e directory.Entry) error {
		if int(s.seen.Add(1)) == s.n {
			s.stop()
		}
		return fn(e)
	})
}

func TestDeletionGuardAndOutages(t *testing.T) {
	w := newWorld(t, 60, 3)
	ctx := context.Background()
	cfg := reconcile.Config{}
	r := w.runner(w.source(), cfg)
	full(t, r, reconcile.Options{}, reconcile.OutcomeOK)
	if n := w.activeUsers(); n != 59 { // user 49 is disabled in the directory
		t.Fatalf("%d active users", n)
	}

	// A misconfigured base returns nobody: the guard holds, nobody is touched.
	empty := w.runner(w.source("ou=Empty,ou=IdentityProviders,dc=identity,dc=opentext,dc=net"), cfg)
	res := full(t, empty, reconcile.Options{}, reconcile.OutcomeGuarded)
	if !strings.Contains(res.Run.Error, "no users") || w.activeUsers() != 59 {
		t.Fatalf("emptied base: %+v, %d active", res.Run, w.activeUsers())
	}

	// slapd stopped in the middle of a paged read: a clean failure.
	mid := &stopAfter{Source: w.source(), n: 20, stop: w.ldap.Stop}
	res, err := w.runner(mid, cfg).Full(ctx, reconcile.Options{})
	if err == nil || res.Run.Outcome != reconcile.OutcomeFailed || w.activeUsers() != 59 {
		t.Fatalf("slapd stopped mid-run: %+v %v, %d active", res, err, w.activeUsers())
	}
	w.ldap.Restart()
	full(t, r, reconcile.Options{}, reconcile.OutcomeOK)
	if w.activeUsers() != 59 {
		t.Fatalf("%d active after recovery", w.activeUsers())
	}

	// Deleting 30 of 60 is over max(10%, 25): held back until forced.
	for i := range 30 {
		w.ldap.Delete(userDN(i))
	}
	full(t, r, reconcile.Options{}, reconcile.OutcomeGuarded)
	status, err := r.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if status.Guarded == "" || w.activeUsers() != 59 {
		t.Fatalf("guard: %+v, %d active", status, w.activeUsers())
	}
	dry := full(t, r, reconcile.Options{DryRun: true}, reconcile.OutcomeGuarded)
	if dry.Plan.Deprovisions() != 30 {
		t.Fatalf("dry run shows %d deprovisions", dry.Plan.Deprovisions())
	}
	full(t, r, reconcile.Options{Force: true}, reconcile.OutcomeOK)
	if n := w.activeUsers(); n != 29 {
		t.Fatalf("%d active after the forced run", n)
	}
}
