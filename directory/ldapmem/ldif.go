package ldapmem

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"strings"
)

// Record is one LDIF content record: a DN and its attributes in file order.
type Record struct {
	DN    string
	Attrs []Attr
}

// Attr is an attribute with its values.
type Attr struct {
	Name   string
	Values []string
}

// ParseLDIF reads LDIF content records (RFC 2849): comments, folded lines,
// base64 values (attr:: …) and "changetype: add" are understood; other
// change types and URL values (attr:< …) are errors.
func ParseLDIF(r io.Reader) ([]Record, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 16*1024*1024)
	var (
		out    []Record
		lines  []string // unfolded lines of the current record
		lineNo int
		start  int
	)
	flush := func() error {
		if len(lines) == 0 {
			return nil
		}
		rec, err := parseRecord(lines)
		lines = lines[:0]
		if err != nil {
			return fmt.Errorf("ldif: record at line %d: %w", start, err)
		}
		if rec.DN != "" || len(rec.Attrs) > 0 {
			out = append(out, rec)
		}
		return nil
	}
	for sc.Scan() {
		lineNo++
		line := strings.TrimSuffix(sc.Text(), "\r")
		switch {
		case line == "":
			if err := flush(); err != nil {
				return nil, err
			}
		case strings.HasPrefix(line, "#"):
			// A comment; folded comment lines are skipped with it below.
		case line[0] == ' ':
			if len(lines) == 0 {
				// Continuation of a comment (or stray): ignore.
				continue
			}
			lines[len(lines)-1] += line[1:]
		default:
			if len(lines) == 0 {
				start = lineNo
			}
			lines = append(lines, line)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("ldif: %w", err)
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return out, nil
}

func parseRecord(lines []string) (Record, error) {
	var rec Record
	index := map[string]int{}
	for i, line := range lines {
		name, value, err := parseLine(line)
		if err != nil {
			return rec, err
		}
		lname := strings.ToLower(name)
		switch {
		case i == 0 && lname == "version":
			// "version: 1" heads the file; it may share the first record.
			if len(lines) == 1 {
				return Record{}, nil
			}
			continue
		case rec.DN == "" && lname == "dn":
			rec.DN = value
			continue
		case rec.DN == "":
			return rec, fmt.Errorf("expected dn:, got %q", name)
		case lname == "changetype":
			if !strings.EqualFold(value, "add") {
				return rec, fmt.Errorf("changetype %q is not supported", value)
			}
			continue
		}
		if j, ok := index[lname]; ok {
			rec.Attrs[j].Values = append(rec.Attrs[j].Values, value)
			continue
		}
		index[lname] = len(rec.Attrs)
		rec.Attrs = append(rec.Attrs, Attr{Name: name, Values: []string{value}})
	}
	return rec, nil
}

func parseLine(line string) (name, value string, err error) {
	i := strings.IndexByte(line, ':')
	if i <= 0 {
		return "", "", fmt.Errorf("malformed line %q", line)
	}
	name, rest := line[:i], line[i+1:]
	switch {
	case strings.HasPrefix(rest, ":"):
		b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(rest[1:]))
		if err != nil {
			return "", "", fmt.Errorf("%s: bad base64: %w", name, err)
		}
		return name, string(b), nil
	case strings.HasPrefix(rest, "<"):
		return "", "", fmt.Errorf("%s: URL values are not supported", name)
	default:
		return name, strings.TrimLeft(rest, " "), nil
	}
}

// WriteLDIF writes records as LDIF, base64-encoding values that are not
// safe strings (RFC 2849: non-ASCII, leading space, colon or <, trailing
// space).
func WriteLDIF(w io.Writer, recs []Record) error {
	bw := bufio.NewWriter(w)
	for _, r := range recs {
		writeLine(bw, "dn", r.DN)
		for _, a := range r.Attrs {
			for _, v := range a.Values {
				writeLine(bw, a.Name, v)
			}
		}
		bw.WriteByte('\n')
	}
	return bw.Flush()
}

func writeLine(w *bufio.Writer, name, value string) {
	w.WriteString(name)
	if SafeLDIFString(value) {
		w.WriteString(": ")
		w.WriteString(value)
	} else {
		w.WriteString(":: ")
		w.WriteString(base64.StdEncoding.EncodeToString([]byte(value)))
	}
	w.WriteByte('\n')
}

// SafeLDIFString reports whether v can be written as a plain LDIF value.
func SafeLDIFString(v string) bool {
	if v == "" {
		return true
	}
	if c := v[0]; c == ' ' || c == ':' || c == '<' || v[len(v)-1] == ' ' {
		return false
	}
	return bytes.IndexFunc([]byte(v), func(r rune) bool { return r >= 0x80 || r == 0 || r == '\n' || r == '\r' }) < 0
}
