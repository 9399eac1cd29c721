#!/usr/bin/env python3
"""Labelled scenario captures for the correlator's tests (stdlib only).

Writes OUT (a pcap of TCP/TLS flows seen at an ingress host, server
198.51.100.10:443), OUT.labels.json (every source address -> population,
and the scenario's key times) and OUT.networks.json (prefix -> AS number,
organisation and network class, for tools/gen-asn-db.pl).

Timings follow what real relays do: with a relay in the path TCP ends at
the exit node, so the TLS round trip and the ACK->ClientHello delay both
grow by the detour while the TCP round trip stays the exit node's.

Populations (sizes scale with --scale):
  farm_res    a scripted client (OpenSSL-like hello) behind residential
              proxies: exit nodes over many /24s of residential ISPs, half
              Linux (home routers, phones), half Windows (proxyware PCs);
              detour 40-120 ms; one templated request per connection every
              2 s; each exit node used ~4 s then replaced (rotation), some
              come back later; the campaign moves to a new endpoint (SNI)
              330 s in (pivot)
  farm_dc     a scripted client (Go-like hello) on cloud hosts over eight
              /24s, direct, robotic
  browser     real users sharing one popular Chromium hello (extension
              order shuffled per connection), direct, human think times and
              request sizes, over many /24s
  nat         one corporate NAT address: many users, several stacks
  cgnat       one mobile-carrier CGNAT address: many phones, 80-200 ms RTT
              with +-40 ms jitter between samples
  sdk         API customers whose SDK has the farm's exact client stack
              (same hello, same Linux TCP stack), direct; two high-volume,
              one low-volume
  corp_proxy  an explicit corporate proxy: TCP from the proxy (Linux), the
              hellos of the employees (Chromium, SChannel, Safari), a real
              but small relay detour (2-4 ms)
  vpn         a user on a VPN: tunnel MSS, one more hop
  health      a health checker, perfectly regular

--mix variety (held-out traffic the correlator was not tuned on; sizes set by
--farm, --mimic, --benign; defaults 500 / 300 / 5000):
  farm_rot    a scripted client (OpenSSL-like hello) through rotating
              residential exits: each exit makes 1-5 connections (60 % ONE),
              one templated request each, on the worker's period; exit
              devices run Windows, Android, Linux, PPPoE Linux (MSS 1452) or
              old embedded stacks (TTL 255, ECN); detours 5-120 ms (half on
              5/10/20/50/100 ms exactly, for the per-detour table); the
              campaign pivots to a new endpoint half-way
  farm_direct the same script on a few cloud VMs, direct (no relay): same
              period, request sizes, endpoints and times (linked members)
  farm_mimic  a farm sending a current Chromium's exact ClientHello
              (post-quantum key share, two segments, shuffled extensions)
              through rotating exits of every OS, detours 8-40 ms, with
              headless Chromium's own TLS processing (10-40 ms)
  browser     Chromium (current hello, mostly), Firefox, Safari users on
              Windows, macOS, Linux and Android stacks; human think times;
              TLS processing by family; a few busy hosts send the hello a
              few ms late; mobile users on jittery paths (+-30 ms)
  sdk         API customers whose SDK is the farm's exact client stack, in
              their own cloud /24s, each with its own period (some with the
              farm's period but other requests, some with its requests but
              another period) and its own request sizes
  api         Go and Java API clients (20 ms TLS processing), regular or not
  nat, cgnat, corp_proxy, vpn, health  as above (several health checkers)
labels: sources (population), detour_ms (relayed sources), first (time of
each source's first connection).
"""
import argparse
import datetime
import json
import math
import random
import struct

from pktlib import csum, write_pcap

SERVER = bytes([198, 51, 100, 10])
SPORT = 443
T0 = 1200.0  # scenario time of the start: a multiple of the default 300 s window
# The capture's clock: scenario time + (start - T0). Whole seconds and a
# multiple of an hour, so packet times keep their microseconds exactly and
# every window boundary falls where it falls in scenario time.
DEFAULT_START = "2026-03-02T09:00:00Z"




def ipv4_tcp(src, dst, sport, dport, seq, ack, flags, payload=b"", opts=b"",
             ttl=64, win=64240, df=True):
    tcp_len = 20 + len(opts)
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF,
                      (tcp_len // 4) << 4, flags, win, 0, 0) + opts + payload
    pseudo = src + dst + struct.pack("!BBH", 0, 6, len(tcp))
    tcp = tcp[:16] + struct.pack("!H", csum(pseudo + tcp)) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 1, 0x4000 if df else 0,
                     ttl, 6, 0, src, dst)
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    eth = b"\x02\0\0\0\0\x01" + b"\x02\0\0\0\0\x02" + b"\x08\x00"
    return eth + ip + tcp


# ---- TCP stacks (SYN options, window, initial TTL) ------------------------

def linux_syn(mss):
    return (struct.pack("!BBH", 2, 4, mss) + b"\x04\x02" + b"\x08\x0a" +
            b"\0\0\0\x01\0\0\0\0" + b"\x01\x03\x03\x07")


def windows_syn(mss):
    return struct.pack("!BBH", 2, 4, mss) + b"\x01\x03\x03\x08" + b"\x01\x01\x04\x02"


def darwin_syn(mss):
    return (struct.pack("!BBH", 2, 4, mss) + b"\x01\x03\x03\x06" + b"\x01\x01" +
            b"\x08\x0a\0\0\0\x01\0\0\0\0" + b"\x04\x02\x00\x00")


def android_syn(mss):
    return (struct.pack("!BBH", 2, 4, mss) + b"\x04\x02" + b"\x08\x0a" +
            b"\0\0\0\x01\0\0\0\0" + b"\x01\x03\x03\x09")


def embedded_syn(mss):
    # old embedded Linux 2.4 / busybox: MSS, SACK, no timestamps, small window
    return struct.pack("!BBH", 2, 4, mss) + b"\x01\x01\x04\x02"


STACKS = {
    "linux": (linux_syn, 64, 64240),
    "windows": (windows_syn, 128, 64240),
    "darwin": (darwin_syn, 64, 65535),
    "android": (android_syn, 64, 65535),
    "embedded": (embedded_syn, 255, 5840),
}

# ---- ClientHellos ----------------------------------------------------------

GREASE = 0x0A0A


def ext_body(e, sni, alpn, pq=False):
    if e == 0x0000:
        name = sni.encode()
        return struct.pack("!HBH", len(name) + 3, 0, len(name)) + name
    if e == 0x0010:
        lst = b"".join(bytes([len(a)]) + a.encode() for a in alpn)
        return struct.pack("!H", len(lst)) + lst
    if e == 0x002B:
        return b"\x04\x03\x04\x03\x03"
    if e == 0x000D or e == 0x0022:
        return b"\x00\x08\x04\x03\x08\x04\x04\x01\x05\x03"
    if e == 0x000A:
        return b"\x00\x06\x00\x1d\x00\x17\x00\x18"
    if e == 0x000B:
        return b"\x01\x00"
    if e == 0x0033 and pq:
        # X25519MLKEM768 (1216 bytes) and X25519, as current Chromium sends
        ks = struct.pack("!HH", 0x11EC, 1216) + bytes(1216) + struct.pack("!HH", 0x001D, 32) + bytes(32)
        return struct.pack("!H", len(ks)) + ks
    if e == 0x0033:
        return struct.pack("!HHH", 36, 0x001D, 32) + bytes(range(32))
    if e == 0x000A and pq:
        return b"\x00\x0a\x0a\x0a\x11\xec\x00\x1d\x00\x17\x00\x18"
    if e == 0x44CD:
        return b"\x00\x03\x02h2"
    if e == 0xFE0D:
        return b"\x00\x00\x01\x00\x01\x9a\x00\x20" + bytes(32) + b"\x00\xd0" + bytes(208)
    if e == 0x002D:
        return b"\x01\x01"
    if e == 0x0005:
        return b"\x01\x00\x00\x00\x00"
    if e == 0xFF01:
        return b"\x00"
    if e == 0x001B:
        return b"\x02\x00\x02"
    if e == 0x001C:
        return b"\x40\x01"
    if e == 0x4469:
        return b"\x00\x03\x02h2"
    if e == 0x0015:
        return bytes(40)
    return b""


def client_hello(ciphers, exts, sni, alpn, rng=None, shuffle=False, pq=False):
    exts = list(exts)
    if shuffle and rng:
        # Chromium randomises the order of its extensions (not GREASE)
        inner = [e for e in exts if e != GREASE]
        rng.shuffle(inner)
        exts = [GREASE] + inner + [GREASE]
    body = b"\x03\x03" + bytes(32) + b"\x20" + bytes(32)
    body += struct.pack("!H", 2 * len(ciphers)) + b"".join(struct.pack("!H", c) for c in ciphers)
    body += b"\x01\x00"
    ext = b""
    for e in exts:
        if e == 0x0000 and not sni:
            continue
        data = ext_body(e, sni, alpn, pq)
        ext += struct.pack("!HH", e, len(data)) + data
    body += struct.pack("!H", len(ext)) + ext
    hs = b"\x01" + struct.pack("!I", len(body))[1:] + body
    return b"\x16\x03\x01" + struct.pack("!H", len(hs)) + hs


# OpenSSL 3 defaults (python requests, curl): TLS 1.3 suites first, EtM
SCRIPT = ([0x1302, 0x1303, 0x1301, 0xC02C, 0xC030, 0x009F, 0xCCA9, 0xCCA8, 0xCCAA,
           0xC02B, 0xC02F, 0x009E, 0xC024, 0xC028, 0x006B, 0xC023, 0xC027, 0x0067,
           0xC00A, 0xC014, 0x0039, 0xC009, 0xC013, 0x0033, 0x009D, 0x009C, 0x003D,
           0x003C, 0x0035, 0x002F, 0x00FF],
          [0x0000, 0x000B, 0x000A, 0x0023, 0x0010, 0x0016, 0x0017, 0x000D, 0x002B,
           0x002D, 0x0033], ["http/1.1"])
# Go crypto/tls: TLS 1.3 suites appended last
GO = ([0xC02B, 0xC02F, 0xC02C, 0xC030, 0xCCA9, 0xCCA8, 0xC009, 0xC013, 0xC00A,
       0xC014, 0x009C, 0x009D, 0x002F, 0x0035, 0xC012, 0x000A, 0x1301, 0x1302, 0x1303],
      [0x0000, 0x0005, 0x000A, 0x000B, 0x000D, 0xFF01, 0x0012, 0x0010, 0x0017,
       0x002B, 0x0033, 0x002D], ["h2", "http/1.1"])
# Chromium: GREASE, ALPS, compressed certificates
CHROME = ([GREASE, 0x1301, 0x1302, 0x1303, 0xC02B, 0xC02F, 0xC02C, 0xC030, 0xCCA9,
           0xCCA8, 0xC013, 0xC014, 0x009C, 0x009D, 0x002F, 0x0035],
          [GREASE, 0x0000, 0x0017, 0xFF01, 0x000A, 0x000B, 0x0023, 0x0010, 0x0005,
           0x000D, 0x0012, 0x0033, 0x002D, 0x002B, 0x001B, 0x4469, GREASE],
          ["h2", "http/1.1"])
# Apple: GREASE, no ALPS, keeps ECDHE-CBC suites
SAFARI = ([GREASE, 0x1301, 0x1302, 0x1303, 0xC02C, 0xC02B, 0xCCA9, 0xC030, 0xC02F,
           0xCCA8, 0xC00A, 0xC009, 0xC014, 0xC013, 0x009D, 0x009C, 0x0035, 0x002F,
           0xC008, 0xC012, 0x000A],
          [GREASE, 0x0000, 0x0017, 0xFF01, 0x000A, 0x000B, 0x0010, 0x0005, 0x000D,
           0x0012, 0x0033, 0x002D, 0x002B, 0x001B, 0x0015, GREASE], ["h2", "http/1.1"])
# Windows SChannel: no ChaCha20
SCHANNEL = ([0x1302, 0x1301, 0xC02C, 0xC02B, 0xC030, 0xC02F, 0xC024, 0xC023, 0xC028,
             0xC027, 0xC00A, 0xC009, 0xC014, 0xC013, 0x009D, 0x009C, 0x003D, 0x003C,
             0x0035, 0x002F, 0x000A],
            [0x0000, 0x0005, 0x000A, 0x000B, 0x000D, 0x0023, 0x0010, 0x0017, 0x002B,
             0x002D, 0x0033, 0xFF01], ["h2", "http/1.1"])
# Chromium 131+: ML-KEM key share, new ALPS codepoint, ECH GREASE
CHROME_PQ = ([GREASE, 0x1301, 0x1302, 0x1303, 0xC02B, 0xC02F, 0xC02C, 0xC030, 0xCCA9,
              0xCCA8, 0xC013, 0xC014, 0x009C, 0x009D, 0x002F, 0x0035],
             [GREASE, 0x0000, 0x0017, 0xFF01, 0x000A, 0x000B, 0x0023, 0x0010, 0x0005,
              0x000D, 0x0012, 0x0033, 0x002D, 0x002B, 0x001B, 0x44CD, 0xFE0D, GREASE],
             ["h2", "http/1.1"])
FIREFOX = ([0x1301, 0x1303, 0x1302, 0xC02B, 0xC02F, 0xCCA9, 0xCCA8, 0xC02C, 0xC030,
            0xC00A, 0xC009, 0xC013, 0xC014, 0x009C, 0x009D, 0x002F, 0x0035],
           [0x0000, 0x0017, 0xFF01, 0x000A, 0x000B, 0x0023, 0x0010, 0x0005, 0x0022,
            0x0033, 0x002B, 0x000D, 0x002D, 0x001C], ["h2", "http/1.1"])


class Writer:
    def __init__(self, offset=0):
        self.pkts = []
        self.offset = offset  # whole seconds added at save time

    def add(self, t, frame):
        self.pkts.append((t, frame))

    def save(self, path):
        write_pcap(path, self.pkts, self.offset)


class Flow:
    """One TLS connection as seen at the server."""

    def __init__(self, w, rng, src, cport, hello, stack="linux", hops=10, mss=1460,
                 tcp_rtt=0.02, detour=0.0, jitter=0.0, proc=0.0005, tls_proc=None,
                 ecn=False):
        self.w, self.rng, self.src, self.cport = w, rng, src, cport
        syn_opts, ittl, self.win = STACKS[stack]
        self.mss, self.syn_flags = mss, 0xC2 if ecn else 0x02
        # proc: connect() -> hello (ACK->hello); tls_proc: server flight ->
        # the client's next flight (certificate checks etc.), proc if unset
        self.tls_proc = proc if tls_proc is None else tls_proc
        self.syn_opts, self.ttl = syn_opts(mss), ittl - hops
        self.hello, self.tcp_rtt, self.detour = hello, tcp_rtt, detour
        self.jitter, self.proc = jitter, proc
        self.c = rng.randrange(1 << 32)
        self.s = rng.randrange(1 << 32)

    def rtt(self):
        return max(0.0005, self.tcp_rtt + self.rng.uniform(-self.jitter, self.jitter))

    def cli(self, t, flags, payload=b"", opts=b""):
        self.w.add(t, ipv4_tcp(self.src, SERVER, self.cport, SPORT, self.c,
                               self.s if not flags & 0x02 else 0, flags, payload, opts,
                               ttl=self.ttl, win=self.win))

    def srv(self, t, flags, payload=b""):
        self.w.add(t, ipv4_tcp(SERVER, self.src, SPORT, self.cport, self.s, self.c,
                               flags, payload, ttl=64))

    def run(self, t, requests):
        """requests: [(gap_before_s, size)], the first gap ignored."""
        self.cli(t, self.syn_flags, opts=self.syn_opts)
        self.c += 1
        self.srv(t + 0.00002, 0x12)
        self.s += 1
        t_ack = t + self.rtt()
        self.cli(t_ack, 0x10)
        # the hello leaves once the client learns its tunnel is up: a relay
        # adds the detour to the ACK->hello delay
        t_hello = t_ack + self.detour + self.proc
        # a hello longer than the MSS (post-quantum key shares) is two
        # segments back to back, as on a real wire
        for off in range(0, len(self.hello), self.mss):
            seg = self.hello[off:off + self.mss]
            self.cli(t_hello + (0.00003 if off else 0), 0x18, seg)
            self.c += len(seg)
        t_srv = t_hello + 0.0005
        self.srv(t_srv, 0x18, bytes(1400))
        self.s += 1400
        t = t_srv + self.rtt() + self.detour + self.tls_proc
        for i, (gap, size) in enumerate(requests):
            if i:
                t += gap
            self.cli(t, 0x18, bytes(size))
            self.c += size
            self.srv(t + 0.01, 0x18, bytes(1200))
            self.s += 1200
        self.cli(t + 0.02, 0x11)
        return t + 0.02


def ip(*b):
    return bytes(b)


def dotted(b):
    return ".".join(map(str, b))


# ---- --mix variety ----------------------------------------------------------

EXIT_STACKS = [  # (stack, mss, ecn, hops range): exit devices of a proxy network
    ("windows", 1460, False, (8, 20)),    # proxyware PCs
    ("android", 1400, False, (10, 22)),   # phones (carrier MTU)
    ("linux", 1460, False, (6, 18)),      # home routers, boxes
    ("linux", 1452, False, (6, 18)),      # PPPoE DSL
    ("embedded", 1460, True, (4, 14)),    # old embedded devices, TTL 255, ECN
    ("darwin", 1460, False, (8, 20)),
]
DETOUR_BINS = [0.005, 0.010, 0.020, 0.050, 0.100]


def lognorm(rng, median, sigma, lo, hi):
    return min(hi, max(lo, rng.lognormvariate(math.log(median), sigma)))


def variety(a, rng, w, labels, nets, nport, span):
    """Held-out populations (see the module docstring)."""
    extra = {"detour_ms": {}, "first": {}}
    used = set()

    def addr(pool):
        """A fresh address from pool: (first octet, second octet range)."""
        o1, (lo, hi) = pool
        while True:
            b = bytes([o1, rng.randrange(lo, hi), rng.randrange(0, 256), rng.randrange(2, 254)])
            if b not in used:
                used.add(b)
                return b

    def label(src, pop, t, cls, asn, org):
        labels[dotted(src)] = pop
        k = dotted(src)
        extra["first"][k] = min(t, extra["first"].get(k, t))
        nets["%s/24" % dotted(src[:3] + b"\0")] = {"asn": asn, "org": org, "class": cls}

    def hello(st, sni="api.example.test", shuffle=False, pq=False):
        c, e, alpn = st
        return client_hello(c, e, sni, alpn, rng, shuffle, pq)

    def human_requests(n):
        out = []
        for _ in range(n):
            gap = min(40.0, max(0.3, rng.expovariate(1 / 6.0)))
            size = int(min(8000, max(120, rng.lognormvariate(math.log(800), 0.6))))
            out.append((gap, size))
        return out

    t_end = T0 + span - 5
    pivot_at = T0 + span / 2

    def rotating_farm(pop, n_exits, st, pq, shuffle, period, size, detour_of, proc_of,
                      tls_proc_of, pool, pivot):
        """Workers on a fixed period, each through a new exit after 1-5
        connections (60 % one); returns when n_exits exits were used."""
        mean_uses = 0.6 * 1 + 0.4 * 3.5
        workers = max(2, int(math.ceil(n_exits * mean_uses * period / (span - 20))))
        made = 0
        ts = [T0 + rng.uniform(0, period) for _ in range(workers)]
        while made < n_exits:
            k = min(range(workers), key=lambda i: ts[i])
            t = ts[k]
            if t > t_end:
                break
            src = addr(pool)
            made += 1
            stack, mss, ecn, hops = rng.choice(EXIT_STACKS)
            detour = detour_of()
            label(src, pop, t, "mobile" if stack == "android" else "residential",
                  64501 + rng.randrange(40), "Home ISP")
            extra["detour_ms"][dotted(src)] = round(detour * 1000, 2)
            uses = 1 if rng.random() < 0.6 else rng.randrange(2, 6)
            hop = rng.randrange(*hops)
            rtt = rng.uniform(0.010, 0.060)
            for _ in range(uses):
                sni = "model-v2.example.test" if pivot and t >= pivot_at else "api.example.test"
                Flow(w, rng, src, nport(), hello(st, sni, shuffle, pq), stack=stack, hops=hop,
                     mss=mss, ecn=ecn, tcp_rtt=rtt, jitter=a.exit_jitter, detour=detour,
                     proc=proc_of(), tls_proc=tls_proc_of()).run(
                         t, [(0, int(size * rng.uniform(0.98, 1.02)))])
                t += period * rng.uniform(0.99, 1.01)
            ts[k] = t

    def detour_rot():
        if rng.random() < 0.5:
            return rng.choice(DETOUR_BINS) * rng.uniform(0.97, 1.03)
        return rng.uniform(0.005, 0.120)

    # the scripted farm through rotating exits, and its direct cloud VMs
    rotating_farm("farm_rot", a.farm, SCRIPT, False, False, a.farm_period, a.farm_bytes, detour_rot,
                  lambda: rng.uniform(0.0003, 0.0015), lambda: rng.uniform(0.0005, 0.002),
                  (100, (64, 128)), True)
    for i in range(max(3, a.farm // 100)):
        src = addr((10, (60, 70)))
        t = T0 + rng.uniform(0, a.farm_period)
        label(src, "farm_direct", t, "hosting", 64600, "Cloud Co")
        while t < t_end:
            sni = "model-v2.example.test" if t >= pivot_at else "api.example.test"
            Flow(w, rng, src, nport(), hello(SCRIPT, sni), stack="linux", hops=12,
                 tcp_rtt=rng.uniform(0.002, 0.006), proc=0.0005).run(
                     t, [(0, int(a.farm_bytes * rng.uniform(0.98, 1.02)))])
            t += a.farm_period * rng.uniform(0.99, 1.01)

    # the browser-mimicking farm: a current Chromium's hello, small detours,
    # headless Chromium's processing on the farm's hosts
    rotating_farm("farm_mimic", a.mimic, CHROME_PQ, True, True, 3.0, 900,
                  lambda: rng.uniform(0.008, 0.040),
                  lambda: rng.uniform(0.0003, 0.0015), lambda: rng.uniform(0.010, 0.040),
                  (100, (128, 192)), False)

    # benign: browsers (77 %), SDK customers (8 %), API clients (10 %), the rest
    n_sdk = int(a.benign * 0.08)
    n_api = int(a.benign * 0.10)
    n_br = a.benign - n_sdk - n_api - 8
    for i in range(n_br):
        r = rng.random()
        mobile = rng.random() < 0.2
        if r < 0.65:
            st, fam, pq = (CHROME_PQ if rng.random() < 0.8 else CHROME), "chromium", None
            pq = st is CHROME_PQ
            tls_proc = lognorm(rng, 0.008, 0.7, 0.002, 0.035)
        elif r < 0.82:
            st, fam, pq = FIREFOX, "firefox", False
            tls_proc = lognorm(rng, 0.005, 0.6, 0.001, 0.018)
        else:
            st, fam, pq = SAFARI, "safari", False
            tls_proc = lognorm(rng, 0.004, 0.6, 0.001, 0.018)
        if mobile:
            stack = "darwin" if st is SAFARI else "android"
        else:
            stack = {"chromium": rng.choice(["windows", "windows", "darwin", "linux"]),
                     "firefox": rng.choice(["windows", "linux"]), "safari": "darwin"}[fam]
        src = addr((172, (16, 32)) if not mobile else (198, (19, 20)))
        t = T0 + rng.uniform(0, span - 60)
        label(src, "browser", t, "mobile" if mobile else "residential", 64520, "Cable Co")
        rtt = rng.uniform(0.040, 0.150) if mobile else rng.uniform(0.005, 0.080)
        jit = 0.030 if mobile else 0.002
        for _ in range(rng.randrange(1, 4)):
            # most hosts hand the hello over within ~1 ms; a busy one
            # sometimes takes a few
            proc = rng.uniform(0.0002, 0.0015) if rng.random() > 0.02 else rng.uniform(0.002, 0.004)
            t = Flow(w, rng, src, nport(), hello(st, shuffle=st in (CHROME, CHROME_PQ), pq=pq),
                     stack=stack, hops=rng.randrange(8, 20), mss=1400 if mobile else 1460,
                     tcp_rtt=rtt, jitter=jit, proc=proc, tls_proc=tls_proc * rng.uniform(0.8, 1.2)
                     ).run(t, human_requests(rng.randrange(2, 9)))
            t += rng.uniform(1, 120)
            if t > t_end:
                break

    # SDK customers: the farm's exact stack, their own schedule and requests
    for i in range(n_sdk):
        src = addr((10, (70, 120)))
        kind = rng.random()
        if kind < 0.05:      # the farm's period, not its requests
            period, size = a.farm_period, int(rng.uniform(600, 3000))
        elif kind < 0.10:    # the farm's requests, not its period
            period, size = rng.uniform(5.0, 120.0), a.farm_bytes
        else:
            period, size = rng.choice([5, 10, 15, 30, 60, 90, 120, 300]) * rng.uniform(0.8, 1.2), \
                int(rng.uniform(150, 3000))
        regular = rng.random() < 0.7
        t = T0 + rng.uniform(0, min(period, span / 2))
        label(src, "sdk", t, "hosting", 64600, "Cloud Co")
        while t < t_end:
            Flow(w, rng, src, nport(), hello(SCRIPT), stack="linux", hops=12,
                 tcp_rtt=rng.uniform(0.002, 0.010), proc=0.0005).run(
                     t, [(0, int(size * rng.uniform(0.97, 1.03)))])
            t += period * (rng.uniform(0.99, 1.01) if regular else rng.uniform(0.3, 1.7))

    # Go and Java API clients: 20 ms of TLS processing, some regular
    for i in range(n_api):
        src = addr((10, (120, 160)))
        st = GO
        period = rng.choice([20, 45, 60, 120]) * rng.uniform(0.8, 1.2)
        regular = rng.random() < 0.5
        t = T0 + rng.uniform(0, min(period, span / 2))
        label(src, "api", t, "hosting", 64610, "Other Cloud")
        while t < t_end:
            Flow(w, rng, src, nport(), hello(st), stack="linux", hops=12,
                 tcp_rtt=rng.uniform(0.002, 0.030), proc=0.0006,
                 tls_proc=rng.uniform(0.005, 0.020)).run(
                     t, [(0, int(rng.uniform(200, 1500)))])
            t += period * (rng.uniform(0.99, 1.01) if regular else rng.uniform(0.3, 1.7))

    # corporate NAT, mobile CGNAT, corporate proxy, VPN, health checkers
    nat = ip(192, 0, 2, 1)
    label(nat, "nat", T0, "business", 64700, "Example Corp")
    for u in range(max(20, a.benign // 80)):
        st, tcp = [(CHROME_PQ, "windows"), (SAFARI, "darwin"), (FIREFOX, "windows"),
                   (SCHANNEL, "windows")][u % 4]
        Flow(w, rng, nat, nport(), hello(st, shuffle=st is CHROME_PQ, pq=st is CHROME_PQ),
             stack=tcp, hops=9, tcp_rtt=0.03, tls_proc=rng.uniform(0.002, 0.030)).run(
                 T0 + rng.uniform(0, span - 60), human_requests(rng.randrange(2, 6)))
    cg = ip(198, 18, 0, 9)
    label(cg, "cgnat", T0, "mobile", 64800, "Mobile Carrier")
    for u in range(max(20, a.benign // 100)):
        st, tcp = (SAFARI, "darwin") if u % 2 else (CHROME_PQ, "android")
        Flow(w, rng, cg, nport(), hello(st, shuffle=st is CHROME_PQ, pq=st is CHROME_PQ),
             stack=tcp, hops=14, mss=1400, tcp_rtt=rng.uniform(0.08, 0.2), jitter=0.04,
             proc=rng.uniform(0.0002, 0.002), tls_proc=rng.uniform(0.003, 0.030)).run(
                 T0 + rng.uniform(0, span - 60), human_requests(rng.randrange(2, 6)))
    px = ip(192, 0, 2, 200)
    label(px, "corp_proxy", T0, "business", 64700, "Example Corp")
    for u in range(max(20, a.benign // 100)):
        st = [CHROME_PQ, SCHANNEL, SAFARI][u % 3]
        Flow(w, rng, px, nport(), hello(st, shuffle=st is CHROME_PQ, pq=st is CHROME_PQ),
             stack="linux", hops=7, tcp_rtt=0.02, detour=rng.uniform(0.002, 0.004),
             tls_proc=rng.uniform(0.002, 0.020)).run(
                 T0 + rng.uniform(0, span - 60), human_requests(rng.randrange(2, 6)))
    vpn = ip(203, 0, 113, 77)
    label(vpn, "vpn", T0 + 30, "hosting", 64900, "VPN Provider")
    Flow(w, rng, vpn, nport(), hello(CHROME_PQ, shuffle=True, pq=True), stack="linux", hops=1,
         mss=1360, tcp_rtt=0.05, tls_proc=0.01).run(T0 + 30, human_requests(6))
    for h, period in enumerate([1.0, 5.0, 10.0, 30.0, 60.0]):
        hc = ip(203, 0, 113, 50 + h)
        label(hc, "health", T0, "hosting", 64900, "Monitoring")
        t = T0 + h
        while t < t_end:
            Flow(w, rng, hc, nport(), hello(GO, sni=""), stack="linux", hops=2,
                 tcp_rtt=0.002).run(t, [(0, 80)])
            t += period
    return pivot_at, extra


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--scale", type=int, default=1)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--span", type=float, default=900.0,
                    help="seconds of traffic (at least 400; 200 with --mix variety)")
    ap.add_argument("--mix", choices=["classic", "variety"], default="classic")
    ap.add_argument("--farm", type=int, default=500, help="variety: farm_rot exits")
    ap.add_argument("--mimic", type=int, default=300, help="variety: farm_mimic exits")
    ap.add_argument("--benign", type=int, default=5000, help="variety: benign sources")
    ap.add_argument("--farm-period", type=float, default=2.0,
                    help="variety: seconds between a farm worker's requests")
    ap.add_argument("--farm-bytes", type=int, default=420, help="variety: the farm's template")
    ap.add_argument("--exit-jitter", type=float, default=0.002,
                    help="variety: exit path jitter per round trip (s)")
    ap.add_argument("--start", default=DEFAULT_START,
                    help="UTC time of the first packet, on a whole hour (default %s)" % DEFAULT_START)
    a = ap.parse_args()
    start = int(datetime.datetime.strptime(a.start, "%Y-%m-%dT%H:%M:%SZ").replace(
        tzinfo=datetime.timezone.utc).timestamp())
    if start % 3600:
        ap.error("--start must be on a whole hour (windows align with it)")
    offset = start - int(T0)
    SPAN = max(200.0 if a.mix == "variety" else 400.0, a.span)
    rng = random.Random(a.seed)
    w = Writer(offset)
    labels, nets = {}, {}
    port = [20000]

    def nport():
        port[0] = port[0] + 1 if port[0] < 65000 else 20000
        return port[0]

    def label(src, pop):
        labels[dotted(src)] = pop

    def hello(stack, sni="api.example.test", shuffle=False):
        c, e, alpn = stack
        return client_hello(c, e, sni, alpn, rng, shuffle)

    if a.mix == "variety":
        pivot_at, extra = variety(a, rng, w, labels, nets, nport, SPAN)
        w.save(a.out)
        # every time in the labels on the capture's clock
        extra["first"] = {k: t + offset for k, t in extra["first"].items()}
        with open(a.out + ".labels.json", "w") as f:
            json.dump({"server": "198.51.100.10", "start": T0 + offset, "end": T0 + SPAN + offset,
                       "pivot_at": pivot_at + offset, "sources": labels, **extra}, f, indent=1)
        with open(a.out + ".networks.json", "w") as f:
            json.dump(nets, f, indent=1, sort_keys=True)
        return

    def human_requests(n):
        out = []
        for _ in range(n):
            gap = min(40.0, max(0.3, rng.expovariate(1 / 6.0)))
            size = int(min(8000, max(120, rng.lognormvariate(math.log(800), 0.6))))
            out.append((gap, size))
        return out

    # farm_res: a new exit node every 3 s; each makes 3 connections 2 s
    # apart, one templated request each; 10 % come back 400 s later
    pivot_at = T0 + 330
    n_exit = int(SPAN / 3.0) * a.scale
    for i in range(n_exit):
        src = ip(100, 64 + i // 250, i % 250, 7)
        label(src, "farm_res")
        nets["%s/24" % dotted(ip(100, 64 + i // 250, i % 250, 0))] = {
            "asn": 64501 + i % 10, "org": "Home ISP %d" % (i % 10),
            "class": "mobile" if i % 10 == 9 else "residential"}
        stack = "windows" if i % 2 else "linux"
        starts = [T0 + i * 3.0 / a.scale]
        if i % 10 == 3 and starts[0] + 400 < T0 + SPAN:
            starts.append(starts[0] + 400)
        for s0 in starts:
            detour = rng.uniform(0.040, 0.120)
            for k in range(3):
                t = s0 + k * 2.0 * rng.uniform(0.99, 1.01)
                sni = "model-v2.example.test" if t >= pivot_at else "api.example.test"
                Flow(w, rng, src, nport(), hello(SCRIPT, sni), stack=stack,
                     hops=rng.randrange(6, 18), tcp_rtt=rng.uniform(0.015, 0.040),
                     detour=detour).run(t, [(0, int(420 * rng.uniform(0.98, 1.02)))])

    # farm_dc: eight cloud hosts in eight /24s, a request every 5 s
    for i in range(8 * a.scale):
        src = ip(10, 20 + i // 200, i % 200, 5)
        label(src, "farm_dc")
        nets["10.%d.0.0/16" % (20 + i // 200)] = {"asn": 64600, "org": "Cloud Co",
                                                  "class": "hosting"}
        t = T0 + rng.uniform(0, 5)
        while t < T0 + SPAN - 10:
            Flow(w, rng, src, nport(), hello(GO), stack="linux", hops=12,
                 tcp_rtt=0.004).run(t, [(0, int(600 * rng.uniform(0.97, 1.03)))])
            t += 5.0 * rng.uniform(0.99, 1.01)

    # browsers: one popular hello, many /24s, human
    n_br = 200 * a.scale
    for i in range(n_br):
        src = ip(172, 16 + i // 200, (i * 7) % 200, 10 + i % 200)
        label(src, "browser")
        nets["172.%d.0.0/16" % (16 + i // 200)] = {"asn": 64520, "org": "Cable Co",
                                                    "class": "residential"}
        stack = "darwin" if i % 4 == 0 else "windows"
        t = T0 + rng.uniform(0, SPAN - 120)
        for _ in range(rng.randrange(1, 4)):
            t = Flow(w, rng, src, nport(), hello(CHROME, shuffle=True), stack=stack,
                     hops=rng.randrange(8, 20), tcp_rtt=rng.uniform(0.01, 0.06)).run(
                         t, human_requests(rng.randrange(3, 10)))
            t += rng.uniform(1, 60)

    # corporate NAT: one address, users with their own stacks
    nat = ip(192, 0, 2, 1)
    label(nat, "nat")
    nets["192.0.2.0/25"] = {"asn": 64700, "org": "Example Corp", "class": "business"}
    for u in range(60 * a.scale):
        st, tcp = [(CHROME, "windows"), (SAFARI, "darwin"), (FIREFOX, "windows"),
                   (SCHANNEL, "windows")][u % 4]
        Flow(w, rng, nat, nport(), hello(st, shuffle=st is CHROME), stack=tcp, hops=9,
             tcp_rtt=0.03).run(T0 + rng.uniform(0, SPAN - 60),
                               human_requests(rng.randrange(2, 6)))

    # mobile CGNAT: one address, phones, high and jittery RTT
    cg = ip(198, 18, 0, 9)
    label(cg, "cgnat")
    nets["198.18.0.0/24"] = {"asn": 64800, "org": "Mobile Carrier", "class": "mobile"}
    for u in range(40 * a.scale):
        st, tcp = (SAFARI, "darwin") if u % 2 else (CHROME, "linux")
        Flow(w, rng, cg, nport(), hello(st, shuffle=st is CHROME), stack=tcp, hops=14,
             tcp_rtt=rng.uniform(0.08, 0.2), jitter=0.04,
             proc=rng.uniform(0.0002, 0.002)).run(
                 T0 + rng.uniform(0, SPAN - 60), human_requests(rng.randrange(2, 6)))

    # SDK customers: the farm's client stack exactly, direct, from the cloud
    for i, (period, count) in enumerate([(5.0, None), (5.0, None), (10.0, 4)]):
        src = ip(10, 40 + i, 2, 9)
        label(src, "sdk")
        nets["10.%d.0.0/16" % (40 + i)] = {"asn": 64600, "org": "Cloud Co", "class": "hosting"}
        t, n = T0 + 3 + i, 0
        while t < T0 + SPAN - 10 and (count is None or n < count):
            Flow(w, rng, src, nport(), hello(SCRIPT), stack="linux", hops=12,
                 tcp_rtt=0.004).run(t, [(0, 420)])
            t += period * rng.uniform(0.99, 1.01)
            n += 1

    # explicit corporate proxy: TCP from the proxy, hellos from the users
    px = ip(192, 0, 2, 200)
    label(px, "corp_proxy")
    nets["192.0.2.128/25"] = {"asn": 64700, "org": "Example Corp", "class": "business"}
    for u in range(50 * a.scale):
        st = [CHROME, SCHANNEL, SAFARI][u % 3]
        Flow(w, rng, px, nport(), hello(st, shuffle=st is CHROME), stack="linux", hops=7,
             tcp_rtt=0.02, detour=rng.uniform(0.002, 0.004)).run(
                 T0 + rng.uniform(0, SPAN - 60), human_requests(rng.randrange(2, 6)))

    # a user on a VPN: tunnel MSS, one more hop
    vpn = ip(203, 0, 113, 77)
    label(vpn, "vpn")
    nets["203.0.113.64/26"] = {"asn": 64900, "org": "VPN Provider", "class": "hosting"}
    Flow(w, rng, vpn, nport(), hello(CHROME, shuffle=True), stack="linux", hops=1,
         mss=1360, tcp_rtt=0.05).run(T0 + 30, human_requests(6))

    # health checker: one request a second on fresh connections
    hc = ip(203, 0, 113, 50)
    label(hc, "health")
    for k in range(int(SPAN) - 10):
        Flow(w, rng, hc, nport(), hello(GO, sni=""), stack="linux", hops=2,
             tcp_rtt=0.002).run(T0 + k * 1.0, [(0, 80)])

    w.save(a.out)
    with open(a.out + ".labels.json", "w") as f:
        json.dump({"server": "198.51.100.10", "start": T0 + offset, "end": T0 + SPAN + offset,
                   "pivot_at": pivot_at + offset, "sources": labels}, f, indent=1)
    with open(a.out + ".networks.json", "w") as f:
        json.dump(nets, f, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
