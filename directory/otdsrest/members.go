package otdsrest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"sync"

	"github.com/scimbridge/scimbridge/directory"
)

// index finds an object's id from what memberships hold. OTDS lists a
// user's groups in oTMemberOf as DNs, and not always as the group's
// location: OpenText's own example shows oTGroup=<uuid>,dc=identity,… for a
// group located at oTGroup=<uuid>,orgunit=groups,partition=…. So a value is
// looked up as an id, as a DN (location or entryDN, compared without regard
// to case or spaces), as a uuid, and by the value of its first RDN as a
// uuid (oTGroup=<uuid> or oTPerson=<uuid>).
type index struct {
	ids  map[string]bool
	keys map[string]string // "dn:<normalised>" or "uuid:<lower>" → id
}

func newIndex() *index { return &index{ids: map[string]bool{}, keys: map[string]string{}} }

// add indexes an entry by its id, DNs and uuids.
func (x *index) add(e directory.Entry) {
	x.ids[e.Ref] = true
	for _, dn := range append(e.Values(AttrDN), e.Values("entryDN")...) {
		if dn != "" {
			x.keys["dn:"+normDN(dn)] = e.Ref
		}
	}
	for _, u := range e.Values(AttrEntryUUID) {
		if u != "" {
			x.keys["uuid:"+strings.ToLower(u)] = e.Ref
		}
	}
}

// resolve returns the id of the object a membership value names.
func (x *index) resolve(v string) (string, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return "", false
	}
	if x.ids[v] {
		return v, true
	}
	if id, ok := x.keys["dn:"+normDN(v)]; ok {
		return id, true
	}
	if id, ok := x.keys["uuid:"+strings.ToLower(v)]; ok {
		return id, true
	}
	if rdn, _, _ := cutDN(v); rdn != "" {
		if _, val, ok := strings.Cut(rdn, "="); ok {
			if id, ok := x.keys["uuid:"+strings.ToLower(strings.TrimSpace(val))]; ok {
				return id, true
			}
		}
	}
	return "", false
}

// resolveAll resolves values, dropping (and counting) those out of scope.
func (x *index) resolveAll(vs []string, unresolved *int) []string {
	var out []string
	for _, v := range vs {
		if id, ok := x.resolve(v); ok {
			out = append(out, id)
		} else {
			*unresolved++
		}
	}
	return dedupe(out)
}

// cutDN splits a DN at its first unescaped comma.
func cutDN(dn string) (first, rest string, found bool) {
	for i := 0; i < len(dn); i++ {
		switch dn[i] {
		case '\\':
			i++
		case ',':
			return dn[:i], dn[i+1:], true
		}
	}
	return dn, "", false
}

// normDN lower-cases a DN and drops the spaces around its separators, so
// "oTGroup=X, dc=identity" and "otgroup=x,dc=identity" compare equal.
func normDN(dn string) string {
	var b strings.Builder
	for rest, more := dn, true; more; {
		var rdn string
		rdn, rest, more = cutDN(rest)
		typ, val, _ := strings.Cut(rdn, "=")
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strings.ToLower(strings.TrimSpace(typ)))
		b.WriteByte('=')
		b.WriteString(strings.ToLower(strings.TrimSpace(val)))
	}
	return b.String()
}

// setRefs sets (or, empty, removes) a membership attribute.
func setRefs(attrs map[string][]string, name string, refs []string) {
	if len(refs) == 0 {
		delete(attrs, name)
		return
	}
	attrs[name] = refs
}

func dedupe(in []string) []string {
	seen := make(map[string]bool, len(in))
	out := in[:0:0]
	for _, v := range in {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

// memberships asks GET /users/{id}/memberof for each id, at most
// MemberOfConcurrency at a time, and resolves the groups against gx. The
// first failure cancels the rest and is returned.
func (s *Source) memberships(ctx context.Context, gx *index, ids []string) ([][]string, int, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	out := make([][]string, len(ids))
	dropped := make([]int, len(ids))
	sem := make(chan struct{}, s.cfg.MemberOfConcurrency)
	var wg sync.WaitGroup
loop:
	for i, id := range ids {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			break loop
		}
		wg.Go(func() {
			defer func() { <-sem }()
			groups, n, err := s.groupsOf(ctx, gx, id)
			if err != nil {
				cancel(err) // the first cause is kept
				return
			}
			out[i], dropped[i] = groups, n
		})
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return nil, 0, err
	}
	total := 0
	for _, n := range dropped {
		total += n
	}
	return out, total, nil
}

// groupsOf reads one user's groups: {"groups":[{id,…}]} as OTDS answers
// (pyxecm reads group["id"]); a bare array, group ids as strings and a
// nextPageCookie are tolerated.
func (s *Source) groupsOf(ctx context.Context, gx *index, userID string) ([]string, int, error) {
	path := "/users/" + url.PathEscape(userID) + "/memberof"
	var refs []string
	dropped := 0
	var next cookie
	for n := 1; ; n++ {
		q := url.Values{"attrsAsKeys": {"true"}}
		if next != "" {
			q.Set("next_page_cookie", string(next))
		}
		var raw json.RawMessage
		if err := s.get(ctx, path, "", q, &raw); err != nil {
			return nil, 0, err
		}
		items, cookie, err := decodeMemberOf(raw)
		if err != nil {
			return nil, 0, fmt.Errorf("otdsrest: GET %s: %w", path, err)
		}
		for _, it := range items {
			id, ok := "", false
			for _, key := range []string{it.ID, it.UUID, it.Location} {
				if id, ok = gx.resolve(key); ok {
					break
				}
			}
			if ok {
				refs = append(refs, id)
			} else {
				dropped++
			}
		}
		if cookie == "" {
			return dedupe(refs), dropped, nil
		}
		if n >= maxEmptyPages {
			return nil, 0, fmt.Errorf("otdsrest: GET %s: more than %d pages", path, maxEmptyPages)
		}
		next = cookie
	}
}

func decodeMemberOf(raw json.RawMessage) ([]object, cookie, error) {
	raw = bytes.TrimSpace(raw)
	var list json.RawMessage
	var next cookie
	if len(raw) > 0 && raw[0] == '[' {
		list = raw
	} else {
		var body struct {
			Groups         json.RawMessage `json:"groups"`
			NextPageCookie cookie          `json:"nextPageCookie"`
		}
		if err := json.Unmarshal(raw, &body); err != nil {
			return nil, "", fmt.Errorf("decoding the answer: %w", err)
		}
		if len(body.Groups) == 0 {
			return nil, "", fmt.Errorf("the answer has no \"groups\" list")
		}
		list, next = body.Groups, body.NextPageCookie
	}
	var items []json.RawMessage
	if err := json.Unmarshal(list, &items); err != nil {
		return nil, "", fmt.Errorf("decoding \"groups\": %w", err)
	}
	out := make([]object, 0, len(items))
	for _, it := range items {
		var o object
		var id string
		if json.Unmarshal(it, &id) == nil {
			o.ID = id
		} else if err := json.Unmarshal(it, &o); err != nil {
			return nil, "", fmt.Errorf("decoding \"groups\": %w", err)
		}
		out = append(out, o)
	}
	return out, next, nil
}
