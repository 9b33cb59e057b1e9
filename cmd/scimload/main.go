// Command scimload creates a SCIM dataset on a running scimbridge and
// measures it over HTTP: requests per second and latency percentiles for
// the queries IdPs live on, durable creates, and paging through everything.
// docs/benchmarks.md has the commands and the figures.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "scimload:", err)
		os.Exit(1)
	}
}

type options struct {
	url, token    string
	users, groups int
	concurrency   int
	duration      time.Duration
	scenario      string
	pageCount     int
	startIndex    int
	repeat        int
	serverPID     int
	prefix        string
	groupMembers  int
	hubspot       string
}

func run(ctx context.Context, args []string, out io.Writer) error {
	if len(args) > 0 && args[0] == "ldif" { // OTDS-shaped LDIF for LDAP benchmarks (ldif.go)
		return runLDIF(args[1:], out)
	}
	if len(args) > 0 && args[0] == "seed-db" { // the seed dataset written into a stopped bridge's database (seeddb.go)
		return runSeedDB(ctx, args[1:], out)
	}
	if len(args) == 0 || (args[0] != "seed" && args[0] != "run") {
		return errors.New(`usage: scimload seed|run --url URL --token TOKEN [flags]
  seed: --users N --groups N --group-members N
  run:  --scenario get-username|get-email|post-user|page-random --duration D --concurrency N
        --scenario page-all --count N --concurrency N
        --scenario page-at --start-index N --repeat N
usage: scimload seed-db --db FILE --users N --groups N --group-members N
usage: scimload ldif --users N --groups N`)
	}
	var o options
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	fs.StringVar(&o.url, "url", "http://127.0.0.1:8080/scim/v2", "SCIM base URL")
	fs.StringVar(&o.token, "token", os.Getenv("SCIMLOAD_TOKEN"), "bearer token (or SCIMLOAD_TOKEN)")
	fs.IntVar(&o.users, "users", 100000, "users to create (seed) or pick from (run)")
	fs.IntVar(&o.groups, "groups", 1000, "groups to create (seed)")
	fs.IntVar(&o.groupMembers, "group-members", 100, "members per group (seed)")
	fs.IntVar(&o.concurrency, "concurrency", 16, "parallel connections")
	fs.DurationVar(&o.duration, "duration", 20*time.Second, "how long to run a scenario")
	fs.StringVar(&o.scenario, "scenario", "get-username", "get-username, get-email, post-user, page-all, page-at or page-random")
	fs.IntVar(&o.pageCount, "count", 100, "page size for page-all, page-at and page-random")
	fs.IntVar(&o.startIndex, "start-index", 1, "startIndex for page-at")
	fs.IntVar(&o.repeat, "repeat", 10, "requests page-at makes")
	fs.IntVar(&o.serverPID, "server-pid", 0, "report this process's resident memory after the run")
	fs.StringVar(&o.prefix, "prefix", "user", "userName prefix of the seeded users")
	fs.StringVar(&o.hubspot, "hubspot", "", "HubSpot simulator URL: report its call statistics after the run")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	o.url = strings.TrimRight(o.url, "/")
	c := &client{o: o, http: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: o.concurrency * 2, MaxConnsPerHost: o.concurrency * 2}, Timeout: 30 * time.Second}}
	var err error
	if args[0] == "seed" {
		err = c.seed(ctx, out)
	} else {
		err = c.scenario(ctx, out)
	}
	if err == nil && o.serverPID > 0 {
		reportMemory(out, o.serverPID)
	}
	if err == nil && o.hubspot != "" {
		err = reportHubSpot(out, o.hubspot, o.users)
	}
	return err
}

type client struct {
	o    options
	http *http.Client
}

func (c *client) do(ctx context.Context, method, path string, body any) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return 0, nil, err
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.o.url+path, rd)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.o.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/scim+json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	return resp.StatusCode, data, err
}

func userName(prefix string, i int) string { return fmt.Sprintf("%s%06d@bench.example.com", prefix, i) }

func userBody(prefix string, i int) map[string]any {
	return map[string]any{
		"schemas":     []string{"urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"},
		"userName":    userName(prefix, i),
		"externalId":  fmt.Sprintf("ext-%s-%06d", prefix, i),
		"active":      true,
		"displayName": fmt.Sprintf("Bench User %d", i),
		"name":        map[string]any{"givenName": "Bench", "familyName": fmt.Sprintf("User%d", i)},
		"title":       []string{"Engineer", "Account Executive", "Support Agent", "Marketing Specialist"}[i%4],
		"emails":      []any{map[string]any{"value": userName(prefix, i), "type": "work", "primary": true}},
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": map[string]any{
			"department": []string{"Sales", "Support", "Marketing", "Engineering"}[i%4], "employeeNumber": fmt.Sprint(100000 + i),
		},
	}
}

// parallel runs fn for indexes [0,n) on the configured connections and
// returns the ids fn yields in index order.
func (c *client) parallel(ctx context.Context, n int, fn func(i int) (string, error)) ([]string, error) {
	out := make([]string, n)
	var next atomic.Int64
	var firstErr error
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range c.o.concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n || ctx.Err() != nil {
					return
				}
				id, err := fn(i)
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					return
				}
				out[i] = id
			}
		}()
	}
	wg.Wait()
	return out, errors.Join(firstErr, ctx.Err())
}

func (c *client) seed(ctx context.Context, out io.Writer) error {
	start := time.Now()
	ids, err := c.parallel(ctx, c.o.users, func(i int) (string, error) {
		status, body, err := c.do(ctx, "POST", "/Users", userBody(c.o.prefix, i))
		if err != nil {
			return "", err
		}
		if status == http.StatusConflict {
			return c.lookup(ctx, userName(c.o.prefix, i))
		}
		if status != http.StatusCreated {
			return "", fmt.Errorf("POST /Users: %d %s", status, body)
		}
		var m struct{ ID string }
		err = json.Unmarshal(body, &m)
		return m.ID, err
	})
	if err != nil {
		return err
	}
	el := time.Since(start)
	fmt.Fprintf(out, "seeded %d users in %s (%.0f/s)\n", len(ids), el.Round(time.Millisecond), float64(len(ids))/el.Seconds())
	start = time.Now()
	_, err = c.parallel(ctx, c.o.groups, func(g int) (string, error) {
		members := make([]any, 0, c.o.groupMembers)
		for k := range c.o.groupMembers {
			members = append(members, map[string]any{"value": ids[(g*c.o.groupMembers+k)%len(ids)]})
		}
		status, body, err := c.do(ctx, "POST", "/Groups", map[string]any{
			"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:Group"}, "displayName": fmt.Sprintf("Bench Group %04d", g), "members": members,
		})
		if err != nil {
			return "", err
		}
		if status != http.StatusCreated && status != http.StatusConflict {
			return "", fmt.Errorf("POST /Groups: %d %s", status, body)
		}
		return "", nil
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "seeded %d groups of %d members in %s\n", c.o.groups, c.o.groupMembers, time.Since(start).Round(time.Millisecond))
	return nil
}

func (c *client) lookup(ctx context.Context, name string) (string, error) {
	status, body, err := c.do(ctx, "GET", "/Users?filter=userName+eq+%22"+name+"%22", nil)
	if err != nil || status != 200 {
		return "", fmt.Errorf("lookup %s: %d %v", name, status, err)
	}
	var lr struct{ Resources []struct{ ID string } }
	if err := json.Unmarshal(body, &lr); err != nil || len(lr.Resources) != 1 {
		return "", fmt.Errorf("lookup %s: %s", name, body)
	}
	return lr.Resources[0].ID, nil
}

func (c *client) scenario(ctx context.Context, out io.Writer) error {
	switch c.o.scenario {
	case "page-all":
		return c.pageAll(ctx, out)
	case "page-at":
		return c.pageAt(ctx, out)
	}
	var seq atomic.Int64
	runID := time.Now().UnixNano() % 1_000_000
	var req func(r *rand.Rand) (string, string, any, int)
	switch c.o.scenario {
	case "get-username":
		req = func(r *rand.Rand) (string, string, any, int) {
			return "GET", "/Users?filter=userName+eq+%22" + userName(c.o.prefix, r.IntN(c.o.users)) + "%22", nil, 200
		}
	case "get-email":
		req = func(r *rand.Rand) (string, string, any, int) {
			return "GET", "/Users?filter=emails%5Btype+eq+%22work%22%5D.value+eq+%22" + userName(c.o.prefix, r.IntN(c.o.users)) + "%22", nil, 200
		}
	case "page-random":
		req = func(r *rand.Rand) (string, string, any, int) {
			return "GET", fmt.Sprintf("/Users?startIndex=%d&count=%d", 1+r.IntN(c.o.users), c.o.pageCount), nil, 200
		}
	case "post-user":
		req = func(*rand.Rand) (string, string, any, int) {
			return "POST", "/Users", userBody(fmt.Sprintf("load%d-", runID), int(seq.Add(1))), 201
		}
	default:
		return fmt.Errorf("unknown scenario %q", c.o.scenario)
	}
	ctx, cancel := context.WithTimeout(ctx, c.o.duration)
	defer cancel()
	lat := make([][]time.Duration, c.o.concurrency)
	var errs atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	start := time.Now()
	for w := range c.o.concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), uint64(start.UnixNano())))
			for ctx.Err() == nil {
				method, path, body, want := req(r)
				t0 := time.Now()
				status, data, err := c.do(context.Background(), method, path, body)
				d := time.Since(t0)
				if err != nil || status != want {
					errs.Add(1)
					firstErr.CompareAndSwap(nil, fmt.Sprintf("%s %s: %d %v %.200s", method, path, status, err, data))
					continue
				}
				lat[w] = append(lat[w], d)
			}
		}()
	}
	wg.Wait()
	el := time.Since(start)
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	slices.Sort(all)
	pct := func(p float64) time.Duration {
		if len(all) == 0 {
			return 0
		}
		return all[min(len(all)-1, int(float64(len(all))*p))]
	}
	fmt.Fprintf(out, "scenario %s: %d requests in %s with %d connections: %.0f req/s; latency p50 %s p90 %s p99 %s max %s; errors %d\n",
		c.o.scenario, len(all), el.Round(time.Millisecond), c.o.concurrency, float64(len(all))/el.Seconds(),
		pct(0.50), pct(0.90), pct(0.99), pct(1), errs.Load())
	if v := firstErr.Load(); v != nil {
		fmt.Fprintf(out, "first error: %s\n", v)
	}
	return nil
}

func reportMemory(out io.Writer, pid int) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		fmt.Fprintf(out, "server memory: %v\n", err)
		return
	}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "VmRSS:") || strings.HasPrefix(line, "VmHWM:") {
			fmt.Fprintf(out, "server %s\n", strings.Join(strings.Fields(line), " "))
		}
	}
}

// reportHubSpot summarises the HubSpot simulator's statistics: calls per
// created user, the call rate while work was queued, and 429 answers.
func reportHubSpot(out io.Writer, url string, users int) error {
	resp, err := http.Get(strings.TrimRight(url, "/") + "/_sim/stats")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var st struct {
		Total       int64
		RateLimited int64
		ByStatus    map[string]int64
		PerSecond   []struct {
			At    time.Time
			Count int64
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		return err
	}
	// The busy seconds are those between the first and last second with
	// calls; the first and last are partial, so they are left out.
	var busy []int64
	if n := len(st.PerSecond); n > 2 {
		first, last := st.PerSecond[0].At, st.PerSecond[n-1].At
		byS := map[time.Time]int64{}
		for _, s := range st.PerSecond {
			byS[s.At] = s.Count
		}
		for t := first.Add(time.Second); t.Before(last); t = t.Add(time.Second) {
			busy = append(busy, byS[t])
		}
	}
	var sum int64
	for _, c := range busy {
		sum += c
	}
	rate := 0.0
	if len(busy) > 0 {
		rate = float64(sum) / float64(len(busy))
	}
	fmt.Fprintf(out, "hubspot: %d calls for %d users (%.3f per user), %d answered 429 (%.2f%%), %.1f calls/s over %d busy seconds; by status %v\n",
		st.Total, users, float64(st.Total)/float64(max(users, 1)), st.RateLimited, 100*float64(st.RateLimited)/float64(max(st.Total, 1)),
		rate, len(busy), st.ByStatus)
	return nil
}
