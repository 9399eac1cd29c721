#!/usr/bin/env bash
# /metrics against slow clients (issue 10, row 9), live: from 8 addresses,
# 8 connections each send a request header one byte every 2 s (under the
# idle timeout) and reconnect whenever they are closed, for 20 s, while a
# scraper asks for /metrics every second from another address. Every
# scrape must succeed; no slow connection may live past the request
# deadline (5 s, plus slack); one address gets at most 4 connections; the
# cuts are counted in hydrascope_metrics_connections_cut_total. Also:
# --metrics unix:PATH serves on a socket of mode 0660.
# Uses the shared pin dir: run it under the machine-wide live-test lock.
# Ends with "N passed, N failed".
set -u
cd "$(dirname "$0")/../.."
HS=${HYDRASCOPE:-$PWD/build/hydrascope}
. tools/testbed.sh
. tests/live/lib.sh

testbed_start
R=$TB_DIR
PORT=9483

cat > "$R/slow.py" <<'PY'
import socket, sys, threading, time
port, secs = int(sys.argv[1]), float(sys.argv[2])
end = time.time() + secs
lives, refused, lock = [], [0], threading.Lock()
held = {}  # address -> connections open now, and the most at once

def worker(src):
    while time.time() < end:
        s = socket.socket()
        s.bind((src, 0))
        s.settimeout(3)
        t0, counted = time.time(), False
        try:
            s.connect(("127.0.0.1", port))
            s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
            while time.time() < end:
                s.settimeout(2)
                try:
                    if s.recv(1) == b"":
                        break  # closed by the server
                except socket.timeout:
                    pass
                if not counted:  # held (not turned away at once)
                    counted = True
                    with lock:
                        held.setdefault(src, [0, 0])
                        held[src][0] += 1
                        held[src][1] = max(held[src][1], held[src][0])
                s.sendall(b"X")
            with lock:
                if time.time() < end and counted:
                    lives.append(time.time() - t0)
                elif not counted:
                    refused[0] += 1
        except OSError:
            with lock:
                refused[0] += 1
        finally:
            if counted:
                with lock:
                    held[src][0] -= 1
            s.close()
        if not counted:
            time.sleep(0.2)

ts = [threading.Thread(target=worker, args=("127.0.0.%d" % (2 + i // 8),)) for i in range(64)]
for t in ts: t.start()
for t in ts: t.join()
print("cut %d longest %.1f refused %d most_per_addr %d" % (
    len(lives), max(lives or [0]), refused[0], max(v[1] for v in held.values()) if held else 0))
PY

cat > "$R/inner.sh" <<INNER
set -u
cd "$R"
$HS run --iface $TB_SIF --metrics 127.0.0.1:$PORT --duration 40 > run.out 2> run.err &
hs=\$!
for i in \$(seq 100); do grep -q "metrics on" run.err && break; sleep 0.1; done
python3 slow.py $PORT 20 > slow.txt 2>&1 &
slow=\$!
sleep 3
ok=0; n=0
for i in \$(seq 15); do
	n=\$((n + 1))
	curl -s --max-time 3 http://127.0.0.1:$PORT/metrics | grep -q '^hydrascope_up 1' && ok=\$((ok + 1))
	sleep 1
done
echo "\$ok \$n" > scrapes.txt
wait \$slow
curl -s --max-time 3 http://127.0.0.1:$PORT/metrics > metrics.txt
kill -INT \$hs; wait \$hs
# a UNIX socket instead of TCP
$HS run --iface $TB_SIF --metrics unix:$R/metrics.sock --duration 4 > unix.out 2> unix.err &
hs=\$!
for i in \$(seq 100); do grep -q "metrics on" unix.err && break; sleep 0.1; done
stat -c %a metrics.sock > sock-mode.txt 2>&1
curl -s --max-time 3 --unix-socket metrics.sock http://localhost/metrics > unix-metrics.txt
wait \$hs
test -e metrics.sock && echo left > sock-left.txt
$HS detach 2>/dev/null
INNER

ip netns exec "$TB_SRV" timeout 90 bash "$R/inner.sh"
read -r ok n < "$R/scrapes.txt" 2>/dev/null || { ok=0; n=0; }
echo "slow clients: $(cat "$R/slow.txt" 2>/dev/null); scrapes: $ok of $n"
check "every scrape succeeds while slow clients hold connections ($ok of $n)" \
	test "$n" -gt 0 -a "$ok" = "$n"
read -r _ cut _ longest _ refused _ most < "$R/slow.txt" 2>/dev/null
check "slow connections are cut (${cut:-0} cut)" test "${cut:-0}" -gt 0
check "... none lives past the deadline (longest ${longest:-?} s)" \
	python3 -c "import sys; sys.exit(not (0 < float('${longest:-99}') <= 7.5))"
check "... one address holds at most 4 (${most:-?})" test "${most:-99}" -le 4
check "the cuts are counted" grep -q '^hydrascope_metrics_connections_cut_total [1-9]' "$R/metrics.txt"
check "--metrics unix:PATH serves /metrics" grep -q '^hydrascope_up 1' "$R/unix-metrics.txt"
check "... on a socket of mode 0660" grep -qx 660 "$R/sock-mode.txt"
check "... removed at the stop" test ! -e "$R/sock-left.txt"
if [ "$fail" -ne 0 ]; then
	tail -3 "$R"/run.err "$R"/unix.err 2>/dev/null
fi
finish
