package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
)

// listServer answers GET /Users?startIndex&count over n users; with dup,
// each page after the first starts with the last user of the page before
// instead of its own first one.
func listServer(t *testing.T, n int, dup bool) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start, _ := strconv.Atoi(r.URL.Query().Get("startIndex"))
		count, _ := strconv.Atoi(r.URL.Query().Get("count"))
		from := start - 1
		var res []map[string]string
		for i := max(from, 0); i < min(from+count, n); i++ {
			res = append(res, map[string]string{"id": fmt.Sprint("u", i)})
		}
		if dup && from > 0 && len(res) > 0 {
			res[0]["id"] = fmt.Sprint("u", from-1)
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"totalResults": n, "itemsPerPage": len(res), "startIndex": start, "Resources": res})
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestPageAll(t *testing.T) {
	for _, conc := range []int{1, 8} {
		var out bytes.Buffer
		srv := listServer(t, 1234, false)
		err := run(context.Background(), []string{"run", "--url", srv.URL, "--token", "t", "--scenario", "page-all",
			"--count", "100", "--concurrency", strconv.Itoa(conc)}, &out)
		if err != nil {
			t.Fatal(err)
		}
		want := fmt.Sprintf("paged 1234 users (13 requests of count=100, %d clients)", conc)
		if !strings.HasPrefix(out.String(), want) {
			t.Errorf("%q, want it to start %q", out.String(), want)
		}
	}
	// A server that repeats a user on each page is caught.
	srv := listServer(t, 1234, true)
	err := run(context.Background(), []string{"run", "--url", srv.URL, "--token", "t", "--scenario", "page-all", "--concurrency", "8"}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "returned 2 times") {
		t.Errorf("overlapping pages: %v", err)
	}
}

func TestPageAt(t *testing.T) {
	var out bytes.Buffer
	srv := listServer(t, 1234, false)
	err := run(context.Background(), []string{"run", "--url", srv.URL, "--token", "t", "--scenario", "page-at",
		"--start-index", "1200", "--repeat", "3"}, &out)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "page at startIndex 1200 (count=100, 35 resources, totalResults 1234): first ") {
		t.Errorf("%q", out.String())
	}
}
