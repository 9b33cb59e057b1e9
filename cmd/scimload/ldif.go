package main

import (
	"bufio"
	"errors"
	"flag"
	"io"

	"github.com/scimbridge/scimbridge/directory/ldapmem"
)

// runLDIF writes an OTDS-shaped directory as LDIF for LDAP read benchmarks:
// users cn=userNNNNNN,ou=Root,ou=<partition>,ou=IdentityProviders,<base>
// (oTPerson with OTDS's attributes, managers, one in fifty disabled), each in
// about two of the groups cn=groupNNNNN,ou=groups,ou=Root,… (oTGroup with
// oTMember; users carry oTMemberOf). It sets no entryUUID or timestamps:
// slapadd adds entryUUID, entryCSN, createTimestamp and modifyTimestamp.
//
// Benchmark with OpenLDAP (Debian: apt-get install slapd ldap-utils; about
// 6 s to load 100k users with slapadd -q on a 2-CPU VM):
//
//	scimload ldif --users 100000 --groups 2000 --base dc=identity,dc=opentext,dc=net > big.ldif
//	mkdir -p /tmp/bench/db && cat > /tmp/bench/slapd.conf <<'CONF'
//	include /etc/ldap/schema/core.schema
//	include /etc/ldap/schema/cosine.schema
//	include /etc/ldap/schema/inetorgperson.schema
//	include /etc/ldap/schema/nis.schema
//	include /path/to/scimbridge/directory/ldaptest/otds.schema
//	pidfile /tmp/bench/slapd.pid
//	modulepath /usr/lib/ldap
//	moduleload back_mdb
//	sizelimit unlimited
//	database mdb
//	maxsize 8589934592
//	suffix "dc=identity,dc=opentext,dc=net"
//	rootdn "cn=admin,dc=identity,dc=opentext,dc=net"
//	rootpw secret
//	directory /tmp/bench/db
//	dbnosync
//	index objectClass eq
//	CONF
//	slapadd -q -f /tmp/bench/slapd.conf -l big.ldif
//	slapd -f /tmp/bench/slapd.conf -h ldap://127.0.0.1:3890/ -d 0 &
//	time ldapsearch -x -H ldap://127.0.0.1:3890 -D cn=admin,dc=identity,dc=opentext,dc=net -w secret \
//	    -b dc=identity,dc=opentext,dc=net -E pr=1000/noprompt -LLL '(objectClass=oTPerson)' >/dev/null
//
// The driver's side of the comparison is BenchmarkRead10k in directory/ldap,
// which runs both against a slapd it starts itself.
func runLDIF(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("ldif", flag.ContinueOnError)
	var o ldapmem.Synthetic
	fs.IntVar(&o.Users, "users", 100000, "users to generate")
	fs.IntVar(&o.Groups, "groups", 2000, "groups to generate (each user is in about two)")
	fs.StringVar(&o.Base, "base", "dc=identity,dc=opentext,dc=net", "suffix; its entry is written too")
	fs.StringVar(&o.Partition, "partition", "Bench", "OTDS partition name")
	fs.BoolVar(&o.NoSuffix, "no-suffix", false, "leave out the suffix entry (it exists already)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return errors.New("ldif: unexpected arguments (the LDIF goes to standard output)")
	}
	w := bufio.NewWriterSize(out, 1<<20)
	if err := ldapmem.WriteSynthetic(w, o); err != nil {
		return err
	}
	return w.Flush()
}
