"""A tiny DNS responder and client for the network tests (no traffic leaves the machine).

Server: `python3 dnsserver.py ADDR PORT ZONE_JSON` answers UDP and TCP queries from a zone
{name: [[type, value], ...]} (types "A", "AAAA", "CNAME"; a CNAME is followed within
the zone), NXDOMAIN otherwise. Names under "bad." get crafted broken responses:
  loop.bad    an answer whose owner name is a compression pointer to itself
  trunc.bad   a response cut in the middle of its answer record
  label.bad   an answer owner with a reserved label type (0x40)
Over TCP, the answer to a name starting with "split." goes out in two segments (its last
A record in the second). It prints "ready" once bound.

Client helpers (import): query(server, name, qtype) -> (rcode, [(type, value, ttl)]),
query_tcp (the same over TCP),
build_query(name, qtype, qid).
"""
import ipaddress
import json
import random
import socket
import struct
import sys
import time

TYPES = {"A": 1, "CNAME": 5, "TXT": 16, "AAAA": 28}  # TXT: asked only
TTL = 300


def enc_name(name):
    out = b""
    for label in name.strip(".").split("."):
        if label:
            out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def build_query(name, qtype="A", qid=None):
    qid = random.randint(0, 0xffff) if qid is None else qid
    return struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0) + enc_name(name) + \
        struct.pack(">HH", TYPES[qtype], 1)


def parse_name(msg, off):
    labels, jumps, end = [], 0, None
    while True:
        n = msg[off]
        if n & 0xc0 == 0xc0:
            if end is None:
                end = off + 2
            off = ((n & 0x3f) << 8) | msg[off + 1]
            jumps += 1
            if jumps > 10:
                raise ValueError("loop")
            continue
        if n == 0:
            return ".".join(labels), (end if end is not None else off + 1)
        labels.append(msg[off + 1:off + 1 + n].decode())
        off += 1 + n


def parse_response(msg):
    qid, flags, qd, an, _, _ = struct.unpack(">HHHHHH", msg[:12])
    off = 12
    for _ in range(qd):
        _, off = parse_name(msg, off)
        off += 4
    answers = []
    for _ in range(an):
        _, off = parse_name(msg, off)
        t, _, ttl, rdlen = struct.unpack(">HHIH", msg[off:off + 10])
        off += 10
        rd = msg[off:off + rdlen]
        if t == 1:
            answers.append(("A", str(ipaddress.IPv4Address(rd)), ttl))
        elif t == 28:
            answers.append(("AAAA", str(ipaddress.IPv6Address(rd)), ttl))
        elif t == 5:
            answers.append(("CNAME", parse_name(msg, off)[0], ttl))
        off += rdlen
    return flags & 0xf, answers


def query(server, name, qtype="A", timeout=3.0):
    """Ask server (addr, port) once; returns (rcode, answers) or raises socket.timeout."""
    fam = socket.AF_INET6 if ":" in server[0] else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.settimeout(timeout)
    try:
        s.sendto(build_query(name, qtype), server)
        msg, _ = s.recvfrom(4096)
        return parse_response(msg)
    finally:
        s.close()


def resolve(server, name, qtype="A"):
    rcode, answers = query(server, name, qtype)
    addrs = [v for t, v, _ in answers if t == qtype]
    assert rcode == 0 and addrs, f"{name}: rcode {rcode}, answers {answers}"
    return addrs[0]


def rr(owner_bytes, t, rdata):
    return owner_bytes + struct.pack(">HHIH", t, 1, TTL, len(rdata)) + rdata


def answer(zone, msg):
    qid, flags = struct.unpack(">HH", msg[:4])
    qname, qend = parse_name(msg, 12)
    qtype = struct.unpack(">H", msg[qend:qend + 2])[0]
    question = msg[12:qend + 4]
    name = qname.lower()
    hdr = lambda rcode, an: struct.pack(">HHHHHH", qid, 0x8180 | rcode, 1, an, 0, 0)
    if name == "loop.bad":
        # owner name: a pointer to its own offset (12 + len(question))
        at = 12 + len(question)
        return hdr(0, 1) + question + rr(struct.pack(">H", 0xc000 | at), 1, b"\x0a\0\0\x01")
    if name == "trunc.bad":
        full = hdr(0, 1) + question + rr(b"\xc0\x0c", 1, b"\x0a\0\0\x01")
        return full[:-3]
    if name == "label.bad":
        return hdr(0, 1) + question + rr(b"\x41abc\0", 1, b"\x0a\0\0\x01")
    ans, seen = [], set()
    cur = name
    while cur in zone and cur not in seen:
        seen.add(cur)
        nxt = None
        for t, v in zone[cur]:
            if t == "CNAME":
                ans.append(rr(enc_name(cur), 5, enc_name(v)))
                nxt = v.lower()
            elif TYPES[t] == qtype:
                data = ipaddress.ip_address(v).packed
                ans.append(rr(enc_name(cur), TYPES[t], data))
        if not nxt:
            break
        cur = nxt
    if not ans:
        return hdr(3, 0) + question
    return hdr(0, len(ans)) + question + b"".join(ans)


def recv_exact(c, n):
    b = b""
    while len(b) < n:
        d = c.recv(n - len(b))
        if not d:
            raise EOFError
        b += d
    return b


def query_tcp(server, name, qtype="A", timeout=3.0):
    """The same over TCP (2-byte length prefix); returns (rcode, answers)."""
    c = socket.create_connection(server, timeout=timeout)
    try:
        q = build_query(name, qtype)
        c.sendall(struct.pack(">H", len(q)) + q)
        n = struct.unpack(">H", recv_exact(c, 2))[0]
        return parse_response(recv_exact(c, n))
    finally:
        c.close()


def serve_tcp(addr, port, zone):
    import threading
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    ls = socket.socket(fam, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((addr, port))
    ls.listen(16)

    def one(c):
        c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            while True:
                n = struct.unpack(">H", recv_exact(c, 2))[0]
                msg = recv_exact(c, n)
                out = struct.pack(">H", len(answer(zone, msg))) + answer(zone, msg)
                qname = parse_name(msg, 12)[0].lower()
                if qname.startswith("split."):
                    # two segments: all but the last A record, then that record
                    cut = len(out) - (len(enc_name(qname)) + 10 + 4)
                    c.sendall(out[:cut])
                    time.sleep(0.05)
                    out = out[cut:]
                c.sendall(out)
        except Exception:
            pass
        c.close()

    def loop():
        while True:
            c, _ = ls.accept()
            threading.Thread(target=one, args=(c,), daemon=True).start()
    threading.Thread(target=loop, daemon=True).start()


def serve(addr, port, zone):
    serve_tcp(addr, port, zone)
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))
    print("ready", flush=True)
    while True:
        msg, peer = s.recvfrom(4096)
        try:
            out = answer(zone, msg)
        except Exception:
            continue  # a crafted query: no answer
        s.sendto(out, peer)


if __name__ == "__main__":
    serve(sys.argv[1], int(sys.argv[2]), {k.lower(): v for k, v in json.loads(sys.argv[3]).items()})
