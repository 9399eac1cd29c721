#!/usr/bin/env bash
# Fault and upgrade test, live in a network namespace:
#  - kill -9 the daemon in enforce mode: the pinned datapath stays attached
#    and keeps counting, a block holds and then lapses at its kernel-time
#    expiry with no userspace at all;
#  - a restart takes the pinned links over in place and keeps the flows;
#  - a second instance is refused with one line, and changes nothing;
#  - run --takeover under a stream of packets: the old instance hands over,
#    the program is replaced atomically, and the datapath counts every
#    packet of the stream (no gap);
#  - pinned maps of another layout: an instance map is recreated with a
#    note, a blocking-layer map is refused before anything is attached;
#  - without BPF permission: one line, nothing attached.
# Ends with "N passed, N failed".
set -u
cd "$(dirname "$0")/../.."
HS=$PWD/build/hydrascope
. tools/testbed.sh
. tests/live/lib.sh

testbed_start
STREAM=3000
R=$TB_DIR

# Everything that touches the pins runs in one mount namespace.
cat > "$R/inner.sh" <<INNER
set -u
cd "$R"
HS=$HS
wait_for() { for i in \$(seq 100); do [ -e "\$1" ] && return 0; sleep 0.1; done; return 1; }
xdp_id() { ip -d link show $TB_SIF | grep -o 'prog/xdp id [0-9]*' | grep -o '[0-9]*\$'; }
stat_of() { \$HS stats --format json 2>/dev/null | python3 -c "import json,sys; print(json.load(sys.stdin)['\$1'])"; }

\$HS run --iface $TB_SIF --enforce --duration 120 > r1.out 2> r1.err & echo \$! > r1.pid
disown
wait_for_attach() { for i in \$(seq 100); do grep -q "\$2" "\$1" 2>/dev/null && return 0; sleep 0.1; done; return 1; }
wait_for_attach r1.err "attached to"
touch up1
wait_for warm
\$HS block add $TB_CLI4/32 --ttl 4 2> block.err
kill -9 \$(cat r1.pid)
sleep 0.2
xdp_id > xdp-after-kill.txt
ls /sys/fs/bpf/hydrascope/links > links-after-kill.txt
stat_of block_drops > drops-before.txt
touch killed
wait_for probed
stat_of block_drops > drops-after.txt
stat_of xdp_packets > pkts-after-kill.txt

# restart: takes the pinned links over, keeps the flows
\$HS run --iface $TB_SIF --duration 120 > r2.out 2> r2.err & echo \$! > r2.pid
wait_for_attach r2.err "took over"
xdp_id > xdp-r2.txt
\$HS flows --format json > flows-r2.json 2>&1
\$HS run --iface $TB_SIF --duration 5 > r-second.out 2> r-second.err; echo \$? > r-second.rc
xdp_id > xdp-after-second.txt

# takeover under a packet stream
stat_of non_tcp > nontcp-before.txt
touch stream
wait_for streaming
sleep 1
\$HS run --iface $TB_SIF --takeover --duration 120 > r3.out 2> r3.err & echo \$! > r3.pid
wait_for_attach r3.err "took over"
xdp_id > xdp-r3.txt
wait_for streamed
sleep 0.3
stat_of non_tcp > nontcp-after.txt
for i in \$(seq 50); do kill -0 \$(cat r2.pid) 2>/dev/null || break; sleep 0.1; done
kill -0 \$(cat r2.pid) 2>/dev/null && echo running > r2-state.txt || echo exited > r2-state.txt
kill -INT \$(cat r3.pid)
for i in \$(seq 100); do kill -0 \$(cat r3.pid) 2>/dev/null || break; sleep 0.1; done
(xdp_id || echo none) > xdp-after-stop.txt
\$HS detach --all 2> detach.err

# pinned maps of another layout
mkdir -p /sys/fs/bpf/hydrascope
bpftool map create /sys/fs/bpf/hydrascope/stats type percpu_array key 4 value 8 entries 1 name stats
\$HS run --iface $TB_SIF --duration 2 > r4.out 2> r4.err; echo \$? > r4.rc
\$HS detach --all 2>> detach.err
mkdir -p /sys/fs/bpf/hydrascope
bpftool map create /sys/fs/bpf/hydrascope/blocklist type lpm_trie key 20 value 8 entries 16 name blocklist flags 1
\$HS run --iface $TB_SIF --duration 2 > r5.out 2> r5.err; echo \$? > r5.rc
(xdp_id || echo none) > xdp-after-r5.txt
\$HS detach --all 2>> detach.err

# no BPF permission
setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
	\$HS run --iface $TB_SIF --duration 2 > r6.out 2> r6.err; echo \$? > r6.rc
(xdp_id || echo none) > xdp-after-r6.txt
ls /sys/fs/bpf/hydrascope > pins-end.txt 2>&1
INNER

ip netns exec "$TB_SRV" timeout 150 bash "$R/inner.sh" &
inner=$!
URL="https://$TB_SRV4:$TB_PORT/"
for i in $(seq 100); do [ -e "$R/up1" ] && break; sleep 0.1; done
for k in 1 2 3; do tb_cli timeout 3 curl -sk -o /dev/null "$URL"; done
touch "$R/warm"
for i in $(seq 100); do [ -e "$R/killed" ] && break; sleep 0.1; done
tb_cli timeout 2 curl -sk -o /dev/null "$URL" && held=0 || held=1
sleep 4.5
tb_cli timeout 3 curl -sk -o /dev/null "$URL" && lapsed=1 || lapsed=0
touch "$R/probed"
for i in $(seq 150); do [ -e "$R/stream" ] && break; sleep 0.1; done
touch "$R/streaming"
tb_cli python3 - "$TB_SRV4" "$STREAM" <<'PY' > "$R/stream.txt"
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
n = int(sys.argv[2])
for i in range(n):
    s.sendto(b"x" * 64, (sys.argv[1], 9))
    time.sleep(0.001)
print(n)
PY
touch "$R/streamed"
wait "$inner"

check "a block holds after kill -9 (no userspace)" test "$held" = 1
check "and lapses by itself at its expiry" test "$lapsed" = 1
check "the datapath stays attached after kill -9" test -s "$R/xdp-after-kill.txt"
check "its links stay pinned" grep -q "^xdp_" "$R/links-after-kill.txt"
check "it kept counting drops with no daemon" \
	test "$(cat "$R/drops-after.txt")" -gt "$(cat "$R/drops-before.txt")"
check "a restart takes the links over" grep -q "took over the datapath" "$R/r2.err"
check "... replacing the program" test "$(cat "$R/xdp-r2.txt")" != "$(cat "$R/xdp-after-kill.txt")"
check "... and keeps the flows of before" grep -q '"type":"flow"' "$R/flows-r2.json"
check "a second instance is refused with exit 2" test "$(cat "$R/r-second.rc")" = 2
check "... in one line naming --takeover" bash -c "test \$(wc -l < '$R/r-second.err') -eq 1 && grep -q -- --takeover '$R/r-second.err'"
check "... and changes nothing" test "$(cat "$R/xdp-after-second.txt")" = "$(cat "$R/xdp-r2.txt")"
check "the old instance hands over" grep -q "handed the datapath over" "$R/r2.err"
check "... and exits" grep -q exited "$R/r2-state.txt"
check "the new instance took over" test "$(cat "$R/xdp-r3.txt")" != "$(cat "$R/xdp-r2.txt")"
sent=$(cat "$R/stream.txt" 2>/dev/null || echo 0)
seen=$(( $(cat "$R/nontcp-after.txt") - $(cat "$R/nontcp-before.txt") ))
echo "takeover under a stream: sent $sent, datapath counted $seen"
check "no gap: the datapath counted every packet of the stream ($seen of $sent)" \
	test "$sent" -eq "$STREAM" -a "$seen" -ge "$sent"
check "a clean stop detaches" grep -q none "$R/xdp-after-stop.txt"
check "an instance map of another layout is recreated, with a note" \
	bash -c "test \$(cat '$R/r4.rc') = 0 && grep -q 'stats has another layout' '$R/r4.err'"
check "a blocking map of another layout is refused in one line" \
	bash -c "test \$(cat '$R/r5.rc') = 2 && test \$(wc -l < '$R/r5.err') -eq 1 && grep -q 'refusing' '$R/r5.err'"
check "... before anything is attached" grep -q none "$R/xdp-after-r5.txt"
check "no BPF permission: exit 2 in one line" \
	bash -c "test \$(cat '$R/r6.rc') = 2 && test \$(wc -l < '$R/r6.err') -eq 1"
check "... nothing attached" grep -q none "$R/xdp-after-r6.txt"
check "... nothing pinned" grep -q "No such file" "$R/pins-end.txt"
if [ "$fail" -ne 0 ]; then
	tail -3 "$R"/r*.err "$R/detach.err" 2>/dev/null
fi
finish
