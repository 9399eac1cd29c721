#!/usr/bin/env python3
"""A scripted API client for the live farm testbed (stdlib only).

One code path for every population that runs "the operator's script": the
farm itself (through rotating proxy exits), its direct cloud members, and
the SDK customers who happen to use the very same client stack (same
Python, same OpenSSL, same TLS settings) with their own cadence and sizes.

  farm_client.py --exits FILE ...   rotate over the exits listed in FILE
  farm_client.py --direct ...       connect straight to the server

Each request is one TCP connection: (proxy handshake), TLS handshake, one
POST with a templated JSON body, read the answer. Every attempt is logged
as a JSON line (wall time, exit used, outcome) so that the scorer can tell
which exits were cut before their first request. Bounded: --seconds and a
per-request timeout; nothing is addressed but the server (and the proxies).
"""
import argparse
import json
import random
import socket
import ssl
import struct
import sys
import time

TIMEOUT = 4.0


def socks5_connect(sock, host, port):
    sock.sendall(b"\x05\x01\x00")
    if sock.recv(2) != b"\x05\x00":
        raise OSError("socks5: no acceptable method")
    sock.sendall(b"\x05\x01\x00\x01" + socket.inet_aton(host) + struct.pack("!H", port))
    rep = b""
    while len(rep) < 10:
        chunk = sock.recv(10 - len(rep))
        if not chunk:
            raise OSError("socks5: closed")
        rep += chunk
    if rep[1] != 0:
        raise OSError("socks5: reply %d" % rep[1])


def http_connect(sock, host, port):
    sock.sendall(("CONNECT %s:%d HTTP/1.1\r\nHost: %s:%d\r\n\r\n" % (host, port, host, port)).encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(512)
        if not chunk:
            raise OSError("connect: closed")
        head += chunk
        if len(head) > 8192:
            raise OSError("connect: oversized reply")
    if b" 200" not in head.split(b"\r\n", 1)[0]:
        raise OSError("connect: " + head.split(b"\r\n", 1)[0].decode(errors="replace"))


def tls_context():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.set_alpn_protocols(["http/1.1"])
    return ctx


def one_request(ctx, server, port, exit_, body, bind):
    """Returns None on success, else the error text."""
    try:
        if exit_:
            sock = socket.create_connection((exit_["host"], exit_["port"]), timeout=TIMEOUT)
            if exit_["kind"] in ("microsocks", "dante"):
                socks5_connect(sock, server, port)
            else:
                http_connect(sock, server, port)
        else:
            sock = socket.create_connection((server, port), timeout=TIMEOUT,
                                            source_address=(bind, 0) if bind else None)
        with ctx.wrap_socket(sock, server_hostname="api.example.test") as tls:
            req = ("POST /v1/complete HTTP/1.1\r\nHost: api.example.test\r\n"
                   "Content-Type: application/json\r\nContent-Length: %d\r\n"
                   "Connection: close\r\n\r\n" % len(body)).encode() + body
            tls.sendall(req)
            answer = tls.recv(4096)
            if not answer.startswith(b"HTTP/1.1 200"):
                return "answer: " + answer[:40].decode(errors="replace")
        return None
    except (OSError, ssl.SSLError) as e:
        return type(e).__name__ + ": " + str(e)[:80]


def templated_body(rng, size, cv):
    """A templated prompt: the same structure, a size around `size`."""
    n = max(16, int(rng.gauss(size, size * cv)))
    prompt = ("Summarise the following record in three bullet points. " * 64)[:n]
    return json.dumps({"model": "m-1", "max_tokens": 512, "prompt": prompt}).encode()


def exit_plan(rng, exits):
    """Each exit is used 1-5 times, most only once, in random order: a
    residential proxy pool hands out a fresh exit per session."""
    order = exits[:]
    rng.shuffle(order)
    for e in order:
        uses = rng.choices([1, 2, 3, 4, 5], weights=[60, 15, 10, 8, 7])[0]
        for _ in range(uses):
            yield e


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--server", required=True)
    ap.add_argument("--port", type=int, default=8443)
    ap.add_argument("--exits", help="file: kind host port exit_addr per line")
    ap.add_argument("--direct", action="store_true")
    ap.add_argument("--bind", default="", help="source address (direct)")
    ap.add_argument("--period", type=float, default=2.0, help="seconds between requests")
    ap.add_argument("--period-jitter", type=float, default=0.02, help="relative")
    ap.add_argument("--size", type=int, default=420)
    ap.add_argument("--size-cv", type=float, default=0.02)
    ap.add_argument("--seconds", type=float, default=120)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--log", required=True)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    ctx = tls_context()
    if a.exits:
        exits = []
        for line in open(a.exits):
            kind, host, port, addr = line.split()[:4]
            exits.append({"kind": kind, "host": host, "port": int(port), "addr": addr})
        plan = exit_plan(rng, exits)
    else:
        plan = None
    end = time.time() + a.seconds
    with open(a.log, "a") as log:
        while time.time() < end:
            exit_ = next(plan, None) if plan is not None else None
            if plan is not None and exit_ is None:
                break  # the pool is used up
            t0 = time.time()
            err = one_request(ctx, a.server, a.port, exit_, templated_body(rng, a.size, a.size_cv), a.bind)
            log.write(json.dumps({"t": t0, "exit": exit_["addr"] if exit_ else a.bind,
                                  "kind": exit_["kind"] if exit_ else "direct",
                                  "ok": err is None, "err": err,
                                  "ms": round((time.time() - t0) * 1000, 1)}) + "\n")
            log.flush()
            pause = a.period * (1 + rng.uniform(-a.period_jitter, a.period_jitter)) - (time.time() - t0)
            if pause > 0:
                time.sleep(min(pause, max(0.0, end - time.time())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
