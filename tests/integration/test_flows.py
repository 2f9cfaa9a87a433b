"""Flows in the kernel: per process, per (protocol, local, remote), bytes and packets each way.

Real sockets between this namespace and a test namespace joined by a veth pair; the
numbers `vigil query flows` reports must be exactly what the processes sent and got.
bytes = L4 payload; packets = packets the cgroup skb hooks saw.
"""
import os
import subprocess
import sys
import time

import dnsserver
import pytest

from nettest import (CLOSED_PORT, EXCHANGE, RESP, TCP_PORT, UDP_PORT, ZONE_SUFFIX,  # noqa: F401
                     flows_of, net, one_flow, ref)


@pytest.fixture(autouse=True)
def _ids(net, vigil):
    net.vigil = vigil  # clients are identified by id with this daemon


def test_tcp_and_udp_exact_counts_with_remote_names(vigil, net):
    """Resolve a name (CNAME -> A), send 12345 bytes over TCP, get 7777 back; UDP echo 5 datagrams."""
    name = f"web.{ZONE_SUFFIX}"
    pid, out = net.client(f"""
ip = dnsserver.resolve(DNS, {name!r})
got = exchange(ip, {TCP_PORT}, b"a" * 12345)
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for n in range(100, 105):
    u.sendto(b"u" * n, (ip, {UDP_PORT}))
    assert len(u.recvfrom(65536)[0]) == n
u.close()
print(got)
""")
    assert int(out) == RESP
    flows = vigil.wait_for(
        lambda: (lambda f: f if one_flow(f, "tcp", net.NS_IP, TCP_PORT)["state"] == "closed"
                 else None)(flows_of(vigil, pid)), what="tcp flow closed")
    tcp = one_flow(flows, "tcp", net.NS_IP, TCP_PORT)
    assert (tcp["tx_bytes"], tcp["rx_bytes"]) == (12345, RESP)
    assert tcp["initiator"] == "connect" and tcp["ip_version"] == 4
    assert tcp["local_addr"] == net.HOST_IP
    assert tcp["process"]["pid"] == pid
    assert name in tcp["remote_names"], tcp
    # handshake + data + FIN each way at least; GSO makes the exact TCP count the stack's choice
    assert tcp["tx_packets"] >= 3 and tcp["rx_packets"] >= 3
    udp = one_flow(flows, "udp", net.NS_IP, UDP_PORT)
    assert (udp["tx_bytes"], udp["rx_bytes"]) == (sum(range(100, 105)),) * 2
    assert (udp["tx_packets"], udp["rx_packets"]) == (5, 5)
    assert udp["initiator"] == "send"
    # the DNS exchange itself is a flow: exactly one query out, one response in
    dns = one_flow(flows, "udp", net.NS_IP, 53)
    q = dnsserver.build_query(name, "A", 0)
    assert (dns["tx_bytes"], dns["rx_bytes"]) == (len(q), len(dnsserver.answer(
        {k.lower(): v for k, v in net.zone.items()}, q)))
    assert (dns["tx_packets"], dns["rx_packets"]) == (1, 1)
    # the server's side of the same connection, accepted in the other namespace
    srv = [f for f in vigil.query("flows", "--json") if f["local_addr"] == net.NS_IP
           and f["local_port"] == TCP_PORT and f["remote_port"] == tcp["local_port"]]
    assert len(srv) == 1, srv
    assert (srv[0]["rx_bytes"], srv[0]["tx_bytes"]) == (12345, RESP)
    assert srv[0]["initiator"] == "accept"
    # accepted: the listener's owner, the server process in the other namespace
    assert srv[0]["process"]["pid"] == net.server_pid, srv[0]["process"]


def test_short_lived_process_fully_attributed(vigil, net):
    """Connect, send, exit at once (no close): every byte counts for the exited process."""
    pid, _ = net.client(f"""
c = socket.create_connection((NS_IP, {TCP_PORT}))
t = time.monotonic()
c.sendall(b"z" * 3000)
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.sendto(b"q" * 321, (NS_IP, {UDP_PORT}))
assert time.monotonic() - t < 0.010
os._exit(0)
""")
    tcp = vigil.wait_for(lambda: (lambda f: f if f["tx_bytes"] == 3000 else None)(
        one_flow(flows_of(vigil, pid), "tcp", net.NS_IP, TCP_PORT)), what="3000 bytes")
    assert tcp["process"]["exited"] is True and tcp["process"]["pid"] == pid
    udp = one_flow(flows_of(vigil, pid), "udp", net.NS_IP, UDP_PORT)
    assert (udp["tx_bytes"], udp["tx_packets"]) == (321, 1)


def test_listener_row_from_listen_to_close(vigil, net):
    """A listener's row is made at listen(), before any client (0 packets), counts exactly the
    SYNs it gets (one per connection asked: rx), and nothing of the handshakes' other packets;
    each accepted connection has its own row. Closed, its row stays (for retention), closed."""
    p = subprocess.Popen([sys.executable, "-c", """
import socket, sys
l = socket.socket()
l.bind(("127.0.0.1", 0))
l.listen(16)
idle = socket.socket()
idle.bind(("127.0.0.1", 0))
idle.listen(1)
print(l.getsockname()[1], idle.getsockname()[1], flush=True)
sys.stdin.readline()
for _ in range(7):
    c = socket.create_connection(l.getsockname())
    a, _ = l.accept()
    c.sendall(b"hi")
    assert a.recv(2) == b"hi"
    c.close()
    a.close()
l.close()
print("done", flush=True)
sys.stdin.readline()
"""], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    pid = p.pid
    port, idle_port = (int(x) for x in p.stdout.readline().split())
    lrow = lambda p: [f for f in flows_of(vigil, pid) if f["proto"] == "tcp"
                      and f["local_port"] == p and f["remote_port"] is None]
    before = lrow(port)
    assert len(before) == 1 and before[0]["rx_packets"] == 0, before
    assert (before[0]["state"], before[0]["initiator"]) == ("listen", "accept"), before
    assert before[0]["remote_addr"] is None and before[0]["local_addr"] == "127.0.0.1"
    p.stdin.write("go\n")
    p.stdin.flush()
    assert p.stdout.readline() == "done\n"
    after = lrow(port)
    assert len(after) == 1, after
    assert (after[0]["rx_packets"], after[0]["tx_packets"]) == (7, 0), after
    assert after[0]["state"] == "closed", after  # l.close()
    assert after[0]["rx_bytes"] == 0 and after[0]["sockets"] == 1, after
    accepted = [f for f in flows_of(vigil, pid) if f["local_port"] == port
                and f["remote_port"] is not None]
    assert len(accepted) == 7 and all(f["rx_bytes"] == 2 and f["initiator"] == "accept"
                                      for f in accepted), accepted
    idle = lrow(idle_port)
    assert len(idle) == 1 and (idle[0]["rx_packets"], idle[0]["tx_packets"]) == (0, 0), idle
    assert idle[0]["state"] == "listen", idle
    p.communicate("go\n", timeout=10)


def test_reset_after_close_is_counted(vigil, net):
    """close() with SO_LINGER 0 sends a reset after the socket reached CLOSE (whose row is set
    from the kernel's counters before it): the reset is one more packet out, no bytes."""
    pid, _ = net.client(f"""
import struct
c = socket.create_connection((NS_IP, {TCP_PORT}))
c.sendall(b"r" * 10)
time.sleep(0.2)  # the server's ACK: nothing for the client to answer
c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
c.close()
""")
    f = vigil.wait_for(lambda: (lambda r: r if r["state"] == "closed" else None)(
        one_flow(flows_of(vigil, pid), "tcp", net.NS_IP, TCP_PORT)), what="closed")
    # SYN, the handshake's ACK, the data, the reset
    assert (f["tx_packets"], f["tx_bytes"]) == (4, 10), f


def test_refused_connection(vigil, net):
    pid, _ = net.client(f"""
try:
    socket.create_connection((NS_IP, {CLOSED_PORT}), timeout=5)
    sys.exit("connected?")
except ConnectionRefusedError:
    pass
""")
    f = one_flow(flows_of(vigil, pid), "tcp", net.NS_IP, CLOSED_PORT)
    assert f["state"] == "refused" and f["initiator"] == "connect"
    assert (f["tx_packets"], f["rx_packets"]) == (1, 1) and f["tx_bytes"] == 0


def test_ipv6_exact_counts(vigil, net):
    """AAAA resolution, then TCP over IPv6; --domain finds it by the name."""
    name = f"v6.{ZONE_SUFFIX}"
    pid, _ = net.client(f"""
ip = dnsserver.resolve(DNS, {name!r}, "AAAA")
assert ip == NS_IP6, ip
exchange(ip, {TCP_PORT}, b"6" * 4321)
u = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
u.sendto(b"x" * 66, (ip, {UDP_PORT}))
u.recvfrom(100)
""")
    flows = flows_of(vigil, pid)
    tcp = one_flow(flows, "tcp", net.NS_IP6, TCP_PORT)
    assert tcp["ip_version"] == 6 and tcp["local_addr"] == net.HOST_IP6
    assert (tcp["tx_bytes"], tcp["rx_bytes"]) == (4321, RESP)
    assert tcp["remote_names"] == [name]
    udp = one_flow(flows, "udp", net.NS_IP6, UDP_PORT)
    assert (udp["tx_bytes"], udp["rx_bytes"], udp["tx_packets"], udp["rx_packets"]) == (66, 66, 1, 1)
    hits = vigil.query("flows", "--domain", name)
    assert [(f["process"]["pid"], f["remote_addr"]) for f in hits if f["proto"] == "tcp"] == \
        [(pid, net.NS_IP6)]


def test_domain_finds_flows_by_resolved_name(vigil, net):
    """--domain matches the asked name, a parent domain of it, or a CNAME on the way."""
    pid, _ = net.client(f"""
ip = dnsserver.resolve(DNS, "web.{ZONE_SUFFIX}")
c = socket.create_connection((ip, {TCP_PORT}))
c.close()
""")
    for d in (f"web.{ZONE_SUFFIX}", ZONE_SUFFIX, f"svc.{ZONE_SUFFIX}"):
        hits = [f for f in vigil.query("flows", "--domain", d) if f["process"]["pid"] == pid]
        assert [f["remote_port"] for f in hits if f["proto"] == "tcp"] == [TCP_PORT], d
    assert not [f for f in vigil.query("flows", "--domain", "nowhere.example")
                if f["process"]["pid"] == pid]
    # a name that merely ends the same way is not under the domain
    assert not vigil.query("flows", "--domain", "b." + ZONE_SUFFIX)


def test_since_returns_only_the_window(vigil, net):
    """A flow is in the window when its last packet is: UDP from the hooks' clock, TCP from
    the kernel's time of the connection's last segment (tcp_mstamp, another clock)."""
    script = f"""
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.sendto(b"s" * 10, (NS_IP, {UDP_PORT}))
u.recvfrom(100)
exchange(NS_IP, {TCP_PORT}, b"t" * 10)
"""
    old, _ = net.client(script)
    time.sleep(10)
    new, _ = net.client(script)

    def rows(since):
        return {(f["process"]["pid"], f["proto"]) for f in vigil.query("flows", "--since", since)}
    r = rows("6s")
    assert {(new, "udp"), (new, "tcp")} <= r and not {(old, "udp"), (old, "tcp")} & r
    assert {(new, "udp"), (new, "tcp"), (old, "udp"), (old, "tcp")} <= rows("5m")


def test_tree_aggregates_a_process_tree(vigil, net):
    """--pid P --tree: the flows of P and every descendant (exited ones too), grouped by lineage."""
    pid, out = net.client(f"""
import subprocess
kids = []
for i in range(2):
    p = subprocess.Popen([sys.executable, "-c",
        "import socket; c = socket.create_connection(({net.NS_IP!r}, {TCP_PORT})); "
        "c.sendall(b'k' * (1000 + %d)); c.close()" % i])
    p.wait()
    kids.append(p.pid)
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.sendto(b"p" * 7, (NS_IP, {UDP_PORT}))
u.recvfrom(100)
print(*kids)
""")
    kids = [int(x) for x in out.split()]
    alone = flows_of(vigil, pid)
    assert {f["process"]["pid"] for f in alone} == {pid}, (ref(pid), [
        (f["process"]["id"], f["proto"], f["tx_bytes"]) for f in vigil.query("flows")
        if f["process"]["pid"] in [pid, *kids]], vigil.query("procs", "--pid", pid))
    tree = vigil.query("flows", "--pid", ref(pid), "--tree")
    assert {f["process"]["pid"] for f in tree} == {pid, *kids}
    sent = sorted(f["tx_bytes"] for f in tree if f["proto"] == "tcp")
    assert sent == [1000, 1001]
    # lineage: the parent's rows first, each child's lineage ends with the parent
    assert tree[0]["process"]["pid"] == pid
    for f in tree:
        if f["process"]["pid"] in kids:
            assert f["lineage"][-1].startswith(f"{pid}@")
    text = vigil.cli("query", "flows", "--pid", ref(pid), "--tree").stdout
    assert "└─" in text and str(kids[0]) in text


def test_status_reports_network_state(vigil, net):
    st = vigil.status()["network"]
    assert st["flows"] > 0 and st["flows_max"] > 0 and st["cgroup_root"]
    c = st["counters"]
    assert c["flows_created"] >= st["flows"] and c["flow_insert_failures"] == 0
    progs = {p["name"]: p for p in vigil.status()["programs"]}
    assert progs["vg_skb_egress"]["run_count"] > 0 and progs["vg_skb_ingress"]["run_count"] > 0


def test_flows_and_dns_leave_with_their_process(make_daemon, net):
    """Retention: a flow (and a DNS question) lives exactly as long as its process's record."""
    d = make_daemon(["--retention", "1s", "--gc-interval", "200ms"]).start(["--reset-state"])
    net.vigil = d
    pid, _ = net.client(f"""
ip = dnsserver.resolve(DNS, "other.{ZONE_SUFFIX}")
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.sendto(b"r" * 5, (ip, {UDP_PORT}))
u.recvfrom(100)
""")
    assert flows_of(d, pid) and d.query("dns", "--pid", ref(pid))
    d.wait_for(lambda: d.cli("query", "flows", "--pid", ref(pid), "--json",
                             check=False).returncode != 0,
               timeout=30, what="process aged out")
    keys = lambda: [f for f in d.query("flows") if f["process"]["pid"] == pid]
    d.wait_for(lambda: not keys(), timeout=30, what="flows gone")
    d.wait_for(lambda: not [r for r in d.query("dns") if r["process"]["pid"] == pid],
               timeout=30, what="DNS questions gone")
    c = d.status()["network"]["counters"]
    assert c["flows_evicted"] >= 2 and c["dns_entries_evicted"] >= 1
    # a live process's finished flows age out too; its listener stays
    srv = lambda: [f for f in d.query("flows") if f["local_addr"] == net.NS_IP
                   and f["local_port"] == UDP_PORT]
    d.wait_for(lambda: not srv(), timeout=30, what="idle UDP flows of the live server gone")


def test_full_flow_table_is_counted(make_daemon, net):
    """--max-flows bounds the table; when it is full the least recently used flows make room
    for new ones, and every flow that left is counted — never silently lost."""
    d = make_daemon(["--max-flows", "1024", "--gc-interval", "200ms"]).start(["--reset-state"])
    net.vigil = d
    pid, _ = net.client(f"""
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for port in range(20000, 21500):
    u.sendto(b"f", ("127.0.0.1", port))
u.sendto(b"last", (NS_IP, {UDP_PORT}))
""")
    st = d.status()["network"]
    assert st["flows_max"] == 1024 and st["flows"] <= 1024
    assert st["counters"]["flows_created"] >= 1501
    # the newest flow made it in
    assert one_flow(flows_of(d, pid), "udp", net.NS_IP, UDP_PORT)["tx_bytes"] == 4
    # the daemon accounts for those pushed out: created = present + evicted
    c = d.wait_for(lambda: (lambda s: s if s["counters"]["flows_evicted"] >= 1501 - 1024 else None)(
        d.status()["network"]), timeout=60, what="evictions counted")
    assert c["counters"]["flows_created"] - c["flows"] <= c["counters"]["flows_evicted"]


def test_socket_counts_for_its_creator_after_fork_and_exec(vigil, net):
    """A socket passed to a child (fork + exec, inherited fd) keeps counting for the process
    that created it; the child, which created no socket, has no flow."""
    pid, out = net.client(f"""
import subprocess
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.connect((NS_IP, {UDP_PORT}))
u.send(b"p" * 11)
fd = u.fileno()
child = subprocess.Popen([sys.executable, "-c",
    "import socket; s = socket.socket(fileno=%d); s.send(b'c' * 222); s.recv(1000); s.recv(1000)" % fd],
    pass_fds=[fd])
child.wait()
assert child.returncode == 0
print(child.pid)
""")
    child = int(out)
    mine = flows_of(vigil, pid)
    assert mine, ("no flow for", ref(pid), "flows to the port:",
                  [(x["process"]["id"], x["tx_bytes"]) for x in vigil.query("flows")
                   if x.get("remote_addr") == net.NS_IP and x["remote_port"] == UDP_PORT],
                  vigil.status()["network"]["counters"])
    f = one_flow(mine, "udp", net.NS_IP, UDP_PORT)
    assert (f["tx_bytes"], f["tx_packets"], f["rx_bytes"]) == (11 + 222, 2, 11 + 222)
    assert f["initiator"] == "connect"
    tree = vigil.query("flows", "--pid", ref(pid), "--tree")
    assert {r["process"]["pid"] for r in tree} == {pid}  # the child made no flow of its own


def test_open_connection_counts_are_exact(vigil, net):
    """While a connection is open, both ends' counts are exact: the client here and the
    server it accepted in the other network namespace (a connected socket counts its
    packets in its own storage; reading the flow table adds them to the rows)."""
    c = subprocess.Popen([sys.executable, "-c", f"""
import socket, sys
c = socket.create_connection(({net.NS_IP!r}, {TCP_PORT}))
c.sendall(b"o" * 5000)
print(c.getsockname()[1], flush=True)
sys.stdin.readline()
c.sendall(b"p" * 1000)
print("more", flush=True)
sys.stdin.readline()
"""], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        lport = int(c.stdout.readline())

        def ends(tx):
            rows = vigil.query("flows", "--json")
            cli = [f for f in rows if f["process"]["pid"] == c.pid and f["remote_port"] == TCP_PORT
                   and f["local_port"] == lport]
            srv = [f for f in rows if f["local_addr"] == net.NS_IP and f["local_port"] == TCP_PORT
                   and f["remote_port"] == lport]
            if len(cli) == 1 and len(srv) == 1 and cli[0]["tx_bytes"] == tx and \
                    srv[0]["rx_bytes"] == tx:
                return cli[0], srv[0]
            return None
        cli, srv = vigil.wait_for(lambda: ends(5000), what="both ends at 5000 bytes")
        assert cli["state"] == "open" and srv["state"] == "open"
        assert cli["rx_bytes"] == 0 and srv["tx_bytes"] == 0
        # more data on the same (now known) connection: still exact, still open
        c.stdin.write("go\n")
        c.stdin.flush()
        assert c.stdout.readline().strip() == "more"
        cli, srv = vigil.wait_for(lambda: ends(6000), what="both ends at 6000 bytes")
        assert cli["state"] == "open" and cli["tx_packets"] >= 2
    finally:
        c.kill()
        c.wait()


def conn_key(sock):
    """A TCP connection's row key: its socket cookie alone (abi.h; kmaps flow_row)."""
    import socket
    import struct
    cookie = struct.unpack("<Q", sock.getsockopt(socket.SOL_SOCKET, 57, 8))[0]  # SO_COOKIE
    return struct.pack("<Q16s16sHHBBH", cookie, bytes(16), bytes(16), 0, 0, 6, 0, 0)


def conn_key_of(cookie):
    import struct
    return struct.pack("<Q16s16sHHBBH", cookie, bytes(16), bytes(16), 0, 0, 6, 0, 0)


def parse_flow(raw):
    """struct vg_flow (abi.h) -> dict."""
    import struct
    (start, tgid, _, first, last, txb, rxb, txp, rxp, init, state, _, _, _, cookie, laddr, raddr,
     lport, rport, proto, family, _) = struct.unpack("<QIIQQQQQQII" "HHI" "Q16s16sHHBBH", raw[:128])
    return dict(tgid=tgid, start_ns=start, first_ns=first, last_ns=last, tx_bytes=txb,
                rx_bytes=rxb, tx_pkts=txp, rx_pkts=rxp, init=init, state=state,
                lport=lport, rport=rport, family=family)


def test_open_connection_outlives_its_creators_row(make_daemon, net):
    """A connection's row leaves the table with its creator (exited, past the retention
    window) while another process — this test, which got the socket over a unix socket —
    still holds it open: the next read of the table makes the row again from the socket,
    now the holder's, with the whole connection's counts (the kernel's own, so nothing
    sent while the row was gone is lost)."""
    import socket
    import struct

    import kmaps
    d = make_daemon(["--retention", "2s", "--gc-interval", "200ms"]).start(["--reset-state"])
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    p = subprocess.Popen([sys.executable, "-c", f"""
import socket
b = socket.socket(fileno={b.fileno()})
c = socket.create_connection(({net.NS_IP!r}, {TCP_PORT}))
c.sendall(b"a" * 1000)
socket.send_fds(b, [str(c.getsockname()[1]).encode()], [c.fileno()])
"""], pass_fds=[b.fileno()])
    conn = maps = None
    try:
        msg, fds, _, _ = socket.recv_fds(a, 64, 1)
        conn = socket.socket(fileno=fds[0])
        lport = int(msg)
        assert p.wait(timeout=10) == 0

        def rows():
            return [f for f in d.query("flows", "--json") if f["proto"] == "tcp"
                    and f["local_port"] == lport and f["remote_port"] == TCP_PORT]
        first = d.wait_for(lambda: rows() or None, what="the connection's row")
        assert len(first) == 1 and first[0]["tx_bytes"] == 1000
        assert first[0]["process"]["pid"] == p.pid
        # the row itself, read from the kernel's table (a query would make it again)
        key = conn_key(conn)
        maps = kmaps.DaemonMaps(d.proc.pid)
        assert maps.flow_row(key) is not None
        d.wait_for(lambda: maps.flow_row(key) is None, timeout=30,
                   what="the row aged out with its creator")
        conn.sendall(b"b" * 2000)
        again = d.wait_for(lambda: (lambda r: r if r and r[0]["tx_bytes"] == 3000 else None)(
            rows()), what="the row made again, 3000 bytes")
        assert len(again) == 1, again
        assert again[0]["state"] == "open", again
        assert again[0]["process"]["pid"] == os.getpid()  # the holder's now
    finally:
        if maps:
            maps.close()
        if conn:
            conn.close()
        a.close()
        b.close()
        p.kill()
        p.wait()


def test_tcp_connection_has_its_row_from_connect(vigil, net):
    """A TCP connection's row is made when it starts — keyed by its socket cookie, with
    connect()'s caller as owner, before any packet is counted or the table is read — and
    brought up to date from the socket: its addresses and counts when the table is read,
    its end at CLOSE (read straight from the kernel's table: a query would redo it)."""
    import kmaps
    c = subprocess.Popen([sys.executable, "-c", f"""
import socket, struct, sys
c = socket.create_connection(({net.NS_IP!r}, {TCP_PORT}))
cookie = struct.unpack("<Q", c.getsockopt(socket.SOL_SOCKET, 57, 8))[0]
print(cookie, c.getsockname()[1], flush=True)
sys.stdin.readline()
c.sendall(b"x" * 4321)
c.shutdown(socket.SHUT_WR)
while c.recv(65536):
    pass
c.close()
print("closed", flush=True)
sys.stdin.readline()
"""], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    maps = kmaps.DaemonMaps(vigil.proc.pid)
    try:
        cookie, lport = map(int, c.stdout.readline().split())
        key = conn_key_of(cookie)
        raw = maps.flow_row(key)
        assert raw is not None, "no row for a connection just made"
        r = parse_flow(raw)
        assert (r["tgid"], r["init"], r["state"]) == (c.pid, 1, 0), r  # connect, open
        assert r["rport"] == TCP_PORT and r["family"] == 4, r
        # a query brings it up to date from the socket: its local port
        rows = vigil.wait_for(lambda: [f for f in vigil.query("flows", "--pid", str(c.pid), "--json")
                                       if f["proto"] == "tcp" and f["local_port"] == lport] or None,
                              what="the connection in a query")
        assert len(rows) == 1 and rows[0]["initiator"] == "connect", rows
        assert parse_flow(maps.flow_row(key))["lport"] == lport
        c.stdin.write("go\n")
        c.stdin.flush()
        assert c.stdout.readline().strip() == "closed"
        r = vigil.wait_for(lambda: (lambda x: x if x["state"] == 1 else None)(
            parse_flow(maps.flow_row(key))), what="the row closed at CLOSE")
        assert r["tx_bytes"] == 4321 and r["tgid"] == c.pid, r
    finally:
        maps.close()
        c.kill()
        c.wait()


def test_connection_older_than_the_daemon_is_its_holders(make_daemon, net):
    """A TCP connection open before the daemon started has no row: reading the flow table
    makes it, owned by the process holding it (this test), which the row keeps to CLOSE,
    with the whole connection's counts."""
    import os
    import socket
    c = socket.create_connection((net.NS_IP, TCP_PORT))
    try:
        c.sendall(b"q" * 777)
        lport = c.getsockname()[1]
        d = make_daemon([]).start(["--reset-state"])

        def row():
            r = [f for f in d.query("flows", "--json") if f["proto"] == "tcp"
                 and f["local_port"] == lport and f["remote_port"] == TCP_PORT]
            assert len(r) <= 1, r
            return r[0] if r else None
        r = d.wait_for(row, what="the old connection's row")
        assert r["process"]["pid"] == os.getpid() and r["state"] == "open"
        assert r["tx_bytes"] == 777 and r["initiator"] == "unknown"
        c.sendall(b"q" * 223)
        c.shutdown(socket.SHUT_WR)
        while c.recv(65536):
            pass
        c.close()
        r = d.wait_for(lambda: (lambda x: x if x and x["state"] == "closed" else None)(row()),
                       what="the row closed")
        assert (r["tx_bytes"], r["rx_bytes"]) == (1000, RESP)
        assert r["process"]["pid"] == os.getpid()
    finally:
        c.close()


def test_connection_slots_full_and_overwritten_are_counted(make_daemon, net):
    """TCP connections' rows live in slots chosen by socket cookie (--max-flows 1024: 1024
    slots, abi.h vg_conn). Connections held open past what their slots can take go to the flow hash,
    counted (connection_slots_full), and every one is still its process's with its exact
    bytes. Closed connections' rows are overwritten by later connections like a ring,
    counted (connections_overwritten); the newest are kept."""
    d = make_daemon(["--max-flows", "1024"]).start(["--reset-state"])
    st = d.status()["network"]
    assert (st["connections_max"], st["connections"]) == (1024, 0), st
    # 600 connections open at once: 1200 with the server's ends (on this host too)
    c = subprocess.Popen([sys.executable, "-c", f"""
import socket, sys
cs = [socket.create_connection(({net.NS_IP!r}, {TCP_PORT})) for _ in range(600)]
for i, c in enumerate(cs):
    c.sendall(b"o" * (i + 1))
print(" ".join(str(c.getsockname()[1]) for c in cs), flush=True)
sys.stdin.readline()
for c in cs:
    c.close()
print("closed", flush=True)
n = int(sys.stdin.readline())
{EXCHANGE}
for i in range(n):
    exchange({net.NS_IP!r}, {TCP_PORT}, b"w" * (1001 + i))
print("done", flush=True)
sys.stdin.readline()
"""], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        ports = list(map(int, c.stdout.readline().split()))

        def mine():
            return {f["local_port"]: f for f in d.query("flows", "--json")
                    if f["proto"] == "tcp" and f["remote_port"] == TCP_PORT
                    and f["process"]["pid"] == c.pid}
        rows = d.wait_for(lambda: (lambda r: r if all(
            p in r and r[p]["tx_bytes"] == i + 1 for i, p in enumerate(ports)) else None)(mine()),
            timeout=60, what="the 600 open connections, exact bytes")
        assert all(rows[p]["state"] == "open" and rows[p]["initiator"] == "connect"
                   for p in ports), rows
        # the server's ends (its listener predates this daemon, so they get their rows when
        # the table is read, once the server accepted them)
        d.wait_for(lambda: len({f["remote_port"] for f in d.query("flows", "--json")
                                if f["local_port"] == TCP_PORT and f["remote_port"] in ports})
                   == 600 or None, timeout=60, what="the server's 600 ends")
        # 1200 open ends, 1024 slots: the rest went to the flow hash, counted
        st = d.status()["network"]
        assert st["connections_open"] <= 1024
        assert st["counters"]["connection_slots_full"] >= 1200 - 1024, st
        assert st["counters"]["flow_insert_failures"] == 0
        c.stdin.write("go\n")
        c.stdin.flush()
        assert c.stdout.readline().strip() == "closed"
        # every end closed (the server closes its ends after the client): then the slots no
        # row holds are known — a new connection that finds one among its probes takes it,
        # no row overwritten; one that finds only closed rows overwrites the oldest, counted
        st0 = d.wait_for(lambda: (lambda s: s if s["connections_open"] == 0 else None)(
            d.status()["network"]), timeout=30, what="every end closed")
        empty = st0["connections_max"] - st0["connections"]
        n = empty + 150
        c.stdin.write(f"{n}\n")
        c.stdin.flush()
        assert c.stdout.readline().strip() == "done"
        st = d.status()["network"]
        # n connections more (their client ends at least) in slots: at most `empty` of them
        # found a free one, the others made room by overwriting a closed row
        ow = st["counters"]["connections_overwritten"] - st0["counters"]["connections_overwritten"]
        assert ow >= 150, (empty, ow, st0, st)
        assert st["connections"] <= 1024 and st["connections_open"] <= 2, st
        # the newest connection is kept, closed, with its bytes (failing, the newest rows say
        # whether it was overwritten or counted other bytes: a retransmission counts again)
        rows = mine().values()
        last = [f for f in rows if f["tx_bytes"] == 1000 + n]
        assert len(last) == 1 and last[0]["state"] == "closed", (last, sorted(
            (f["tx_bytes"], f["state"], f["local_port"]) for f in rows if f["tx_bytes"] > 950 + n),
            st["counters"])
    finally:
        c.kill()
        c.wait()


def test_no_conn_slots_keeps_connections_in_the_flow_hash(make_daemon, net):
    """--no-conn-slots loads the programs kernels without BPF compare-and-exchange (< 5.12)
    get: TCP connections' rows in the flow hash. Same rows: exact bytes both ends, owners,
    initiators, a refused connection."""
    d = make_daemon(["--no-conn-slots"]).start(["--reset-state"])
    net.vigil = d
    progs = {p["name"] for p in d.status()["programs"]}
    assert "vg_sock_state_hash" in progs and "vg_sock_state" not in progs, progs
    assert d.status()["network"]["connections_max"] == 1
    pid, out = net.client(f"""
got = exchange(NS_IP, {TCP_PORT}, b"h" * 4567)
r = socket.socket()
try:
    r.connect((NS_IP, {CLOSED_PORT}))
except ConnectionRefusedError:
    pass
print(got)
""")
    assert int(out) == RESP
    flows = d.wait_for(lambda: (lambda f: f if one_flow(f, "tcp", net.NS_IP, TCP_PORT)["state"]
                                == "closed" else None)(flows_of(d, pid)), what="tcp flow closed")
    tcp = one_flow(flows, "tcp", net.NS_IP, TCP_PORT)
    assert (tcp["tx_bytes"], tcp["rx_bytes"], tcp["initiator"]) == (4567, RESP, "connect"), tcp
    assert one_flow(flows, "tcp", net.NS_IP, CLOSED_PORT)["state"] == "refused"
    srv = [f for f in d.query("flows", "--json") if f["local_port"] == TCP_PORT
           and f["remote_port"] == tcp["local_port"]]
    assert len(srv) == 1 and (srv[0]["rx_bytes"], srv[0]["tx_bytes"]) == (4567, RESP)
    # (the listener predates this daemon: the accepted end has no owner, initiator unknown)
    st = d.status()["network"]
    assert st["connections"] == 0 and st["counters"]["flows_created"] >= 3
