"""DNS in the kernel: per process the names it asked (type, rcode, counts), and the
answers by address (CNAME chain, TTL). Broken packets are counted per reason and skipped.

A DNS responder of the test's own (dnsserver.py) runs in a network namespace.
"""
import struct

import dnsserver
import pytest

from nettest import ZONE_SUFFIX, net, ref  # noqa: F401


@pytest.fixture(autouse=True)
def _ids(net, vigil):
    net.vigil = vigil  # clients are identified by id with this daemon


def dns_of(vigil, pid, *args):
    return vigil.query("dns", "--pid", ref(pid), *args)


def test_questions_answers_and_cname_chain(vigil, net):
    web, svc = f"web.{ZONE_SUFFIX}", f"svc.{ZONE_SUFFIX}"
    pid, _ = net.client(f"""
assert dnsserver.resolve(DNS, {web!r}) == NS_IP
assert dnsserver.resolve(DNS, {web!r}) == NS_IP
assert dnsserver.query(DNS, "missing.{ZONE_SUFFIX}")[0] == 3
assert dnsserver.resolve(DNS, "V6.Vigil-Test.Example", "AAAA") == NS_IP6
""")
    rows = {(r["name"], r["qtype"]): r for r in dns_of(vigil, pid)}
    assert set(rows) == {(web, "A"), (f"missing.{ZONE_SUFFIX}", "A"),
                         (f"v6.{ZONE_SUFFIX}", "AAAA")}, rows
    w = rows[(web, "A")]
    assert (w["queries"], w["responses"], w["rcode"], w["answers"]) == (2, 2, "NOERROR", 1)
    assert [(a["addr"], a["ttl"], a["cname_chain"]) for a in w["addresses"]] == \
        [(net.NS_IP, dnsserver.TTL, f"{web},{svc}")]
    assert w["process"]["pid"] == pid and w["process"]["exited"] is True
    m = rows[(f"missing.{ZONE_SUFFIX}", "A")]
    assert (m["rcode"], m["answers"], m["addresses"]) == ("NXDOMAIN", 0, [])
    v6 = rows[(f"v6.{ZONE_SUFFIX}", "AAAA")]
    assert [a["addr"] for a in v6["addresses"]] == [net.NS_IP6]
    # --domain: the name and names under it; --exe
    assert {r["name"] for r in vigil.query("dns", "--pid", ref(pid), "--domain", ZONE_SUFFIX)} == \
        {web, f"missing.{ZONE_SUFFIX}", f"v6.{ZONE_SUFFIX}"}
    assert [r["name"] for r in vigil.query("dns", "--pid", ref(pid), "--domain", web)] == [web]
    text = vigil.cli("query", "dns", "--pid", ref(pid)).stdout
    assert "NXDOMAIN" in text and web in text


def raw_exchange(net, payloads, reply=True):
    """Send raw UDP payloads to the responder; returns the client's pid."""
    return net.client(f"""
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
for p in {payloads!r}:
    s.sendto(p, DNS)
    if {reply!r}:
        s.recvfrom(4096)
""")[0]


def test_malformed_truncated_and_pointer_loops_are_counted_and_skipped(vigil, net):
    before = vigil.status()["network"]["counters"]
    # responses crafted by the responder: owner pointer to itself, cut mid-record, reserved label
    pid = raw_exchange(net, [dnsserver.build_query(n) for n in ("loop.bad", "trunc.bad", "label.bad")])
    # queries crafted here (egress): a question that points to itself, one cut in a label,
    # two pointers pointing at each other, and one with a forward pointer
    hdr = struct.pack(">HHHHHH", 7, 0x0100, 1, 0, 0, 0)
    crafted = [
        hdr + b"\xc0\x0c" + b"\x00\x01\x00\x01",                  # self loop at offset 12
        hdr + b"\x05ab",                                          # truncated label
        hdr + b"\x01a\xc0\x0e" + b"\x00\x01\x00\x01",             # 'a' then pointer to itself+2... back at 14
        hdr + b"\xc0\x10\x00\x00\xc0\x0c" + b"\x00\x01\x00\x01",  # forward pointer
    ]
    raw_exchange(net, crafted, reply=False)
    after = vigil.wait_for(lambda: (lambda c: c if c["dns_pointer_loop"] >= before["dns_pointer_loop"] + 4
                                    else None)(vigil.status()["network"]["counters"]),
                           what="pointer loops counted")
    assert after["dns_pointer_loop"] - before["dns_pointer_loop"] == 4, (before, after)
    assert after["dns_truncated"] - before["dns_truncated"] == 2
    assert after["dns_malformed"] - before["dns_malformed"] == 1
    # nothing was recorded from the broken answers
    assert all(not r["addresses"] for r in dns_of(vigil, pid))
    # and DNS keeps working
    ok, _ = net.client(f'assert dnsserver.resolve(DNS, "other.{ZONE_SUFFIX}") == NS_IP')
    rows = dns_of(vigil, ok)
    assert [(r["name"], r["rcode"], r["responses"]) for r in rows] == \
        [(f"other.{ZONE_SUFFIX}", "NOERROR", 1)]


def domain_hash(name):
    """The domain hash (abi.h): FNV-1a 64 over the normalised name's bytes, last to first."""
    h = 0xcbf29ce484222325
    for c in reversed(name.encode()):
        h = ((h ^ c) * 0x100000001b3) & ((1 << 64) - 1)
    return h


def test_kernel_domain_hash_is_the_documented_one(vigil, net):
    """The kernel keys a question by the domain hash the network policy shares: a lookup with
    the hash computed here (from the mixed-case name, normalised) finds the kernel's entry."""
    import kmaps
    pid, _ = net.client(f'dnsserver.query(DNS, "Other.VIGIL-test.example", "A")\n'
                        f'dnsserver.query(DNS, "other.vigil-test.example.", "A")')
    row = [r for r in dns_of(vigil, pid)]
    assert [r["name"] for r in row] == [f"other.{ZONE_SUFFIX}"] and row[0]["queries"] == 2
    start = int(row[0]["process"]["id"].split("@")[1])
    maps = kmaps.DaemonMaps(vigil.proc.pid)
    try:
        key = struct.pack("<QIIQH6x", start, pid, 0, domain_hash(f"other.{ZONE_SUFFIX}"), 1)
        val = maps.lookup("vg_dnsq", key)
        assert val is not None, "no entry under the documented hash"
        assert struct.unpack_from("<II", val, 24) == (2, 2)  # queries, responses
        wrong = struct.pack("<QIIQH6x", start, pid, 0, kmaps.name_hash(f"other.{ZONE_SUFFIX}"), 1)
        assert maps.lookup("vg_dnsq", wrong) is None
    finally:
        maps.close()


def test_dns_over_tcp(vigil, net):
    """A TCP query and response (one length-prefixed message per segment) are parsed too,
    and the flow to port 53/tcp gets the name."""
    name = f"svc.{ZONE_SUFFIX}"
    pid, _ = net.client(f"""
rcode, ans = dnsserver.query_tcp(DNS, {name!r})
assert rcode == 0 and ans == [("A", NS_IP, dnsserver.TTL)], ans
""")
    rows = dns_of(vigil, pid)
    assert [(r["name"], r["queries"], r["responses"], r["rcode"]) for r in rows] == \
        [(name, 1, 1, "NOERROR")]
    assert [a["addr"] for a in rows[0]["addresses"]] == [net.NS_IP]
    tcp = [f for f in vigil.query("flows", "--pid", ref(pid)) if f["proto"] == "tcp"]
    assert [f["remote_port"] for f in tcp] == [53]


def test_dns_over_tcp_message_split_over_segments(vigil, net):
    """A TCP response spanning two segments: the first segment's part is parsed (the
    question, the first answer; the rest counted as larger than what was seen), the second
    is known as the rest of that message, not taken for another — and the next message on
    the same connection is parsed whole."""
    split, svc = f"split.{ZONE_SUFFIX}", f"svc.{ZONE_SUFFIX}"
    before = vigil.status()["network"]["counters"]
    pid, _ = net.client(f"""
import struct
c = socket.create_connection(DNS, timeout=3)
for name, n_ans in (({split!r}, 2), ({svc!r}, 1)):
    q = dnsserver.build_query(name)
    c.sendall(struct.pack(">H", len(q)) + q)
    n = struct.unpack(">H", dnsserver.recv_exact(c, 2))[0]
    rcode, ans = dnsserver.parse_response(dnsserver.recv_exact(c, n))
    assert rcode == 0 and len(ans) == n_ans, ans
c.close()
""")
    rows = {r["name"]: r for r in dns_of(vigil, pid)}
    assert set(rows) == {split, svc}, rows
    assert rows[split]["responses"] == 1 and rows[split]["rcode"] == "NOERROR"
    assert [a["addr"] for a in rows[split]["addresses"]] == ["10.99.0.1"]  # the first segment's
    assert [a["addr"] for a in rows[svc]["addresses"]] == [net.NS_IP]
    after = vigil.status()["network"]["counters"]
    assert after["dns_tcp_not_parsed"] == before["dns_tcp_not_parsed"], (before, after)
    assert after["dns_larger_than_window"] > before["dns_larger_than_window"]
