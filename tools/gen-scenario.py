#!/usr/bin/env python3
"""Labelled scenario captures for the correlator's tests (stdlib only).

Writes a pcap of TCP/TLS flows seen at an ingress host (server
198.51.100.10:443) and a JSON label file beside it (OUT.labels.json) that
maps every source address to its population. Timings are those the design
measured on real relays: with a relay in the path TCP ends at the exit node,
so the TLS round trip and the ACK->ClientHello delay grow by the detour,
while the TCP round trip stays the exit node's.

Populations (sizes scale with --scale):
  farm       one client stack (one hello) behind relays: many exit nodes
             over many /24s, detour 60-120 ms, one request per connection
             every 2.0 s +- 1 %
  browsers   real users sharing that same hello: direct, human cadence
  nat        one corporate NAT address: many users, several stacks, human
  health     one health checker: perfectly regular, direct, one address
  vpn        a user on a VPN: small MSS, one more hop, human cadence
"""
import argparse
import json
import random
import struct

SERVER = bytes([198, 51, 100, 10])
SPORT = 443


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def ipv4_tcp(src, dst, sport, dport, seq, ack, flags, payload=b"", opts=b"",
             ttl=64, win=64240, ipid=1):
    tcp_len = 20 + len(opts)
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF,
                      (tcp_len // 4) << 4, flags, win, 0, 0) + opts + payload
    pseudo = src + dst + struct.pack("!BBH", 0, 6, len(tcp))
    tcp = tcp[:16] + struct.pack("!H", csum(pseudo + tcp)) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), ipid, 0x4000, ttl, 6, 0,
                     src, dst)
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    eth = b"\x02\0\0\0\0\x01" + b"\x02\0\0\0\0\x02" + b"\x08\x00"
    return eth + ip + tcp


def syn_opts(mss):
    # mss, sok, ts, nop, ws 7: a Linux client
    return struct.pack("!BBH", 2, 4, mss) + b"\x04\x02" + b"\x08\x0a" + \
        b"\0\0\0\x01\0\0\0\0" + b"\x01\x03\x03\x07"


def client_hello(ciphers, exts, sni):
    body = b"\x03\x03" + bytes(32) + b"\x20" + bytes(32)
    body += struct.pack("!H", 2 * len(ciphers)) + b"".join(struct.pack("!H", c) for c in ciphers)
    body += b"\x01\x00"
    ext = b""
    for e in exts:
        if e == 0:
            name = sni.encode()
            data = struct.pack("!HBH", len(name) + 3, 0, len(name)) + name
        elif e == 0x10:
            data = b"\x00\x0c\x02h2\x08http/1.1"
        elif e == 0x2b:
            data = b"\x04\x03\x04\x03\x03"
        elif e == 0x0d:
            data = b"\x00\x04\x04\x03\x08\x04"
        else:
            data = b"\x00\x02\x00\x1d" if e == 0x0a else b""
        ext += struct.pack("!HH", e, len(data)) + data
    body += struct.pack("!H", len(ext)) + ext
    hs = b"\x01" + struct.pack("!I", len(body))[1:] + body
    return b"\x16\x03\x01" + struct.pack("!H", len(hs)) + hs


STACK_A = ([0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9],
           [0x0000, 0x000a, 0x000b, 0x000d, 0x0010, 0x0017, 0x002b, 0x0033])
STACK_B = ([0x1302, 0x1303, 0x1301, 0xc02c, 0xc030], [0x0000, 0x000a, 0x000d, 0x002b, 0x0033])
STACK_C = ([0x1301, 0x1303, 0xc02b, 0x009c], [0x0000, 0x000a, 0x000d, 0x0010, 0x002b])


class Writer:
    def __init__(self):
        self.pkts = []

    def add(self, t, frame):
        self.pkts.append((t, frame))

    def save(self, path):
        self.pkts.sort(key=lambda p: p[0])
        with open(path, "wb") as f:
            f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
            for t, fr in self.pkts:
                sec = int(t)
                usec = int(round((t - sec) * 1e6))
                if usec >= 1000000:
                    sec, usec = sec + 1, usec - 1000000
                f.write(struct.pack("<IIII", sec, usec, len(fr), len(fr)) + fr)


def flow(w, t0, src, cport, stack, tcp_rtt, detour, requests, req_gap, mss=1460,
         ttl=64, req_size=300, resp_size=1200, rng=None):
    """One TLS connection seen at the server. Returns its end time."""
    c_isn, s_isn = rng.randrange(1 << 32), rng.randrange(1 << 32)
    hello = client_hello(stack[0], stack[1], "api.example.test")
    c, s = c_isn + 1, s_isn + 1
    t = t0
    w.add(t, ipv4_tcp(src, SERVER, cport, SPORT, c_isn, 0, 0x02, opts=syn_opts(mss), ttl=ttl))
    w.add(t + 0.00002, ipv4_tcp(SERVER, src, SPORT, cport, s_isn, c, 0x12, ttl=64))
    t_ack = t + tcp_rtt
    w.add(t_ack, ipv4_tcp(src, SERVER, cport, SPORT, c, s, 0x10, ttl=ttl))
    # the hello leaves the client once it learns its tunnel is up
    t_hello = t_ack + detour + 0.001
    w.add(t_hello, ipv4_tcp(src, SERVER, cport, SPORT, c, s, 0x18, hello, ttl=ttl))
    c += len(hello)
    t_srv = t_hello + 0.0005
    flight = bytes(1400)
    w.add(t_srv, ipv4_tcp(SERVER, src, SPORT, cport, s, c, 0x18, flight))
    s += len(flight)
    t_cli = t_srv + tcp_rtt + detour + 0.001
    t = t_cli
    for i in range(requests):
        req = bytes(req_size)
        w.add(t, ipv4_tcp(src, SERVER, cport, SPORT, c, s, 0x18, req, ttl=ttl))
        c += len(req)
        resp = bytes(resp_size)
        w.add(t + 0.01, ipv4_tcp(SERVER, src, SPORT, cport, s, c, 0x18, resp))
        s += len(resp)
        t += req_gap() if i + 1 < requests else 0
    w.add(t + 0.02, ipv4_tcp(src, SERVER, cport, SPORT, c, s, 0x11, ttl=ttl))
    return t + 0.02


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--scale", type=int, default=1)
    ap.add_argument("--seed", type=int, default=7)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    w = Writer()
    labels = {}
    n = 24 * a.scale

    # farm: exit nodes in many /24s, each used a few times, robotic period
    t = 1000.0
    for i in range(n):
        src = bytes([100, 64 + i // 250, i % 250, 7])
        labels[".".join(map(str, src))] = "farm"
        for k in range(3):
            flow(w, t + i * 0.37 + k * 2.0, src, 40000 + k, STACK_A,
                 tcp_rtt=rng.uniform(0.015, 0.040), detour=rng.uniform(0.060, 0.120),
                 requests=1, req_gap=lambda: 0, rng=rng, req_size=420)
    # browsers: the same stack, direct, human think times, many /24s
    for i in range(n):
        src = bytes([172, 16 + (i >> 16), (i >> 8) & 255, i & 255])
        labels[".".join(map(str, src))] = "browser"
        start = 1000.0 + rng.uniform(0, 20)
        flow(w, start, src, 50000, STACK_A, tcp_rtt=rng.uniform(0.01, 0.06),
             detour=0.0005, requests=7, rng=rng,
             req_gap=lambda: rng.choice([0.4, 1.5, 3.0, 8.0, 12.0]) * rng.uniform(0.5, 1.5),
             req_size=rng.randrange(200, 3000))
    # corporate NAT: one address, many users with several stacks
    nat = bytes([192, 0, 2, 1])
    labels["192.0.2.1"] = "nat"
    for u in range(3 * n):
        stack = [STACK_A, STACK_B, STACK_C][u % 3]
        flow(w, 1000.0 + rng.uniform(0, 30), nat, 20000 + u, stack,
             tcp_rtt=0.03, detour=0.0007, requests=2, rng=rng,
             req_gap=lambda: rng.uniform(0.5, 9.0), req_size=rng.randrange(200, 2000))
    # health checker: perfectly regular, direct
    hc = bytes([203, 0, 113, 50])
    labels["203.0.113.50"] = "health"
    for k in range(20):
        flow(w, 1000.0 + k * 1.0, hc, 30000 + k, STACK_C, tcp_rtt=0.002,
             detour=0.0003, requests=1, req_gap=lambda: 0, rng=rng, req_size=80)
    # a user on a VPN: tunnel MSS, one more hop, human
    vpn = bytes([203, 0, 113, 77])
    labels["203.0.113.77"] = "vpn"
    flow(w, 1001.0, vpn, 31000, STACK_B, tcp_rtt=0.05, detour=0.0008, requests=6,
         rng=rng, req_gap=lambda: rng.uniform(1.0, 10.0), mss=1360, ttl=63)
    w.save(a.out)
    with open(a.out + ".labels.json", "w") as f:
        json.dump({"server": "198.51.100.10", "sources": labels}, f, indent=1)


if __name__ == "__main__":
    main()
