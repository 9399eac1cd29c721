#!/usr/bin/env python3
"""Replay throughput: packets/s of `hydrascope replay` on a large generated
capture (tools/gen-scenario.py, >= 1M packets, many TLS flows), side by
side with `tshark -T fields -e tls.handshake.ja3` and `p0f -r` on the same
file; and per-core scaling: `replay --threads` 1, 2 and one per CPU on that
capture and on a held-out scenario capture (--mix variety). Prints one JSON
object: packets, per tool seconds, packets/s and peak RSS, and per capture
and thread count the best of RUNS runs."""
import json
import os
import struct
import subprocess
import sys
import tempfile
import time

HS = os.environ.get("HYDRASCOPE", "build/hydrascope")
RUNS = int(os.environ.get("BENCH_REPLAY_RUNS", "2"))


def count_packets(path):
    n = 0
    with open(path, "rb") as f:
        f.read(24)
        while True:
            h = f.read(16)
            if len(h) < 16:
                return n
            f.seek(struct.unpack("<IIII", h)[2], 1)
            n += 1


def timed(argv):
    """seconds and peak RSS (MB) of one child run to completion"""
    t = time.monotonic()
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, ru = os.wait4(p.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit("bench_replay: %s failed" % " ".join(argv))
    return time.monotonic() - t, ru.ru_maxrss / 1024


def generate(cap, args):
    if not os.path.exists(cap):
        subprocess.run([sys.executable, "tools/gen-scenario.py", cap, *args], check=True,
                       stdout=subprocess.DEVNULL)


def replay_argv(cap, threads=None):
    argv = [HS, "replay", cap, "--format", "json", "--no-flows", "--no-sources"]
    return argv + ["--threads", str(threads)] if threads else argv


def scaling(cap, n):
    """packets/s per thread count: 1, 2 and one per online CPU"""
    out = {}
    for t in sorted({1, 2, os.cpu_count() or 1}):
        secs, rss = min(timed(replay_argv(cap, t)) for _ in range(RUNS))
        out[str(t)] = {"seconds": round(secs, 2), "packets_per_s": round(n / secs),
                       "max_rss_mb": round(rss, 1)}
    return out


def main():
    cap = sys.argv[1] if len(sys.argv) > 1 else "build/bench-replay.pcap"
    scen = sys.argv[2] if len(sys.argv) > 2 else "build/bench-replay-scenario.pcap"
    generate(cap, ["--scale", "40", "--seed", "3"])
    generate(scen, ["--mix", "variety", "--seed", "1"])
    n = count_packets(cap)
    out = {"capture": cap, "packets": n, "cpus": os.cpu_count(), "tools": {}, "scaling": {}}
    with tempfile.TemporaryDirectory() as d:
        runs = {
            "hydrascope": replay_argv(cap),
            "tshark": ["tshark", "-n", "-r", cap, "-T", "fields", "-e", "tls.handshake.ja3"],
            "p0f": ["p0f", "-r", cap, "-o", os.path.join(d, "p0f.log")],
        }
        for name, argv in runs.items():
            secs, rss = timed(argv)
            out["tools"][name] = {"seconds": round(secs, 2), "packets_per_s": round(n / secs),
                                  "max_rss_mb": round(rss, 1)}
    t = out["tools"]
    out["hydrascope_vs_tshark"] = round(t["hydrascope"]["packets_per_s"] / t["tshark"]["packets_per_s"], 2)
    for name, path in (("bench", cap), ("scenario", scen)):
        np = n if path == cap else count_packets(path)
        out["scaling"][name] = {"capture": path, "packets": np, "threads": scaling(path, np)}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
