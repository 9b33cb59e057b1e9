package sqlite

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/schemas"
)

func mustTime(t testing.TB, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func mustUnmarshal(t testing.TB, data []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatal(err)
	}
}

func contains(s []string, v string) bool { return slices.Contains(s, v) }

func fullyPopulatedUser() *schemas.User {
	tr := true
	mv := []schemas.MultiValue{{Value: "v", Display: "d", Type: "t", Primary: true}}
	now := time.Now()
	return &schemas.User{
		ID: "id", ExternalID: "e", UserName: "u",
		Name:        &schemas.Name{Formatted: "f", FamilyName: "f", GivenName: "g", MiddleName: "m", HonorificPrefix: "p", HonorificSuffix: "s"},
		DisplayName: "d", NickName: "n", Title: "t", UserType: "u", PreferredLanguage: "en", Locale: "en", Timezone: "UTC",
		Active: &tr, Emails: mv, PhoneNumbers: mv, Entitlements: mv, Roles: mv,
		Addresses: []schemas.Address{{Formatted: "f", StreetAddress: "s", Locality: "l", Region: "r", PostalCode: "p", Country: "c", Type: "t", Primary: true}},
		Groups:    []schemas.GroupRef{{Value: "g"}},
		Enterprise: &schemas.EnterpriseExt{EmployeeNumber: "1", CostCenter: "c", Organization: "o", Division: "d", Department: "d",
			Manager: &schemas.Manager{Value: "m", Ref: "r", DisplayName: "d"}},
		HubSpot: &schemas.HubSpotExt{HubSpotUserID: "h", Role: "r", PrimaryTeam: "p", SecondaryTeams: []string{"s"}, SuperAdmin: true,
			ProvisioningState: "s", LastError: "e", LastSyncedAt: &now, NextAttemptAt: &now, HubSpotEmail: "old@example.com"},
	}
}
