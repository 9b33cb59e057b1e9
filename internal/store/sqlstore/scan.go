// Package sqlstore holds what the SQL store drivers (sqlite, postgres)
// share beyond the filter compiler (sqlfilter): the read-ahead of full
// scans and the loading of the embedded schema migrations.
package sqlstore

import "context"

// ScanPages calls fn for every item of the pages next returns, in order.
// next(after) reads the page of items after seq after, and returns the seq
// of its last item and whether more pages may follow. next runs in its own
// goroutine, one page ahead of fn; ScanPages returns once it has stopped.
// fn's error and the context's come back unchanged.
func ScanPages[T any](ctx context.Context, next func(after int64) (page []T, last int64, more bool, err error),
	fn func(T) error,
) error {
	type result struct {
		page []T
		err  error
	}
	results := make(chan result, 1)
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		defer close(results)
		var after int64
		for {
			var r result
			var more bool
			if r.err = ctx.Err(); r.err == nil {
				after0 := after
				r.page, after, more, r.err = next(after0)
			}
			select {
			case results <- r:
			case <-stop:
				return
			}
			if r.err != nil || !more {
				return
			}
		}
	}()
	defer func() {
		close(stop)
		<-done
	}()
	for r := range results {
		if r.err != nil {
			return r.err
		}
		for i, it := range r.page {
			if err := ctx.Err(); err != nil {
				return err
			}
			var zero T
			r.page[i] = zero // fn's to keep, not the page's
			if err := fn(it); err != nil {
				return err
			}
		}
	}
	return nil
}
