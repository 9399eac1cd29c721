#!/usr/bin/env bash
# make bench-fleet: the fleet transport against a real redis-server with
# three live instances (hydrascope --instance bench-{a,b,c}-PID run --fleet,
# each on a veth of its own, no traffic needed). Prints one JSON object:
#   memory      Redis used_memory per 100k tracked sources (one cluster of
#               100k; 1000 clusters of 100), written by the transport
#   latency     time from a decision handed to the transport until all three
#               instances hold it in their pinned blocklist (median, p99)
#   throughput  5000 decisions at once: decisions per second enforced on all
#               three
set -u
cd "$(dirname "$0")/../.."
. tools/cleanup.sh
HS=$PWD/build/hydrascope
B=$PWD/build/bench_fleet
ID=$$
D=$(mktemp -d /tmp/hydrascope-bench-fleet.XXXXXX)
PORT=6391
URL="redis://bench:bench-secret@127.0.0.1:$PORT"
NAMES=()
PIDS=()
RPID=

down() {
	local p n
	for p in "${PIDS[@]}"; do kill -INT "$p" 2> /dev/null; done
	for p in "${PIDS[@]}"; do wait "$p" 2> /dev/null; done
	for n in "${NAMES[@]}"; do
		"$HS" --instance "$n" detach --all > /dev/null 2>&1
		ip link del "hsbf${n:6:1}$ID" 2> /dev/null
	done
	[ -n "$RPID" ] && kill "$RPID" 2> /dev/null && wait "$RPID" 2> /dev/null
	rm -rf "$D"
}
clean_up_on_exit down
mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf

cat > "$D/redis.conf" <<CONF
port $PORT
bind 127.0.0.1
dir $D
save ""
appendonly no
user default off
user bench on >bench-secret ~hs:* resetchannels +@all -@dangerous +info +flushdb +dbsize
CONF
redis-server "$D/redis.conf" > "$D/redis.log" 2>&1 &
RPID=$!
for i in $(seq 50); do
	redis-cli -p $PORT --user bench --pass bench-secret --no-auth-warning ping 2> /dev/null | grep -q PONG && break
	sleep 0.1
done

mem1=$("$B" memory "$URL" 100000 1)
mem1k=$("$B" memory "$URL" 100000 1000)
redis-cli -p $PORT --user bench --pass bench-secret --no-auth-warning flushdb > /dev/null

for h in a b c; do
	n=bench-$h-$ID
	NAMES+=("$n")
	ip link add "hsbf$h$ID" type veth peer name "hsbg$h$ID"
	ip link set "hsbf$h$ID" up && ip link set "hsbg$h$ID" up
	"$HS" --instance "$n" run --iface "hsbf$h$ID" --enforce --duration 600 \
		--fleet "$URL" > "$D/$h.out" 2> "$D/$h.err" &
	PIDS+=($!)
done
for h in a b c; do
	for i in $(seq 100); do grep -q attached "$D/$h.err" && break; sleep 0.1; done
done
sleep 1
lat=$("$B" latency "$URL" 200 "${NAMES[@]}")
thr=$("$B" throughput "$URL" 5000 "${NAMES[@]}")
printf '{"memory_one_cluster":%s,"memory_1000_clusters":%s,"latency":%s,"throughput":%s}\n' \
	"$mem1" "$mem1k" "$lat" "$thr"
