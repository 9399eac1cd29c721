#!/usr/bin/env python3
"""Replay throughput: packets/s of `hydrascope replay` on a large generated
capture (tools/gen-scenario.py, >= 1M packets, many TLS flows), side by
side with `tshark -T fields -e tls.handshake.ja3` and `p0f -r` on the same
file. Prints one JSON object: packets, and per tool seconds, packets/s and
peak RSS."""
import json
import os
import resource
import struct
import subprocess
import sys
import tempfile
import time

HS = os.environ.get("HYDRASCOPE", "build/hydrascope")


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
        sys.exit("bench_replay: %s failed" % argv[0])
    return time.monotonic() - t, ru.ru_maxrss / 1024


def main():
    cap = sys.argv[1] if len(sys.argv) > 1 else "build/bench-replay.pcap"
    if not os.path.exists(cap):
        subprocess.run([sys.executable, "tools/gen-scenario.py", cap, "--scale", "40",
                        "--seed", "3"], check=True)
    n = count_packets(cap)
    out = {"capture": cap, "packets": n, "tools": {}}
    with tempfile.TemporaryDirectory() as d:
        runs = {
            "hydrascope": [HS, "replay", cap, "--format", "json", "--no-flows", "--no-sources"],
            "tshark": ["tshark", "-n", "-r", cap, "-T", "fields", "-e", "tls.handshake.ja3"],
            "p0f": ["p0f", "-r", cap, "-o", os.path.join(d, "p0f.log")],
        }
        for name, argv in runs.items():
            secs, rss = timed(argv)
            out["tools"][name] = {"seconds": round(secs, 2), "packets_per_s": round(n / secs),
                                  "max_rss_mb": round(rss, 1)}
    t = out["tools"]
    out["hydrascope_vs_tshark"] = round(t["hydrascope"]["packets_per_s"] / t["tshark"]["packets_per_s"], 2)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
