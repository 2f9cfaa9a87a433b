"""Network policy, enforced in the kernel at the cgroup v2 root (docs/network-policy.md).

A network namespace joined by a veth pair holds the servers (TCP 8080 and UDP 9090 on
every address, a DNS responder on NS_IP); clients run on this side as processes of
their own. Every policy here denies only this test's addresses (10.214.N.0/24) and
names (*.np.vigil-test.example, *.blk.vigil-test.example): the programs sit at the
cgroup root, where other tests' processes run too.
"""
import json
import os
import shutil
import signal
import subprocess
import time

import pytest

from conftest import Daemon, rfc3339
from nettest import HERE, PY, SERVERS, NetEnv, client_prelude, sh

ZONE = "np.vigil-test.example"
BLK = "blk.vigil-test.example"


class PolicyNet(NetEnv):
    """NetEnv on its own addresses (10.OCTET.N.0/24, V6:N::/64, interfaces vgTAG...),
    servers on every address of the namespace: suites that may run at the same time
    pick different ones."""

    def __init__(self, tag="p", octet=214, v6=0xfd78):
        super().__init__()
        pid = os.getpid()
        n = pid % 200 + 20
        self.ns = f"vg{tag}{pid}"
        self.host_if, self.ns_if = f"vg{tag}h{pid}"[:15], f"vg{tag}n{pid}"[:15]
        self.HOST_IP, self.NS_IP = f"10.{octet}.{n}.1", f"10.{octet}.{n}.2"
        self.HOST_IP6, self.NS_IP6 = f"{v6:x}:{n:x}::1", f"{v6:x}:{n:x}::2"
        self.net = f"10.{octet}.{n}"
        self.ip = {i: f"10.{octet}.{n}.{i}" for i in range(3, 10)}
        self.zone = self.names()

    def names(self):
        """The DNS server's zone."""
        return {
            f"ok.{ZONE}": [["A", self.NS_IP]],
            f"x.evil.{ZONE}": [["A", self.ip[5]]],
            f"alias.{ZONE}": [["CNAME", f"y.evil.{ZONE}"]],
            f"y.evil.{ZONE}": [["A", self.ip[6]]],
            f"late.{ZONE}": [["A", self.ip[7]]],
            f"hit.{BLK}": [["A", self.ip[8]]],
        }

    def up(self):
        sh(f"ip netns add {self.ns}")
        sh(f"ip link add {self.host_if} type veth peer name {self.ns_if}")
        sh(f"ip link set {self.ns_if} netns {self.ns}")
        sh(f"ip addr add {self.HOST_IP}/24 dev {self.host_if}")
        sh(f"ip link set {self.host_if} up")
        x = f"ip netns exec {self.ns}"
        sh(f"{x} ip addr add {self.NS_IP}/24 dev {self.ns_if}")
        for a in self.ip.values():
            sh(f"{x} ip addr add {a}/24 dev {self.ns_if}")
        sh(f"{x} ip link set {self.ns_if} up")
        sh(f"{x} ip link set lo up")
        self.start(["ip", "netns", "exec", self.ns, PY, os.path.join(HERE, "dnsserver.py"),
                    self.NS_IP, "53", json.dumps(self.zone)])
        self.start(["ip", "netns", "exec", self.ns, PY, "-c", SERVERS, "0.0.0.0"])
        return self

    def run(self, script):
        """A client process: returns (pid, parsed JSON it printed).

        It runs under three shells of its own (APART): the port scan shape counts a process's
        events for its ancestors to three generations (a scan spread over a loop's processes),
        and the tests' clients, all the test process's children otherwise, would add up
        there — a near miss's events on top of the tests' before it."""
        pre = client_prelude(self.NS_IP)
        p = subprocess.run(APART + [PY, "-c", pre + script], capture_output=True, text=True,
                           timeout=60)
        assert p.returncode == 0, p.stderr
        return json.loads(p.stdout)


# a shell that runs its arguments and waits (not exec: a command follows), twice
APART = ["bash", "-c", '"$@"; exit $?', "apart"] * 3

@pytest.fixture(scope="module")
def net():
    env = PolicyNet()
    try:
        yield env.up()
    finally:
        env.down()


POLICY = """\
mode: {mode}
default: allow
deny:
  - cidr: {net}.4/31            # .4 and .5
  - domain: "*.evil.{zone}"
{extra}allow:
  - ip: {net}.5                 # more specific than the /31: allowed
"""


class Policy:
    def __init__(self, path, net):
        self.path, self.net = path, net

    def write(self, mode="enforce", extra="", text=None):
        tmp = self.path + ".tmp"
        with open(tmp, "w") as f:
            f.write(text if text is not None else
                    POLICY.format(mode=mode, net=self.net.net, zone=ZONE, extra=extra))
        os.rename(tmp, self.path)


@pytest.fixture(scope="module")
def pol(net, tmp_path_factory):
    d = tmp_path_factory.mktemp("netpolicy")
    p = Policy(str(d / "network.yaml"), net)
    p.write()
    return p


@pytest.fixture(scope="module")
def vigil(pol):
    d = Daemon("netpolicy", ["--network-policy", pol.path])
    d.purge()
    d.start(["--reset-state"])
    yield d
    d.stop()
    d.purge()


def np_status(vigil):
    return vigil.status()["network_policy"]


def reload(vigil, pol, **kw):
    """Rewrite the policy and SIGHUP; returns the status once a load of the new
    file was tried. The file change alone also reloads, after a 300 ms debounce: let
    the previous write's reload finish first, or it could be taken for this one."""
    time.sleep(0.6)
    t0 = time.time()
    pol.write(**kw)
    vigil.proc.send_signal(signal.SIGHUP)
    return vigil.wait_for(lambda: (lambda s: s if rfc3339(s["last_load"]["time"]) >= t0 else None)(
        np_status(vigil)), timeout=60, what="policy reload")


def findings(vigil, pid=None, rule=None):
    out = []
    with open(vigil.stdout_path) as f:
        for line in f:
            if not line.startswith("{"):
                continue
            x = json.loads(line)
            if x.get("kind") != "network":
                continue
            if pid is not None and x["process"]["pid"] != pid:
                continue
            if rule and x["rule"]["id"] != rule:
                continue
            out.append(x)
    return out


def wait_findings(vigil, pid, n=1, rule=None):
    return vigil.wait_for(lambda: (lambda f: f if len(f) >= n else None)(
        findings(vigil, pid, rule)), timeout=60, what=f"{n} network finding(s) of {pid}")


def test_deny_by_cidr_eperm_allowed_still_works(vigil, net, pol):
    st = np_status(vigil)
    assert st["installed"] and st["mode"] == "enforce", st
    r = net.run(f"""
print(json.dumps({{"pid": os.getpid(), "ns": connect({net.NS_IP!r}), "deny": connect({net.ip[4]!r}),
                  "allow": connect({net.ip[5]!r}), "udp": sendto({net.ip[4]!r}),
                  "udp_ok": sendto({net.ip[5]!r})}}))""")
    assert (r["ns"], r["allow"], r["udp_ok"]) == ("ok", "ok", "ok"), r
    assert r["deny"] == "EPERM" and r["udp"] == "EPERM", r
    fs = wait_findings(vigil, r["pid"], 2)
    tcp = [f for f in fs if f["network"]["hook"] == "connect4"]
    assert tcp, fs
    f = tcp[0]
    assert f["rule"]["id"] == "net-policy-deny" and f["rule"]["mitre"]["tactic"]["id"] == "TA0011"
    assert f["action"] == "block" and f["enforced_by"] == "cgroup", f
    assert "EPERM" in f["enforcement"]["guarantee"], f
    n = f["network"]
    assert (n["address"], n["port"], n["protocol"], n["blocked"]) == (net.ip[4], 8080, "tcp", True)
    assert n["policy"]["entry"] == "deny[0]" and n["policy"]["match"] == f"{net.net}.4/31", n
    assert n["policy"]["source"] == f"{pol.path}:4", n
    assert any(x["network"]["hook"] == "sendmsg4" for x in fs), fs
    c = np_status(vigil)["counters"]
    assert c["denied"] >= 2 and c["allowed"] >= 3, c


def test_deny_by_cidr_holds_for_raw_sockets(vigil, net):
    """No connect/sendmsg hook runs for a raw socket: its hand-built packets are decided at
    egress by their destination, and the sender gets EPERM."""
    before = np_status(vigil)["counters"]
    r = net.run(RAW_PROBES + f"""
import struct
def raw_udp(dst, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_UDP)
    try:
        s.sendto(struct.pack("!HHHH", 42001, port, 9, 0) + b"x", (dst, 0)); return "ok"
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e))
    finally:
        s.close()
def raw_syn(dst, port):
    try:
        probe(dst, [port], src={net.HOST_IP!r}); return "ok"
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e))
print(json.dumps({{"pid": os.getpid(), "udp": raw_udp({net.ip[4]!r}, 9090),
                  "udp_ok": raw_udp({net.ip[5]!r}, 9090), "syn": raw_syn({net.ip[4]!r}, 8080),
                  "syn_ok": raw_syn({net.ip[5]!r}, 8080)}}))""")
    assert (r["udp"], r["syn"]) == ("EPERM", "EPERM"), r
    assert (r["udp_ok"], r["syn_ok"]) == ("ok", "ok"), r
    fs = wait_findings(vigil, r["pid"], 2)
    assert {(f["network"]["hook"], f["network"]["protocol"], f["network"]["port"])
            for f in fs} == {("raw", "udp", 9090), ("raw", "tcp", 8080)}, fs
    for f in fs:
        n = f["network"]
        assert f["rule"]["id"] == "net-policy-deny" and f["action"] == "block", f
        assert n["address"] == net.ip[4] and n["blocked"] and n["direction"] == "egress", n
        assert n["policy"]["entry"] == "deny[0]" and "EPERM" in n["guarantee"], n
    c = np_status(vigil)["counters"]
    assert c["denied"] >= before["denied"] + 2 and c["allowed"] >= before["allowed"] + 2, c


def test_deny_by_domain_before_resolution_drops_the_query(vigil, net):
    before = np_status(vigil)["counters"]["dns_dropped"]
    r = net.run(f"""
print(json.dumps({{"pid": os.getpid(), "bad": resolve("x.evil.{ZONE}"), "ok": resolve("ok.{ZONE}")}}))""")
    assert r["ok"] == [net.NS_IP], r
    assert r["bad"] in ("EPERM", "timeout"), r  # the query never left: no answer
    f = wait_findings(vigil, r["pid"])[0]
    n = f["network"]
    assert n["hook"] == "dns_query" and n["domain"] == f"x.evil.{ZONE}" and n["blocked"], n
    assert n["policy"]["match"] == f"*.evil.{ZONE}" and f["action"] == "block", f
    assert np_status(vigil)["counters"]["dns_dropped"] > before


def test_deny_by_domain_in_a_cname_chain_learns_the_answer(vigil, net):
    r = net.run(f"""
a = resolve("alias.{ZONE}")
print(json.dumps({{"pid": os.getpid(), "a": a, "c": connect({net.ip[6]!r})}}))""")
    assert r["a"] == [net.ip[6]], r  # the answer is let through ...
    assert r["c"] == "EPERM", r      # ... its addresses are refused from its arrival
    fs = wait_findings(vigil, r["pid"], 2)
    hooks = {f["network"]["hook"]: f for f in fs}
    assert "dns_answer" in hooks and hooks["dns_answer"]["network"]["domain"] == f"alias.{ZONE}"
    c = hooks["connect4"]["network"]
    assert c["policy"]["reason"] == "learned" and c["address"] == net.ip[6], c
    assert np_status(vigil)["counters"]["learned"] >= 1


def test_deny_by_domain_after_resolution(vigil, net, pol):
    r = net.run(f"""
print(json.dumps({{"a": resolve("late.{ZONE}"), "c": connect({net.ip[7]!r})}}))""")
    assert r == {"a": [net.ip[7]], "c": "ok"}, r
    st = reload(vigil, pol, extra=f"  - domain: late.{ZONE}\n")
    assert st["last_load"]["ok"], st
    r = net.run(f"""
print(json.dumps({{"pid": os.getpid(), "c": connect({net.ip[7]!r}), "other": connect({net.NS_IP!r})}}))""")
    assert r["c"] == "EPERM" and r["other"] == "ok", r
    f = wait_findings(vigil, r["pid"])[0]
    assert f["network"]["policy"]["reason"] == "learned", f
    assert f["network"]["domain"] == f"late.{ZONE}", f
    reload(vigil, pol)


def test_policy_errors_name_file_line_field_and_keep_the_old_policy(vigil, net, pol):
    bad = f"""\
mode: enforce
deny:
  - cidr: 10.214.0.300/24
  - domain: "bad..{ZONE}"
  - cidr: {net.net}.9/32
    colour: red
"""
    path = pol.path + ".bad.yaml"
    with open(path, "w") as f:
        f.write(bad)
    check = vigil.cli("netpolicy", "check", path, check=False)
    assert check.returncode == 1, check
    lines = check.stderr.splitlines()
    assert lines == [
        f'{path}:3:11: deny[0].cidr: bad CIDR "10.214.0.300/24": not an IPv4 or IPv6 address',
        f'{path}:4:13: deny[1].domain: bad domain "bad..{ZONE}": empty label',
        f'{path}:6:5: deny[2].colour: unknown field "colour" (expected one of cidr, ip, '
        'domain, ports, port, proto, exe, uid, cgroup, comment)',
    ], check.stderr
    failures = np_status(vigil)["reload_failures"]
    st = reload(vigil, pol, text=bad)
    assert not st["last_load"]["ok"] and st["reload_failures"] > failures, st
    assert "bad CIDR" in st["last_load"]["result"] and ":3:11:" in st["last_load"]["result"]
    assert "deny[0].cidr: bad CIDR" in vigil.log()
    # the old policy is still in force: .4 is still refused, .9 (only in the bad file) is not
    r = net.run(f"""
print(json.dumps({{"old": connect({net.ip[4]!r}), "new": connect({net.ip[9]!r})}}))""")
    assert r == {"old": "EPERM", "new": "ok"}, r
    st = reload(vigil, pol)
    assert st["last_load"]["ok"], st


def test_audit_mode_blocks_nothing_and_reports_everything(vigil, net, pol):
    st = reload(vigil, pol, mode="audit")
    assert st["mode"] == "audit", st
    try:
        r = net.run(f"""
print(json.dumps({{"pid": os.getpid(), "c": connect({net.ip[4]!r}),
                  "d": resolve("x.evil.{ZONE}")}}))""")
        assert r["c"] == "ok" and r["d"] == [net.ip[5]], r
        fs = wait_findings(vigil, r["pid"], 3)
        hooks = sorted(f["network"]["hook"] for f in fs)
        # the same findings as in enforce mode, the answer's (learned, not refused) included
        assert hooks == ["connect4", "dns_answer", "dns_query"], fs
        for f in fs:
            assert f["action"] == "alert" and f["enforced_by"] is None, f
            assert f["network"]["blocked"] is False and f["enforcement"]["audit"] is True, f
        c = np_status(vigil)["counters"]
        assert c["audited"] >= 1 and c["dns_audited"] >= 1, c
    finally:
        st = reload(vigil, pol)
    assert st["mode"] == "enforce"


def test_file_change_reloads_without_a_signal(vigil, net, pol):
    assert np_status(vigil)["entries"] == 3
    pol.write(extra=f"  - ip: {net.ip[9]}\n")
    try:
        vigil.wait_for(lambda: np_status(vigil)["entries"] == 4, timeout=30,
                       what="reload on file change")
        r = net.run(f"print(json.dumps(connect({net.ip[9]!r})))")
        assert r == "EPERM"
    finally:
        pol.write()
        vigil.wait_for(lambda: np_status(vigil)["entries"] == 3, timeout=30,
                       what="reload back")


def test_blocklist_of_a_million_entries(vigil, net, pol, tmp_path):
    bl = tmp_path / "million.txt"
    with open(bl, "w") as f:
        f.write("# generated: 500,000 addresses of 10.216.0.0/13 and 500,000 names\n")
        for i in range(500000):
            f.write(f"10.{216 + (i >> 16)}.{(i >> 8) & 255}.{i & 255}\n")
        for i in range(499998):
            f.write(f"n{i}.{BLK}\n")
        f.write(f"{net.ip[3]}/32   # the test's address\n")
        f.write(f"hit.{BLK}\n")
    st = reload(vigil, pol, extra=f"blocklists:\n  - path: {bl}\n    category: c2\n")
    try:
        assert st["last_load"]["ok"], st
        assert st["blocklist_entries"] == 1000000, st
        assert st["load_ms"] > 0 and st["kernel_memory_bytes"]["total"] > 0, st
        print(f"\n1M blocklist: load {st['load_ms']:.0f} ms, kernel memory "
              f"{st['kernel_memory_bytes']['total'] / 2**20:.1f} MiB")
        r = net.run(f"""
print(json.dumps({{"pid": os.getpid(), "ip": connect({net.ip[3]!r}), "ok": connect({net.NS_IP!r}),
                  "name": resolve("hit.{BLK}"), "sub": resolve("x.n77.{BLK}")}}))""")
        assert r["ip"] == "EPERM" and r["ok"] == "ok", r
        assert r["name"] in ("EPERM", "timeout") and r["sub"] in ("EPERM", "timeout"), r
        fs = wait_findings(vigil, r["pid"], 2, rule="net-blocklist")
        f = [x for x in fs if x["network"]["hook"] == "connect4"][0]
        assert f["rule"]["mitre"]["tactic"]["id"] == "TA0011" and f["action"] == "block"
        assert f["network"]["policy"]["entry"] == "blocklist[0]", f
        assert f["network"]["policy"]["source"] == str(bl), f
    finally:
        reload(vigil, pol)


# ---------------------------------------------------------------- inbound traffic (ingress:)

# Listeners on this side (HOST_IP), each reporting what reached it: a TCP port the ingress
# entries close, one they leave open, a UDP port they close.
IN_DENY, IN_OK, IN_UDP, IN_V6, IN_SCOPED = 18480, 18481, 19480, 18482, 18483
LISTENERS = r"""
import json, os, socket, sys, threading
host = sys.argv[1]
got = {"tcp_deny": 0, "tcp_ok": 0, "udp": 0, "v6": 0, "scoped": 0}
def tcp(port, key, addr=host):
    s = socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port)); s.listen(16)
    while True:
        c, _ = s.accept(); got[key] += 1; c.close()
def udp(port):
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind((host, port))
    while True:
        u.recvfrom(100); got["udp"] += 1
threading.Thread(target=tcp, args=(%d, "tcp_deny"), daemon=True).start()
threading.Thread(target=tcp, args=(%d, "tcp_ok"), daemon=True).start()
threading.Thread(target=udp, args=(%d,), daemon=True).start()
threading.Thread(target=tcp, args=(%d, "v6", "::1"), daemon=True).start()
threading.Thread(target=tcp, args=(%d, "scoped"), daemon=True).start()
print("ready", flush=True)
for line in sys.stdin:
    print(json.dumps(got), flush=True)
""" % (IN_DENY, IN_OK, IN_UDP, IN_V6, IN_SCOPED)

INGRESS = """\
  - cidr: {net}.0/29              # egress, under the ingress entries' /32: still applies
    ports: [9]
ingress:
  deny:
    - cidr: {ns}/32               # nothing comes in from the namespace's address ...
    - cidr: ::1/128               # (IPv6: loopback to one port)
      ports: [{v6}]
  allow:
    - ip: {ns}
      ports: [{ok}]               # ... but to this port
    - ip: {ns}
      ports: [{scoped}]
      exe: {exe}                  # ... and to this one, of the listeners' executable
    - ip: {ns}
      ports: [{deny}]
      exe: /usr/sbin/not-this-one # (another's: no effect)
"""


def test_ingress_policy_drops_inbound_connections_and_datagrams_not_replies(vigil, net, pol):
    """Ingress entries decide what reaches this side's listeners from the namespace (the
    SYN of a connection, a datagram); this side's own connections and the replies they get
    from the same address are not inbound traffic. Audit mode lets it all through, reported."""
    srv = subprocess.Popen([PY, "-c", LISTENERS, net.HOST_IP], stdin=subprocess.PIPE,
                           stdout=subprocess.PIPE, text=True)
    inside = client_prelude(net.NS_IP) + f"""
def attempt(port):
    s = socket.socket(); s.settimeout(1.5)
    try:
        s.connect(({net.HOST_IP!r}, port)); s.close(); return 'ok'
    except socket.timeout:
        return 'timeout'
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e))
r = {{"deny": attempt({IN_DENY}), "ok": attempt({IN_OK}), "udp": sendto({net.HOST_IP!r}, {IN_UDP}),
     "scoped": attempt({IN_SCOPED})}}
print(json.dumps(r))"""

    def from_ns():
        p = subprocess.run(["ip", "netns", "exec", net.ns, PY, "-c", inside],
                           capture_output=True, text=True, timeout=60)
        assert p.returncode == 0, p.stderr
        return json.loads(p.stdout)

    def reached():
        time.sleep(0.5)  # the datagram, if it passed
        srv.stdin.write("?\n")
        srv.stdin.flush()
        return json.loads(srv.stdout.readline())

    ingress = INGRESS.format(ns=net.NS_IP, ok=IN_OK, net=net.net, v6=IN_V6, scoped=IN_SCOPED,
                             deny=IN_DENY, exe=os.path.realpath(PY))
    try:
        assert srv.stdout.readline().strip() == "ready"
        st = reload(vigil, pol, extra=ingress)
        assert st["last_load"]["ok"] and st["ingress_entries"] == 5, st
        assert st["default_ingress"] == "allow", st
        before = np_status(vigil)["counters"]
        r = from_ns()
        # the SYN was dropped; the exe-scoped allow holds for the listener's owner (its
        # record, found from the listening socket in softirq)
        assert r == {"deny": "timeout", "ok": "ok", "udp": "ok", "scoped": "ok"}, r
        v6 = net.run(f"""
s = socket.socket(socket.AF_INET6); s.settimeout(1.5)
try:
    s.connect(("::1", {IN_V6})); r = "ok"
except socket.timeout:
    r = "timeout"
print(json.dumps(r))""")
        assert v6 == "timeout"
        assert reached() == {"tcp_deny": 0, "tcp_ok": 1, "udp": 0, "v6": 0, "scoped": 1}
        # this side's own traffic to that address, and its replies, pass
        out = net.run(f"""
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.settimeout(3)
u.sendto(b"echo", ({net.NS_IP!r}, 9090))
print(json.dumps({{"tcp": connect({net.NS_IP!r}), "echo": u.recvfrom(100)[0].decode(),
                  "dns": resolve("ok.{ZONE}"), "egress": connect({net.NS_IP!r}, 9)}}))""")
        # (the egress entry of a shorter prefix still decides for that address: the
        # ingress deny that always applies cuts only the ingress entries after it)
        assert out == {"tcp": "ok", "echo": "echo", "dns": [net.NS_IP], "egress": "EPERM"}, out
        fs = wait_findings(vigil, srv.pid, 3, rule="net-policy-ingress-deny")
        by = {f["network"]["protocol"]: f for f in fs if f["network"]["family"] == 4}
        f = by["tcp"]
        assert f["rule"]["mitre"]["tactic"]["id"] == "TA0008", f
        assert f["action"] == "block" and f["enforced_by"] == "cgroup", f
        n = f["network"]
        assert (n["direction"], n["hook"], n["address"], n["port"], n["blocked"]) == \
            ("ingress", "ingress", net.NS_IP, IN_DENY, True), n
        assert n["policy"]["entry"] == "ingress.deny[0]", n
        assert n["policy"]["match"] == f"inbound from {net.NS_IP}/32", n
        assert by["udp"]["network"]["port"] == IN_UDP, by["udp"]
        assert any(f["network"]["family"] == 6 and f["network"]["address"] == "::1" and
                   f["network"]["port"] == IN_V6 for f in fs), fs
        c = np_status(vigil)["counters"]
        assert c["inbound_denied"] - before["inbound_denied"] >= 2, c
        assert c["inbound_decisions"] - before["inbound_decisions"] >= 3, c

        st = reload(vigil, pol, mode="audit", extra=ingress)
        assert st["mode"] == "audit", st
        r = from_ns()
        assert r == {"deny": "ok", "ok": "ok", "udp": "ok", "scoped": "ok"}, r
        assert reached() == {"tcp_deny": 1, "tcp_ok": 2, "udp": 1, "v6": 0, "scoped": 2}
        vigil.wait_for(lambda: [f for f in findings(vigil, srv.pid, "net-policy-ingress-deny")
                                if not f["network"]["blocked"]], timeout=30,
                       what="an audit finding for the inbound connection")
        assert np_status(vigil)["counters"]["inbound_audited"] >= 1
    finally:
        srv.kill()
        srv.wait()
        st = reload(vigil, pol)
    assert st["ingress_entries"] == 0 and st["mode"] == "enforce", st


def test_ingress_entry_errors(vigil, pol):
    bad = """\
default: {egress: allow, ingress: maybe}
ingress:
  deny:
    - domain: evil.example
    - cidr: 10.1.0.0/33
  colour: red
"""
    path = pol.path + ".ingress-bad.yaml"
    with open(path, "w") as f:
        f.write(bad)
    check = vigil.cli("netpolicy", "check", path, check=False)
    assert check.returncode == 1, check
    assert check.stderr.splitlines() == [
        f'{path}:1:35: default.ingress: unknown verdict "maybe" (expected one of allow, deny)',
        f"{path}:4:15: ingress.deny[0].domain: an ingress entry matches the peer's address "
        "(cidr, ip): an inbound peer has no name",
        f'{path}:5:13: ingress.deny[1].cidr: bad CIDR "10.1.0.0/33": IPv4 prefix length must '
        'be 0-32',
        f'{path}:6:3: ingress.colour: unknown field "colour" (expected one of allow, deny)',
    ], check.stderr


# ---------------------------------------------------------------- built-in network detections


def test_cloud_metadata_by_an_unexpected_process_not_by_the_cloud_agent(vigil, net, tmp_path):
    script = """
s = socket.socket(); s.settimeout(0.5)
try:
    s.connect(("169.254.169.254", 80))
except OSError:
    pass
print(json.dumps(os.getpid()))"""
    pid = net.run(script)
    f = wait_findings(vigil, pid, rule="net-cloud-metadata")[0]
    assert f["rule"]["mitre"]["tactic"]["id"] == "TA0006", f
    assert f["rule"]["mitre"]["technique"]["id"] == "T1552.005", f
    n = f["network"]
    assert (n["address"], n["port"], n["blocked"]) == ("169.254.169.254", 80, False), n
    assert "not a cloud agent" in n["detection"], n
    assert f["action"] == "alert" and f["enforced_by"] is None, f
    # the same from a process whose executable is a cloud agent's: expected, no finding
    agent = tmp_path / "google_guest_agent"
    shutil.copy(os.path.realpath(PY), agent)
    before = np_status(vigil)["detection_candidates_benign"]
    p = subprocess.run([str(agent), "-c", "import json, os, socket" + script.replace(
        "print(json.dumps(os.getpid()))", "print(os.getpid())")], capture_output=True,
        text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    vigil.wait_for(lambda: np_status(vigil)["detection_candidates_benign"] > before,
                   timeout=30, what="the agent's candidate judged benign")
    assert not findings(vigil, int(p.stdout), rule="net-cloud-metadata")


def test_stratum_port(vigil, net):
    r = net.run(f"""
print(json.dumps({{"pid": os.getpid(), "c": connect({net.NS_IP!r}, 3333)}}))""")
    assert r["c"] == "ECONNREFUSED", r  # detected, not refused by vigil
    f = wait_findings(vigil, r["pid"], rule="net-stratum-port")[0]
    assert f["rule"]["mitre"]["tactic"]["id"] == "TA0040" and f["network"]["port"] == 3333, f
    # the near miss: the same connection to a port no pool uses (8080) is no finding
    r = net.run(f"""
print(json.dumps({{"pid": os.getpid(), "c": connect({net.NS_IP!r}, 8080)}}))""")
    assert r["c"] == "ok"
    time.sleep(1)
    assert not findings(vigil, r["pid"])


# A miner's first words to its pool, as the miners send them (the wallet is made up)
STRATUM_FIRST = {
    "login": '{"id":1,"jsonrpc":"2.0","method":"login","params":{"login":"4' + "7" * 94
             + '","pass":"x","agent":"XMRig/6.21.0 (Linux x86_64) libuv/1.44.2 gcc/12.2.0",'
             '"algo":["rx/0","cn/r"]}}\n',
    "mining.subscribe": '{"id": 1, "method": "mining.subscribe", "params": ["cgminer/4.10.0"]}\n',
    "eth_submitLogin": '{"id":1,"jsonrpc":"2.0","method":"eth_submitLogin",'
                       '"params":["0x5d0e9f6c6d0b8e7d1a3f4b2c0e9f6c6d0b8e7d1a","x"],"worker":"rig1"}\n',
}


def test_stratum_protocol_on_any_port(vigil, net):
    """A miner talking to its pool on an ordinary port (8080 here; 443 or 80 in the wild, where
    the port rule is blind): the TCP connection's first data is a JSON-RPC call with a pool's
    method. Near misses, each one check away from a finding: JSON-RPC with another method (an
    Ethereum node's eth_blockNumber), a "login" call without a "pass" (an ordinary API), and a
    pool's method inside an HTTP request's body."""
    def send(payload):
        return net.run(f"""
import time
c = socket.create_connection(({net.NS_IP!r}, 8080))
c.sendall({payload.encode()!r})
time.sleep(0.05)
c.close()
print(json.dumps(os.getpid()))""")
    for method, payload in STRATUM_FIRST.items():
        pid = send(payload)
        f = wait_findings(vigil, pid, rule="net-stratum-protocol")[0]
        n = f["network"]
        assert (n["hook"], n["protocol"], n["port"], n["address"]) == (
            "tcp_data", "tcp", 8080, net.NS_IP), f
        assert f'method "{method}"' in n["detection"], f
        assert f["rule"]["mitre"]["tactic"]["id"] == "TA0040", f
    near = [send('{"jsonrpc":"2.0","method":"eth_blockNumber","params":[],"id":1}\n'),
            send('{"method":"login","params":{"user":"bob","token":"0123456789abcdef0123"}}\n'),
            send('POST /rpc HTTP/1.1\r\nHost: pool\r\nContent-Length: 41\r\n\r\n'
                 '{"method":"mining.subscribe","params":[]}')]
    time.sleep(1)
    for pid in near:
        assert not findings(vigil, pid, rule="net-stratum-protocol"), pid


def held_back(vigil):
    """Tunnelling candidates held back: by the kernel's limit, then by the daemon's."""
    st = np_status(vigil)
    return st["counters"]["messages_suppressed"] + st["detection_repeats_suppressed"]


def test_dns_tunnelling_shape(vigil, net):
    label = "k7f3q9z2x8w1v6b4n0m5c8a2s7d3f9g1h6j4"  # 36 bytes, high entropy
    # the long but plain label first: a candidate the daemon judges benign, under the same
    # parent domain as the encoded one right after it, which it must not hold back
    r = net.run(f"""
print(json.dumps({{"pid": os.getpid(), "long": resolve("aaaaaaaaaaaaaaaaaaaaaaaaaaaa.{ZONE}"),
                  "t": resolve("{label}.exfil.{ZONE}"), "ok": resolve("ok.{ZONE}")}}))""")
    assert r["ok"] == [net.NS_IP], r
    fs = wait_findings(vigil, r["pid"], rule="net-dns-tunnel-shape")
    assert len(fs) == 1, fs  # the long but low-entropy label is no finding
    f = fs[0]
    assert f["network"]["domain"] == f"{label}.exfil.{ZONE}", f
    assert f["rule"]["mitre"]["tactic"]["id"] == "TA0010" and f["action"] == "alert", f
    # a tunnel: a new encoded name per packet, 60 of them, under one parent domain. One
    # finding per process and parent domain a minute; the rest are counted, not lost.
    before = held_back(vigil)
    t = net.run(f"""
import random
rnd = random.Random(7)
names = ["".join(rnd.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(36))
         for _ in range(60)]
print(json.dumps({{"pid": os.getpid(), "r": [resolve(n + ".exfil.{ZONE}") for n in names]}}))""")
    fs = wait_findings(vigil, t["pid"], rule="net-dns-tunnel-shape")
    time.sleep(1)
    fs = findings(vigil, t["pid"], rule="net-dns-tunnel-shape")
    assert len(fs) == 1, [x["network"]["domain"] for x in fs]
    assert held_back(vigil) - before >= 59, (before, held_back(vigil))


def net_counter(vigil, name):
    return vigil.status()["network"]["counters"][name]


def shape_walks(vigil):
    """(walks of the flow / question tables made, events in the kernel that asked for one)"""
    st = vigil.status()
    return st["network_policy"]["shape_scans"], st["network"]["counters"]["shape_walks_asked"]


def quiet_walks(vigil):
    """The walk counts once nothing asked earlier is pending (a walk waits up to 5 s)."""
    w = shape_walks(vigil)
    deadline = time.time() + 15
    while time.time() < deadline:
        time.sleep(5.5)
        now = shape_walks(vigil)
        if now == w:
            return w
        w = now
    raise AssertionError(f"table walks did not settle: {w}")


def test_port_scan_shape(vigil, net):
    # the flow table is walked only when the kernel finds a process refused often enough
    before = quiet_walks(vigil)
    # near miss first: many connections to one open port, and 13 refused: one short of the
    # fewest that could make a scan (70 % of 20) — no finding, and no walk asked
    busy = net.run(f"""
print(json.dumps({{"pid": os.getpid(), "r": [connect({net.NS_IP!r}, 8080) for _ in range(30)],
                  "x": [connect({net.NS_IP!r}, p) for p in range(21000, 21013)]}}))""")
    assert set(busy["r"]) == {"ok"} and set(busy["x"]) == {"ECONNREFUSED"}, busy
    time.sleep(3)
    assert shape_walks(vigil) == before
    # near miss: a client retrying one closed port 30 times (a service waiting for its
    # database): one destination, counted once — no walk asked. Then the same retry loop
    # over two ports (a client trying its primary and its fallback): no walk either.
    skipped = net_counter(vigil, "shape_repeats_skipped")
    retry = net.run(f"""
print(json.dumps({{"pid": os.getpid(), "r": [connect({net.NS_IP!r}, 21500) for _ in range(30)]
                  + [connect({net.NS_IP!r}, 21501 + i % 2) for i in range(30)]}}))""")
    assert set(retry["r"]) == {"ECONNREFUSED"}, retry
    time.sleep(3)
    assert shape_walks(vigil) == before
    assert net_counter(vigil, "shape_repeats_skipped") >= skipped + 60 - 3
    scan = net.run(f"""
print(json.dumps({{"pid": os.getpid(), "r": [connect({net.NS_IP!r}, p) for p in range(20000, 20030)]}}))""")
    assert set(scan["r"]) == {"ECONNREFUSED"}, scan
    f = wait_findings(vigil, scan["pid"], rule="net-port-scan")[0]
    assert f["rule"]["mitre"]["technique"]["id"] == "T1046", f
    assert f["network"]["connections"] >= 20 and f["network"]["refused"] >= 20, f
    assert not findings(vigil, busy["pid"], rule="net-port-scan")
    assert not findings(vigil, retry["pid"], rule="net-port-scan")
    # the retry loop's flows were in the table the scan's walk judged: one destination each
    walks, asked = shape_walks(vigil)
    assert walks > before[0] and asked >= before[1] + 30 - 13, (before, walks, asked)
    st = np_status(vigil)
    assert st["shape_scan_entries_skipped"] == 0 and st["shape_due_unread"] == 0, st


def test_port_scan_spread_over_processes(vigil):
    """A port scan as shell one-liners run it (MITRE's own T1046 test): a subshell, `timeout
    bash -c` or `nc -z` per port. No process is refused often enough alone; the loop's shell
    is, through the processes it started (three generations: the shell timeout runs runs the
    connecting one). Near
    miss: a wait-for-port loop, a subshell per try of one closed port (one destination).
    Of the loop's shell and its parent (this test), both with the destinations below them,
    the nearer one is reported."""
    def loop(body, ports):
        p = subprocess.run(["bash", "-c", f"for p in {ports}; do {body}; done; echo $$"],
                           capture_output=True, text=True, timeout=60)
        return int(p.stdout.split()[-1])
    seen = {f["id"] for f in findings(vigil, rule="net-port-scan")}
    wait = loop("(echo > /dev/tcp/127.0.0.1/23999) 2>/dev/null", "$(seq 30)")
    sub = loop("(echo > /dev/tcp/127.0.0.1/$p) 2>/dev/null", "$(seq 23000 23029)")
    nested = loop('timeout 5 bash -c "echo > /dev/tcp/127.0.0.1/$p" 2>/dev/null',
                  "$(seq 23100 23129)")
    # three generations: timeout runs a shell that runs the connecting one and goes on
    deep = loop('''timeout 5 sh -c "bash -c 'echo > /dev/tcp/127.0.0.1/$p' 2>/dev/null; true"''',
                "$(seq 23200 23229)")
    for pid in (sub, nested, deep):
        f = wait_findings(vigil, pid, rule="net-port-scan")[0]
        n = f["network"]
        assert n["refused"] >= 20 and n["connections"] >= 20, f
        assert n["processes"] >= 20 and n["processes"] <= n["connections"], f
        assert f["process"]["exe"].endswith("/bash"), f
        assert "processes it started" in n["detection"], f
    time.sleep(3)  # a walk after the last loop
    assert not findings(vigil, wait, rule="net-port-scan")
    assert not findings(vigil, os.getpid(), rule="net-port-scan")
    # the processes that made the connections: none reported alone
    new = {f["process"]["pid"] for f in findings(vigil, rule="net-port-scan")
           if f["id"] not in seen}
    assert new == {sub, nested, deep}, new


RAW_PROBES = """
import struct
def probe(dst, ports, flags=0x02, src=None):
    # TCP segments built by hand on a raw socket (the kernel adds the IP header): a SYN scan's
    # probes, as nmap -sS or a scapy script sends them; the answers go to no socket. The
    # source address (for the checksum): the route's, asked of a UDP socket's connect
    if src is None:
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.connect((dst, 9))
        src = u.getsockname()[0]
        u.close()
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP)
    for port in ports:
        h = struct.pack("!HHIIBBHHH", 41000, port, 7, 0, 5 << 4, flags, 1024, 0, 0)
        b = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, 6, len(h)) + h
        c = sum(struct.unpack("!%dH" % (len(b) // 2), b))
        c = (c & 0xffff) + (c >> 16)
        c = ~((c & 0xffff) + (c >> 16)) & 0xffff
        s.sendto(h[:16] + struct.pack("!H", c) + h[18:], (dst, 0))
    s.close()
"""


def test_raw_socket_syn_scan_shape(vigil, net):
    before = quiet_walks(vigil)
    # near miss: 12 probes (under the 14 that could make a scan) — no walk, no finding
    few = net.run(RAW_PROBES + f"""
probe({net.NS_IP!r}, range(23000, 23012))
print(json.dumps(os.getpid()))""")
    time.sleep(3)
    assert shape_walks(vigil) == before
    # a SYN scan of 40 ports, then an ACK "scan" (nmap -sA's probes) of 25 by another process
    syn = net.run(RAW_PROBES + f"""
probe({net.NS_IP!r}, range(24000, 24040))
print(json.dumps(os.getpid()))""")
    f = wait_findings(vigil, syn, rule="net-port-scan")[0]
    assert f["network"]["raw_probes"] == 40 and f["network"]["connections"] == 0, f
    assert f["rule"]["mitre"]["technique"]["id"] == "T1046", f
    ack = net.run(RAW_PROBES + f"""
probe({net.NS_IP!r}, range(25000, 25025), flags=0x10)
print(json.dumps(os.getpid()))""")
    assert wait_findings(vigil, ack, rule="net-port-scan")[0]["network"]["raw_probes"] == 25
    assert not findings(vigil, few, rule="net-port-scan")
    # a UDP scan's probes (nmap -sU as root: hand-built datagrams on a raw socket)
    udp = net.run(f"""
import struct
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_UDP)
for port in range(27000, 27030):
    s.sendto(struct.pack("!HHHH", 42000, port, 8, 0), ({net.NS_IP!r}, 0))
print(json.dumps(os.getpid()))""")
    f = wait_findings(vigil, udp, rule="net-port-scan")[0]
    assert f["network"]["raw_probes"] == 30 and f["network"]["protocol"] == "udp", f
    # a raw TCP socket that only listens (a sniffer) gets a copy of every TCP packet the host
    # receives — here the resets of another process's 25 refused connections: not probes
    r = net.run(f"""
import time
rd, wr = os.pipe()
child = os.fork()
if child == 0:
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP)
    os.write(wr, b"x")
    time.sleep(3)
    os._exit(0)
os.read(rd, 1)
res = [connect({net.NS_IP!r}, p) for p in range(26000, 26025)]
os.waitpid(child, 0)
print(json.dumps({{"pid": os.getpid(), "sniffer": child, "r": res}}))""")
    assert set(r["r"]) == {"ECONNREFUSED"}, r
    wait_findings(vigil, r["pid"], rule="net-port-scan")
    sniffed = [x for x in vigil.query("flows", "--pid", str(r["sniffer"]))
               if x["initiator"] == "raw" and x["proto"] == "tcp"]
    assert len(sniffed) >= 20 and all(x["tx_packets"] == 0 for x in sniffed), sniffed[:3]
    assert not findings(vigil, r["sniffer"], rule="net-port-scan")
    # the probes are the process's flows, initiator raw, one per destination
    rows = [r for r in vigil.query("flows", "--pid", str(syn))
            if r["initiator"] == "raw" and r["proto"] == "tcp"]
    assert len({r["remote_port"] for r in rows}) == 40, rows[:3]
    assert all(r["tx_packets"] == 1 for r in rows), rows[:3]


def test_udp_scan_through_ordinary_sockets(vigil, net):
    """A UDP scan needs no raw socket: datagrams to many ports from an ordinary socket (a
    script's sendto loop, nc -zu's connected socket per port), which nothing answers. Near
    misses: a traceroute (its probes' TTL is low: ICMP from routers answers them, no socket
    gets data) and datagrams that are answered."""
    before = quiet_walks(vigil)
    trace = net.run(f"""
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
port = 33434
for ttl in range(1, 31):
    s.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, ttl)
    for _ in range(3):
        s.sendto(b"x" * 32, ({net.NS_IP!r}, port))
        port += 1
print(json.dumps(os.getpid()))""")
    # a sender making a socket per datagram, 40 of them to one collector that is down
    # (logger -n, a metrics client without a pooled socket): one destination — no walk
    once = net.run(f"""
for _ in range(40):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.sendto(b"<14>vigil test", ({net.NS_IP!r}, 514))
    s.close()
print(json.dumps(os.getpid()))""")
    time.sleep(1)
    assert shape_walks(vigil)[1] == before[1], "route probes or one collector asked for a walk"
    collector = [r for r in vigil.query("flows", "--pid", str(once)) if r["proto"] == "udp"]
    # one row per local port: two of the 40 sockets bound to the same ephemeral port (the
    # kernel may hand a freed one out again, ~3 % of runs) share a row, its sockets 2
    assert all(r["remote_port"] == 514 for r in collector), collector[:3]
    assert sum(r["sockets"] for r in collector) == 40, collector[:3]
    assert sum(r["tx_packets"] for r in collector) == 40, collector[:3]
    # 25 ports of this host, each answering: a walk is asked (25 new destinations) and
    # finds them answered
    echo = net.run("""
srv = []
for i in range(25):
    x = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    x.bind(("127.0.0.1", 0))
    srv.append(x)
c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
c.settimeout(2)
for x in srv:
    c.sendto(b"ping", x.getsockname())
    d, a = x.recvfrom(16)
    x.sendto(d, a)
    c.recvfrom(16)
print(json.dumps(os.getpid()))""")
    vigil.wait_for(lambda: shape_walks(vigil)[0] > before[0], timeout=10, what="a walk")
    # a script's scan: one unconnected socket, 30 closed ports of the namespace's address
    scan = net.run(f"""
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for port in range(28000, 28030):
    s.sendto(b"\\0" * 8, ({net.NS_IP!r}, port))
print(json.dumps(os.getpid()))""")
    f = wait_findings(vigil, scan, rule="net-port-scan")[0]
    n = f["network"]
    assert n["udp_datagrams"] == 30 and n["udp_unanswered"] == 30, f
    assert n["protocol"] == "udp" and n["connections"] == 0 and n["raw_probes"] == 0, f
    assert f["rule"]["mitre"]["technique"]["id"] == "T1046", f
    # nc -zu's way: a connected socket per port, the port's ICMP answer read back as an error
    nc = net.run("""
res = []
for port in range(29000, 29025):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(1)
    s.connect(("127.0.0.1", port))
    s.send(b"X")
    try:
        s.recv(16)
        res.append("data")
    except ConnectionRefusedError:
        res.append("ECONNREFUSED")
    except socket.timeout:
        res.append("timeout")
    s.close()
print(json.dumps({"pid": os.getpid(), "r": res}))""")
    assert set(nc["r"]) == {"ECONNREFUSED"}, nc
    f = wait_findings(vigil, nc["pid"], rule="net-port-scan")[0]
    assert f["network"]["udp_unanswered"] == 25 and f["network"]["address"] == "127.0.0.1", f
    # the near misses were in the table the scans' walks judged
    assert not findings(vigil, trace, rule="net-port-scan")
    assert not findings(vigil, echo, rule="net-port-scan")
    assert not findings(vigil, once, rule="net-port-scan")
    probes = [r for r in vigil.query("flows", "--pid", str(trace)) if r["proto"] == "udp"]
    assert len(probes) == 90 and all(r["rx_packets"] == 0 and r["route_probe"]
                                     for r in probes), probes[:3]
    sent = [r for r in vigil.query("flows", "--pid", str(scan)) if r["proto"] == "udp"]
    assert len(sent) == 30 and not any(r["route_probe"] for r in sent), sent[:3]


def test_many_unique_subdomains_of_one_domain(vigil, net):
    before = quiet_walks(vigil)
    # near miss: 39 names, each asked twice — 39 names, no walk asked
    few = net.run(f"""
for i in range(39):
    resolve("f%d.few.{ZONE}" % i)
    resolve("f%d.few.{ZONE}" % i)
print(json.dumps(os.getpid()))""")
    time.sleep(3)
    assert shape_walks(vigil) == before
    # 25 names asked A and AAAA: 50 questions ask for a walk (the kernel counts a name's
    # qtypes apart), which finds 25 names: no finding
    dual = net.run(f"""
for i in range(25):
    for t in ("A", "AAAA"):
        try:
            dnsserver.query((DNS, 53), "d%d.dual.{ZONE}" % i, t, timeout=1.5)
        except socket.timeout:
            pass
print(json.dumps(os.getpid()))""")
    vigil.wait_for(lambda: shape_walks(vigil)[0] > before[0], timeout=10, what="a walk")
    many = net.run(f"""
for i in range(45):
    resolve("c%d.many.{ZONE}" % i)
print(json.dumps(os.getpid()))""")
    f = wait_findings(vigil, many, rule="net-dns-many-subdomains")[0]
    assert f["rule"]["mitre"]["tactic"]["id"] == "TA0010", f
    # the parent is the registered domain (Public Suffix List; .example is no suffix there:
    # its last two labels)
    assert f["network"]["parent_domain"] == "vigil-test.example", f
    assert f["network"]["names"] >= 40, f
    # under a public suffix of two labels: 45 names of one registered domain are the shape
    # (its parent is that domain, not co.uk); near miss: 45 names of 45 domains under co.uk
    # (a mail server's or a crawler's lookups), and of 45 buckets under a cloud's shared
    # suffix, each its own domain
    ask = '''
for n in NAMES:
    try:
        dnsserver.query((DNS, 53), n, "A", timeout=0.3)
    except socket.timeout:
        pass
print(json.dumps(os.getpid()))'''
    spread = net.run('NAMES = ["www.vigil-site%d.co.uk" % i for i in range(45)] + '
                     '["b%d.s3.amazonaws.com" % i for i in range(45)]' + ask)
    psl = net.run('NAMES = ["c%d.vigil-shop.co.uk" % i for i in range(45)]' + ask)
    # the walk that found psl's names came after every one of spread's
    f = wait_findings(vigil, psl, rule="net-dns-many-subdomains")[0]
    assert f["network"]["parent_domain"] == "vigil-shop.co.uk", f
    time.sleep(1)
    assert not findings(vigil, spread, rule="net-dns-many-subdomains")
    assert not findings(vigil, few, rule="net-dns-many-subdomains")
    assert not findings(vigil, dual, rule="net-dns-many-subdomains")
    # a tunnel asking TXT records (dnscat2's default), each name once, unanswered
    txt = net.run(f"""
for i in range(42):
    try:
        dnsserver.query((DNS, 53), "%08x.t.exfil-{ZONE}" % (i * 2654435761 % 2**32), "TXT", timeout=0.3)
    except socket.timeout:
        pass
print(json.dumps(os.getpid()))""")
    f = wait_findings(vigil, txt, rule="net-dns-many-subdomains")[0]
    assert f["network"]["parent_domain"] == "vigil-test.example", f
    assert f["network"]["names"] == 42, f


def test_new_listener_from_a_temporary_executable_not_from_an_installed_one(vigil, net, tmp_path):
    script = ("import os, socket\n"
              "s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(1)\n"
              "print(os.getpid(), s.getsockname()[1])")
    tmpexe = f"/tmp/vg-np-listen-{os.getpid()}"
    shutil.copy(os.path.realpath(PY), tmpexe)
    try:
        out = subprocess.run([tmpexe, "-c", script], capture_output=True, text=True, timeout=30)
        assert out.returncode == 0, out.stderr
        pid, port = map(int, out.stdout.split())
        f = wait_findings(vigil, pid, rule="net-listen-unexpected")[0]
        assert f["network"]["hook"] == "listen" and f["network"]["port"] == port, f
        assert "/tmp/" in f["network"]["detection"], f
    finally:
        os.unlink(tmpexe)
    # the same from the installed interpreter: expected, no finding
    before = np_status(vigil)["detection_candidates_benign"]
    out = subprocess.run([PY, "-c", script], capture_output=True, text=True, timeout=30)
    pid = int(out.stdout.split()[0])
    vigil.wait_for(lambda: np_status(vigil)["detection_candidates_benign"] > before, timeout=60,
                   what="the listener judged expected")
    assert not findings(vigil, pid, rule="net-listen-unexpected")
