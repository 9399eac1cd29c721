#!/usr/bin/env bash
# The daemon's own attack surface, live (issue 10, row 10):
#  - a stale pid file (kill -9, then pid reuse) names an unrelated `sleep`:
#    `hydrascope detach` and `run --takeover` leave it alive;
#  - symlinks planted at the status file, its old temporary name and the
#    --log path: nothing is written through them, the log is refused, the
#    status file is a regular file of mode 0640;
#  - after attach the instance (every thread, the metrics server's too)
#    keeps CAP_BPF, CAP_NET_ADMIN and CAP_PERFMON only, bounding set
#    included, with no_new_privs; it still scrapes, decides and stops
#    cleanly (detached, nothing pinned).
# Uses /run/hydrascope/hydrascope.pid and status.json: run it under
# the machine-wide live-test lock. Ends with "N passed, N failed".
set -u
cd "$(dirname "$0")/../.."
HS=${HYDRASCOPE:-$PWD/build/hydrascope}
. tools/testbed.sh
. tests/live/lib.sh

PIDFILE=/run/hydrascope/hydrascope.pid
STATUS=/run/hydrascope/status.json
R=$TB_DIR
# CAP_NET_ADMIN (12), CAP_PERFMON (38), CAP_BPF (39)
KEPT=000000c000001000
victim=

cleanup() {
	[ -n "$victim" ] && kill "$victim" 2>/dev/null
	rm -f "$PIDFILE" "$STATUS" "$STATUS.tmp"
	testbed_down
}

if [ -e "$PIDFILE" ] || [ -e "$STATUS" ]; then
	flunk "$PIDFILE or $STATUS exists: another instance runs (take the lock)"
	finish true
fi
testbed_start
clean_up_on_exit cleanup
mkdir -p /run/hydrascope

# ---- stale pid file pointing at an unrelated process
sleep 300 &
victim=$!
echo "$victim" > "$PIDFILE" # what a killed instance left, its pid reused
tb_srv "$HS" detach > "$R/detach.out" 2>&1
sleep 0.3
check "detach with a stale pid file leaves the unrelated process alive" kill -0 "$victim"
printf '%s 4242\n' "$victim" > "$PIDFILE"
tb_srv timeout 20 "$HS" run --iface "$TB_SIF" --takeover --duration 2 > "$R/take.out" 2> "$R/take.err"
rc=$?
sleep 0.3
check "run --takeover with a stale pid file leaves it alive" kill -0 "$victim"
check "... and runs (rc=$rc)" test "$rc" = 0
check "... and removes the pid file at its stop" test ! -e "$PIDFILE"
# held under lock by another process (flock(1)), still not the instance
printf '%s 4242\n' "$victim" > "$PIDFILE"
flock "$PIDFILE" sleep 2 &
holder=$!
sleep 0.3
tb_srv "$HS" detach > "$R/detach2.out" 2>&1
sleep 0.3
check "a locked pid file that names another process: not signalled" kill -0 "$victim"
wait "$holder" 2>/dev/null
rm -f "$PIDFILE"

# ---- planted symlinks
echo precious > "$R/target"
cp "$R/target" "$R/target-tmp"
cp "$R/target" "$R/target-log"
ln -s "$R/target" "$STATUS"
ln -s "$R/target-tmp" "$STATUS.tmp"
ln -s "$R/target-log" "$R/records.jsonl"
tb_srv timeout 20 "$HS" run --iface "$TB_SIF" --duration 2 --log "$R/records.jsonl" \
	> "$R/log.out" 2> "$R/log.err"
rc=$?
check "--log through a symlink is refused (rc=$rc)" test "$rc" = 2
check "... in one line naming --log" grep -q -- "--log" "$R/log.err"
rm -f "$R/records.jsonl"

# ---- one instance: capabilities, status file, metrics, clean stop
tb_srv timeout 30 "$HS" run --iface "$TB_SIF" --enforce --decide-interval 1 \
	--metrics 127.0.0.1:9481 --log "$R/records.jsonl" --duration 60 \
	> "$R/run.out" 2> "$R/run.err" &
runner=$!
pid=
for i in $(seq 100); do
	grep -q "metrics on" "$R/run.err" 2>/dev/null && break
	sleep 0.1
done
pid=$(awk '{print $1}' "$PIDFILE" 2>/dev/null)
tb_cli timeout 5 curl -sk -o /dev/null "https://$TB_SRV4:$TB_PORT/"
sleep 2.5 # a few rounds: the status file is rewritten each
status_of() { sed -n "s/^$1:[[:space:]]*//p" "/proc/$pid/status" 2>/dev/null; }
if [ -n "$pid" ] && [ -d "/proc/$pid" ]; then
	check "CapEff is CAP_BPF, CAP_NET_ADMIN, CAP_PERFMON ($(status_of CapEff))" \
		test "$(status_of CapEff)" = "$KEPT"
	check "CapPrm the same ($(status_of CapPrm))" test "$(status_of CapPrm)" = "$KEPT"
	check "the bounding set the same ($(status_of CapBnd))" test "$(status_of CapBnd)" = "$KEPT"
	check "no inheritable or ambient capabilities" \
		test "$(status_of CapInh)$(status_of CapAmb)" = 00000000000000000000000000000000
	check "no_new_privs" test "$(status_of NoNewPrivs)" = 1
	threads=0
	bad=0
	for t in /proc/"$pid"/task/*; do
		threads=$((threads + 1))
		grep -q "^CapEff:[[:space:]]*$KEPT" "$t/status" || bad=$((bad + 1))
	done
	check "every thread too ($threads threads, $bad with more)" test "$threads" -ge 2 -a "$bad" = 0
	check "the pid file names it with its start time" \
		test "$(awk '{print $2}' "$PIDFILE")" = "$(awk '{print $22}' "/proc/$pid/stat" | tail -1)"
else
	flunk "the instance did not start: $(tail -3 "$R/run.err")"
fi
check "metrics still served after the drop" \
	bash -c "ip netns exec $TB_SRV curl -s --max-time 3 http://127.0.0.1:9481/metrics | grep -q '^hydrascope_up 1'"
check "the status file is a regular file" test -f "$STATUS" -a ! -L "$STATUS"
check "... of mode 0640" test "$(stat -c %a "$STATUS" 2>/dev/null)" = 640
check "the new log is created 0640" test "$(stat -c %a "$R/records.jsonl" 2>/dev/null)" = 640
check "nothing written through the planted symlinks" \
	bash -c "test \"\$(cat '$R/target' '$R/target-tmp' '$R/target-log')\" = \"\$(printf 'precious\nprecious\nprecious')\""
[ -n "$pid" ] && kill -INT "$pid"
wait "$runner"
rc=$?
check "the instance stops cleanly with its reduced set (rc=$rc)" test "$rc" = 0
check "... detached" bash -c "! ip -n $TB_SRV -d link show $TB_SIF | grep -q 'prog/xdp'"
check "... its pid file and status file gone" test ! -e "$PIDFILE" -a ! -e "$STATUS"
rm -f "$STATUS.tmp"
if [ "$fail" -ne 0 ]; then
	tail -3 "$R"/*.err 2>/dev/null
fi
finish cleanup
