package provision

import (
	"context"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/scimbridge/scimbridge/internal/store"
)

// Outcomes of a removal's verification.
const (
	verifyGone         = "gone"          // HubSpot no longer had the user
	verifyRemovedAgain = "removed_again" // the user was back and was removed again
)

// metrics are the engine's Prometheus series. The queue's are read from
// the store when scraped (queueCollector); the rest count what happened.
type metrics struct {
	verifications *prometheus.CounterVec
	sweepRuns     *prometheus.CounterVec
	sweepLast     *prometheus.GaugeVec
	sweepDiffs    *prometheus.CounterVec
	sweepGuarded  prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer, st store.Store, now func() time.Time) *metrics {
	m := &metrics{
		verifications: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "scimbridge_removal_verifications_total",
			Help: "Removals verified by reading HubSpot again after the window in which a late call may commit, by outcome (gone, removed_again)."},
			[]string{"outcome"}),
		sweepRuns: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "scimbridge_sweep_runs_total",
			Help: "Drift sweeps (all HubSpot users compared with the desired state), by outcome (ok, guarded, error, skipped, dry_run)."},
			[]string{"outcome"}),
		sweepLast: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "scimbridge_sweep_last_run_timestamp_seconds",
			Help: "When the last drift sweep of each outcome finished."}, []string{"outcome"}),
		sweepDiffs: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "scimbridge_sweep_differences_total",
			Help: "Differences between HubSpot and the desired state found by drift sweeps, by kind (leaver_present, wrong_access, missing, unmanaged_match)."},
			[]string{"kind"}),
		sweepGuarded: prometheus.NewGauge(prometheus.GaugeOpts{Name: "scimbridge_sweep_guarded",
			Help: "1 while the deletion guard holds back the removals the latest drift sweep found."}),
	}
	for _, o := range []string{verifyGone, verifyRemovedAgain} {
		m.verifications.WithLabelValues(o)
	}
	for _, o := range []string{SweepOK, SweepGuarded, SweepError, SweepSkipped} {
		m.sweepRuns.WithLabelValues(o)
	}
	for _, k := range diffKinds {
		m.sweepDiffs.WithLabelValues(k)
	}
	if reg != nil {
		reg.MustRegister(m.verifications, m.sweepRuns, m.sweepLast, m.sweepDiffs, m.sweepGuarded,
			&queueCollector{store: st, now: now})
	}
	return m
}

func (m *metrics) verified(outcome string) { m.verifications.WithLabelValues(outcome).Inc() }

// queueStates are the row states the queue gauge always reports, so a
// state with no rows reads 0 rather than vanishing.
var queueStates = []string{StatePending, StateSynced, StateFailed, StateSkipped, StateRemoved,
	StateDeferred, StateProfileQueued, StateVerifying}

var (
	queueDesc = prometheus.NewDesc("scimbridge_provisioning_queue",
		"Provisioning rows (users, and teams when managed) by state.", []string{"state"}, nil)
	queuedDesc = prometheus.NewDesc("scimbridge_provisioning_queued",
		"Provisioning rows with HubSpot work not yet applied (pending, retrying, parked or waiting).", nil, nil)
	oldestDesc = prometheus.NewDesc("scimbridge_provisioning_oldest_pending_age_seconds",
		"Age of the oldest row HubSpot work is being done for (not parked as failed or deferred), 0 when none.", nil, nil)
	queueUpDesc = prometheus.NewDesc("scimbridge_provisioning_queue_readable",
		"1 when the store answered the queue's counts at this scrape, 0 when it did not.", nil, nil)
)

// queueCollector reads the queue from the store at scrape time, at most
// once per queueCacheFor (the counts read every row).
type queueCollector struct {
	store store.Store
	now   func() time.Time

	mu      sync.Mutex
	at      time.Time
	counts  map[string]int
	oldest  time.Time
	hasOld  bool
	readErr bool
}

const queueCacheFor = time.Second

func (c *queueCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- queueDesc
	ch <- queuedDesc
	ch <- oldestDesc
	ch <- queueUpDesc
}

func (c *queueCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if c.counts == nil || now.Sub(c.at) >= queueCacheFor || now.Before(c.at) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		counts, err := c.store.ProvisioningCounts(ctx)
		var (
			oldest time.Time
			ok     bool
		)
		if err == nil {
			oldest, ok, err = c.store.OldestPending(ctx)
		}
		cancel()
		c.at, c.readErr = now, err != nil
		if err == nil {
			c.counts, c.oldest, c.hasOld = counts, oldest, ok
		}
	}
	up := 1.0
	if c.readErr {
		up = 0
	}
	ch <- prometheus.MustNewConstMetric(queueUpDesc, prometheus.GaugeValue, up)
	if c.counts == nil {
		return
	}
	seen := map[string]bool{}
	for _, s := range queueStates {
		seen[s] = true
		ch <- prometheus.MustNewConstMetric(queueDesc, prometheus.GaugeValue, float64(c.counts[s]), s)
	}
	for s, n := range c.counts {
		if !seen[s] && s != "_pending" {
			ch <- prometheus.MustNewConstMetric(queueDesc, prometheus.GaugeValue, float64(n), s)
		}
	}
	ch <- prometheus.MustNewConstMetric(queuedDesc, prometheus.GaugeValue, float64(c.counts["_pending"]))
	age := 0.0
	if c.hasOld {
		age = max(now.Sub(c.oldest).Seconds(), 0)
	}
	ch <- prometheus.MustNewConstMetric(oldestDesc, prometheus.GaugeValue, age)
}
