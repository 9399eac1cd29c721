#!/usr/bin/env bash
# CrowdSec test: a real CrowdSec LAPI (Debian's crowdsec 1.4.6, started
# here with `-no-cs -no-capi`: the API alone, offline, no hub) on the
# loopback of a network namespace, with a machine and a bouncer
# registered by cscli. hydrascope runs in the same namespace.
#
#  - Bad input stops the start with one line: a credentials file others
#    may read, a URL that is not http(s), a bouncer without api_key.
#  - Export: a generated farm scenario replayed with --crowdsec-push. In
#    dry-run the alerts are simulated and no bouncer gets them; with
#    --enforce `cscli alerts list` / `decisions list` show one ban per
#    block in force at the capture's end, scope Ip, the address, origin
#    hydrascope, scenario hydrascope/<indicator>, the time it had left.
#    The --crowdsec-export file goes in with `cscli decisions import`.
#  - Bouncer: `run --crowdsec-pull` on a veth: the LAPI's bans (the
#    replay's included) reach the pinned blocklist; a `cscli decisions
#    add` appears within a few polls with its duration; an allowlisted
#    address, a /8 and a captcha are refused and counted; `cscli
#    decisions delete` lifts the block; the LAPI killed: no crash, the
#    failures counted, and once it is back new decisions flow again; a
#    stalled LAPI (SIGSTOP) holds up no round; a decision deleted while
#    hydrascope was stopped is lifted when it starts again (startup=true).
# Ends with "N passed, N failed".
set -u
cd "$(dirname "$0")/../.."
HS=${HS_BIN:-$PWD/build/hydrascope} # HS_BIN=build/hydrascope-san: under ASan
. tests/live/lib.sh

ID=$$
NS=hs-crowdsec-$ID
PEER=hs-crowdsecp-$ID
IF=hscs$ID
INST=crowdsec-$ID
R=$(mktemp -d /tmp/hydrascope-crowdsec.XXXXXX)
PORT=8080
LAPI=http://127.0.0.1:$PORT
CSPID=
HSPID=

cs_down() {
	[ -n "$HSPID" ] && kill -INT "$HSPID" 2> /dev/null && wait "$HSPID" 2> /dev/null
	[ -n "$CSPID" ] && kill -9 "$CSPID" 2> /dev/null && wait "$CSPID" 2> /dev/null
	"$HS" --instance "$INST" detach --all > /dev/null 2>&1
	ip netns del "$NS" 2> /dev/null
	ip netns del "$PEER" 2> /dev/null
	[ -n "${TB_KEEP_DIR:-}" ] || rm -rf "$R"
}
clean_up_on_exit cs_down

for tool in crowdsec cscli nsenter python3 promtool; do
	command -v "$tool" > /dev/null ||
		flunk "$tool is missing (tools/install-deps.sh test installs it)"
done
[ "$fail" -eq 0 ] || finish cs_down
mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf

in_ns() { ip netns exec "$NS" "$@"; }
# the namespace's network, the machine's bpffs (pins per --instance)
hs_ns() { nsenter --net=/run/netns/"$NS" "$HS" "$@"; }
cs() { in_ns cscli -c "$R/config.yaml" --error "$@"; }

ip netns add "$NS" && ip netns add "$PEER"
in_ns ip link set lo up
ip link add "$IF" netns "$NS" type veth peer name "${IF}p" netns "$PEER"
in_ns ip addr add 198.18.90.1/24 dev "$IF" && in_ns ip link set "$IF" up
ip -n "$PEER" addr add 198.18.90.2/24 dev "${IF}p" && ip -n "$PEER" link set "${IF}p" up

# ---- the LAPI alone: its own config, SQLite in the test directory ---------
mkdir -p "$R/data" "$R/hub"
cat > "$R/config.yaml" << EOF
common:
  daemonize: false
  log_media: stdout
  log_level: info
config_paths:
  config_dir: $R/
  data_dir: $R/data/
  simulation_path: $R/simulation.yaml
  hub_dir: $R/hub/
  index_path: $R/hub/.index.json
  notification_dir: $R/notifications/
  plugin_dir: /usr/lib/crowdsec/plugins/
db_config:
  type: sqlite
  db_path: $R/data/crowdsec.db
  use_wal: true
  flush:
    max_items: 5000
    max_age: 7d
api:
  client:
    credentials_path: $R/local_api_credentials.yaml
  server:
    listen_uri: 127.0.0.1:$PORT
    profiles_path: $R/profiles.yaml
    trusted_ips: [127.0.0.1]
prometheus:
  enabled: false
EOF
cat > "$R/profiles.yaml" << EOF
name: default_ip_remediation
filters:
 - Alert.Remediation == true && Alert.GetScope() == "Ip"
decisions:
 - type: ban
   duration: 4h
on_success: break
EOF
echo "simulation: off" > "$R/simulation.yaml"
touch "$R/local_api_credentials.yaml"
lapi_start() {
	# not through in_ns: $! must be crowdsec's own pid (ip execs it)
	ip netns exec "$NS" crowdsec -c "$R/config.yaml" -no-cs -no-capi \
		>> "$R/crowdsec.log" 2>&1 &
	CSPID=$!
	for i in $(seq 100); do
		in_ns ss -ltnp 2> /dev/null | grep "127.0.0.1:$PORT " |
			grep -q "pid=$CSPID," && return 0
		sleep 0.1
	done
	return 1
}
check "crowdsec LAPI started offline (-no-cs -no-capi)" lapi_start
# cscli's own machine, hydrascope's machine and bouncer
cs machines add cscli-admin --auto -f "$R/local_api_credentials.yaml" --force > /dev/null
cs machines add hydrascope-test --password "hs-$(openssl rand -hex 16)" -f "$R/creds.yaml" > /dev/null
key=$(cs bouncers add "hs-bouncer-$ID" -o raw)
check "cscli registered the machine and the bouncer" test -s "$R/creds.yaml" -a -n "$key"
echo "api_key: $key" >> "$R/creds.yaml"
chmod 600 "$R/creds.yaml"
grep -v api_key "$R/creds.yaml" > "$R/push-only.yaml" && chmod 600 "$R/push-only.yaml"
cp "$R/creds.yaml" "$R/open.yaml" && chmod 644 "$R/open.yaml"
probe_key=$(cs bouncers add "hs-probe-$ID" -o raw)

# ---- bad input: one line naming the flag or the file, exit 2 ------------------
refused() { # what pattern args...
	local what=$1 pat=$2 rc
	shift 2
	hs_ns replay tests/data/demo.pcap "$@" > "$R/refused.out" 2> "$R/refused.err"
	rc=$?
	if [ "$rc" -ne 2 ] || [ "$(wc -l < "$R/refused.err")" -ne 1 ] ||
		! grep -q -- "$pat" "$R/refused.err"; then
		flunk "$what: rc $rc, $(cat "$R/refused.err")"
		return
	fi
	pass=$((pass + 1))
}
refused "credentials others may read" "open.yaml: mode 0644" \
	--crowdsec "$LAPI" --crowdsec-credentials "$R/open.yaml" --crowdsec-push
refused "a URL that is not http(s)" "^hydrascope: --crowdsec wants" \
	--crowdsec "ftp://127.0.0.1:$PORT" --crowdsec-credentials "$R/creds.yaml" --crowdsec-push
refused "an export file cscli would not read" "^hydrascope: --crowdsec-export wants" \
	--crowdsec-export "$R/blocks.txt"
if nsenter --net=/run/netns/"$NS" "$HS" run --iface "$IF" --crowdsec "$LAPI" \
	--crowdsec-credentials "$R/push-only.yaml" --crowdsec-pull > /dev/null 2> "$R/pull-refused.err"; then
	flunk "a bouncer without api_key started"
else
	check "a bouncer without api_key: one line naming the file" \
		grep -q "push-only.yaml: --crowdsec-pull needs api_key" "$R/pull-refused.err"
fi

# ---- export: a farm scenario replayed with --crowdsec-push --------------------
python3 tools/gen-scenario.py "$R/sc.pcap" --span 400 --seed 5 > /dev/null 2>&1
push_replay() { # out-prefix [--enforce]
	local out=$1
	shift
	hs_ns replay "$R/sc.pcap" "$@" --crowdsec "$LAPI" --crowdsec-credentials "$R/creds.yaml" \
		--crowdsec-push --crowdsec-export "$R/$out.csv" --format json --no-flows \
		--no-sources > "$R/$out.jsonl" 2> "$R/$out.err"
}
check "dry-run replay pushed (simulated)" push_replay dry
check "dry-run: said so" grep -q "crowdsec push to $LAPI (simulated" "$R/dry.err"
in_ns curl -s --max-time 5 -H "X-Api-Key: $probe_key" \
	"$LAPI/v1/decisions/stream?startup=true" > "$R/probe.json"
check "no bouncer gets a simulated decision" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
sys.exit(0 if not d.get("new") else 1)' "$R/probe.json"
check "enforce replay pushed" push_replay real --enforce
cs alerts list -a -l 0 -o json > "$R/alerts.json"
cs decisions list -a -l 0 -o json > "$R/decisions.json"
# 1.4.6 replaces the scope column with its --scope default unless given ''
import_csv() { cs decisions import -i "$R/real.csv" --scope '' > "$R/import.out" 2>&1; }
check "import file taken by cscli decisions import" import_csv
cs decisions list -a -l 0 -o json --origin cscli-import > "$R/imported.json"

python3 - "$R" > "$R/export-verdict.txt" << 'PY'
import json, sys
R = sys.argv[1]
recs = [json.loads(l) for l in open(R + "/real.jsonl")]
end = max(r["time_ns"] for r in recs if r["type"] == "decision")
last = [r for r in recs if r["type"] == "replay"][0]
# the blocks in force at the capture's end and the time they had left
held = {}
for r in recs:
    if r["type"] == "decision" and r["action"] == "block_prefix":
        held[r["prefix"]] = r
import datetime
t_end = datetime.datetime.fromisoformat(last["timestamp"].replace("Z", "+00:00")).timestamp()
want = {p: r for p, r in held.items() if r["expires_ns"] / 1e9 - t_end >= 1}
print("blocks in force at the end of the capture:", len(want))
print("OK" if len(want) >= 100 else "BAD only %d blocks to push" % len(want))
def godur(s):
    n, t, num = 0.0, s, ""
    units = {"h": 3600, "m": 60, "s": 1, "ms": 1e-3, "µs": 1e-6, "ns": 1e-9}
    i = 0
    while i < len(t):
        if t[i].isdigit() or t[i] in ".-":
            num += t[i]; i += 1; continue
        for u in ("ms", "µs", "ns", "h", "m", "s"):
            if t.startswith(u, i):
                n += float(num) * units[u]; num = ""; i += len(u); break
    return n
for name, sim in (("alerts", None),):
    alerts = json.load(open(R + "/alerts.json")) or []
    hs = [a for a in alerts if a["scenario"].startswith("hydrascope/")]
    real = [a for a in hs if not a["simulated"]]
    simu = [a for a in hs if a["simulated"]]
    print("alerts: %d real, %d simulated" % (len(real), len(simu)))
    print("OK" if len(simu) == len(want) and all(d["simulated"] for a in simu for d in a["decisions"])
          else "BAD simulated alerts %d, want %d" % (len(simu), len(want)))
    got = {}
    for a in real:
        d = a["decisions"][0]
        got[d["value"]] = (a, d)
    print("OK" if set(got) == {p.split("/")[0] for p in want} else
          "BAD pushed %s, want %s" % (sorted(got)[:5], sorted(want)[:5]))
    bad = []
    for p, r in want.items():
        ip = p.split("/")[0]
        if ip not in got:
            continue
        a, d = got[ip]
        left = r["expires_ns"] / 1e9 - t_end
        # the LAPI counts the duration down from the push
        if not (d["origin"] == "hydrascope" and d["type"] == "ban" and d["scope"] == "Ip"
                and d["scenario"] == "hydrascope/" + r["reason"] and a["scenario"] == d["scenario"]
                and a["source"]["scope"] == "Ip" and a["source"]["value"] == ip
                and left - 120 <= godur(d["duration"]) <= left + 1):
            bad.append((ip, d, left))
    print("OK" if not bad else "BAD decisions %s" % bad[:3])
    print("example: %s" % json.dumps(got[sorted(got)[0]][1]) if got else "none")
decisions = json.load(open(R + "/decisions.json")) or []
vals = {d["value"] for a in decisions for d in a["decisions"] if d["origin"] == "hydrascope" and not d["simulated"]}
print("OK" if vals == {p.split("/")[0] for p in want} else "BAD decisions list %d values" % len(vals))
imported = json.load(open(R + "/imported.json")) or []
iv = {d["value"]: d for a in imported for d in a["decisions"]}
print("OK" if set(iv) == {p.split("/")[0] for p in want}
      and all(d["scenario"].startswith("hydrascope/") and d["type"] == "ban" and d["scope"] == "Ip"
              for d in iv.values())
      else "BAD imported %d of %d" % (len(iv), len(want)))
PY
verdict() {
	while read -r line; do
		case "$line" in
		OK) pass=$((pass + 1)) ;;
		BAD*) flunk "${line#BAD }" ;;
		*) echo "$line" ;;
		esac
	done < "$1"
}
verdict "$R/export-verdict.txt"

# ---- bouncer: run --crowdsec-pull on the veth ---------------------------------
hs_start() { # log
	nsenter --net=/run/netns/"$NS" "$HS" --instance "$INST" run --iface "$IF" \
		--crowdsec "$LAPI" --crowdsec-credentials "$R/creds.yaml" --crowdsec-pull \
		--crowdsec-pull-interval 1 --allow 192.0.2.50/32 --decide-interval 1 \
		--metrics 127.0.0.1:9479 --log "$R/$1.jsonl" --duration 120 --format json \
		> "$R/$1.out" 2> "$R/$1.err" &
	HSPID=$!
	for i in $(seq 100); do grep -q attached "$R/$1.err" 2> /dev/null && return 0; sleep 0.1; done
	return 1
}
blocks() { "$HS" --instance "$INST" block list --format json 2> /dev/null; }
has_block() { blocks | grep -q "\"prefix\":\"$1\""; }
no_block() { ! has_block "$1"; }
# seconds left of a block
left_of() {
	blocks | python3 -c 'import json, sys
print([b["expires_in_s"] for b in map(json.loads, sys.stdin) if b["prefix"] == sys.argv[1]][0])' "$1"
}
# wait (bounded, 20 s) until "$@" holds
eventually() {
	for i in $(seq 200); do "$@" && return 0; sleep 0.1; done
	return 1
}
metric() { # series: its value
	in_ns curl -s --max-time 2 http://127.0.0.1:9479/metrics | grep -v '^#' |
		grep -F "$1" | awk '{print $NF}' | head -1
}
metric_ge() { local v; v=$(metric "$1"); [ -n "$v" ] && [ "${v%.*}" -ge "$2" ]; }

check "bouncer attached" hs_start run1
first=$(python3 -c 'import csv,sys; r=list(csv.DictReader(open(sys.argv[1]))); print(r[0]["value"])' "$R/real.csv")
check "the LAPI's bans (the replay's) reach the blocklist" eventually has_block "$first/32"
n=$(blocks | grep -c '"reason":"indicator"')
echo "blocks pulled at startup: $n"
cs decisions add -i 192.0.2.7 -d 2m > /dev/null
check "cscli decisions add reaches the blocklist within a few polls" eventually has_block 192.0.2.7/32
left=$(left_of 192.0.2.7/32)
check "with its duration (2 minutes; $left s left)" test "${left:-0}" -ge 100 -a "${left:-0}" -le 120
cs decisions add -i 192.0.2.50 -d 2m > /dev/null
cs decisions add -r 10.0.0.0/8 -d 2m > /dev/null
cs decisions add -i 192.0.2.9 -d 2m -t captcha > /dev/null
check "an allowlisted address is refused and counted" \
	eventually metric_ge 'hydrascope_crowdsec_decisions_total{outcome="allowlist"}' 1
check "a /8 is refused and counted" \
	eventually metric_ge 'hydrascope_crowdsec_decisions_total{outcome="wide"}' 1
check "a captcha is not a ban: counted" \
	eventually metric_ge 'hydrascope_crowdsec_decisions_total{outcome="type"}' 1
check "none of the three is blocked" eval "no_block 192.0.2.50/32 && no_block 10.0.0.0/8 && no_block 192.0.2.9/32"
cs decisions delete -i 192.0.2.7 > /dev/null
check "cscli decisions delete lifts the block" eventually no_block 192.0.2.7/32
check "the lift is counted" eventually metric_ge 'hydrascope_crowdsec_decisions_total{outcome="lifted"}' 1

# the LAPI dies: no crash, failures counted; back: decisions flow again
f0=$(metric 'hydrascope_crowdsec_failures_total{role="pull",reason="connect"}')
kill -9 "$CSPID" && wait "$CSPID" 2> /dev/null
CSPID=
check "the bouncer counts the dead LAPI" eventually metric_ge \
	'hydrascope_crowdsec_failures_total{role="pull",reason="connect"}' $((${f0:-0} + 1))
pull_down() { [ "$(metric 'hydrascope_crowdsec_up{role="pull"}')" = 0 ]; }
check "and says it is down" eventually pull_down
check "hydrascope still runs" kill -0 "$HSPID"
check "LAPI restarted" lapi_start
cs decisions add -i 192.0.2.8 -d 5m > /dev/null
check "after the restart a new decision reaches the blocklist" eventually has_block 192.0.2.8/32
check "and the bouncer is up again" eventually metric_ge 'hydrascope_crowdsec_up{role="pull"}' 1
# a stalled LAPI (SIGSTOP) holds up no round: the client never blocks
r0=$(metric 'hydrascope_rounds_total')
kill -STOP "$CSPID"
sleep 3
r1=$(metric 'hydrascope_rounds_total')
kill -CONT "$CSPID"
check "rounds went on while the LAPI stalled (${r0:-none} to ${r1:-none})" test "${r1:-0}" -ge $((${r0:-0} + 2))
cs decisions add -i 192.0.2.11 -d 5m > /dev/null
check "decisions flow once it goes on" eventually has_block 192.0.2.11/32
in_ns curl -s --max-time 2 http://127.0.0.1:9479/metrics > "$R/run1.metrics"
promlint() { promtool check metrics < "$R/run1.metrics" > "$R/promlint.out" 2>&1; }
check "the exposition with the CrowdSec families passes promtool check metrics" promlint

# a decision deleted while hydrascope is stopped goes at its next start
kill -INT "$HSPID"
wait "$HSPID"
check "bouncer stopped cleanly" test $? -eq 0
HSPID=
check "its blocks stay pinned" has_block "$first/32"
cs decisions delete -i "$first" > /dev/null
check "bouncer started again" hs_start run2
check "the decision deleted meanwhile is lifted (startup=true)" eventually no_block "$first/32"
check "the others stay" has_block 192.0.2.8/32
kill -INT "$HSPID"
wait "$HSPID"
check "bouncer stopped cleanly again" test $? -eq 0
HSPID=

check "records (remote decisions, notes) match deploy/schema/" \
	python3 tests/lib/records_schema.py "$R/real.jsonl" "$R/dry.jsonl" "$R/run1.jsonl" "$R/run2.jsonl"
python3 - "$R" > "$R/run-verdict.txt" << 'PY'
import collections, json, sys
R = sys.argv[1]
recs = [json.loads(l) for l in open(R + "/run1.jsonl")]
cs = [r for r in recs if r["type"] == "decision" and r.get("origin", "").startswith("crowdsec/")]
mine = [r for r in cs if r["prefix"] == "192.0.2.7/32"]
print("OK" if mine and mine[0]["origin"] == "crowdsec/cscli" and mine[0]["applied"]
      and 100 <= mine[0]["ttl_s"] <= 120 else "BAD record of 192.0.2.7: %s" % mine)
# the full answer after the LAPI came back re-sent every decision: each
# was applied once all the same, one record per LAPI decision id
ids = collections.Counter(r["id"] for r in cs)
dup = [i for i, n in ids.items() if n > 1]
print("OK" if not dup else "BAD decisions applied twice: %s" % dup[:5])
print("records of LAPI decisions: %d" % len(cs))
notes = [r for r in recs if r["type"] == "note" and r["about"] == "crowdsec" and "192.0.2.7/32" in r["text"]]
print("OK" if notes else "BAD no note of the lift")
m = open(R + "/run1.metrics").read()
for s in ("hydrascope_crowdsec_decisions_received_total", "hydrascope_crowdsec_pull_startups_total",
          'hydrascope_crowdsec_decisions_total{outcome="applied"}',
          "hydrascope_crowdsec_pull_last_success_timestamp_seconds"):
    print("OK" if s in m else "BAD metric %s missing" % s)
PY
verdict "$R/run-verdict.txt"
if [ "$fail" -ne 0 ]; then
	tail -5 "$R"/*.err "$R/crowdsec.log" 2> /dev/null
fi
finish cs_down
