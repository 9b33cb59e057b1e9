#!/usr/bin/env bash
# Access-review benchmark (docs/benchmarks.md): 100,000 directory users in
# slapd, 50,000 of them in the provisioning scope and provisioned into the
# HubSpot simulator, login activity for most of them, some drift; then the
# measured `scimbridge review`. Needs the benchmark slapd on 127.0.0.1:3890
# (see "Directory reconcile"), curl, python3, and the binary in $SB.
set -euo pipefail
SB=${SB:-/tmp/bench/scimbridge}
W=${W:-/tmp/bench/review}
SIM=127.0.0.1:18091
rm -rf "$W" && mkdir -p "$W"

# The simulator, its limits raised (the target excludes rate-limit waits).
"$SB" hubspot-sim --listen "$SIM" --rate-limit 1000000 --daily 100000000 >"$W/sim.out" 2>&1 &
sim=$!
# KEEP=1 leaves the simulator running, for more measured runs.
[ -n "${KEEP:-}" ] || trap 'kill $sim 2>/dev/null || true' EXIT
sleep 1

# Scope: users whose groups include one of group00000…group00629, about
# half of the directory (scimload ldif puts user i in groups i%2000 and
# (7i+3)%2000).
{
  echo "store: {path: $W/bridge.db}"
  echo "auth: {tokens: [{name: bench, token: bench-token-0123456789}]}"
  echo "hubspot: {base_url: \"http://$SIM\", token: pat-na1-hubspotsim-demo, rate_limit: 1000000, rate_interval: 10s, daily_limit: 100000000}"
  echo "provisioning: {workers: 8}"
  echo "mapping: {default_role: Sales Representative, roles: [{group: group00001, role: Sales Manager}], teams: [{group: group00002, team: EMEA Sales}]}"
  echo "directory:"
  echo "  type: ldap"
  echo "  ldap: {urls: [\"ldap://127.0.0.1:3890\"], bind_dn: \"cn=admin,dc=identity,dc=opentext,dc=net\", bind_password: secret, bases: [\"dc=identity,dc=opentext,dc=net\"]}"
  echo "reconcile:"
  echo "  scope_groups:"
  seq -f '    - group%05g' 0 629
  echo "review: {verified_domains: [bench.example.com]}"
  echo "log: {level: warn, format: json}"
} >"$W/config.yaml"

echo "provisioning the scope (store, then HubSpot)…" >&2
"$SB" sync --config "$W/config.yaml" --provision >"$W/sync.out"
tail -1 "$W/sync.out" >&2

# Login activity: everyone logged in yesterday but every 40th user (never)
# and every 30th (75 days ago: dormant). Drift: every 100th user's role
# changed by hand, and 200 accounts created by hand (orphans).
python3 - "$SIM" <<'PY'
import http.client, json, sys, datetime
host, port = sys.argv[1].split(":")
c = http.client.HTTPConnection(host, int(port))
def call(method, path, body=None, auth=True):
    h = {"Content-Type": "application/json"}
    if auth: h["Authorization"] = "Bearer pat-na1-hubspotsim-demo"
    c.request(method, path, body=json.dumps(body) if body is not None else None, headers=h)
    r = c.getresponse(); data = r.read()
    if r.status >= 300: raise SystemExit(f"{method} {path}: {r.status} {data[:200]}")
    return json.loads(data) if data else None
users = call("GET", "/_sim/state", auth=False)["users"]
now = datetime.datetime.now(datetime.timezone.utc)
for n, u in enumerate(sorted(users, key=lambda u: u["email"])):
    if n % 40 == 0: continue
    ago = 75 if n % 30 == 0 else 1
    call("POST", "/_sim/logins", {"email": u["email"], "at": (now - datetime.timedelta(days=ago)).isoformat()}, auth=False)
    if n % 100 == 1:
        call("PUT", f"/settings/users/2026-03/{u['id']}", {"roleId": "3000004"})
for i in range(200):
    call("POST", "/settings/users/2026-03", {"email": f"contractor{i:03d}@agency.example.net", "sendWelcomeEmail": False, "roleId": "3000002"})
print(f"{len(users)} HubSpot users, logins and drift recorded", file=sys.stderr)
PY

for format in json html json html; do
  echo "the measured review ($format):" >&2
  /usr/bin/time -v "$SB" review --config "$W/config.yaml" --format $format --out "$W/review.$format" 2>"$W/time.err"
  grep -E "Elapsed|Maximum resident|written to" "$W/time.err" >&2
done
ls -l "$W"/review.* >&2
python3 -c "import json,sys; r=json.load(open(sys.argv[1])); s=r['summary']; print({k:s[k] for k in ('hubspotUsers','bridgeUsers','directoryUsers','findings')}, {k:v for k,v in r['counts'].items() if v})" "$W/review.json" >&2
