#!/usr/bin/env python3
"""Detection bench: generated, labelled scenarios (tools/gen-scenario.py)
replayed through the real BPF programs and the correlator, scored against
their labels. Per scenario it prints recall within 60 s of a source's first
connection, time to first flag, benign sources flagged by indicator kind and
population, benign blocked or cut, farm sources blocked or cut, the "later"
farm sources (first connection after a tuple rule on their TLS id existed)
cut on that first connection, and relay detection and later cuts per
emulated detour (5/10/20/50/100 ms); --json writes the same.

  tools/bench/bench_detect.py [--seeds 1,2,3] [--farm 500] [--mimic 300]
      [--benign 5000] [--span 900] [--classic] [--gen "GEN-SCENARIO OPTIONS"]
      [--json OUT] [--keep DIR]

"Flagged" (recall) means listed in a record that names the source a farm
member, relay or residential exit: farm_cluster, relay_rtt_gap,
residential_proxy, rotation, pivot. The goal's benign bound counts the same
records. Informational kinds (stack_mismatch, hop_anomaly, robotic_cadence,
uniform_requests) are reported per population but are not verdicts.
"""
import argparse
import collections
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HS = os.environ.get("HYDRASCOPE", "build/hydrascope")
FLAG_KINDS = ("farm_cluster", "relay_rtt_gap", "residential_proxy", "rotation", "pivot")
BENIGN = ("browser", "sdk", "api", "nat", "cgnat", "corp_proxy", "vpn", "health")
DETOUR_BINS = (5, 10, 20, 50, 100)
# farm populations behind relays (the others are the farms' direct members)
RELAYED_FARMS = ("farm_rot", "farm_mimic", "farm_res")


def generate(out, mix, seed, farm, mimic, benign, span, extra=()):
    cmd = [sys.executable, "tools/gen-scenario.py", out, "--seed", str(seed), "--mix", mix,
           "--span", str(span)]
    if mix == "variety":
        cmd += ["--farm", str(farm), "--mimic", str(mimic), "--benign", str(benign), *extra]
    subprocess.run(cmd, check=True)
    subprocess.run(["perl", "tools/gen-asn-db.pl", out + ".networks.json", out + ".mmdb"],
                   check=True)
    return json.load(open(out + ".labels.json"))


def replay(cap, workdir):
    conf = os.path.join(workdir, "bench.conf")
    with open(conf, "w") as f:
        f.write("# list every source of a record: the bench scores them all\n"
                "max_listed_sources = 100000\n")
    t = time.time()
    p = subprocess.run([HS, "replay", cap, "--asn-db", cap + ".mmdb", "--config", conf,
                        "--format", "json", "--no-sources"],
                       capture_output=True, text=True, timeout=1800)
    if p.returncode:
        raise SystemExit("replay failed (exit %d): %s" % (p.returncode, p.stderr.strip()[:500]))
    return [json.loads(l) for l in p.stdout.splitlines()], time.time() - t


def detour_bin(ms):
    return min(DETOUR_BINS, key=lambda b: abs(b - ms) / b)


def pct(n, d):
    return round(100.0 * n / d, 3) if d else None


def analyse(recs, labels):
    """Scores one replay against its labels (a dict, see gen-scenario.py)."""
    src_pop = labels["sources"]
    pops = collections.defaultdict(set)
    for a, p in src_pop.items():
        pops[p].add(a)
    farm_pops = sorted(p for p in pops if p.startswith("farm_"))
    benign = set().union(*(pops[p] for p in BENIGN if p in pops))
    # a source's first connection: from the labels (the flow records at the
    # end of a replay are what the LRU flow map still held)
    first = dict(labels.get("first", {}))
    for r in recs:
        if r.get("type") == "flow" and r["client"] not in labels.get("first", {}):
            first[r["client"]] = min(first.get(r["client"], 1 << 62), r["first_ns"] / 1e9)

    flag_t = {}                                   # source -> first flag time
    kinds = collections.defaultdict(set)          # kind -> sources
    relay_t = {}                                  # source -> first relay verdict
    for r in recs:
        if r.get("type") != "indicator":
            continue
        t = r["time_ns"] / 1e9
        relayish = r["kind"] in ("relay_rtt_gap", "residential_proxy") or (
            r["kind"] == "farm_cluster" and "relay" in r["evidence"].get("machine_evidence", []))
        for a in r["sources"]:
            kinds[r["kind"]].add(a)
            if r["kind"] in FLAG_KINDS and a not in flag_t:
                flag_t[a] = t
            if relayish and a not in relay_t:
                relay_t[a] = t
    blocked = set()
    for r in recs:
        if r.get("type") == "decision" and r.get("action") == "block_prefix":
            blocked.add(r["prefix"].split("/")[0])
    cut = {r["client"] for r in recs if r.get("type") == "flow" and "cut" in r["flags"].split(",")}
    # "later" sources: first connection after a tuple rule on its TLS id
    # (or tuple id) existed for a second; cut on it or not (the datapath
    # decides at the client's second flight, before its first request)
    rule_t = {}
    for r in recs:
        if r.get("type") == "decision" and r.get("action") == "tuple_rule":
            rule_t.setdefault(r["rule_id"], r["time_ns"] / 1e9)
    first_flow = {}
    for r in recs:
        if r.get("type") == "flow" and (r["client"] not in first_flow or
                                        r["first_ns"] < first_flow[r["client"]]["first_ns"]):
            first_flow[r["client"]] = r
    later, later_cut = set(), set()
    for a, fl in first_flow.items():
        t = rule_t.get(fl.get("tls_id"), rule_t.get(fl.get("tuple_id")))
        if t is not None and fl["first_ns"] / 1e9 > t + 1:
            later.add(a)
            if "cut" in fl["flags"].split(","):
                later_cut.add(a)

    out = {"farm": {}, "benign": {}}
    all_farm = set().union(*(pops[p] for p in farm_pops)) if farm_pops else set()
    relayed_farm = set().union(*(pops[p] for p in RELAYED_FARMS if p in pops))
    for name, members in [(p, pops[p]) for p in farm_pops] + [("all_farm", all_farm)]:
        n = len(members)
        in60 = [a for a in members if a in flag_t and flag_t[a] - first.get(a, 0) <= 60]
        ttf = sorted(flag_t[a] - first.get(a, 0) for a in members if a in flag_t)
        out["farm"][name] = {
            "sources": n,
            "recall_60s_pct": pct(len(in60), n),
            "recall_any_time_pct": pct(sum(a in flag_t for a in members), n),
            "time_to_flag_median_s": round(statistics.median(ttf), 1) if ttf else None,
            "time_to_flag_p95_s": round(ttf[int(0.95 * (len(ttf) - 1))], 1) if ttf else None,
            "blocked_or_cut_pct": pct(sum(a in blocked or a in cut for a in members), n),
            "blocked_pct": pct(sum(a in blocked for a in members), n),
            "cut_pct": pct(sum(a in cut for a in members), n),
            # relayed farms only: a relay rule must spare direct members
            "later_sources": len(members & later & relayed_farm),
            "later_cut_first_connection_pct": pct(len(members & later_cut & relayed_farm),
                                                  len(members & later & relayed_farm)),
        }
    per_detour = {}
    det = labels.get("detour_ms", {})
    for b in DETOUR_BINS:
        for p in ("farm_rot", "farm_mimic", "farm_res"):
            m = [a for a, ms in det.items() if detour_bin(ms) == b and src_pop.get(a) == p]
            if m:
                lm = [a for a in m if a in later]
                per_detour["%s_%dms" % (p, b)] = {
                    "sources": len(m),
                    "relay_detected_pct": pct(sum(a in relay_t for a in m), len(m)),
                    "relay_detected_60s_pct": pct(sum(a in relay_t and relay_t[a] - first.get(a, 0) <= 60
                                                      for a in m), len(m)),
                    "later_sources": len(lm),
                    "later_cut_first_connection_pct": pct(sum(a in later_cut for a in lm), len(lm))}
    out["relay_per_detour"] = per_detour
    flagged_benign = {a for a in benign if a in flag_t}
    out["benign"] = {
        "sources": len(benign),
        "in_farm_relay_residential_records": len(flagged_benign),
        "in_farm_relay_residential_records_pct": pct(len(flagged_benign), len(benign)),
        "blocked": len(benign & blocked),
        "cut": len(benign & cut),
        "later_sources": len(benign & later),
        "by_kind": {k: len(v & benign) for k, v in sorted(kinds.items()) if v & benign},
        "by_population": {p: {k: len(v & pops[p]) for k, v in sorted(kinds.items()) if v & pops[p]}
                          for p in BENIGN if p in pops},
        "population_sizes": {p: len(pops[p]) for p in BENIGN if p in pops},
        "examples": sorted(flagged_benign)[:10],
    }
    return out


def show(name, res, secs):
    print("== %s (replay %.1f s)" % (name, secs))
    print("  %-12s %7s %10s %9s %8s %8s %14s %16s" % ("farm", "sources", "recall60s%", "recall%",
                                                      "ttf_med", "ttf_p95", "blocked|cut%",
                                                      "later: cut 1st%"))
    for p, v in res["farm"].items():
        print("  %-12s %7d %10s %9s %8s %8s %14s %16s" % (
            p, v["sources"], v["recall_60s_pct"], v["recall_any_time_pct"],
            v["time_to_flag_median_s"], v["time_to_flag_p95_s"], v["blocked_or_cut_pct"],
            "%s of %d" % (v["later_cut_first_connection_pct"], v["later_sources"])))
    b = res["benign"]
    print("  benign %d: in farm/relay/residential records %d (%s%%), blocked %d, cut %d" % (
        b["sources"], b["in_farm_relay_residential_records"],
        b["in_farm_relay_residential_records_pct"], b["blocked"], b["cut"]))
    print("  benign flagged by kind: %s" % json.dumps(b["by_kind"]))
    for p, v in b["by_population"].items():
        print("    %-10s (%d): %s" % (p, b["population_sizes"][p], json.dumps(v)))
    if res["relay_per_detour"]:
        print("  relay detected per detour (any time / within 60 s; later sources cut on their "
              "first connection):")
        for k, v in res["relay_per_detour"].items():
            print("    %-18s %4d sources  %6s%%  %6s%%   cut %6s%% of %d" % (
                k, v["sources"], v["relay_detected_pct"], v["relay_detected_60s_pct"],
                v["later_cut_first_connection_pct"], v["later_sources"]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", default="1,2,3")
    ap.add_argument("--farm", type=int, default=500)
    ap.add_argument("--mimic", type=int, default=300)
    ap.add_argument("--benign", type=int, default=5000)
    ap.add_argument("--span", type=float, default=900)
    ap.add_argument("--classic", action="store_true", help="also the classic scenario (seed 11)")
    ap.add_argument("--gen", default="", help="more tools/gen-scenario.py options for the variety "
                    "mix, e.g. \"--farm-period 6.5 --exit-jitter 0.006\"")
    ap.add_argument("--json")
    ap.add_argument("--keep", help="keep the captures in this directory")
    a = ap.parse_args()
    work = a.keep or tempfile.mkdtemp(prefix="hs-bench-detect-")
    os.makedirs(work, exist_ok=True)
    try:
        run_all(a, work)
    finally:
        if not a.keep:
            shutil.rmtree(work, ignore_errors=True)


def run_all(a, work):
    runs = [("variety", int(s)) for s in a.seeds.split(",") if s]
    if a.classic:
        runs.append(("classic", 11))
    report = {}
    for mix, seed in runs:
        cap = os.path.join(work, "%s-%d.pcap" % (mix, seed))
        labels = generate(cap, mix, seed, a.farm, a.mimic, a.benign, a.span, a.gen.split())
        recs, secs = replay(cap, work)
        res = analyse(recs, labels)
        res["replay_s"] = round(secs, 1)
        name = "%s seed %d" % (mix, seed)
        report[name] = res
        show(name, res, secs)
        if not a.keep:
            for ext in ("", ".labels.json", ".networks.json", ".mmdb"):
                try:
                    os.remove(cap + ext)
                except OSError:
                    pass
    if a.json:
        with open(a.json, "w") as f:
            json.dump(report, f, indent=1)


if __name__ == "__main__":
    main()
