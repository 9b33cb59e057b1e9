package review

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// WriteTable writes the report as aligned text for a terminal: the summary
// first (what was reviewed, counts by severity, counts by category and
// severity), then one line per finding. Control characters in the data
// are shown as spaces, so a crafted name cannot move the cursor.
func WriteTable(w io.Writer, r *Report) error {
	bw := bufio.NewWriter(w)
	s := r.Summary
	fmt.Fprintf(bw, "Access review, %s\n", r.Generated.UTC().Format(time.RFC3339))
	fmt.Fprintf(bw, "Reviewed: %d HubSpot users, %d bridge users, ", s.HubSpotUsers, s.BridgeUsers)
	if s.DirectoryConfigured {
		fmt.Fprintf(bw, "%d directory users", s.DirectoryUsers)
	} else {
		bw.WriteString("no directory")
	}
	fmt.Fprintf(bw, "; %d super admins; dormant after %d days\n", s.SuperAdmins, s.DormantDays)
	sev := make([]string, 0, 5)
	for _, v := range Severities() {
		sev = append(sev, fmt.Sprintf("%s %d", v, r.BySeverity[v]))
	}
	fmt.Fprintf(bw, "Findings: %d (%s); %d with a fix\n", s.Findings, strings.Join(sev, ", "), s.Fixable)
	for _, n := range s.Notes {
		fmt.Fprintf(bw, "Note: %s\n", OneLine(n))
	}
	bw.WriteString("\n")

	matrix := severityMatrix(r)
	// Right-aligned numbers; the names are padded to one width first so
	// they stay left-aligned.
	width := len("CATEGORY")
	for _, c := range Categories() {
		width = max(width, len(c))
	}
	tw := tabwriter.NewWriter(bw, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "%-*s\tTOTAL\t", width, "CATEGORY")
	for _, v := range Severities() {
		fmt.Fprintf(tw, "%s\t", strings.ToUpper(v))
	}
	tw.Write([]byte("\n"))
	for _, c := range Categories() {
		fmt.Fprintf(tw, "%-*s\t%d\t", width, c, r.Counts[c])
		for _, v := range Severities() {
			fmt.Fprintf(tw, "%d\t", matrix[c][v])
		}
		tw.Write([]byte("\n"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	bw.WriteString("\n")

	if len(r.Findings) == 0 {
		bw.WriteString("No findings.\n")
		return bw.Flush()
	}
	tw = tabwriter.NewWriter(bw, 0, 4, 2, ' ', 0)
	tw.Write([]byte("SEVERITY\tCATEGORY\tSUBJECT\tHUBSPOT\tBRIDGE\tFIX\tEVIDENCE\n"))
	for _, f := range r.Findings {
		fix := "-"
		if f.Fix != nil {
			fix = f.Fix.Action
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n",
			cell(f.Severity), cell(f.Category), cell(f.Subject), cell(f.HubSpotID), cell(f.BridgeID), cell(fix), cell(f.Evidence))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	return bw.Flush()
}

// cell makes a value safe for one tab-separated cell.
func cell(s string) string {
	if s == "" {
		return "-"
	}
	return OneLine(s)
}

// severityMatrix counts findings by category, then severity.
func severityMatrix(r *Report) map[string]map[string]int {
	m := make(map[string]map[string]int, len(Categories()))
	for _, c := range Categories() {
		m[c] = make(map[string]int, 5)
	}
	for _, f := range r.Findings {
		if m[f.Category] == nil {
			m[f.Category] = make(map[string]int, 5)
		}
		m[f.Category][f.Severity]++
	}
	return m
}
