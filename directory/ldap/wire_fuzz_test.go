package ldap

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	ber "github.com/go-asn1-ber/asn1-ber"
	goldap "github.com/go-ldap/ldap/v3"
)

// Run: go test -run '^$' -fuzz FuzzDecode -fuzztime 10m -parallel 1 ./directory/ldap
// The seed corpus in testdata/fuzz/FuzzDecode is written by
// go test -run TestWriteFuzzCorpus -update-fuzz-corpus ./directory/ldap

var updateFuzzCorpus = flag.Bool("update-fuzz-corpus", false, "rewrite testdata/fuzz/FuzzDecode seeds")

// ldapMessage encodes an LDAPMessage the way a server would, with
// asn1-ber's encoder.
func ldapMessage(id int64, op *ber.Packet, controls ...*ber.Packet) []byte {
	msg := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "LDAP Response")
	msg.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, id, "MessageID"))
	msg.AppendChild(op)
	if len(controls) > 0 {
		cs := ber.Encode(ber.ClassContext, ber.TypeConstructed, 0, nil, "Controls")
		for _, c := range controls {
			cs.AppendChild(c)
		}
		msg.AppendChild(cs)
	}
	return msg.Bytes()
}

type attr struct {
	name   string
	values []string
}

func entryMessage(id int64, dn string, attrs ...attr) []byte {
	op := ber.Encode(ber.ClassApplication, ber.TypeConstructed, goldap.ApplicationSearchResultEntry, nil, "Search Result Entry")
	op.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, dn, "DN"))
	list := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "Attributes")
	for _, a := range attrs {
		pa := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "Attribute")
		pa.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, a.name, "Type"))
		set := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSet, nil, "Values")
		for _, v := range a.values {
			set.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, v, "Value"))
		}
		pa.AppendChild(set)
		list.AppendChild(pa)
	}
	op.AppendChild(list)
	return ldapMessage(id, op)
}

func resultOp(app ber.Tag, code int64, diag string, referrals ...string) *ber.Packet {
	op := ber.Encode(ber.ClassApplication, ber.TypeConstructed, app, nil, "Result")
	op.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagEnumerated, code, "Code"))
	op.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, "", "Matched DN"))
	op.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, diag, "Diagnostic"))
	if len(referrals) > 0 {
		r := ber.Encode(ber.ClassContext, ber.TypeConstructed, 3, nil, "Referral")
		for _, u := range referrals {
			r.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, u, "URI"))
		}
		op.AppendChild(r)
	}
	return op
}

func doneMessage(id int64, cookie []byte) []byte {
	pc := &goldap.ControlPaging{PagingSize: 0, Cookie: cookie}
	return ldapMessage(id, resultOp(goldap.ApplicationSearchResultDone, 0, ""), pc.Encode())
}

func referenceMessage(id int64, uris ...string) []byte {
	op := ber.Encode(ber.ClassApplication, ber.TypeConstructed, goldap.ApplicationSearchResultReference, nil, "Reference")
	for _, u := range uris {
		op.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, u, "URI"))
	}
	return ldapMessage(id, op)
}

const otdsRoot = "ou=Root,ou=Example,ou=IdentityProviders,dc=identity,dc=opentext,dc=net"

func memberDN(i int) string { return fmt.Sprintf("cn=user%06d,%s", i, otdsRoot) }

// userEntry is a typical OTDS user entry with the attributes the default
// Mapping asks for, a binary value and a handful of group memberships.
func userEntry(id int64, i int) []byte {
	groups := make([]string, 5)
	for g := range groups {
		groups[g] = fmt.Sprintf("cn=group%05d,ou=groups,%s", (i+g)%200, otdsRoot)
	}
	return entryMessage(id, memberDN(i),
		attr{"objectClass", []string{"top", "person", "organizationalPerson", "inetOrgPerson", "oTPerson"}},
		attr{"cn", []string{fmt.Sprintf("user%06d", i)}},
		attr{"entryUUID", []string{fmt.Sprintf("6f1d2c3a-0000-4000-8000-%012d", i)}},
		attr{"oTExternalID3", []string{fmt.Sprintf("user%06d@example.com", i)}},
		attr{"givenName", []string{"Given"}},
		attr{"sn", []string{fmt.Sprintf("Surname%d", i)}},
		attr{"displayName", []string{fmt.Sprintf("Given Surname%d", i)}},
		attr{"mail", []string{fmt.Sprintf("user%06d@example.com", i)}},
		attr{"telephoneNumber", []string{"+1 555 0100"}},
		attr{"title", []string{"Engineer"}},
		attr{"departmentNumber", []string{"R&D"}},
		attr{"ds-pwp-account-disabled", []string{"FALSE"}},
		attr{"objectGUID", []string{"\x00\x01\x02\xff\xfe\x80binary"}},
		attr{"modifyTimestamp", []string{"20261208010203Z"}},
		attr{"oTMemberOf", groups},
	)
}

// bigGroup is a group entry with n member DNs: the largest single message
// a read of OTDS meets.
func bigGroup(id int64, n int) []byte {
	members := make([]string, n)
	for i := range members {
		members[i] = memberDN(i)
	}
	return entryMessage(id, "cn=group00001,ou=groups,"+otdsRoot,
		attr{"objectClass", []string{"top", "groupOfUniqueNames", "oTGroup"}},
		attr{"cn", []string{"group00001"}},
		attr{"entryUUID", []string{"0a1b2c3d-0000-4000-8000-000000000001"}},
		attr{"oTMember", members},
	)
}

// page is a page of n user entries followed by a SearchResultDone with a
// paging cookie, as the server sends it.
func page(n int) []byte {
	var b bytes.Buffer
	for i := range n {
		b.Write(userEntry(7, i))
	}
	b.Write(doneMessage(7, []byte("\x00\x00\x03\xe8cookie")))
	return b.Bytes()
}

type seed struct {
	name string
	data []byte
}

func fuzzSeeds() []seed {
	entry := userEntry(2, 1)
	done := doneMessage(3, []byte("opaque-cookie-\x00\x01\xff"))
	// Nested length exceeding its parent: the DN claims more bytes than the
	// protocolOp holds.
	nested := append([]byte(nil), entryMessage(2, "cn=a", attr{"cn", []string{"a"}})...)
	nested[8] = 0x7f // DN length, inside the op's 0x64 element
	return []seed{
		{"entry", entry},
		{"group", bigGroup(2, 5)},
		{"done-paging-cookie", done},
		{"done-last-page", doneMessage(4, nil)},
		{"done-referral", ldapMessage(5, resultOp(goldap.ApplicationSearchResultDone, 10, "referral", "ldap://other.example/ou=x??sub"))},
		{"reference", referenceMessage(6, "ldap://a.example/dc=a??sub", "ldap://b.example/dc=b??sub")},
		{"bind-response", ldapMessage(1, resultOp(goldap.ApplicationBindResponse, 0, ""))},
		{"notice-of-disconnection", ldapMessage(0, resultOp(goldap.ApplicationExtendedResponse, 52, "shutting down"))},
		{"page", slicesConcat(userEntry(8, 1), userEntry(8, 2), referenceMessage(8, "ldap://c.example/"), doneMessage(8, []byte("next")))},
		{"truncated-entry", entry[:len(entry)/2]},
		{"truncated-header", []byte{0x30, 0x84, 0x00}},
		{"indefinite-length", append([]byte{0x30, 0x80}, append(entry[2:], 0, 0)...)},
		{"five-byte-length", []byte{0x30, 0x85, 0x00, 0x00, 0x00, 0x00, 0x05, 0x02, 0x01, 0x01, 0x42, 0x00}},
		{"over-cap", []byte{0x30, 0x84, 0x10, 0x00, 0x00, 0x01, 0x02, 0x01, 0x01}},
		{"nested-exceeds-parent", nested},
		{"done-garbage-controls", append(done[:len(done)-3:len(done)-3], 0xff, 0xff, 0xff)},
	}
}

func slicesConcat(bs ...[]byte) []byte { return bytes.Join(bs, nil) }

// TestWriteFuzzCorpus rewrites the checked-in seed corpus when asked.
func TestWriteFuzzCorpus(t *testing.T) {
	if !*updateFuzzCorpus {
		t.Skip("pass -update-fuzz-corpus to rewrite testdata/fuzz/FuzzDecode")
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzDecode")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, s := range fuzzSeeds() {
		body := "go test fuzz v1\n[]byte(" + strconv.Quote(string(s.data)) + ")\n"
		if err := os.WriteFile(filepath.Join(dir, "seed-"+s.name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// decoded is what the reader makes of one message.
type decoded struct {
	m      message
	dn     string
	attrs  map[string][]string
	refs   []string
	cookie []byte
	paged  bool
	code   uint16
}

// decodeOp decodes the protocolOp the way Search and Bind do.
func decodeOp(m message) (decoded, error) {
	d := decoded{m: m}
	var err error
	switch m.tag {
	case 0x64:
		d.dn, d.attrs, err = decodeEntry(m.op, map[string]string{})
	case 0x73:
		d.refs, err = decodeReferences(m.op)
	default:
		d.code, _, d.refs, err = parseResult(m.op)
		d.cookie, d.paged = pagingCookie(m.controls)
	}
	return d, err
}

// decodeStream reads every message in data; it stops at the first error.
func decodeStream(data []byte, each func(raw []byte, d decoded)) error {
	br := bufio.NewReaderSize(bytes.NewReader(data), 16)
	var buf []byte
	for {
		m, nb, err := readMessage(br, buf)
		buf = nb
		if err != nil {
			if err == io.EOF {
				return nil
			}
			return err
		}
		d, err := decodeOp(m)
		if err != nil {
			return err
		}
		if each != nil {
			each(buf, d)
		}
	}
}

func FuzzDecode(f *testing.F) {
	// Seeds: testdata/fuzz/FuzzDecode (see TestWriteFuzzCorpus).
	f.Fuzz(func(t *testing.T, data []byte) { checkDecode(t, data) })
}

// checkDecode is FuzzDecode's body.
func checkDecode(t testing.TB, data []byte) {
	{
		br := bufio.NewReaderSize(bytes.NewReader(data), 16)
		var buf []byte
		for i := 0; ; i++ {
			m, nb, err := readMessage(br, buf)
			buf = nb
			// Memory follows the bytes received, not the lengths declared.
			if limit := 2*len(data) + 64<<10; cap(buf) > limit {
				t.Fatalf("buffer of %d bytes for %d bytes of input", cap(buf), len(data))
			}
			if err != nil {
				return
			}
			if len(m.op) > len(buf) || len(m.controls) > len(buf) {
				t.Fatalf("slices beyond the message: op %d, controls %d, message %d", len(m.op), len(m.controls), len(buf))
			}
			d, err := decodeOp(m)
			if err != nil {
				continue
			}
			size := len(d.dn) + len(d.cookie)
			for k, vs := range d.attrs {
				size += len(k)
				for _, v := range vs {
					size += len(v)
				}
			}
			for _, r := range d.refs {
				size += len(r)
			}
			if size > len(buf) {
				t.Fatalf("decoded %d bytes of values from a %d-byte message", size, len(buf))
			}
			if i == 0 {
				compareWithBer(t, buf, d)
			}
		}
	}
}

// compareWithBer decodes raw with asn1-ber (go-ldap's decoder) and, where
// that succeeds too, checks both read the same message id, operation and,
// for entries, the same DN and attributes.
func compareWithBer(t testing.TB, raw []byte, d decoded) {
	t.Helper()
	p, err := ber.DecodePacketErr(raw)
	if err != nil || len(p.Children) < 2 {
		return
	}
	if id, ok := p.Children[0].Value.(int64); ok && id != d.m.id {
		t.Fatalf("message id: ours %d, asn1-ber %d", d.m.id, id)
	}
	op := p.Children[1]
	if op.Tag < 0x1f {
		if tag := byte(op.ClassType) | byte(op.TagType) | byte(op.Tag); tag != d.m.tag {
			t.Fatalf("op tag: ours %#x, asn1-ber %#x", d.m.tag, tag)
		}
	}
	if d.m.tag != 0x64 || len(op.Children) < 2 {
		return
	}
	if dn := op.Children[0].Data.String(); dn != d.dn {
		t.Fatalf("DN: ours %q, asn1-ber %q", d.dn, dn)
	}
	want := map[string][]string{}
	for _, pa := range op.Children[1].Children {
		if len(pa.Children) < 2 {
			return
		}
		name := strings.ToLower(pa.Children[0].Data.String())
		vals := make([]string, 0, len(pa.Children[1].Children))
		for _, v := range pa.Children[1].Children {
			vals = append(vals, v.Data.String())
		}
		want[name] = append(want[name], vals...)
	}
	for k, v := range want {
		if len(v) == 0 {
			want[k] = []string{}
		}
	}
	if !reflect.DeepEqual(d.attrs, want) {
		t.Fatalf("attributes: ours %q, asn1-ber %q", d.attrs, want)
	}
}

func TestDecodeSeeds(t *testing.T) {
	var got []decoded
	data := slicesConcat(userEntry(2, 1), referenceMessage(2, "ldap://a.example/"), doneMessage(2, []byte("ck")))
	if err := decodeStream(data, func(_ []byte, d decoded) { got = append(got, d) }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("%d messages", len(got))
	}
	if e := got[0]; e.dn != memberDN(1) || len(e.attrs["objectclass"]) != 5 || len(e.attrs["otmemberof"]) != 5 || e.attrs["objectguid"][0] != "\x00\x01\x02\xff\xfe\x80binary" {
		t.Errorf("entry: %q %q", e.dn, e.attrs)
	}
	if r := got[1]; len(r.refs) != 1 || r.refs[0] != "ldap://a.example/" {
		t.Errorf("reference: %q", r.refs)
	}
	if dn := got[2]; !dn.paged || string(dn.cookie) != "ck" || dn.code != 0 {
		t.Errorf("done: paged %v cookie %q code %d", dn.paged, dn.cookie, dn.code)
	}
}

// TestDecodeMalformed: every malformed input is an error, never a panic.
func TestDecodeMalformed(t *testing.T) {
	entry := entryMessage(2, "cn=a", attr{"cn", []string{"a"}})
	withByte := func(b []byte, i int, v byte) []byte {
		b = append([]byte(nil), b...)
		b[i] = v
		return b
	}
	for _, tc := range []struct {
		name string
		data []byte
		want string // substring of the error
	}{
		{"empty message", []byte{0x30, 0x00}, "truncated"},
		{"truncated header", []byte{0x30}, "EOF"},
		{"truncated long-form length", []byte{0x30, 0x82, 0x01}, "EOF"},
		{"truncated body", entry[:len(entry)-3], "unexpected EOF"},
		{"indefinite length", append([]byte{0x30, 0x80}, append(entry[2:], 0, 0)...), "indefinite"},
		{"indefinite length inside", withByte(entry, 6, 0x80), "bad BER length"},
		{"length beyond input", withByte(entry, 1, entry[1]+10), "unexpected EOF"},
		{"message id beyond message", []byte{0x30, 0x03, 0x02, 0x05, 0x01}, "truncated"},
		{"nested length exceeds parent", withByte(entry, 8, 0x7f), "truncated"},
		{"attribute list exceeds op", withByte(entry, 14, 0x7f), "truncated"},
		{"value exceeds set", withByte(entry, len(entry)-2, 0x05), "truncated"},
		{"five-byte long-form length", []byte{0x30, 0x85, 0x00, 0x00, 0x00, 0x00, 0x05, 0x02, 0x01, 0x01, 0x42, 0x00}, "5 length bytes"},
		{"five-byte length inside", []byte{0x30, 0x0a, 0x02, 0x01, 0x01, 0x64, 0x85, 0, 0, 0, 0, 0}, "bad BER length"},
		{"eight-byte length inside", []byte{0x30, 0x0d, 0x02, 0x01, 0x01, 0x64, 0x88, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, "bad BER length"},
		{"over the cap", []byte{0x30, 0x84, 0x01, 0x00, 0x00, 0x01, 0x02, 0x01, 0x01}, "16 MiB cap"},
		{"largest four-byte length", []byte{0x30, 0x84, 0xff, 0xff, 0xff, 0xff}, "16 MiB cap"},
		{"not a sequence", []byte{0x31, 0x03, 0x02, 0x01, 0x01}, "not an LDAPMessage"},
		{"message id not an integer", []byte{0x30, 0x05, 0x04, 0x01, 0x01, 0x42, 0x00}, "bad message id"},
		{"negative message id", []byte{0x30, 0x05, 0x02, 0x01, 0xff, 0x42, 0x00}, "bad message id"},
		{"nine-byte message id", []byte{0x30, 0x0d, 0x02, 0x09, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0x42, 0x00}, "bad message id"},
		{"multi-byte tag", []byte{0x30, 0x06, 0x02, 0x01, 0x01, 0x7f, 0x01, 0x00}, "multi-byte"},
		{"no protocolOp", []byte{0x30, 0x03, 0x02, 0x01, 0x01}, "truncated"},
		{"entry DN not a string", withByte(entry, 7, 0x02), "entry DN"},
		{"entry value set not a SET", withByte(entry, len(entry)-5, 0x30), "attribute with tags"},
		{"entry value not a string", withByte(entry, len(entry)-3, 0x30), "attribute value"},
		{"reference not a string", []byte{0x30, 0x08, 0x02, 0x01, 0x01, 0x73, 0x03, 0x02, 0x01, 0x00}, "referral URI"},
		{"result code missing", []byte{0x30, 0x05, 0x02, 0x01, 0x01, 0x65, 0x00}, "truncated"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := decodeStream(tc.data, nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

// TestMessageSize measures the largest message a realistic read meets (a
// group of 10,000 members is one SearchResultEntry) against maxMessage,
// and checks the cap is enforced with an error that names it.
func TestMessageSize(t *testing.T) {
	group := bigGroup(2, 10000)
	user := userEntry(2, 1)
	t.Logf("user entry %d bytes; group of 10,000 members %d bytes (%.1f bytes a member); cap %d bytes",
		len(user), len(group), float64(len(group))/10000, maxMessage)
	if len(group) > maxMessage/8 {
		t.Errorf("a 10,000-member group (%d bytes) leaves under 8× headroom below the cap", len(group))
	}
	var n int
	if err := decodeStream(group, func(_ []byte, d decoded) { n = len(d.attrs["otmember"]) }); err != nil || n != 10000 {
		t.Fatalf("group: %d members, %v", n, err)
	}
	n = maxMessage + 1
	over := []byte{0x30, 0x84, byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}
	c := newClient(nil, 0)
	c.br = bufio.NewReader(bytes.NewReader(over))
	_, err := c.read()
	var le *goldap.Error
	if !errors.As(err, &le) || !strings.Contains(err.Error(), "exceeds the 16 MiB cap") {
		t.Fatalf("over the cap: %v", err)
	}
}

// BenchmarkDecode decodes a page of 1000 OTDS user entries and its
// SearchResultDone with this package's reader and with go-ldap's decoder
// (ber.ReadPacket and the entry conversion go-ldap's search does).
//
// Run: go test -run '^$' -bench BenchmarkDecode -benchmem ./directory/ldap
func BenchmarkDecode(b *testing.B) {
	data := page(1000)
	b.Run("wire", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		names := map[string]string{}
		var buf []byte
		r := bytes.NewReader(data)
		br := bufio.NewReaderSize(r, 64<<10)
		for b.Loop() {
			r.Reset(data)
			br.Reset(r)
			entries := 0
			for {
				m, nb, err := readMessage(br, buf)
				buf = nb
				if err != nil {
					b.Fatal(err)
				}
				if m.tag == 0x65 {
					if _, paged := pagingCookie(m.controls); !paged {
						b.Fatal("no paging control")
					}
					break
				}
				if _, _, err := decodeEntry(m.op, names); err != nil {
					b.Fatal(err)
				}
				entries++
			}
			if entries != 1000 {
				b.Fatal(entries)
			}
		}
	})
	b.Run("go-ldap", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		r := bytes.NewReader(data)
		br := bufio.NewReaderSize(r, 64<<10)
		for b.Loop() {
			r.Reset(data)
			br.Reset(r)
			entries := 0
			for {
				p, err := ber.ReadPacket(br)
				if err != nil {
					b.Fatal(err)
				}
				op := p.Children[1]
				if op.Tag == goldap.ApplicationSearchResultDone {
					if len(p.Children) < 3 {
						b.Fatal("no controls")
					}
					if _, err := goldap.DecodeControl(p.Children[2].Children[0]); err != nil {
						b.Fatal(err)
					}
					break
				}
				e := &goldap.Entry{DN: op.Children[0].Value.(string)}
				for _, child := range op.Children[1].Children {
					vs := child.Children[1].Children
					a := &goldap.EntryAttribute{Name: child.Children[0].Value.(string),
						Values: make([]string, len(vs)), ByteValues: make([][]byte, len(vs))}
					for i, v := range vs {
						a.Values[i] = v.Value.(string)
						a.ByteValues[i] = v.ByteValue
					}
					e.Attributes = append(e.Attributes, a)
				}
				entries++
			}
			if entries != 1000 {
				b.Fatal(entries)
			}
		}
	})
}
