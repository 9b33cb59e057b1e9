package scim_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// golden is a recorded conversation of one SCIM client with the bridge:
// the exact requests it sends (from the client's documentation) and what
// the bridge must answer.
type golden struct {
	Client string       `json:"client"`
	Steps  []goldenStep `json:"steps"`
}

type goldenStep struct {
	Name        string            `json:"name"`
	Method      string            `json:"method"`
	Path        string            `json:"path"`
	ContentType string            `json:"contentType"`
	Token       *string           `json:"token"`
	Body        json.RawMessage   `json:"body"`
	RawBody     *string           `json:"rawBody"`
	Status      int               `json:"status"`
	Expect      json.RawMessage   `json:"expect"`
	Absent      []string          `json:"absent"`
	Capture     map[string]string `json:"capture"`
	Header      map[string]string `json:"header"`
}

func TestIdPGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/idp/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden files: %v", err)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".json"), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var g golden
			if err := json.Unmarshal(data, &g); err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			runGolden(t, newBridge(t), g)
		})
	}
}

func runGolden(t *testing.T, b *bridge, g golden) {
	vars := map[string]string{}
	subst := func(s string) string {
		for k, v := range vars {
			s = strings.ReplaceAll(s, "{{"+k+"}}", v)
		}
		return s
	}
	for i, st := range g.Steps {
		label := fmt.Sprintf("%s, step %d %q", g.Client, i+1, st.Name)
		token := testToken
		if st.Token != nil {
			token = *st.Token
		}
		var body []byte
		switch {
		case st.RawBody != nil:
			body = []byte(*st.RawBody)
		case len(st.Body) > 0:
			body = []byte(subst(string(st.Body)))
		}
		status, hdr, got, raw := b.do(st.Method, subst(st.Path), token, st.ContentType, body, nil)
		if status != st.Status {
			t.Fatalf("%s: status %d, want %d; body %s", label, status, st.Status, raw)
		}
		if ct := hdr.Get("Content-Type"); len(raw) > 0 && ct != "application/scim+json" {
			t.Errorf("%s: Content-Type %q, want application/scim+json", label, ct)
		}
		if len(st.Expect) > 0 {
			var want any
			if err := json.Unmarshal([]byte(subst(string(st.Expect))), &want); err != nil {
				t.Fatalf("%s: bad expect: %v", label, err)
			}
			if err := subset(want, any(got), "$"); err != nil {
				t.Errorf("%s: %v\nbody: %s", label, err, raw)
			}
		}
		for _, path := range st.Absent {
			if v, ok := dig(got, path); ok {
				t.Errorf("%s: %s should be absent, is %v", label, path, v)
			}
		}
		for k, v := range st.Header {
			if hdr.Get(k) != v {
				t.Errorf("%s: header %s = %q, want %q", label, k, hdr.Get(k), v)
			}
		}
		for name, path := range st.Capture {
			v, ok := dig(got, path)
			if !ok {
				t.Fatalf("%s: nothing at %s to capture", label, path)
			}
			vars[name] = fmt.Sprint(v)
		}
	}
}

// subset checks that want is contained in got: objects by key, arrays
// element by element (got may be longer only for objects' extra keys).
func subset(want, got any, at string) error {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return fmt.Errorf("%s: got %v, want an object", at, got)
		}
		for k, wv := range w {
			gv, ok := g[k]
			if !ok {
				return fmt.Errorf("%s.%s: missing", at, k)
			}
			if err := subset(wv, gv, at+"."+k); err != nil {
				return err
			}
		}
		return nil
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return fmt.Errorf("%s: got %v, want %d elements like %v", at, got, len(w), want)
		}
		for i := range w {
			if err := subset(w[i], g[i], fmt.Sprintf("%s[%d]", at, i)); err != nil {
				return err
			}
		}
		return nil
	default:
		if !reflect.DeepEqual(want, got) {
			return fmt.Errorf("%s: got %#v, want %#v", at, got, want)
		}
		return nil
	}
}

// dig follows a dotted path ("Resources.0.members") into a decoded body.
func dig(v any, path string) (any, bool) {
	for _, part := range strings.Split(path, ".") {
		switch x := v.(type) {
		case map[string]any:
			var ok bool
			if v, ok = x[part]; !ok {
				return nil, false
			}
		case []any:
			i, err := strconv.Atoi(part)
			if err != nil || i < 0 || i >= len(x) {
				return nil, false
			}
			v = x[i]
		default:
			return nil, false
		}
	}
	return v, true
}
