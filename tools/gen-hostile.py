#!/usr/bin/env python3
"""A hostile-packet corpus (stdlib only): OUT.pcap and OUT.expect.json.

Every frame goes from a client to the server 198.51.100.10 (2001:db8::10),
except the server's SYN-ACKs of the hello flows. The categories, with the
datapath counter each one must move (the expect file lists the counts):

  trunc_v4, trunc_v6   a SYN with options cut at every byte offset past the
                       Ethernet header: err_ipv4 / err_ipv6 / err_tcp
  lying_v4             IPv4 IHL < 5, IHL past the frame, total length past
                       the frame or shorter than the header: err_ipv4
  lying_tcp            TCP data offset < 5 or past the packet: err_tcp
  syn_options          SYN option garbage: length 0 and 1, lengths past
                       the header, a truncated MSS, EOL followed by junk,
                       40 NOPs, unknown kinds: counted (err_tcp_opt for
                       malformed ones) and parsed as TCP
  vlan_nested          3 and 4 stacked VLAN tags: parsed (HS_MAX_VLAN 4)
  vlan_too_deep        5 and 6 stacked VLAN tags: vlan_limit
  v6_ext_chain         7 and 8 IPv6 extension headers: parsed
                       (HS_MAX_V6_EXT 8)
  v6_ext_too_long      9 to 12 IPv6 extension headers: ipv6_ext_limit
  fragments            IPv4 MF / offset, IPv6 fragment header: ip_frag
  non_ip, non_tcp      ARP, LLDP, an unknown EtherType; UDP, ICMP, GRE
  hello_*              flows whose ClientHello is hostile: zero-length
                       record, record or handshake length lying, odd cipher
                       length, extension length past its list, 1000 cipher
                       suites, 600 extensions (past the item cap), a hello
                       in 1-byte segments, a retransmitted first segment;
                       and two a relay passes unchanged that must still be
                       fingerprinted: a hello over 3 TLS records (one a
                       segment) and one over 30 segments

gen-hostile.py OUT.pcap --forged N writes instead N flows from N forged
sources, each with its own maximal hello (1000 cipher suites and 450
extensions, 3.9 KB, in 3 segments; no two share a cipher or extension set):
what a sender does to make userspace keep as many fingerprint bytes as
it can (tests/scenario/hostile_memory_test.py).
"""
import json
import struct
import sys

from pktlib import csum, write_pcap

CLI4, SRV4 = bytes([203, 0, 113, 9]), bytes([198, 51, 100, 10])
CLI6 = bytes.fromhex("20010db8000000000000000000000009")
SRV6 = bytes.fromhex("20010db8000000000000000000000010")
LINUX_OPTS = (struct.pack("!BBH", 2, 4, 1460) + b"\x04\x02" + b"\x08\x0a" +
              b"\0\0\0\x01\0\0\0\0" + b"\x01\x03\x03\x07")




def eth(ethertype, payload, tags=0):
    h = b"\x02\0\0\0\0\x01\x02\0\0\0\0\x02"
    for i in range(tags):
        h += struct.pack("!HH", 0x88A8 if i == 0 and tags > 1 else 0x8100, 100 + i)
    return h + struct.pack("!H", ethertype) + payload


def tcp(sport, dport, seq, ack, flags, opts=b"", payload=b"", doff=None):
    hl = 20 + len(opts)
    d = doff if doff is not None else hl // 4
    return struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF,
                       d << 4, flags, 64240, 0, 0) + opts + payload


def ipv4(l4, proto=6, src=CLI4, dst=SRV4, ihl=5, tot=None, frag=0x4000, opts=b""):
    total = tot if tot is not None else 20 + len(opts) + len(l4)
    h = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0, total & 0xFFFF, 7, frag, 60, proto, 0,
                    src, dst) + opts
    h = h[:10] + struct.pack("!H", csum(h)) + h[12:]
    return h + l4


def ipv6(l4, nxt=6, src=CLI6, dst=SRV6, exts=()):
    chain = b""
    kinds = list(exts) + [nxt]
    for i, k in enumerate(exts):
        if k == 44:  # a fragment header: offset 0, more fragments follow
            chain += bytes([kinds[i + 1], 0, 0x00, 0x01]) + struct.pack("!I", 77)
        else:  # an 8-byte options header
            chain += bytes([kinds[i + 1], 0]) + bytes(6)
    payload = chain + l4
    return struct.pack("!IHBB16s16s", 0x60000000, len(payload), kinds[0], 60, src, dst) + payload


class Corpus:
    def __init__(self):
        self.frames = []  # (t, frame)
        self.cats = {}
        self.t = 1000.0

    def add(self, cat, frame):
        self.t += 0.001
        self.frames.append((self.t, frame))
        self.cats[cat] = self.cats.get(cat, 0) + 1

    def save(self, path):
        write_pcap(path, self.frames)


def client_hello(ciphers, exts, ext_body=b""):
    body = b"\x03\x03" + bytes(32) + b"\x00"
    body += struct.pack("!H", 2 * len(ciphers)) + b"".join(struct.pack("!H", c) for c in ciphers)
    body += b"\x01\x00"
    ext = b"".join(struct.pack("!HH", e, len(ext_body)) + ext_body for e in exts)
    body += struct.pack("!H", len(ext)) + ext
    hs = b"\x01" + struct.pack("!I", len(body))[1:] + body
    return b"\x16\x03\x01" + struct.pack("!H", len(hs)) + hs


def hello_flow(c, cat, port, segments, retransmit_first=False, src=CLI4):
    """SYN, the server's SYN-ACK, ACK, then the hello segments."""
    isn, sisn = 1000 * port, 5000 * port
    c.add(cat, eth(0x0800, ipv4(tcp(port, 443, isn, 0, 0x02, LINUX_OPTS), src=src)))
    c.add(cat + "_egress", eth(0x0800, ipv4(tcp(443, port, sisn, isn + 1, 0x12),
                                            src=SRV4, dst=src)))
    c.add(cat, eth(0x0800, ipv4(tcp(port, 443, isn + 1, sisn + 1, 0x10), src=src)))
    off = 0
    for i, seg in enumerate(segments):
        c.add(cat, eth(0x0800, ipv4(tcp(port, 443, isn + 1 + off, sisn + 1, 0x18, payload=seg),
                                    src=src)))
        if i == 0 and retransmit_first:
            c.add(cat, eth(0x0800, ipv4(tcp(port, 443, isn + 1, sisn + 1, 0x18, payload=seg),
                                        src=src)))
        off += len(seg)


def forged(c, n):
    """n flows, each from its own source, each with a distinct maximal hello:
    sliding windows over GREASE-free value lists, so that every flow's JA3,
    JA4 and raw strings differ from every other's."""
    def values(lo, hi):
        return [v for v in range(lo, hi) if not ((v & 0x0F0F) == 0x0A0A and v >> 8 == v & 0xFF)]
    cs, es = values(0x0100, 0xFF00), values(0x1000, 0xFE00)
    cbytes = b"".join(struct.pack("!H", v) for v in cs + cs[:1000])
    ebytes = b"".join(struct.pack("!HH", v, 0) for v in es + es[:450])
    for k in range(n):
        co, eo = (k * 7) % len(cs), (k * 11) % len(es)
        body = (b"\x03\x03" + bytes(32) + b"\x00" + struct.pack("!H", 2000) +
                cbytes[2 * co:2 * co + 2000] + b"\x01\x00" + struct.pack("!H", 1800) +
                ebytes[4 * eo:4 * eo + 1800])
        hs = b"\x01" + struct.pack("!I", len(body))[1:] + body
        hello = b"\x16\x03\x01" + struct.pack("!H", len(hs)) + hs
        src = bytes([100, 64 + (k >> 16) % 64, (k >> 8) & 0xFF, k & 0xFF])
        port = 20000 + k % 40000
        hello_flow(c, "forged", port, [hello[i:i + 1300] for i in range(0, len(hello), 1300)],
                   src=src)


def main():
    out = sys.argv[1]
    c = Corpus()
    if len(sys.argv) > 3 and sys.argv[2] == "--forged":
        forged(c, int(sys.argv[3]))
        c.save(out)
        return
    syn4 = eth(0x0800, ipv4(tcp(40000, 443, 1, 0, 0x02, LINUX_OPTS)))
    for n in range(14, len(syn4)):
        c.add("trunc_v4", syn4[:n])
    syn6 = eth(0x86DD, ipv6(tcp(40001, 443, 1, 0, 0x02, LINUX_OPTS), exts=(0, 60)))
    for n in range(14, len(syn6)):
        c.add("trunc_v6", syn6[:n])

    seg = tcp(40002, 443, 1, 0, 0x02, LINUX_OPTS)
    for ihl, tot in ((4, None), (15, None), (5, 1500), (5, 19)):
        c.add("lying_v4", eth(0x0800, ipv4(seg, ihl=ihl, tot=tot)))
    for d in (0, 4, 15):
        c.add("lying_tcp", eth(0x0800, ipv4(tcp(40003, 443, 1, 0, 0x18, doff=d))))

    garbage = [b"\x02\x00\x00\x00", b"\x02\x01\x00\x00", b"\x03\x10\x00\x00",
               b"\x02\x03\x05\x00", b"\x00\xff\xff\xff", b"\x01" * 40, b"\xfe\x04\x00\x00",
               b"\x08\x0a" + bytes(8) + b"\x00\x01", b"\x02\x04\x05\xb4\x03\x03\x20\x00"]
    for i, g in enumerate(garbage):  # one flow each: a repeated SYN is a retransmission
        c.add("syn_options", eth(0x0800, ipv4(tcp(40010 + i, 443, 1, 0, 0x02, opts=g))))

    for tags in (3, 4, 5, 6):
        c.add("vlan_nested" if tags <= 4 else "vlan_too_deep", eth(0x0800, ipv4(seg), tags=tags))
    for n in range(7, 13):
        c.add("v6_ext_chain" if n <= 8 else "v6_ext_too_long",
              eth(0x86DD, ipv6(seg, exts=(0,) + (60,) * (n - 1))))

    c.add("fragments", eth(0x0800, ipv4(seg, frag=0x2000)))  # MF
    c.add("fragments", eth(0x0800, ipv4(seg, frag=0x0010)))  # offset
    frag6 = seg
    c.add("fragments", eth(0x86DD, ipv6(frag6, exts=(44,))))
    c.add("fragments", eth(0x86DD, ipv6(frag6, exts=(0, 44))))

    c.add("non_ip", eth(0x0806, bytes(28)))  # ARP
    c.add("non_ip", eth(0x88CC, bytes(40)))  # LLDP
    c.add("non_ip", eth(0x1234, bytes(40)))
    c.add("non_tcp", eth(0x0800, ipv4(bytes(8) + b"x" * 20, proto=17)))
    c.add("non_tcp", eth(0x0800, ipv4(b"\x08\x00" + bytes(30), proto=1)))
    c.add("non_tcp", eth(0x0800, ipv4(bytes(24), proto=47)))

    ok = client_hello([0x1301, 0x1302, 0xC02B], [0x000A, 0x000D, 0x002B], b"\x00\x02\x00\x1d")
    hello_flow(c, "hello_zero_record", 41000, [b"\x16\x03\x01\x00\x00"])
    hello_flow(c, "hello_record_lies", 41001, [b"\x16\x03\x01\x3e\x80" + ok[5:]])
    lie = bytearray(ok)
    lie[6:9] = b"\x00\xff\xff"  # handshake length past the record
    hello_flow(c, "hello_handshake_lies", 41002, [bytes(lie)])
    odd = bytearray(ok)
    odd[5 + 4 + 35:5 + 4 + 37] = b"\x00\x05"  # odd cipher list length
    hello_flow(c, "hello_odd_ciphers", 41003, [bytes(odd)])
    ext_lie = client_hello([0x1301], [0x000A], b"\x00\x02\x00\x1d")
    ext_lie = ext_lie[:-6] + b"\x00\x0a\x40\x00" + ext_lie[-2:]  # body past the list
    hello_flow(c, "hello_ext_lies", 41004, [ext_lie])
    big = client_hello([0x0100 + i for i in range(1000)], [0x000A])
    hello_flow(c, "hello_1000_ciphers", 41005, [big[:1400], big[1400:]])
    many = client_hello([0x1301], [0x1000 + i for i in range(600)])
    hello_flow(c, "hello_600_exts", 41006, [many[i:i + 1400] for i in range(0, len(many), 1400)])
    hello_flow(c, "hello_1byte_segments", 41007, [ok[i:i + 1] for i in range(40)])
    hello_flow(c, "hello_retransmitted", 41008, [ok[:40], ok[40:]], retransmit_first=True)
    # fingerprintable, however cut: one record a segment (3 records), and
    # one record over 30 segments
    rec = b"".join(b"\x16\x03\x01" + struct.pack("!H", len(p)) + p
                   for p in (ok[5:15], ok[15:45], ok[45:]))
    hello_flow(c, "hello_records", 41009, [rec[:15], rec[15:50], rec[50:]])
    wide = client_hello([0x1301 + i for i in range(40)], [0x000A, 0x000D, 0x002B, 0x0010],
                        b"\x00\x03\x02h2")
    step = len(wide) // 30 + 1
    hello_flow(c, "hello_30_segments", 41010, [wide[i:i + step] for i in range(0, len(wide), step)])
    c.save(out)
    egress = sum(v for k, v in c.cats.items() if k.endswith("_egress"))
    with open(out + ".expect.json", "w") as f:
        json.dump({"categories": c.cats, "frames": len(c.frames),
                   "ingress": len(c.frames) - egress}, f, indent=1)


if __name__ == "__main__":
    main()
