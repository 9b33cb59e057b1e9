package schemas

// Schema and message URIs (RFC 7643 §8.7, RFC 7644 §3).
const (
	UserURI       = "urn:ietf:params:scim:schemas:core:2.0:User"
	GroupURI      = "urn:ietf:params:scim:schemas:core:2.0:Group"
	EnterpriseURI = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	// HubSpotURI is the bridge's own read-only extension showing a user's HubSpot state.
	HubSpotURI = "urn:scimbridge:params:scim:schemas:extension:hubspot:2.0:User"
	// ADSCIMGroupURI is an extra schema URI Microsoft Entra ID puts on groups it creates.
	ADSCIMGroupURI = "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"

	ListResponseURI  = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
	PatchOpURI       = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
	SearchRequestURI = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"
	ErrorURI         = "urn:ietf:params:scim:api:messages:2.0:Error"
)
