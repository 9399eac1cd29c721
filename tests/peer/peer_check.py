#!/usr/bin/env python3
"""Peer checks: hydrascope's fingerprints against independent implementations
on the same packets.

For every capture given:
  * JA4, JA4_r, JA4_o, JA4_ro equal FoxIO's reference output
    (NAME.expected.json beside the capture) for every ClientHello of every
    TCP stream that has one (a second hello follows a HelloRetryRequest);
  * JA3 equals tshark's tls.handshake.ja3 for every ClientHello tshark sees
    at the start of a client's data, and for a second hello of the flow;
  * the Community ID of each flow equals tshark's (its communityid
    post-dissector, off by default);
  * the p0f-v3 raw signature of each SYN equals what `p0f -r` prints;
  * the tuple id the kernel accumulated equals the one userspace recomputes
    from the captured hello bytes;
  * every record validates against deploy/schema/;
  * no flow of a real capture pairs a TLS client family with an OS class it
    does not run on (a false stack_mismatch), and on the Debian clients
    capture each client gets its family (its README names the clients).
Each check is one test; the script prints one line per failure and ends with
"N passed, N failed". A missing peer tool is a failure, not a skip.
"""
import ipaddress
import json
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from checks import check, summary  # noqa: E402
import records_schema  # noqa: E402

HS = os.environ.get("HYDRASCOPE", "build/hydrascope")


def replay(cap):
    out = subprocess.run([HS, "replay", cap, "--format", "json"],
                         capture_output=True, text=True, timeout=120)
    check(out.returncode == 0, "%s: replay exit %d: %s" % (cap, out.returncode, out.stderr.strip()))
    flows = {}
    recs = [json.loads(line) for line in out.stdout.splitlines()]
    # every record of every peer capture matches deploy/schema/
    records_schema.check_all(recs, os.path.basename(cap), check)
    for o in recs:
        if o.get("type") == "flow":
            flows[(o["client"], o["cport"], o["server"], o["sport"])] = o
    return flows


def norm_ip(a):
    return ipaddress.ip_address(a).compressed


def hello_of(fl, n):
    """The fingerprints of a flow's n-th ClientHello (1: the flow's own
    fields; 2: the second, after a HelloRetryRequest), or None."""
    if fl is None:
        return None
    if n == 1:
        return fl if "ja4" in fl else None
    h = fl.get("retry_hello") if n == 2 else None
    return h if h and "ja4" in h else None


def ja4_checks(cap, flows):
    exp = cap + ".expected.json"
    if not os.path.exists(exp):
        return
    with open(exp) as f:
        streams = json.load(f)
    for s in streams:
        if "JA4.1" not in s or not s["JA4.1"].startswith("t"):
            continue  # QUIC/DTLS hellos are not TCP: out of scope
        key = (norm_ip(s["src"]), int(s["srcport"]), norm_ip(s["dst"]), int(s["dstport"]))
        fl = flows.get(key)
        # every hello of the stream: JA4.1, JA4.2 (after a HelloRetryRequest), ...
        n = 1
        while "JA4.%d" % n in s:
            name = "%s stream %s %s:%s hello %d" % (os.path.basename(cap), s["stream"], s["src"],
                                                    s["srcport"], n)
            h = hello_of(fl, n)
            check(h is not None, name + ": no JA4 from hydrascope")
            for ours, theirs in (("ja4", "JA4"), ("ja4_r", "JA4_r"), ("ja4_o", "JA4_o"),
                                 ("ja4_ro", "JA4_ro")):
                theirs += ".%d" % n
                if h is not None and theirs in s:
                    check(h[ours] == s[theirs], "%s: %s %s != %s" % (name, ours, h[ours], s[theirs]))
            n += 1
        if fl and "domain" in s:
            check(fl.get("sni") == s["domain"], "%s stream %s: sni %r != %r" % (
                os.path.basename(cap), s["stream"], fl.get("sni"), s["domain"]))


def tshark_ja3(cap):
    out = subprocess.run(["tshark", "-n", "-r", cap, "-Y", "tls.handshake.type == 1 && tcp",
                          "-T", "fields", "-e", "ip.src", "-e", "ipv6.src", "-e", "tcp.srcport",
                          "-e", "ip.dst", "-e", "ipv6.dst", "-e", "tcp.dstport",
                          "-e", "tls.handshake.ja3"],
                         capture_output=True, text=True, timeout=120)
    check(out.returncode == 0, "%s: tshark failed: %s" % (cap, out.stderr.strip()[:200]))
    res = []
    seen = {}
    for line in out.stdout.splitlines():
        f = line.split("\t")
        if len(f) < 7 or not f[6]:
            continue
        src = f[0] or f[1]
        dst = f[3] or f[4]
        key = (norm_ip(src), int(f[2]), norm_ip(dst), int(f[5]))
        # the n-th hello of the flow: a second one follows a HelloRetryRequest
        seen[key] = seen.get(key, 0) + 1
        res.append((key, seen[key], f[6].split(",")[0]))
    return res


def ja3_checks(cap, flows):
    for key, n, ja3 in tshark_ja3(cap):
        fl = flows.get(key)
        if n > 1:
            h = hello_of(fl, n)
            check(h is not None and h["ja3"] == ja3, "%s %s: hello %d ja3 %s != tshark %s" % (
                os.path.basename(cap), key, n, h["ja3"] if h else None, ja3))
            continue
        if fl is None or "ja3" not in fl:
            # tshark also decodes hellos later in a stream (after CONNECT or
            # SOCKS); hydrascope looks at a flow's first client packets only
            # when it saw its SYN or the hello opened the flow.
            if fl is not None and "nontls" in fl.get("flags", "") and fl.get("tls"):
                check(False, "%s %s: tshark ja3 %s, hydrascope none" % (os.path.basename(cap), key, ja3))
            continue
        check(fl["ja3"] == ja3, "%s %s: ja3 %s != tshark %s" % (os.path.basename(cap), key, fl["ja3"], ja3))


def community_id_checks(cap, flows):
    out = subprocess.run(["tshark", "-n", "-r", cap, "--enable-protocol", "communityid",
                          "-Y", "tcp", "-T", "fields", "-e", "ip.src", "-e", "ipv6.src", "-e", "tcp.srcport",
                          "-e", "ip.dst", "-e", "ipv6.dst", "-e", "tcp.dstport", "-e", "communityid"],
                         capture_output=True, text=True, timeout=120)
    check(out.returncode == 0, "%s: tshark communityid failed: %s" % (cap, out.stderr.strip()[:200]))
    n, seen = 0, set()
    for line in out.stdout.splitlines():
        f = line.split("\t")
        if len(f) < 7 or not f[6] or "," in line:
            continue  # tunnelled: tshark hashes each layer
        key = (norm_ip(f[0] or f[1]), int(f[2]), norm_ip(f[3] or f[4]), int(f[5]))
        if key in seen:
            continue
        seen.add(key)
        # a packet of either direction; the flow is keyed client first
        fl = flows.get(key) or flows.get((key[2], key[3], key[0], key[1]))
        if fl is None:
            continue
        n += 1
        check(fl.get("community_id") == f[6], "%s %s: community_id %s != tshark %s" % (
            os.path.basename(cap), key, fl.get("community_id"), f[6]))
    if any(flows):
        check(n > 0, "%s: no flow to compare Community IDs on" % os.path.basename(cap))


def p0f_checks(cap, flows):
    with tempfile.TemporaryDirectory() as d:
        log = os.path.join(d, "p0f.log")
        out = subprocess.run(["p0f", "-r", cap, "-o", log], capture_output=True, text=True, timeout=120)
        check(out.returncode == 0, "%s: p0f failed: %s" % (cap, out.stderr.strip()[:200]))
        lines = open(log).read().splitlines() if os.path.exists(log) else []
    for line in lines:
        if "|subj=cli|" not in line or "raw_sig=" not in line or "mod=syn|" not in line:
            continue
        m = re.search(r"\|cli=([^|]+)/(\d+)\|srv=([^|]+)/(\d+)\|", line)
        sig = re.search(r"raw_sig=([^|]+)", line).group(1)
        key = (norm_ip(m.group(1)), int(m.group(2)), norm_ip(m.group(3)), int(m.group(4)))
        fl = flows.get(key)
        name = "%s %s:%s" % (os.path.basename(cap), m.group(1), m.group(2))
        check(fl is not None and fl.get("tcp_sig") == sig,
              "%s: tcp_sig %s != p0f %s" % (name, fl.get("tcp_sig") if fl else None, sig))


def tuple_checks(cap, flows):
    for key, fl in flows.items():
        if "tuple_id_user" in fl or "tuple_id" in fl:
            check(fl.get("tuple_id") == fl.get("tuple_id_user"),
                  "%s %s: kernel tuple %s != userspace %s" % (os.path.basename(cap), key,
                                                             fl.get("tuple_id"), fl.get("tuple_id_user")))
        if "tls_id_user" in fl or "tls_id" in fl:
            check(fl.get("tls_id") == fl.get("tls_id_user"),
                  "%s %s: kernel TLS id %s != userspace %s" % (os.path.basename(cap), key,
                                                              fl.get("tls_id"), fl.get("tls_id_user")))


# ../shared/testdata/clients/README.md: curl and openssl s_client (OpenSSL,
# 31 suites), gnutls-cli (29), Chromium 156 (15), Firefox ESR (16)
DEBIAN_CLIENTS = {"31": "openssl", "29": "gnutls", "15": "chromium", "16": "firefox"}


def family_checks(cap, flows):
    name = os.path.basename(cap)
    for key, fl in flows.items():
        if "stack_implausibility" in fl:
            check(fl["stack_implausibility"] < 0.5,
                  "%s %s: %s on %s looks implausible (%s)" % (name, key, fl["client_family"],
                                                             fl["os_class"], fl["stack_implausibility"]))
    if name != "debian-clients.pcap":
        return
    seen = set()
    for key, fl in flows.items():
        if "ja4" in fl:
            want = DEBIAN_CLIENTS.get(fl["ja4"][4:6])
            seen.add(want)
            check(fl["client_family"] == want, "%s %s: family %s, the client is %s" % (
                name, key, fl["client_family"], want))
    check(seen == set(DEBIAN_CLIENTS.values()), "%s: clients seen %s" % (name, seen))


def main(caps):
    for cap in caps:
        flows = replay(cap)
        ja4_checks(cap, flows)
        ja3_checks(cap, flows)
        community_id_checks(cap, flows)
        p0f_checks(cap, flows)
        tuple_checks(cap, flows)
        family_checks(cap, flows)
    return summary()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
