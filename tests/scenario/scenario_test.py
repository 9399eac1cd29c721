#!/usr/bin/env python3
"""Replay-driven correlator tests on a generated, labelled capture
(tools/gen-scenario.py): which indicators fire on which populations, which
do not, what the policy decides, and what the replay datapath then cuts.

Benign look-alikes must not be clustered, relay-flagged or blocked: real
browsers sharing a popular hello, a corporate NAT, a mobile CGNAT with
jittery RTT, API customers whose SDK has the farm's exact stack, an
explicit corporate proxy (a real but small relay detour), a VPN user and a
health checker. Also: a network database (residential_proxy), repeat
offenders, thresholds from a config file, bad config files.
Ends with "N passed, N failed"."""
import collections
import datetime
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from checks import check, summary, workdir  # noqa: E402
import records_schema  # noqa: E402

HS = os.environ.get("HYDRASCOPE", "build/hydrascope")
BENIGN = ("browser", "nat", "cgnat", "sdk", "corp_proxy", "vpn", "health")


def replay(cap, *extra):
    p = subprocess.run([HS, "replay", cap, "--format", "json", "--no-sources", *extra],
                       capture_output=True, text=True, timeout=300)
    check(p.returncode == 0, "replay exit %d: %s" % (p.returncode, p.stderr.strip()[:300]))
    recs = [json.loads(l) for l in p.stdout.splitlines()]
    # every record the scenario produces matches deploy/schema/
    records_schema.check_all(recs, "replay %s" % " ".join(extra), check)
    return recs


class Result:
    def __init__(self, recs, labels):
        self.recs, self.labels = recs, labels
        self.ind = [r for r in recs if r.get("type") == "indicator"]
        self.dec = [r for r in recs if r.get("type") == "decision"]
        self.flows = [r for r in recs if r.get("type") == "flow"]

    def covered(self, kind):
        """population -> sources any record of this kind listed"""
        out = collections.defaultdict(set)
        for r in self.ind:
            if r["kind"] == kind:
                for s in r["sources"][:r["new_sources"]] if kind == "farm_cluster" else r["sources"]:
                    out[self.labels.get(s, "?")].add(s)
        return out

    def blocked(self):
        out = collections.defaultdict(set)
        for d in self.dec:
            if d["action"] == "block_prefix":
                a = d["prefix"].split("/")[0]
                out[self.labels.get(a, "?")].add(a)
        return out


def none_of(cov, pops):
    return sorted(a for p in pops for a in cov.get(p, ()))


def main():
    with workdir("scenario") as d:
        return run(d)


def run(d):
    cap = os.path.join(d, "scenario.pcap")
    subprocess.run([sys.executable, "tools/gen-scenario.py", cap, "--seed", "11"], check=True)
    meta = json.load(open(cap + ".labels.json"))
    labels = meta["sources"]
    pop = collections.defaultdict(set)
    for a, l in labels.items():
        pop[l].add(a)
    farm = pop["farm_res"]
    r = Result(replay(cap), labels)

    # the record envelope: every record says when (RFC 3339 UTC with
    # microseconds, the integer fields' time exactly), where and in which
    # layout; replay has no interface; the capture starts at a real date
    def rfc(ns):
        return datetime.datetime.fromtimestamp(ns // 1000000000, datetime.timezone.utc).strftime(
            "%Y-%m-%dT%H:%M:%S") + ".%06dZ" % (ns % 1000000000 // 1000)
    check(all({"timestamp", "host", "iface", "schema"} <= set(x) and x["iface"] is None
              and x["schema"] == 1 and x["host"] for x in r.recs), "every record has the envelope")
    check(all(x["timestamp"] == rfc(x["time_ns"]) for x in r.ind + r.dec),
          "indicator and decision timestamps are their time_ns")
    check(all(x["first_seen"] == rfc(x["first_ns"]) and x["last_seen"] == rfc(x["last_ns"])
              for x in r.flows + r.ind), "first_seen/last_seen are first_ns/last_ns")
    check(all(x["expires"] == rfc(x["expires_ns"]) for x in r.dec), "decisions say when they expire")
    check(meta["start"] >= datetime.datetime(2020, 1, 1, tzinfo=datetime.timezone.utc).timestamp()
          and min(f["first_ns"] for f in r.flows) >= meta["start"] * 1e9,
          "the generated capture starts at a realistic date")
    check(all(f["community_id"].startswith("1:") and len(f["community_id"]) == 30 for f in r.flows),
          "flows carry a Community ID")

    # relay_rtt_gap: the farm's exit nodes, nobody else (not the CGNAT's
    # jitter, not the corporate proxy's small detour)
    relay = r.covered("relay_rtt_gap")
    check(len(relay["farm_res"]) >= 0.9 * len(farm),
          "relay_rtt_gap on %d of %d farm exit nodes" % (len(relay["farm_res"]), len(farm)))
    check(not none_of(relay, BENIGN + ("farm_dc",)),
          "relay_rtt_gap on others: %s" % none_of(relay, BENIGN + ("farm_dc",)))

    # farm_cluster: the residential farm (relay) and the datacenter farm
    # (robotic), no benign source in any cluster record
    fc = r.covered("farm_cluster")
    check(len(fc["farm_res"]) >= 0.9 * len(farm),
          "farm_cluster covers %d of %d farm exit nodes" % (len(fc["farm_res"]), len(farm)))
    check(fc["farm_dc"] == pop["farm_dc"], "the datacenter farm is a cluster too")
    check(not none_of(fc, BENIGN), "benign sources in farm clusters: %s" % none_of(fc, BENIGN))
    first = min((i["time_ns"] for i in r.ind if i["kind"] == "farm_cluster"
                 and set(i["sources"]) & farm), default=None)
    check(first is not None and first / 1e9 - meta["start"] <= 60,
          "farm detected within 60 s of its start (took %s s)" %
          (first / 1e9 - meta["start"] if first else None))
    farm_recs = [i for i in r.ind if i["kind"] == "farm_cluster" and set(i["sources"]) & farm]
    check(all(i["evidence"]["prefixes"] >= 5 and 0 < i["score"] <= 1 and i["tuple_id"]
              and "relay" in i["evidence"]["machine_evidence"] for i in farm_recs),
          "farm records carry spread, score, tuple id and the relay evidence")

    # stack_mismatch: the farm's Windows exit nodes (OpenSSL hello behind a
    # Windows SYN) and the corporate proxy (truthfully); no browser, NAT,
    # CGNAT or SDK customer
    sm = r.covered("stack_mismatch")
    check(len(sm["farm_res"]) >= 0.4 * len(farm), "stack_mismatch on %d farm exit nodes" % len(sm["farm_res"]))
    check(sm["corp_proxy"] == pop["corp_proxy"], "stack_mismatch on the explicit corporate proxy")
    check(not none_of(sm, ("browser", "nat", "cgnat", "sdk", "vpn", "health")),
          "stack_mismatch on %s" % none_of(sm, ("browser", "nat", "cgnat", "sdk", "vpn", "health")))

    # cadence, uniformity, hops
    rob = r.covered("robotic_cadence")
    check(pop["health"] <= rob["health"], "the health checker is robotic (and says so)")
    check(not none_of(rob, ("browser", "nat", "cgnat", "corp_proxy", "vpn")),
          "robotic_cadence on humans: %s" % none_of(rob, ("browser", "nat", "cgnat", "corp_proxy", "vpn")))
    uni = r.covered("uniform_requests")
    farm_clusters = {i["cluster"] for i in r.ind if i["kind"] == "farm_cluster" and set(i["sources"]) & farm}
    check(any(i["kind"] == "uniform_requests" and i.get("cluster") in farm_clusters
              and i["evidence"]["size_cv"] <= 0.1 for i in r.ind),
          "uniform_requests across a farm cluster (templated requests)")
    check(not none_of(uni, ("browser", "nat", "cgnat", "corp_proxy", "vpn")),
          "uniform_requests on humans: %s" % none_of(uni, ("browser", "nat", "cgnat", "corp_proxy", "vpn")))
    hop = r.covered("hop_anomaly")
    check(hop["vpn"] == pop["vpn"] and not none_of(hop, [p for p in pop if p != "vpn"]),
          "hop_anomaly on the VPN user only")
    strong = set()
    for i in r.ind:
        if i["kind"] not in ("hop_anomaly",):
            strong |= set(i["sources"])
    check(not (strong & pop["vpn"]), "the VPN user got more than hop_anomaly")

    # rotation and pivot: on the farm only, with the endpoints it moved to
    rot = [i for i in r.ind if i["kind"] == "rotation"]
    piv = [i for i in r.ind if i["kind"] == "pivot"]
    check(rot and all(set(i["sources"]) <= farm for i in rot), "rotation on the farm, only")
    check(piv and all(set(i["sources"]) <= farm for i in piv), "pivot on the farm, only")
    check(any("model-v2.example.test" in i["evidence"]["to"] and
              i["time_ns"] / 1e9 - meta["pivot_at"] <= 60 for i in piv),
          "pivot names the new endpoint within 60 s")

    # decisions: blocks for farm exit nodes only, relay-conditional tuple
    # rules for the farm's tuples, complete records
    bl = r.blocked()
    check(len(bl["farm_res"]) >= 0.9 * len(farm), "blocks on %d of %d farm exit nodes" % (len(bl["farm_res"]), len(farm)))
    check(not none_of(bl, BENIGN + ("farm_dc",)), "blocks on others: %s" % none_of(bl, BENIGN + ("farm_dc",)))
    farm_tuples = {i["tuple_id"] for i in farm_recs}
    rules = [x for x in r.dec if x["action"] == "tuple_rule"]
    check(rules and {x["tuple_id"] for x in rules} <= farm_tuples, "tuple rules only for farm tuples")
    check(all(x["min_gap_us"] == 10000 for x in rules), "tuple rules are conditional on the relay gap")
    last_packet = max(f["last_ns"] for f in r.flows)
    check(all(x["ttl_s"] > 0 and x["reason"] and x["indicators"] and "evidence" in x
              and meta["start"] * 1e9 <= x["time_ns"] <= last_packet and x["applied"] is True
              for x in r.dec), "decision records complete, stamped with packet time, applied")

    # the replay datapath applied the rules: every farm flow that began
    # after its tuple's rule was cut (never-seen exit nodes included), every
    # SDK-customer flow with the same stack was spared
    # a rule is on the cluster's TLS id (any SYN stack) or its tuple id
    rule_t = {(x.get("rule_on", "tuple_id"), x.get("rule_id", x["tuple_id"])): x["time_ns"] for x in rules}
    seen_before = collections.defaultdict(lambda: 1 << 62)
    for f in r.flows:
        seen_before[f["client"]] = min(seen_before[f["client"]], f["first_ns"])
    outcome = collections.Counter()
    for f in r.flows:
        ts = [rule_t.get(("tuple_id", f.get("tuple_id"))), rule_t.get(("tls_id", f.get("tls_id")))]
        ts = [x for x in ts if x is not None]
        t = min(ts) if ts else None
        if t is None or f["first_ns"] <= t:
            continue
        flags = f["flags"].split(",")
        who = labels.get(f["client"])
        fresh = "new" if seen_before[f["client"]] > t else "known"
        outcome[(who, fresh, "cut" if "cut" in flags else "spared" if "cut_spared" in flags else "none")] += 1
    check(outcome[("farm_res", "new", "cut")] > 50 and not outcome[("farm_res", "new", "none")]
          and not outcome[("farm_res", "new", "spared")],
          "never-seen exit nodes cut on their first connection: %s" % dict(outcome))
    check(outcome[("sdk", "known", "spared")] > 10 and not [k for k in outcome if k[0] == "sdk" and k[2] == "cut"],
          "the SDK customer with the farm's stack is spared: %s" % dict(outcome))
    stats = [x for x in r.recs if x.get("type") == "stats"][0]
    check(stats["tuple_would_drop"] > 0 and stats["tuple_drops"] == 0 and stats["block_drops"] == 0,
          "dry-run: would-drop counted, nothing dropped")
    check(any(x.get("type") == "note" and x["about"] == "residential_proxy" for x in r.recs),
          "without a network database the output says residential_proxy was not evaluated")

    # with a network database: residential_proxy on the exit nodes only
    mmdb = os.path.join(d, "networks.mmdb")
    subprocess.run(["perl", "tools/gen-asn-db.pl", cap + ".networks.json", mmdb], check=True)
    ra = Result(replay(cap, "--asn-db", mmdb, "--no-flows"), labels)
    rp = ra.covered("residential_proxy")
    check(len(rp["farm_res"]) >= 0.9 * len(farm), "residential_proxy on %d of %d exit nodes" % (len(rp["farm_res"]), len(farm)))
    check(not none_of(rp, BENIGN + ("farm_dc",)), "residential_proxy on others: %s" % none_of(rp, BENIGN + ("farm_dc",)))
    check(max((i["evidence"].get("asns", 0) for i in ra.ind if i["kind"] == "farm_cluster"
               and set(i["sources"]) & farm), default=0) >= 5,
          "farm clusters count their autonomous systems")
    check(not none_of(ra.blocked(), BENIGN + ("farm_dc",)), "no benign block with the network database")

    # an allowlisted prefix is never blocked
    rw = Result(replay(cap, "--allow", "100.64.0.0/16", "--no-flows"), labels)
    allowed = {a for a in rw.blocked()["farm_res"] if a.startswith("100.64.")}
    check(not allowed and rw.blocked()["farm_res"], "the allowlist wins over farm blocks: %s" % sorted(allowed)[:5])

    # repeat offenders: with short TTLs, exit nodes that come back after
    # their block lapsed get twice the TTL
    cfg = os.path.join(d, "short.conf")
    with open(cfg, "w") as f:
        f.write("ttl_cluster_s = 60\nttl_relay_s = 60\nttl_jitter_pct = 0\n")
    rr = Result(replay(cap, "--config", cfg, "--no-flows"), labels)
    by_prefix = collections.defaultdict(list)
    for x in rr.dec:
        if x["action"] == "block_prefix" and not x["renewal"]:
            by_prefix[x["prefix"]].append((x["time_ns"], x["ttl_s"], x["offences"]))
    again = [v for v in by_prefix.values() if len(v) > 1]
    check(again and all(v[0][1:] == (60, 1) and v[1][1:] == (120, 2) for v in again),
          "repeat offenders: 60 s, then 120 s (%d came back)" % len(again))
    check(all(x["expires_ns"] - x["time_ns"] == x["ttl_s"] * 1000000000 for x in rr.dec
              if x["action"] == "block_prefix" and not x["renewal"]), "no jitter when ttl_jitter_pct = 0")
    jit = [x["expires_ns"] - x["time_ns"] - x["ttl_s"] * 1000000000 for x in r.dec
           if x["action"] == "block_prefix" and not x["renewal"]]
    check(jit and min(jit) >= 0 and max(jit) <= 0.1 * 3600e9 and len(set(jit)) > len(jit) // 2,
          "default TTLs are spread by up to 10 % (no bulk-expiry cliff)")

    # the shipped example config holds every key at its default
    rx = Result(replay(cap, "--config", "deploy/hydrascope.conf.example", "--no-flows"), labels)
    raised = lambda res: [x for x in res.recs if x.get("type") == "summary"][0]["indicators_raised"]
    check(raised(rx) == raised(r), "deploy/hydrascope.conf.example equals the defaults")

    # thresholds come from a config file
    with open(cfg, "w") as f:
        f.write("# demand a 500 ms detour\nrelay_min_gap_us = 500000\nrelay_weak_gap_us = 500000\n"
                "cluster_min_sources = 1000\n")
    r2 = Result(replay(cap, "--config", cfg, "--no-flows"), labels)
    check(not r2.covered("relay_rtt_gap"), "config: relay threshold ignored")
    check(not r2.covered("farm_cluster"), "config: cluster threshold ignored")
    # the correlator's tables are bounded: full ones push out and count
    summ = lambda res: [x for x in res.recs if x.get("type") == "summary"][0]
    with open(cfg, "w") as f:
        f.write("max_clusters = 16\nmax_members = 16\n")
    r3 = Result(replay(cap, "--config", cfg, "--no-flows"), labels)
    check(summ(r)["correlator_evictions"] == 0 and summ(r3)["correlator_evictions"] > 0,
          "correlator evictions: %d at the defaults, %d with 16-entry tables" % (
              summ(r)["correlator_evictions"], summ(r3)["correlator_evictions"]))
    for bad, why in (("bogus_key = 1\n", "unknown key"), ("robotic_max_cv = -1\n", "from 0"),
                     ("relay_min_flows = 2.5\n", "an integer"), ("relay_min_flows\n", "key = value"),
                     ("relay_base_gap_us_netscape = 5\n", "unknown key"),
                     ("window_s = nan\n", "window_s")):
        with open(cfg, "w") as f:
            f.write(bad)
        p = subprocess.run([HS, "replay", cap, "--config", cfg], capture_output=True, text=True)
        check(p.returncode == 2 and why in p.stderr and p.stderr.count("\n") == 1 and not p.stdout,
              "bad config %r: rc=%d err=%r" % (bad, p.returncode, p.stderr))
    return summary()


if __name__ == "__main__":
    sys.exit(main())
