package preflight

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"unicode"
)

// WriteJSON writes the report as one indented JSON document.
func WriteJSON(w io.Writer, r *Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteTable writes the report for a terminal: one line per check
// (status, check, summary), its details indented below, and the verdict.
// Control characters in HubSpot's text are shown as spaces.
func WriteTable(w io.Writer, r *Report) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "HubSpot preflight of %s (users API %s)\n\n", oneLine(r.BaseURL), oneLine(r.APIVersion))
	width := 0
	for _, f := range r.Findings {
		width = max(width, len(f.Check))
	}
	for _, f := range r.Findings {
		fmt.Fprintf(bw, "%-4s  %-*s  %s\n", f.Status, width, f.Check, oneLine(f.Summary))
		for _, d := range f.Details {
			fmt.Fprintf(bw, "%-4s  %-*s    - %s\n", "", width, "", oneLine(d))
		}
	}
	verdict := "provisioning can start"
	if !r.OK() {
		verdict = "provisioning would fail: fix the FAIL lines first"
	}
	fmt.Fprintf(bw, "\n%d blocking, %d warning(s): %s\n", r.Blocking, r.Warnings, verdict)
	return bw.Flush()
}

// oneLine replaces control characters (newlines, escapes) with spaces so
// that text from HubSpot cannot break or restyle the report.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
}
