package review

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/hubspot"
)

func subjects(fs []Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Category+":"+f.Subject)
	}
	slices.Sort(out)
	return out
}

func TestCompare(t *testing.T) {
	prev := Run(scenario())

	in := scenario()
	in.Now = in.Now.Add(7 * 24 * time.Hour) // a week later
	// Bob's access was removed; a new orphan appeared.
	in.HubSpot.Users = slices.DeleteFunc(in.HubSpot.Users, func(u hubspot.User) bool { return u.ID == "h2" })
	in.HubSpot.Users = append(in.HubSpot.Users, hu("h99", "mike@example.com", "r1", ""))
	for _, h := range in.HubSpot.Users {
		if _, ok := in.HubSpot.LastLogin[h.ID]; ok {
			in.HubSpot.LastLogin[h.ID] = in.Now.Add(-time.Hour)
		}
	}
	in.HubSpot.LastLogin["h12"] = daysAgo(100) // Mallory: still dormant, 107 days now
	in.HubSpot.LastLogin["h99"] = in.Now
	cur := Run(in)

	d := Compare(prev, cur)
	if got, want := subjects(d.New), []string{"orphaned:mike@example.com"}; !slices.Equal(got, want) {
		t.Errorf("new = %q, want %q", got, want)
	}
	if got, want := subjects(d.Resolved), []string{"should-be-gone:bob@example.com"}; !slices.Equal(got, want) {
		t.Errorf("resolved = %q, want %q", got, want)
	}
	if len(d.Unchanged) != len(prev.Findings)-1 || len(d.Unchanged)+len(d.New) != len(cur.Findings) {
		t.Errorf("%d unchanged of %d then, %d now", len(d.Unchanged), len(prev.Findings), len(cur.Findings))
	}
	// Unchanged findings carry today's evidence.
	for _, f := range d.Unchanged {
		if f.Category == CatDormant && !strings.Contains(f.Evidence, "107 days ago") {
			t.Errorf("unchanged dormant finding has old evidence: %q", f.Evidence)
		}
	}
	for _, l := range [][]Finding{d.New, d.Resolved, d.Unchanged} {
		if !slices.IsSortedFunc(l, compareFindings) {
			t.Error("delta lists are not in report order")
		}
	}

	// First review: everything is new.
	d = Compare(nil, prev)
	if len(d.New) != len(prev.Findings) || len(d.Resolved) != 0 || len(d.Unchanged) != 0 {
		t.Errorf("first review: %d new, %d resolved, %d unchanged", len(d.New), len(d.Resolved), len(d.Unchanged))
	}
	// The same review twice: nothing new or resolved.
	d = Compare(prev, Run(scenario()))
	if len(d.New) != 0 || len(d.Resolved) != 0 || len(d.Unchanged) != len(prev.Findings) {
		t.Errorf("same review: %d new, %d resolved", len(d.New), len(d.Resolved))
	}
	// Subjects compare without regard to case; keys seen twice are
	// matched one for one.
	f := Finding{Category: CatOrphaned, Subject: "A@example.com", HubSpotID: "1"}
	g := f
	g.Subject = "a@EXAMPLE.com"
	d = Compare(&Report{Findings: []Finding{f, f}}, &Report{Findings: []Finding{g}})
	if len(d.Unchanged) != 1 || len(d.Resolved) != 1 || len(d.New) != 0 {
		t.Errorf("multiset: %+v", d)
	}
	d = Compare(nil, nil)
	if d.New == nil || d.Resolved == nil || d.Unchanged == nil {
		t.Error("lists must be empty, not nil (JSON [])")
	}
}
