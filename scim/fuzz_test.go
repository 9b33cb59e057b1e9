package scim_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzRequests sends arbitrary bodies, paths and query strings through the
// whole HTTP front (quirk normalisation, the elimity library, PATCH engine,
// store) and checks every answer is a SCIM answer: never a panic, never a
// 500, always a SCIM error body when it is an error.
//
//	go test ./scim -run '^$' -fuzz FuzzRequests -fuzztime 60s
func FuzzRequests(f *testing.F) {
	files, _ := filepath.Glob("testdata/idp/*.json")
	for _, file := range files {
		data, _ := os.ReadFile(file)
		var g golden
		_ = json.Unmarshal(data, &g)
		for _, st := range g.Steps {
			body := string(st.Body)
			if st.RawBody != nil {
				body = *st.RawBody
			}
			f.Add(st.Method, st.Path, body)
		}
	}
	f.Add("PATCH", "/Users/x", `{"Operations":[{"op":"add","path":"emails[type eq \"work\"].value","value":"a@b"}]}`)
	f.Add("POST", "/Users/.search", `{"filter":"userName sw \"a\"","sortBy":"name.familyName","attributes":["emails.value"]}`)
	f.Add("GET", "/Users?filter=not(emails[value co \"x\"])&sortBy=meta.created&count=-1&startIndex=999999999999", "")

	b := newBridge(f)
	// A user and a group to aim PATCH, PUT and DELETE at.
	status, m := b.json("POST", "/Users", map[string]any{"userName": "fuzz@example.com"})
	if status != 201 {
		f.Fatalf("seed user: %d %v", status, m)
	}
	userID, _ := m["id"].(string)
	f.Add("PATCH", "/Users/"+userID, `{"Operations":[{"op":"replace","value":{"active":"False","name.givenName":"x"}}]}`)
	f.Add("PUT", "/Users/"+userID, `{"userName":"fuzz@example.com","emails":{"value":"x"}}`)
	methods := []string{"GET", "POST", "PUT", "PATCH", "DELETE"}
	f.Fuzz(func(t *testing.T, method, path, body string) {
		if !strings.HasPrefix(path, "/") {
			path = "/" + path
		}
		path = strings.ReplaceAll(path, "{{user}}", userID)
		ok := false
		for _, m := range methods {
			ok = ok || m == method
		}
		if !ok {
			method = methods[len(method)%len(methods)]
		}
		req, err := http.NewRequest(method, "http://bridge.test/scim/v2"+path, strings.NewReader(body))
		if err != nil {
			return // not a request a client could send
		}
		req.Header.Set("Authorization", "Bearer "+testToken)
		req.Header.Set("Content-Type", "application/scim+json")
		rec := httptest.NewRecorder()
		b.front.ServeHTTP(rec, req)
		if rec.Code >= 500 && rec.Code != http.StatusNotImplemented {
			t.Fatalf("%s %s %q: %d %s", method, path, body, rec.Code, rec.Body)
		}
		if rec.Code == http.StatusNoContent || rec.Code == http.StatusNotModified {
			return
		}
		var out map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
			t.Fatalf("%s %s %q: %d, body is not a JSON object: %s", method, path, body, rec.Code, rec.Body)
		}
		if rec.Code >= 400 && (out["status"] == nil || out["schemas"] == nil) {
			t.Fatalf("%s %s %q: %d without a SCIM error body: %s", method, path, body, rec.Code, rec.Body)
		}
	})
}
