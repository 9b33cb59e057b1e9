package contract

import (
	"sync"
	"testing"
)

// TestReporter reports contract violations as errors of tb until tb's
// cleanup, then drops them: a server goroutine can outlive its test (an
// abandoned held request), and tb.Error after the test has ended panics.
// Call it before starting anything whose cleanup must run first (a
// server: its Close then runs before the reporter stops).
func TestReporter(tb testing.TB) func(error) {
	var mu sync.Mutex
	done := false
	tb.Cleanup(func() {
		mu.Lock()
		done = true
		mu.Unlock()
	})
	return func(err error) {
		mu.Lock()
		defer mu.Unlock()
		if !done {
			tb.Error(err)
		}
	}
}
