package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
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
func TestCrashRecoveryConverges(t *testing.T) {
	if testing.Short() {
		t.Skip("long: -short")
	}
	sim, err := hubspotsim.Start(hubspotsim.Config{
		Seed:   hubspotsim.DefaultSeed(),
		Limits: hubspotsim.Limits{TenSecondly: 100000, Interval: 10 * time.Second, Daily: 10_000_000},
		Faults: hubspotsim.Faults{Seed: 3, LostAnswerRate: 0.05, ErrorRate: 0.02, Latency: time.Millisecond, LatencyJitter: 3 * time.Millisecond},
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
hubspot:
  base_url: %s
  token: %s
  rate_limit: 100000
  daily_limit: 10000000
provisioning:
  workers: 8
  wait: 50ms
log:
  format: json
`, filepath.Join(dir, "bridge.db"), token, sim.URL, hubspotsim.DemoToken)
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}

	const n = 1000
	created := make([]atomic.Bool, n)
	post := func(base string, i int) bool {
		body := fmt.Sprintf(`{"userName":"crash%04d","emails":[{"value":"crash%04d@example.com","type":"work"}]}`, i, i)
		req, _ := http.NewRequest("POST", base+"/Users", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/scim+json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		_, _ = io.Copy(io.Discard, resp.Body)
		return resp.StatusCode == http.StatusCreated || resp.StatusCode == http.StatusConflict
	}
	load := func(base string, stopAfter int64) {
		var done atomic.Int64
		var wg sync.WaitGroup
		for w := range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := w; i < n; i += 16 {
					if stopAfter > 0 && done.Load() >= stopAfter {
						return
					}
					if !created[i].Load() && post(base, i) {
						created[i].Store(true)
						done.Add(1)
					}
				}
			}()
		}
		wg.Wait()
	}

	b := startBridge(t, cfgPath)
	// Kill -9 while requests are in flight.
	go func() {
		for {
			c := 0
			for i := range created {
				if created[i].Load() {
					c++
				}
			}
			if c >= 300 {
				b.kill()
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	load(b.base, 0)
	_ = b.cmd.Wait()

	b = startBridge(t, cfgPath)
	defer b.kill()
	load(b.base, 0)
	for i := range created {
		if !created[i].Load() {
			t.Fatalf("user %d never created", i)
		}
	}
	deadline := time.Now().Add(90 * time.Second)
	for {
		count := map[string]int{}
		for _, u := range sim.Sim.State().Users {
			count[strings.ToLower(u.Email)]++
		}
		missing, dup := 0, 0
		for i := range n {
			switch c := count[fmt.Sprintf("crash%04d@example.com", i)]; {
			case c == 0:
				missing++
			case c > 1:
				dup++
			}
		}
		if dup > 0 {
			t.Fatalf("%d users duplicated in HubSpot", dup)
		}
		if missing == 0 && len(count) == n+1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not converged: %d missing, %d HubSpot users", missing, len(count))
		}
		time.Sleep(200 * time.Millisecond)
	}
	var buf bytes.Buffer
	_ = json.NewEncoder(&buf).Encode(sim.Sim.Stats().ByStatus)
	t.Logf("converged; HubSpot answers by status: %s", buf.String())
}
