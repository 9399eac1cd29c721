#!/usr/bin/env python3
"""Replay-driven indicator tests on generated, labelled captures
(tools/gen-scenario.py): which indicators fire on which sources, and which
do not. Benign look-alikes (browsers sharing the farm's client stack, a
corporate NAT, a health checker more regular than any farm, a VPN user)
must not be clustered or flagged as relayed. Also checks that a config
file changes thresholds and that a bad one stops with one line.
Ends with "N passed, N failed"."""
import json
import os
import subprocess
import sys
import tempfile

HS = os.environ.get("HYDRASCOPE", "build/hydrascope")
passed = failed = 0


def check(ok, what):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print("FAIL " + what)


def replay(cap, *extra, kind="indicator"):
    p = subprocess.run([HS, "replay", cap, "--format", "json", "--no-flows", *extra],
                       capture_output=True, text=True, timeout=120)
    check(p.returncode == 0, "replay exit %d: %s" % (p.returncode, p.stderr.strip()))
    return [o for o in map(json.loads, p.stdout.splitlines()) if o.get("type") == kind]


def by_kind(inds, kind):
    out = set()
    for i in inds:
        if i["kind"] == kind:
            out.update(i["sources"])
    return out


def main():
    d = tempfile.mkdtemp(prefix="hs-scenario-")
    cap = os.path.join(d, "scenario.pcap")
    subprocess.run([sys.executable, "tools/gen-scenario.py", cap, "--seed", "11"], check=True)
    labels = json.load(open(cap + ".labels.json"))["sources"]
    pop = lambda name: {a for a, l in labels.items() if l == name}
    farm, others = pop("farm"), {a for a, l in labels.items() if l != "farm"}

    inds = replay(cap)
    relay = by_kind(inds, "relay_rtt_gap")
    robotic = by_kind(inds, "robotic_cadence")
    clusters = [i for i in inds if i["kind"] == "farm_cluster"]

    check(len(relay & farm) >= 0.9 * len(farm),
          "relay_rtt_gap on %d of %d farm exit nodes" % (len(relay & farm), len(farm)))
    check(not (relay & others), "relay_rtt_gap on non-farm sources: %s" % sorted(relay & others))
    check(len(clusters) == 1, "expected one farm_cluster, got %d" % len(clusters))
    if clusters:
        members = set(clusters[0]["sources"])
        check(len(members & farm) >= 0.9 * len(farm),
              "farm_cluster holds %d of %d farm sources" % (len(members & farm), len(farm)))
        check(not (members & others), "benign sources in the farm cluster: %s" % sorted(members & others))
        check(clusters[0]["evidence"]["prefixes"] >= 20, "cluster spans few prefixes")
        check(0 < clusters[0]["score"] <= 1, "cluster score out of range")
    check(pop("health") <= robotic, "the health checker is robotic (and says so)")
    check(not (robotic & (pop("browser") | pop("nat") | pop("vpn"))),
          "robotic_cadence on human sources: %s" % sorted(robotic & (pop("browser") | pop("nat") | pop("vpn"))))
    hop = by_kind(inds, "hop_anomaly")
    check(pop("vpn") <= hop, "hop_anomaly misses the VPN user (MSS 1360)")
    check(not (hop & (farm | pop("browser") | pop("nat") | pop("health"))),
          "hop_anomaly on Ethernet-MSS sources: %s" % sorted(hop - pop("vpn")))
    flagged_strong = set().union(*[set(i["sources"]) for i in inds if i["kind"] != "hop_anomaly"]) if inds else set()
    check(not (flagged_strong & pop("vpn")), "the VPN user got more than hop_anomaly")
    flagged = set().union(*[set(i["sources"]) for i in inds]) if inds else set()
    check(not (flagged & (pop("browser") | pop("nat"))),
          "benign sources flagged: %s" % sorted(flagged & (pop("browser") | pop("nat"))))

    # decisions: prefix blocks for relayed exit nodes, one relay-conditional
    # tuple rule for the farm; nothing for anyone else
    decs = replay(cap, kind="decision")
    blocked = {d["prefix"].split("/")[0] for d in decs if d["action"] == "block_prefix"}
    rules = [d for d in decs if d["action"] == "tuple_rule"]
    check(len(blocked & farm) >= 0.9 * len(farm), "prefix blocks on %d of %d farm sources" % (len(blocked & farm), len(farm)))
    check(not (blocked & others), "prefix blocks on benign sources: %s" % sorted(blocked & others))
    check(len(rules) == 1 and clusters and rules[0]["tuple_id"] == clusters[0]["tuple_id"],
          "expected one tuple rule for the farm's tuple")
    check(all(r["min_gap_us"] == 10000 for r in rules), "tuple rule not conditional on the relay gap")
    check(all(d["ttl_s"] > 0 and d["reason"] and d["indicators"] and "evidence" in d and d["time_ns"] > 0
              and d["applied"] is False for d in decs), "decision records incomplete")

    # thresholds come from a config file
    cfg = os.path.join(d, "strict.conf")
    with open(cfg, "w") as f:
        f.write("# demand a 500 ms detour\nrelay_min_gap_us = 500000\ncluster_min_sources = 1000\n")
    inds2 = replay(cap, "--config", cfg)
    check(not by_kind(inds2, "relay_rtt_gap"), "config: relay threshold ignored")
    check(not [i for i in inds2 if i["kind"] == "farm_cluster"], "config: cluster threshold ignored")
    for bad, why in (("bogus_key = 1\n", "unknown key"), ("robotic_max_cv = -1\n", "from 0"),
                     ("relay_min_flows = 2.5\n", "an integer"), ("relay_min_flows\n", "key = value")):
        with open(cfg, "w") as f:
            f.write(bad)
        p = subprocess.run([HS, "replay", cap, "--config", cfg], capture_output=True, text=True)
        check(p.returncode == 2 and why in p.stderr and p.stderr.count("\n") == 1 and not p.stdout,
              "bad config %r: rc=%d err=%r" % (bad, p.returncode, p.stderr))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
