package ldaptest_test

import (
	"crypto/tls"
	"crypto/x509"
	"os"
	"testing"

	"github.com/go-ldap/ldap/v3"

	"github.com/scimbridge/scimbridge/directory/ldaptest"
)

func TestServer(t *testing.T) {
	backends := []struct {
		name string
		opts []ldaptest.Option
	}{
		{"default", nil},
		{"in-memory", []ldaptest.Option{ldaptest.WithInMemory()}},
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			srv := ldaptest.Start(t, append([]ldaptest.Option{ldaptest.WithLDIFFile("../testdata/otds.ldif")}, b.opts...)...)
			t.Logf("real slapd: %v", srv.Real())
			users := func(c *ldap.Conn) int {
				res, err := c.SearchWithPaging(ldap.NewSearchRequest(ldaptest.Suffix, ldap.ScopeWholeSubtree, 0, 0, 0, false,
					"(objectClass=oTPerson)", []string{"cn", "entryUUID"}, nil), 4)
				if err != nil {
					t.Fatal(err)
				}
				for _, e := range res.Entries {
					if e.GetAttributeValue("entryUUID") == "" {
						t.Errorf("%s has no entryUUID", e.DN)
					}
				}
				return len(res.Entries)
			}
			if n := users(srv.Conn()); n != 11 {
				t.Fatalf("%d users", n)
			}
			dn := "cn=New Hire,ou=Root,ou=Corp,ou=IdentityProviders," + ldaptest.Suffix
			srv.Add(dn, map[string][]string{
				"objectClass": {"top", "person", "organizationalPerson", "inetOrgPerson", "oTPerson"},
				"cn":          {"New Hire"}, "sn": {"Hire"}, "oTExternalID3": {"new.hire@corp.example.com"}, "accountDisabled": {"false"},
			})
			srv.Modify(dn, map[string][]string{"title": {"Engineer"}})
			if n := users(srv.Conn()); n != 12 {
				t.Fatalf("%d users after add", n)
			}
			srv.Delete(dn)

			// TLS: ldaps:// and StartTLS verify against CAFile.
			pem, err := os.ReadFile(srv.CAFile())
			if err != nil {
				t.Fatal(err)
			}
			pool := x509.NewCertPool()
			pool.AppendCertsFromPEM(pem)
			tc := &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}
			c, err := ldap.DialURL(srv.LDAPSURL(), ldap.DialWithTLSConfig(tc))
			if err != nil {
				t.Fatalf("ldaps: %v", err)
			}
			if err := c.Bind(srv.BindDN(), srv.Password()); err != nil {
				t.Fatal(err)
			}
			c.Close()
			c, err = ldap.DialURL(srv.URL())
			if err != nil {
				t.Fatal(err)
			}
			if err := c.StartTLS(tc); err != nil {
				t.Fatalf("StartTLS: %v", err)
			}
			if err := c.Bind(srv.BindDN(), srv.Password()); err != nil {
				t.Fatal(err)
			}
			c.Close()

			// Stop cuts connections; Restart serves the same data on the same URL.
			c = srv.Conn()
			url := srv.URL()
			srv.Stop()
			if _, err := c.Search(ldap.NewSearchRequest(ldaptest.Suffix, ldap.ScopeBaseObject, 0, 0, 0, false, "(objectClass=*)", nil, nil)); err == nil {
				t.Fatal("search on a stopped server succeeded")
			}
			srv.Restart()
			if srv.URL() != url {
				t.Fatalf("moved from %s to %s", url, srv.URL())
			}
			if n := users(srv.Conn()); n != 11 {
				t.Fatalf("%d users after restart", n)
			}
		})
	}
}
