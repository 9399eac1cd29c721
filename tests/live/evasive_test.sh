#!/usr/bin/env bash
# Live test: a real TLS client (Python's ssl) sends its ClientHello to
# nginx re-framed as a client hiding its fingerprint would
# (tools/testbed/shaped_hello.py): behind empty handshake records, or cut
# into 4-byte records. nginx's OpenSSL takes both (checked without
# hydrascope). With hydrascope attached (--enforce): the hello behind
# empty records gets the plain hello's fingerprint, kernel == userspace;
# the 4-byte-record one, which no TLS stack sends, has its flow cut (the
# handshake never completes) and counted. Ends with "N passed, N failed".
set -u
cd "$(dirname "$0")/../.."
HS=$PWD/build/hydrascope
SHAPE=$PWD/tools/testbed/shaped_hello.py
TB_KEEP_DIR=${TB_KEEP_DIR:-}
. tools/testbed.sh
. tests/live/lib.sh

testbed_start
J=$TB_DIR

# shaped SHAPE: one request with the hello in that shape; "ok PORT STATUS"
# or "fail PORT WHY"
shaped() {
	tb_cli timeout 10 python3 "$SHAPE" "$1" "$TB_SRV4" "$TB_PORT"
}

for s in plain empty records; do
	check "without hydrascope, nginx takes the $s hello" \
		grep -q '^ok [0-9]* 200' <(shaped "$s")
done

# One mount namespace for everything that touches the pins.
cat > "$J/inner.sh" <<INNER
set -u
cd "$J"
$HS run --iface $TB_SIF --enforce --duration 30 --interval 1 --format json > run.json 2> run.err &
echo \$! > hs.pid
for i in \$(seq 100); do grep -q attached run.err && break; sleep 0.1; done
touch attached
for i in \$(seq 200); do [ -e clients.done ] && break; sleep 0.1; done
$HS stats --format json > stats.json 2>&1
$HS detach --all 2> detach.err
for i in \$(seq 100); do kill -0 \$(cat hs.pid) 2>/dev/null || break; sleep 0.1; done
INNER
ip netns exec "$TB_SRV" timeout 60 bash "$J/inner.sh" &
inner=$!
for i in $(seq 100); do [ -e "$J/attached" ] && break; sleep 0.1; done
check "hydrascope attached" test -e "$J/attached"
for s in plain empty records; do shaped "$s" > "$J/$s.out"; done
touch "$J/clients.done"
wait "$inner"

check "the plain hello's request is served" grep -q '^ok [0-9]* 200' "$J/plain.out"
check "the hello behind empty records is served" grep -q '^ok [0-9]* 200' "$J/empty.out"
check "the 4-byte-record hello's flow is cut (enforce)" grep -q '^fail ' "$J/records.out"
check "the cut is counted" grep -Eq '"evasive_cuts":[1-9]' "$J/stats.json"

python3 - "$J/run.json" "$J/plain.out" "$J/empty.out" "$J/records.out" <<'PY' > "$J/compare.txt"
import json, sys
flows = {}
for line in open(sys.argv[1]):
    o = json.loads(line)
    if o.get("type") == "flow":
        flows[o["cport"]] = o
def flow(path):
    return flows.get(int(open(path).read().split()[1]), {})
plain, empty, records = (flow(p) for p in sys.argv[2:5])
print("plain_ja4 %s" % plain.get("ja4"))
print("empty_same_ja4 %d" % (bool(plain.get("ja4")) and empty.get("ja4") == plain.get("ja4")))
print("empty_same_tuple %d" % (bool(plain.get("tuple_id")) and empty.get("tuple_id") == plain.get("tuple_id")))
print("empty_kernel_user %d" % (bool(empty.get("tuple_id")) and empty.get("tuple_id") == empty.get("tuple_id_user")))
flags = records.get("flags", "").split(",")
print("records_cut %d" % ("cut" in flags and "unfingerprintable" in flags))
print("records_reason %s" % records.get("unfp_reason"))
PY
check "the hello behind empty records has the plain hello's JA4" grep -q '^empty_same_ja4 1' "$J/compare.txt"
check "... and its tuple id" grep -q '^empty_same_tuple 1' "$J/compare.txt"
check "... kernel == userspace" grep -q '^empty_kernel_user 1' "$J/compare.txt"
check "the 4-byte-record flow is unfingerprintable and cut" grep -q '^records_cut 1' "$J/compare.txt"
check "... for more than 32 records (reason 4)" grep -q '^records_reason 4' "$J/compare.txt"
finish
