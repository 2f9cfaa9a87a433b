"""RuntimePolicy rules with network matchers (docs/policies.md, "network"): the entries
of the network-policy file, scoped to the policy's target, enforced by the network
policy's cgroup connect/sendmsg programs.

A network namespace joined by a veth pair holds the servers and a DNS responder
(test_netpolicy's PolicyNet, on addresses of its own: 10.215.N.0/24). The target
and the bystander are two copies of python3 under this test's directory, with names
nobody else uses: the policies target one by processName; the other, the same
program under another name, must still connect. Names are under a zone of this test's
own (rp.vigil-test.example).
"""
import json
import os
import subprocess
import uuid

import pytest

from conftest import VIGIL, Daemon
from nettest import client_prelude
from test_netpolicy import PolicyNet
from test_policies import base, pdir, policy, unique_bin  # noqa: F401 (fixtures)
from test_policies import install as install_policy, remove as remove_policy

# not test_netpolicy's zone: its policy denies *.evil of its zone for every process, and
# it may be running on this machine at the same time (other checkouts' test runs)
ZONE = "rp.vigil-test.example"

PY = os.path.realpath("/usr/bin/python3")

CLIENT = client_prelude()  # resolve(name, dns): the server is named by each call


class Net(PolicyNet):
    """PolicyNet on 10.215.N.0/24 (test_netpolicy may run at the same time)."""

    def __init__(self):
        super().__init__("r", 215, 0xfd79)

    def names(self):
        return {f"x.evil.{ZONE}": [["A", self.ip[5]]], f"ok.{ZONE}": [["A", self.NS_IP]]}


@pytest.fixture(scope="module")
def net():
    env = Net()
    try:
        yield env.up()
    finally:
        env.down()



NETWORK_FILE = """\
default: allow
allow:
  - ip: {net}.7
deny:
  - ip: {net}.8
"""


@pytest.fixture(scope="module")
def vigil(pdir, base, net):
    # a network-policy file too: RuntimePolicy entries are merged with its entries
    # (the VM scenario runs RuntimePolicy rules without one)
    npf = os.path.join(base, "network.yaml")
    with open(npf, "w") as f:
        f.write(NETWORK_FILE.format(net=net.net))
    d = Daemon("polnet", ["--policies", pdir, "--network-policy", npf])
    d.purge()
    d.start(["--reset-state"])
    yield d
    d.stop()
    d.purge()


def unique_py(base):
    return unique_bin(base, PY)


def run(binary, script, check=True):
    p = subprocess.run([binary, "-c", CLIENT + script], capture_output=True, text=True,
                       timeout=60)
    if not check:
        return p
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def policies(vigil):
    return json.loads(vigil.cli("policy", "list", "--json").stdout)


def install(vigil, pdir, name, text):
    path = install_policy(vigil, pdir, name, text)
    # the network policy merges the rules right after the policy set is installed
    vigil.wait_for(lambda: f"policy/{name}/0" in
                   vigil.status()["network_policy"]["runtime_policy_rules"],
                   timeout=15, what="network rules merged")
    return path


def remove(vigil, pdir, name):
    remove_policy(vigil, pdir, name)
    vigil.wait_for(lambda: f"policy/{name}/0" not in
                   vigil.status()["network_policy"]["runtime_policy_rules"],
                   timeout=15, what="network rules unmerged")


def findings(vigil, pid, rule=None):
    out = []
    with open(vigil.stdout_path) as f:
        for line in f:
            if not line.startswith("{"):
                continue
            x = json.loads(line)
            if x.get("kind") == "network" and x["process"]["pid"] == pid and \
                    (rule is None or x["rule"]["id"] == rule):
                out.append(x)
    return out


def wait_findings(vigil, pid, rule=None, n=1):
    return vigil.wait_for(lambda: (lambda f: f if len(f) >= n else None)(
        findings(vigil, pid, rule)), timeout=60, what=f"{n} finding(s) of {pid}")


def wait_to(vigil, pid, addr):
    """The first finding of pid about address addr."""
    return vigil.wait_for(lambda: next((x for x in findings(vigil, pid)
                                        if x["network"]["address"] == addr), None),
                          timeout=60, what=f"a finding of {pid} about {addr}")


def test_block_a_cidr_for_the_target_only(vigil, pdir, base, net):
    target, other = unique_py(base), unique_py(base)
    name = "net-block-" + uuid.uuid4().hex[:6]
    install(vigil, pdir, name, policy(
        name, f"    processName: {os.path.basename(target)}",
        f"    - action: block\n      network:\n        deny:\n          - cidr: {net.ip[4]}/32\n"
        f"          - cidr: {net.ip[6]}/32\n            ports: [9090]\n"
        f"      message: \"{os.path.basename(target)} may not reach {net.ip[4]}\""))
    pl = [p for p in policies(vigil)["policies"] if p["name"] == name][0]
    r0 = pl["rules"][0]
    assert r0["enforced_by"] == "cgroup" and "EPERM" in r0["how"], r0
    assert r0["network"]["deny"] == [f"{net.ip[4]}/32", f"{net.ip[6]}/32 port 9090"], r0
    script = f"""
print(json.dumps({{"pid": os.getpid(), "deny": connect({net.ip[4]!r}), "ok": connect({net.NS_IP!r}),
                  "udp": sendto({net.ip[6]!r}), "udp_other_port": sendto({net.ip[6]!r}, 9091)}}))"""
    t = run(target, script)
    o = run(other, script)
    assert (t["deny"], t["ok"], t["udp"], t["udp_other_port"]) == ("EPERM", "ok", "EPERM", "ok"), t
    assert (o["deny"], o["ok"], o["udp"]) == ("ok", "ok", "ok"), o
    f = [x for x in wait_findings(vigil, t["pid"], f"policy/{name}/0")
         if x["network"]["hook"] == "connect4"]
    assert f, findings(vigil, t["pid"])
    f = f[0]
    assert f["action"] == "block" and f["enforced_by"] == "cgroup", f
    assert f["rule"]["title"] == f"{os.path.basename(target)} may not reach {net.ip[4]}", f
    e = f["enforcement"]
    assert e["policy"] == name and e["audit"] is False and "EPERM" in e["guarantee"], e
    assert e["rule"] == f"policy/{name}/0" and e["hook"] == "connect4", e
    n = f["network"]
    assert (n["address"], n["port"], n["blocked"]) == (net.ip[4], 8080, True), n
    assert n["policy"]["runtime_policy"] == name and n["policy"]["entry"] == "deny[0]", n
    assert not findings(vigil, o["pid"], f"policy/{name}/0")
    remove(vigil, pdir, name)
    # removed: the target connects again
    assert run(target, script)["deny"] == "ok"


def test_domain_denied_before_and_after_resolution(vigil, pdir, base, net):
    target, other = unique_py(base), unique_py(base)
    name = "net-dom-" + uuid.uuid4().hex[:6]
    install(vigil, pdir, name, policy(
        name, f"    processName: {os.path.basename(target)}",
        f"    - action: block\n      network:\n        deny:\n          - domain: \"*.evil.{ZONE}\"\n"))
    script = f"""
a = resolve("x.evil.{ZONE}", {net.NS_IP!r})
ok = resolve("ok.{ZONE}", {net.NS_IP!r})
print(json.dumps({{"pid": os.getpid(), "a": a, "ok": ok, "c": connect({net.ip[5]!r})}}))"""
    # before: the target's query for the name is dropped (another name resolves)
    t = run(target, script)
    assert t["a"] in ("EPERM", "timeout") and t["ok"] == [net.NS_IP], t
    # the bystander resolves it and connects ...
    o = run(other, script)
    assert (o["a"], o["c"]) == ([net.ip[5]], "ok"), o
    # ... after which the address is refused to the target (learned from that answer)
    t2 = run(target, f"""
print(json.dumps({{"pid": os.getpid(), "c": connect({net.ip[5]!r})}}))""")
    assert t2["c"] == "EPERM", t2
    q = [x for x in wait_findings(vigil, t["pid"], f"policy/{name}/0")
         if x["network"]["hook"] == "dns_query"][0]
    assert q["network"]["domain"] == f"x.evil.{ZONE}" and q["network"]["blocked"], q
    assert q["action"] == "block" and q["enforced_by"] == "cgroup", q
    f = [x for x in wait_findings(vigil, t2["pid"], f"policy/{name}/0")
         if x["network"]["hook"] == "connect4"][0]
    n = f["network"]
    assert n["policy"]["reason"] == "learned" and n["domain"] == f"evil.{ZONE}", n
    assert f["action"] == "block" and f["enforced_by"] == "cgroup", f
    assert not findings(vigil, o["pid"], f"policy/{name}/0")
    remove(vigil, pdir, name)


def test_audit_mode_reports_without_blocking(vigil, pdir, base, net):
    target = unique_py(base)
    name = "net-audit-" + uuid.uuid4().hex[:6]
    install(vigil, pdir, name, policy(
        name, f"    processName: {os.path.basename(target)}",
        f"    - action: kill\n      network:\n        deny:\n          - cidr: {net.ip[4]}/32\n",
        mode="audit"))
    t = run(target, f"""
print(json.dumps({{"pid": os.getpid(), "c": connect({net.ip[4]!r})}}))""")
    assert t["c"] == "ok", t  # nothing refused, nobody killed
    f = wait_findings(vigil, t["pid"], f"policy/{name}/0")[0]
    assert f["action"] == "kill" and f["enforced_by"] is None, f
    assert f["enforcement"]["audit"] is True and f["network"]["blocked"] is False, f
    remove(vigil, pdir, name)


def test_kill_refuses_the_connection_and_kills_the_process(vigil, pdir, base, net):
    target = unique_py(base)
    name = "net-kill-" + uuid.uuid4().hex[:6]
    install(vigil, pdir, name, policy(
        name, f"    processName: {os.path.basename(target)}",
        f"    - action: kill\n      network:\n        deny:\n          - cidr: {net.ip[4]}/32\n"))
    pl = [p for p in policies(vigil)["policies"] if p["name"] == name][0]
    assert pl["rules"][0]["enforced_by"] == "signal", pl
    before = vigil.status()["network_policy"]["counters"]["policy_signals"]
    p = run(target, f"""
print(os.getpid(), flush=True)
r = connect({net.ip[4]!r})
print("survived", r, flush=True)""", check=False)
    # killed at connect()'s exit: it never saw the EPERM, never printed again
    assert p.returncode == -9, (p.returncode, p.stdout, p.stderr)
    assert "survived" not in p.stdout, p.stdout
    pid = int(p.stdout.split()[0])
    f = wait_findings(vigil, pid, f"policy/{name}/0")[0]
    assert f["action"] == "kill" and f["enforced_by"] == "signal", f
    assert f["network"]["blocked"] is True and "SIGKILL" in f["enforcement"]["guarantee"], f
    assert vigil.status()["network_policy"]["counters"]["policy_signals"] > before
    remove(vigil, pdir, name)


def test_alert_rule_never_lets_through_what_a_block_rule_refuses(vigil, pdir, base, net):
    """An alert on the /32 is more specific than a block on the /24: reported, and the
    /24 block still refuses."""
    target = unique_py(base)
    name = "net-alert-" + uuid.uuid4().hex[:6]
    install(vigil, pdir, name, policy(
        name, f"    processName: {os.path.basename(target)}",
        f"    - action: alert\n      network:\n        deny:\n          - cidr: {net.ip[4]}/32\n"
        f"    - action: block\n      network:\n        deny:\n          - cidr: {net.net}.0/29\n"))
    t = run(target, f"""
print(json.dumps({{"pid": os.getpid(), "c": connect({net.ip[4]!r})}}))""")
    assert t["c"] == "EPERM", t
    a = wait_findings(vigil, t["pid"], f"policy/{name}/0")[0]
    assert a["action"] == "alert" and a["enforced_by"] is None and not a["network"]["blocked"], a
    b = wait_findings(vigil, t["pid"], f"policy/{name}/1")[0]
    assert b["action"] == "block" and b["enforced_by"] == "cgroup", b
    remove(vigil, pdir, name)


def test_bad_matcher_is_a_file_line_field_error_and_the_old_set_stays(vigil, pdir, base, net):
    target = unique_py(base)
    name = "net-good-" + uuid.uuid4().hex[:6]
    install(vigil, pdir, name, policy(
        name, f"    processName: {os.path.basename(target)}",
        f"    - action: block\n      network:\n        deny:\n          - cidr: {net.ip[4]}/32\n"))
    bad = os.path.join(base, "bad.yaml")
    text = policy("net-bad", "    processName: foo",
                  "    - action: block\n      network:\n        deny:\n"
                  "          - cidr: 10.0.0.300/8\n          - domain: \"bad..example\"\n"
                  "          - colour: red\n")
    with open(bad, "w") as f:
        f.write(text)
    r = subprocess.run([VIGIL, "policy", "check", bad], capture_output=True, text=True)
    assert r.returncode == 1, r
    assert f"{bad}:13:" in r.stderr and "spec.rules[0].network.deny[0].cidr" in r.stderr, r.stderr
    assert "bad CIDR" in r.stderr, r.stderr
    assert f"{bad}:14:" in r.stderr and "spec.rules[0].network.deny[1].domain" in r.stderr
    assert f"{bad}:15:" in r.stderr and "unknown field \"colour\"" in r.stderr, r.stderr
    # the same file in the daemon's directory: rejected, the previous set stays
    path = os.path.join(pdir, "zz-bad.yaml")
    with open(path, "w") as f:
        f.write(text)
    vigil.wait_for(lambda: policies(vigil)["last_error"], timeout=15, what="reload rejected")
    assert "network.deny[0].cidr" in policies(vigil)["last_error"]
    t = run(target, f"""
print(json.dumps({{"c": connect({net.ip[4]!r})}}))""")
    assert t["c"] == "EPERM", t
    os.unlink(path)
    remove(vigil, pdir, name)


def test_merged_precedence_with_the_network_policy_file(vigil, pdir, base, net):
    """The file allows .7 to everyone and denies .8; a RuntimePolicy denies .7 to its
    target: at equal specificity the target (a scope) wins; the file still decides
    for everyone else."""
    target, other = unique_py(base), unique_py(base)
    name = "net-merge-" + uuid.uuid4().hex[:6]
    install(vigil, pdir, name, policy(
        name, f"    processName: {os.path.basename(target)}",
        f"    - action: block\n      network:\n        deny:\n          - ip: {net.ip[7]}\n"))
    script = f"""
print(json.dumps({{"pid": os.getpid(), "a7": connect({net.ip[7]!r}), "a8": connect({net.ip[8]!r})}}))"""
    t, o = run(target, script), run(other, script)
    assert (t["a7"], t["a8"]) == ("EPERM", "EPERM"), t
    assert (o["a7"], o["a8"]) == ("ok", "EPERM"), o
    # by address too: an earlier process with the same pid may have findings of its own
    f = wait_to(vigil, t["pid"], net.ip[7])
    assert f["rule"]["id"] == f"policy/{name}/0", f
    g = wait_to(vigil, o["pid"], net.ip[8])
    assert g["rule"]["id"] == "net-policy-deny" and g["network"]["policy"]["runtime_policy"] is None
    remove(vigil, pdir, name)


def proc_state(pid):
    with open(f"/proc/{pid}/status") as f:
        return [l.split()[1] for l in f if l.startswith("State:")][0]


def test_freeze_stops_the_process_at_the_refused_connect(vigil, pdir, base, net):
    target = unique_py(base)
    name = "net-freeze-" + uuid.uuid4().hex[:6]
    install(vigil, pdir, name, policy(
        name, f"    processName: {os.path.basename(target)}",
        f"    - action: freeze\n      network:\n        deny:\n          - cidr: {net.ip[4]}/32\n"))
    p = subprocess.Popen([target, "-c", CLIENT + f"""
print(os.getpid(), flush=True)
print("after", connect({net.ip[4]!r}), flush=True)"""], stdout=subprocess.PIPE, text=True)
    try:
        pid = int(p.stdout.readline())
        vigil.wait_for(lambda: proc_state(pid) == "T", timeout=15, what="stopped")
        f = wait_findings(vigil, pid, f"policy/{name}/0")[0]
        assert f["action"] == "freeze" and f["enforced_by"] == "signal", f
        assert "SIGSTOP" in f["enforcement"]["guarantee"], f
        assert f["enforcement"]["process_state"].startswith("T"), f["enforcement"]
        vigil.cli("unfreeze", str(pid))
        # resumed: connect() returns the EPERM it was refused with
        assert p.stdout.readline().strip() == "after EPERM"
        assert p.wait(timeout=15) == 0
    finally:
        p.kill()
    remove(vigil, pdir, name)


def test_ancestor_target_covers_the_descendants_only(vigil, pdir, base, net):
    """The shipped CI example's shape: an ancestor (a runner) as the target — its
    descendants are refused, the same program outside its tree is not."""
    runner = unique_py(base)
    child = unique_py(base)
    name = "net-anc-" + uuid.uuid4().hex[:6]
    install(vigil, pdir, name, policy(
        name, f"    ancestor: [{runner}]",
        f"    - action: block\n      network:\n        deny:\n          - ip: {net.ip[4]}\n"))
    script = f"""
print(json.dumps({{"pid": os.getpid(), "c": connect({net.ip[4]!r})}}))"""
    inner = run(runner, "import subprocess, sys\n"
                f"sys.stdout.write(subprocess.run([{child!r}, '-c', {CLIENT + script!r}], "
                "capture_output=True, text=True).stdout)")
    outer = run(child, script)
    assert inner["c"] == "EPERM" and outer["c"] == "ok", (inner, outer)
    f = wait_findings(vigil, inner["pid"], f"policy/{name}/0")[0]
    assert f["enforced_by"] == "cgroup" and f["network"]["address"] == net.ip[4], f
    remove(vigil, pdir, name)
