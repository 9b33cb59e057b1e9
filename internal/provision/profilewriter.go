package provision

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/scimbridge/scimbridge/hubspot"
	"github.com/scimbridge/scimbridge/internal/store"
)

// The profile writer puts users' profile attributes on their CRM
// users-object records, many users at a time.
//
// HubSpot makes a user's CRM record itself, some time after the Settings
// user (live: within a bounded wait of seconds), and finds it only by
// searching the link property; search lags writes and has a limit of its
// own, 4 requests per second per token. So a worker that has put a user's
// Settings record in place hands the profile part here and the user stays
// in flight; the writer
//   - looks records up for up to 100 users with one search (IN filter),
//     remembering each record id it finds (record ids do not change),
//   - reads the records' current values with one batch read per 100
//     (batch reads show writes at once, where search lags),
//   - sends each record only the properties that differ, in one batch
//     update per 100 records (record by record when HubSpot refuses a
//     batch, to find whose the refusal is),
//   - tries a record not made yet again with backoff, and past
//     profileGiveUp shows the user as deferred instead of keeping it,
//   - records each user's outcome and releases it.
//
// Lookups wait to fill a batch while users arrive quickly (a bulk load:
// about as long as 100 take to arrive, at most 30 s), and go at once when
// they trickle in (an IdP's single change), so a bulk load costs about
// one search per 100 users and a single change little latency. Nothing here is the source of truth: a crash leaves the
// rows due, and the workers hand the users over again.

const (
	// profileNewRecordWait delays the first lookup for a user created
	// moments ago: HubSpot makes their CRM record later, and search shows
	// it later still.
	profileNewRecordWait = 5 * time.Second
	// Due lookups wait for company: profileLingerQuiet while few users
	// arrive (fewer than profileBusyArrivals in profileArrivalWindow),
	// else about as long as a batch of CRMUserBatchSize takes to arrive at
	// the recent rate, at most profileLingerMax.
	profileLingerQuiet   = 300 * time.Millisecond
	profileLingerMax     = 30 * time.Second
	profileBusyArrivals  = 10
	profileArrivalWindow = 10 * time.Second
	// profileArrivalGap ends a linger early: no lookup has arrived for
	// that long, so the burst is over and waiting fills nothing.
	profileArrivalGap = 3 * time.Second
	// profileMissBackoffMax caps the wait between lookups of a record
	// HubSpot has not made yet; profileGiveUp ends the waiting.
	profileMissBackoffMax = 30 * time.Second
	profileGiveUp         = 10 * time.Minute
	// profileWriters bounds the single-record PATCHes in flight at once.
	profileWriters = 4
)

// profileJob is one user's profile attributes on their way to HubSpot.
type profileJob struct {
	row       *store.Provisioning // the row worked on: version, attempts
	hubspotID string              // the Settings user id, the record's link value
	want      map[string]string   // property → value
	// outcome is recorded once the attributes are written.
	outcome result
	email   string // for logs
	fresh   bool   // the Settings user was created by this attempt

	queued time.Time // first handed over
	due    time.Time // not looked at before
	misses int       // lookups that found no record yet
}

type profileWriter struct {
	e    *Engine
	wake chan struct{}

	mu   sync.Mutex
	jobs []*profileJob
	// records maps a Settings user id to its CRM record id, as last found.
	records map[string]string
	// arrivals are when recent jobs needing a lookup came in.
	arrivals []time.Time
}

func newProfileWriter(e *Engine) *profileWriter {
	return &profileWriter{e: e, wake: make(chan struct{}, 1), records: map[string]string{}}
}

// add queues a job; the user stays in flight until the writer releases it.
func (w *profileWriter) add(j *profileJob) {
	now := w.e.cfg.Now()
	j.queued, j.due = now, now
	if j.fresh {
		j.due = now.Add(profileNewRecordWait)
	}
	w.mu.Lock()
	w.jobs = append(w.jobs, j)
	if w.records[j.hubspotID] == "" {
		w.arrivals = append(w.arrivals, now)
	}
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// run writes until ctx ends.
func (w *profileWriter) run(ctx context.Context) {
	for {
		batch, next := w.take(w.e.cfg.Now())
		if len(batch) > 0 {
			w.flush(ctx, batch)
			continue
		}
		wait := time.Minute
		if !next.IsZero() {
			wait = max(next.Sub(w.e.cfg.Now()), time.Millisecond)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-w.wake:
		case <-t.C:
		}
		t.Stop()
	}
}

// take removes from the queue the jobs to work on now: every due job whose
// record id is known, and the due jobs needing a lookup once there are a
// batch of them or the oldest has waited its linger. next is when to look
// again (zero: nothing queued).
func (w *profileWriter) take(now time.Time) (batch []*profileJob, next time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	cut := 0
	for cut < len(w.arrivals) && now.Sub(w.arrivals[cut]) > profileArrivalWindow {
		cut++
	}
	w.arrivals = w.arrivals[cut:]
	linger := profileLingerQuiet
	var gapEnds time.Time // when a lull would end the linger
	if n := len(w.arrivals); n >= profileBusyArrivals && now.Sub(w.arrivals[n-1]) < profileArrivalGap {
		linger = min(profileArrivalWindow*hubspot.CRMUserBatchSize/time.Duration(n), profileLingerMax)
		gapEnds = w.arrivals[n-1].Add(profileArrivalGap)
	}
	later := func(t time.Time) {
		if next.IsZero() || t.Before(next) {
			next = t
		}
	}
	var lookups []*profileJob
	keep := w.jobs[:0]
	for _, j := range w.jobs {
		switch {
		case j.due.After(now):
			later(j.due)
			keep = append(keep, j)
		case w.records[j.hubspotID] != "":
			batch = append(batch, j)
		default:
			lookups = append(lookups, j)
		}
	}
	w.jobs = keep
	if len(lookups) > 0 {
		slices.SortFunc(lookups, func(a, b *profileJob) int { return a.due.Compare(b.due) })
		if len(lookups) < hubspot.CRMUserBatchSize && lookups[0].due.Add(linger).After(now) {
			later(lookups[0].due.Add(linger))
			if !gapEnds.IsZero() {
				later(gapEnds)
			}
			w.jobs = append(w.jobs, lookups...)
		} else {
			n := min(len(lookups), hubspot.CRMUserBatchSize)
			batch = append(batch, lookups[:n]...)
			w.jobs = append(w.jobs, lookups[n:]...)
			if n < len(lookups) {
				later(now)
			}
		}
	}
	return batch, next
}

// flush works on one batch and records what became of each job.
func (w *profileWriter) flush(ctx context.Context, batch []*profileJob) {
	e := w.e
	var search []string
	w.mu.Lock()
	for _, j := range batch {
		if w.records[j.hubspotID] == "" {
			search = append(search, j.hubspotID)
		}
	}
	w.mu.Unlock()

	type ending struct {
		j   *profileJob
		out result
	}
	var (
		mu      sync.Mutex
		endings []ending
		retry   []*profileJob
	)
	end := func(j *profileJob, out result) {
		mu.Lock()
		endings = append(endings, ending{j, out})
		mu.Unlock()
	}
	fail := func(j *profileJob, what string, err error) {
		r := result{Outcome: store.Outcome{Version: j.row.DesiredVersion, HubSpotID: j.hubspotID}}
		end(j, e.failure(r, j.row, j.email, what, err))
	}
	ambiguous := map[string]bool{}
	lookupFailed := map[*profileJob]bool{}
	if len(search) > 0 {
		found, err := e.profiles.CRMUsersByLink(ctx, e.profile.LinkProperty, search, nil)
		var amb *hubspot.AmbiguousCRMUsersError
		switch {
		case ctx.Err() != nil:
			return
		case errors.As(err, &amb):
			for _, v := range amb.Values {
				ambiguous[v] = true
			}
		case err != nil:
			for _, j := range batch {
				if slices.Contains(search, j.hubspotID) {
					lookupFailed[j] = true
					fail(j, "looking up the user's CRM record", err)
				}
			}
		}
		w.mu.Lock()
		for id, rec := range found {
			w.records[id] = rec.ID
		}
		w.mu.Unlock()
	}

	var ids []string
	w.mu.Lock()
	for _, j := range batch {
		if id := w.records[j.hubspotID]; id != "" {
			ids = append(ids, id)
		}
	}
	w.mu.Unlock()
	current := map[string]*hubspot.CRMUser{}
	var readErr error
	if len(ids) > 0 {
		current, readErr = e.profiles.CRMUsersByID(ctx, ids, e.profile.propertyNames())
		if ctx.Err() != nil {
			return
		}
	}

	type write struct {
		j     *profileJob
		recID string
		diff  map[string]string
	}
	var writes []write
	for _, j := range batch {
		if lookupFailed[j] {
			continue
		}
		if ambiguous[j.hubspotID] {
			fail(j, "refused", &refusal{fmt.Sprintf("several CRM users-object records carry %s = %s: the bridge cannot tell which is the user's profile", e.profile.LinkProperty, j.hubspotID)})
			continue
		}
		w.mu.Lock()
		recID := w.records[j.hubspotID]
		w.mu.Unlock()
		if recID != "" && readErr != nil {
			fail(j, "reading the user's CRM record", readErr)
			continue
		}
		rec := current[recID]
		if rec == nil {
			if recID != "" {
				w.forget(j.hubspotID) // gone: the user was made anew
			}
			retry = append(retry, j)
			continue
		}
		diff := map[string]string{}
		for prop, v := range j.want {
			if rec.Properties[prop] != v {
				diff[prop] = v
			}
		}
		if len(diff) == 0 {
			end(j, j.outcome)
			continue
		}
		writes = append(writes, write{j, recID, diff})
	}

	// The differences go in one batch update per 100 records. HubSpot may
	// refuse a whole batch for one bad record, so a refused batch is
	// written again record by record, which tells whose it is.
	if len(writes) > 1 {
		batch := make(map[string]map[string]string, len(writes))
		for _, x := range writes {
			batch[x.recID] = x.diff
		}
		_, err := e.profiles.UpdateCRMUsers(ctx, batch)
		switch {
		case ctx.Err() != nil:
			return
		case err == nil:
			for _, x := range writes {
				end(x.j, x.j.outcome)
			}
			writes = nil
		case !hubspot.IsPermanent(err):
			for _, x := range writes {
				fail(x.j, "updating the users' CRM records", err)
			}
			writes = nil
		}
	}
	sem := make(chan struct{}, profileWriters)
	var wg sync.WaitGroup
	for _, x := range writes {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			j := x.j
			_, err := e.profiles.UpdateCRMUser(ctx, x.recID, x.diff)
			switch {
			case err == nil:
				end(j, j.outcome)
			case ctx.Err() != nil:
			case hubspot.IsNotFound(err):
				w.forget(j.hubspotID)
				mu.Lock()
				retry = append(retry, j)
				mu.Unlock()
			case len(hubspot.UnknownProperties(err)) > 0:
				fail(j, "refused", &refusal{fmt.Sprintf("HubSpot's users object has no property %s: create it in HubSpot (Settings → Properties → User properties) or change profile.properties", strings.Join(hubspot.UnknownProperties(err), ", "))})
			case len(hubspot.ReadOnlyProperties(err)) > 0:
				fail(j, "refused", &refusal{fmt.Sprintf("the users-object property %s is read-only in HubSpot: map the attribute to another property", strings.Join(hubspot.ReadOnlyProperties(err), ", "))})
			default:
				fail(j, "updating the user's CRM record", err)
			}
		}()
	}
	wg.Wait()
	if ctx.Err() != nil {
		return
	}

	// Records HubSpot has not made yet: look again later, or give up
	// waiting and show the user as deferred.
	now := e.cfg.Now()
	w.mu.Lock()
	for _, j := range retry {
		if now.Sub(j.queued) >= profileGiveUp {
			why := fmt.Sprintf("profile attributes deferred: HubSpot has not made the user's CRM users-object record after %s", profileGiveUp)
			out := j.outcome
			if out.State == StateDeferred {
				why = out.LastError + "; " + why
			}
			out = e.deferred(out, j.row, why)
			mu.Lock()
			endings = append(endings, ending{j, out})
			mu.Unlock()
			continue
		}
		j.misses++
		j.due = now.Add(min(time.Second<<min(j.misses-1, 10), profileMissBackoffMax))
		w.jobs = append(w.jobs, j)
	}
	w.mu.Unlock()

	e.log.Debug().Int("batch", len(batch)).Int("searched", len(search)).Int("ended", len(endings)).Int("retry", len(retry)).Msg("profile batch")
	if len(endings) == 0 {
		return
	}
	err := e.store.Update(context.WithoutCancel(ctx), func(tx store.Tx) error {
		for _, x := range endings {
			if err := tx.RecordOutcome(x.j.row.UserID, e.outcomeOf(x.j.row, x.out)); err != nil && store.ErrorCode(err) != store.ENOTFOUND {
				return err
			}
		}
		return nil
	})
	if err != nil {
		e.log.Error().Err(err).Int("users", len(endings)).Msg("recording profile outcomes")
	}
	for _, x := range endings {
		e.release(x.j.row.UserID)
	}
}

// known reports whether the CRM record of a Settings user is known, so
// the user's profile is written without a lookup.
func (w *profileWriter) known(hubspotID string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.records[hubspotID] != ""
}

func (w *profileWriter) forget(hubspotID string) {
	w.mu.Lock()
	delete(w.records, hubspotID)
	w.mu.Unlock()
}
