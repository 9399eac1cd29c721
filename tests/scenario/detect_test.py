#!/usr/bin/env python3
"""The detection bench, short (make bench-detect is the full one): one small
held-out scenario (tools/gen-scenario.py --mix variety: rotating exits of
every OS used once or a few times, detours 5-120 ms, direct cloud members of
the farm, a browser-mimicking farm with 8-40 ms detours, browsers, SDK
customers with the farm's stack, API clients, NAT, CGNAT, corporate proxy,
VPN, health checkers) replayed and scored by tools/bench/bench_detect.py.

Asserts recall within 60 s on every farm population, no benign source in a
farm_cluster, relay_rtt_gap or residential_proxy record, none blocked or
cut, exits first seen after their farm's rule cut on that first connection
(5-10 ms detours too: the rule's bound learned from the direct flows), and
the records' own story (relay farms name their exits' stacks, rules are on
the farm's TLS id with the relay test). Ends with "N passed, N failed"."""
import json
import os
import sys

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
sys.path.insert(0, os.path.join(ROOT, "tools", "bench"))
from checks import check, summary, workdir  # noqa: E402
import bench_detect  # noqa: E402

SEED = 5


def main():
    with workdir("detect") as d:
        return run(d)


def run(d):
    cap = os.path.join(d, "variety.pcap")
    labels = bench_detect.generate(cap, "variety", SEED, farm=120, mimic=60, benign=1200, span=300)
    recs, secs = bench_detect.replay(cap, d)
    res = bench_detect.analyse(recs, labels)
    bench_detect.show("variety seed %d (short)" % SEED, res, secs)

    for pop in ("farm_rot", "farm_direct", "farm_mimic"):
        v = res["farm"][pop]
        need = 95 if pop == "farm_mimic" else 97
        check(v["recall_60s_pct"] is not None and v["recall_60s_pct"] >= need,
              "%s: %s%% flagged within 60 s (>= %d%%)" % (pop, v["recall_60s_pct"], need))
    b = res["benign"]
    check(b["in_farm_relay_residential_records"] == 0,
          "no benign source in farm/relay/residential records: %s" % b["examples"])
    check(b["blocked"] == 0 and b["cut"] == 0,
          "no benign source blocked (%d) or cut (%d)" % (b["blocked"], b["cut"]))
    check(res["farm"]["all_farm"]["blocked_or_cut_pct"] >= 95,
          "farm blocked or cut: %s%%" % res["farm"]["all_farm"]["blocked_or_cut_pct"])
    for k, v in res["relay_per_detour"].items():
        if not k.endswith("_5ms"):
            check(v["relay_detected_pct"] >= 95, "relay detected at %s: %s%%" % (k, v["relay_detected_pct"]))

    farms = [r for r in recs if r.get("type") == "indicator" and r["kind"] == "farm_cluster"]
    relayed = [r for r in farms if "relay" in r["evidence"]["machine_evidence"]]
    check(relayed and max(r["evidence"]["exit_stacks"] for r in relayed) >= 4,
          "a relayed farm shows its exits' many SYN stacks under one TLS client")
    check(any(r["evidence"].get("linked_members", 0) > 0 for r in relayed),
          "direct cloud members linked to the relayed farm")
    rules = [r for r in recs if r.get("type") == "decision" and r["action"] == "tuple_rule"]
    check(rules and all(r["rule_on"] == "tls_id" and r["tls_tcp_gap_min_us"] >= 12000
                        and r["ack_hello_min_us"] >= 12000 for r in rules),
          "one rule per farm, on its TLS id, with the relay test (the family's processing, "
          "the ACK->hello bound)")
    # the bound each rule learned from its TLS client's direct flows: lower
    # than the default, never under the floor (2 ms + the 3 ms small detour)
    learned = [r.get("ack_hello_low_us") for r in rules if r.get("ack_hello_low_us") is not None]
    check(learned and all(5000 <= x < 12000 for x in learned),
          "rules learn a lower ACK->hello bound from direct flows: %s" % sorted(set(learned)))
    # exits first seen once a rule existed are cut on that first connection,
    # the 5-10 ms ones too (the default 12 ms bound let them all through)
    for pop in ("farm_rot", "farm_mimic"):
        v = res["farm"][pop]
        check(v["later_sources"] >= 40 and v["later_cut_first_connection_pct"] >= 90,
              "%s: %s%% of %d later exits cut on their first connection" % (
                  pop, v["later_cut_first_connection_pct"], v["later_sources"]))
    small = [v for k, v in res["relay_per_detour"].items() if k.endswith(("_5ms", "_10ms"))]
    n_small = sum(v["later_sources"] for v in small)
    cut_small = sum(v["later_sources"] * v["later_cut_first_connection_pct"] / 100 for v in small)
    check(n_small >= 20 and cut_small >= 0.75 * n_small,
          "later exits 5-10 ms away cut on their first connection: %.0f of %d" % (cut_small, n_small))
    return summary()


if __name__ == "__main__":
    sys.exit(main())
