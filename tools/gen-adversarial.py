#!/usr/bin/env python3
"""The adversarial corpus (stdlib only): flows that hide their ClientHello
from the datapath, or wrap it in a load balancer's encapsulation. Writes
OUT.pcap and OUT.expect.json (client port -> case and what must come of
it). Every flow but the spoofed ones completes its handshake with the
server 198.51.100.10:443, and every one carries the same scripted client's
hello (the "farm" hello) unless it says otherwise, so that one TLS-id rule
learned from the plain flow covers them all.

Each case must end "fingerprinted" (kernel and userspace ids equal, cut by
the rule) or "flagged" (unfingerprintable with a reason, or a hello
conflict), never as a silent or non-TLS flow:

  plain            the farm's hello, nothing hidden (the rule is learned
                   from it)                                   fingerprinted
  decoy_junk       junk with a bad TCP checksum at isn + 1 (the server
                   discards it), then the hello for the same bytes
                                                  fingerprinted, conflict
  decoy_hello      a browser's hello with a bad checksum at isn + 1, then
                   the farm's for the same bytes: the kernel keeps the
                   first bytes as the server's TCP would have; the
                   collector sees the other bytes             conflict
  decoy_noack      a decoy hello without ACK, then the hello  fingerprinted
  decoy_window     a decoy hello far out of the window, then the hello
                                                              fingerprinted
  junk_many        12 junk segments off sequence, then the hello
                                                              fingerprinted
  empty_records    the hello behind an empty handshake record, and its
                   message in two records with another empty one between
                   (a server's TLS skips them: OpenSSL takes 32 in a row)
                                                              fingerprinted
  frag4            the hello in two IPv4 fragments            flagged 8
  frag4_tiny       the first IPv4 fragment holds 8 bytes of TCP header;
                   the server answers with a ServerHello      flagged 10
  frag6            the hello in two IPv6 fragments            flagged 8
  v6ext_12         behind 12 IPv6 extension headers           flagged 9
  v6ext_80         behind 80: the server answers              flagged 10
  tfo              the hello in a TCP Fast Open SYN, taken    flagged 7
  tfo_not_taken    junk in a TFO SYN the server does not take, then the
                   hello from isn + 1                         fingerprinted
  ipip, gre, gue   from the balancer 10.99.0.1, IPv4 in IPv4, in GRE with
                   a key, in GUE to port 6080 (replayed with --decap
                   ipip,gre,gue:6080): the inner client       fingerprinted
  blocked          a plain flow from a blocked prefix         dropped at SYN
  spoofed          a forged SYN and hello from addresses that never answer
                   the server: never blocked by a decision

Checksums are computed (the decoys' are wrong on purpose): the capture is
what a raw socket sends.
"""
import importlib.util
import json
import os
import struct
import sys

from pktlib import csum, write_pcap

_spec = importlib.util.spec_from_file_location(
    "hostile", os.path.join(os.path.dirname(os.path.abspath(__file__)), "gen-hostile.py"))
H = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(H)

SRV4, SRV6 = H.SRV4, H.SRV6
LB4 = bytes([10, 99, 0, 1])
GUE_PORT = 6080
# the scripted client's hello, and a browser-like one for decoys
FARM = H.client_hello([0x1301, 0x1302, 0x1303, 0xC02B, 0xC02F, 0xCCA9],
                      [0x0000, 0x000A, 0x000B, 0x000D, 0x0010, 0x002B, 0x0033],
                      b"\x00\x04\x00\x1d\x00\x17")
BROWSER = H.client_hello([0x1A1A, 0x1301, 0x1302, 0x1303, 0xC02B, 0xC02F, 0xC02C, 0xC030],
                         [0x0A0A, 0x0000, 0x0017, 0xFF01, 0x000A, 0x000B, 0x0023, 0x0010,
                          0x0005, 0x000D, 0x0012, 0x0033, 0x002D, 0x002B, 0x001B],
                         b"\x00\x02\x00\x1d")
SERVER_HELLO = b"\x16\x03\x03\x00\x3b\x02" + bytes(58)
LINUX_OPTS = H.LINUX_OPTS


def tcp_seg(src, dst, sport, dport, seq, ack, flags, payload=b"", opts=b"", bad=False):
    """A TCP segment with its checksum over the pseudo-header (wrong when
    bad: what the server's TCP discards and XDP does not check)."""
    seg = bytearray(H.tcp(sport, dport, seq, ack, flags, opts, payload))
    if len(src) == 4:
        pseudo = src + dst + struct.pack("!BBH", 0, 6, len(seg))
    else:
        pseudo = src + dst + struct.pack("!IxxxB", len(seg), 6)
    c = csum(pseudo + bytes(seg))
    seg[16:18] = struct.pack("!H", c ^ 0x5A5A if bad else c)
    return bytes(seg)


def ip(src, dst, l4, proto=6, frag=0x4000, exts=()):
    if len(src) == 4:
        return H.ipv4(l4, proto=proto, src=src, dst=dst, frag=frag)
    return H.ipv6(l4, nxt=proto, src=src, dst=dst, exts=exts)


def eth_ip(packet):
    return H.eth(0x0800 if packet[0] >> 4 == 4 else 0x86DD, packet)


class Flow:
    """One client's connection; frames go through wrap() (encapsulation)."""

    def __init__(self, c, case, cli, port, wrap=None):
        self.c, self.case, self.cli, self.port = c, case, cli, port
        self.srv = SRV4 if len(cli) == 4 else SRV6
        self.isn, self.sisn = 1000 * port, 7000 * port
        self.wrap = wrap or (lambda pkt: eth_ip(pkt))
        c.expect[str(port)] = case

    def send(self, seq, flags, payload=b"", opts=b"", bad=False, exts=(), ack=None):
        seg = tcp_seg(self.cli, self.srv, self.port, 443, seq,
                      self.sisn + 1 if ack is None else ack, flags, payload, opts, bad)
        self.c.add(self.wrap(ip(self.cli, self.srv, seg, exts=exts)))

    def server(self, seq, ack, flags, payload=b""):
        seg = tcp_seg(self.srv, self.cli, 443, self.port, seq, ack, flags, payload)
        self.c.add(eth_ip(ip(self.srv, self.cli, seg)))

    def handshake(self, syn_payload=b"", synack_ack=None):
        """SYN, SYN-ACK (acking synack_ack: the SYN's data taken or not),
        ACK."""
        ack = synack_ack or self.isn + 1
        self.send(self.isn, 0x02, syn_payload, LINUX_OPTS, ack=0)
        self.server(self.sisn, ack, 0x12)
        self.send(ack, 0x10)

    def hello(self, data=FARM, seq=None, flags=0x18, **kw):
        self.send(self.isn + 1 if seq is None else seq, flags, data, **kw)


class Corpus:
    def __init__(self):
        self.frames, self.expect, self.t = [], {}, 2000.0

    def add(self, frame):
        self.t += 0.0005
        self.frames.append((self.t, frame))


def fragments(c, f, payload, first_len):
    """The hello segment cut into two IP fragments, the first holding
    first_len bytes of the TCP segment (a multiple of 8)."""
    seg = tcp_seg(f.cli, f.srv, f.port, 443, f.isn + 1, f.sisn + 1, 0x18, payload)
    if len(f.cli) == 4:
        c.add(eth_ip(H.ipv4(seg[:first_len], src=f.cli, dst=f.srv, frag=0x2000)))
        c.add(eth_ip(H.ipv4(seg[first_len:], src=f.cli, dst=f.srv, frag=first_len // 8)))
        return
    for off, part, more in ((0, seg[:first_len], 1), (first_len, seg[first_len:], 0)):
        fh = struct.pack("!BBHI", 6, 0, off | more, 77)
        c.add(H.eth(0x86DD, struct.pack("!IHBB16s16s", 0x60000000, 8 + len(part), 44, 60,
                                        f.cli, f.srv) + fh + part))


def encap(kind, pkt):
    """pkt (an inner IPv4 packet) as the balancer LB4 sends it on."""
    if kind == "ipip":
        return eth_ip(H.ipv4(pkt, proto=4, src=LB4, dst=SRV4))
    if kind == "gre":  # key present
        return eth_ip(H.ipv4(struct.pack("!HHI", 0x2000, 0x0800, 42) + pkt, proto=47,
                             src=LB4, dst=SRV4))
    udp = struct.pack("!HHHH", 40000, GUE_PORT, 8 + len(pkt), 0)  # GUE variant 1
    return eth_ip(H.ipv4(udp + pkt, proto=17, src=LB4, dst=SRV4))


def main():
    out = sys.argv[1]
    c = Corpus()
    cli = lambda n: bytes([203, 0, 113, n])  # noqa: E731
    cli6 = lambda n: H.CLI6[:15] + bytes([n])  # noqa: E731

    f = Flow(c, "plain", cli(1), 42001)
    f.handshake()
    f.hello()

    f = Flow(c, "decoy_junk", cli(2), 42002)
    f.handshake()
    f.hello(b"GET / HTTP/1.1\r\n\r\n", bad=True)
    f.hello()

    f = Flow(c, "decoy_hello", cli(3), 42003)
    f.handshake()
    f.hello(BROWSER, bad=True)
    f.hello()

    f = Flow(c, "decoy_noack", cli(4), 42004)
    f.handshake()
    f.hello(BROWSER, flags=0x08)
    f.hello()

    f = Flow(c, "decoy_window", cli(5), 42005)
    f.handshake()
    f.hello(BROWSER, seq=f.isn + 1 + 3000000)
    f.hello()

    f = Flow(c, "junk_many", cli(6), 42006)
    f.handshake()
    for i in range(12):
        f.hello(b"\x16\x03\x01junk" + bytes(20), seq=f.isn + 1 + 100000 * (i + 1))
    f.hello()

    empty = b"\x16\x03\x01\x00\x00"
    half = (len(FARM) - 5) // 2
    split = (FARM[:3] + struct.pack(">H", half) + FARM[5:5 + half] + empty +
             FARM[:3] + struct.pack(">H", len(FARM) - 5 - half) + FARM[5 + half:])
    f = Flow(c, "empty_records", cli(14), 42014)
    f.handshake()
    f.hello(empty + split)

    f = Flow(c, "frag4", cli(7), 42007)
    f.handshake()
    fragments(c, f, FARM, 216)

    f = Flow(c, "frag4_tiny", cli(8), 42008)
    f.handshake()
    fragments(c, f, FARM, 8)
    f.server(f.sisn + 1, f.isn + 1 + len(FARM), 0x18, SERVER_HELLO)

    f = Flow(c, "frag6", cli6(9), 42009)
    f.handshake()
    fragments(c, f, FARM, 216)

    f = Flow(c, "v6ext_12", cli6(10), 42010)
    f.handshake()
    f.hello(exts=(0,) + (60,) * 11)

    f = Flow(c, "v6ext_80", cli6(11), 42011)
    f.handshake()
    f.hello(exts=(0,) + (60,) * 79)
    f.server(f.sisn + 1, f.isn + 1 + len(FARM), 0x18, SERVER_HELLO)

    f = Flow(c, "tfo", cli(12), 42012)
    f.handshake(syn_payload=FARM, synack_ack=f.isn + 1 + len(FARM))

    f = Flow(c, "tfo_not_taken", cli(13), 42013)
    f.handshake(syn_payload=b"junk in the SYN" * 4)
    f.hello()

    for n, kind in enumerate(("ipip", "gre", "gue")):
        f = Flow(c, kind, cli(20 + n), 42020 + n, wrap=lambda pkt, k=kind: encap(k, pkt))
        f.handshake()
        f.hello()

    f = Flow(c, "blocked", bytes([192, 0, 2, 77]), 42030)
    f.handshake()
    f.hello()

    # forged: a SYN and the farm's hello at a guessed acknowledgement, from
    # addresses that never see the server's SYN-ACK
    for n in range(20):
        f = Flow(c, "spoofed", bytes([100, 80, n, 9]), 42100 + n)
        f.send(f.isn, 0x02, opts=LINUX_OPTS, ack=0)
        f.server(f.sisn, f.isn + 1, 0x12)
        f.hello(ack=12345)

    write_pcap(out, c.frames)
    with open(out + ".expect.json", "w") as fh:
        json.dump({"cases": c.expect, "lb": "10.99.0.1", "gue_port": GUE_PORT,
                   "blocked": "192.0.2.0/24"}, fh, indent=1)


if __name__ == "__main__":
    main()
