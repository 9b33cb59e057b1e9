package ldapmem

import (
	"strings"

	"github.com/go-ldap/ldap/v3"
	"github.com/jimlambrt/gldap"
)

func (s *Server) handleSearch(w *gldap.ResponseWriter, r *gldap.Request) {
	done := r.NewSearchDoneResponse(gldap.WithResponseCode(gldap.ResultSuccess))
	var paging *gldap.ControlPaging
	defer func() {
		if paging != nil {
			done.SetControls(paging)
		}
		w.Write(done)
	}()
	if _, ok := s.boundAs(r.ConnectionID()); !ok {
		done.SetResultCode(gldap.ResultInsufficientAccessRights)
		done.SetDiagnosticMessage("bind first")
		return
	}
	m, err := r.GetSearchMessage()
	if err != nil {
		done.SetResultCode(gldap.ResultProtocolError)
		return
	}
	var req *gldap.ControlPaging
	for _, c := range m.Controls {
		if p, ok := c.(*gldap.ControlPaging); ok {
			req = p
		}
	}
	if m.BaseDN == "" && m.Scope == gldap.BaseObject {
		s.rootDSE(w, r, m)
		return
	}

	var results []*entry
	if req != nil && len(req.Cookie) > 0 {
		s.mu.Lock()
		var ok bool
		results, ok = s.cursors[string(req.Cookie)]
		delete(s.cursors, string(req.Cookie))
		s.mu.Unlock()
		if !ok {
			done.SetResultCode(gldap.ResultUnwillingToPerform)
			done.SetDiagnosticMessage("unknown paged results cookie")
			return
		}
		if req.PagingSize == 0 { // abandon (RFC 2696 section 3)
			paging = &gldap.ControlPaging{}
			return
		}
	} else {
		var code int
		if results, code = s.find(m); code != gldap.ResultSuccess {
			done.SetResultCode(code)
			return
		}
	}

	page := results
	if req != nil && req.PagingSize > 0 && len(page) > int(req.PagingSize) {
		page = results[:req.PagingSize]
		rest := results[req.PagingSize:]
		cookie := newCookie()
		s.mu.Lock()
		if len(s.cursors) >= maxCursors {
			clear(s.cursors)
		}
		s.cursors[cookie] = rest
		s.mu.Unlock()
		paging = &gldap.ControlPaging{Cookie: []byte(cookie)}
	} else if req != nil {
		paging = &gldap.ControlPaging{}
	}
	if req == nil && m.SizeLimit > 0 && int64(len(page)) > m.SizeLimit {
		page = page[:m.SizeLimit]
		done.SetResultCode(gldap.ResultSizeLimitExceeded)
	}
	sel := newAttrSelector(m.Attributes)
	for _, e := range page {
		resp := r.NewSearchResponseEntry(e.dn)
		for _, a := range e.attrs {
			if sel.want(a.Name) {
				if m.TypesOnly {
					resp.AddAttribute(a.Name, nil)
				} else {
					resp.AddAttribute(a.Name, a.Values)
				}
			}
		}
		if err := w.Write(resp); err != nil {
			return // the client is gone
		}
	}
}

// find returns the entries in scope that match the filter, in load order.
func (s *Server) find(m *gldap.SearchMessage) ([]*entry, int) {
	base, err := normDN(m.BaseDN)
	if err != nil {
		return nil, gldap.ResultInvalidDNSyntax
	}
	f, err := ldap.CompileFilter(m.Filter)
	if err != nil {
		return nil, gldap.ResultProtocolError
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if _, ok := s.byDN[joinDN(base)]; !ok && len(base) > 0 {
		return nil, gldap.ResultNoSuchObject
	}
	var out []*entry
	for _, e := range s.entries {
		if !within(e.rdns, base, int64(m.Scope)) {
			continue
		}
		ok, err := match(f, e)
		if err != nil {
			return nil, gldap.ResultProtocolError
		}
		if ok {
			out = append(out, e)
		}
	}
	return out, gldap.ResultSuccess
}

// rootDSE answers a base search of "" with the naming contexts and the
// paged results control, as clients that probe capabilities expect.
func (s *Server) rootDSE(w *gldap.ResponseWriter, r *gldap.Request, m *gldap.SearchMessage) {
	s.mu.RLock()
	var contexts []string
	for _, e := range s.entries {
		parent := joinDN(e.rdns[1:])
		if _, ok := s.byDN[parent]; !ok {
			contexts = append(contexts, e.dn)
		}
	}
	s.mu.RUnlock()
	attrs := []Attr{
		{Name: "namingContexts", Values: contexts},
		{Name: "supportedControl", Values: []string{ldap.ControlTypePaging}},
		{Name: "supportedLDAPVersion", Values: []string{"3"}},
		{Name: "vendorName", Values: []string{"scimbridge ldapmem"}},
	}
	sel := newAttrSelector(m.Attributes)
	resp := r.NewSearchResponseEntry("")
	for _, a := range attrs {
		if sel.all || sel.names[strings.ToLower(a.Name)] {
			resp.AddAttribute(a.Name, a.Values)
		}
	}
	w.Write(resp)
}
