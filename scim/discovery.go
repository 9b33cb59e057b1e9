package scim

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// serviceProviderConfig renders /ServiceProviderConfig (RFC 7643 §5) as
// what the bridge really supports: PATCH, filters, sorting and ETags yes;
// bulk and password changes no.
func (s *Server) serviceProviderConfig() ([]byte, error) {
	type supported struct {
		Supported bool `json:"supported"`
	}
	return json.Marshal(map[string]any{
		"schemas":          []string{"urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"},
		"documentationUri": "https://github.com/scimbridge/scimbridge#readme",
		"patch":            supported{true},
		"bulk":             map[string]any{"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
		"filter":           map[string]any{"supported": true, "maxResults": s.cfg.MaxResults},
		"changePassword":   supported{false},
		"sort":             supported{true},
		"etag":             supported{true},
		"authenticationSchemes": []map[string]any{{
			"type":        "oauthbearertoken",
			"name":        "OAuth Bearer Token",
			"description": "Authentication with a bearer token in the Authorization header (RFC 6750).",
			"specUri":     "https://www.rfc-editor.org/rfc/rfc6750",
			"primary":     true,
		}},
		"meta": map[string]any{
			"resourceType": "ServiceProviderConfig",
			"location":     s.cfg.BaseURL + "/ServiceProviderConfig",
		},
	})
}

func (s *Server) handleServiceProviderConfig(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(s.spc)))
	_, _ = w.Write(s.spc)
}
