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
)

// TestMain lets the test binary stand in for scimbridge in a child
// process, so crash tests kill a real process without building one.
func TestMain(m *testing.M) {
	if os.Getenv("SCIMBRIDGE_TEST_CHILD") == "1" {
		os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// bridgeProc is a scimbridge serve child process.
type bridgeProc struct {
	cmd  *exec.Cmd
	base string
}

func startBridge(t *testing.T, cfgPath string) *bridgeProc {
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
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sent := false
		for sc.Scan() {
			var line struct {
				Message, Listen string
			}
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Message == "scimbridge serving" && !sent {
				addr <- line.Listen
				sent = true
			}
		}
	}()
	select {
	case a := <-addr:
		return &bridgeProc{cmd: cmd, base: "http://" + a + "/scim/v2"}
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("bridge did not start")
	}
	return nil
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

	// Every tenth user leaves, so leavers go before and after the kill.
	const n, leavers = 1000, 100
	leaver := func(i int) bool { return i%10 == 0 }
	var (
		created = make([]atomic.Bool, n)
		left    = make([]atomic.Bool, n)
		idMu    sync.Mutex
		ids     = make([]string, n)
	)
	call := func(method, url, body string) (int, []byte) {
		req, _ := http.NewRequest(method, url, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/scim+json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, nil
		}
		defer resp.Body.Close()
		data, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, data
	}
	idOf := func(base string, i int, created []byte) string {
		var u struct {
			ID        string `json:"id"`
			Resources []struct {
				ID string `json:"id"`
			}
		}
		if created == nil {
			_, data := call("GET", base+"/Users?filter="+url.QueryEscape(fmt.Sprintf(`userName eq "crash%04d"`, i)), "")
			_ = json.Unmarshal(data, &u)
			if len(u.Resources) == 1 {
				return u.Resources[0].ID
			}
			return ""
		}
		_ = json.Unmarshal(created, &u)
		return u.ID
	}
	post := func(base string, i int) bool {
		body := fmt.Sprintf(`{"userName":"crash%04d","emails":[{"value":"crash%04d@example.com","type":"work"}]}`, i, i)
		status, data := call("POST", base+"/Users", body)
		var id string
		switch status {
		case http.StatusCreated:
			id = idOf(base, i, data)
		case http.StatusConflict:
			id = idOf(base, i, nil)
		}
		if id == "" {
			return false
		}
		idMu.Lock()
		ids[i] = id
		idMu.Unlock()
		return true
	}
	deactivate := func(base string, i int) bool {
		idMu.Lock()
		id := ids[i]
		idMu.Unlock()
		status, _ := call("PATCH", base+"/Users/"+id,
			`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"active","value":false}]}`)
		return status == http.StatusOK
	}
	load := func(base string) {
		var wg sync.WaitGroup
		for w := range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := w; i < n; i += 16 {
					if !created[i].Load() && post(base, i) {
						created[i].Store(true)
					}
					// Leavers go as soon as they are created.
					if leaver(i) && created[i].Load() && !left[i].Load() && deactivate(base, i) {
						left[i].Store(true)
					}
				}
			}()
		}
		wg.Wait()
	}
	count := func(bs []atomic.Bool) int {
		c := 0
		for i := range bs {
			if bs[i].Load() {
				c++
			}
		}
		return c
	}

	b := startBridge(t, cfgPath)
	// Kill -9 while requests are in flight.
	go func() {
		for count(created) < 300 {
			time.Sleep(5 * time.Millisecond)
		}
		b.kill()
	}()
	load(b.base)
	_ = b.cmd.Wait()
	t.Logf("killed after %d creates and %d deactivations answered", count(created), count(left))

	b = startBridge(t, cfgPath)
	defer b.kill()
	load(b.base)
	if c, l := count(created), count(left); c != n || l != leavers {
		t.Fatalf("%d of %d users created, %d of %d deactivated", c, n, l, leavers)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		seen := map[string]int{}
		for _, u := range sim.Sim.State().Users {
			seen[strings.ToLower(u.Email)]++
		}
		leftover, missing, dup := 0, 0, 0
		for i := range n {
			email := fmt.Sprintf("crash%04d@example.com", i)
			want := 1
			if leaver(i) {
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
		counts := queue(b.base, token)
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
