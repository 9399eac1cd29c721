"""Helpers shared by the capture generators (stdlib only): the Internet
checksum and a classic pcap writer."""
import struct


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def write_pcap(path, frames, offset=0):
    """frames: (time in seconds, Ethernet frame), written in time order;
    offset: whole seconds added to every time (after the microseconds are
    taken, so a large offset costs no precision)."""
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for t, fr in sorted(frames, key=lambda p: p[0]):
            sec = int(t)
            usec = int(round((t - sec) * 1e6))
            if usec >= 1000000:
                sec, usec = sec + 1, usec - 1000000
            sec += offset
            f.write(struct.pack("<IIII", sec, usec, len(fr), len(fr)) + fr)
