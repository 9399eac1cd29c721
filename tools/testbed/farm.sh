#!/usr/bin/env bash
# Live farm testbed: a hydra cluster of real proxies among real users, with
# hydrascope attached live (enforce mode) on the server. `make
# bench-detect-live` runs it; it is a benchmark, not part of `make test`.
#
#   operator ns --delaylink(detour d_k)--> exit ns k (6 device stacks) --+
#   cloud VMs (3, direct, same script)                                   +-- wan bridge -- server ns
#   SDK customers (2, same stack), users (curl, python, openssl, gnutls, |   (nginx, hydrascope)
#   Go, headless Chromium and Firefox), a NAT, a health checker ---------+
#
# Exit ns k holds 6 exit addresses, each in its own /24, each served by its
# own proxy (3 microsocks, dante, squid, tinyproxy); its TCP stack is set
# with sysctls (TTL, timestamps, SACK, window scaling, ECN, buffers, MSS)
# to look like a Windows PC, an Android phone, a PPPoE Linux router, old
# embedded gear, TTL 255 + ECN gear, and plain Linux. The operator's script
# (farm_client.py) rotates over the 36 exits, most used for ONE connection.
# Addresses: 198.18.0.0/15 (RFC 2544 benchmarking), one L2 segment; the
# operator-to-exit links are 10.77.k.0/30 TUN pairs. Nothing leaves the
# namespaces. Bounded in time; every namespace, link and process goes on
# exit, also on failure.
#
#   tools/testbed/farm.sh [--seconds N] [--seed S] [--out DIR] [--decide-interval S]
set -u
cd "$(dirname "$0")/../.."
ROOT=$PWD
. tools/cleanup.sh
HS=$ROOT/build/hydrascope
SECONDS_RUN=150
SEED=1
OUT=build/bench-detect-live
DECIDE=10
while [ $# -gt 0 ]; do
	case $1 in
	--seconds) SECONDS_RUN=$2; shift 2 ;;
	--seed) SEED=$2; shift 2 ;;
	--out) OUT=$2; shift 2 ;;
	--decide-interval) DECIDE=$2; shift 2 ;;
	*) echo "farm.sh: unknown option $1" >&2; exit 2 ;;
	esac
done
for tool in microsocks danted squid tinyproxy nginx "$ROOT/build/delaylink" "$HS" python3 perl; do
	command -v "$tool" > /dev/null || { echo "farm.sh: $tool is missing (make deps-bench)" >&2; exit 1; }
done
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
rm -f "$OUT"/*.jsonl "$OUT"/*.log
W=$(mktemp -d /tmp/hydrascope-farm.XXXXXX)
ID=$$
NS_SRV=hsf$ID-srv
NS_WAN=hsf$ID-wan
NS_OP=hsf$ID-op
SRV4=198.18.0.1
PORT=8443
PIDS=()
NSES=()
RANDOM=$SEED

down() {
	local p
	[ -f "$W/hs.pid" ] && kill -INT "$(cat "$W/hs.pid")" 2> /dev/null
	for p in "${PIDS[@]}"; do kill "$p" 2> /dev/null; done
	sleep 0.5
	for p in "${PIDS[@]}"; do kill -9 "$p" 2> /dev/null; wait "$p" 2> /dev/null; done
	for n in "${NSES[@]}"; do
		ip netns pids "$n" 2> /dev/null | xargs -r kill -9 2> /dev/null
		ip netns del "$n" 2> /dev/null
	done
	"$HS" detach --all > /dev/null 2>&1
	rm -rf "$W"
}
clean_up_on_exit down
trap 'exit 1' INT TERM

mkns() {
	ip netns add "$1" || return 1
	NSES+=("$1")
	ip -n "$1" link set lo up
}
# veth from namespace $1 (device $2) into the wan bridge
wire() {
	local ns=$1 dev=$2 peer=w$3
	ip link add "$dev" netns "$ns" type veth peer name "$peer" netns "$NS_WAN" || return 1
	ip -n "$NS_WAN" link set "$peer" master br0 up
	ip -n "$ns" link set "$dev" up
	ip netns exec "$ns" ethtool -K "$dev" tso off gso off gro off > /dev/null 2>&1
}
bg() { # bg LOG cmd...: a bounded background process, killed on exit
	local log=$1
	shift
	"$@" > "$log" 2>&1 &
	PIDS+=($!)
}

mkns "$NS_SRV" && mkns "$NS_WAN" && mkns "$NS_OP" || exit 1
ip -n "$NS_WAN" link add br0 type bridge && ip -n "$NS_WAN" link set br0 up
wire "$NS_SRV" hfs "srv" || exit 1
ip -n "$NS_SRV" addr add "$SRV4/15" dev hfs

# the TLS server
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$W/key.pem" \
	-out "$W/cert.pem" -days 2 -subj /CN=api.example.test > /dev/null 2>&1
mkdir -p "$W/nginx"
cat > "$W/nginx.conf" << EOF
daemon off;
worker_processes 1;
pid $W/nginx/nginx.pid;
error_log $W/nginx/error.log;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $W/nginx;
    keepalive_timeout 5;
    server {
        listen $PORT ssl;
        ssl_certificate $W/cert.pem;
        ssl_certificate_key $W/key.pem;
        ssl_protocols TLSv1.2 TLSv1.3;
        location / { return 200 "ok\\n"; }
    }
}
EOF
bg "$W/nginx.out" ip netns exec "$NS_SRV" nginx -c "$W/nginx.conf"

# ---- exits: six device stacks, six exit addresses each --------------------
STACKS=(windows android pppoe embedded ttl255-ecn linux)
# ms, round trip operator <-> exit: 5/10/20/50/100 (the per-detour table)
# and one more between; small detours are what a rule's bound must reach
DETOURS=(5 10 20 50 100 30)
stack_sysctls() {
	local ns=$1 s=$2
	local -a kv
	case $s in
	windows) kv=(net.ipv4.ip_default_ttl=128 net.ipv4.tcp_timestamps=0 net.ipv4.tcp_sack=1
		"net.ipv4.tcp_rmem=4096 65535 8388608") ;;
	android) kv=(net.ipv4.ip_default_ttl=64 net.ipv4.tcp_timestamps=1
		"net.ipv4.tcp_rmem=4096 87380 4194304") ;;
	pppoe) kv=(net.ipv4.ip_default_ttl=64) ;;
	embedded) kv=(net.ipv4.ip_default_ttl=255 net.ipv4.tcp_timestamps=0 net.ipv4.tcp_sack=0
		net.ipv4.tcp_window_scaling=0 "net.ipv4.tcp_rmem=4096 16384 65536") ;;
	ttl255-ecn) kv=(net.ipv4.ip_default_ttl=255 net.ipv4.tcp_ecn=1) ;;
	linux) kv=() ;;
	esac
	for x in "${kv[@]}"; do ip netns exec "$ns" sysctl -qw "$x" || return 1; done
}
: > "$W/exits.txt"
NETS="{"
for k in 0 1 2 3 4 5; do
	ns=hsf$ID-x$k
	mkns "$ns" || exit 1
	stack_sysctls "$ns" "${STACKS[$k]}" || { echo "farm.sh: sysctls for ${STACKS[$k]} failed" >&2; exit 1; }
	wire "$ns" xw "x$k" || exit 1
	if [ "${STACKS[$k]}" = pppoe ]; then
		ip -n "$ns" link set xw mtu 1492
	fi
	# the operator's link to this exit, with its detour (one way = half)
	bg "$W/delaylink-$k.out" "$ROOT/build/delaylink" "$NS_OP" "op$k" "$ns" "up$k" \
		"$((DETOURS[k] / 2)).$((DETOURS[k] % 2 * 5))" $((SECONDS_RUN + 60))
	for i in $(seq 50); do grep -q ready "$W/delaylink-$k.out" 2> /dev/null && break; sleep 0.1; done
	ip -n "$NS_OP" addr add "10.77.$k.1/30" dev "op$k" && ip -n "$NS_OP" link set "op$k" up
	ip -n "$ns" addr add "10.77.$k.2/30" dev "up$k" && ip -n "$ns" link set "up$k" up
	P=10.77.$k.2
	for j in 0 1 2 3 4 5; do
		oct=$((16 + k * 6 + j))
		addr=198.18.$oct.2
		ip -n "$ns" addr add "$addr/15" dev xw
		[ "${STACKS[$k]}" = pppoe ] && ip -n "$ns" route replace 198.18.0.0/15 dev xw advmss 1452 mtu 1492
		NETS+="\"198.18.$oct.0/24\":{\"asn\":$((64501 + k)),\"org\":\"Home ISP $k\",\"class\":\"residential\"},"
		case $j in
		0 | 1 | 2)
			bg "$W/px-$k-$j.log" ip netns exec "$ns" microsocks -i "$P" -p $((1080 + j)) -b "$addr"
			echo "microsocks $P $((1080 + j)) $addr ${DETOURS[$k]} ${STACKS[$k]}" >> "$W/exits.txt"
			;;
		3)
			cat > "$W/danted-$k.conf" <<- EOF
			logoutput: $W/danted-$k.log
			internal: $P port = 1090
			external: $addr
			socksmethod: none
			clientmethod: none
			user.privileged: root
			user.unprivileged: nobody
			client pass { from: 0.0.0.0/0 to: 0.0.0.0/0 }
			socks pass { from: 0.0.0.0/0 to: 0.0.0.0/0 }
			EOF
			bg "$W/px-$k-$j.log" ip netns exec "$ns" danted -f "$W/danted-$k.conf"
			echo "dante $P 1090 $addr ${DETOURS[$k]} ${STACKS[$k]}" >> "$W/exits.txt"
			;;
		4)
			mkdir -p "$W/squid-$k" && chmod 777 "$W/squid-$k"
			cat > "$W/squid-$k.conf" <<- EOF
			http_port $P:3128
			http_access allow all
			tcp_outgoing_address $addr
			cache deny all
			pid_filename $W/squid-$k/squid.pid
			cache_log $W/squid-$k/cache.log
			access_log none
			coredump_dir $W/squid-$k
			shutdown_lifetime 1 seconds
			EOF
			bg "$W/px-$k-$j.log" ip netns exec "$ns" squid -N -f "$W/squid-$k.conf"
			echo "squid $P 3128 $addr ${DETOURS[$k]} ${STACKS[$k]}" >> "$W/exits.txt"
			;;
		5)
			cat > "$W/tinyproxy-$k.conf" <<- EOF
			Port 8888
			Listen $P
			Bind $addr
			Timeout 30
			MaxClients 50
			ConnectPort $PORT
			LogLevel Critical
			EOF
			bg "$W/px-$k-$j.log" ip netns exec "$ns" tinyproxy -d -c "$W/tinyproxy-$k.conf"
			echo "tinyproxy $P 8888 $addr ${DETOURS[$k]} ${STACKS[$k]}" >> "$W/exits.txt"
			;;
		esac
	done
done

# ---- direct hosts: cloud members, SDK customers, users, NAT, health --------
# host NAME ADDR CLASS ORG: a namespace with one address on the wan
n_host=0
host() {
	local ns=hsf$ID-h$n_host
	mkns "$ns" || return 1
	wire "$ns" hw "h$n_host" || return 1
	ip -n "$ns" addr add "$2/15" dev hw
	NETS+="\"${2%.*}.0/24\":{\"asn\":$4,\"org\":\"$5\",\"class\":\"$3\"},"
	echo "$1 $2 $ns" >> "$W/hosts.txt"
	n_host=$((n_host + 1))
}
: > "$W/hosts.txt"
host cloud-1 198.19.1.2 hosting 64600 "Cloud Co"
host cloud-2 198.19.2.2 hosting 64600 "Cloud Co"
host cloud-3 198.19.9.2 hosting 64601 "Other Cloud"
host sdk-1 198.19.20.2 business 64700 "Customer A"
host sdk-2 198.19.21.2 business 64701 "Customer B"
for u in curl python openssl gnutls go chromium firefox; do
	host "user-$u" "198.19.$((40 + n_host)).2" residential 64520 "Cable Co"
done
host nat 198.19.80.2 business 64702 "Example Corp"
host health 198.19.90.2 hosting 64703 "Monitoring Co"
echo "${NETS%,}}" > "$W/networks.json"
perl tools/gen-asn-db.pl "$W/networks.json" "$W/networks.mmdb" || exit 1
cp "$W/exits.txt" "$W/hosts.txt" "$W/networks.json" "$OUT/"

for i in $(seq 100); do
	n=$(for k in 0 1 2 3 4 5; do ip netns exec "hsf$ID-x$k" ss -ltn; done 2> /dev/null |
		grep -cE '10\.77\.[0-5]\.2:(1080|1081|1082|1090|3128|8888) ')
	[ "$n" -eq 36 ] && break
	sleep 0.2
done
echo "farm.sh: $n of 36 exit proxies listen" >&2
[ "$n" -eq 36 ] || exit 1

# ---- traffic ------------------------------------------------------------
URL=https://$SRV4:$PORT/
FC=$ROOT/tools/testbed/farm_client.py
HU=$ROOT/tools/testbed/human.py
in_host() { ip netns exec "$(awk -v n="$1" '$1 == n {print $3}' "$W/hosts.txt")" "${@:2}"; }
addr_of() { awk -v n="$1" '$1 == n {print $2}' "$W/hosts.txt"; }
T=$SECONDS_RUN
# human NAME THINK_MIN THINK_MAX CMD...: a person using a real client. With
# BASELINE=1 the command runs once, before hydrascope attaches, so that a
# client that fails by itself is not counted as cut.
human() {
	local name=$1 lo=$2 hi=$3
	shift 3
	if [ "$BASELINE" = 1 ]; then
		in_host "$name" timeout 40 python3 "$HU" --once --seconds 1 --addr "$(addr_of "$name")" \
			--log "$OUT/benign-baseline.jsonl" -- "$@"
		return
	fi
	bg "$W/$name.out" in_host "$name" timeout $((T + 30)) python3 "$HU" --seconds "$T" \
		--seed $((SEED + RANDOM)) --think "$lo" "$hi" --addr "$(addr_of "$name")" \
		--log "$OUT/benign.jsonl" -- "$@"
}
GO_CLIENT=
if command -v go > /dev/null; then
	mkdir -p "$W/go"
	cat > "$W/go/main.go" << EOF
package main

import (
	"crypto/tls"
	"io"
	"net/http"
	"time"
)

func main() {
	c := &http.Client{Timeout: 8 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	r, err := c.Get("$URL")
	if err != nil {
		panic(err)
	}
	io.Copy(io.Discard, r.Body)
}
EOF
	(cd "$W/go" && HOME=$W GOCACHE=$W/gocache GO111MODULE=off timeout 120 go build -o client main.go) &&
		GO_CLIENT=$W/go/client
fi
BROWSER_FLAGS=(--headless --no-sandbox --disable-gpu --disable-quic --no-first-run
	--disable-background-networking --disable-component-update --disable-sync
	--ignore-certificate-errors)
people() {
	human user-curl 2 20 curl -sk -o /dev/null --max-time 8 "$URL"
	human user-python 2 25 python3 -c "import ssl,urllib.request as u;u.urlopen('$URL',context=ssl._create_unverified_context(),timeout=8).read()"
	human user-openssl 3 30 sh -c "echo | timeout 8 openssl s_client -connect $SRV4:$PORT -servername api.example.test -quiet"
	human user-gnutls 3 30 sh -c "echo | timeout 8 gnutls-cli --insecure --port $PORT $SRV4"
	[ -n "$GO_CLIENT" ] && human user-go 2 20 "$GO_CLIENT"
	command -v chromium > /dev/null &&
		human user-chromium 8 30 chromium "${BROWSER_FLAGS[@]}" --user-data-dir="$W/chromium" --dump-dom "$URL"
	# no certificate exception: the handshake (what is profiled) still happens
	command -v firefox-esr > /dev/null && mkdir -p "$W/firefox" &&
		human user-firefox 10 35 env HOME="$W/firefox" firefox-esr --headless --no-remote \
			--profile "$W/firefox" --screenshot "$W/firefox/shot.png" "$URL"
	return 0
}
BASELINE=1 people
BASELINE=0

# ---- hydrascope, live, enforce mode -----------------------------------
cat > "$W/hs.conf" << EOF
max_listed_sources = 10000
EOF
ip netns exec "$NS_SRV" "$HS" run --iface hfs --enforce --decide-interval "$DECIDE" \
	--config "$W/hs.conf" --asn-db "$W/networks.mmdb" --log "$OUT/records.jsonl" \
	--duration $((SECONDS_RUN + 20)) --format json > "$OUT/run.json" 2> "$OUT/run.err" &
echo $! > "$W/hs.pid"
PIDS+=($!)
for i in $(seq 100); do grep -q attached "$OUT/run.err" && break; sleep 0.1; done
grep -q attached "$OUT/run.err" || { echo "farm.sh: hydrascope did not attach" >&2; cat "$OUT/run.err" >&2; exit 1; }
START=$(date +%s.%N)

# the operator: rotating exits, one request every 2 s
bg "$W/op.out" ip netns exec "$NS_OP" timeout $((T + 10)) python3 "$FC" --server "$SRV4" \
	--exits "$W/exits.txt" --period 2 --seconds "$T" --seed "$SEED" --log "$OUT/farm.jsonl"
# its cloud VMs: the same script, direct, the same period
for c in cloud-1 cloud-2 cloud-3; do
	bg "$W/$c.out" in_host "$c" timeout $((T + 10)) python3 "$FC" --server "$SRV4" --direct \
		--bind "$(addr_of $c)" --period 2 --seconds "$T" --seed $((SEED + RANDOM)) --log "$OUT/farm.jsonl"
done
# SDK customers: the same client stack, their own cadence and sizes
bg "$W/sdk-1.out" in_host sdk-1 timeout $((T + 10)) python3 "$FC" --server "$SRV4" --direct \
	--bind "$(addr_of sdk-1)" --period 0.7 --period-jitter 0.6 --size 2400 --size-cv 0.5 \
	--seconds "$T" --seed $((SEED + 11)) --log "$OUT/benign.jsonl"
bg "$W/sdk-2.out" in_host sdk-2 timeout $((T + 10)) python3 "$FC" --server "$SRV4" --direct \
	--bind "$(addr_of sdk-2)" --period 5 --period-jitter 0.8 --size 900 --size-cv 0.4 \
	--seconds "$T" --seed $((SEED + 12)) --log "$OUT/benign.jsonl"
people
# a corporate NAT: several people behind one address
for k in 1 2 3; do
	bg "$W/nat-$k.out" in_host nat timeout $((T + 30)) python3 "$HU" --seconds "$T" \
		--seed $((SEED + 40 + k)) --think 2 20 --addr "$(addr_of nat)" --log "$OUT/benign.jsonl" \
		-- curl -sk -o /dev/null --max-time 8 "$URL"
done
# a health checker: perfectly regular, from one address
bg "$W/health.out" in_host health timeout $((T + 30)) python3 "$HU" --seconds "$T" \
	--period 5 --addr "$(addr_of health)" --log "$OUT/benign.jsonl" \
	-- curl -sk -o /dev/null --max-time 4 "$URL"

sleep "$T"
sleep 12 # the last round after the traffic
END=$(date +%s.%N)
kill -INT "$(cat "$W/hs.pid")" 2> /dev/null
for i in $(seq 100); do kill -0 "$(cat "$W/hs.pid")" 2> /dev/null || break; sleep 0.2; done
rm -f "$W/hs.pid"
python3 tools/testbed/score_live.py --out "$OUT" --start "$START" --end "$END"
