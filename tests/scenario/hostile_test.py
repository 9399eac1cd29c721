#!/usr/bin/env python3
"""The hostile-packet corpus (tools/gen-hostile.py, >= 200 frames) replayed
through the product: every frame runs and passes (nothing is dropped
without a block), every counter adds up (each frame lands in exactly one
parse outcome, each category in the counter it must move), hostile hellos
are counted and never break the kernel/userspace tuple agreement, and the
process exits cleanly. Ends with "N passed, N failed"."""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from checks import check, summary, workdir  # noqa: E402

HS = os.environ.get("HYDRASCOPE", "build/hydrascope")
PARSE = ("non_ip", "err_eth", "err_vlan", "vlan_limit", "err_ipv4", "err_ipv6", "ipv6_ext_limit",
         "ip_frag", "non_tcp", "err_tcp", "err_decap", "tcp_packets")


def main():
    with workdir("hostile") as d:
        return run(d)


def run(d):
    cap = os.path.join(d, "hostile.pcap")
    subprocess.run([sys.executable, "tools/gen-hostile.py", cap], check=True)
    exp = json.load(open(cap + ".expect.json"))
    cat = exp["categories"]
    p = subprocess.run([HS, "replay", cap, "--local-net", "198.51.100.10/32",
                        "--local-net", "2001:db8::10/128", "--format", "json"],
                       capture_output=True, text=True, timeout=120)
    check(p.returncode == 0, "replay exit %d: %s" % (p.returncode, p.stderr.strip()[:200]))
    recs = [json.loads(l) for l in p.stdout.splitlines()]
    rep = next(r for r in recs if r["type"] == "replay")
    st = next(r for r in recs if r["type"] == "stats")
    flows = [r for r in recs if r["type"] == "flow"]

    check(exp["frames"] >= 200, "the corpus has %d frames, fewer than 200" % exp["frames"])
    check(rep["not_run"] == 0 and rep["truncated"] == 0, "frames not run: %s" % rep)
    check(rep["ingress"] == exp["ingress"] and rep["passed"] == rep["ingress"] and rep["dropped"] == 0,
          "every ingress frame passes: %s" % rep)
    check(st["xdp_packets"] == rep["ingress"] and st["tc_packets"] == rep["egress"],
          "the datapath saw every frame: xdp %d of %d, tc %d of %d" % (
              st["xdp_packets"], rep["ingress"], st["tc_packets"], rep["egress"]))
    outcomes = sum(st[k] for k in PARSE)
    check(outcomes == st["xdp_packets"], "each frame in one parse outcome: %d != %d" % (
        outcomes, st["xdp_packets"]))
    for counter, c in (("vlan_limit", "vlan_too_deep"), ("ipv6_ext_limit", "v6_ext_too_long"),
                       ("ip_frag", "fragments"), ("non_ip", "non_ip"), ("non_tcp", "non_tcp")):
        check(st[counter] == cat[c], "%s: %d, the corpus has %d %s frames" % (
            counter, st[counter], cat[c], c))
    malformed = cat["trunc_v4"] + cat["trunc_v6"] + cat["lying_v4"] + cat["lying_tcp"]
    errors = st["err_ipv4"] + st["err_ipv6"] + st["err_tcp"] + st["err_eth"]
    check(errors == malformed, "truncated and lying frames counted as errors: %d of %d" % (
        errors, malformed))
    hello_in = sum(v for k, v in cat.items() if k.startswith("hello_") and not k.endswith("_egress"))
    deep = cat["vlan_nested"] + cat["v6_ext_chain"]  # within the walked bounds
    check(st["tcp_packets"] == cat["syn_options"] + hello_in + deep,
          "parsed TCP frames: %d, expected %d" % (st["tcp_packets"], cat["syn_options"] + hello_in + deep))
    check(st["err_tcp_opt"] == 4, "malformed SYN option sets counted: %d of 4" % st["err_tcp_opt"])
    check(st["hello_item_cap"] == 2, "hellos past the item cap: %d of 2" % st["hello_item_cap"])
    check(st["hello_ooo"] >= 1, "the retransmitted hello segment is counted")
    check(st["hello_bad"] >= 1, "malformed hellos are counted by the kernel walker")
    check(st["tls_flows"] == 11, "eleven hostile hello flows seen as TLS: %d" % st["tls_flows"])
    errs = sum(v for k, v in st.items() if k.startswith("hello_error_"))
    check(errs + st["hellos_parsed"] >= 11, "every hostile hello reported, parsed or with a reason")
    # cut over records or many segments: JA4 and both ids, kernel == userspace
    for port in (41009, 41010):
        fl = [f for f in flows if f.get("cport") == port]
        check(fl and fl[0].get("ja4") and fl[0].get("tuple_id")
              and fl[0].get("tuple_id") == fl[0].get("tuple_id_user")
              and fl[0].get("tls_id") == fl[0].get("tls_id_user"),
              "hello on port %d fingerprinted by kernel and userspace alike: %s" % (
                  port, {k: fl[0].get(k) for k in ("ja4", "tuple_id", "tuple_id_user", "tls_id",
                                                    "tls_id_user", "flags")} if fl else None))
    bad_sigs = [f for f in flows if ",bad:" in f.get("tcp_sig", "") or ":bad:" in f.get("tcp_sig", "")]
    check(len(bad_sigs) == 4, "four SYN signatures carry the bad quirk: %d" % len(bad_sigs))
    mism = [f for f in flows if "tuple_id" in f and "tuple_id_user" in f
            and f["tuple_id"] != f["tuple_id_user"]]
    check(not mism, "kernel and userspace tuple ids agree on hostile hellos: %s" % mism[:2])
    return summary()


if __name__ == "__main__":
    sys.exit(main())
