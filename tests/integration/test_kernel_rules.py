"""The kernel half of the rules, against include/vigil/abi.h's contract.

Each test writes rule tables straight into the daemon's maps (kmaps.install: the
idle generation, then flips), makes real processes do the thing, and reads the
alerts back from the ring buffer from the position it had before — whether or
not the daemon consumes them. Every test has its near miss: the closest thing
that must not be a candidate.
"""
import os
import socket
import struct
import subprocess
import time

import pytest

import kmaps
from kmaps import VG_RK_EXEC, VG_RK_FILE, VG_RK_SYSCALL, VG_RW_BASE, VG_RW_EXE_EXCEPT, \
    VG_RW_EXE_ONLY, VG_RW_PARENT_BASE, VG_RW_PATH, VG_RW_SYSCALL, VG_RW_SYSCALL_ARG, rbits, \
    name_hash, str_id

PY = "/usr/bin/python3"
NR_KILL, NR_PERSONALITY, NR_SOCKET = 62, 135, 41


@pytest.fixture
def km(vigil):
    m = kmaps.DaemonMaps(vigil.proc.pid)
    yield m
    m.clear()
    m.close()


@pytest.fixture
def tmp(tmp_path):
    return os.path.realpath(tmp_path)


class Alerts:
    """Alerts sent from now on, of one kind."""

    def __init__(self, km, kind):
        self.ring = km.ring()
        self.kind = kind
        self.pos = self.ring.producer_pos()

    def get(self, settle=0.2):
        time.sleep(settle)
        out = [kmaps.parse_alert(b) for b in self.ring.read_from(self.pos)]
        return [a for a in out if a["type"] == kmaps.VG_MSG_ALERT and a["kind"] == self.kind]

    def close(self):
        self.ring.close()


def touch(path, data="x"):
    with open(path, "w") as f:
        f.write(data)


def run(cmd, **kw):
    p = subprocess.Popen(cmd, **kw)
    p.wait(timeout=60)
    return p.pid


def test_file_prefix_and_action(vigil, km, tmp):
    """prefix + read: opening for read under the prefix alerts once per (process, file);
    a write-only open, and a read outside the prefix, don't."""
    sec = os.path.join(tmp, "secrets")
    os.mkdir(sec)
    touch(os.path.join(sec, "key"))
    touch(os.path.join(tmp, "other"))
    rs = kmaps.Ruleset().rule(3, need=["prefix"], acts=["read"])
    gen = km.install({VG_RK_FILE: rs}, prefixes=[(VG_RK_FILE, sec + "/", rbits(3))])
    al = Alerts(km, VG_RK_FILE)
    try:
        pid = run(["/usr/bin/cat", os.path.join(sec, "key"), os.path.join(sec, "key"),
                   os.path.join(tmp, "other")], stdout=subprocess.DEVNULL)
        run([PY, "-c", f"open('{sec}/key', 'a').write('y')"])  # write-only: not a read
        got = al.get()
    finally:
        al.close()
    assert len(got) == 1, got
    a = got[0]
    assert a["proc"][0] == pid
    assert a["rules"] == rbits(3) and a["gen"] == gen
    assert a["path"] == str_id(os.path.join(sec, "key"))
    assert a["actions"] == 1 << kmaps.FA["read"]
    assert a["ino"] == os.stat(os.path.join(sec, "key")).st_ino and a["dev"] != 0
    assert a["uid"] == 0


def test_file_exact_path_basename_and_exe_except(vigil, km, tmp):
    """exact path (bit 0), basename anywhere (bit 1), except one executable (cat)."""
    exact = os.path.join(tmp, "exact.conf")
    touch(exact)
    os.mkdir(os.path.join(tmp, "d"))
    base = os.path.join(tmp, "d", "id_rsa")
    touch(base)
    cat = os.path.realpath("/usr/bin/cat")
    rs = kmaps.Ruleset().rule(0, need=["path"], acts=["read"]).rule(1, need=["base"], acts=["read"])
    km.install({VG_RK_FILE: rs}, names=[
        (VG_RK_FILE, VG_RW_PATH, str_id(exact), rbits(0)),
        (VG_RK_FILE, VG_RW_BASE, name_hash("id_rsa"), rbits(1)),
        (VG_RK_FILE, VG_RW_EXE_EXCEPT, str_id(cat), rbits(0, 1)),
    ])
    al = Alerts(km, VG_RK_FILE)
    try:
        head = run(["/usr/bin/head", "-c1", exact, base], stdout=subprocess.DEVNULL)
        run([cat, exact, base], stdout=subprocess.DEVNULL)  # excepted
        run(["/usr/bin/head", "-c1", exact + ".bak"], stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)  # near miss: another name (and a failed open)
        got = al.get()
    finally:
        al.close()
    assert sorted((a["proc"][0], a["rules"][0]) for a in got) == [(head, 1), (head, 2)], got


def test_file_exe_only_and_uid(vigil, km, tmp):
    """A rule limited to one executable and to non-root users."""
    f = os.path.join(tmp, "f")
    touch(f)
    os.chmod(tmp, 0o755)
    os.chmod(f, 0o644)
    head = os.path.realpath("/usr/bin/head")
    rs = kmaps.Ruleset().rule(5, need=["only", "nonroot"], acts=["read"])
    km.install({VG_RK_FILE: rs}, names=[(VG_RK_FILE, VG_RW_EXE_ONLY, str_id(head), rbits(5))])
    al = Alerts(km, VG_RK_FILE)
    try:
        run([head, "-c1", f], stdout=subprocess.DEVNULL)  # root: no
        run(["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
             "/usr/bin/cat", f], stdout=subprocess.DEVNULL)  # not the exe: no
        nobody = run(["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                      head, "-c1", f], stdout=subprocess.DEVNULL)
        got = al.get()
    finally:
        al.close()
    hits = [a for a in got if a["path"] == str_id(f)]
    assert [(a["proc"][0], a["uid"]) for a in hits] == [(nobody, 65534)], got


def test_new_action_bits_are_evaluated_again(vigil, km, tmp):
    """The cache skips evaluation only for action bits already evaluated."""
    f = os.path.join(tmp, "f")
    touch(f)
    rs = kmaps.Ruleset().rule(0, need=["path"], acts=["write"])
    km.install({VG_RK_FILE: rs}, names=[(VG_RK_FILE, VG_RW_PATH, str_id(f), rbits(0))])
    al = Alerts(km, VG_RK_FILE)
    try:
        pid = run([PY, "-c", f"""
for i in range(3):
    open('{f}').read()
open('{f}', 'a').write('x')
open('{f}', 'a').write('x')
"""])
        got = al.get()
    finally:
        al.close()
    # One alert, at the first write (the operation's bits: open(..., 'a') is write + create).
    assert [a["proc"][0] for a in got] == [pid], got
    assert got[0]["actions"] == (1 << kmaps.FA["write"]) | (1 << kmaps.FA["create"])


def test_path_only_operations_alert_with_both_names(vigil, km, tmp):
    """rename into a watched directory: RENAME_TO with the other name in path2."""
    watched = os.path.join(tmp, "bin")
    os.mkdir(watched)
    touch(os.path.join(tmp, "payload"))
    rs = kmaps.Ruleset().rule(2, need=["prefix"], acts=["rename_to", "create", "write"])
    km.install({VG_RK_FILE: rs}, prefixes=[(VG_RK_FILE, watched + "/", rbits(2))])
    al = Alerts(km, VG_RK_FILE)
    try:
        run(["/usr/bin/mv", os.path.join(tmp, "payload"), os.path.join(watched, "ls")])
        got = al.get()
    finally:
        al.close()
    assert len(got) == 1, got
    a = got[0]
    assert a["path"] == str_id(os.path.join(watched, "ls"))
    assert a["path2"] == str_id(os.path.join(tmp, "payload"))
    assert a["actions"] & (1 << kmaps.FA["rename_to"])
    assert a["flags"] & 1  # VG_FF_UNRESOLVED


def children_of(vigil, pid):
    return {p["pid"] for p in vigil.query("procs", "--ppid", pid)}


def test_exec_basename_and_parent(vigil, km):
    """exec of 'true' whose parent is bash alerts; the same from dash doesn't."""
    rs = kmaps.Ruleset().rule(0, need=["base", "parent"])
    km.install({VG_RK_EXEC: rs}, names=[
        (VG_RK_EXEC, VG_RW_BASE, name_hash("true"), rbits(0)),
        (VG_RK_EXEC, VG_RW_PARENT_BASE, name_hash("bash"), rbits(0)),
    ])
    al = Alerts(km, VG_RK_EXEC)
    try:
        bash = run(["/usr/bin/bash", "-c", "/usr/bin/true; exit 0"])
        dash = run(["/usr/bin/dash", "-c", "/usr/bin/true; exit 0"])
        got = al.get()
    finally:
        al.close()
    mine = children_of(vigil, bash) | children_of(vigil, dash)
    got = [a for a in got if a["proc"][0] in mine]
    assert len(got) == 1, got
    assert got[0]["proc"][0] in children_of(vigil, bash)
    assert got[0]["exe"] == str_id(os.path.realpath("/usr/bin/true"))
    assert got[0]["parent_exe"] == str_id(os.path.realpath("/usr/bin/bash"))
    assert got[0]["argv"] != 0


def test_exec_conditions(vigil, km, tmp):
    """memfd exe, stdin a socket, root gained by a set-uid exec — each only when it holds."""
    rs = (kmaps.Ruleset()
          .rule(0, conds=[kmaps.VG_XC_MEMFD])
          .rule(1, need=["base"], conds=[kmaps.VG_XC_STDIO_SOCK])
          .rule(2, need=["base"], conds=[kmaps.VG_XC_GAINED_ROOT]))
    km.install({VG_RK_EXEC: rs}, names=[
        (VG_RK_EXEC, VG_RW_BASE, name_hash("cat"), rbits(1)),
        (VG_RK_EXEC, VG_RW_BASE, name_hash("mount"), rbits(2)),
    ])
    al = Alerts(km, VG_RK_EXEC)
    try:
        memfd = run([PY, "-c", """
import os
fd = os.memfd_create("x", 0)
os.write(fd, open("/usr/bin/true", "rb").read())
os.execv(f"/proc/self/fd/{fd}", ["x"])
"""])
        a, b = socket.socketpair()
        p = subprocess.Popen(["/usr/bin/cat"], stdin=a, stdout=subprocess.DEVNULL)
        a.close()
        b.close()
        p.wait(timeout=30)
        sock = p.pid
        plain = run(["/usr/bin/cat", "/dev/null"], stdin=subprocess.DEVNULL)  # no socket
        root = run(["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                    "/usr/bin/mount", "--version"], stdout=subprocess.DEVNULL)
        was_root = run(["/usr/bin/mount", "--version"], stdout=subprocess.DEVNULL)
        got = al.get()
    finally:
        al.close()
    mine = {memfd, sock, plain, root, was_root}
    hits = sorted((a["proc"][0], a["rules"][0]) for a in got if a["proc"][0] in mine)
    assert hits == sorted([(memfd, 1), (sock, 2), (root, 4)]), got
    assert [a for a in got if a["proc"][0] == memfd][0]["flags"] & (1 << 7)  # EXE_DELETED


def test_exec_scan_all(vigil, km):
    """An argv-only exec rule: every exec is sent, and counted as a scan."""
    rs = kmaps.Ruleset().rule(0)
    rs.scan_all = 1
    km.install({VG_RK_EXEC: rs})
    before = vigil.counters()
    al = Alerts(km, VG_RK_EXEC)
    try:
        pids = [run(["/usr/bin/true"]) for _ in range(5)]
        got = al.get()
    finally:
        al.close()
    after = vigil.counters()
    assert set(pids) <= {a["proc"][0] for a in got}
    assert after["exec_scans"] - before["exec_scans"] >= 5


def test_syscall_rules_with_target_and_arguments(vigil, km):
    """kill(child, 0) names the child's process key; personality() its arguments.
    A syscall without a rule sends nothing."""
    rs = kmaps.Ruleset().rule(0).rule(1).rule(2)
    km.install({VG_RK_SYSCALL: rs}, names=[
        (VG_RK_SYSCALL, VG_RW_SYSCALL, NR_KILL, rbits(0)),
        (VG_RK_SYSCALL, VG_RW_SYSCALL, NR_PERSONALITY, rbits(1)),
        (VG_RK_SYSCALL, VG_RW_SYSCALL, NR_SOCKET, rbits(2)),
    ])
    al = Alerts(km, VG_RK_SYSCALL)
    try:
        out = subprocess.run([PY, "-c", """
import ctypes, os, subprocess, sys
child = subprocess.Popen(["/usr/bin/sleep", "5"])
os.kill(child.pid, 0)
ctypes.CDLL(None).personality(0xffffffff)
import socket
socket.socket(socket.AF_INET, socket.SOCK_DGRAM).close()
print(os.getpid(), child.pid, flush=True)
child.kill(); child.wait()
"""], capture_output=True, text=True, check=True).stdout.split()
        me, child = int(out[0]), int(out[1])
        got = [a for a in al.get() if a["proc"][0] == me]
    finally:
        al.close()
    kills = [a for a in got if a["nr"] == NR_KILL and a["args"][1] == 0]
    assert len(kills) == 1, got
    assert kills[0]["target"][0] == child and kills[0]["target"][1] != 0
    assert kills[0]["args"][0] == child and kills[0]["ret"] == 0
    socks = [a for a in got if a["nr"] == NR_SOCKET]
    assert len(socks) == 1 and socks[0]["args"][0] == 2 and socks[0]["ret"] >= 0, got  # AF_INET
    pers = [a for a in got if a["nr"] == NR_PERSONALITY]
    assert len(pers) == 1 and pers[0]["rules"] == rbits(1), got
    assert pers[0]["args"][0] & 0xffffffff == 0xffffffff


def test_syscall_argument_condition(vigil, km):
    """A rule on socket(AF_PACKET): the kernel checks the first argument, so
    socket(AF_INET) and socket(AF_UNIX) send nothing while AF_PACKET does; a rule on
    the syscall alone (bit 1, personality) is not affected by the argument table."""
    AF_PACKET = 17
    rs = kmaps.Ruleset().rule(0).rule(1)
    rs.need_arg = rbits(0)
    rs.arg_idx = 1 << 0
    km.install({VG_RK_SYSCALL: rs}, names=[
        (VG_RK_SYSCALL, VG_RW_SYSCALL, NR_SOCKET, rbits(0)),
        (VG_RK_SYSCALL, VG_RW_SYSCALL_ARG, AF_PACKET, rbits(0), NR_SOCKET << 3 | 0),
        (VG_RK_SYSCALL, VG_RW_SYSCALL, NR_PERSONALITY, rbits(1)),
    ])
    al = Alerts(km, VG_RK_SYSCALL)
    try:
        out = subprocess.run([PY, "-c", """
import ctypes, os, socket
for fam, typ in ((socket.AF_INET, socket.SOCK_DGRAM), (socket.AF_UNIX, socket.SOCK_STREAM),
                 (socket.AF_INET6, socket.SOCK_DGRAM), (socket.AF_PACKET, socket.SOCK_RAW)):
    socket.socket(fam, typ).close()
ctypes.CDLL(None).personality(0xffffffff)
print(os.getpid(), flush=True)
"""], capture_output=True, text=True, check=True).stdout.split()
        me = int(out[0])
        got = [a for a in al.get() if a["proc"][0] == me]
    finally:
        al.close()
    socks = [a for a in got if a["nr"] == NR_SOCKET]
    assert [a["args"][0] for a in socks] == [AF_PACKET], got
    assert socks[0]["rules"] == rbits(0)
    assert len([a for a in got if a["nr"] == NR_PERSONALITY]) == 1, got


def test_generation_flip_reevaluates(vigil, km, tmp):
    """After a reload a long-lived process's next open of a file is evaluated again."""
    f = os.path.join(tmp, "f")
    touch(f)
    rs = kmaps.Ruleset().rule(0, need=["path"], acts=["read"])
    names = [(VG_RK_FILE, VG_RW_PATH, str_id(f), rbits(0))]
    p = subprocess.Popen([PY, "-c", f"""
import sys
for line in sys.stdin:
    open('{f}').read()
    print('ok', flush=True)
"""], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        km.install({VG_RK_FILE: rs}, names=names)
        al = Alerts(km, VG_RK_FILE)
        for _ in range(2):
            p.stdin.write("\n")
            p.stdin.flush()
            p.stdout.readline()
        first = len([a for a in al.get() if a["proc"][0] == p.pid])
        km.install({VG_RK_FILE: rs}, names=names)  # a reload: the other generation
        p.stdin.write("\n")
        p.stdin.flush()
        p.stdout.readline()
        total = len([a for a in al.get() if a["proc"][0] == p.pid])
        al.close()
    finally:
        p.stdin.close()
        p.wait(timeout=10)
    assert (first, total) == (1, 2)


def test_no_rules_no_alerts_and_no_path_work(vigil, km, tmp):
    """With no rule installed nothing is sent, whatever happens."""
    km.clear()
    before = vigil.counters()["alerts"]
    run(["/usr/bin/bash", "-c", f"cat /etc/passwd >/dev/null; mv {tmp} {tmp}.x; mv {tmp}.x {tmp}"])
    assert vigil.counters()["alerts"] == before


def test_syscall_target_relation(vigil, km):
    """A rule for targets that are not the caller's own (rule 0: ptrace-attach,
    process_vm_readv shape) is a candidate only for an unrelated target: kill(pid, 0)
    on itself, its child and its grandchild sends nothing for it, on a process the
    test started does. A rule without a relation (bit 1) sees all four."""
    rs = kmaps.Ruleset().rule(0).rule(1)
    for i in range(3):  # self, child, descendant
        rs.rel_not[i] = rbits(0)
    km.install({VG_RK_SYSCALL: rs}, names=[(VG_RK_SYSCALL, VG_RW_SYSCALL, NR_KILL, rbits(0, 1))])
    stranger = subprocess.Popen(["/usr/bin/sleep", "30"])
    al = Alerts(km, VG_RK_SYSCALL)
    try:
        out = subprocess.run([PY, "-c", """
import os, subprocess, sys, time
child = subprocess.Popen(["/usr/bin/sleep", "30"])
sh = subprocess.Popen(["/bin/sh", "-c", "/usr/bin/sleep 30; true"])
grand = 0
for _ in range(200):
    kids = open("/proc/%d/task/%d/children" % (sh.pid, sh.pid)).read().split()
    if kids:
        grand = int(kids[0]); break
    time.sleep(0.01)
stranger = int(sys.argv[1])
for pid in (os.getpid(), child.pid, grand, stranger):
    os.kill(pid, 0)
print(os.getpid(), child.pid, grand, flush=True)
os.kill(grand, 9); child.kill(); sh.wait(); child.wait()
""", str(stranger.pid)], capture_output=True, text=True, check=True).stdout.split()
        me, child, grand = int(out[0]), int(out[1]), int(out[2])
        got = [a for a in al.get() if a["proc"][0] == me and a["nr"] == NR_KILL and a["args"][1] == 0]
    finally:
        al.close()
        stranger.kill()
        stranger.wait()
    assert grand > 0
    by_target = {a["args"][0]: a["rules"] for a in got}
    assert by_target == {me: rbits(1), child: rbits(1), grand: rbits(1),
                         stranger.pid: rbits(0, 1)}, got
