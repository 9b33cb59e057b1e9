package schemas

// Group is a SCIM Group (RFC 7643 §4.2).
type Group struct {
	ID          string   `json:"id,omitempty"`
	ExternalID  string   `json:"externalId,omitempty"`
	DisplayName string   `json:"displayName"`
	Members     []Member `json:"members,omitempty"`
	Meta        Meta     `json:"-"`
	// MembersLoaded is false when the group was read without its members
	// (excludedAttributes=members): Members is then empty, not known to be.
	MembersLoaded bool `json:"-"`
	// Origin is OriginSCIM or OriginDirectory, as for User.
	Origin string `json:"-"`
}

// Member is one entry of a group's members.
type Member struct {
	Value   string `json:"value"`
	Ref     string `json:"$ref,omitempty"`
	Display string `json:"display,omitempty"`
	// Type is "User" or "Group".
	Type string `json:"type,omitempty"`
}

// Member types.
const (
	MemberUser  = "User"
	MemberGroup = "Group"
)
