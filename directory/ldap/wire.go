package ldap

import (
	"bufio"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"sync"
	"time"

	ber "github.com/go-asn1-ber/asn1-ber"
	goldap "github.com/go-ldap/ldap/v3"
)

// client is a minimal synchronous LDAPv3 client (RFC 4511) for the few
// operations a directory read needs: simple bind, StartTLS, paged search.
//
// Why not go-ldap's Conn: its BER decoder allocates a buffer, a copy and a
// packet per value (about 900 allocations per OTDS user entry), which made
// a full read 3.8× slower than ldapsearch. Here a message is read into one
// reused buffer and decoded in place; only the DN, attribute values and
// their slices are allocated. Requests are still encoded with go-ldap's
// filter compiler and asn1-ber, and errors are *goldap.Error values so
// goldap.IsErrorWithCode works on them.
//
// One operation at a time; ctx cancellation and Close interrupt it by
// closing the socket.
type client struct {
	ncMu    sync.Mutex // guards nc against Close while StartTLS swaps it
	nc      net.Conn
	br      *bufio.Reader
	timeout time.Duration
	msgID   int64
	buf     []byte

	closeOnce sync.Once
	closed    chan struct{}
}

func newClient(nc net.Conn, timeout time.Duration) *client {
	return &client{nc: nc, br: bufio.NewReaderSize(nc, 64<<10), timeout: timeout, closed: make(chan struct{})}
}

// Close sends an unbind (best effort) and closes the socket.
func (c *client) Close() error {
	var err error
	c.closeOnce.Do(func() {
		close(c.closed)
		c.ncMu.Lock()
		nc := c.nc
		c.ncMu.Unlock()
		nc.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
		nc.Write([]byte{0x30, 0x05, 0x02, 0x01, 0x00, 0x42, 0x00}) // UnbindRequest, messageID 0
		err = nc.Close()
	})
	return err
}

// IsClosing reports whether Close was called.
func (c *client) IsClosing() bool {
	select {
	case <-c.closed:
		return true
	default:
		return false
	}
}

func netErr(err error) error { return goldap.NewError(goldap.ErrorNetwork, err) }

// send writes one LDAPMessage with the next message id.
func (c *client) send(op *ber.Packet, controls ...*ber.Packet) (int64, error) {
	c.msgID++
	msg := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "LDAP Request")
	msg.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, c.msgID, "MessageID"))
	msg.AppendChild(op)
	if len(controls) > 0 {
		cs := ber.Encode(ber.ClassContext, ber.TypeConstructed, 0, nil, "Controls")
		for _, ctl := range controls {
			cs.AppendChild(ctl)
		}
		msg.AppendChild(cs)
	}
	if c.timeout > 0 {
		c.nc.SetDeadline(time.Now().Add(c.timeout))
	}
	if _, err := c.nc.Write(msg.Bytes()); err != nil {
		return 0, netErr(err)
	}
	return c.msgID, nil
}

// message is one decoded LDAPMessage; its slices point into conn.buf and
// are valid until the next read.
type message struct {
	id       int64
	tag      byte // protocolOp tag with class bits, e.g. 0x64 SearchResultEntry
	op       []byte
	controls []byte // content of [0] Controls, or nil
}

// maxMessage caps one LDAPMessage read from the server.
//
// A search answers with one message per entry (a page of 1000 entries is
// 1000 SearchResultEntry messages and a SearchResultDone), so the largest
// message is the largest single entry: in practice a big group, whose
// member list is one attribute. An OTDS member DN such as
// "cn=user000001,ou=Root,ou=Example,ou=IdentityProviders,dc=identity,dc=opentext,dc=net"
// costs 84 bytes plus a 2-byte BER header, so a group of 10,000 members
// is a message of about 0.86 MB (TestMessageSize measures it); 16 MiB
// holds a group of about 190,000 such members, far beyond what OTDS
// partitions hold in one group, and still bounds what a broken or
// hostile server can make us buffer. Active Directory never gets close:
// it sends large member lists in ranges of 1500 values.
const maxMessage = 16 << 20

// readMessage reads the next LDAPMessage from br, reusing buf (which it
// returns, possibly grown, for the next call). The message's slices point
// into the returned buffer.
//
// The buffer grows as bytes arrive rather than to the declared length up
// front, so a forged length costs at most about twice the bytes actually
// received (plus 64 KiB), never the declared size.
func readMessage(br *bufio.Reader, buf []byte) (message, []byte, error) {
	var m message
	hdr, err := br.Peek(2)
	if err != nil {
		if len(hdr) > 0 {
			err = unexpectedEOF(err)
		}
		return m, buf, err
	}
	if hdr[0] != 0x30 {
		return m, buf, fmt.Errorf("ldap: not an LDAPMessage (tag %#x)", hdr[0])
	}
	n, hl := int(hdr[1]), 2
	if n&0x80 != 0 {
		k := n & 0x7f
		if k == 0 {
			return m, buf, errors.New("ldap: indefinite BER length on an LDAPMessage")
		}
		if k > 4 {
			return m, buf, fmt.Errorf("ldap: unsupported BER length form %#x (%d length bytes)", hdr[1], k)
		}
		lb, err := br.Peek(2 + k)
		if err != nil {
			return m, buf, unexpectedEOF(err)
		}
		n = 0
		for _, b := range lb[2:] {
			n = n<<8 | int(b)
		}
		hl += k
	}
	if n < 0 || n > maxMessage {
		return m, buf, fmt.Errorf("ldap: message of %d bytes exceeds the %d MiB cap on one LDAP message", n, maxMessage>>20)
	}
	total := hl + n
	if cap(buf) >= total {
		buf = buf[:total]
		if _, err := io.ReadFull(br, buf); err != nil {
			return m, buf, unexpectedEOF(err)
		}
	} else {
		buf = buf[:0]
		for len(buf) < total {
			chunk := min(max(len(buf), 64<<10), total-len(buf))
			buf = slices.Grow(buf, chunk)
			k, err := io.ReadFull(br, buf[len(buf):len(buf)+chunk])
			buf = buf[:len(buf)+k]
			if err != nil {
				return m, buf, unexpectedEOF(err)
			}
		}
	}
	m, err = decodeMessage(buf[hl:])
	return m, buf, err
}

func unexpectedEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// decodeMessage splits the content of an LDAPMessage SEQUENCE into its
// message id, protocolOp and controls.
func decodeMessage(body []byte) (message, error) {
	var m message
	tag, idv, body, err := tlv(body)
	if err != nil {
		return m, fmt.Errorf("ldap: bad message id: %w", err)
	}
	if tag != 0x02 || len(idv) == 0 || len(idv) > 8 || idv[0]&0x80 != 0 {
		return m, fmt.Errorf("ldap: bad message id (tag %#x, %d bytes)", tag, len(idv))
	}
	m.id = parseInt(idv)
	if m.tag, m.op, body, err = tlv(body); err != nil {
		return m, err
	}
	if len(body) > 0 {
		var t byte
		if t, m.controls, _, err = tlv(body); err != nil {
			return m, err
		}
		if t != 0xa0 {
			m.controls = nil
		}
	}
	return m, nil
}

// read reads the next LDAPMessage into the reused buffer.
func (c *client) read() (message, error) {
	m, buf, err := readMessage(c.br, c.buf)
	c.buf = buf[:0]
	if err != nil {
		return m, netErr(err)
	}
	return m, nil
}

// next reads until the response to id, failing on a notice of
// disconnection (RFC 4511 section 4.4.1).
func (c *client) next(id int64) (message, error) {
	for {
		m, err := c.read()
		if err != nil {
			return m, err
		}
		if m.id == id {
			return m, nil
		}
		if m.id == 0 && m.tag == 0x78 {
			code, diag, _, _ := parseResult(m.op)
			return m, netErr(fmt.Errorf("ldap: server disconnects: %s (%d)", diag, code))
		}
		// A response to an earlier, abandoned request: skip it.
	}
}

// tlv splits off one BER element with a one-byte tag (all LDAP tags fit).
func tlv(b []byte) (tag byte, val, rest []byte, err error) {
	if len(b) < 2 {
		return 0, nil, nil, errors.New("ldap: truncated BER element")
	}
	tag, n, i := b[0], int(b[1]), 2
	if tag&0x1f == 0x1f {
		return 0, nil, nil, errors.New("ldap: multi-byte BER tag")
	}
	if n&0x80 != 0 {
		k := n & 0x7f
		if k == 0 || k > 4 || len(b) < 2+k {
			return 0, nil, nil, errors.New("ldap: bad BER length")
		}
		n = 0
		for _, c := range b[2 : 2+k] {
			n = n<<8 | int(c)
		}
		i += k
	}
	if n < 0 || len(b)-i < n {
		return 0, nil, nil, errors.New("ldap: truncated BER element")
	}
	return tag, b[i : i+n], b[i+n:], nil
}

func parseInt(b []byte) int64 {
	var v int64
	for i, c := range b {
		if i == 0 && c&0x80 != 0 {
			v = -1
		}
		v = v<<8 | int64(c)
	}
	return v
}

// parseResult reads an LDAPResult (RFC 4511 section 4.1.9).
func parseResult(op []byte) (code uint16, diag string, referrals []string, err error) {
	_, v, rest, err := tlv(op)
	if err != nil {
		return 0, "", nil, err
	}
	code = uint16(parseInt(v))
	if _, _, rest, err = tlv(rest); err != nil { // matchedDN
		return code, "", nil, err
	}
	_, d, rest, err := tlv(rest)
	if err != nil {
		return code, "", nil, err
	}
	diag = string(d)
	if len(rest) > 0 {
		if t, refs, _, err := tlv(rest); err == nil && t == 0xa3 {
			for len(refs) > 0 {
				var u []byte
				if _, u, refs, err = tlv(refs); err != nil {
					break
				}
				referrals = append(referrals, string(u))
			}
		}
	}
	return code, diag, referrals, nil
}

// resultError turns a non-success LDAPResult into a *goldap.Error.
func resultError(op []byte) error {
	code, diag, refs, err := parseResult(op)
	if err != nil {
		return netErr(err)
	}
	if code == goldap.LDAPResultSuccess {
		return nil
	}
	msg := diag
	if len(refs) > 0 {
		msg = strings.TrimSpace(msg + " (referral to " + strings.Join(refs, ", ") + ")")
	}
	return goldap.NewError(code, errors.New(msg))
}

// Bind does a simple bind (RFC 4511 section 4.2).
func (c *client) Bind(dn, password string) error {
	op := ber.Encode(ber.ClassApplication, ber.TypeConstructed, goldap.ApplicationBindRequest, nil, "Bind Request")
	op.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, 3, "Version"))
	op.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, dn, "User Name"))
	op.AppendChild(ber.NewString(ber.ClassContext, ber.TypePrimitive, 0, password, "Password"))
	id, err := c.send(op)
	if err != nil {
		return err
	}
	m, err := c.next(id)
	if err != nil {
		return err
	}
	if m.tag != 0x61 {
		return netErr(fmt.Errorf("ldap: unexpected response %#x to bind", m.tag))
	}
	return resultError(m.op)
}

// StartTLS upgrades the connection (RFC 4511 section 4.14).
func (c *client) StartTLS(cfg *tls.Config) error {
	op := ber.Encode(ber.ClassApplication, ber.TypeConstructed, goldap.ApplicationExtendedRequest, nil, "Start TLS")
	op.AppendChild(ber.NewString(ber.ClassContext, ber.TypePrimitive, 0, "1.3.6.1.4.1.1466.20037", "TLS Extended Command"))
	id, err := c.send(op)
	if err != nil {
		return err
	}
	m, err := c.next(id)
	if err != nil {
		return err
	}
	if m.tag != 0x78 {
		return netErr(fmt.Errorf("ldap: unexpected response %#x to StartTLS", m.tag))
	}
	if err := resultError(m.op); err != nil {
		return err
	}
	if c.br.Buffered() > 0 {
		return netErr(errors.New("ldap: data after the StartTLS response"))
	}
	tc := tls.Client(c.nc, cfg)
	c.ncMu.Lock()
	c.nc, c.br = tc, bufio.NewReaderSize(tc, 64<<10)
	c.ncMu.Unlock()
	if c.IsClosing() { // Close raced with the swap and closed the plain socket: fine, but say so
		return netErr(errors.New("ldap: connection closed"))
	}
	if err := tc.Handshake(); err != nil {
		return netErr(err)
	}
	return nil
}

// searchPage is the outcome of one search request.
type searchPage struct {
	referrals []string // continuation references (SearchResultReference)
	cookie    []byte   // paged results cookie; empty when done
	paged     bool     // the server answered with a paging control
}

// Search sends a subtree/base search with an optional paging control
// and calls entry for each result entry as it is decoded. The attribute
// slices handed to entry are fresh; the name is lower-cased via names.
func (c *client) Search(base string, scope int, filter *ber.Packet, attrs []string, paging *goldap.ControlPaging,
	entry func(dn string, attrs map[string][]string) error, names map[string]string) (searchPage, error) {
	var page searchPage
	op := ber.Encode(ber.ClassApplication, ber.TypeConstructed, goldap.ApplicationSearchRequest, nil, "Search Request")
	op.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, base, "Base DN"))
	op.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagEnumerated, int64(scope), "Scope"))
	op.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagEnumerated, int64(goldap.NeverDerefAliases), "Deref Aliases"))
	op.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, 0, "Size Limit"))
	op.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, 0, "Time Limit"))
	op.AppendChild(ber.NewBoolean(ber.ClassUniversal, ber.TypePrimitive, ber.TagBoolean, false, "Types Only"))
	op.AppendChild(filter)
	as := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "Attributes")
	for _, a := range attrs {
		as.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, a, "Attribute"))
	}
	op.AppendChild(as)
	var controls []*ber.Packet
	if paging != nil {
		controls = append(controls, paging.Encode())
	}
	id, err := c.send(op, controls...)
	if err != nil {
		return page, err
	}
	for {
		m, err := c.next(id)
		if err != nil {
			return page, err
		}
		switch m.tag {
		case 0x64: // SearchResultEntry
			dn, attrs, err := decodeEntry(m.op, names)
			if err != nil {
				return page, netErr(err)
			}
			if err := entry(dn, attrs); err != nil {
				return page, err
			}
		case 0x73: // SearchResultReference
			refs, err := decodeReferences(m.op)
			if err != nil {
				return page, netErr(err)
			}
			page.referrals = append(page.referrals, refs...)
		case 0x65: // SearchResultDone
			if err := resultError(m.op); err != nil {
				return page, err
			}
			page.cookie, page.paged = pagingCookie(m.controls)
			return page, nil
		case 0x79: // IntermediateResponse: ignore
		default:
			return page, netErr(fmt.Errorf("ldap: unexpected response %#x to search", m.tag))
		}
	}
}

// decodeReferences decodes a SearchResultReference: SEQUENCE OF URI
// (LDAPString), the SEQUENCE tag implicit.
func decodeReferences(op []byte) ([]string, error) {
	var refs []string
	for len(op) > 0 {
		t, u, rest, err := tlv(op)
		if err != nil {
			return nil, err
		}
		if t != 0x04 {
			return nil, fmt.Errorf("ldap: referral URI with tag %#x", t)
		}
		refs = append(refs, string(u))
		op = rest
	}
	return refs, nil
}

// decodeEntry decodes a SearchResultEntry (RFC 4511 section 4.5.2):
// objectName LDAPDN, attributes SEQUENCE OF PartialAttribute { type,
// vals SET OF value }. Each element must carry its universal tag.
func decodeEntry(op []byte, names map[string]string) (string, map[string][]string, error) {
	t, dn, rest, err := tlv(op)
	if err != nil {
		return "", nil, err
	}
	if t != 0x04 {
		return "", nil, fmt.Errorf("ldap: entry DN with tag %#x", t)
	}
	t, list, _, err := tlv(rest)
	if err != nil {
		return "", nil, err
	}
	if t != 0x30 {
		return "", nil, fmt.Errorf("ldap: entry attribute list with tag %#x", t)
	}
	attrs := make(map[string][]string, 32)
	for len(list) > 0 {
		var pa []byte
		if t, pa, list, err = tlv(list); err != nil {
			return "", nil, err
		}
		if t != 0x30 {
			return "", nil, fmt.Errorf("ldap: entry attribute with tag %#x", t)
		}
		tt, typ, vals, err := tlv(pa)
		if err != nil {
			return "", nil, err
		}
		ts, set, _, err := tlv(vals)
		if err != nil {
			return "", nil, err
		}
		if tt != 0x04 || ts != 0x31 {
			return "", nil, fmt.Errorf("ldap: attribute with tags %#x, %#x", tt, ts)
		}
		n := 0
		for s := set; len(s) > 0; n++ {
			var tv byte
			if tv, _, s, err = tlv(s); err != nil {
				return "", nil, err
			}
			if tv != 0x04 {
				return "", nil, fmt.Errorf("ldap: attribute value with tag %#x", tv)
			}
		}
		name, ok := names[string(typ)]
		if !ok {
			name = strings.ToLower(string(typ))
			names[string(typ)] = name
		}
		values := make([]string, 0, n)
		for s := set; len(s) > 0; {
			var v []byte
			_, v, s, _ = tlv(s)
			values = append(values, string(v))
		}
		if prev, dup := attrs[name]; dup {
			values = append(prev, values...)
		}
		attrs[name] = values
	}
	return string(dn), attrs, nil
}

// pagingCookie finds the RFC 2696 control among response controls.
func pagingCookie(controls []byte) ([]byte, bool) {
	for len(controls) > 0 {
		var ctl []byte
		var err error
		if _, ctl, controls, err = tlv(controls); err != nil {
			return nil, false
		}
		_, typ, rest, err := tlv(ctl)
		if err != nil || string(typ) != goldap.ControlTypePaging {
			continue
		}
		for len(rest) > 0 {
			var t byte
			var v []byte
			if t, v, rest, err = tlv(rest); err != nil {
				return nil, false
			}
			if t != 0x04 { // OCTET STRING controlValue; skip criticality
				continue
			}
			_, seq, _, err := tlv(v)
			if err != nil {
				return nil, false
			}
			_, _, seq, err = tlv(seq) // size estimate
			if err != nil {
				return nil, false
			}
			_, cookie, _, err := tlv(seq)
			if err != nil {
				return nil, false
			}
			return append([]byte(nil), cookie...), true
		}
		return nil, true
	}
	return nil, false
}
