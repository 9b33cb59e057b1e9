package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// listResponse is what the paging scenarios read of a ListResponse.
type listResponse struct {
	TotalResults int
	ItemsPerPage int
	StartIndex   int
	Resources    []struct{ ID string }
}

func (c *client) page(ctx context.Context, start int) (*listResponse, time.Duration, error) {
	t0 := time.Now()
	status, body, err := c.do(ctx, "GET", fmt.Sprintf("/Users?startIndex=%d&count=%d", start, c.o.pageCount), nil)
	d := time.Since(t0)
	if err != nil {
		return nil, d, fmt.Errorf("page at %d: %w", start, err)
	}
	if status != http.StatusOK {
		return nil, d, fmt.Errorf("page at %d: %d %.200s", start, status, body)
	}
	var lr listResponse
	if err := json.Unmarshal(body, &lr); err != nil {
		return nil, d, fmt.Errorf("page at %d: %w", start, err)
	}
	if lr.StartIndex != start || lr.ItemsPerPage != len(lr.Resources) {
		return nil, d, fmt.Errorf("page at %d: startIndex %d, itemsPerPage %d for %d resources", start, lr.StartIndex, lr.ItemsPerPage, len(lr.Resources))
	}
	return &lr, d, nil
}

// pageAll reads every user with startIndex/count, as an IdP import does:
// --concurrency clients, each taking the next startIndex from a shared
// counter (one client reads the pages in order), and checks that every
// user was seen exactly once and that totalResults agrees.
func (c *client) pageAll(ctx context.Context, out io.Writer) error {
	count := max(c.o.pageCount, 1)
	var (
		next  atomic.Int64 // the next startIndex - 1
		total atomic.Int64 // totalResults, -1 until a page said
		mu    sync.Mutex
		seen  = map[string]int{}
		lat   []time.Duration
		first error
		wg    sync.WaitGroup
	)
	total.Store(-1)
	fail := func(err error) {
		mu.Lock()
		if first == nil {
			first = err
		}
		mu.Unlock()
	}
	start := time.Now()
	for range max(c.o.concurrency, 1) {
		wg.Go(func() {
			for ctx.Err() == nil {
				idx := int(next.Add(int64(count))) - count + 1
				if t := total.Load(); t >= 0 && int64(idx) > t {
					return
				}
				lr, d, err := c.page(ctx, idx)
				if err != nil {
					fail(err)
					return
				}
				if old := total.Swap(int64(lr.TotalResults)); old >= 0 && old != int64(lr.TotalResults) {
					fail(fmt.Errorf("page at %d: totalResults %d, an earlier page said %d", idx, lr.TotalResults, old))
					return
				}
				if want := min(count, max(lr.TotalResults-idx+1, 0)); len(lr.Resources) != want {
					fail(fmt.Errorf("page at %d: %d resources, want %d of totalResults %d", idx, len(lr.Resources), want, lr.TotalResults))
					return
				}
				mu.Lock()
				lat = append(lat, d)
				for _, r := range lr.Resources {
					seen[r.ID]++
				}
				mu.Unlock()
				if len(lr.Resources) == 0 {
					return
				}
			}
		})
	}
	wg.Wait()
	el := time.Since(start)
	if first != nil {
		return first
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	slices.Sort(lat)
	fmt.Fprintf(out, "paged %d users (%d requests of count=%d, %d clients) in %s; totalResults %d; per page p50 %s p95 %s p99 %s max %s\n",
		len(seen), len(lat), count, max(c.o.concurrency, 1), el.Round(time.Millisecond), total.Load(),
		pct(lat, 0.50), pct(lat, 0.95), pct(lat, 0.99), pct(lat, 1))
	var dup []error
	for id, n := range seen {
		if n != 1 {
			dup = append(dup, fmt.Errorf("user %s returned %d times", id, n))
		}
	}
	if len(dup) > 0 {
		return errors.Join(dup[:min(len(dup), 5)]...)
	}
	if int64(len(seen)) != total.Load() {
		return fmt.Errorf("saw %d distinct users, totalResults %d", len(seen), total.Load())
	}
	return nil
}

// pageAt times single pages at --start-index, one request after another:
// the first shows a page nobody asked for before, the rest the same page
// again.
func (c *client) pageAt(ctx context.Context, out io.Writer) error {
	var lat []time.Duration
	var lr *listResponse
	for range max(c.o.repeat, 1) {
		var d time.Duration
		var err error
		if lr, d, err = c.page(ctx, c.o.startIndex); err != nil {
			return err
		}
		lat = append(lat, d)
	}
	firstD := lat[0]
	slices.Sort(lat)
	fmt.Fprintf(out, "page at startIndex %d (count=%d, %d resources, totalResults %d): first %s, then over %d requests p50 %s max %s\n",
		c.o.startIndex, c.o.pageCount, len(lr.Resources), lr.TotalResults, firstD, len(lat), pct(lat, 0.5), pct(lat, 1))
	return nil
}

// pct is the p-th quantile of sorted durations.
func pct(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(len(sorted)-1, int(float64(len(sorted))*p))]
}
