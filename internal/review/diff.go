package review

import (
	"slices"
	"strings"
	"time"
)

// Delta is what changed between two reviews.
type Delta struct {
	// New findings are in the current review only.
	New []Finding `json:"new"`
	// Resolved findings were in the previous review only (as they were
	// then).
	Resolved []Finding `json:"resolved"`
	// Unchanged findings are in both (as they are now: the evidence, such
	// as a dormant user's days, may have moved on).
	Unchanged []Finding `json:"unchanged"`
}

// Key identifies a finding across reviews: its category, subject (without
// regard to case) and ids. Evidence, severity and fix are not part of it.
func (f Finding) Key() string {
	return strings.Join([]string{f.Category, strings.ToLower(f.Subject), f.HubSpotID, f.BridgeID, f.ExternalID}, "\x00")
}

// Compare tells which findings of cur are new since prev, which of prev
// are resolved, and which persist. prev may be nil (the first review:
// everything is new). Each list is in report order. A key occurring
// several times is matched occurrence by occurrence.
func Compare(prev, cur *Report) Delta {
	d := Delta{New: []Finding{}, Resolved: []Finding{}, Unchanged: []Finding{}}
	var before []Finding
	if prev != nil {
		before = prev.Findings
	}
	var now []Finding
	if cur != nil {
		now = cur.Findings
	}
	left := make(map[string]int, len(before))
	for _, f := range before {
		left[f.Key()]++
	}
	seen := make(map[string]int, len(now))
	for _, f := range now {
		k := f.Key()
		if left[k] > 0 {
			left[k]--
			d.Unchanged = append(d.Unchanged, f)
		} else {
			d.New = append(d.New, f)
		}
		seen[k]++
	}
	for _, f := range before {
		k := f.Key()
		if seen[k] > 0 {
			seen[k]--
			continue
		}
		d.Resolved = append(d.Resolved, f)
	}
	slices.SortFunc(d.New, compareFindings)
	slices.SortFunc(d.Resolved, compareFindings)
	slices.SortFunc(d.Unchanged, compareFindings)
	return d
}

// Stored is a scheduled review as kept between runs: the report and what
// changed since the scheduled review before it.
type Stored struct {
	Report *Report `json:"report"`
	// Previous is when the review compared against ran (zero for the
	// first: every finding is then new).
	Previous time.Time `json:"previous,omitzero"`
	New      []Finding `json:"new"`
	Resolved []Finding `json:"resolved"`
}

// NewStored compares cur with the previous stored review (nil for none).
func NewStored(prev *Stored, cur *Report) *Stored {
	var before *Report
	s := &Stored{Report: cur}
	if prev != nil && prev.Report != nil {
		before, s.Previous = prev.Report, prev.Report.Generated
	}
	d := Compare(before, cur)
	s.New, s.Resolved = d.New, d.Resolved
	return s
}
