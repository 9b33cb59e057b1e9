package directory

import (
	"strings"
	"testing"
	"time"
)

func entry(ref string, kv ...string) Entry {
	e := Entry{Ref: ref, Attrs: map[string][]string{}}
	for i := 0; i+1 < len(kv); i += 2 {
		k := strings.ToLower(kv[i])
		e.Attrs[k] = append(e.Attrs[k], kv[i+1])
	}
	return e
}

func TestMapUserOTDS(t *testing.T) {
	var m Mapping
	m.SetDefaults()
	e := entry("cn=ann,ou=Root,ou=Sales,ou=IdentityProviders,dc=identity,dc=opentext,dc=net",
		"entryUUID", "6f0c1c3e-0b5c-4f1c-9d7e-1a2b3c4d5e6f", "oTExternalID3", "ann@example.com", "mail", "Ann.Lee@example.com",
		"givenName", "Ann", "sn", "Lee", "title", "Account Executive", "oTDepartment", "Sales", "oTCompany", "Example Corp",
		"physicalDeliveryOfficeName", "London HQ", "l", "London", "c", "GB", "manager", "cn=boss,ou=Root",
		"oTMemberOf", "cn=EMEA Sales,ou=groups", "accountDisabled", "false", "modifyTimestamp", "20261128120000Z")
	u, err := m.MapUser(e)
	if err != nil {
		t.Fatal(err)
	}
	r := u.Resource
	if u.ExternalID != "6f0c1c3e-0b5c-4f1c-9d7e-1a2b3c4d5e6f" || r.UserName != "ann@example.com" || r.ExternalID != u.ExternalID {
		t.Fatalf("ids: %+v", u)
	}
	if r.Name.Formatted != "Ann Lee" || r.DisplayName != "Ann Lee" || r.Emails[0].Value != "Ann.Lee@example.com" || !r.IsActive() {
		t.Fatalf("core: %+v", r)
	}
	if r.Enterprise.Department != "Sales" || r.Enterprise.Organization != "Example Corp" {
		t.Fatalf("enterprise: %+v", r.Enterprise)
	}
	if a := r.Addresses[0]; a.Locality != "London" || a.Formatted != "London HQ" || a.Country != "GB" || a.Type != "work" {
		t.Fatalf("address: %+v", a)
	}
	if u.ManagerRef != "cn=boss,ou=Root" || len(u.MemberOf) != 1 || !u.Modified.Equal(time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)) {
		t.Fatalf("refs: %+v", u)
	}
}

func TestMapUserRules(t *testing.T) {
	var otds Mapping
	otds.SetDefaults()
	var ad Mapping
	ad.Preset = PresetAD
	ad.SetDefaults()
	guid := string([]byte{0x3e, 0x1c, 0x0c, 0x6f, 0x5c, 0x0b, 0x1c, 0x4f, 0x9d, 0x7e, 0x1a, 0x2b, 0x3c, 0x4d, 0x5e, 0x6f})
	tests := []struct {
		name       string
		m          *Mapping
		e          Entry
		wantUser   string
		wantActive bool
		wantExt    string
		wantErr    bool
	}{
		{name: "mail when no oTExternalID3", m: &otds, e: entry("x", "entryUUID", "1", "mail", "m@x"), wantUser: "m@x", wantActive: true, wantExt: "1"},
		{name: "accountDisabled true", m: &otds, e: entry("x", "entryUUID", "1", "mail", "m@x", "accountDisabled", "TRUE"), wantUser: "m@x", wantExt: "1"},
		{name: "OpenDJ flag", m: &otds, e: entry("x", "entryUUID", "1", "mail", "m@x", "ds-pwp-account-disabled", "true"), wantUser: "m@x", wantExt: "1"},
		{name: "no external id", m: &otds, e: entry("x", "mail", "m@x"), wantErr: true},
		{name: "no userName", m: &otds, e: entry("x", "entryUUID", "1"), wantErr: true},
		{name: "AD objectGUID and UPN", m: &ad, e: entry("x", "objectGUID", guid, "userPrincipalName", "a@corp", "userAccountControl", "512"),
			wantUser: "a@corp", wantActive: true, wantExt: "6f0c1c3e-0b5c-4f1c-9d7e-1a2b3c4d5e6f"},
		{name: "AD disabled bit", m: &ad, e: entry("x", "objectGUID", guid, "sAMAccountName", "jdoe", "userAccountControl", "514"),
			wantUser: "jdoe", wantExt: "6f0c1c3e-0b5c-4f1c-9d7e-1a2b3c4d5e6f"},
		{name: "AD short GUID", m: &ad, e: entry("x", "objectGUID", "abc", "sAMAccountName", "j"), wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := tt.m.MapUser(tt.e)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v", err)
			}
			if err != nil {
				return
			}
			if u.Resource.UserName != tt.wantUser || u.Resource.IsActive() != tt.wantActive || u.ExternalID != tt.wantExt {
				t.Fatalf("got %q active=%v ext=%q", u.Resource.UserName, u.Resource.IsActive(), u.ExternalID)
			}
		})
	}
	g, err := otds.MapGroup(entry("cn=EMEA Sales,ou=groups", "entryUUID", "g1", "cn", "EMEA Sales", "oTMember", "cn=ann", "oTMember", "cn=bob"))
	if err != nil || g.Name != "EMEA Sales" || len(g.Members) != 2 {
		t.Fatalf("group: %+v %v", g, err)
	}
	if errs := (&Mapping{Preset: "novell"}).Validate(); len(errs) == 0 {
		t.Fatal("unknown preset accepted")
	}
}
