package schemas

import (
	"strings"
	"time"
)

// User is a SCIM User (RFC 7643 §4.1) with the enterprise extension and the
// bridge's read-only HubSpot extension. It holds exactly what the schema
// documents describe; JSON names are the canonical SCIM attribute names.
type User struct {
	ID                string         `json:"id,omitempty"`
	ExternalID        string         `json:"externalId,omitempty"`
	UserName          string         `json:"userName"`
	Name              *Name          `json:"name,omitempty"`
	DisplayName       string         `json:"displayName,omitempty"`
	NickName          string         `json:"nickName,omitempty"`
	Title             string         `json:"title,omitempty"`
	UserType          string         `json:"userType,omitempty"`
	PreferredLanguage string         `json:"preferredLanguage,omitempty"`
	Locale            string         `json:"locale,omitempty"`
	Timezone          string         `json:"timezone,omitempty"`
	Active            *bool          `json:"active,omitempty"`
	Emails            []MultiValue   `json:"emails,omitempty"`
	PhoneNumbers      []MultiValue   `json:"phoneNumbers,omitempty"`
	Addresses         []Address      `json:"addresses,omitempty"`
	Groups            []GroupRef     `json:"groups,omitempty"`
	Entitlements      []MultiValue   `json:"entitlements,omitempty"`
	Roles             []MultiValue   `json:"roles,omitempty"`
	Enterprise        *EnterpriseExt `json:"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User,omitempty"`
	HubSpot           *HubSpotExt    `json:"urn:scimbridge:params:scim:schemas:extension:hubspot:2.0:User,omitempty"`
	Meta              Meta           `json:"-"`
	// Origin says who owns the resource: OriginSCIM (pushed by a SCIM
	// client) or OriginDirectory (created or adopted by the directory
	// reconcile). Not a SCIM attribute.
	Origin string `json:"-"`
}

// Origins of a resource.
const (
	OriginSCIM      = "scim"
	OriginDirectory = "directory"
)

// Name is the complex name attribute.
type Name struct {
	Formatted       string `json:"formatted,omitempty"`
	FamilyName      string `json:"familyName,omitempty"`
	GivenName       string `json:"givenName,omitempty"`
	MiddleName      string `json:"middleName,omitempty"`
	HonorificPrefix string `json:"honorificPrefix,omitempty"`
	HonorificSuffix string `json:"honorificSuffix,omitempty"`
}

// MultiValue is the shape of emails, phoneNumbers, roles and entitlements.
type MultiValue struct {
	Value   string `json:"value,omitempty"`
	Display string `json:"display,omitempty"`
	Type    string `json:"type,omitempty"`
	Primary bool   `json:"primary,omitempty"`
}

// Address is one entry of addresses.
type Address struct {
	Formatted     string `json:"formatted,omitempty"`
	StreetAddress string `json:"streetAddress,omitempty"`
	Locality      string `json:"locality,omitempty"`
	Region        string `json:"region,omitempty"`
	PostalCode    string `json:"postalCode,omitempty"`
	Country       string `json:"country,omitempty"`
	Type          string `json:"type,omitempty"`
	Primary       bool   `json:"primary,omitempty"`
}

// GroupRef is one entry of the read-only groups attribute.
type GroupRef struct {
	Value   string `json:"value"`
	Ref     string `json:"$ref,omitempty"`
	Display string `json:"display,omitempty"`
	Type    string `json:"type,omitempty"`
}

// EnterpriseExt is the enterprise User extension (RFC 7643 §4.3).
type EnterpriseExt struct {
	EmployeeNumber string   `json:"employeeNumber,omitempty"`
	CostCenter     string   `json:"costCenter,omitempty"`
	Organization   string   `json:"organization,omitempty"`
	Division       string   `json:"division,omitempty"`
	Department     string   `json:"department,omitempty"`
	Manager        *Manager `json:"manager,omitempty"`
}

// Manager references the User's manager by SCIM id.
type Manager struct {
	Value       string `json:"value,omitempty"`
	Ref         string `json:"$ref,omitempty"`
	DisplayName string `json:"displayName,omitempty"`
}

// HubSpotExt is the bridge's read-only view of a user's HubSpot account.
type HubSpotExt struct {
	HubSpotUserID     string   `json:"hubspotUserId,omitempty"`
	Role              string   `json:"role,omitempty"`
	PrimaryTeam       string   `json:"primaryTeam,omitempty"`
	SecondaryTeams    []string `json:"secondaryTeams,omitempty"`
	SuperAdmin        bool     `json:"superAdmin,omitempty"`
	ProvisioningState string   `json:"provisioningState,omitempty"`
	LastError         string   `json:"lastError,omitempty"`
	// NextAttemptAt is when queued work is tried again (pending after
	// transient trouble, deferred, failed).
	NextAttemptAt *time.Time `json:"nextAttemptAt,omitempty"`
	LastSyncedAt  *time.Time `json:"lastSyncedAt,omitempty"`
	// HubSpotEmail is the linked HubSpot user's email when it differs from
	// the User's: HubSpot cannot change a user's email, so under
	// provisioning.email_change keep the account stays linked by id.
	HubSpotEmail string `json:"hubspotEmail,omitempty"`
}

// Meta is the resource metadata kept by the store (RFC 7643 §3.1).
type Meta struct {
	Created      time.Time
	LastModified time.Time
	// Version increases by one on every change of the resource.
	Version int64
}

// ETag renders the version as a weak entity tag (RFC 7644 §3.14).
func (m Meta) ETag() string { return ETag(m.Version) }

// IsActive reports the user's administrative status; a user created without
// an active attribute is active.
func (u *User) IsActive() bool { return u.Active == nil || *u.Active }

// PrimaryEmail picks the address HubSpot will know the user by: the primary
// email, else the first work email, else the first email.
func (u *User) PrimaryEmail() string {
	for _, e := range u.Emails {
		if e.Primary && e.Value != "" {
			return e.Value
		}
	}
	for _, e := range u.Emails {
		if strings.EqualFold(e.Type, "work") && e.Value != "" {
			return e.Value
		}
	}
	for _, e := range u.Emails {
		if e.Value != "" {
			return e.Value
		}
	}
	return ""
}
