#!/usr/bin/env bash
# Fleet test: three ingress hosts (server namespaces a, b, c, each with
# nginx and its own hydrascope --instance, enforcing) share one real
# redis-server (ACL user, append-only file) through --fleet. A farm of
# residential-like exits (microsocks behind a 25 ms each-way link) is
# spread over the three by a spreader that picks the server per
# connection, so that no host sees more than 4 of its 6 exits (/24s),
# below cluster_min_sources = cluster_min_prefixes = 5.
#
#   far ns --[delaylink 25 ms]-- relay ns --veth-- a | b | c --veth-- redis ns
#   10.99.0.2           10.99.0.1, exits 198.18.101-109.2     10.98.{1,2,3}.1
#                       198.18.8{1,2,3}.2 -- .1 (servers)
#
# Checked: each host's slice stays below the thresholds, yet the fleet
# cluster forms on every host (evidence scope "fleet"); member blocks one
# host decided reach the other two within a few seconds (every host ends
# up blocking all six exits); a never-seen exit is cut on its first
# connection to another host while a direct client with the same stack
# passes. Then Redis is killed: no instance dies, local detection goes on
# (a relay block decided on host a), the decision waits in a's outbox and
# reaches b and c once Redis is back; no decision is applied twice; a
# stalled Redis (SIGSTOP) slows no host's rounds. A
# real Prometheus scrapes the three with the shipped fleet rules.
# Ends with "N passed, N failed".
set -u
cd "$(dirname "$0")/../.."
HS=${HS_BIN:-$PWD/build/hydrascope} # HS_BIN=build/hydrascope-san: under ASan
. tests/live/lib.sh

ID=$$
FAR=hs-ffar-$ID
REL=hs-frel-$ID
RDS=hs-frds-$ID
HOSTS=(a b c)
R=$(mktemp -d /tmp/hydrascope-fleet.XXXXXX)
PIDS=()
RPID=
DELAY_MS=25
PORT=8443
RPORT=6390
PASS=fleet-test-secret

srv_ns() { echo "hs-fs$1-$ID"; }
inst() { echo "fleet-$1-$ID"; }
idx() { case $1 in a) echo 1 ;; b) echo 2 ;; c) echo 3 ;; esac; }

fleet_down() {
	local p h
	for h in "${HOSTS[@]}"; do
		[ -f "$R/hs-$h.pid" ] && kill -INT "$(cat "$R/hs-$h.pid")" 2>/dev/null
	done
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	[ -n "$RPID" ] && kill -9 "$RPID" 2>/dev/null
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
	for h in "${HOSTS[@]}"; do
		"$HS" --instance "$(inst "$h")" detach --all > /dev/null 2>&1
		ip netns del "$(srv_ns "$h")" 2>/dev/null
	done
	ip netns del "$FAR" 2>/dev/null
	ip netns del "$REL" 2>/dev/null
	ip netns del "$RDS" 2>/dev/null
	[ -n "${TB_KEEP_DIR:-}" ] || rm -rf "$R"
}
clean_up_on_exit fleet_down

for tool in microsocks nginx redis-server redis-cli nsenter "$PWD/build/delaylink"; do
	command -v "$tool" > /dev/null ||
		flunk "$tool is missing (tools/install-deps.sh installs it)"
done
[ "$fail" -eq 0 ] || finish fleet_down
mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf

# ---- namespaces and links ----------------------------------------------
for n in "$FAR" "$REL" "$RDS"; do ip netns add "$n" && ip -n "$n" link set lo up; done
build/delaylink "$FAR" hsff$ID "$REL" hsfr$ID "$DELAY_MS" 150 > "$R/delaylink.out" 2>&1 &
PIDS+=($!)
for i in $(seq 50); do grep -q ready "$R/delaylink.out" 2>/dev/null && break; sleep 0.1; done
ip -n "$FAR" addr add 10.99.0.2/24 dev hsff$ID && ip -n "$FAR" link set hsff$ID up
ip -n "$REL" addr add 10.99.0.1/24 dev hsfr$ID && ip -n "$REL" link set hsfr$ID up
for n in 1 2 3 4 5 6 7 8; do ip -n "$REL" addr add "198.18.10$n.2/32" dev lo; done
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout "$R/key.pem" -out "$R/cert.pem" -days 2 -subj /CN=api.example.test > /dev/null 2>&1
for h in "${HOSTS[@]}"; do
	s=$(srv_ns "$h") k=$(idx "$h")
	ip netns add "$s" && ip -n "$s" link set lo up
	# the ingress link (hydrascope's interface) and a management link
	ip link add hsfi$h$ID netns "$s" type veth peer name hsfo$h$ID netns "$REL"
	ip link add hsfm$h$ID netns "$s" type veth peer name hsfn$h$ID netns "$RDS"
	ip -n "$s" addr add "198.18.8$k.1/24" dev hsfi$h$ID
	ip -n "$REL" addr add "198.18.8$k.2/24" dev hsfo$h$ID
	ip -n "$s" addr add "10.98.$k.2/24" dev hsfm$h$ID
	ip -n "$RDS" addr add "10.98.$k.1/24" dev hsfn$h$ID
	ip -n "$s" link set hsfi$h$ID up && ip -n "$s" link set hsfm$h$ID up
	ip -n "$REL" link set hsfo$h$ID up && ip -n "$RDS" link set hsfn$h$ID up
	ip netns exec "$s" ethtool -K hsfi$h$ID tso off gso off gro off > /dev/null 2>&1
	ip netns exec "$REL" ethtool -K hsfo$h$ID tso off gso off gro off > /dev/null 2>&1
	ip -n "$s" route add 198.18.96.0/19 via "198.18.8$k.2"
	mkdir -p "$R/nginx-$h"
	cat > "$R/nginx-$h.conf" <<-NGINX
	daemon off;
	worker_processes 1;
	pid $R/nginx-$h/nginx.pid;
	error_log $R/nginx-$h/error.log;
	events { worker_connections 256; }
	http {
	    access_log off;
	    client_body_temp_path $R/nginx-$h;
	    keepalive_timeout 5;
	    server {
	        listen $PORT ssl;
	        ssl_certificate $R/cert.pem;
	        ssl_certificate_key $R/key.pem;
	        location / { return 200 "ok\\n"; }
	    }
	}
	NGINX
	ip netns exec "$s" nginx -c "$R/nginx-$h.conf" > /dev/null 2>&1 &
	PIDS+=($!)
done

# ---- Redis: an ACL user limited to hydrascope's keys, persistence on -----
mkdir -p "$R/redis"
cat > "$R/redis.conf" <<EOF
port $RPORT
bind 0.0.0.0
dir $R/redis
appendonly yes
appendfsync always
save ""
maxmemory 64mb
maxmemory-policy noeviction
user default off
user fleet on >$PASS ~hs:* resetchannels +@all -@dangerous
EOF
redis_start() {
	ip netns exec "$RDS" redis-server "$R/redis.conf" > "$R/redis.log" 2>&1 &
	RPID=$!
	for i in $(seq 50); do
		ip netns exec "$RDS" redis-cli -p $RPORT --user fleet --pass "$PASS" \
			--no-auth-warning ping 2> /dev/null | grep -q PONG && return 0
		sleep 0.1
	done
	return 1
}
check "redis-server started" redis_start

# ---- relays: exits 1-6 the farm, 7 never seen, 8 the lone relay -------------
for n in 1 2 3 4 5 6 7 8; do
	ip netns exec "$REL" microsocks -i 10.99.0.1 -p 108$n -b "198.18.10$n.2" > /dev/null 2>&1 &
	PIDS+=($!)
done
for i in $(seq 50); do
	n=$(ip netns exec "$REL" ss -ltn | grep -cE '10\.99\.0\.1:108[1-8] ')
	[ "$n" -eq 8 ] && break
	sleep 0.1
done
check "eight relays listen" test "$n" -eq 8

# ---- a real Prometheus scraping the three, with the fleet rules -------------
cat > "$R/prometheus.yml" <<EOF
global: {scrape_interval: 1s, evaluation_interval: 1s}
rule_files: ["$PWD/deploy/prometheus/hydrascope.rules.yml", "$PWD/deploy/prometheus/hydrascope-fleet.rules.yml"]
scrape_configs:
  - job_name: hydrascope
    static_configs: [{targets: ["10.98.1.2:9477", "10.98.2.2:9477", "10.98.3.2:9477"]}]
EOF
ip netns exec "$RDS" prometheus --config.file="$R/prometheus.yml" --storage.tsdb.path="$R/tsdb" \
	--web.listen-address=127.0.0.1:9478 > "$R/prometheus.log" 2>&1 &
PIDS+=($!)
promq() { ip netns exec "$RDS" curl -s --max-time 2 "http://127.0.0.1:9478/api/v1/$1"; }

# ---- three instances -------------------------------------------------------
cat > "$R/fleet.conf" <<EOF
window_s = 60
cluster_min_sources = 5
cluster_min_prefixes = 5
decide_relay_alone = 1
EOF
for h in "${HOSTS[@]}"; do
	k=$(idx "$h")
	# nsenter: the host's network, the machine's bpffs (ip netns exec
	# would mount a private /sys), so pins are per --instance
	nsenter --net=/run/netns/"$(srv_ns "$h")" "$HS" --instance "$(inst "$h")" run \
		--iface hsfi$h$ID --enforce --decide-interval 1 --config "$R/fleet.conf" \
		--log "$R/$h.jsonl" --metrics "10.98.$k.2:9477" --duration 120 --format json \
		--fleet "redis://fleet:$PASS@10.98.$k.1:$RPORT" > "$R/$h.out" 2> "$R/$h.err" &
	echo $! > "$R/hs-$h.pid"
	PIDS+=($!)
done
for h in "${HOSTS[@]}"; do
	for i in $(seq 100); do grep -q attached "$R/$h.err" && break; sleep 0.1; done
	check "instance $h attached" grep -q attached "$R/$h.err"
	check "instance $h pinned under its own name" test -e "/sys/fs/bpf/hydrascope-$(inst "$h")/blocklist"
done
check "three pid files" test -s "/run/hydrascope/hydrascope-$(inst a).pid" \
	-a -s "/run/hydrascope/hydrascope-$(inst b).pid" -a -s "/run/hydrascope/hydrascope-$(inst c).pid"

url() { echo "https://198.18.8$(idx "$1").1:$PORT/"; }
# a request from the far client through exit N to host H
far() { # N H [curl args]
	local n=$1 h=$2
	shift 2
	ip netns exec "$FAR" timeout 8 curl -sk -o /dev/null --max-time 6 \
		-x "socks5h://10.99.0.1:108$n" "$@" "$(url "$h")"
}

# ---- phase 1: the farm, spread ----------------------------------------------
# the spreader: exit N's connections go to hosts (N mod 3) and (N+1 mod 3),
# so each host sees 4 of the 6 exits
loops=()
for n in 1 2 3 4 5 6; do
	(far $n "${HOSTS[$((n % 3))]}"; sleep 0.5; far $n "${HOSTS[$(((n + 1) % 3))]}") &
	loops+=($!)
done
wait "${loops[@]}"
t_traffic=$(date +%s%N)
exits="198.18.101.2 198.18.102.2 198.18.103.2 198.18.104.2 198.18.105.2 198.18.106.2"
all_blocked() { # host
	local out e
	out=$("$HS" --instance "$(inst "$1")" block list 2> /dev/null) || return 1
	for e in $exits; do grep -q "^$e/32 " <<< "$out" || return 1; done
}
has_rule() { "$HS" --instance "$(inst "$1")" tuple list 2> /dev/null | grep -q .; }
for i in $(seq 200); do
	all_blocked a && all_blocked b && all_blocked c && has_rule a && has_rule b && has_rule c && break
	sleep 0.1
done
t_all=$(date +%s%N)
for h in "${HOSTS[@]}"; do
	check "host $h blocks all six exits (it saw four)" all_blocked "$h"
	"$HS" --instance "$(inst "$h")" tuple list > "$R/$h.tuples" 2>&1
	check "host $h holds the farm's tuple rule" grep -q . "$R/$h.tuples"
	# its status file (rewritten each round) shows the farm, from its
	# slice of 4 sources
	for i in $(seq 50); do
		"$HS" --instance "$(inst "$h")" clusters --format json > "$R/$h.clusters.json" 2>&1
		grep -q '"farm":true' "$R/$h.clusters.json" && break
		sleep 0.2
	done
done
echo "all six exits blocked and the tuple rule held on all hosts $(((t_all - t_traffic) / 1000000)) ms after the farm's last request"
sleep 1.5
# a never-seen exit (7) on its first connection, to each host in turn;
# a direct client with the same curl stack passes
for h in "${HOSTS[@]}"; do
	if far 7 "$h"; then flunk "never-seen exit got through to host $h"; else pass=$((pass + 1)); fi
	check "direct client with the farm's stack passes on host $h" \
		ip netns exec "$REL" timeout 5 curl -sk -o /dev/null --max-time 4 "$(url "$h")"
done

# Prometheus: the farm on three hosts, its alert firing
for i in $(seq 40); do
	promq 'query?query=fleet:hydrascope_farm_hosts:count' > "$R/prom-farm-hosts.json"
	promq alerts > "$R/prom-alerts.json"
	grep -q '"value":\[[0-9.]*,"3"\]' "$R/prom-farm-hosts.json" &&
		grep -q '"alertname":"HydrascopeFleetFarmOnSeveralHosts".*"state":"firing"' "$R/prom-alerts.json" && break
	sleep 0.5
done
check "Prometheus: the farm is on 3 hosts" grep -q '"value":\[[0-9.]*,"3"\]' "$R/prom-farm-hosts.json"
check "Prometheus: HydrascopeFleetFarmOnSeveralHosts fires" \
	grep -q '"alertname":"HydrascopeFleetFarmOnSeveralHosts".*"state":"firing"' "$R/prom-alerts.json"

# ---- phase 2: Redis dies; host a decides alone; Redis comes back ------------
kill -9 "$RPID"
wait "$RPID" 2> /dev/null
RPID=
# exit 8, another TLS stack (TLS 1.2 only: not the farm's tuple), three
# relayed requests to host a: relay_rtt_gap, blocked (decide_relay_alone)
for k in 1 2 3; do far 8 a --tls-max 1.2; sleep 0.6; done
lone=198.18.108.2
for i in $(seq 100); do grep -q "\"prefix\":\"$lone/32\"" "$R/a.jsonl" && break; sleep 0.1; done
check "host a decided alone while Redis was down" grep -q "\"prefix\":\"$lone/32\"" "$R/a.jsonl"
for h in "${HOSTS[@]}"; do
	check "instance $h alive without Redis" kill -0 "$(cat "$R/hs-$h.pid")"
done
sleep 1.5
"$HS" --instance "$(inst a)" status --format json > "$R/a.status-down.json" 2>&1
check "host a counts Redis failures and holds the decision" python3 -c '
import json, sys
f = json.load(open(sys.argv[1]))["summary"]["fleet"]
sys.exit(0 if f["failures"] >= 1 and f["outbox"] >= 1 and not f["connected"] else 1)' "$R/a.status-down.json"
has_lone() { "$HS" --instance "$(inst "$1")" block list 2> /dev/null | grep -q "^$lone/32 "; }
"$HS" --instance "$(inst a)" status > "$R/a.status-down.txt" 2>&1
check "status says host a works alone" grep -q "fleet: NOT connected" "$R/a.status-down.txt"
check "host b does not hold it yet" bash -c "! $HS --instance $(inst b) block list | grep -q '^$lone/32 '"
t_restart=$(date +%s%N)
check "redis-server restarted" redis_start
for i in $(seq 150); do has_lone b && has_lone c && break; sleep 0.1; done
t_caught=$(date +%s%N)
check "host b applies a's decision after the restart" has_lone b
check "host c applies a's decision after the restart" has_lone c
echo "decision taken while Redis was down reached b and c $(((t_caught - t_restart) / 1000000)) ms after the restart"
# a stalled Redis (SIGSTOP: connections open, no answers): every call
# times out, the hosts go on with their rounds, and reconnect after
fleet_of() { # host field
	"$HS" --instance "$(inst "$1")" status --format json 2> /dev/null | python3 -c '
import json, sys
o = json.load(sys.stdin)
print(o["updated_unix_ns"] if sys.argv[1] == "updated" else int(o["summary"]["fleet"][sys.argv[1]]))' "$2"
}
f0=$(fleet_of a failures)
kill -STOP "$RPID"
u0=$(fleet_of a updated)
sleep 3
u1=$(fleet_of a updated)
f1=$(fleet_of a failures)
kill -CONT "$RPID"
check "host a kept its rounds going while Redis stalled" test $((u1 - u0)) -ge 2000000000
check "host a counted the stalled calls" test "$f1" -gt "$f0"
for i in $(seq 100); do
	[ "$(fleet_of a connected)$(fleet_of b connected)$(fleet_of c connected)" = 111 ] && break
	sleep 0.1
done
check "every host reconnected after the stall" test "$(fleet_of a connected)$(fleet_of b connected)$(fleet_of c connected)" = 111
for h in "${HOSTS[@]}"; do
	ip netns exec "$RDS" curl -s --max-time 2 "http://10.98.$(idx "$h").2:9477/metrics" > "$R/$h.metrics"
done
ip netns exec "$RDS" redis-cli -p $RPORT --user fleet --pass "$PASS" --no-auth-warning \
	--scan --pattern 'hs:*' > "$R/redis-keys.txt" 2>&1
ip netns exec "$RDS" redis-cli -p $RPORT --user fleet --pass "$PASS" --no-auth-warning \
	xlen hs:decisions > "$R/redis-xlen.txt" 2>&1

# ---- stop ----------------------------------------------------------------------
for h in "${HOSTS[@]}"; do kill -INT "$(cat "$R/hs-$h.pid")"; done
for h in "${HOSTS[@]}"; do
	p=$(cat "$R/hs-$h.pid")
	for i in $(seq 100); do kill -0 "$p" 2> /dev/null || break; sleep 0.1; done
	wait "$p"
	check "instance $h exited cleanly" test $? -eq 0
	rm -f "$R/hs-$h.pid"
done

python3 - "$R" "$lone" $exits > "$R/verdict.txt" <<'PY'
import json, sys, collections
R, lone, exits = sys.argv[1], sys.argv[2], set(sys.argv[3:])
hosts = "abc"
recs = {h: [json.loads(l) for l in open("%s/%s.jsonl" % (R, h))] for h in hosts}
# "hydrascope: fleet URL as ORIGIN" names each instance on the fleet
me = {h: [l.split(" as ")[-1].strip() for l in open("%s/%s.err" % (R, h)) if " as " in l][0] for h in hosts}
for h in hosts:
    farms = [r for r in recs[h] if r.get("kind") == "farm_cluster"]
    print("OK" if farms else "BAD no farm_cluster on host %s" % h)
    ev = farms[0]["evidence"] if farms else {}
    print("OK" if ev.get("scope") == "fleet" and ev.get("sources", 9) < 5 and ev.get("fleet", {}).get("sources", 0) >= 5
          else "BAD host %s farm evidence %s" % (h, ev))
    print("farm on %s: this host %s sources / %s prefixes, fleet %s" % (h, ev.get("sources"), ev.get("prefixes"), ev.get("fleet")))
    seen = set()
    for r in recs[h]:
        for s in r.get("sources", []) if r.get("kind") == "farm_cluster" else []:
            seen.add(s)
    print("OK" if len(seen & exits) <= 4 else "BAD host %s saw %d exits" % (h, len(seen & exits)))
    clusters = json.load(open("%s/%s.clusters.json" % (R, h)))
    fc = [c for c in clusters if c.get("farm")]
    print("OK" if fc and max(c["sources"] for c in fc) < 5 else "BAD host %s clusters %s" % (h, clusters))
    # every remote decision applied once: one record per id
    remote = [r for r in recs[h] if r.get("type") == "decision" and r.get("origin", me[h]) != me[h]]
    ids = collections.Counter(r["id"] for r in remote)
    dup = [i for i, n in ids.items() if n > 1]
    print("OK" if not dup else "BAD host %s applied %s twice" % (h, dup))
    print("remote decisions logged on %s: %d" % (h, len(remote)))
a_lone = [r for r in recs["a"] if r.get("prefix") == lone + "/32" and r.get("reason") == "relay_rtt_gap"]
print("OK" if a_lone and "origin" in a_lone[0] else "BAD host a lone decision %s" % a_lone)
for h in "bc":
    got = [r for r in recs[h] if r.get("prefix") == lone + "/32"]
    print("OK" if len(got) == 1 and got[0].get("applied") and got[0]["origin"] == a_lone[0]["origin"]
          else "BAD host %s lone decision records %s" % (h, got))
for h in hosts:
    m = open("%s/%s.metrics" % (R, h)).read()
    print("OK" if "hydrascope_fleet_connected 1" in m and "hydrascope_fleet_failures_total" in m
          else "BAD host %s fleet metrics" % h)
keys = open(R + "/redis-keys.txt").read().split()
print("OK" if "hs:decisions" in keys and any(k.startswith("hs:{w") and ":src:" in k for k in keys)
      else "BAD redis keys %s" % keys[:10])
PY
while read -r line; do
	case "$line" in
	OK) pass=$((pass + 1)) ;;
	BAD*) flunk "${line#BAD }" ;;
	*) echo "$line" ;;
	esac
done < "$R/verdict.txt"
check "every host's records, remote decisions too, match deploy/schema/" \
	python3 tests/lib/records_schema.py "$R"/a.jsonl "$R"/b.jsonl "$R"/c.jsonl
if [ "$fail" -ne 0 ]; then
	tail -5 "$R"/*.err "$R/redis.log" "$R/delaylink.out" 2> /dev/null
fi
finish fleet_down
