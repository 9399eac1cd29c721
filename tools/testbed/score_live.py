#!/usr/bin/env python3
"""Score a live farm testbed run (tools/testbed/farm.sh) from what the
clients saw and what hydrascope recorded. Prints a table and writes
OUT/score.json.

Farm sources: the 36 proxy exits and the 3 direct cloud members. Benign:
everyone else. A source is *flagged* when a farm_cluster, relay_rtt_gap,
residential_proxy or rotation record lists it ("any" also counts the other
kinds), *blocked* when a block_prefix decision covers it, *cut* when its
first request failed after a tuple rule existed (the datapath stops a flow
before its first request).
"""
import argparse
import ipaddress
import json
import os
import statistics
from datetime import datetime

FARM_KINDS = {"farm_cluster", "relay_rtt_gap", "residential_proxy", "rotation"}


def rec_time(r):
    if "time_ns" in r:
        return r["time_ns"] / 1e9
    ts = r.get("timestamp")
    if ts:
        return datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp()
    return None


def load_jsonl(path):
    if not os.path.exists(path):
        return []
    out = []
    for line in open(path):
        line = line.strip()
        if line:
            try:
                out.append(json.loads(line))
            except ValueError:
                pass
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--start", type=float, required=True)
    ap.add_argument("--end", type=float, required=True, help="after the last round")
    a = ap.parse_args()
    exits = {}
    for line in open(os.path.join(a.out, "exits.txt")):
        kind, _, _, addr, detour, stack = line.split()
        exits[addr] = {"kind": kind, "detour_ms": int(detour), "stack": stack}
    hosts = {}
    for line in open(os.path.join(a.out, "hosts.txt")):
        name, addr, _ = line.split()
        hosts[addr] = name
    farm = set(exits) | {ad for ad, n in hosts.items() if n.startswith("cloud-")}
    benign = {ad: n for ad, n in hosts.items() if ad not in farm}

    reqs = load_jsonl(os.path.join(a.out, "farm.jsonl"))
    breqs = load_jsonl(os.path.join(a.out, "benign.jsonl"))
    # clients that fail without hydrascope (checked before it attached)
    fails_alone = {benign.get(q["exit"]) for q in load_jsonl(os.path.join(a.out, "benign-baseline.jsonl"))
                   if q.get("rc", 0) != 0}
    recs = load_jsonl(os.path.join(a.out, "records.jsonl"))
    first = {}
    first_ok = {}
    for q in sorted(reqs, key=lambda q: q["t"]):
        if q["exit"] not in first:
            first[q["exit"]] = q["t"]
            first_ok[q["exit"]] = q["ok"]

    flagged, flagged_any, by_kind = {}, {}, {}
    blocked = {}
    rule_times = []
    rule_bounds = []  # every rule record: the bound and what it was learned from
    detour = {}
    for r in recs:
        t = rec_time(r)
        if r.get("type") == "indicator":
            for s in r.get("sources", []):
                flagged_any.setdefault(s, t)
                if r.get("kind") in FARM_KINDS:
                    flagged.setdefault(s, t)
                    by_kind.setdefault(r["kind"], set()).add(s)
            if r.get("kind") == "relay_rtt_gap":
                ev = r.get("evidence", {})
                if "detour_median_us" in ev:
                    detour[r["sources"][0]] = ev["detour_median_us"] / 1000
        elif r.get("type") == "decision":
            if r.get("action") == "block_prefix":
                net = ipaddress.ip_network(r["prefix"], strict=False)
                for s in farm | set(benign):
                    if ipaddress.ip_address(s) in net:
                        blocked.setdefault(s, t)
            elif r.get("action") == "tuple_rule":
                rule_times.append(t)
                rule_bounds.append({"after_s": None if t is None else round(t - a.start, 1),
                                    "ack_hello_min_us": r.get("ack_hello_min_us"),
                                    "ack_hello_low_us": r.get("ack_hello_low_us"),
                                    "lead_max_us": r.get("lead_max_us"),
                                    "learned_from": (r.get("evidence") or {}).get("relay_bound")})
    farm_seen = [s for s in farm if s in first]
    farm_start = min((first[s] for s in farm_seen), default=a.start)

    def within(d, s, secs=60):
        return s in d and d[s] is not None and d[s] - first[s] <= secs

    # a source first seen in the last minute had no full minute to be caught
    eligible = [s for s in farm_seen if first[s] <= a.end - 60]
    recall_60 = sum(within(flagged, s) for s in eligible)
    recall_any_60 = sum(within(flagged_any, s) for s in eligible)
    cut_first = {s: first[s] for s in farm_seen if not first_ok[s]}
    caught_60 = sum(within(flagged, s) or within(blocked, s) or s in cut_first for s in eligible)
    ttf = [flagged[s] - first[s] for s in farm_seen if s in flagged]
    first_rule = min(rule_times) if rule_times else None
    first_cluster = min((rec_time(r) for r in recs if r.get("kind") == "farm_cluster"), default=None)
    later = {s for s in exits if s in first and first_rule is not None and first[s] > first_rule + 1}
    later_cut = {s for s in later if not first_ok[s]}
    farm_blocked_or_cut = [s for s in farm_seen if s in blocked or not first_ok.get(s, True)]
    per_detour = {}
    for s, e in exits.items():
        if s not in first:
            continue
        d = per_detour.setdefault(e["detour_ms"], {"exits": 0, "relay_flagged": 0, "farm_listed": 0,
                                                   "measured_ms": [], "later": 0, "later_cut": 0})
        d["exits"] += 1
        if s in by_kind.get("relay_rtt_gap", set()):
            d["relay_flagged"] += 1
        if s in by_kind.get("farm_cluster", set()):
            d["farm_listed"] += 1
        if s in detour:
            d["measured_ms"].append(detour[s])
        d["later"] += s in later
        d["later_cut"] += s in later_cut
    per_stack = {}
    for s, e in exits.items():
        if s in first:
            p = per_stack.setdefault(e["stack"], {"exits": 0, "flagged_60s": 0})
            p["exits"] += 1
            p["flagged_60s"] += within(flagged, s)
    benign_flag = {}
    for kind, srcs in by_kind.items():
        for s in srcs & set(benign):
            benign_flag.setdefault(kind, []).append(benign[s])
    benign_fail = {}
    for q in breqs:
        failed = (not q.get("ok", True)) if "ok" in q else q.get("rc", 0) != 0
        b = benign_fail.setdefault(benign.get(q["exit"], q["exit"]), [0, 0])
        b[0] += 1
        b[1] += failed
    score = {
        "farm_sources_seen": len(farm_seen),
        "farm_requests": len(reqs),
        "farm_sources_eligible_60s": len(eligible),
        "recall_farm_kinds_60s": recall_60 / max(1, len(eligible)),
        "recall_any_indicator_60s": recall_any_60 / max(1, len(eligible)),
        "caught_60s": caught_60 / max(1, len(eligible)),
        "time_to_flag_s": {"median": statistics.median(ttf) if ttf else None,
                           "max": max(ttf) if ttf else None},
        "farm_cluster_after_s": first_cluster - farm_start if first_cluster else None,
        "tuple_rule_after_s": first_rule - farm_start if first_rule else None,
        "later_never_seen_exits": len(later),
        "later_exits_cut_on_first_request": len(later_cut),
        "farm_blocked_or_cut": len(farm_blocked_or_cut),
        "per_detour_ms": {str(k): {"exits": v["exits"], "relay_flagged": v["relay_flagged"],
                                   "farm_listed": v["farm_listed"],
                                   "measured_median_ms": statistics.median(v["measured_ms"])
                                   if v["measured_ms"] else None,
                                   "later_exits": v["later"], "later_cut_on_first_request": v["later_cut"]}
                          for k, v in sorted(per_detour.items())},
        "rule_bounds": rule_bounds,
        "per_exit_stack": per_stack,
        "benign_sources": len(benign),
        "benign_flagged_by_kind": benign_flag,
        "benign_blocked": sorted(benign[s] for s in blocked if s in benign),
        "benign_requests_failed": {k: {"requests": v[0], "failed": v[1], "fails_without_hydrascope": k in fails_alone}
                                   for k, v in sorted(benign_fail.items())},
        "benign_requests_cut": sum(v[1] for k, v in benign_fail.items() if k not in fails_alone),
    }
    with open(os.path.join(a.out, "score.json"), "w") as f:
        json.dump(score, f, indent=1)
    pct = lambda x: "%.0f%%" % (100 * x)
    print("live farm: %d farm sources (%d exits over 6 stacks, 3 cloud members), %d benign"
          % (len(farm_seen), len([s for s in exits if s in first]), len(benign)))
    print("  recall within 60 s of the first request (%d sources seen a minute before the end):"
          " %s farm/relay/residential/rotation, %s any indicator, %s flagged, blocked or cut"
          % (len(eligible), pct(score["recall_farm_kinds_60s"]), pct(score["recall_any_indicator_60s"]),
             pct(score["caught_60s"])))
    print("  time to flag: median %s s, max %s s" % (score["time_to_flag_s"]["median"], score["time_to_flag_s"]["max"]))
    print("  farm cluster after %s s, tuple rule after %s s" % (score["farm_cluster_after_s"], score["tuple_rule_after_s"]))
    print("  never-seen exits after the rule: %d, cut on their first request: %d"
          % (len(later), len(later_cut)))
    print("  farm sources blocked or cut: %d of %d" % (len(farm_blocked_or_cut), len(farm_seen)))
    for k, v in score["per_detour_ms"].items():
        print("  detour %4s ms: %d exits, %d relay_rtt_gap, %d in farm_cluster, measured median %s ms;"
              " later exits cut on their first request: %d of %d"
              % (k, v["exits"], v["relay_flagged"], v["farm_listed"], v["measured_median_ms"],
                 v["later_cut_on_first_request"], v["later_exits"]))
    for b in rule_bounds:
        print("  rule at %s s: ACK->hello >= %s us, learned >= %s us with the gap within %s us"
              % (b["after_s"], b["ack_hello_min_us"], b["ack_hello_low_us"], b["lead_max_us"]))
    for k, v in sorted(per_stack.items()):
        print("  stack %-10s: %d exits, %d flagged within 60 s" % (k, v["exits"], v["flagged_60s"]))
    print("  benign flagged by kind: %s" % (benign_flag or "none"))
    print("  benign blocked: %s" % (score["benign_blocked"] or "none"))
    for k, v in score["benign_requests_failed"].items():
        print("  benign %-14s %3d requests, %d failed%s" % (k, v["requests"], v["failed"],
              " (fails without hydrascope too)" if v["fails_without_hydrascope"] else ""))
    print("  benign requests failed that work without hydrascope: %d" % score["benign_requests_cut"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
