package schemas

import "testing"

func TestCatalogResolve(t *testing.T) {
	c := MustLoad()
	tests := []struct {
		path, want string
		wantErr    bool
	}{
		{path: "userName", want: "userName"},
		{path: "NAME.givenname", want: "name.givenName"},
		{path: "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value", want: EnterpriseURI + ":manager.value"},
		{path: "urn:ietf:params:scim:schemas:core:2.0:User:emails", want: "emails"},
		{path: "meta.lastModified", want: "meta.lastModified"},
		{path: "password", wantErr: true},
		{path: "name.nick", wantErr: true},
		{path: "userName.x", wantErr: true},
		{path: EnterpriseURI, wantErr: true},
	}
	for _, tt := range tests {
		ref, err := c.Users.ResolvePath(tt.path)
		if (err != nil) != tt.wantErr {
			t.Errorf("ResolvePath(%q) error = %v", tt.path, err)
			continue
		}
		if err == nil && ref.Path() != tt.want {
			t.Errorf("ResolvePath(%q) = %s, want %s", tt.path, ref.Path(), tt.want)
		}
	}
	// Every schema document is served as written and parses.
	for _, uri := range []string{UserURI, GroupURI, EnterpriseURI, HubSpotURI} {
		if _, ok := c.Document(uri); !ok {
			t.Errorf("no document for %s", uri)
		}
	}
	if c.User.Attr("password") != nil {
		t.Error("password is described, but never kept")
	}
}

func TestETag(t *testing.T) {
	if ETag(7) != `W/"7"` {
		t.Fatal(ETag(7))
	}
	for tag, want := range map[string]int64{`W/"7"`: 7, `"12"`: 12, ` W/"3" `: 3} {
		if v, ok := ParseETag(tag); !ok || v != want {
			t.Errorf("ParseETag(%q) = %d %v", tag, v, ok)
		}
	}
	for _, tag := range []string{``, `7`, `W/7`, `"x"`} {
		if _, ok := ParseETag(tag); ok {
			t.Errorf("ParseETag(%q) accepted", tag)
		}
	}
}

func TestPrimaryEmail(t *testing.T) {
	u := &User{Emails: []MultiValue{{Value: "home@x", Type: "home"}, {Value: "work@x", Type: "Work"}}}
	if u.PrimaryEmail() != "work@x" {
		t.Error(u.PrimaryEmail())
	}
	u.Emails = append(u.Emails, MultiValue{Value: "p@x", Primary: true})
	if u.PrimaryEmail() != "p@x" {
		t.Error(u.PrimaryEmail())
	}
}
