#!/usr/bin/env python3
"""A real TLS client (Python's ssl, the system OpenSSL) whose first flight
is re-framed before it goes out: the same ClientHello message, in TLS
records of another shape, as a client hiding its fingerprint would send
it. The rest of the handshake and one HTTP request follow unchanged.

  shaped_hello.py SHAPE HOST PORT
  SHAPE: plain    the hello as OpenSSL frames it (one record)
         empty    an empty handshake record ahead of it and another one
                  in the middle of the message
         records  the message cut into 4-byte records (~130 of them)

Prints "ok CPORT STATUS" when the server answered the request, "fail
CPORT WHY" otherwise; every step is bounded (3 s a socket read)."""
import socket
import ssl
import sys


def rec(body):
    return b"\x16\x03\x01" + len(body).to_bytes(2, "big") + body


def reshape(flight, shape):
    if shape == "plain" or flight[:1] != b"\x16":
        return flight
    n = int.from_bytes(flight[3:5], "big")
    body, rest = flight[5:5 + n], flight[5 + n:]
    if shape == "empty":
        return rec(b"") + rec(body[:40]) + rec(b"") + rec(body[40:]) + rest
    return b"".join(rec(body[i:i + 4]) for i in range(0, len(body), 4)) + rest


def main():
    shape, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
    inb, outb = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = ctx.wrap_bio(inb, outb, server_hostname="api.example.test")
    sock = socket.create_connection((host, port), timeout=3)
    cport = sock.getsockname()[1]
    first = True

    def flush():
        nonlocal first
        data = outb.read()
        if data:
            sock.sendall(reshape(data, shape) if first else data)
            first = False

    def pump():
        data = sock.recv(65536)
        if not data:
            raise ConnectionError("closed by the server")
        inb.write(data)

    try:
        while True:
            try:
                tls.do_handshake()
                flush()
                break
            except ssl.SSLWantReadError:
                flush()
                pump()
        tls.write(b"GET / HTTP/1.1\r\nHost: api.example.test\r\nConnection: close\r\n\r\n")
        flush()
        reply = b""
        while b"\r\n" not in reply:
            try:
                reply += tls.read(4096)
            except ssl.SSLWantReadError:
                pump()
        print("ok %d %s" % (cport, reply.split(b" ")[1].decode()))
    except (OSError, ssl.SSLError, ConnectionError) as e:
        print("fail %d %s" % (cport, type(e).__name__))
    finally:
        sock.close()


if __name__ == "__main__":
    main()
