#!/usr/bin/env python3
"""Forged hellos cannot buy memory: many flows from forged sources, each
with its own maximal ClientHello (1000 cipher suites, 450 extensions,
3.9 KB; tools/gen-hostile.py --forged N), replayed through the product.

Each such hello used to leave ~22 KB of JA3/JA4 strings behind (30,000 of
them: 800 MB). Now a flow keeps a fixed-size record and its hashes; the
strings a sender chooses live under the --fp-budget byte budget. Checked:
the replay's peak RSS (the kernel's own account, wait4) grows by at most
the budget plus a fixed allowance per flow over a small replay of the same
kind; the budget is hit, every give-up is counted and the pool stays within
it; every flow still has its JA3/JA4/JA4_o; a raw form is either dropped
(null) or exactly what an unconstrained run prints. A memory bound, not a
timing one. HS_FORGED sets N (default 30000).
Ends with "N passed, N failed"."""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from checks import check, summary, workdir  # noqa: E402

HS = os.environ.get("HYDRASCOPE", "build/hydrascope")
N = int(os.environ.get("HS_FORGED", "30000"))
SMALL = 500
BUDGET_MB = 8
# What a flow may keep beyond the budget, all tables together: the
# collector's record and fingerprint (~0.4 KB), the correlator's source,
# member and shadow (~0.5 KB), a cluster per distinct fingerprint (2.2 KB,
# up to max_clusters), policy, the report's flow list. A hostile hello's
# strings alone were 22 KB.
PER_FLOW = 4 * 1024
RAW = ("ja3_str", "ja4_r", "ja4_ro")
HASHED = ("ja3", "ja4", "ja4_o", "tls_version")


def replay(cap, out, *extra):
    """exit code and peak RSS in bytes of one replay, records into out"""
    args = [HS, "replay", cap, "--local-net", "198.51.100.10/32", "--format", "json",
            "--no-sources", *extra]
    with open(out, "w") as f:
        p = subprocess.Popen(args, stdout=f, stderr=subprocess.PIPE)
        err = p.stderr.read().decode(errors="replace")
        _, status, ru = os.wait4(p.pid, 0)
    rc = os.waitstatus_to_exitcode(status)
    check(rc == 0, "replay %s exit %d: %s" % (os.path.basename(cap), rc, err.strip()[:200]))
    return rc, ru.ru_maxrss * 1024


def records(path):
    with open(path) as f:
        return [json.loads(line) for line in f]


def forged(d, n):
    cap = os.path.join(d, "forged-%d.pcap" % n)
    subprocess.run([sys.executable, "tools/gen-hostile.py", cap, "--forged", str(n)], check=True)
    return cap


def main():
    with workdir("forged") as d:
        run(d)
    return summary()


def run(d):
    small, big = forged(d, SMALL), forged(d, N)
    _, base = replay(small, os.path.join(d, "small.json"), "--fp-budget", str(BUDGET_MB))
    out = os.path.join(d, "big.json")
    _, peak = replay(big, out, "--fp-budget", str(BUDGET_MB))
    bound = base + (BUDGET_MB << 20) + (N - SMALL) * PER_FLOW
    print("peak RSS %.0f MB for %d forged hellos, %.0f MB for %d; bound %.0f MB" % (
        peak / 2**20, N, base / 2**20, SMALL, bound / 2**20))
    check(peak <= bound,
          "peak RSS %.0f MB for %d forged hellos, bound %.0f MB (%.0f MB for %d, "
          "a %d MB budget, %d B a flow)" % (peak / 2**20, N, bound / 2**20, base / 2**20,
                                            SMALL, BUDGET_MB, PER_FLOW))
    recs = records(out)
    st = next((r for r in recs if r["type"] == "stats"), {})
    flows = [r for r in recs if r["type"] == "flow"]
    check(st.get("hellos_parsed") == N, "every forged hello parsed: %s of %d" % (
        st.get("hellos_parsed"), N))
    check(st.get("fp_records") == N, "one fingerprint per distinct hello: %s" % st.get(
        "fp_records"))
    check(st.get("fp_strings_dropped", 0) > 0, "the budget was reached and counted")
    check(0 < st.get("fp_string_bytes", 0) <= BUDGET_MB << 20,
          "the string pool stays within its budget: %s bytes" % st.get("fp_string_bytes"))
    check(len(flows) == N and all(all(f.get(k) for k in HASHED) for f in flows),
          "every flow keeps its JA3, JA4 and JA4_o")
    dropped = sum(1 for f in flows if f.get("ja4_r") is None)
    check(0 < dropped < N, "raw forms dropped past the budget for %d of %d flows" % (
        dropped, N))
    check(all((f.get("ja4_r") is None) == (f.get("ja3_str") is None) ==
              (f.get("ja4_ro") is None) for f in flows),
          "the raw forms of a flow are kept or dropped together")
    check(all(f["ja4_r"].split("_")[0] == f["ja4"].split("_")[0]
              for f in flows if f.get("ja4_r")), "kept raw forms carry their JA4's prefix")

    # The same hellos, a few, under a budget of 1 MB and with the
    # default one: hashes equal, raw forms equal or null.
    sub = forged(d, 2000)
    full, tight = os.path.join(d, "full.json"), os.path.join(d, "tight.json")
    replay(sub, full)
    replay(sub, tight, "--fp-budget", "1")
    a = {(f["client"], f["cport"]): f for f in records(full) if f["type"] == "flow"}
    b = {(f["client"], f["cport"]): f for f in records(tight) if f["type"] == "flow"}
    check(a.keys() == b.keys() and len(a) == 2000, "both runs report the 2000 flows")
    check(all(a[k].get(h) == b.get(k, {}).get(h) for k in a for h in HASHED),
          "a tight budget changes no hash")
    check(all(b.get(k, {}).get(r) in (None, a[k].get(r)) for k in a for r in RAW),
          "a raw form under a tight budget is dropped or the same")
    check(all(a[k].get(r) for k in a for r in RAW),
          "with the default budget every raw form is there")
    check(any(b[k].get("ja4_r") is None for k in b), "1 MB is too little for 2000 of them")


if __name__ == "__main__":
    sys.exit(main())
