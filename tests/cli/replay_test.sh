#!/usr/bin/env bash
# What replay tells the operator besides its results: a capture that does
# not open is named (exit 2, one line); warnings for a --local-net that
# matched nothing, a capture without SYN and a p0f file without
# signatures; progress on stderr only when it is a terminal; text records
# streamed ahead of the report. Replay only: no lock needed. Ends with
# "N passed, N failed".
set -u
cd "$(dirname "$0")/../.."
HS=$PWD/build/hydrascope
T=$(mktemp -d /tmp/hs-replay-test.XXXXXX)
trap 'rm -rf "$T"' EXIT
# shellcheck source=tests/lib/checks.sh
. tests/lib/checks.sh

# one_line_naming "what" needle args...: exit 2, one stderr line with needle
one_line_naming() {
	local what=$1 needle=$2 err rc
	shift 2
	err=$("$HS" "$@" 2>&1 > /dev/null)
	rc=$?
	if [ "$rc" -eq 2 ] && [ "$(grep -c . <<< "$err")" -eq 1 ] && grep -qF -- "$needle" <<< "$err"; then
		ok
	else
		flunk "$what: rc=$rc stderr=[$err]"
	fi
}

one_line_naming "not a capture" /etc/hostname replay /etc/hostname
one_line_naming "a directory" "$T" replay "$T"
head -c 100 tests/data/demo.pcap > "$T/cut.pcap"
# a capture cut inside a record: it opens, then its reader names it
err=$("$HS" replay "$T/cut.pcap" 2>&1 > /dev/null)
check_quiet "a cut capture is named" grep -qF "$T/cut.pcap" <<< "$err"

"$HS" replay tests/data/demo.pcap --local-net 10.99.0.0/16 --local-net 198.18.77.1/32 \
	> /dev/null 2> "$T/ln.err"
check_quiet "--local-net that matched nothing: warned, by name" \
	grep -q 'warning: --local-net 10.99.0.0/16 matched no packet' "$T/ln.err"
check_quiet "--local-net that matched: no warning" bash -c "! grep -q 198.18.77.1/32 '$T/ln.err'"

tcpdump -r tests/data/demo.pcap -w "$T/nosyn.pcap" 'ip and not (tcp[tcpflags] & tcp-syn != 0)' 2> /dev/null
"$HS" replay "$T/nosyn.pcap" > /dev/null 2> "$T/nosyn.err"
check_quiet "capture without SYN: warned" grep -q "warning: no TCP SYN in $T/nosyn.pcap" "$T/nosyn.err"
"$HS" replay tests/data/demo.pcap > /dev/null 2> "$T/demo.err"
check_quiet "the demo capture: no warning" test ! -s "$T/demo.err"

printf '[tcp:request]\n; nothing here\n' > "$T/empty.fp"
"$HS" replay tests/data/demo.pcap --p0f-db "$T/empty.fp" > /dev/null 2> "$T/fp.err"
check_quiet "p0f file without signatures: warned, by name" \
	grep -q "warning: p0f file $T/empty.fp has no \[tcp:request\] signature" "$T/fp.err"

# streaming: the records come before the replay line and the report
"$HS" replay tests/data/demo.pcap > "$T/demo.txt"
check_quiet "text: records first, then the replay line" \
	bash -c "head -1 '$T/demo.txt' | grep -q '^indicators and decisions' &&
		grep -n '^replay ' '$T/demo.txt' | grep -qv '^1:'"

# progress: on a terminal (script gives one), not on a pipe
python3 tools/gen-scenario.py "$T/big.pcap" --span 120 > /dev/null 2>&1
script -qec "$HS replay $T/big.pcap --no-flows --no-sources > /dev/null" /dev/null > "$T/tty.out" 2>&1
check_quiet "progress on a terminal" grep -qa "replay $T/big.pcap: [0-9]* packets ([0-9]*%)" "$T/tty.out"
check_quiet "... erased at the end" bash -c "tail -c 8 '$T/tty.out' | grep -qa \$'\\r\\033\\[K'"
"$HS" replay "$T/big.pcap" --no-flows --no-sources > /dev/null 2> "$T/pipe.err"
check_quiet "no progress on a pipe" bash -c "! grep -qa packets '$T/pipe.err'"

summary
