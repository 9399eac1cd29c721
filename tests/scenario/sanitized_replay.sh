#!/usr/bin/env bash
# The product under AddressSanitizer (with leak detection) and UBSan:
# build/hydrascope-san replays the demo capture, the hostile corpus and a
# generated scenario with its network database, text and JSON; any
# sanitizer report or leak fails. Ends with "N passed, N failed".
set -u
cd "$(dirname "$0")/../.."
HS=build/hydrascope-san
pass=0
fail=0
d=$(mktemp -d /tmp/hs-san.XXXXXX)
trap 'rm -rf "$d"' EXIT
export ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:abort_on_error=0
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1

run() {
	local what=$1
	shift
	if "$HS" "$@" > "$d/out" 2> "$d/err" && ! grep -qE "Sanitizer|runtime error" "$d/err"; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		echo "FAIL $what"
		grep -E -A12 "ERROR: |runtime error|SUMMARY" "$d/err" | head -30
	fi
}

python3 tools/gen-hostile.py "$d/hostile.pcap" &&
	python3 tools/gen-scenario.py "$d/scenario.pcap" --span 500 > /dev/null &&
	perl tools/gen-asn-db.pl "$d/scenario.pcap.networks.json" "$d/networks.mmdb" ||
	{ echo "FAIL scenario generation"; fail=$((fail + 1)); }
run "demo capture, text" replay tests/data/demo.pcap --local-net 198.18.77.1/32
run "demo capture, json" replay tests/data/demo.pcap --format json
run "hostile corpus, json" replay "$d/hostile.pcap" --format json --local-net 198.51.100.10/32
run "scenario with a network database, json" replay "$d/scenario.pcap" --format json \
	--asn-db "$d/networks.mmdb" --log "$d/records.jsonl"
run "scenario, text, allowlist and a config" replay "$d/scenario.pcap" --no-flows \
	--allow 100.64.0.0/16 --config deploy/hydrascope.conf.example
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
