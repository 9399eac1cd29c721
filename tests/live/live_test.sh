#!/usr/bin/env bash
# Live test: hydrascope attached (XDP + TC) to the server side of a veth
# pair in a network namespace, real TLS clients against openssl s_server.
# Asserts flows and fingerprints while running (also through bpftool on
# the pinned maps), that the live report equals a replay of a capture of
# the same traffic, that TCP and TLS round trips are measured, and that
# nothing is left behind after it stops. Ends with "N passed, N failed".
set -u
cd "$(dirname "$0")/../.."
HS=$PWD/build/hydrascope
TB_KEEP_DIR=${TB_KEEP_DIR:-}
. tools/testbed.sh
. tests/live/lib.sh

testbed_start

# One mount namespace for everything that touches the pins: run the
# server-side part inside a single `ip netns exec`.
cat > "$TB_DIR/inner.sh" <<INNER
set -u
HS=$HS
cd "$TB_DIR"
\$HS run --iface $TB_SIF --enforce --duration 30 --interval 2 --format json > run.json 2> run.err &
echo \$! > hs.pid
for i in \$(seq 100); do grep -q attached run.err && break; sleep 0.1; done
touch attached
# wait for the client side to finish (bounded), then read the pins
for i in \$(seq 200); do [ -e clients.done ] && break; sleep 0.1; done
# enforcement: block the client, let it try, then allowlist it
\$HS block add $TB_CLI4/32 --ttl 60 2> block.err
\$HS block list --format json > blocks.json
touch blocked
for i in \$(seq 100); do [ -e tried ] && break; sleep 0.1; done
\$HS allow add $TB_CLI4/32 2> allow.err
\$HS allow list --format json > allows.json
\$HS block list > blocks-after-allow.txt
touch allowed
for i in \$(seq 100); do [ -e retried ] && break; sleep 0.1; done
# a block lapses by itself at its expiry (kernel time)
\$HS allow del $TB_CLI4/32 2>> allow.err
\$HS block add $TB_CLI4/32 --ttl 3 2>> block.err
touch blocked2
for i in \$(seq 150); do [ -e expired-tried ] && break; sleep 0.1; done
\$HS flows --format json > flows.json 2> flows.err
\$HS stats --format json > stats.json 2>&1
\$HS status --format json > status.json 2>&1
bpftool map dump pinned /sys/fs/bpf/hydrascope/flows > bpftool-flows.txt 2>&1
bpftool map dump pinned /sys/fs/bpf/hydrascope/stats > bpftool-stats.txt 2>&1
\$HS detach 2> detach.err
for i in \$(seq 100); do kill -0 \$(cat hs.pid) 2>/dev/null || break; sleep 0.1; done
ls /sys/fs/bpf/hydrascope > pins-kept.txt 2>&1
\$HS detach --all 2>> detach.err
ls /sys/fs/bpf/hydrascope > pins-after.txt 2>&1
ip -d link show $TB_SIF > link-after.txt
tc filter show dev $TB_SIF egress > tc-after.txt 2>&1
INNER

tb_capture_start "$TB_DIR/live.pcap"
ip netns exec "$TB_SRV" timeout 60 bash "$TB_DIR/inner.sh" &
inner=$!
for i in $(seq 100); do [ -e "$TB_DIR/attached" ] && break; sleep 0.1; done
check "hydrascope attached" test -e "$TB_DIR/attached"
check "attach message names the XDP mode" grep -Eq "XDP (native|generic)" "$TB_DIR/run.err"
tb_clients
touch "$TB_DIR/clients.done"
for i in $(seq 100); do [ -e "$TB_DIR/blocked" ] && break; sleep 0.1; done
tb_cli timeout 3 curl -sk -o /dev/null "https://$TB_SRV4:$TB_PORT/" && blocked_ok=0 || blocked_ok=1
touch "$TB_DIR/tried"
for i in $(seq 100); do [ -e "$TB_DIR/allowed" ] && break; sleep 0.1; done
tb_cli timeout 5 curl -sk -o /dev/null "https://$TB_SRV4:$TB_PORT/" && allowed_ok=1 || allowed_ok=0
touch "$TB_DIR/retried"
for i in $(seq 100); do [ -e "$TB_DIR/blocked2" ] && break; sleep 0.1; done
tb_cli timeout 1 curl -sk -o /dev/null "https://$TB_SRV4:$TB_PORT/" && ttl_blocked=0 || ttl_blocked=1
sleep 3
tb_cli timeout 5 curl -sk -o /dev/null "https://$TB_SRV4:$TB_PORT/" && ttl_lapsed=1 || ttl_lapsed=0
touch "$TB_DIR/expired-tried"
wait "$inner"
tb_capture_stop

J=$TB_DIR
check "run exited cleanly" test -s "$J/run.json"
check "the correlator heard of every live flow through its flow events" \
	grep -q '"type":"summary".*"flows_reconciled":0[,}]' "$J/run.json"
check "flows command read the pinned map" grep -q '"type":"flow"' "$J/flows.json"
check "bpftool dumps flows with BTF field names" grep -q '"pkts_in"' "$J/bpftool-flows.txt"
check "bpftool dumps named counters" grep -q '"tls_flows"' "$J/bpftool-stats.txt"
check "a blocked client cannot connect (enforce)" test "$blocked_ok" = 1
check "block list shows the block with its TTL" grep -q '"prefix":"198.18.77.2/32","expires_in_s":[0-9]' "$J/blocks.json"
check "allowlisting lifts the block at once" bash -c "! grep -q 198.18.77.2 '$J/blocks-after-allow.txt' && grep -q 'lifted 1 block' '$J/allow.err'"
check "the allowlisted client connects again" test "$allowed_ok" = 1
check "a 3 s block holds at first" test "$ttl_blocked" = 1
check "and lapses by itself after its TTL" test "$ttl_lapsed" = 1
check "drops were counted" grep -Eq '"block_drops":[1-9]' "$J/stats.json"
check "detach keeps the blocking maps" bash -c "test \"\$(cat '$J/pins-kept.txt' | tr '\n' ' ')\" = 'allowlist block_hint blocklist cuts tuple_rules '"
check "detach --all removes every pin" grep -q "No such file" "$J/pins-after.txt"
check "no XDP program left" bash -c "! grep -q 'prog/xdp' '$J/link-after.txt'"
check "no TC filter left" bash -c "! grep -q hydrascope '$J/tc-after.txt' && ! grep -q tc_egress '$J/tc-after.txt'"

"$HS" replay "$J/live.pcap" --local-net "$TB_SRV4/32" --local-net "$TB_SRV6/128" \
	--format json > "$J/replay.json" 2> "$J/replay.err"
check "replay of the capture ran" test -s "$J/replay.json"

# Compare live and replay per flow; TLS flows must carry both round trips.
python3 - "$J/run.json" "$J/replay.json" "$TB_SIF" "$J/flows.json" <<'PY' > "$J/compare.txt"
import json, sys, time
def flows(p):
    out = {}
    for l in open(p):
        o = json.loads(l)
        if o.get("type") == "flow":
            out[(o["client"], o["cport"])] = o
    return out
live, rep = flows(sys.argv[1]), flows(sys.argv[2])
# live records: wall clock (not the kernel's monotonic clock) and the
# interface, in the exit report and from the pinned maps
now = time.time()
for name, fl in (("run", live), ("flows", flows(sys.argv[4]))):
    for k, o in fl.items():
        if abs(o["first_ns"] / 1e9 - now) > 600 or abs(o["last_ns"] / 1e9 - now) > 600:
            print("CLOCK %s %s first_ns=%s" % (name, k, o["first_ns"]))
        if name == "run" and o["iface"] != sys.argv[3]:
            print("IFACE %s %s %s" % (name, k, o["iface"]))
tls = [k for k, o in live.items() if o.get("tls")]
print("tls_flows %d" % len(tls))
for k in tls:
    o, r = live[k], rep.get(k)
    for f in ("ja3", "ja4", "ja4_r", "ja4_o", "tcp_sig", "tuple_id", "sni", "alpn"):
        if r is None or o.get(f) != r.get(f):
            print("MISMATCH %s %s live=%s replay=%s" % (k, f, o.get(f), r.get(f) if r else None))
    for f in ("tcp_rtt_us", "tls_rtt_us", "ack_to_hello_us"):
        if o.get(f) is None:
            print("MISSING %s %s" % (k, f))
    if o.get("tuple_id") != o.get("tuple_id_user"):
        print("TUPLE %s kernel=%s user=%s" % (k, o.get("tuple_id"), o.get("tuple_id_user")))
PY
check "live saw the four TLS clients" grep -Eq "^tls_flows ([4-9]|[1-9][0-9])" "$J/compare.txt"
check "live fingerprints equal replay of the same traffic" bash -c "! grep -q MISMATCH '$J/compare.txt'"
check "every live TLS flow has TCP RTT, TLS RTT and ACK->hello" bash -c "! grep -q MISSING '$J/compare.txt'"
check "kernel tuple id equals userspace on live flows" bash -c "! grep -q TUPLE '$J/compare.txt'"
check "live flow times are wall clock (run report and flows command)" bash -c "! grep -q CLOCK '$J/compare.txt'"
check "live records name the interface" bash -c "! grep -q IFACE '$J/compare.txt'"
check "live records, lists and status file match deploy/schema/" python3 tests/lib/records_schema.py \
	"$J/run.json" "$J/flows.json" "$J/stats.json" "$J/blocks.json" "$J/allows.json" "$J/status.json"
if [ "$fail" -ne 0 ]; then
	cat "$J/compare.txt" "$J/run.err" "$J/replay.err" 2>/dev/null | head -40
fi
finish
