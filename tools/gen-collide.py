#!/usr/bin/env python3
"""A capture of N IPv6 clients of one /64 whose flow keys all collide under
the unkeyed hash the userspace tables used before SipHash (hs_mix64 a word
at a time from a fixed seed, invertible): every flow-keyed table (hello
reassembly, fingerprints, the correlator's flow shadows) then puts them in
one probe run. Each client completes a handshake and sends a ClientHello.
Usage: gen-collide.py OUT.pcap [N] (stdlib only)."""
import struct
import sys

from pktlib import csum, write_pcap

M = (1 << 64) - 1
SEED = 0x9E3779B97F4A7C15
SERVER = bytes.fromhex("20010db8000000000000000000000010")
PREFIX = bytes.fromhex("20010db8000000aa")
CPORT, SPORT = 40000, 443


def mix64(x):
    x ^= x >> 30
    x = (x * 0xBF58476D1CE4E5B9) & M
    x ^= x >> 27
    x = (x * 0x94D049BB133111EB) & M
    return x ^ (x >> 31)


def unxorshift(y, s):
    x = y
    for _ in range(64 // s + 1):
        x = y ^ (x >> s)
    return x


def unmix64(x):
    x = unxorshift(x, 31)
    x = (x * pow(0x94D049BB133111EB, -1, 1 << 64)) & M
    x = unxorshift(x, 27)
    x = (x * pow(0xBF58476D1CE4E5B9, -1, 1 << 64)) & M
    return unxorshift(x, 30)


def word(b):
    return struct.unpack("<Q", b)[0]


def client_for(i):
    """The client address whose 40-byte flow key hashes to i << 32."""
    w0 = word(PREFIX)
    w2, w3 = word(SERVER[:8]), word(SERVER[8:])
    w4 = word(struct.pack("<HHI", CPORT, SPORT, 0))
    h1 = mix64((SEED ^ 40) ^ w0)
    h = i << 32
    h = unmix64(h) ^ w4
    h = unmix64(h) ^ w3
    h = unmix64(h) ^ w2
    w1 = unmix64(h) ^ h1
    return PREFIX + struct.pack("<Q", w1)


def frame(src, dst, sport, dport, seq, ack, flags, payload=b""):
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 64240, 0, 0) + payload
    pseudo = src + dst + struct.pack("!IxxxB", len(tcp), 6)
    tcp = tcp[:16] + struct.pack("!H", csum(pseudo + tcp)) + tcp[18:]
    ip6 = struct.pack("!IHBB16s16s", 0x60000000, len(tcp), 6, 64, src, dst)
    return b"\x02\0\0\0\0\x01\x02\0\0\0\0\x02\x86\xdd" + ip6 + tcp


def hello():
    body = b"\x03\x03" + bytes(32) + b"\x00" + struct.pack("!H", 4) + b"\x13\x01\x13\x02"
    ext = b"\x00\x2b\x00\x03\x02\x03\x04"  # supported_versions: TLS 1.3
    body += b"\x01\x00" + struct.pack("!H", len(ext)) + ext
    hs = b"\x01" + struct.pack("!I", len(body))[1:] + body
    return b"\x16\x03\x01" + struct.pack("!H", len(hs)) + hs


def main():
    out, n = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 65536
    frames, t, h = [], 1000.0, hello()
    for i in range(n):
        c = client_for(i)
        frames.append((t, frame(c, SERVER, CPORT, SPORT, 1000, 0, 0x02)))
        frames.append((t + 1e-5, frame(SERVER, c, SPORT, CPORT, 5000, 1001, 0x12)))
        frames.append((t + 2e-5, frame(c, SERVER, CPORT, SPORT, 1001, 5001, 0x10)))
        frames.append((t + 3e-5, frame(c, SERVER, CPORT, SPORT, 1001, 5001, 0x18, h)))
        t += 1e-4
    write_pcap(out, frames)


if __name__ == "__main__":
    main()
