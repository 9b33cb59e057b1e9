package ldap

import (
	"testing"
)

func TestNormalizeDN(t *testing.T) {
	tests := []struct{ in, want string }{
		{"cn=Alice Andersen,ou=Root,dc=x", "cn=Alice Andersen,ou=Root,dc=x"},
		{"CN=Alice Andersen, OU=Root,DC=x", "cn=Alice Andersen,ou=Root,dc=x"},
		{`cn=Zoë O'Brien (Sales)\5C*,dc=x`, `cn=Zoë O'Brien (Sales)\\*,dc=x`},
		{`cn=Zoë O'Brien (Sales)\\*,dc=x`, `cn=Zoë O'Brien (Sales)\\*,dc=x`},
		{`cn=Zo\C3\AB,dc=x`, "cn=Zoë,dc=x"},
		{`cn=Mallory *)(objectClass\3D*,dc=x`, "cn=Mallory *)(objectClass=*,dc=x"},
		{`cn=Smith\, John,dc=x`, `cn=Smith\, John,dc=x`},
		{"uid=b+cn=a,dc=x", "cn=a+uid=b,dc=x"},
		{`cn=\ lead,dc=x`, `cn=\ lead,dc=x`},
		{"not a dn", "not a dn"},
		{"", ""},
	}
	for _, tt := range tests {
		got := NormalizeDN(tt.in)
		if got != tt.want {
			t.Errorf("NormalizeDN(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if again := NormalizeDN(got); again != got {
			t.Errorf("not idempotent: %q → %q", got, again)
		}
	}
	if n := testing.AllocsPerRun(100, func() { NormalizeDN("cn=user000001,ou=Root,ou=Bench,dc=identity,dc=opentext,dc=net") }); n != 0 {
		t.Errorf("%v allocations for a normal DN", n)
	}
}
