#!/usr/bin/env bash
# replay --threads N gives what --threads 1 gives: every record of every
# type (indicators, decisions, notes, the replay line, flows, sources,
# stats, summary), in the same order, on the demo capture, the scenario
# capture the scenario tests use (with and without a network database and
# --enforce) and the hostile corpus (VLAN stacks, IPv6 extension chains,
# fragments), in JSON and in text. With --seed the tables' hash keys are
# the same in every run, so the outputs must be equal byte for byte but
# for one field: the wall-clock timestamp of the note records, which are
# written before the first packet, when there is no packet time yet
# (every other timestamp is packet time). Replay only: no lock needed.
# Ends with "N passed, N failed".
set -u
cd "$(dirname "$0")/../.."
HS=$PWD/build/hydrascope
T=$(mktemp -d /tmp/hs-replay-threads.XXXXXX)
trap 'rm -rf "$T"' EXIT
# shellcheck source=tests/lib/checks.sh
. tests/lib/checks.sh

# same A B what: equal outputs once the notes' timestamps are out
same() {
	local a=$1 b=$2 what=$3 msg
	if msg=$(python3 - "$a" "$b" << 'EOF'
import json, sys
def lines(path):
    out = []
    for l in open(path):
        if l.startswith('{"type":"note"'):
            r = json.loads(l)
            r.pop("timestamp")
            l = json.dumps(r) + "\n"
        out.append(l)
    return out
a, b = lines(sys.argv[1]), lines(sys.argv[2])
if len(a) < 10:
    sys.exit("only %d lines" % len(a))
for i, (x, y) in enumerate(zip(a, b)):
    if x != y:
        sys.exit("line %d differs:\n  %s  %s" % (i + 1, x[:300], y[:300]))
if len(a) != len(b):
    sys.exit("%d lines against %d" % (len(a), len(b)))
EOF
	); then
		ok
	else
		flunk "$what: $msg"
	fi
}

# replays NAME THREADS ARGS...: $T/NAME.tTHREADS, exit status checked
replays() {
	local name=$1 t=$2
	shift 2
	if ! "$HS" replay "$@" --seed 11 --threads "$t" > "$T/$name.t$t" 2> "$T/$name.t$t.err"; then
		flunk "replay $name --threads $t: $(head -3 "$T/$name.t$t.err")"
	fi
}

python3 tools/gen-scenario.py "$T/scenario.pcap" --seed 11 > /dev/null &&
	perl tools/gen-asn-db.pl "$T/scenario.pcap.networks.json" "$T/networks.mmdb" &&
	python3 tools/gen-hostile.py "$T/hostile.pcap" > /dev/null ||
	{ flunk "capture generation"; }

# the same seed, one thread, twice: the baseline is reproducible at all
# (the correlator folds in time order, not in the maps' hash order)
replays again 1 "$T/scenario.pcap" --format json
cp "$T/again.t1" "$T/again.first"
replays again 1 "$T/scenario.pcap" --format json
same "$T/again.first" "$T/again.t1" "scenario, --threads 1 twice"

for t in 1 2 4; do
	replays demo $t tests/data/demo.pcap --format json
	replays scenario $t "$T/scenario.pcap" --format json
done
for t in 2 4; do
	same "$T/demo.t1" "$T/demo.t$t" "demo capture, json, --threads $t"
	same "$T/scenario.t1" "$T/scenario.t$t" "scenario, json, --threads $t"
done

for t in 1 2; do
	replays enforce $t "$T/scenario.pcap" --format json --enforce --asn-db "$T/networks.mmdb"
	replays text $t "$T/scenario.pcap"
	replays hostile $t "$T/hostile.pcap" --format json --local-net 198.51.100.10/32
done
same "$T/enforce.t1" "$T/enforce.t2" "scenario, --enforce and a network database, --threads 2"
same "$T/text.t1" "$T/text.t2" "scenario, text, --threads 2"
same "$T/hostile.t1" "$T/hostile.t2" "hostile corpus, --threads 2"

# the comparisons compare something: decisions were taken and packets
# dropped, on flows every thread saw
if grep -q '"type":"decision"' "$T/enforce.t1" &&
	grep '"type":"replay"' "$T/enforce.t1" | grep -qv '"dropped":0,'; then
	ok
else
	flunk "the enforce replay took no decision or dropped nothing"
fi

# refused WHAT MESSAGE ARGS...: replay of the demo capture with ARGS exits
# 2 with MESSAGE on stderr
refused() {
	local what=$1 msg=$2 rc
	shift 2
	"$HS" replay tests/data/demo.pcap "$@" > /dev/null 2> "$T/refused.err"
	rc=$?
	if [ "$rc" -eq 2 ] && grep -q -- "$msg" "$T/refused.err"; then
		ok
	else
		flunk "$what: rc=$rc $(cat "$T/refused.err")"
	fi
}

refused "--threads 0" '--threads wants a number of threads from 1 to' \
	--threads 0
# --decap: the datapath keys flows on the inner header, the sharding reads
# the outer one; an explicit --threads is refused, the default is one
refused "--decap with --threads 2" \
	'--threads 2: a replay with --decap runs on one thread' \
	--decap ipip --threads 2

summary
