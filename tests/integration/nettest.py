"""Network test environment: a network namespace joined by a veth pair, with a DNS
responder, a TCP server and a UDP echo server in it. Nothing leaves the machine.

The namespace side is NS_IP / NS_IP6; this side HOST_IP / HOST_IP6. The servers run in
the namespace but in the test's cgroup, so vigil's cgroup hooks see both ends.
"""
import json
import os
import subprocess
import sys
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
PY = "/usr/bin/python3"
TCP_PORT = 8080
UDP_PORT = 9090
CLOSED_PORT = 8081
RESP = 7777  # bytes the TCP server sends back after the client's EOF
ZONE_SUFFIX = "vigil-test.example"

SERVERS = r"""
import socket, sys, threading
fam = socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET
def tcp():
    s = socket.socket(fam); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((sys.argv[1], %d)); s.listen(128)
    while True:
        c, _ = s.accept()
        def one(c):
            while c.recv(65536):
                pass
            c.sendall(b"r" * %d); c.close()
        threading.Thread(target=one, args=(c,), daemon=True).start()
def udp():
    u = socket.socket(fam, socket.SOCK_DGRAM); u.bind((sys.argv[1], %d))
    while True:
        d, peer = u.recvfrom(65536); u.sendto(d, peer)
threading.Thread(target=tcp, daemon=True).start()
threading.Thread(target=udp, daemon=True).start()
print("ready", flush=True)
threading.Event().wait()
""" % (TCP_PORT, RESP, UDP_PORT)


# A test client's TCP exchange with the test server: send data, end the sending side, read
# the whole answer (RESP bytes), close; returns the bytes received.
EXCHANGE = """def exchange(ip, port, data):
    c = socket.create_connection((ip, port))
    c.sendall(data)
    c.shutdown(socket.SHUT_WR)
    got = 0
    while True:
        d = c.recv(65536)
        if not d:
            break
        got += len(d)
    c.close()
    return got
"""


def client_prelude(dns=None):
    """Python prepended to a test client's script: connect(ip, port) and sendto(ip, port)
    return 'ok' or the errno's name; resolve(name, dns=DNS) asks the test's DNS server
    (the A answers, 'rcodeN', 'timeout' or the errno's name)."""
    return (f"import errno, json, os, socket, sys\nsys.path.insert(0, {HERE!r})\n"
            f"import dnsserver\nDNS = {dns!r}\n"
            "def connect(ip, port=8080):\n"
            "    s = socket.socket(); s.settimeout(3)\n"
            "    try:\n"
            "        s.connect((ip, port)); return 'ok'\n"
            "    except OSError as e:\n"
            "        return errno.errorcode.get(e.errno, str(e))\n"
            "    finally:\n"
            "        s.close()\n"
            "def sendto(ip, port=9090):\n"
            "    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
            "    try:\n"
            "        s.sendto(b'x', (ip, port)); return 'ok'\n"
            "    except OSError as e:\n"
            "        return errno.errorcode.get(e.errno, str(e))\n"
            "def resolve(name, dns=None):\n"
            "    try:\n"
            "        rcode, ans = dnsserver.query((dns or DNS, 53), name, timeout=1.5)\n"
            "        return [v for t, v, _ in ans if t == 'A'] or 'rcode%d' % rcode\n"
            "    except socket.timeout:\n"
            "        return 'timeout'\n"
            "    except OSError as e:\n"
            "        return errno.errorcode.get(e.errno, str(e))\n")


def sh(cmd):
    r = subprocess.run(cmd, shell=True, capture_output=True, text=True)
    assert r.returncode == 0, f"{cmd}: {r.stderr}"
    return r.stdout


class NetEnv:
    def __init__(self):
        n = os.getpid() % 200 + 20
        self.ns = f"vgt{os.getpid()}"
        self.host_if, self.ns_if = f"vgh{os.getpid()}"[:15], f"vgn{os.getpid()}"[:15]
        self.HOST_IP, self.NS_IP = f"10.213.{n}.1", f"10.213.{n}.2"
        self.HOST_IP6, self.NS_IP6 = f"fd77:{n:x}::1", f"fd77:{n:x}::2"
        self.procs = []
        self.vigil = None  # the daemon clients are identified with (see client)
        self.zone = {
            f"web.{ZONE_SUFFIX}": [["CNAME", f"svc.{ZONE_SUFFIX}"]],
            f"svc.{ZONE_SUFFIX}": [["A", self.NS_IP]],
            f"v6.{ZONE_SUFFIX}": [["AAAA", self.NS_IP6]],
            f"other.{ZONE_SUFFIX}": [["A", self.NS_IP]],
            # the TCP server sends its answer in two segments (dnsserver.serve_tcp)
            f"split.{ZONE_SUFFIX}": [["A", "10.99.0.1"], ["A", "10.99.0.2"]],
        }

    def up(self):
        sh(f"ip netns add {self.ns}")
        sh(f"ip link add {self.host_if} type veth peer name {self.ns_if}")
        sh(f"ip link set {self.ns_if} netns {self.ns}")
        sh(f"ip addr add {self.HOST_IP}/24 dev {self.host_if}")
        sh(f"ip -6 addr add {self.HOST_IP6}/64 dev {self.host_if} nodad")
        sh(f"ip link set {self.host_if} up")
        x = f"ip netns exec {self.ns}"
        sh(f"{x} ip addr add {self.NS_IP}/24 dev {self.ns_if}")
        sh(f"{x} ip -6 addr add {self.NS_IP6}/64 dev {self.ns_if} nodad")
        sh(f"{x} ip link set {self.ns_if} up")
        sh(f"{x} ip link set lo up")
        self.start(["ip", "netns", "exec", self.ns, PY, os.path.join(HERE, "dnsserver.py"),
                    self.NS_IP, "53", json.dumps(self.zone)])
        self.start(["ip", "netns", "exec", self.ns, PY, "-c", SERVERS, self.NS_IP])
        self.server_pid = self.procs[-1].pid  # the IPv4 servers (ip netns exec execs python)
        self.start(["ip", "netns", "exec", self.ns, PY, "-c", SERVERS, self.NS_IP6])
        return self

    def start(self, cmd):
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
        self.procs.append(p)
        line = p.stdout.readline()
        assert line.strip() == "ready", f"{cmd[:6]}: {line!r}"

    def down(self):
        for p in self.procs:
            p.kill()
            p.wait()
        subprocess.run(f"ip netns del {self.ns}", shell=True)
        subprocess.run(f"ip link del {self.host_if}", shell=True, capture_output=True)

    def client(self, script, check=True):
        """Run a Python client in a process of its own; returns (pid, stdout).

        The client waits at its start until its vigil id (pid@start) is known: pids wrap
        fast on a busy machine (pid_max 32768), so queries name the process by id (ref)."""
        pre = (f"import os, socket, sys, time\nsys.path.insert(0, {HERE!r})\n"
               f"import dnsserver\nNS_IP = {self.NS_IP!r}\nNS_IP6 = {self.NS_IP6!r}\n"
               f"DNS = (NS_IP, 53)\n{EXCHANGE}sys.stdout.write('@@\\n'); sys.stdout.flush(); "
               f"sys.stdin.readline()\n")
        p = subprocess.Popen([PY, "-c", pre + script], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert p.stdout.readline() == "@@\n"
        if self.vigil:
            alive = [x for x in self.vigil.query("procs", "--pid", p.pid) if x["alive"]]
            assert len(alive) == 1, alive
            IDS[p.pid] = alive[0]["id"]
        out, err = p.communicate(input="go\n", timeout=60)
        if check:
            assert p.returncode == 0, err
        return p.pid, out


@pytest.fixture(scope="module")
def net():
    env = NetEnv()
    try:
        yield env.up()
    finally:
        env.down()


IDS = {}


def ref(pid):
    """The process's exact id if the client was identified, else the pid."""
    return IDS.get(pid, pid)


def flows_of(vigil, pid, *args):
    return vigil.query("flows", "--pid", ref(pid), *args)


def one_flow(flows, proto, remote, rport):
    hits = [f for f in flows if f["proto"] == proto and f["remote_addr"] == remote
            and f["remote_port"] == rport]
    assert len(hits) == 1, f"{proto} {remote}:{rport}: {hits}\nall: {flows}"
    return hits[0]
