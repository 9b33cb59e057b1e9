package hubspot

import (
	"errors"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the client's Prometheus series (Config.Metrics). Labels stay
// few: endpoints are path templates ("/settings/users/2026-03/{userId}"),
// never ids or queries.
type metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	limited  *prometheus.CounterVec
}

// Status classes of scimbridge_hubspot_requests_total.
const (
	class2xx   = "2xx"
	classError = "error" // no answer: connection refused, timeout, reset
)

func newMetrics(reg prometheus.Registerer, limiter, search *Limiter) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "scimbridge_hubspot_requests_total",
			Help: "Requests sent to HubSpot (each attempt), by endpoint path template, method and status class (2xx, 4xx, 5xx, or error when no answer came).",
		}, []string{"endpoint", "method", "status_class"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "scimbridge_hubspot_request_duration_seconds",
			Help:    "Time from sending a request to HubSpot to reading its whole answer (or giving up), by endpoint path template and method.",
			Buckets: []float64{.025, .05, .1, .25, .5, 1, 2.5, 5, 10, 15, 30},
		}, []string{"endpoint", "method"}),
		limited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "scimbridge_hubspot_rate_limited_total",
			Help: "429 answers from HubSpot, by the policyName of their body (unknown when it names none, as a CRM search's does).",
		}, []string{"policy"}),
	}
	if reg == nil {
		return m
	}
	// Clients of one portal may share a registry: they then count into
	// the same series, and the first client's limiters are the ones
	// reported (share the Limiter between them too).
	m.requests = register(reg, m.requests)
	m.duration = register(reg, m.duration)
	m.limited = register(reg, m.limited)
	register(reg, prometheus.Collector(&limiterCollector{limiter: limiter, search: search}))
	return m
}

// register registers c, or returns the collector already registered in
// its place.
func register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing
			}
			return c
		}
		panic(err)
	}
	return c
}

// request counts one attempt: status is the HTTP status, 0 when no answer
// came.
func (m *metrics) request(endpoint, method string, status int, d time.Duration) {
	m.requests.WithLabelValues(endpoint, method, statusClass(status)).Inc()
	m.duration.WithLabelValues(endpoint, method).Observe(d.Seconds())
}

func (m *metrics) rateLimited(policy string) {
	m.limited.WithLabelValues(policyLabel(policy)).Inc()
}

func statusClass(status int) string {
	switch {
	case status <= 0:
		return classError
	case status >= 200 && status < 300:
		return class2xx
	case status < 100 || status > 599:
		return "other"
	}
	return strconv.Itoa(status/100) + "xx"
}

// policyLabel keeps the policy label to HubSpot's vocabulary (upper-case
// names such as TEN_SECONDLY_ROLLING, SECONDLY, DAILY): whatever else a
// proxy might put there becomes "other".
func policyLabel(p string) string {
	if p == "" {
		return "unknown"
	}
	if len(p) > 40 {
		return "other"
	}
	for _, r := range p {
		if (r < 'A' || r > 'Z') && (r < '0' || r > '9') && r != '_' {
			return "other"
		}
	}
	return p
}

// limiterCollector reads the limiters at scrape time.
type limiterCollector struct {
	limiter, search *Limiter
}

var (
	descWindowUsed = prometheus.NewDesc("scimbridge_hubspot_rate_window_used",
		"Requests in the limiter's current rolling window (limiter: default for HubSpot's per-app window, search for the CRM search limit).",
		[]string{"limiter"}, nil)
	descWindowLimit = prometheus.NewDesc("scimbridge_hubspot_rate_window_limit",
		"Requests allowed in the limiter's rolling window.",
		[]string{"limiter"}, nil)
	descWindowSeconds = prometheus.NewDesc("scimbridge_hubspot_rate_window_seconds",
		"Length of the limiter's rolling window.",
		[]string{"limiter"}, nil)
	descDailyLimit = prometheus.NewDesc("scimbridge_hubspot_daily_limit",
		"HubSpot's daily request budget of the app (0: unknown or unlimited, as for OAuth apps).",
		nil, nil)
	descDailyRemaining = prometheus.NewDesc("scimbridge_hubspot_daily_remaining",
		"Requests left in today's budget; absent while the budget is unknown.",
		nil, nil)
	descDailyPaused = prometheus.NewDesc("scimbridge_hubspot_daily_paused",
		"1 while writes are refused because today's budget is spent (down to the read reserve, or a DAILY 429), else 0.",
		nil, nil)
)

// Labels of the window gauges.
const (
	limiterDefault = "default"
	limiterSearch  = "search"
)

func (c *limiterCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descWindowUsed, descWindowLimit, descWindowSeconds, descDailyLimit, descDailyRemaining, descDailyPaused} {
		ch <- d
	}
}

func (c *limiterCollector) Collect(ch chan<- prometheus.Metric) {
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	window := func(l *Limiter, name string) LimiterState {
		st := l.State()
		gauge(descWindowUsed, float64(st.Used), name)
		gauge(descWindowLimit, float64(st.Limit), name)
		gauge(descWindowSeconds, st.Interval.Seconds(), name)
		return st
	}
	st := window(c.limiter, limiterDefault)
	if c.search != nil && c.search != c.limiter {
		window(c.search, limiterSearch)
	}
	// The daily budget is the app's, held by the default limiter only.
	gauge(descDailyLimit, float64(st.DailyLimit))
	if st.DailyLimit > 0 {
		gauge(descDailyRemaining, float64(st.DailyRemaining))
	}
	paused := 0.0
	if !st.PausedUntil.IsZero() {
		paused = 1
	}
	gauge(descDailyPaused, paused)
}
