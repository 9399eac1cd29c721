#!/usr/bin/env bash
# Relay test: real proxies (microsocks, dante, squid, tinyproxy) between a
# far client and the TLS server, with a 25 ms each-way link in front of
# them (tools/delaylink.c; the kernel has no netem), hydrascope attached
# live in enforce mode on the server.
#
#   far client ns --[delaylink, 25 ms]-- relay ns --[veth]-- server ns
#   10.99.0.2                   10.99.0.1 | 198.18.77.2       198.18.77.1
#                         exit addresses 198.18.101-107.2 (one /24 each)
#
# The relayed flows must show the detour (~50 ms) as relay_rtt_gap on every
# exit address, form a farm cluster whose relay-conditional tuple rule then
# cuts a never-seen exit node on its first connection, while a direct
# client with the very same curl stack (the relay host itself) is spared,
# never relay-flagged and never blocked. Ends with "N passed, N failed".
set -u
cd "$(dirname "$0")/../.."
HS=$PWD/build/hydrascope
. tools/testbed.sh
. tests/live/lib.sh

DELAY_MS=25

for tool in microsocks danted squid tinyproxy "$PWD/build/delaylink"; do
	command -v "$tool" > /dev/null ||
		flunk "$tool is missing (tools/install-deps.sh installs it)"
done
[ "$fail" -eq 0 ] || finish
testbed_start
tb_relay_up "$DELAY_MS" 7 150 || { flunk "relay bed did not come up"; finish; }

# the relays, each leaving through its own exit address
R=$TB_DIR
mkdir -p "$R/squid" && chmod 777 "$R/squid"
cat > "$R/danted.conf" <<EOF
logoutput: $R/danted.log
internal: 10.99.0.1 port = 1080
external: 198.18.104.2
socksmethod: none
clientmethod: none
user.privileged: root
user.unprivileged: nobody
client pass { from: 0.0.0.0/0 to: 0.0.0.0/0 }
socks pass { from: 0.0.0.0/0 to: 0.0.0.0/0 }
EOF
cat > "$R/squid.conf" <<EOF
http_port 10.99.0.1:3128
http_access allow all
tcp_outgoing_address 198.18.105.2
cache deny all
pid_filename $R/squid/squid.pid
cache_log $R/squid/cache.log
access_log none
coredump_dir $R/squid
shutdown_lifetime 1 seconds
EOF
cat > "$R/tinyproxy.conf" <<EOF
Port 8888
Listen 10.99.0.1
Bind 198.18.106.2
Timeout 30
MaxClients 20
ConnectPort $TB_PORT
LogLevel Critical
EOF
relay() { ip netns exec "$TB_CLI" "$@" > "$R/relay-$1.log" 2>&1 & TB_PIDS+=($!); }
relay microsocks -i 10.99.0.1 -p 1081 -b 198.18.101.2
relay microsocks -i 10.99.0.1 -p 1082 -b 198.18.102.2
relay microsocks -i 10.99.0.1 -p 1083 -b 198.18.103.2
relay microsocks -i 10.99.0.1 -p 1087 -b 198.18.107.2 # the never-seen exit
relay danted -f "$R/danted.conf"
relay squid -N -f "$R/squid.conf"
relay tinyproxy -d -c "$R/tinyproxy.conf"
for i in $(seq 100); do
	n=$(ip netns exec "$TB_CLI" ss -ltn | grep -cE '10\.99\.0\.1:(1080|1081|1082|1083|1087|3128|8888) ')
	[ "$n" -eq 7 ] && break
	sleep 0.1
done
check "seven relays listen" test "$n" -eq 7

cat > "$R/relay.conf" <<EOF
window_s = 60
cluster_min_sources = 4
cluster_min_prefixes = 4
EOF
cat > "$R/inner.sh" <<INNER
set -u
cd "$R"
$HS run --iface $TB_SIF --enforce --decide-interval 2 --config relay.conf \
	--log records.jsonl --metrics 127.0.0.1:9479 --duration 100 --format json \
	> run.json 2> run.err &
echo \$! > hs.pid
for i in \$(seq 100); do grep -q attached run.err && break; sleep 0.1; done
touch attached
for i in \$(seq 900); do [ -e done ] && break; sleep 0.1; done
curl -s --max-time 2 http://127.0.0.1:9479/metrics > metrics.txt
$HS status > status.txt 2>&1
$HS clusters --format json > clusters.json 2>&1
$HS stats --format json > stats.json 2>&1
kill -INT \$(cat hs.pid)
for i in \$(seq 100); do kill -0 \$(cat hs.pid) 2>/dev/null || break; sleep 0.1; done
$HS detach --all 2>/dev/null
INNER
ip netns exec "$TB_SRV" timeout 140 bash "$R/inner.sh" &
inner=$!
for i in $(seq 100); do [ -e "$R/attached" ] && break; sleep 0.1; done
check "hydrascope attached" test -e "$R/attached"

URL="https://$TB_SRV4:$TB_PORT/"
far() { tb_far timeout 8 curl -sk -o /dev/null --max-time 6 "$@" "$URL"; }
# phase 1: the farm, three requests a second apart through each relay, and
# a direct client with the same curl stack
loops=()
for p in socks5h://10.99.0.1:1081 socks5h://10.99.0.1:1082 socks5h://10.99.0.1:1083 \
	socks5h://10.99.0.1:1080 http://10.99.0.1:3128 http://10.99.0.1:8888; do
	(for k in 1 2 3; do far -x "$p"; sleep 1; done) &
	loops+=($!)
done
(for k in 1 2 3 4 5 6; do tb_cli timeout 5 curl -sk -o /dev/null --max-time 4 "$URL"; sleep 1; done) &
loops+=($!)
wait "${loops[@]}"
# phase 2: wait (bounded) for the tuple rule
for i in $(seq 200); do grep -q '"action":"tuple_rule"' "$R/records.jsonl" 2>/dev/null && break; sleep 0.1; done
check "a tuple rule was decided" grep -q '"action":"tuple_rule"' "$R/records.jsonl"
sleep 1
# phase 3: a never-seen exit node is cut on its first connection; the
# direct client with the same stack still gets through
far -x socks5h://10.99.0.1:1087 && new_exit=ok || new_exit=cut
tb_cli timeout 5 curl -sk -o /dev/null --max-time 4 "$URL" && direct=ok || direct=blocked
touch "$R/done"
wait "$inner"

check "the never-seen exit node was cut" test "$new_exit" = cut
check "status names the instance and its blocks" grep -Eq "enforcing|blocks: [1-9]" "$R/status.txt"
check "clusters lists the farm" grep -q '"farm":true' "$R/clusters.json"
check "live records and report match deploy/schema/" python3 tests/lib/records_schema.py \
	"$R/records.jsonl" "$R/run.json" "$R/stats.json"
check "live records name the interface" python3 -c "
import json, sys
sys.exit(any(json.loads(l)['iface'] != '$TB_SIF' for l in open('$R/records.jsonl')))"
check "the direct client with the same stack got through" test "$direct" = ok
python3 - "$R/records.jsonl" "$R/stats.json" "$R/metrics.txt" "$DELAY_MS" > "$R/verdict.txt" <<'PY'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
stats = json.load(open(sys.argv[2]))
metrics = open(sys.argv[3]).read()
detour = 2 * int(sys.argv[4]) * 1000
exits = {"198.18.10%d.2" % n: k for n, k in ((1, "microsocks"), (2, "microsocks"), (3, "microsocks"),
                                             (4, "dante"), (5, "squid"), (6, "tinyproxy"))}
direct = "198.18.77.2"
relay = {}
for r in recs:
    if r.get("kind") == "relay_rtt_gap":
        relay[r["sources"][0]] = r["evidence"]["detour_median_us"]
for a, kind in sorted(exits.items()):
    d = relay.get(a)
    print("detour %s %s %s" % (kind, a, d))
    print("OK" if d is not None and abs(d - detour) <= 15000 else "BAD relay %s %s" % (a, d))
print("OK" if direct not in relay else "BAD direct client relay-flagged")
farms = [r for r in recs if r.get("kind") == "farm_cluster"]
members = set().union(*[set(r["sources"]) for r in farms]) if farms else set()
print("OK" if len(members & set(exits)) >= 4 else "BAD farm members %s" % sorted(members))
print("OK" if direct not in members else "BAD direct client in the farm")
print("OK" if all("relay" in r["evidence"]["machine_evidence"] for r in farms) and farms else "BAD farm evidence")
blocks = {r["prefix"].split("/")[0] for r in recs if r.get("action") == "block_prefix"}
print("OK" if blocks and blocks <= set(exits) | {"198.18.107.2"} else "BAD blocks %s" % sorted(blocks))
rules = [r for r in recs if r.get("action") == "tuple_rule"]
print("OK" if rules and all(r["min_gap_us"] > 0 and r["applied"] for r in rules) else "BAD rules")
print("OK" if stats["tuple_cuts"] >= 1 and stats["tuple_drops"] >= 1 else "BAD cuts %s" % stats)
print("OK" if stats["tuple_gap_spared"] >= 1 else "BAD no spared flow")
print("OK" if "hydrascope_farm_clusters " in metrics and "hydrascope_relay_share_ratio " in metrics
      and "hydrascope_tuple_rules_enforced 1" in metrics else "BAD metrics")
PY
while read -r line; do
	case "$line" in
	OK) pass=$((pass + 1)) ;;
	BAD*) flunk "${line#BAD }" ;;
	detour*) echo "$line" ;;
	esac
done < "$R/verdict.txt"
if [ "$fail" -ne 0 ]; then
	tail -5 "$R/run.err" "$R/delaylink.out" "$R"/relay-*.log 2>/dev/null
fi
finish
