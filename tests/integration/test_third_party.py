"""The network shapes against third-party tools, not our own imitations of them: nmap's
connect and SYN scans, iodine tunnelling IP over DNS and dns2tcp tunnelling TCP over DNS
to their own servers — run for real,
in a network namespace the test makes, from Debian's packages (scripts/install-deps.sh
test). A rule tuned to our test's exact traffic would miss these."""
import json
import os
import shutil
import subprocess
import time

from nettest import net, sh  # noqa: F401

TUN_DOMAIN = "t.vigil-test.example"


def findings(vigil, pid, rule):
    out = []
    with open(vigil.stdout_path) as f:
        for line in f:
            if line.startswith("{"):
                x = json.loads(line)
                if x["process"]["pid"] == pid and x["rule"]["id"] == rule:
                    out.append(x)
    return out


def wait_findings(vigil, pid, rule, timeout=30):
    return vigil.wait_for(lambda: findings(vigil, pid, rule), timeout=timeout,
                          what=f"{rule} of {pid}")


def test_nmap_scans(vigil, net):
    """nmap's TCP connect scan (-sT: connect() per port, refused) and SYN scan (-sS: raw
    socket probes, answers read by packet capture) of 200 closed ports: net-port-scan for
    each, from the kernel's own counts (no exec rule: the binary is copied under another
    name, so that the exec rule for scanner names is not what is seen)."""
    exe = shutil.which("nmap")
    assert exe, "nmap: run scripts/install-deps.sh test"
    tool = f"/tmp/vg-scan-{os.getpid()}"
    shutil.copy(exe, tool)
    try:
        for how in ("-sT", "-sS"):
            p = subprocess.Popen([tool, how, "-Pn", "-n", "--max-retries", "0", "-p",
                                  "20000-20199", net.NS_IP], stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True)
            out, err = p.communicate(timeout=120)
            assert p.returncode == 0 and "closed" in out, (how, out, err)
            pid = p.pid
            f = wait_findings(vigil, pid, "net-port-scan")[0]
            n = f["network"]
            assert n["connections"] + n["raw_probes"] >= 20, (how, n)
            if how == "-sT":
                assert n["refused"] >= 20, n
            else:
                assert n["raw_probes"] >= 20, n
    finally:
        os.unlink(tool)


def test_iodine_tunnel(vigil, net):
    """iodine tunnelling IP over DNS to iodined, carrying 200 KB: its queries are found the
    tunnel's shape, and reported once (per process and parent domain a minute), the
    repeats counted — not one finding per query."""
    for t in ("iodine", "iodined"):
        assert shutil.which(t), f"{t}: run scripts/install-deps.sh test"
    assert os.path.exists("/dev/net/tun"), "no /dev/net/tun"
    # iodined on an address of its own (the test DNS server has NS_IP's port 53)
    base = net.NS_IP.rsplit(".", 1)[0]
    srv = f"{base}.3"
    sh(f"ip netns exec {net.ns} ip addr add {srv}/24 dev {net.ns_if}")
    tun = f"10.{os.getpid() % 200 + 20}.77"
    d = subprocess.Popen(["ip", "netns", "exec", net.ns, "iodined", "-f", "-c", "-l", srv,
                          "-P", "vigiltest", f"{tun}.1", TUN_DOMAIN],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    c = None
    try:
        time.sleep(1)
        st0 = vigil.status()["network_policy"]
        c = subprocess.Popen(["iodine", "-f", "-P", "vigiltest", "-r", srv, TUN_DOMAIN],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        log = []

        def up():
            log.append(os.read(c.stdout.fileno(), 4096).decode(errors="replace"))
            return "Connection setup complete" in "".join(log) or c.poll() is not None
        vigil.wait_for(up, timeout=60, what="the tunnel up")
        assert c.poll() is None, "".join(log)
        # 200 KB through the tunnel to a listener in the namespace, at iodined's address
        lst = subprocess.Popen(["ip", "netns", "exec", net.ns, "python3", "-c",
                                "import socket; s = socket.socket(); s.bind(('%s.1', 9099)); "
                                "s.listen(1); c, _ = s.accept(); n = 0\n"
                                "while True:\n d = c.recv(65536)\n if not d: break\n n += len(d)\n"
                                "print(n)" % tun], stdout=subprocess.PIPE, text=True)
        time.sleep(0.5)
        subprocess.run(["python3", "-c",
                        "import socket; s = socket.create_connection(('%s.1', 9099), timeout=60);"
                        " s.sendall(b'x' * 200000); s.close()" % tun], check=True, timeout=90)
        out, _ = lst.communicate(timeout=60)
        assert int(out) == 200000, out
        fs = wait_findings(vigil, c.pid, "net-dns-tunnel-shape")
        time.sleep(2)
        fs = findings(vigil, c.pid, "net-dns-tunnel-shape")
        assert len(fs) == 1, [x["network"]["detection"] for x in fs]
        assert fs[0]["network"]["domain"].endswith(TUN_DOMAIN), fs[0]
        assert fs[0]["rule"]["mitre"]["technique"]["id"] == "T1048", fs[0]
        st = vigil.status()["network_policy"]
        held = (st["counters"]["messages_suppressed"] - st0["counters"]["messages_suppressed"]
                + st["detection_repeats_suppressed"] - st0["detection_repeats_suppressed"])
        assert held >= 100, held  # hundreds of queries carried 200 KB
        assert findings(vigil, c.pid, "tunnel-tool-run"), "the exec rule for iodine"
    finally:
        for p in (c, d):
            if p:
                p.kill()
                p.wait()


def test_dns2tcp_tunnel(vigil, net):
    """dns2tcp carrying a TCP stream (100 KB) in TXT queries to dns2tcpd, the client copied
    under another name (so the exec rule for tunnel tools is not what is seen): its base32
    labels are the tunnel's shape, reported once (per process and parent domain a minute),
    and the thousand names under one domain the many-subdomains shape."""
    for t in ("dns2tcpc", "dns2tcpd"):
        assert shutil.which(t), f"{t}: run scripts/install-deps.sh test"
    base = net.NS_IP.rsplit(".", 1)[0]
    srv = f"{base}.4"  # an address of its own (the test DNS server has NS_IP's port 53)
    sh(f"ip netns exec {net.ns} ip addr add {srv}/24 dev {net.ns_if}")
    conf = f"/tmp/vg-d2t-{os.getpid()}.conf"
    with open(conf, "w") as f:
        f.write(f"listen = {srv}\nport = 53\nuser = nobody\nchroot = /tmp\n"
                f"domain = d2t.{TUN_DOMAIN}\nresources = sink:127.0.0.1:9098\n")
    tool = f"/tmp/vg-relay-{os.getpid()}"
    shutil.copy(shutil.which("dns2tcpc"), tool)
    # the stream's end in the namespace: counts what it got
    sink = subprocess.Popen(["ip", "netns", "exec", net.ns, "python3", "-c",
                             "import socket; s = socket.socket(); s.bind(('127.0.0.1', 9098)); "
                             "s.listen(1); c, _ = s.accept(); n = 0\n"
                             "while n < 100000:\n d = c.recv(65536)\n if not d: break\n"
                             " n += len(d)\nprint(n, flush=True)"],
                            stdout=subprocess.PIPE, text=True)
    d = subprocess.Popen(["ip", "netns", "exec", net.ns, "dns2tcpd", "-F", "-f", conf],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    c = None
    try:
        time.sleep(1)
        lport = 20000 + os.getpid() % 20000
        c = subprocess.Popen([tool, "-z", f"d2t.{TUN_DOMAIN}", "-r", "sink", "-l", str(lport),
                              srv], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1)
        w = subprocess.Popen(["python3", "-c",
                              "import socket, sys; s = socket.create_connection(('127.0.0.1', %d),"
                              " timeout=60); s.sendall(b'x' * 100000); sys.stdin.read()" % lport],
                             stdin=subprocess.PIPE)
        out, _ = sink.communicate(timeout=120)
        w.communicate("")
        assert int(out) == 100000, out
        f = wait_findings(vigil, c.pid, "net-dns-tunnel-shape")
        many = wait_findings(vigil, c.pid, "net-dns-many-subdomains")
        time.sleep(2)
        fs = findings(vigil, c.pid, "net-dns-tunnel-shape")
        assert len(fs) == 1, [x["network"]["detection"] for x in fs]
        assert fs[0]["network"]["domain"].endswith(TUN_DOMAIN), fs[0]
        assert len(findings(vigil, c.pid, "net-dns-many-subdomains")) == 1, many
        assert not findings(vigil, c.pid, "tunnel-tool-run")
    finally:
        for p in (c, d, sink):
            if p and p.poll() is None:
                p.kill()
                p.wait()
        os.unlink(tool)
        os.unlink(conf)
