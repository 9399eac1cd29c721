#!/usr/bin/env python3
"""Spoofed-source capture (stdlib only): can forged packets turn the
blocking layer against innocent addresses? Writes OUT (pcap, server
198.51.100.10:443), OUT.labels.json (address -> population) and
OUT.networks.json (for tools/gen-asn-db.pl).

Populations:
  spoofed   --spoofed forged residential addresses over 16 /16s of
            residential ISPs, half of them crowded into one /16. Each sends
            what a raw socket can without seeing the server's answers: two
            connections of a SYN from a Windows stack (the server's SYN-ACK
            goes out to the forged address, which never answers it) and the
            real farm's ClientHello at seq = ISN + 1 with ACK set but a
            guessed acknowledgement number, then a request. Every forged
            connection carries the farm's exact hello, so the forged sources
            look like exit nodes of the same farm (stack mismatch, one
            fingerprint over many /24s).
  farm_res  the real offender: a scripted client behind residential proxies
            (tools/gen-scenario.py's farm) that completes its handshakes,
            with the relay detour; it starts after the flood has begun.
            It also forges --shield SYNs with a request from each of its
            own exits' addresses: more connections than a low-volume exit
            has (cluster_max_source_flows), to pass as a busy NAT and
            leave the farm.
  victim    --victims residential users, one real browser connection each;
            a forger sends from each address a SYN and a request every
            second, as evenly as a script (robotic cadence): what forged
            packets alone would make of an innocent address.
"""
import argparse
import importlib.util
import json
import os
import random

_spec = importlib.util.spec_from_file_location(
    "scenario", os.path.join(os.path.dirname(os.path.abspath(__file__)), "gen-scenario.py"))
sc = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(sc)

T0 = 1200.0


def spoofed_flow(w, rng, src, cport, hello, t):
    """SYN, the server's SYN-ACK to the forged address, the hello and one
    request; no handshake ACK (the forger never saw the server's ISN)."""
    syn_opts, ittl, win = sc.STACKS["windows"]
    ttl = ittl - rng.randrange(8, 18)
    c, s = rng.randrange(1 << 32), rng.randrange(1 << 32)
    guess = rng.randrange(1 << 32)

    def cli(t, flags, seq, ack, payload=b"", opts=b""):
        w.add(t, sc.ipv4_tcp(src, sc.SERVER, cport, sc.SPORT, seq, ack, flags, payload, opts,
                             ttl=ttl, win=win))

    cli(t, 0x02, c, 0, opts=syn_opts(1460))
    w.add(t + 0.00002, sc.ipv4_tcp(sc.SERVER, src, sc.SPORT, cport, s, c + 1, 0x12, ttl=64))
    if hello:
        cli(t + 0.001, 0x18, c + 1, guess, hello)
    cli(t + 0.002, 0x18, c + 1 + len(hello), guess, bytes(420))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--spoofed", type=int, default=3000)
    ap.add_argument("--farm", type=int, default=60)
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--shield", type=int, default=25)
    ap.add_argument("--victims", type=int, default=30)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    w = sc.Writer()
    labels, nets = {}, {}
    port = [20000]

    def nport():
        port[0] = port[0] + 1 if port[0] < 65000 else 20000
        return port[0]

    def hello(sni="api.example.test"):
        c, e, alpn = sc.SCRIPT
        return sc.client_hello(c, e, sni, alpn, rng)

    for b in range(16):
        nets["100.%d.0.0/16" % (80 + b)] = {"asn": 65100 + b, "org": "Home ISP %d" % b,
                                            "class": "residential"}
    # the flood: 60 s, forged sources spread thin and crowded into 100.80/16
    for i in range(a.spoofed):
        b = 0 if i % 2 else 1 + i % 15
        src = bytes([100, 80 + b, (i // 250) % 256, 1 + i % 250])
        labels[sc.dotted(src)] = "spoofed"
        t = T0 + 60.0 * i / a.spoofed
        for k in range(2):
            spoofed_flow(w, rng, src, nport(), hello(), t + k * 2.0)

    # the real farm: exit nodes over many /24s of residential ISPs, from
    # 30 s into the flood, each makes three relayed connections 2 s apart
    for i in range(a.farm):
        src = bytes([100, 64 + i // 250, i % 250, 7])
        labels[sc.dotted(src)] = "farm_res"
        nets["100.64.%d.0/24" % i] = {"asn": 64501 + i % 10, "org": "Home ISP %d" % (i % 10),
                                      "class": "residential"}
        stack = "windows" if i % 2 else "linux"
        detour = rng.uniform(0.040, 0.120)
        s0 = T0 + 30 + i * 2.0
        for k in range(3):
            sc.Flow(w, rng, src, nport(), hello(), stack=stack, hops=rng.randrange(6, 18),
                    tcp_rtt=rng.uniform(0.015, 0.040), detour=detour).run(
                        s0 + k * 2.0, [(0, int(420 * rng.uniform(0.98, 1.02)))])
        for k in range(a.shield):
            spoofed_flow(w, rng, src, nport(), b"", s0 + 0.5 + k * 0.2)

    # innocent residential users, each with one real connection and a
    # forger's robotic train from its address
    for i in range(a.victims):
        src = bytes([100, 96, i, 20])
        labels[sc.dotted(src)] = "victim"
        nets["100.96.%d.0/24" % i] = {"asn": 65200, "org": "Home ISP V", "class": "residential"}
        c, e, alpn = sc.CHROME
        sc.Flow(w, rng, src, nport(), sc.client_hello(c, e, "www.example.test", alpn, rng,
                                                      shuffle=True),
                stack="windows", hops=12, tcp_rtt=0.02).run(T0 + 5 + i, [(0, 600)])
        for k in range(10):
            spoofed_flow(w, rng, src, nport(), b"", T0 + 10 + i + k * 1.0)

    w.save(a.out)
    with open(a.out + ".labels.json", "w") as f:
        json.dump({"server": "198.51.100.10", "start": T0, "sources": labels}, f, indent=1)
    with open(a.out + ".networks.json", "w") as f:
        json.dump(nets, f, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
