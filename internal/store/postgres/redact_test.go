package postgres

import (
	"strings"
	"testing"
)

func TestRedact(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"postgres://bridge:s3cret@db:5432/scim?sslmode=verify-full", "postgres://bridge:xxxxx@db:5432/scim?sslmode=verify-full"},
		{"postgresql://bridge@db/scim?password=s3cret", "postgresql://bridge@db/scim?password=xxxxx"},
		{"postgres://db/scim", "postgres://db/scim"},
		{"host=db user=bridge password=s3cret dbname=scim", "host=db user=bridge password=xxxxx dbname=scim"},
		{`host=db password = 'it\'s s3cret \\ x' dbname=scim`, "host=db password=xxxxx dbname=scim"},
		{"host=db PASSWORD=s3cret", "host=db password=xxxxx"},
		{`host=db password=s3\ cret user=x`, "host=db password=xxxxx user=x"},
		{"host=db password=x sslpassword=s3cret", "host=db password=xxxxx sslpassword=xxxxx"},
		{"postgres://db/scim?sslmode=verify-full&sslpassword=s3cret", "postgres://db/scim?sslmode=verify-full&sslpassword=xxxxx"},
		{"postgres://bridge:s3cret@db:bad-port/scim", "(a connection string that does not parse)"},
	} {
		got := Redact(tc.in)
		if got != tc.want {
			t.Errorf("Redact(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if strings.Contains(got, "s3cret") {
			t.Errorf("Redact(%q) kept the password: %q", tc.in, got)
		}
	}
}
