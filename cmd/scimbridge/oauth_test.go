package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// The OTDS push-connector flow against the demo: fetch a token from
// /oauth/token with the printed client id and secret, then create a user
// through SCIM with it. A wrong secret is an RFC 6749 invalid_client.
func TestDemoClientCredentials(t *testing.T) {
	t.Setenv("SCIMBRIDGE_DEMO_CLIENT_SECRET", "demo-client-secret-for-tests-0123")
	d := startDemo(t)
	var clientID, secret, tokenURL string
	waitFor(t, "client lines printed", func() error {
		for _, line := range strings.Split(d.stdout.String(), "\n") {
			for prefix, dst := range map[string]*string{"client_id: ": &clientID, "client_secret: ": &secret, "token_url: ": &tokenURL} {
				if v, ok := strings.CutPrefix(line, prefix); ok {
					*dst = v
				}
			}
		}
		if clientID == "" || secret == "" || tokenURL == "" {
			return fmt.Errorf("missing in:\n%s", d.stdout)
		}
		return nil
	})
	if secret != "demo-client-secret-for-tests-0123" {
		t.Fatalf("client_secret line %q ignores SCIMBRIDGE_DEMO_CLIENT_SECRET", secret)
	}
	// client_secret_basic, as curl -u sends it.
	req, _ := http.NewRequest("POST", tokenURL, strings.NewReader(url.Values{"grant_type": {"client_credentials"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(clientID, secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		ExpiresIn   int    `json:"expires_in"`
		Scope       string `json:"scope"`
	}
	json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	if resp.StatusCode != 200 || tok.AccessToken == "" || tok.TokenType != "Bearer" || tok.ExpiresIn != 3600 {
		t.Fatalf("token: %d %+v", resp.StatusCode, tok)
	}
	req, _ = http.NewRequest("POST", d.scim+"/Users", strings.NewReader(`{"userName":"pushed@example.com","emails":[{"value":"pushed@example.com","type":"work"}]}`))
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	req.Header.Set("Content-Type", "application/scim+json")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 201 {
		t.Fatalf("create with the OAuth token: %d", resp.StatusCode)
	}
	// client_secret_post with a wrong secret.
	resp, err = http.PostForm(tokenURL, url.Values{"grant_type": {"client_credentials"}, "client_id": {clientID}, "client_secret": {"wrong"}})
	if err != nil {
		t.Fatal(err)
	}
	var e struct{ Error string }
	json.NewDecoder(resp.Body).Decode(&e)
	resp.Body.Close()
	if resp.StatusCode != 401 || e.Error != "invalid_client" || resp.Header.Get("WWW-Authenticate") == "" {
		t.Fatalf("wrong secret: %d %+v", resp.StatusCode, e)
	}
	if strings.Contains(d.stderr.String(), secret) || strings.Contains(d.stderr.String(), tok.AccessToken) {
		t.Fatal("logs contain the client secret or the access token")
	}
	// A caller past the token endpoint's limit (60 a minute by default)
	// gets an RFC 6749 error body, with Retry-After, not to be cached.
	for i := range 70 {
		resp, err = http.PostForm(tokenURL, url.Values{"grant_type": {"client_credentials"}, "client_id": {clientID}, "client_secret": {"wrong"}})
		if err != nil {
			t.Fatal(err)
		}
		e.Error = ""
		json.NewDecoder(resp.Body).Decode(&e)
		resp.Body.Close()
		if resp.StatusCode == http.StatusTooManyRequests {
			if e.Error != "temporarily_unavailable" || resp.Header.Get("Cache-Control") != "no-store" || resp.Header.Get("Retry-After") == "" {
				t.Fatalf("rate limited: %+v %v", e, resp.Header)
			}
			return
		}
		if resp.StatusCode != 401 {
			t.Fatalf("request %d: %d", i, resp.StatusCode)
		}
	}
	t.Fatal("70 token requests in a row were never limited")
}
