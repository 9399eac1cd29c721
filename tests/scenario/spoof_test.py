#!/usr/bin/env python3
"""Spoofed sources against the blocking layer (issue 10, row 3), replayed
in enforce mode with a network database (residential_proxy decides) and a
block cap below the number of forged sources (tools/gen-spoof.py).

Forged SYNs and hellos, with no completed handshake, must not make an
indicator, a cluster member or a block; the real farm, which arrives while
the flood is on, must get every one of its blocks; the flows left out are
counted. The kernel's per-source counters the correlator reads (flows,
request cadence) count only connections whose handshake completed: a
farm that forges SYNs from its own exits cannot pass them off as busy
NATs, and a robotic train forged from an innocent address gives it no
rhythm (no indicator names it; its source record counts its one real
connection). A second replay with tight budgets checks that the strongest
decisions are kept at every budget and that refusals and evictions are
counted. Ends with "N passed, N failed"."""
import collections
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from checks import check, summary, workdir  # noqa: E402

HS = os.environ.get("HYDRASCOPE", "build/hydrascope")
SPOOFED = 3000


def replay(cap, mmdb, conf, *extra):
    p = subprocess.run([HS, "replay", cap, "--enforce", "--asn-db", mmdb, "--config", conf,
                        "--format", "json", "--no-flows"] + list(extra),
                       capture_output=True, text=True, timeout=300)
    check(p.returncode == 0, "replay exit %d: %s" % (p.returncode, p.stderr.strip()[:300]))
    return [json.loads(line) for line in p.stdout.splitlines()]


def by_pop(recs, labels, pick):
    out = collections.defaultdict(set)
    for r in recs:
        for a in pick(r):
            out[labels.get(a, "?")].add(a)
    return out


def blocked(recs, labels):
    return by_pop(recs, labels, lambda r: [r["prefix"].split("/")[0]]
                  if r.get("type") == "decision" and r["action"] == "block_prefix" else [])


def listed(recs, labels):
    return by_pop(recs, labels, lambda r: r["sources"] if r.get("type") == "indicator" else [])


def main():
    with workdir("spoof") as d:
        return run(d)


def run(d):
    cap = os.path.join(d, "spoof.pcap")
    subprocess.run([sys.executable, "tools/gen-spoof.py", cap, "--spoofed", str(SPOOFED)],
                   check=True)
    labels = json.load(open(cap + ".labels.json"))["sources"]
    farm = {a for a, p in labels.items() if p == "farm_res"}
    mmdb = os.path.join(d, "networks.mmdb")
    subprocess.run(["perl", "tools/gen-asn-db.pl", cap + ".networks.json", mmdb], check=True)
    conf = os.path.join(d, "cap.conf")
    with open(conf, "w") as f:
        f.write("max_blocks = 1000\n")  # a third of the forged sources

    recs = replay(cap, mmdb, conf)
    bl, ind = blocked(recs, labels), listed(recs, labels)
    summ = [r for r in recs if r.get("type") == "summary"]
    check(bool(summ), "a summary record")
    summ = summ[0] if summ else {}
    check(not bl["spoofed"], "%d forged addresses blocked, e.g. %s" %
          (len(bl["spoofed"]), sorted(bl["spoofed"])[:3]))
    check(not ind["spoofed"], "%d forged addresses in indicator records (a farm of them?)" %
          len(ind["spoofed"]))
    check(bl["farm_res"] == farm, "the real farm's blocks: %d of %d" % (len(bl["farm_res"]), len(farm)))
    check(summ.get("desired_blocks", 0) >= len(farm),
          "the farm's blocks all held at the end: %s" % summ.get("desired_blocks"))
    check(summ.get("flows_unverified", 0) >= 2 * SPOOFED,
          "flows without a handshake counted: %s" % summ.get("flows_unverified"))
    check(summ.get("refused_cap", 1) == 0 and summ.get("evicted_cap", 1) == 0,
          "nothing refused or evicted at the cap: %s" % {k: v for k, v in summ.items()
                                                         if k.startswith(("refused", "evicted"))})
    rep = [r for r in recs if r.get("type") == "replay"]
    check(rep and rep[0]["dropped"] > 0, "enforce mode: the farm's packets dropped")
    victims = {a for a, p in labels.items() if p == "victim"}
    check(not ind["victim"], "%d innocent addresses in indicator records after a forged "
          "robotic train" % len(ind["victim"]))
    srcs = {r["addr"]: r for r in recs if r.get("type") == "source"}
    vs = [srcs.get(a, {}) for a in sorted(victims)]
    check(vs and all(v.get("flows") == 1 for v in vs),
          "a victim's source counts its one real connection: %s" % [
              v.get("flows") for v in vs[:5]])
    check(all((v.get("bursts") or 0) <= 1 for v in vs),
          "forged requests make no bursts: %s" % [v.get("bursts") for v in vs[:5]])
    fs = [srcs.get(a, {}) for a in sorted(farm)]
    check(fs and all(1 <= (f.get("flows") or 0) <= 3 for f in fs),
          "a farm exit counts its connections (3, fewer once blocked), not its %d "
          "forged SYNs: %s" % (25, sorted(
              collections.Counter(f.get("flows") for f in fs).items())))

    # tight budgets: at most 20 blocks, 3 a round, 12 per /16 (the farm
    # sits in 100.64/16): the cap keeps the strongest, every budget counts
    with open(conf, "w") as f:
        f.write("max_blocks = 20\nmax_new_blocks_per_round = 3\nmax_blocks_per_prefix = 12\n")
    recs = replay(cap, mmdb, conf, "--no-sources")
    summ = next((r for r in recs if r.get("type") == "summary"), {})
    bl = blocked(recs, labels)
    check(not bl["spoofed"], "tight budgets: no forged address blocked")
    check(summ.get("desired_blocks", 99) <= 12,
          "at most 12 blocks in one /16: %s" % summ.get("desired_blocks"))
    moved = {k: v for k, v in summ.items() if k.startswith(("refused_", "evicted_"))}
    check(summ.get("refused_prefix", 0) + summ.get("evicted_prefix", 0) > 0 and
          summ.get("refused_round", 0) + summ.get("evicted_round", 0) > 0,
          "refusals and evictions counted by budget: %s" % moved)
    strong = [r for r in recs if r.get("type") == "decision" and r["action"] == "block_prefix"
              and not r["renewal"]]
    check(strong and max(x["indicators"][0]["score"] for x in strong) >= 0.95,
          "the strongest decisions (relay + stack mismatch, 0.95) are taken")
    return summary()


if __name__ == "__main__":
    sys.exit(main())
