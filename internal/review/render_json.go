package review

import (
	"encoding/json"
	"io"
)

// WriteJSON writes the report as indented JSON (the shape of
// GET /admin/v1/review).
func WriteJSON(w io.Writer, r *Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}
