#!/usr/bin/env bash
# Directory-change latency (docs/benchmarks.md): 20 times, change a random
# benchmark user's sn in slapd, then poll the HubSpot simulator until the
# user's lastName shows it. Prints one latency in milliseconds per change,
# sorted. Needs ldap-utils, curl, the benchmark slapd on 127.0.0.1:3890 and
# the simulator on 127.0.0.1:18090, with `scimbridge serve` reconciling them.
set -euo pipefail
base="ou=Root,ou=Bench,ou=IdentityProviders,dc=identity,dc=opentext,dc=net"
for n in $(seq 1 20); do
  i=$(( (RANDOM * 3 + n * 997) % 100000 ))
  if [ $(( i % 50 )) -eq 49 ]; then i=$(( i + 1 )); fi   # every 50th user is disabled
  uid=$(printf "user%06d" "$i")
  new="Moved$RANDOM"
  t0=$(date +%s%N)
  printf 'dn: cn=%s,%s\nchangetype: modify\nreplace: sn\nsn: %s\n' "$uid" "$base" "$new" |
    ldapmodify -x -H ldap://127.0.0.1:3890 -D cn=admin,dc=identity,dc=opentext,dc=net -w secret >/dev/null
  deadline=$(( $(date +%s) + 60 ))
  until curl -s -H "Authorization: Bearer pat-na1-hubspotsim-demo" \
      "http://127.0.0.1:18090/settings/users/2026-03/$uid@bench.example.com?idProperty=EMAIL" |
      grep -q "\"lastName\":\"$new\""; do
    if [ "$(date +%s)" -gt "$deadline" ]; then echo "timeout for $uid" >&2; exit 1; fi
    sleep 0.05
  done
  echo $(( ($(date +%s%N) - t0) / 1000000 ))
done | sort -n
