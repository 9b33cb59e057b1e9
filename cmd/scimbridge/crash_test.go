package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/hubspot/hubspotsim"
	"github.com/scimbridge/scimbridge/internal/store/postgres/pgtest"
)

// TestMain lets the test binary stand in for scimbridge in a child
// process, so crash tests kill a real process without building one.
func TestMain(m *testing.M) {
	if os.Getenv("SCIMBRIDGE_TEST_CHILD") == "1" {
		os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(pg.Main(m))
}

// pg is the PostgreSQL server of the tests that use one, started by the
// first of them.
var pg pgtest.Harness

// bridgeProc is a scimbridge serve child process.
type bridgeProc struct {
	cmd  *exec.Cmd
	base string // set before serving is closed
	log  *lineLog
}

func startBridge(t *testing.T, cfgPath string) *bridgeProc {
	t.Helper()
	b, serving := launchBridge(t, cfgPath)
	select {
	case <-serving:
		return b
	case <-time.After(30 * time.Second):
		b.kill()
		t.Fatalf("bridge did not start:\n%s", b.log.String())
	}
	return nil
}

// launchBridge starts a scimbridge serve child process; serving is closed
// once it serves, and then b.base is its SCIM root.
func launchBridge(t *testing.T, cfgPath string) (b *bridgeProc, serving <-chan struct{}) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "serve", "--config", cfgPath)
	cmd.Env = append(os.Environ(), "SCIMBRIDGE_TEST_CHILD=1")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	b = &bridgeProc{cmd: cmd, log: &lineLog{}}
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			b.log.add(sc.Text())
			var line struct {
				Message, Listen string
			}
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Message == "scimbridge serving" && b.base == "" {
				b.base = "http://" + line.Listen + "/scim/v2"
				close(ready)
			}
		}
	}()
	return b, ready
}

// lineLog keeps a child's stderr lines.
type lineLog struct {
	mu    sync.Mutex
	lines []string
}

func (l *lineLog) add(line string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, line)
}

func (l *lineLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

func (b *bridgeProc) kill() {
	_ = b.cmd.Process.Signal(syscall.SIGKILL)
	_ = b.cmd.Wait()
}

// kill -9 of the bridge in the middle of a 1,000-user run, with HubSpot
// committing writes and losing the answers, then a restart: HubSpot ends
// up with exactly one user per SCIM user.
// TestCrashRecoveryConverges kills a serving bridge with SIGKILL while
// SCIM creates and deactivations are in flight, against a HubSpot that
// loses answers, fails with 5xx and commits calls after the client gave
// up, and restarts it. HubSpot then equals the desired state exactly: one
// account per active user, no leaver, no duplicate.
func TestCrashRecoveryConverges(t *testing.T) {
	if testing.Short() {
		t.Skip("long: -short")
	}
	sim, err := hubspotsim.Start(hubspotsim.Config{
		Seed:   hubspotsim.DefaultSeed(),
		Limits: hubspotsim.Limits{TenSecondly: 100000, Interval: 10 * time.Second, Daily: 10_000_000},
		Faults: hubspotsim.Faults{Seed: 3, LostAnswerRate: 0.05, ErrorRate: 0.02, Latency: time.Millisecond, LatencyJitter: 3 * time.Millisecond,
			// Calls that commit 3 s after the client (1 s timeout) gave up.
			TimeoutRate: 0.02, TimeoutHold: 4 * time.Second, TimeoutAnswer: true},
	}, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "config.yaml")
	const token = "crash-test-token-0123456789"
	cfg := fmt.Sprintf(`server:
  listen: 127.0.0.1:0
store:
  path: %s
auth:
  tokens:
    - name: crash
      token: %s
      scopes: [scim.read, scim.write, admin]
hubspot:
  base_url: %s
  token: %s
  rate_limit: 100000
  daily_limit: 10000000
  timeout: 1s
provisioning:
  workers: 8
  wait: 50ms
  verify_removal_after: 5s
log:
  format: json
`, filepath.Join(dir, "bridge.db"), token, sim.URL, hubspotsim.DemoToken)
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}

	l := newLifecycleLoad(token, "crash", 1000)
	b := startBridge(t, cfgPath)
	// Kill -9 while requests are in flight.
	go func() {
		for l.count(l.created) < 300 {
			time.Sleep(5 * time.Millisecond)
		}
		b.kill()
	}()
	l.run(b.base)
	_ = b.cmd.Wait()
	t.Logf("killed after %d creates and %d deactivations answered", l.count(l.created), l.count(l.left))

	b = startBridge(t, cfgPath)
	defer b.kill()
	l.run(b.base)
	l.converged(t, sim, b.base)
}

// lifecycleLoad sends SCIM creates for n users, and deactivates every
// tenth as soon as it is created, from 16 clients; run again after a
// failure, it finishes what the last run left (a create answered 409 is
// looked up). converged then waits until HubSpot holds exactly the
// active users.
type lifecycleLoad struct {
	token, prefix string
	n             int
	created, left []atomic.Bool
	mu            sync.Mutex
	ids           []string
}

func newLifecycleLoad(token, prefix string, n int) *lifecycleLoad {
	return &lifecycleLoad{token: token, prefix: prefix, n: n,
		created: make([]atomic.Bool, n), left: make([]atomic.Bool, n), ids: make([]string, n)}
}

func (l *lifecycleLoad) leaver(i int) bool { return i%10 == 0 }

func (l *lifecycleLoad) userName(i int) string { return fmt.Sprintf("%s%04d", l.prefix, i) }

func (l *lifecycleLoad) call(method, url, body string) (int, []byte) {
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+l.token)
	req.Header.Set("Content-Type", "application/scim+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, data
}

// idOf is the id in a create's answer, or, with none, the id found by
// userName.
func (l *lifecycleLoad) idOf(base string, i int, created []byte) string {
	var u struct {
		ID        string `json:"id"`
		Resources []struct {
			ID string `json:"id"`
		}
	}
	if created == nil {
		_, data := l.call("GET", base+"/Users?filter="+url.QueryEscape(fmt.Sprintf(`userName eq "%s"`, l.userName(i))), "")
		_ = json.Unmarshal(data, &u)
		if len(u.Resources) == 1 {
			return u.Resources[0].ID
		}
		return ""
	}
	_ = json.Unmarshal(created, &u)
	return u.ID
}

func (l *lifecycleLoad) post(base string, i int) bool {
	body := fmt.Sprintf(`{"userName":"%s","emails":[{"value":"%s@example.com","type":"work"}]}`, l.userName(i), l.userName(i))
	status, data := l.call("POST", base+"/Users", body)
	var id string
	switch status {
	case http.StatusCreated:
		id = l.idOf(base, i, data)
	case http.StatusConflict:
		id = l.idOf(base, i, nil)
	}
	if id == "" {
		return false
	}
	l.mu.Lock()
	l.ids[i] = id
	l.mu.Unlock()
	return true
}

func (l *lifecycleLoad) deactivate(base string, i int) bool {
	l.mu.Lock()
	id := l.ids[i]
	l.mu.Unlock()
	status, _ := l.call("PATCH", base+"/Users/"+id,
		`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"active","value":false}]}`)
	return status == http.StatusOK
}

// run sends what is not done yet to base, from 16 clients.
func (l *lifecycleLoad) run(base string) {
	var wg sync.WaitGroup
	for w := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < l.n; i += 16 {
				if !l.created[i].Load() && l.post(base, i) {
					l.created[i].Store(true)
				}
				// Leavers go as soon as they are created.
				if l.leaver(i) && l.created[i].Load() && !l.left[i].Load() && l.deactivate(base, i) {
					l.left[i].Store(true)
				}
			}
		}()
	}
	wg.Wait()
}

func (l *lifecycleLoad) count(bs []atomic.Bool) int {
	c := 0
	for i := range bs {
		if bs[i].Load() {
			c++
		}
	}
	return c
}

// converged fails t unless every create and deactivation was answered,
// then waits (up to 2 minutes) until HubSpot holds exactly one account per
// active user and the bridge has no HubSpot work left; a duplicate fails
// at once.
func (l *lifecycleLoad) converged(t *testing.T, sim *hubspotsim.Server, base string) {
	t.Helper()
	if c, lv := l.count(l.created), l.count(l.left); c != l.n || lv != l.n/10 {
		t.Fatalf("%d of %d users created, %d of %d deactivated", c, l.n, lv, l.n/10)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		seen := map[string]int{}
		for _, u := range sim.Sim.State().Users {
			seen[strings.ToLower(u.Email)]++
		}
		leftover, missing, dup := 0, 0, 0
		for i := range l.n {
			email := l.userName(i) + "@example.com"
			want := 1
			if l.leaver(i) {
				want = 0
			}
			switch c := seen[email]; {
			case c > 1:
				dup++
			case c > want:
				leftover++
			case c < want:
				missing++
			}
			delete(seen, email)
		}
		delete(seen, "admin@example.com")
		if dup > 0 {
			t.Fatalf("%d users duplicated in HubSpot", dup)
		}
		// Converged, and stays so past the window in which a late
		// commit could still bring a leaver back.
		counts := queue(base, l.token)
		if missing == 0 && leftover == 0 && len(seen) == 0 && counts != nil && counts["_pending"] == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not converged: %d missing, %d leavers in HubSpot, %d other users; provisioning %v", missing, leftover, len(seen), counts)
		}
		time.Sleep(200 * time.Millisecond)
	}
	var buf bytes.Buffer
	_ = json.NewEncoder(&buf).Encode(sim.Sim.Stats().ByStatus)
	t.Logf("converged; HubSpot answers by status: %s", buf.String())
}

// queue is the bridge's provisioning rows by state; "_pending" counts
// those with HubSpot work left, removals to verify included.
func queue(base, token string) map[string]int {
	req, _ := http.NewRequest("GET", strings.TrimSuffix(base, "/scim/v2")+"/admin/v1/provisioning", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	var st struct {
		Counts map[string]int `json:"counts"`
	}
	if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&st) != nil {
		return nil
	}
	return st.Counts
}
