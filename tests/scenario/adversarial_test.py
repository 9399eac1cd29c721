#!/usr/bin/env python3
"""The adversarial corpus (tools/gen-adversarial.py, issue 10 rows 5 and
11) replayed through the product in enforce mode, with a TLS-id rule
learned from the farm's plain flow and prefix blocks on another client
and on the load balancer: every hidden or wrapped hello ends fingerprinted
(kernel and userspace ids equal, cut by the rule) or flagged
(unfingerprintable with its reason, or a hello conflict), never as a
silent or non-TLS flow; the balancer's block drops nothing it wraps; no
forged source is blocked; every record validates against its schema.
Ends with "N passed, N failed"."""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from checks import check, summary, workdir  # noqa: E402
import records_schema  # noqa: E402

HS = os.environ.get("HYDRASCOPE", "build/hydrascope")
FINGERPRINTED = ("plain", "decoy_junk", "decoy_noack", "decoy_window", "junk_many",
                 "tfo_not_taken", "empty_records", "ipip", "gre", "gue")
FLAGGED = {"frag4": 8, "frag4_tiny": 10, "frag6": 8, "v6ext_12": 9, "v6ext_80": 10, "tfo": 7}
CONFLICT = ("decoy_junk", "decoy_hello")


def replay(cap, *extra):
    p = subprocess.run([HS, "replay", cap, "--local-net", "198.51.100.10/32",
                        "--local-net", "2001:db8::10/128", "--decap", "ipip,gre,gue:6080",
                        "--format", "json", "--no-sources"] + list(extra),
                       capture_output=True, text=True, timeout=120)
    check(p.returncode == 0, "replay exit %d: %s" % (p.returncode, p.stderr.strip()[:300]))
    return [json.loads(line) for line in p.stdout.splitlines()]


def by_case(recs, cases):
    out = {}
    for r in recs:
        if r["type"] == "flow":
            out.setdefault(cases.get(str(r["cport"]), "?"), []).append(r)
    return out


def main():
    with workdir("adversarial") as d:
        return run(d)


def run(d):
    cap = os.path.join(d, "adversarial.pcap")
    subprocess.run([sys.executable, "tools/gen-adversarial.py", cap], check=True)
    exp = json.load(open(cap + ".expect.json"))
    cases = exp["cases"]

    # learn the farm's TLS id from its plain flow (dry run, no rule)
    learn = by_case(replay(cap), cases).get("plain", [{}])[0]
    tls_id = learn.get("tls_id")
    check(bool(tls_id), "the plain flow has a TLS id: %s" % learn.get("flags"))
    if not tls_id:
        return summary()

    recs = replay(cap, "--enforce", "--tuple-rule", "tls:" + tls_id,
                  "--block", exp["blocked"], "--block", exp["lb"] + "/32")
    records_schema.check_all(recs, "adversarial", check)
    flows = by_case(recs, cases)
    st = next(r for r in recs if r["type"] == "stats")
    rep = next(r for r in recs if r["type"] == "replay")

    for case in set(cases.values()) - {"spoofed", "blocked"}:
        fl = flows.get(case)
        check(bool(fl), "%s: a flow record" % case)
        if not fl:
            continue
        f = fl[0]
        flags = f["flags"].split(",")
        check(f["tls"] and "nontls" not in flags,
              "%s: a TLS flow, never silent or non-TLS: %s" % (case, f["flags"]))
        ok = "tuple_id" in f and f.get("tuple_id") == f.get("tuple_id_user") and \
            f.get("tls_id") == f.get("tls_id_user") and bool(f.get("ja4"))
        flagged = "unfingerprintable" in flags or f.get("hello_conflict")
        check(ok or flagged, "%s: fingerprinted or flagged: %s" % (case, f["flags"]))
        if case in FINGERPRINTED:
            check(ok and f["tls_id"] == tls_id,
                  "%s: the farm's hello fingerprinted alike by kernel and userspace: %s" % (
                      case, {k: f.get(k) for k in ("tls_id", "tls_id_user", "tuple_id",
                                                   "tuple_id_user", "flags")}))
            check("cut" in flags, "%s: cut by the rule: %s" % (case, f["flags"]))
        if case in FLAGGED:
            check("unfingerprintable" in flags and f.get("unfp_reason") == FLAGGED[case],
                  "%s: unfingerprintable, reason %d: %s %s" % (
                      case, FLAGGED[case], f["flags"], f.get("unfp_reason")))
        if case in CONFLICT:
            check(f.get("hello_conflict") is True, "%s: a hello conflict: %s" % (case, f))
    # the decoy kernel and userspace both took first: not the farm's id
    dh = flows.get("decoy_hello", [{}])[0]
    check(dh.get("tls_id") and dh.get("tls_id") == dh.get("tls_id_user") != tls_id,
          "decoy_hello: kernel and userspace agree on the first bytes: %s" % dh.get("tls_id"))
    # the balancer's block never applies to what it wraps; the client's does
    wrapped = [f for c in ("ipip", "gre", "gue") for f in flows.get(c, [])]
    check(wrapped and all(f["client"].startswith("203.0.113.") for f in wrapped),
          "encapsulated flows keyed by their inner client: %s" % [f["client"] for f in wrapped])
    check(st.get("decap_ipip", 0) >= 3 and st.get("decap_gre", 0) >= 3 and
          st.get("decap_gue", 0) >= 3, "decapsulated per kind: %s" % {
              k: st.get(k) for k in ("decap_ipip", "decap_gre", "decap_gue")})
    check(not flows.get("blocked"), "the blocked client's SYN was dropped: no flow")
    check(st["block_drops"] == 3, "block drops: the blocked client's 3 packets only, %d" %
          st["block_drops"])
    check(st["tuple_cuts"] == len(FINGERPRINTED), "flows cut by the rule: %d of %d" % (
        st["tuple_cuts"], len(FINGERPRINTED)))
    check(rep["dropped"] == st["block_drops"] + st["tuple_drops"],
          "every drop is a block or a cut: %s" % rep)
    check(st.get("hello_conflicts", 0) >= 1 and st.get("hello_conflict", 0) >= 1,
          "conflicts counted in the kernel and the collector")
    check(st.get("hello_unseen", 0) == 2 and st.get("hello_frag", 0) == 2 and
          st.get("hello_v6ext", 0) == 1 and st.get("hello_tfo", 0) == 1,
          "unfingerprintable hellos counted by reason: %s" % {
              k: st.get(k) for k in ("hello_unseen", "hello_frag", "hello_v6ext", "hello_tfo")})
    forged = {f["client"] for f in flows.get("spoofed", [])}
    blocks = [r for r in recs if r["type"] == "decision" and r["action"] == "block_prefix"
              and r["prefix"].split("/")[0] in forged]
    check(len(forged) == 20 and not blocks, "no forged source blocked: %d" % len(blocks))
    return summary()


if __name__ == "__main__":
    sys.exit(main())
