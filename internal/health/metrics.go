package health

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

var (
	readinessDesc = prometheus.NewDesc("scimbridge_readiness",
		"What /readyz answers: 1 for the current status (ready, degraded, unavailable), 0 for the others.",
		[]string{"status"}, nil)
	checkDesc = prometheus.NewDesc("scimbridge_health_check_status",
		"The readiness checks (store, hubspot, directory): 1 for each check's current status (ok, degraded, down, unknown), 0 for the others.",
		[]string{"check", "status"}, nil)
)

// Collector exports the readiness and the checks that count for it at
// scrape time, as state sets. A scrape runs what a probe runs (the
// on-demand checks, such as the store's ping) and reads the background
// checks' last results.
func (r *Registry) Collector() prometheus.Collector { return collector{r} }

type collector struct{ r *Registry }

func (c collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- readinessDesc
	ch <- checkDesc
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	status, _ := c.r.Ready(ctx)
	for _, s := range []string{Ready, Degraded, Unavailable} {
		ch <- prometheus.MustNewConstMetric(readinessDesc, prometheus.GaugeValue, one(s == status), s)
	}
	c.r.mu.Lock()
	defer c.r.mu.Unlock()
	for _, e := range c.r.checks {
		if e.Impact == Informational {
			continue
		}
		for _, s := range []Status{StatusOK, StatusDegraded, StatusDown, StatusUnknown} {
			ch <- prometheus.MustNewConstMetric(checkDesc, prometheus.GaugeValue, one(e.res.Status == s), e.Name, string(s))
		}
	}
}

func one(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
