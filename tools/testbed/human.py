#!/usr/bin/env python3
"""Run a real client the way a person does (stdlib only).

  human.py --seconds N --seed S --think MIN MAX --log FILE -- CMD ARGS...

Runs CMD again and again with human think times between runs (log-uniform
between MIN and MAX seconds, so that short and long pauses both occur),
each run bounded by --timeout, until N seconds have passed. Logs one JSON
line per run (wall time, exit status) so that the scorer can count benign
requests that were cut. A fixed --period instead gives a health checker.
"""
import argparse
import json
import math
import random
import subprocess
import sys
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, required=True)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--think", type=float, nargs=2, default=[2.0, 20.0])
    ap.add_argument("--period", type=float, default=0.0)
    ap.add_argument("--timeout", type=float, default=10.0)
    ap.add_argument("--addr", required=True, help="source address, for the log")
    ap.add_argument("--log", required=True)
    ap.add_argument("--once", action="store_true",
                    help="run CMD once now (the baseline before hydrascope attaches)")
    ap.add_argument("cmd", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    cmd = a.cmd[1:] if a.cmd and a.cmd[0] == "--" else a.cmd
    rng = random.Random(a.seed)
    end = time.time() + a.seconds
    if a.once:
        end = time.time() + 1e-3
    else:  # people start at different moments
        time.sleep(min(rng.uniform(0, a.think[1] if not a.period else a.period), a.seconds / 4))
    with open(a.log, "a") as log:
        while time.time() < end:
            t0 = time.time()
            try:
                rc = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL, timeout=a.timeout).returncode
            except subprocess.TimeoutExpired:
                rc = -1
            log.write(json.dumps({"t": t0, "exit": a.addr, "cmd": cmd[0], "rc": rc,
                                  "ms": round((time.time() - t0) * 1000, 1)}) + "\n")
            log.flush()
            if a.period:
                pause = a.period - (time.time() - t0)
            else:
                lo, hi = a.think
                pause = math.exp(rng.uniform(math.log(lo), math.log(hi)))
            if pause > 0:
                time.sleep(min(pause, max(0.0, end - time.time())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
