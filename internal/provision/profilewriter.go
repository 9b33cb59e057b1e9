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

// flush works on one batch and records what became of each job: it finds
// the CRM records not known yet, reads them, writes what differs, waits
// longer for records HubSpot has not made, and records the rest.
func (w *profileWriter) flush(ctx context.Context, batch []*profileJob) {
	f := &flushRun{w: w, e: w.e, batch: batch}
	ambiguous, lookupFailed := f.lookUp(ctx)
	if ctx.Err() != nil {
		return
	}
	current, readErr := f.readRecords(ctx)
	if ctx.Err() != nil {
		return
	}
	writes := f.differences(ambiguous, lookupFailed, current, readErr)
	writes = f.writeBatch(ctx, writes)
	if ctx.Err() != nil {
		return
	}
	f.writeEach(ctx, writes)
	if ctx.Err() != nil {
		return
	}
	f.reschedule()
	f.record(ctx)
}

// flushRun is one batch's work in progress: the jobs that ended, with
// their outcomes, and those whose CRM record HubSpot has not made yet.
// Its lists are shared by the concurrent single-record writes.
type flushRun struct {
	w        *profileWriter
	e        *Engine
	batch    []*profileJob
	searched int

	mu      sync.Mutex
	endings []ending
	retry   []*profileJob
}

// ending is a job done with, and the outcome to record for it.
type ending struct {
	j   *profileJob
	out result
}

// profileWrite is the properties of one CRM record that differ.
type profileWrite struct {
	j     *profileJob
	recID string
	diff  map[string]string
}

func (f *flushRun) end(j *profileJob, out result) {
	f.mu.Lock()
	f.endings = append(f.endings, ending{j, out})
	f.mu.Unlock()
}

func (f *flushRun) fail(j *profileJob, what string, err error) {
	r := result{Outcome: store.Outcome{Version: j.row.DesiredVersion, HubSpotID: j.hubspotID}}
	f.end(j, f.e.failure(r, j.row, j.email, what, err))
}

func (f *flushRun) later(j *profileJob) {
	f.mu.Lock()
	f.retry = append(f.retry, j)
	f.mu.Unlock()
}

// recordOf is the known CRM record id of a Settings user, "" if none.
func (f *flushRun) recordOf(hubspotID string) string {
	f.w.mu.Lock()
	defer f.w.mu.Unlock()
	return f.w.records[hubspotID]
}

// lookUp finds, by the link property, the CRM records of the batch's
// users whose record is not known yet. It returns the HubSpot ids several
// records claim, and the jobs whose lookup failed (ended already).
func (f *flushRun) lookUp(ctx context.Context) (ambiguous map[string]bool, failed map[*profileJob]bool) {
	ambiguous, failed = map[string]bool{}, map[*profileJob]bool{}
	var search []string
	for _, j := range f.batch {
		if f.recordOf(j.hubspotID) == "" {
			search = append(search, j.hubspotID)
		}
	}
	f.searched = len(search)
	if len(search) == 0 {
		return ambiguous, failed
	}
	e := f.e
	found, err := e.profiles.CRMUsersByLink(ctx, e.profile.LinkProperty, search, nil)
	var amb *hubspot.AmbiguousCRMUsersError
	switch {
	case ctx.Err() != nil:
		return ambiguous, failed
	case errors.As(err, &amb):
		for _, v := range amb.Values {
			ambiguous[v] = true
		}
	case err != nil:
		for _, j := range f.batch {
			if slices.Contains(search, j.hubspotID) {
				failed[j] = true
				f.fail(j, "looking up the user's CRM record", err)
			}
		}
	}
	f.w.mu.Lock()
	for id, rec := range found {
		f.w.records[id] = rec.ID
	}
	f.w.mu.Unlock()
	return ambiguous, failed
}

// readRecords reads the batch's known CRM records, by record id.
func (f *flushRun) readRecords(ctx context.Context) (map[string]*hubspot.CRMUser, error) {
	var ids []string
	for _, j := range f.batch {
		if id := f.recordOf(j.hubspotID); id != "" {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return map[string]*hubspot.CRMUser{}, nil
	}
	return f.e.profiles.CRMUsersByID(ctx, ids, f.e.profile.propertyNames())
}

// differences compares each job's wanted properties with its record: a
// job whose record is in place ends, one whose record HubSpot has not
// made yet waits, the others are returned to be written.
func (f *flushRun) differences(ambiguous map[string]bool, lookupFailed map[*profileJob]bool, current map[string]*hubspot.CRMUser, readErr error) []profileWrite {
	var writes []profileWrite
	for _, j := range f.batch {
		if lookupFailed[j] {
			continue
		}
		if ambiguous[j.hubspotID] {
			f.fail(j, "refused", &refusal{fmt.Sprintf("several CRM users-object records carry %s = %s: the bridge cannot tell which is the user's profile", f.e.profile.LinkProperty, j.hubspotID)})
			continue
		}
		recID := f.recordOf(j.hubspotID)
		if recID != "" && readErr != nil {
			f.fail(j, "reading the user's CRM record", readErr)
			continue
		}
		rec := current[recID]
		if rec == nil {
			if recID != "" {
				f.w.forget(j.hubspotID) // gone: the user was made anew
			}
			f.later(j)
			continue
		}
		diff := map[string]string{}
		for prop, v := range j.want {
			if rec.Properties[prop] != v {
				diff[prop] = v
			}
		}
		if len(diff) == 0 {
			f.end(j, j.outcome)
			continue
		}
		writes = append(writes, profileWrite{j, recID, diff})
	}
	return writes
}

// writeBatch sends the differences of several records in one batch
// update (the client splits it per 100 records). HubSpot may refuse a
// whole batch for one bad record, so the writes of a refused batch are
// returned, to be written record by record, which tells whose it is.
func (f *flushRun) writeBatch(ctx context.Context, writes []profileWrite) []profileWrite {
	if len(writes) <= 1 {
		return writes
	}
	batch := make(map[string]map[string]string, len(writes))
	for _, x := range writes {
		batch[x.recID] = x.diff
	}
	_, err := f.e.profiles.UpdateCRMUsers(ctx, batch)
	switch {
	case ctx.Err() != nil:
		return nil
	case err == nil:
		for _, x := range writes {
			f.end(x.j, x.j.outcome)
		}
		return nil
	case !hubspot.IsPermanent(err):
		for _, x := range writes {
			f.fail(x.j, "updating the users' CRM records", err)
		}
		return nil
	}
	return writes
}

// writeEach writes records one by one, profileWriters at a time.
func (f *flushRun) writeEach(ctx context.Context, writes []profileWrite) {
	sem := make(chan struct{}, profileWriters)
	var wg sync.WaitGroup
	for _, x := range writes {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			f.writeOne(ctx, x)
		}()
	}
	wg.Wait()
}

func (f *flushRun) writeOne(ctx context.Context, x profileWrite) {
	j := x.j
	_, err := f.e.profiles.UpdateCRMUser(ctx, x.recID, x.diff)
	switch {
	case err == nil:
		f.end(j, j.outcome)
	case ctx.Err() != nil:
	case hubspot.IsNotFound(err):
		f.w.forget(j.hubspotID)
		f.later(j)
	case len(hubspot.UnknownProperties(err)) > 0:
		f.fail(j, "refused", &refusal{fmt.Sprintf("HubSpot's users object has no property %s: create it in HubSpot (Settings → Properties → User properties) or change profile.properties", strings.Join(hubspot.UnknownProperties(err), ", "))})
	case len(hubspot.ReadOnlyProperties(err)) > 0:
		f.fail(j, "refused", &refusal{fmt.Sprintf("the users-object property %s is read-only in HubSpot: map the attribute to another property", strings.Join(hubspot.ReadOnlyProperties(err), ", "))})
	default:
		f.fail(j, "updating the user's CRM record", err)
	}
}

// reschedule puts the jobs whose record HubSpot has not made yet back in
// the queue to look again later, or gives up waiting and ends them
// deferred.
func (f *flushRun) reschedule() {
	e, w := f.e, f.w
	now := e.cfg.Now()
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, j := range f.retry {
		if now.Sub(j.queued) >= profileGiveUp {
			why := fmt.Sprintf("profile attributes deferred: HubSpot has not made the user's CRM users-object record after %s", profileGiveUp)
			out := j.outcome
			if out.State == StateDeferred {
				why = out.LastError + "; " + why
			}
			f.end(j, e.deferred(out, j.row, why))
			continue
		}
		j.misses++
		j.due = now.Add(min(time.Second<<min(j.misses-1, 10), profileMissBackoffMax))
		w.jobs = append(w.jobs, j)
	}
}

// record stores the outcomes of the jobs that ended and releases their
// users.
func (f *flushRun) record(ctx context.Context) {
	e := f.e
	e.log.Debug().Int("batch", len(f.batch)).Int("searched", f.searched).Int("ended", len(f.endings)).Int("retry", len(f.retry)).Msg("profile batch")
	if len(f.endings) == 0 {
		return
	}
	err := e.store.Update(context.WithoutCancel(ctx), func(tx store.Tx) error {
		for _, x := range f.endings {
			if err := tx.RecordOutcome(x.j.row.UserID, e.outcomeOf(x.j.row, x.out)); err != nil && store.ErrorCode(err) != store.ENOTFOUND {
				return err
			}
		}
		return nil
	})
	if err != nil {
		e.log.Error().Err(err).Int("users", len(f.endings)).Msg("recording profile outcomes")
	}
	for _, x := range f.endings {
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
