package schemas

import (
	"embed"
	"encoding/json"
	"fmt"
	"strings"
)

//go:embed json/*.json
var documents embed.FS

// Attribute types, mutability and returned values as spelled in RFC 7643 §7.
const (
	TypeString    = "string"
	TypeBoolean   = "boolean"
	TypeDecimal   = "decimal"
	TypeInteger   = "integer"
	TypeDateTime  = "dateTime"
	TypeReference = "reference"
	TypeComplex   = "complex"
	TypeBinary    = "binary"

	ReadOnly  = "readOnly"
	ReadWrite = "readWrite"
	Immutable = "immutable"
	WriteOnly = "writeOnly"

	ReturnedAlways  = "always"
	ReturnedNever   = "never"
	ReturnedDefault = "default"
	ReturnedRequest = "request"
)

// Attribute is one attribute definition of a schema document (RFC 7643 §7).
type Attribute struct {
	Name            string       `json:"name"`
	Type            string       `json:"type"`
	MultiValued     bool         `json:"multiValued"`
	Description     string       `json:"description,omitempty"`
	Required        bool         `json:"required"`
	CaseExact       bool         `json:"caseExact,omitempty"`
	Mutability      string       `json:"mutability"`
	Returned        string       `json:"returned"`
	Uniqueness      string       `json:"uniqueness,omitempty"`
	CanonicalValues []string     `json:"canonicalValues,omitempty"`
	ReferenceTypes  []string     `json:"referenceTypes,omitempty"`
	SubAttributes   []*Attribute `json:"subAttributes,omitempty"`
}

// Sub returns the sub-attribute with the given name, compared without regard
// to case (RFC 7643 §2.1: attribute names are case insensitive).
func (a *Attribute) Sub(name string) *Attribute {
	return find(a.SubAttributes, name)
}

func find(attrs []*Attribute, name string) *Attribute {
	for _, a := range attrs {
		if strings.EqualFold(a.Name, name) {
			return a
		}
	}
	return nil
}

// Schema is one schema document.
type Schema struct {
	ID          string       `json:"id"`
	Name        string       `json:"name"`
	Description string       `json:"description"`
	Attributes  []*Attribute `json:"attributes"`
}

// Attr returns the attribute with the given name, without regard to case.
func (s *Schema) Attr(name string) *Attribute { return find(s.Attributes, name) }

// ResourceType ties a core schema to its extensions (RFC 7643 §6).
type ResourceType struct {
	Name       string
	Endpoint   string
	Core       *Schema
	Extensions []*Schema
}

// Extension returns the extension schema with the given URI, matched without
// regard to case, or nil.
func (rt *ResourceType) Extension(uri string) *Schema {
	for _, e := range rt.Extensions {
		if strings.EqualFold(e.ID, uri) {
			return e
		}
	}
	return nil
}

// SchemaURIs lists the core schema URI followed by the extension URIs.
func (rt *ResourceType) SchemaURIs() []string {
	out := []string{rt.Core.ID}
	for _, e := range rt.Extensions {
		out = append(out, e.ID)
	}
	return out
}

// Catalog is every schema document the bridge serves, parsed.
type Catalog struct {
	User, Group, Enterprise, HubSpot *Schema
	Users, Groups                    *ResourceType
	raw                              map[string][]byte
}

// Load parses the embedded schema documents. It fails only if the embedded
// files are broken, which tests catch.
func Load() (*Catalog, error) {
	c := &Catalog{raw: map[string][]byte{}}
	for _, f := range []struct {
		file string
		dst  **Schema
	}{
		{"json/user.json", &c.User},
		{"json/group.json", &c.Group},
		{"json/enterprise_user.json", &c.Enterprise},
		{"json/hubspot_user.json", &c.HubSpot},
	} {
		data, err := documents.ReadFile(f.file)
		if err != nil {
			return nil, fmt.Errorf("schemas: %w", err)
		}
		s := new(Schema)
		if err := json.Unmarshal(data, s); err != nil {
			return nil, fmt.Errorf("schemas: %s: %w", f.file, err)
		}
		*f.dst = s
		c.raw[s.ID] = data
	}
	c.Users = &ResourceType{Name: "User", Endpoint: "/Users", Core: c.User, Extensions: []*Schema{c.Enterprise, c.HubSpot}}
	c.Groups = &ResourceType{Name: "Group", Endpoint: "/Groups", Core: c.Group}
	return c, nil
}

// MustLoad is Load for callers that cannot proceed without the schemas.
func MustLoad() *Catalog {
	c, err := Load()
	if err != nil {
		panic(err)
	}
	return c
}

// Document returns the raw JSON document of a schema by URI.
func (c *Catalog) Document(uri string) ([]byte, bool) {
	d, ok := c.raw[uri]
	return d, ok
}

// Common attributes every resource carries (RFC 7643 §3.1).
var commonAttributes = []*Attribute{
	{Name: "id", Type: TypeString, CaseExact: true, Mutability: ReadOnly, Returned: ReturnedAlways, Uniqueness: "server"},
	{Name: "externalId", Type: TypeString, CaseExact: true, Mutability: ReadWrite, Returned: ReturnedDefault},
	{Name: "meta", Type: TypeComplex, Mutability: ReadOnly, Returned: ReturnedDefault, SubAttributes: []*Attribute{
		{Name: "resourceType", Type: TypeString, CaseExact: true, Mutability: ReadOnly},
		{Name: "created", Type: TypeDateTime, Mutability: ReadOnly},
		{Name: "lastModified", Type: TypeDateTime, Mutability: ReadOnly},
		{Name: "location", Type: TypeReference, CaseExact: true, Mutability: ReadOnly},
		{Name: "version", Type: TypeString, CaseExact: true, Mutability: ReadOnly},
	}},
}

// CommonAttribute returns id, externalId or meta by name.
func CommonAttribute(name string) *Attribute { return find(commonAttributes, name) }

// Ref is an attribute reference resolved against a resource type: which
// schema it lives in, the attribute, and the sub-attribute when one is named.
type Ref struct {
	// Schema is the URI of the schema holding the attribute; empty for the
	// common attributes id, externalId and meta.
	Schema string
	Attr   *Attribute
	Sub    *Attribute
}

// Path renders the canonical attribute path, e.g. "name.givenName" or
// "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value".
func (r Ref) Path() string {
	p := r.Attr.Name
	if r.Schema != "" && r.Schema != UserURI && r.Schema != GroupURI {
		p = r.Schema + ":" + p
	}
	if r.Sub != nil {
		p += "." + r.Sub.Name
	}
	return p
}

// Leaf is the attribute a comparison applies to: the sub-attribute if named,
// else the attribute.
func (r Ref) Leaf() *Attribute {
	if r.Sub != nil {
		return r.Sub
	}
	return r.Attr
}

// Resolve finds an attribute by optional schema URI, name and optional
// sub-attribute, without regard to case. A URI of the core schema is allowed.
func (rt *ResourceType) Resolve(uri, name, sub string) (Ref, error) {
	var ref Ref
	switch {
	case uri == "" || strings.EqualFold(uri, rt.Core.ID):
		if a := rt.Core.Attr(name); a != nil {
			ref = Ref{Schema: rt.Core.ID, Attr: a}
		} else if a := CommonAttribute(name); a != nil && uri == "" {
			ref = Ref{Attr: a}
		} else if e := rt.Extension(name); e != nil && uri == "" && sub == "" {
			return Ref{}, fmt.Errorf("%q is a schema, not an attribute", name)
		} else {
			return Ref{}, fmt.Errorf("unknown attribute %q", name)
		}
	default:
		ext := rt.Extension(uri)
		if ext == nil {
			return Ref{}, fmt.Errorf("unknown schema %q", uri)
		}
		a := ext.Attr(name)
		if a == nil {
			return Ref{}, fmt.Errorf("unknown attribute %q in schema %q", name, ext.ID)
		}
		ref = Ref{Schema: ext.ID, Attr: a}
	}
	if sub != "" {
		if ref.Attr.Type != TypeComplex {
			return Ref{}, fmt.Errorf("attribute %q has no sub-attributes", ref.Attr.Name)
		}
		s := ref.Attr.Sub(sub)
		if s == nil {
			return Ref{}, fmt.Errorf("unknown sub-attribute %q of %q", sub, ref.Attr.Name)
		}
		ref.Sub = s
	}
	return ref, nil
}

// ResolvePath resolves a textual attribute path such as "name.givenName",
// "emails" or "urn:…:enterprise:2.0:User:manager.value".
func (rt *ResourceType) ResolvePath(path string) (Ref, error) {
	uri, rest := SplitURN(path, rt)
	name, sub, _ := strings.Cut(rest, ".")
	return rt.Resolve(uri, name, sub)
}

// SplitURN splits a schema URI prefix off an attribute path. The URI is
// recognised by matching the resource type's schema URIs, since URIs contain
// dots and colons themselves.
func SplitURN(path string, rt *ResourceType) (uri, rest string) {
	for _, u := range rt.SchemaURIs() {
		if len(path) > len(u) && strings.EqualFold(path[:len(u)], u) && path[len(u)] == ':' {
			return u, path[len(u)+1:]
		}
	}
	return "", path
}

// NameOrEmpty returns the attribute's name, or "" for a nil attribute.
func (a *Attribute) NameOrEmpty() string {
	if a == nil {
		return ""
	}
	return a.Name
}
