#!/usr/bin/env python3
"""Merge the benchmark pieces into build/bench.json and print the memory,
replay and live tables (bench_datapath prints its own); with --replay
FILE, the replay tables of bench_replay.py's output only."""
import json
import sys


def load(path):
    with open(path) as f:
        return json.loads(f.read())


def print_replay(r):
    print("\nreplay of %s (%d packets)" % (r["capture"], r["packets"]))
    for name, t in r["tools"].items():
        print("  %-11s %8.2f s %10d packets/s  max RSS %7.1f MB" % (
            name, t["seconds"], t["packets_per_s"], t["max_rss_mb"]))
    print("  hydrascope / tshark: %.2fx (target: >= 5x)" % r["hydrascope_vs_tshark"])
    print("\nreplay --threads (%d CPUs)  packets   threads  seconds   packets/s  vs 1 thread" %
          r["cpus"])
    goals = {"bench": 500000, "scenario": 600000}
    for name, c in r["scaling"].items():
        one = c["threads"]["1"]["packets_per_s"]
        for t, v in c["threads"].items():
            print("  %-24s %9d %9s %8.2f %11d %10.2fx" % (
                name, c["packets"], t, v["seconds"], v["packets_per_s"], v["packets_per_s"] / one))
        print("  (target on %s: >= %d packets/s)" % (name, goals.get(name, 0)))


def main():
    if sys.argv[1:2] == ["--replay"]:
        print_replay(load(sys.argv[2]))
        return
    out, datapath, mem100k, mem1m, replay, live = sys.argv[1:7]
    res = {"datapath": load(datapath), "memory": [load(mem100k), load(mem1m)],
           "replay": load(replay), "live": load(live)}
    with open(out, "w") as f:
        json.dump(res, f, indent=1)
    print("\nmemory                      kernel B/flow  kernel B/source  collector B/flow  "
          "correlator B/flow  RSS MB")
    for m in res["memory"]:
        print("  %-8d flows              %6.0f %16.0f %17.0f %18.0f %7.1f" % (
            m["flows"], m["kernel_bytes_per_flow"], m["kernel_bytes_per_source"],
            m["collector_bytes_per_flow"], m["correlator_bytes_per_flow"], m["rss_mb"]))
    print("\ncorrelator rounds, ms (reads of the maps + evaluation)")
    for m in res["memory"]:
        print("  %-8d flows  first (all new) %7.1f + %6.1f   idle %6.1f + %6.1f   "
              "1 %% new %6.1f + %6.1f   flows reconciled %d" % (
                  m["flows"], m["first_read_ms"], m["first_eval_ms"], m["idle_read_ms"],
                  m["idle_eval_ms"], m["steady_read_ms"],
                  m["steady_round_ms"] - m["steady_read_ms"], m["flows_reconciled"]))
    print("  (targets: <= 128 B/flow in the kernel, RSS <= 400 MB at 1M flows, "
          "a round <= 300 ms at 1M flows)")
    print_replay(res["replay"])
    print("\nlive, veth between namespaces  UDP 64 B pkt/s   TCP upload MB/s  segments/s")
    for name, v in res["live"].items():
        if v is None:
            print("  %-28s (could not attach)" % name)
            continue
        print("  %-28s %14d %17.1f %11d" % (name, v["udp_pps"], v["tcp_mbytes_per_s"],
                                            v["tcp_segments_per_s"]))
    print("\nwritten: %s" % out)


if __name__ == "__main__":
    main()
