#!/usr/bin/env bash
# Runs every test suite and prints one summary line: "N passed, N failed".
# Suites: userspace unit tests (cmocka, ASan/UBSan), datapath tests through
# BPF_PROG_TEST_RUN (cmocka), peer checks against FoxIO JA4 reference
# output, tshark JA3 and p0f on the shared captures and the demo capture,
# the CLI error paths, the documents generated from the threshold list,
# make install with the systemd unit's verify and security score, the
# correlator on a generated scenario and on a small held-out one
# (detection figures), short
# libFuzzer runs of every parser of packet or file bytes, the alert rules
# (promtool), the live netns test, real relays behind a delayed link, the
# fault and upgrade test, a real Prometheus scraping a live instance, the
# status page in headless Chromium, three instances sharing clusters and
# decisions through Redis (fleet), and a real CrowdSec LAPI taking
# hydrascope's decisions and feeding its bouncer mode. A missing
# prerequisite is a failure.
set -u
cd "$(dirname "$0")/.."
SHARED_TESTDATA=${SHARED_TESTDATA:-../shared/testdata}
total_pass=0
total_fail=0
mkdir -p build/test-logs

# cmocka: "[  PASSED  ] N test(s)." and "[  FAILED  ] N test(s), listed below:"
run_cmocka() {
	local name=$1 bin=$2 log=build/test-logs/${1////-}.log p f
	echo "== $name"
	"$bin" > "$log" 2>&1
	local rc=$?
	p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -1)
	f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -1)
	p=${p:-0}
	f=${f:-0}
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1 # crashed or failed to start
	fi
	grep -E '^\[  (ERROR|FAILED)|^\[   LINE|ERROR: |runtime error' "$log" | head -20
	echo "   $p passed, $f failed"
	total_pass=$((total_pass + p))
	total_fail=$((total_fail + f))
}

# scripts ending with "N passed, N failed"
run_script() {
	local name=$1 log=build/test-logs/$1.log p f line
	shift
	echo "== $name"
	"$@" > "$log" 2>&1
	local rc=$?
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -1)
	p=$(echo "$line" | sed -n 's/^\([0-9]*\) passed.*/\1/p')
	f=$(echo "$line" | sed -n 's/.* \([0-9]*\) failed.*/\1/p')
	p=${p:-0}
	f=${f:-0}
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
		tail -5 "$log"
	fi
	grep '^FAIL' "$log" | head -20
	echo "   $p passed, $f failed"
	total_pass=$((total_pass + p))
	total_fail=$((total_fail + f))
}

if [ "$(id -u)" -ne 0 ]; then
	echo "tests need root (BPF, network namespaces)"
	echo "0 passed, 1 failed"
	exit 1
fi
mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf

# one cmocka binary per tests/unit/test_*.c and tests/bpf/test_*.c
for src in tests/unit/test_*.c tests/bpf/test_*.c; do
	bin=build/${src%.c}
	name=${src#tests/}
	run_cmocka "${name%.c}" "$bin"
done

caps=(tests/data/demo.pcap)
if [ -d "$SHARED_TESTDATA/ja4" ] && [ -d "$SHARED_TESTDATA/clients" ]; then
	caps+=("$SHARED_TESTDATA"/ja4/*.pcap "$SHARED_TESTDATA"/ja4/*.pcapng "$SHARED_TESTDATA"/clients/*.pcap)
else
	echo "FAIL peer checks: $SHARED_TESTDATA (JA4 reference captures) not found"
	total_fail=$((total_fail + 1))
fi
run_script peer python3 tests/peer/peer_check.py "${caps[@]}"
run_script cli timeout -k 15 60 tests/cli/cli_test.sh
run_script replay-messages timeout -k 15 120 tests/cli/replay_test.sh
run_script replay-threads timeout -k 15 300 tests/cli/replay_threads_test.sh
run_script thresholds timeout -k 15 60 tests/docs/thresholds_test.sh
run_script cleanup timeout -k 15 60 tests/lib/cleanup_test.sh
run_script install timeout -k 15 300 tests/install/install_test.sh
run_script scenario timeout -k 15 300 python3 tests/scenario/scenario_test.py
run_script detect timeout -k 15 120 python3 tests/scenario/detect_test.py
run_script hostile timeout -k 15 120 python3 tests/scenario/hostile_test.py
run_script hostile-memory timeout -k 15 300 python3 tests/scenario/hostile_memory_test.py
run_script spoof timeout -k 15 120 python3 tests/scenario/spoof_test.py
run_script adversarial timeout -k 15 120 python3 tests/scenario/adversarial_test.py
run_script schema timeout -k 15 300 python3 tests/scenario/schema_test.py
run_script sanitized timeout -k 15 300 tests/scenario/sanitized_replay.sh

# libFuzzer targets, FUZZ_SECONDS each from the seed corpus: one test each,
# failed on any crash, leak or sanitizer report.
echo "== fuzz"
for f in tests/fuzz/fuzz_*.c; do
	t=${f#tests/fuzz/fuzz_}
	t=${t%.c}
	if make -s fuzz FUZZ_TARGETS=$t FUZZ_SECONDS="${FUZZ_SECONDS:-10}" \
		> "build/test-logs/fuzz-$t.log" 2>&1; then
		total_pass=$((total_pass + 1))
	else
		total_fail=$((total_fail + 1))
		echo "FAIL fuzz target $t:"
		tail -15 "build/test-logs/fuzz-$t.log"
	fi
done
echo "== alert rules"
if (cd deploy/prometheus && promtool check rules hydrascope.rules.yml &&
	promtool test rules hydrascope.rules.test.yml &&
	promtool check rules hydrascope-fleet.rules.yml &&
	promtool test rules hydrascope-fleet.rules.test.yml &&
	promtool check config fleet-federation.yml) > build/test-logs/rules.log 2>&1; then
	total_pass=$((total_pass + 1))
else
	total_fail=$((total_fail + 1))
	echo "FAIL promtool test rules:"
	tail -20 build/test-logs/rules.log
fi
run_script live timeout -k 15 180 tests/live/live_test.sh
run_script relay timeout -k 15 240 tests/live/relay_test.sh
run_script evasive timeout -k 15 120 tests/live/evasive_test.sh
run_script fault timeout -k 15 240 tests/live/fault_test.sh
run_script prometheus timeout -k 15 180 tests/live/prometheus_test.sh
run_script hardening timeout -k 15 180 tests/live/hardening_test.sh
run_script metrics_slowloris timeout -k 15 180 tests/live/metrics_slowloris_test.sh
run_script status_page timeout -k 15 90 tests/live/status_page_test.sh
run_script fleet timeout -k 15 150 tests/live/fleet_test.sh
run_script crowdsec timeout -k 15 120 tests/live/crowdsec_test.sh

echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
