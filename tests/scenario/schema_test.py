#!/usr/bin/env python3
"""Every record type against its JSON Schema (deploy/schema/): the
schemas are valid draft 2020-12; every record of replays of the demo
capture, the hostile corpus and a scenario (text and JSON report, --log,
a network database, an allowlist) validates; and the schemas have teeth:
a record with a field missing, of the wrong type, or not in the schema
fails. Forged hellos past a 1 MB --fp-budget give flows with null raw
forms and SNI, which validate too. (The scenario and peer tests validate their records too, and the
live tests validate the records, status file and lists of a live run.)
Ends with "N passed, N failed"."""
import copy
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from checks import check, summary, workdir  # noqa: E402
import records_schema  # noqa: E402

HS = os.environ.get("HYDRASCOPE", "build/hydrascope")


def replay(*args):
    p = subprocess.run([HS, "replay", *args, "--format", "json"], capture_output=True, text=True,
                       timeout=300)
    check(p.returncode == 0, "replay %s: exit %d: %s" % (args, p.returncode, p.stderr[-300:]))
    return [json.loads(l) for l in p.stdout.splitlines()]


def main():
    with workdir("schema") as d:
        return run(d)


def run(d):
    check(set(records_schema.VALIDATORS) >= {"flow", "source", "stats", "indicator", "decision", "note",
                                             "replay", "summary", "status", "block", "allow",
                                             "tuple_rule"},
          "a schema for every record type: %s" % sorted(records_schema.VALIDATORS))
    subprocess.run([sys.executable, "tools/gen-hostile.py", d + "/hostile.pcap"], check=True,
                   stdout=subprocess.DEVNULL)
    subprocess.run([sys.executable, "tools/gen-hostile.py", d + "/forged.pcap", "--forged", "3000"],
                   check=True, stdout=subprocess.DEVNULL)
    subprocess.run([sys.executable, "tools/gen-scenario.py", d + "/sc.pcap", "--span", "500"], check=True)
    subprocess.run(["perl", "tools/gen-asn-db.pl", d + "/sc.pcap.networks.json", d + "/net.mmdb"], check=True)
    seen = {}
    for name, args in (("demo", ["tests/data/demo.pcap", "--local-net", "198.18.77.1/32"]),
                       ("hostile", [d + "/hostile.pcap", "--local-net", "198.51.100.10/32"]),
                       ("scenario", [d + "/sc.pcap", "--asn-db", d + "/net.mmdb", "--log", d + "/log.jsonl"]),
                       ("scenario --allow", [d + "/sc.pcap", "--allow", "100.64.0.0/16", "--no-flows"]),
                       # strings dropped at the budget are null
                       ("forged hellos past --fp-budget", [d + "/forged.pcap", "--fp-budget", "1",
                                                           "--no-sources"])):
        recs = replay(*args)
        if name.startswith("forged"):
            check(any(r["type"] == "flow" and r.get("ja4_r", "") is None for r in recs),
                  "past the budget, flows carry null raw forms")
        records_schema.check_all(recs, name, check)
        for r in recs:
            seen.setdefault(r["type"], r)
    log = [json.loads(l) for l in open(d + "/log.jsonl")]
    check(log and {r["type"] for r in log} >= {"indicator", "decision"},
          "the --log file holds indicators and decisions")
    records_schema.check_all(log, "--log", check)
    for r in log:
        seen.setdefault(r["type"] + ":" + r.get("action", ""), r)

    # teeth: each kind of damage to a valid record of each type fails
    check(len(seen) >= 9, "sample records of %s" % sorted(seen))
    for t, good in sorted(seen.items()):
        check(not records_schema.errors(good), "%s sample is valid" % t)
        req = records_schema.SCHEMAS[good["type"]]["required"] + ["timestamp", "host", "iface", "schema"]
        for k in req:
            bad = copy.deepcopy(good)
            bad.pop(k, None)
            check(records_schema.errors(bad), "%s without %s must fail" % (t, k))
        for k, v in good.items():
            bad = copy.deepcopy(good)
            bad[k] = {"wrong": "type"} if not isinstance(v, dict) else "wrong type"
            check(records_schema.errors(bad), "%s with %s of the wrong type must fail" % (t, k))
        bad = copy.deepcopy(good)
        # stats holds every datapath counter by name (the list grows with
        # the datapath): any lower-case name, as long as it is a count
        bad["undocumented_field" if t != "stats" else "Undocumented-Field"] = 1
        check(records_schema.errors(bad), "%s with a field not in its schema must fail" % t)
    for ts in ("2026-03-02T09:00:00Z", "2026-03-02 09:00:00.000000Z", "1772442000"):
        bad = dict(seen["flow"], timestamp=ts)
        check(records_schema.errors(bad), "timestamp %r (not RFC 3339 UTC with us) must fail" % ts)
    return summary()


if __name__ == "__main__":
    sys.exit(main())
