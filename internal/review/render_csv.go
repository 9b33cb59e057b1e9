package review

import (
	"encoding/csv"
	"io"
	"strings"
)

// csvHeader returns the CSV's first row.
func csvHeader() []string {
	return []string{"severity", "category", "subject", "hubspot_id", "bridge_id", "external_id", "evidence", "fix_action", "fix_detail"}
}

// WriteCSV writes one row per finding, in report order, after a header.
// A cell that a spreadsheet would take for a formula (starting with =, +,
// -, @, a tab or a carriage return) is prefixed with a single quote.
func WriteCSV(w io.Writer, r *Report) error {
	cw := csv.NewWriter(w)
	row := csvHeader()
	if err := cw.Write(row); err != nil {
		return err
	}
	for _, f := range r.Findings {
		row[0], row[1], row[2] = f.Severity, f.Category, f.Subject
		row[3], row[4], row[5], row[6] = f.HubSpotID, f.BridgeID, f.ExternalID, f.Evidence
		row[7], row[8] = "", ""
		if f.Fix != nil {
			row[7], row[8] = f.Fix.Action, f.Fix.Detail
		}
		for i := range row {
			row[i] = csvSafe(row[i])
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// csvSafe defuses spreadsheet formula injection.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
