package ldapmem

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/go-ldap/ldap/v3"
)

// Synthetic describes a generated OTDS-shaped directory for load tests.
type Synthetic struct {
	// Users and Groups to generate; each user is in about two groups.
	Users, Groups int
	// Base is the suffix (default dc=identity,dc=opentext,dc=net). Its
	// entry is written too, so the output loads into an empty database.
	Base string
	// Partition names the OTDS partition (default Bench): users go to
	// cn=…,ou=Root,ou=<Partition>,ou=IdentityProviders,<Base> and groups to
	// cn=…,ou=groups,ou=Root,ou=<Partition>,… (OTDS's legacy layout).
	Partition string
	// NoSuffix leaves out the Base entry (for loading under an existing one).
	NoSuffix bool
}

// UserDN and GroupDN name the i-th generated user and group.
func (o Synthetic) UserDN(i int) string {
	return fmt.Sprintf("cn=user%06d,%s", i, o.root())
}

// GroupDN names the i-th generated group.
func (o Synthetic) GroupDN(i int) string {
	return fmt.Sprintf("cn=group%05d,ou=groups,%s", i, o.root())
}

func (o Synthetic) root() string {
	return "ou=Root,ou=" + o.Partition + ",ou=IdentityProviders," + o.Base
}

// groupsOf returns the groups of user i: two distinct ones when there are
// at least two groups.
func (o Synthetic) groupsOf(i int) []int {
	if o.Groups == 0 {
		return nil
	}
	a, b := i%o.Groups, (i*7+3)%o.Groups
	if a == b {
		return []int{a}
	}
	return []int{a, b}
}

// WriteSynthetic writes the directory as LDIF. It writes only user
// attributes: slapadd (and ldapmem) add entryUUID, createTimestamp and
// modifyTimestamp themselves.
func WriteSynthetic(w io.Writer, o Synthetic) error {
	if o.Base == "" {
		o.Base = "dc=identity,dc=opentext,dc=net"
	}
	if o.Partition == "" {
		o.Partition = "Bench"
	}
	if o.Users < 0 || o.Groups < 0 {
		return errors.New("ldapmem: negative counts")
	}
	base, err := ldap.ParseDN(o.Base)
	if err != nil || len(base.RDNs) == 0 {
		return fmt.Errorf("ldapmem: base %q is not a DN", o.Base)
	}
	bw := bufio.NewWriterSize(w, 1<<16)
	line := func(name, value string) {
		bw.WriteString(name)
		bw.WriteString(": ")
		bw.WriteString(value)
		bw.WriteByte('\n')
	}
	if !o.NoSuffix {
		top := base.RDNs[0].Attributes[0]
		line("dn", o.Base)
		line("objectClass", "top")
		switch strings.ToLower(top.Type) {
		case "dc":
			line("objectClass", "dcObject")
			line("objectClass", "organization")
			line("dc", top.Value)
			line("o", "OpenText Directory Services")
		case "o":
			line("objectClass", "organization")
			line("o", top.Value)
		default:
			line("objectClass", "organizationalUnit")
			line("ou", top.Value)
		}
		bw.WriteByte('\n')
	}
	for _, ou := range []string{
		"ou=IdentityProviders," + o.Base,
		"ou=" + o.Partition + ",ou=IdentityProviders," + o.Base,
		o.root(),
		"ou=groups," + o.root(),
	} {
		line("dn", ou)
		line("objectClass", "top")
		line("objectClass", "organizationalUnit")
		line("ou", ou[3:strings.IndexByte(ou, ',')])
		bw.WriteByte('\n')
	}

	depts := []string{"Sales", "Support", "Marketing", "Engineering", "Finance", "Operations"}
	titles := []string{"Account Executive", "Support Engineer", "Marketing Manager", "Software Engineer", "Analyst", "Operations Lead"}
	offices := []string{"London", "Toronto", "Singapore", "Munich", "Waterloo", "Sydney", "Paris", "Chicago"}
	given := []string{"Alex", "Sam", "Jordan", "Taylor", "Morgan", "Casey", "Riley", "Jamie", "Avery", "Quinn"}
	members := make([][]int, o.Groups)
	domain := strings.ToLower(o.Partition) + ".example.com"
	for i := range o.Users {
		id := fmt.Sprintf("user%06d", i)
		upn := id + "@" + domain
		g, sn := given[i%len(given)], "User"+strconv.Itoa(i)
		line("dn", o.UserDN(i))
		line("objectClass", "top")
		line("objectClass", "person")
		line("objectClass", "organizationalPerson")
		line("objectClass", "inetOrgPerson")
		line("objectClass", "oTPerson")
		line("cn", id)
		line("sn", sn)
		line("givenName", g)
		line("displayName", g+" "+sn)
		line("mail", upn)
		line("oTExternalID1", id)
		line("oTExternalID2", id+"@"+o.Partition)
		line("oTExternalID3", upn)
		line("oTExternalID4", strings.ToUpper(o.Partition)+`\`+id)
		line("title", titles[i%len(titles)])
		line("oTDepartment", depts[i%len(depts)])
		line("oTCompany", "Example Corp")
		line("employeeNumber", strconv.Itoa(100000+i))
		line("physicalDeliveryOfficeName", offices[i%len(offices)])
		line("l", offices[i%len(offices)])
		line("oTTelephoneNumber", fmt.Sprintf("+1 555 %07d", i))
		if i%50 == 49 {
			line("accountDisabled", "true")
		} else {
			line("accountDisabled", "false")
		}
		if m := managerOf(i); m >= 0 {
			line("manager", o.UserDN(m))
		}
		for _, gi := range o.groupsOf(i) {
			line("oTMemberOf", o.GroupDN(gi))
			members[gi] = append(members[gi], i)
		}
		bw.WriteByte('\n')
	}
	for gi := range o.Groups {
		name := fmt.Sprintf("group%05d", gi)
		line("dn", o.GroupDN(gi))
		line("objectClass", "top")
		line("objectClass", "oTGroup")
		line("cn", name)
		line("description", "Generated group "+strconv.Itoa(gi))
		line("oTExternalID1", name)
		line("oTExternalID2", name+"@"+o.Partition)
		for _, u := range members[gi] {
			line("oTMember", o.UserDN(u))
		}
		bw.WriteByte('\n')
	}
	return bw.Flush()
}

// managerOf gives user i a manager: the head of its block of ten, whose
// manager heads the block of a hundred, and so on; user 0 has none.
func managerOf(i int) int {
	for step := 10; step <= 1_000_000_000; step *= 10 {
		if m := i - i%step; m != i {
			return m
		}
	}
	return -1
}
