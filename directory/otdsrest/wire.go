package otdsrest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// page is one answer of GET /users or GET /groups (pyxecm's get_users and
// get_groups examples). The list is raw so that a missing list (an answer
// that is not a page) is told apart from an empty one.
type page struct {
	Users             json.RawMessage `json:"users"`
	Groups            json.RawMessage `json:"groups"`
	ActualPageSize    int             `json:"actualPageSize"`
	RequestedPageSize int             `json:"requestedPageSize"`
	NextPageCookie    cookie          `json:"nextPageCookie"`
}

// items decodes the list under key ("users" or "groups").
func (p *page) items(key string) ([]object, error) {
	raw := p.Users
	if key == "groups" {
		raw = p.Groups
	}
	if len(raw) == 0 {
		return nil, fmt.Errorf("the answer has no %q list", key)
	}
	var out []object
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, fmt.Errorf("decoding %q: %w", key, err)
	}
	return out, nil
}

// cookie is nextPageCookie: a string, null, or (as one client observed) an
// array. An array of strings gives its first non-empty element; an array
// of numbers is read as bytes (a Java byte[] serialised as numbers) and
// sent back base64-encoded, as Jackson writes byte[] (an assumption).
type cookie string

func (c *cookie) UnmarshalJSON(b []byte) error {
	*c = ""
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		return nil
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*c = cookie(s)
		return nil
	case len(b) > 0 && b[0] == '[':
		var items []json.RawMessage
		if err := json.Unmarshal(b, &items); err != nil {
			return err
		}
		var raw []byte
		for _, it := range items {
			var s string
			if json.Unmarshal(it, &s) == nil {
				if s != "" {
					*c = cookie(s)
					return nil
				}
				continue
			}
			n, err := strconv.Atoi(string(bytes.TrimSpace(it)))
			if err != nil || n < -128 || n > 255 {
				return fmt.Errorf("nextPageCookie: unexpected element %s", it)
			}
			raw = append(raw, byte(n))
		}
		if len(raw) > 0 {
			*c = cookie(base64.StdEncoding.EncodeToString(raw))
		}
		return nil
	}
	return fmt.Errorf("nextPageCookie: unexpected %s", shorten(string(b)))
}

// object is a user or group (pyxecm's examples): attributes arrive as an
// "attributes" map with attrsAsKeys=true, as a "values" list otherwise.
type object struct {
	ID              string               `json:"id"`
	Name            string               `json:"name"`
	UUID            string               `json:"uuid"`
	Location        string               `json:"location"`
	UserPartitionID string               `json:"userPartitionID"`
	ObjectClass     string               `json:"objectClass"`
	Description     stringish            `json:"description"`
	Attributes      map[string]valueList `json:"attributes"`
	Values          []struct {
		Name   string    `json:"name"`
		Values valueList `json:"values"`
	} `json:"values"`
}

// valueList is an attribute's values: an array of strings per OTDS, read
// tolerantly (null, a single value, numbers or booleans become strings).
type valueList []string

func (v *valueList) UnmarshalJSON(b []byte) error {
	*v = nil
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, []byte("null")) {
		return nil
	}
	if len(b) > 0 && b[0] == '[' {
		var items []stringish
		if err := json.Unmarshal(b, &items); err != nil {
			return err
		}
		for _, it := range items {
			*v = append(*v, string(it))
		}
		return nil
	}
	var one stringish
	if err := json.Unmarshal(b, &one); err != nil {
		return err
	}
	*v = valueList{string(one)}
	return nil
}

// stringish is a JSON string, number or boolean as text; null is "".
type stringish string

func (s *stringish) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		*s = ""
	case len(b) > 0 && b[0] == '"':
		var str string
		if err := json.Unmarshal(b, &str); err != nil {
			return err
		}
		*s = stringish(str)
	case bytes.Equal(b, []byte("true")), bytes.Equal(b, []byte("false")):
		*s = stringish(b)
	default:
		var n json.Number
		if err := json.Unmarshal(b, &n); err != nil {
			return fmt.Errorf("expected a string, got %s", shorten(string(b)))
		}
		*s = stringish(n.String())
	}
	return nil
}

// Synthetic attribute names the driver adds to every entry.
const (
	AttrEntryUUID   = "entryuuid"   // the object's uuid
	AttrDN          = "dn"          // the object's location (its DN)
	AttrName        = "name"        // the object's name
	AttrID          = "id"          // the object's id (also the Entry's Ref)
	AttrPartition   = "partition"   // userPartitionID
	AttrObjectClass = "objectclass" // objectClass (oTPerson, oTGroup)
)

// attrs builds the lower-cased attribute map of an object: the attributes
// (either shape; both are merged when both are sent), then the synthetic
// attributes, which replace attributes of the same name; objectclass and
// description fill in only when no attribute carries them.
func (o *object) attrs() map[string][]string {
	out := make(map[string][]string, len(o.Attributes)+len(o.Values)+6)
	add := func(name string, vs []string) {
		k := strings.ToLower(name)
		out[k] = append(out[k], vs...)
	}
	for _, name := range slices.Sorted(maps.Keys(o.Attributes)) { // stable when names differ only in case
		add(name, o.Attributes[name])
	}
	for _, nv := range o.Values {
		if nv.Name != "" {
			add(nv.Name, nv.Values)
		}
	}
	set := func(name, v string) {
		if v != "" {
			out[name] = []string{v}
		}
	}
	set(AttrEntryUUID, o.UUID)
	set(AttrDN, o.Location)
	set(AttrName, o.Name)
	set(AttrID, o.ID)
	set(AttrPartition, o.UserPartitionID)
	if _, ok := out[AttrObjectClass]; !ok {
		set(AttrObjectClass, o.ObjectClass)
	}
	if _, ok := out["description"]; !ok {
		set("description", string(o.Description))
	}
	return out
}
