package ldap

import (
	"context"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/jimlambrt/gldap"

	"github.com/scimbridge/scimbridge/directory"
)

// fakeAD answers like Active Directory for a group with more members than
// MaxValRange: the first answer carries oTMember;range=0-1 and base
// searches for the next ranges return the rest.
func fakeAD(t *testing.T) string {
	t.Helper()
	mux, _ := gldap.NewMux()
	mux.Bind(func(w *gldap.ResponseWriter, r *gldap.Request) {
		w.Write(r.NewBindResponse(gldap.WithResponseCode(gldap.ResultSuccess)))
	})
	mux.Search(func(w *gldap.ResponseWriter, r *gldap.Request) {
		m, _ := r.GetSearchMessage()
		done := r.NewSearchDoneResponse(gldap.WithResponseCode(gldap.ResultSuccess))
		entry := func(attrs map[string][]string) {
			e := r.NewSearchResponseEntry("CN=Big Group,DC=corp")
			for _, k := range slices.Sorted(func(yield func(string) bool) {
				for k := range attrs {
					if !yield(k) {
						return
					}
				}
			}) {
				e.AddAttribute(k, attrs[k])
			}
			w.Write(e)
		}
		switch {
		case m.Scope == gldap.WholeSubtree:
			entry(map[string][]string{"cn": {"Big Group"}, "entryUUID": {"u1"}, "oTMember;range=0-1": {"CN=A,DC=corp", "CN=B,DC=corp"}})
			done.SetControls(&gldap.ControlPaging{})
		case len(m.Attributes) == 1 && strings.EqualFold(m.Attributes[0], "oTMember;range=2-*"):
			entry(map[string][]string{"oTMember;range=2-3": {"CN=C,DC=corp", "CN=D,DC=corp"}})
		case len(m.Attributes) == 1 && strings.EqualFold(m.Attributes[0], "oTMember;range=4-*"):
			entry(map[string][]string{"oTMember;range=4-*": {"CN=E,DC=corp"}})
		default:
			done.SetResultCode(gldap.ResultNoSuchAttribute)
		}
		w.Write(done)
	})
	for range 5 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		srv, _ := gldap.NewServer(gldap.WithLogger(hclog.NewNullLogger()))
		srv.Router(mux)
		errc := make(chan error, 1)
		go func() { errc <- srv.Run(addr) }()
		for range 200 {
			if c, err := net.Dial("tcp", addr); err == nil {
				c.Close()
				t.Cleanup(func() { srv.Stop() })
				return "ldap://" + addr
			}
			select {
			case <-errc:
			default:
				time.Sleep(5 * time.Millisecond)
				continue
			}
			break
		}
		srv.Stop()
	}
	t.Fatal("fake AD did not start")
	return ""
}

func TestRangedAttributes(t *testing.T) {
	url := fakeAD(t)
	s, err := Open(context.Background(), Config{URLs: []string{url}, BindDN: "cn=x", BindPassword: "y", Bases: []string{"DC=corp"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var got []directory.Entry
	if err := s.Groups(context.Background(), func(e directory.Entry) error { got = append(got, e); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 {
		t.Fatalf("%d groups", len(got))
	}
	want := []string{"cn=A,dc=corp", "cn=B,dc=corp", "cn=C,dc=corp", "cn=D,dc=corp", "cn=E,dc=corp"}
	if m := got[0].Values("oTMember"); !slices.Equal(m, want) {
		t.Fatalf("members %q, want %q", m, want)
	}
	if got[0].Ref != "cn=Big Group,dc=corp" {
		t.Fatalf("ref %q", got[0].Ref)
	}
	for name := range got[0].Attrs {
		if strings.Contains(name, ";") {
			t.Errorf("ranged name %q left", name)
		}
	}
}
