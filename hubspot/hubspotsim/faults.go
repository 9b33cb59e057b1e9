package hubspotsim

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"gopkg.in/yaml.v3"
)

// Faults are the troubles the simulator injects. The zero value injects
// none. Rates are probabilities in [0, 1], drawn from dice seeded by Seed,
// so a sequential run is reproducible. Methods and Paths scope the
// request-level faults; the consistency knobs at the end apply everywhere.
//
// In JSON and YAML, durations are strings ("250ms", "2s").
type Faults struct {
	// Seed reseeds the dice when the faults are set; 0 keeps Config.RandSeed
	// (at New) or the running dice (SetFaults).
	Seed int64 `json:"seed,omitempty" yaml:"seed"`

	// ErrorRate answers that share of requests with a 5xx, picked from
	// ErrorStatuses (default 502, 503, 504), without applying them.
	ErrorRate     float64 `json:"errorRate,omitempty" yaml:"errorRate"`
	ErrorStatuses []int   `json:"errorStatuses,omitempty" yaml:"errorStatuses"`
	// HTMLErrors makes 502 and 504 answers the HTML page HubSpot's CDN
	// sends instead of a JSON envelope.
	HTMLErrors bool `json:"htmlErrors,omitempty" yaml:"htmlErrors"`

	// Latency is added to every request, plus up to LatencyJitter more.
	Latency       time.Duration `json:"latency,omitempty" yaml:"latency"`
	LatencyJitter time.Duration `json:"latencyJitter,omitempty" yaml:"latencyJitter"`

	// TimeoutRate holds that share of requests for TimeoutHold (or until
	// the client gives up), then drops the connection without applying
	// the request, or, with TimeoutAnswer, applies and answers it.
	TimeoutRate   float64       `json:"timeoutRate,omitempty" yaml:"timeoutRate"`
	TimeoutHold   time.Duration `json:"timeoutHold,omitempty" yaml:"timeoutHold"`
	TimeoutAnswer bool          `json:"timeoutAnswer,omitempty" yaml:"timeoutAnswer"`

	// Storm answers every request with a TEN_SECONDLY_ROLLING 429 for this
	// long from when the faults are set.
	Storm time.Duration `json:"storm,omitempty" yaml:"storm"`

	// LostAnswerRate commits that share of writes (POST, PUT, PATCH,
	// DELETE) and then closes the connection without an answer.
	LostAnswerRate float64 `json:"lostAnswerRate,omitempty" yaml:"lostAnswerRate"`

	// NestedErrorRate wraps that share of error envelopes inside the
	// message of another, as HubSpot sometimes does.
	NestedErrorRate float64 `json:"nestedErrorRate,omitempty" yaml:"nestedErrorRate"`

	// Methods and Paths (prefixes of the URL path) limit the faults above
	// to matching requests; empty means all. "WRITES" in Methods stands
	// for POST, PUT, PATCH and DELETE.
	Methods []string `json:"methods,omitempty" yaml:"methods"`
	Paths   []string `json:"paths,omitempty" yaml:"paths"`

	// DeletedReadableFor keeps a deleted user readable (GET by id or
	// email) for this long; DeletedListedFor keeps it in list pages.
	// HubSpot's collection lags deletion (observed live; an open-source
	// client polls until the user is gone).
	DeletedReadableFor time.Duration `json:"deletedReadableFor,omitempty" yaml:"deletedReadableFor"`
	DeletedListedFor   time.Duration `json:"deletedListedFor,omitempty" yaml:"deletedListedFor"`
}

func (f Faults) validate() error {
	for name, r := range map[string]float64{"errorRate": f.ErrorRate, "timeoutRate": f.TimeoutRate, "lostAnswerRate": f.LostAnswerRate, "nestedErrorRate": f.NestedErrorRate} {
		if r < 0 || r > 1 {
			return fmt.Errorf("hubspotsim: faults: %s %v is not in [0, 1]", name, r)
		}
	}
	for _, st := range f.ErrorStatuses {
		if st < 500 || st > 599 {
			return fmt.Errorf("hubspotsim: faults: errorStatuses: %d is not a 5xx status", st)
		}
	}
	for name, d := range map[string]time.Duration{"latency": f.Latency, "latencyJitter": f.LatencyJitter, "timeoutHold": f.TimeoutHold, "storm": f.Storm, "deletedReadableFor": f.DeletedReadableFor, "deletedListedFor": f.DeletedListedFor} {
		if d < 0 {
			return fmt.Errorf("hubspotsim: faults: %s %v is negative", name, d)
		}
	}
	if f.TimeoutRate > 0 && f.TimeoutHold == 0 {
		return fmt.Errorf("hubspotsim: faults: timeoutRate needs a timeoutHold")
	}
	return nil
}

// MarshalJSON writes durations as strings, so GET /_sim/faults can be
// posted back.
func (f Faults) MarshalJSON() ([]byte, error) {
	type plain Faults
	return json.Marshal(struct {
		plain
		Latency            string `json:"latency,omitempty"`
		LatencyJitter      string `json:"latencyJitter,omitempty"`
		TimeoutHold        string `json:"timeoutHold,omitempty"`
		Storm              string `json:"storm,omitempty"`
		DeletedReadableFor string `json:"deletedReadableFor,omitempty"`
		DeletedListedFor   string `json:"deletedListedFor,omitempty"`
	}{plain(f), dur(f.Latency), dur(f.LatencyJitter), dur(f.TimeoutHold), dur(f.Storm), dur(f.DeletedReadableFor), dur(f.DeletedListedFor)})
}

// UnmarshalJSON reads the JSON form (durations as strings), rejecting
// unknown fields.
func (f *Faults) UnmarshalJSON(b []byte) error {
	type plain Faults
	return strictYAML(b, (*plain)(f))
}

func dur(d time.Duration) string {
	if d == 0 {
		return ""
	}
	return d.String()
}

// strictYAML decodes YAML or JSON (a JSON document is YAML) into v,
// refusing unknown fields; yaml.v3 reads durations from strings.
func strictYAML(b []byte, v any) error {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	return nil
}

func (f *Faults) inScope(method, path string) bool {
	if len(f.Methods) > 0 && !slices.ContainsFunc(f.Methods, func(m string) bool {
		return strings.EqualFold(m, method) || (strings.EqualFold(m, "WRITES") && isWrite(method))
	}) {
		return false
	}
	if len(f.Paths) > 0 && !slices.ContainsFunc(f.Paths, func(p string) bool { return strings.HasPrefix(path, p) }) {
		return false
	}
	return true
}

func (f *Faults) requestFaults() bool {
	return f.ErrorRate > 0 || f.Latency > 0 || f.LatencyJitter > 0 || f.TimeoutRate > 0 ||
		f.Storm > 0 || f.LostAnswerRate > 0 || f.NestedErrorRate > 0
}

// faultBox holds the current faults and the dice.
type faultBox struct {
	mu         sync.Mutex
	f          Faults
	rng        *rand.Rand
	stormUntil time.Time
}

func newFaultBox(f Faults, seed int64, now time.Time) *faultBox {
	b := &faultBox{}
	if f.Seed == 0 {
		f.Seed = seed
	}
	b.set(f, now)
	if b.rng == nil {
		b.rng = newRand(1)
	}
	return b
}

func newRand(seed int64) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(seed), uint64(seed)^0x9e3779b97f4a7c15))
}

func (b *faultBox) set(f Faults, now time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if f.Seed != 0 {
		b.rng = newRand(f.Seed)
	}
	b.stormUntil = time.Time{}
	if f.Storm > 0 {
		b.stormUntil = now.Add(f.Storm)
	}
	b.f = f
}

func (b *faultBox) get() Faults {
	b.mu.Lock()
	defer b.mu.Unlock()
	f := b.f
	f.ErrorStatuses = slices.Clone(f.ErrorStatuses)
	f.Methods = slices.Clone(f.Methods)
	f.Paths = slices.Clone(f.Paths)
	return f
}

// decision is what the dice decided for one request.
type decision struct {
	latency         time.Duration
	storm           bool
	timeout         bool
	hold            time.Duration
	answerAfterHold bool
	errStatus       int
	html            bool
	lost            bool
	nested          bool
}

// roll decides the faults of one request. Every in-scope request draws
// the same number of values, so a seed gives one sequence of outcomes.
func (b *faultBox) roll(method, path string, now time.Time) decision {
	b.mu.Lock()
	defer b.mu.Unlock()
	f := &b.f
	if !f.requestFaults() || !f.inScope(method, path) {
		return decision{}
	}
	var rolls [6]float64
	for i := range rolls {
		rolls[i] = b.rng.Float64()
	}
	d := decision{
		latency:         f.Latency + time.Duration(rolls[0]*float64(f.LatencyJitter)),
		storm:           now.Before(b.stormUntil),
		timeout:         rolls[1] < f.TimeoutRate,
		hold:            f.TimeoutHold,
		answerAfterHold: f.TimeoutAnswer,
		lost:            rolls[3] < f.LostAnswerRate,
		nested:          rolls[4] < f.NestedErrorRate,
		html:            f.HTMLErrors,
	}
	if rolls[2] < f.ErrorRate {
		statuses := f.ErrorStatuses
		if len(statuses) == 0 {
			statuses = []int{http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout}
		}
		d.errStatus = statuses[int(rolls[5]*float64(len(statuses)))%len(statuses)]
	}
	return d
}

// consistency returns the knobs that apply outside the request pipeline.
func (b *faultBox) consistency() (readable, listed time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.f.DeletedReadableFor, b.f.DeletedListedFor
}

// writeServerError answers an injected 5xx. HubSpot's error-handling guide
// lists 502/504 (processing limits or timeouts) and 503 (temporarily
// unavailable); in front of it a CDN answers 502/504 with an HTML page.
func writeServerError(w http.ResponseWriter, status int, html, nested bool) {
	if html && (status == http.StatusBadGateway || status == http.StatusGatewayTimeout) {
		text := http.StatusText(status)
		body := fmt.Sprintf("<html>\r\n<head><title>%d %s</title></head>\r\n<body>\r\n<center><h1>%d %s</h1></center>\r\n<hr><center>cloudflare</center>\r\n</body>\r\n</html>\r\n", status, text, status, text)
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
		return
	}
	var e *apiError
	switch status {
	case http.StatusServiceUnavailable:
		e = newError(status, catUnavailable, "The service is temporarily unavailable. Please try again later.")
	case http.StatusGatewayTimeout:
		e = newError(status, catTimeout, "The request timed out while HubSpot was processing it. It may or may not have been applied.")
	case http.StatusBadGateway:
		e = newError(status, catInternal, "Bad gateway: HubSpot's processing limits were reached. Please retry.")
	default:
		e = newError(status, catInternal, "internal error")
	}
	writeError(w, e, nested)
}
