package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/hubspot/hubspotsim"
)

// demo is `scimbridge demo` running in-process on a loopback port chosen by
// the kernel, as a user would start it.
type demo struct {
	scim, token, config, hubspot, directory string
	stderr, stdout                          *lockedBuffer
	cancel                                  context.CancelFunc
	exited                                  chan struct{} // closed when run returns
	code                                    int
}

type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func startDemo(t *testing.T, extraArgs ...string) *demo {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	d := &demo{stderr: &lockedBuffer{}, stdout: &lockedBuffer{}, cancel: cancel, exited: make(chan struct{})}
	args := append([]string{"demo", "--listen", "127.0.0.1:0", "--hubspot-listen", "127.0.0.1:0", "--ldap-listen", "127.0.0.1:0", "--data", filepath.Join(t.TempDir(), "demo")}, extraArgs...)
	go func() {
		d.code = run(ctx, args, pw, d.stderr)
		close(d.exited)
		pw.Close()
	}()
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			d.stdout.Write([]byte(sc.Text() + "\n"))
			lines <- sc.Text()
		}
		close(lines)
	}()
	deadline := time.After(20 * time.Second)
	for d.scim == "" || d.token == "" || d.config == "" || d.hubspot == "" || d.directory == "" {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatalf("demo exited before printing its address; stderr:\n%s", d.stderr)
			}
			for prefix, dst := range map[string]*string{"scim: ": &d.scim, "token: ": &d.token, "config: ": &d.config, "hubspot: ": &d.hubspot, "directory: ": &d.directory} {
				if v, ok := strings.CutPrefix(line, prefix); ok {
					*dst = v
				}
			}
		case <-deadline:
			t.Fatalf("demo did not start; stderr:\n%s", d.stderr)
		}
	}
	go func() {
		for range lines {
		}
	}()
	t.Cleanup(d.stop)
	return d
}

// startServe runs `scimbridge serve` in-process on a free loopback port
// with a minimal configuration plus extra YAML, and a known token.
func startServe(t *testing.T, extra string) *demo { return startServeWith(t, "", "", extra) }

// startServeWith adds serverExtra and authExtra (indented lines) to the
// server and auth sections, and extra at the end.
func startServeWith(t *testing.T, serverExtra, authExtra, extra string) *demo {
	t.Helper()
	dir := t.TempDir()
	const token = "serve-token-for-tests-0123"
	cfg := fmt.Sprintf("server:\n  listen: 127.0.0.1:0\n"+serverExtra+"store:\n  path: %s\nauth:\n  tokens:\n    - name: test\n      token: %s\n      scopes: [scim.read, scim.write, admin]\n"+authExtra+"log:\n  format: json\n%s",
		filepath.Join(dir, "bridge.db"), token, extra)
	path := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	d := &demo{token: token, config: path, stderr: &lockedBuffer{}, stdout: &lockedBuffer{}, cancel: cancel, exited: make(chan struct{})}
	go func() {
		d.code = run(ctx, []string{"serve", "--config", path}, io.Discard, d.stderr)
		close(d.exited)
	}()
	t.Cleanup(d.stop)
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		for _, line := range strings.Split(d.stderr.String(), "\n") {
			var l struct{ Message, Listen string }
			if json.Unmarshal([]byte(line), &l) == nil && l.Message == "scimbridge serving" {
				d.scim = "http://" + l.Listen + "/scim/v2"
				return d
			}
		}
		select {
		case <-d.exited:
			t.Fatalf("serve exited %d:\n%s", d.code, d.stderr)
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Fatalf("serve did not start:\n%s", d.stderr)
	return nil
}

func (d *demo) stop() {
	d.cancel()
	select {
	case <-d.exited:
	case <-time.After(30 * time.Second):
	}
}

func (d *demo) request(t *testing.T, method, path, body string) (int, map[string]any) {
	t.Helper()
	url := d.scim + path // a SCIM path, or an absolute URL (the admin API)
	if strings.HasPrefix(path, "http") {
		url = path
	}
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+d.token)
	req.Header.Set("Content-Type", "application/scim+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m
}

// waitProvisioned waits until the demo has no HubSpot work queued.
func (d *demo) waitProvisioned(t *testing.T) {
	t.Helper()
	// Generous: on a loaded machine the rate limit is not what takes time.
	waitForWithin(t, 90*time.Second, "the demo's HubSpot queue drained", func() error {
		status, m := d.request(t, "GET", strings.TrimSuffix(d.scim, "/scim/v2")+"/admin/v1/provisioning", "")
		counts, _ := m["counts"].(map[string]any)
		if status != 200 || counts == nil || counts["_pending"] != float64(0) || counts["synced"] == nil {
			return fmt.Errorf("provisioning: %d %v", status, m)
		}
		return nil
	})
}

// hubspotUser reads a user from the demo's HubSpot simulator.
func (d *demo) hubspotUser(t *testing.T, email string) map[string]any {
	t.Helper()
	resp, err := http.Get(d.hubspot + "/_sim/state")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var state struct{ Users []map[string]any }
	if err := json.NewDecoder(resp.Body).Decode(&state); err != nil {
		t.Fatal(err)
	}
	for _, u := range state.Users {
		if strings.EqualFold(fmt.Sprint(u["email"]), email) {
			return u
		}
	}
	return nil
}

// hubspotCount counts the users of the demo's HubSpot simulator.
func (d *demo) hubspotCount(t *testing.T) int {
	t.Helper()
	resp, err := http.Get(d.hubspot + "/_sim/state")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var state struct{ Users []map[string]any }
	if err := json.NewDecoder(resp.Body).Decode(&state); err != nil {
		t.Fatal(err)
	}
	return len(state.Users)
}

func TestDemoEndToEnd(t *testing.T) {
	t.Setenv("SCIMBRIDGE_DEMO_TOKEN", "demo-token-for-tests-0123")
	d := startDemo(t)
	if d.token != "demo-token-for-tests-0123" {
		t.Fatalf("token line %q ignores SCIMBRIDGE_DEMO_TOKEN", d.token)
	}
	// The sample directory's 42 people go to HubSpot first, at the
	// simulator's 100 requests per 10 s; the answers below wait for
	// HubSpot only up to provisioning.wait, so let that queue drain.
	d.waitProvisioned(t)
	status, m := d.request(t, "POST", "/Users", `{"userName":"jane@example.com","name":{"givenName":"Jane","familyName":"Doe"},"emails":[{"value":"jane@example.com","type":"work"}]}`)
	if status != 201 {
		t.Fatalf("create: %d %v", status, m)
	}
	id := m["id"].(string)
	// The directory owns the group "EMEA Sales"; an IdP pushes its own,
	// which the demo maps to the same team.
	if status, m := d.request(t, "POST", "/Groups", `{"displayName":"EMEA Sales"}`); status != 409 || m["scimType"] != "uniqueness" {
		t.Fatalf("pushing the directory's group: %d %v", status, m)
	}
	status, m = d.request(t, "POST", "/Groups", fmt.Sprintf(`{"displayName":"Okta EMEA Sales","members":[{"value":%q}]}`, id))
	if status != 201 {
		t.Fatalf("group: %d %v", status, m)
	}
	// The joiner is in HubSpot with the demo's default role and the team
	// the group maps to.
	h := d.hubspotUser(t, "jane@example.com")
	if h == nil || h["roleId"] != "3000002" || h["primaryTeamId"] != "5000001" {
		t.Fatalf("HubSpot user after joining Okta EMEA Sales: %v", h)
	}
	// Entra changes an email with a value-filtered path. HubSpot cannot
	// change a user's email: by default (email_change keep) the change is
	// stored and answered 200, the HubSpot user stays linked by id, and the
	// difference shows until an admin recreates the account.
	status, m = d.request(t, "PATCH", "/Users/"+id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"emails[type eq \"work\"].value","value":"jane.doe@example.com"}]}`)
	ext, _ := m["urn:scimbridge:params:scim:schemas:extension:hubspot:2.0:User"].(map[string]any)
	if status != 200 || ext["hubspotEmail"] != "jane@example.com" || ext["provisioningState"] != "synced" || ext["hubspotUserId"] != h["id"] {
		t.Fatalf("Entra email change: %d %v", status, m)
	}
	admin := strings.TrimSuffix(d.scim, "/scim/v2") + "/admin/v1/provisioning"
	if status, m := d.request(t, "GET", admin, ""); status != 200 || m["emailDiffers"] != float64(1) {
		t.Fatalf("provisioning status after the email change: %d %v", status, m)
	}
	if status, m := d.request(t, "POST", admin+"/"+id+"/recreate", ""); status != 200 || m["email"] != "jane.doe@example.com" || m["replacedEmail"] != "jane@example.com" {
		t.Fatalf("recreate: %d %v", status, m)
	}
	if d.hubspotUser(t, "jane@example.com") != nil || d.hubspotUser(t, "jane.doe@example.com") == nil {
		t.Fatal("recreate did not move the HubSpot user to the new address")
	}
	status, m = d.request(t, "PATCH", "/Users/"+id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"active","value":false}]}`)
	if status != 200 || m["active"] != false {
		t.Fatalf("patch: %d %v", status, m)
	}
	ext, _ = m["urn:scimbridge:params:scim:schemas:extension:hubspot:2.0:User"].(map[string]any)
	if ext["provisioningState"] != "removed" || d.hubspotUser(t, "jane.doe@example.com") != nil {
		t.Fatalf("leaver still in HubSpot: %v", ext)
	}
	// An admin makes the leaver an account again by hand: a dry-run
	// sweep lists it, a sweep removes it.
	req, _ := http.NewRequest("POST", d.hubspot+"/settings/users/2026-03", strings.NewReader(`{"email":"jane.doe@example.com","sendWelcomeEmail":false}`))
	req.Header.Set("Authorization", "Bearer "+hubspotsim.DemoToken)
	req.Header.Set("Content-Type", "application/json")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 201 {
		t.Fatalf("creating the leaver by hand: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	sweep := strings.TrimSuffix(d.scim, "/scim/v2") + "/admin/v1/sweep"
	if status, m := d.request(t, "POST", sweep+"?dryRun=yes", ""); status != 400 || m["scimType"] != "invalidValue" {
		t.Fatalf("sweep with dryRun=yes: %d %v", status, m)
	}
	// A row a worker still holds (it has just answered the PATCH) is left
	// to the worker; a dry run changes nothing, so it is asked again.
	waitForWithin(t, 10*time.Second, "the dry-run sweep", func() error {
		status, m := d.request(t, "POST", sweep+"?dryRun=true", "")
		if diffs, _ := m["differences"].(map[string]any); status != 200 || m["outcome"] != "dry_run" || diffs["leaver_present"] != float64(1) {
			return fmt.Errorf("dry-run sweep: %d %v", status, m)
		}
		return nil
	})
	if d.hubspotUser(t, "jane.doe@example.com") == nil {
		t.Fatal("a dry-run sweep removed the leaver")
	}
	if status, m := d.request(t, "POST", sweep, ""); status != 200 || m["outcome"] != "ok" || m["requeued"] != float64(1) {
		t.Fatalf("sweep: %d %v", status, m)
	}
	waitForWithin(t, 30*time.Second, "the sweep's fix", func() error {
		if d.hubspotUser(t, "jane.doe@example.com") != nil {
			return fmt.Errorf("leaver still in HubSpot")
		}
		return nil
	})
	if status, m := d.request(t, "GET", sweep, ""); status != 200 || m["last"] == nil || m["interval"] != "10m0s" {
		t.Fatalf("sweep status: %d %v", status, m)
	}
	status, m = d.request(t, "GET", "/Users/"+id, "")
	groups, _ := m["groups"].([]any)
	if status != 200 || len(groups) != 1 || groups[0].(map[string]any)["display"] != "Okta EMEA Sales" {
		t.Fatalf("user's groups: %d %v", status, m)
	}
	// The effective configuration the demo wrote passes config check and
	// holds no plain token.
	cfg, err := os.ReadFile(d.config)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(cfg), d.token) {
		t.Fatal("effective configuration holds the plain token")
	}
	var out strings.Builder
	if code := run(context.Background(), []string{"config", "check", "--config", d.config}, &out, &out); code != 0 {
		t.Fatalf("config check of the demo's configuration: %d %s", code, out.String())
	}
	if strings.Contains(d.stderr.String(), d.token) {
		t.Fatal("logs contain the token")
	}
	// SIGTERM-like cancellation shuts down cleanly.
	d.cancel()
	select {
	case <-d.exited:
		if d.code != 0 {
			t.Fatalf("demo exited %d; stderr:\n%s", d.code, d.stderr)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("demo did not shut down")
	}
}

func TestConfigCheckReportsEveryProblem(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(path, []byte(`server:
  listen: "nonsense"
  public_url: "ftp://x"
store:
  driver: mysql
auth:
  tokens:
    - name: a
      token: short
      scopes: [superuser]
log:
  level: chatty
`), 0o600)
	var out strings.Builder
	code := run(context.Background(), []string{"config", "check", "--config", path}, &out, &out)
	if code == 0 {
		t.Fatal("config check accepted a broken configuration")
	}
	for _, want := range []string{"server.listen", "server.public_url", "store.driver", "at least 16 characters", `unknown scope "superuser"`, "log.level", "6 problem(s)"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("config check output lacks %q:\n%s", want, out.String())
		}
	}
	// Unknown keys are refused, naming the key.
	os.WriteFile(path, []byte("server:\n  lisen: 1\n"), 0o600)
	out.Reset()
	if code := run(context.Background(), []string{"config", "check", "--config", path}, &out, &out); code == 0 || !strings.Contains(out.String(), "lisen") {
		t.Fatalf("unknown key: %d %s", code, out.String())
	}
	// Environment overrides and _FILE secrets.
	secret := filepath.Join(t.TempDir(), "token")
	os.WriteFile(secret, []byte("a-token-from-a-file-0123\n"), 0o600)
	os.WriteFile(path, []byte("auth:\n  tokens:\n    - name: okta\n"), 0o600)
	t.Setenv("SCIMBRIDGE_AUTH_TOKENS_0_TOKEN_FILE", secret)
	t.Setenv("SCIMBRIDGE_SERVER_LISTEN", "127.0.0.1:9999")
	out.Reset()
	if code := run(context.Background(), []string{"config", "check", "--config", path}, &out, &out); code != 0 {
		t.Fatalf("env overrides: %d %s", code, out.String())
	}
}
