"""File activity in the kernel: one entry per (process, file), with the kernel's resolved path.

Real processes do real file operations; `vigil query files` must show what the kernel saw.
"""
import os
import struct
import subprocess
import time

import pytest

import kmaps
from conftest import helper, rfc3339

PY = "/usr/bin/python3"


@pytest.fixture
def tmp(tmp_path):
    """A scratch directory by its real path (the kernel reports real paths)."""
    return os.path.realpath(tmp_path)


def run_py(script, cwd=None, check=True):
    """Run a Python snippet in a process of its own; returns that process's pid."""
    p = subprocess.Popen([PY, "-c", "import os, sys\n" + script], cwd=cwd,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = p.communicate(timeout=60)
    if check:
        assert p.returncode == 0, err
    return p.pid


def files_of(vigil, pid, *args):
    return vigil.query("files", "--pid", pid, *args)


def by_path(entries, path):
    return [e for e in entries if e["path"] == path]


def one(entries, path, resolved=True):
    """The single entry for path, resolved (by inode) or not (a named path)."""
    hits = [e for e in by_path(entries, path) if ("unresolved" not in e["flags"]) == resolved]
    assert len(hits) == 1, f"{path} ({'resolved' if resolved else 'unresolved'}): {hits}\n" \
        f"all: {[(e['path'], e['actions'], e['flags']) for e in entries]}"
    return hits[0]


def test_opens_resolve_to_the_real_file(vigil, tmp):
    """Relative, '..', symlinked and dirfd-relative opens all land on the file's real path."""
    real = os.path.join(tmp, "real.txt")
    with open(real, "w") as f:
        f.write("x")
    os.mkdir(os.path.join(tmp, "sub"))
    os.symlink(real, os.path.join(tmp, "link"))
    os.symlink(tmp, os.path.join(tmp, "dirlink"))
    pid = run_py(f"""
open("real.txt").read()
open("sub/../real.txt").read()
open("./sub/.././/real.txt").read()
open("link").read()
open("dirlink/sub/../real.txt").read()
d = os.open("sub", os.O_RDONLY | os.O_DIRECTORY)
os.close(os.open("../real.txt", os.O_RDONLY, dir_fd=d))
os.close(os.open("{real}", os.O_RDONLY))
""", cwd=tmp)
    entries = files_of(vigil, pid)
    e = one(entries, real)
    assert e["count"] == 7, e
    assert e["actions"] == ["read"], e
    assert e["flags"] == [], e
    assert e["inode"] == os.stat(real).st_ino
    assert e["process"]["pid"] == pid
    assert os.path.basename(e["process"]["exe"]).startswith("python3")
    # Nothing was recorded under a name the caller used instead of the real path.
    for x in entries:
        assert "link" not in x["path"] and "/../" not in x["path"] and "/./" not in x["path"], x
    # The directory opened for the dirfd is its own entry.
    assert one(entries, os.path.join(tmp, "sub"))["actions"] == ["read"]


def test_failed_open_keeps_the_user_string(vigil, tmp):
    """A refused attempt on something that exists is kept as the caller named it:
    absolute, normalised, unresolved. A name that leads nowhere (ENOENT, ENOTDIR:
    a compiler probing its include path) is counted, not recorded."""
    os.makedirs(os.path.join(tmp, "sub", "d"))
    open(os.path.join(tmp, "sub", "x"), "w").close()
    before = vigil.counters()
    pid = run_py(f"""
import errno
for p, flags in (("sub/d/..//./d", os.O_WRONLY),                   # EISDIR
                 ("{tmp}//sub/d/../x", os.O_WRONLY | os.O_CREAT | os.O_EXCL),  # EEXIST
                 ("missing/../nope.txt", os.O_RDONLY),             # ENOENT
                 ("sub/x/y", os.O_RDONLY)):                        # ENOTDIR
    try:
        os.open(p, flags)
    except OSError as e:
        assert e.errno in (errno.EISDIR, errno.EEXIST, errno.ENOENT, errno.ENOTDIR), e
d = os.open("sub", os.O_RDONLY | os.O_DIRECTORY)
try:
    os.open("d/../x", os.O_WRONLY | os.O_CREAT | os.O_EXCL, dir_fd=d)  # EEXIST, dirfd-relative
except FileExistsError:
    pass
""", cwd=tmp)
    entries = files_of(vigil, pid)
    e = one(entries, os.path.join(tmp, "sub/d"), resolved=False)
    assert set(e["actions"]) == {"write", "failed"}, e
    assert e["inode"] is None and e["dev"] is None
    e = one(entries, os.path.join(tmp, "sub/x"), resolved=False)
    assert set(e["actions"]) == {"write", "create", "failed"}, e
    assert e["count"] == 2, e
    assert not by_path(entries, os.path.join(tmp, "nope.txt")), entries
    assert not by_path(entries, os.path.join(tmp, "sub/x/y")), entries
    after = vigil.counters()
    assert after["paths_unresolved"] >= before["paths_unresolved"] + 2
    assert after["file_lookups_not_found"] >= before["file_lookups_not_found"] + 2


def test_changes_recorded_with_their_actions(vigil, tmp):
    """unlink, rename, chmod (setid), chown, truncate, link, symlink, utimes — by path and by fd."""
    pid = run_py("""
open("a", "w").write("x")
os.rename("a", "b")
os.chmod("b", 0o4755)
os.chown("b", 0, 0)
os.truncate("b", 0)
os.link("b", "c")
os.symlink("b", "d")
os.utime("b", (1, 1))
os.utime("b")            # "now", as touch does: not recorded
os.unlink("c")
os.mkdir("e")
os.rmdir("e")
fd = os.open("b", os.O_RDWR)
os.fchmod(fd, 0o644)
os.ftruncate(fd, 0)
""", cwd=tmp)
    entries = files_of(vigil, pid)
    p = lambda n: os.path.join(tmp, n)  # noqa: E731
    # The inode entry keeps the name it was first seen under ("a"); the fd calls
    # made through "b" land on it too.
    e = one(entries, p("a"))
    assert set(e["actions"]) == {"read", "write", "create", "truncate", "chmod"}, e
    assert "unresolved" not in e["flags"]
    assert set(one(entries, p("a"), resolved=False)["actions"]) == {"rename_from"}
    b = one(entries, p("b"), resolved=False)
    assert set(b["actions"]) == {"rename_to", "chmod", "setid", "chown", "truncate", "utimes"}, b
    assert b["count"] == 5, b
    assert set(one(entries, p("c"), resolved=False)["actions"]) == {"link", "unlink"}
    assert set(one(entries, p("d"), resolved=False)["actions"]) == {"symlink"}
    assert set(one(entries, p("e"), resolved=False)["actions"]) == {"unlink"}


def test_writes_on_an_open_fd_run_no_program(vigil, tmp):
    """write()s on an open descriptor run no BPF program: per-program runs don't grow with them."""
    n = 100000

    def runs():
        return {p["name"]: p["run_count"] for p in vigil.status()["programs"]}

    def delta(a, b):
        return {k: b[k] - a.get(k, 0) for k in b}

    path = os.path.join(tmp, "w.bin")
    r0 = runs()
    t0 = time.time()
    subprocess.run([helper("file_storm"), "write", path, str(n)], check=True, capture_output=True)
    took = time.time() - t0
    r1 = runs()
    time.sleep(took)  # a control window as long, for what the rest of the machine runs
    r2 = runs()
    during, control = delta(r0, r1), delta(r1, r2)
    print(f"program runs during {n} writes ({took:.2f} s):", during, "control:", control)
    for prog, d in during.items():
        assert d - control.get(prog, 0) < n // 10, (prog, during, control)
    assert one(vigil.query("files", "--path", path), path)["count"] == 1


def test_open_storm_of_a_non_matching_file_raises_no_alert(vigil, tmp):
    """With file rules in the kernel, 100,000 opens of an unrelated file send nothing."""
    secret = os.path.join(tmp, "secret")
    plain = os.path.join(tmp, "plain")
    for f in (secret, plain):
        with open(f, "w") as fh:
            fh.write("x")
    km = kmaps.DaemonMaps(vigil.proc.pid)
    try:
        rs = kmaps.Ruleset().rule(0, need=["prefix"], acts=["read"])
        km.install({kmaps.VG_RK_FILE: rs}, prefixes=[(kmaps.VG_RK_FILE, secret, kmaps.rbits(0))])
        before = vigil.counters()
        out = subprocess.run([helper("file_storm"), "open", plain, "100000"], check=True,
                             capture_output=True, text=True).stdout
        mid = vigil.counters()
        assert mid["alerts"] == before["alerts"], (before, mid)
        # The control: the same process shape opening the matching file does alert.
        subprocess.run([helper("file_storm"), "open", secret, "3"], check=True)
        after = vigil.counters()
        assert after["alerts"] == mid["alerts"] + 1, (mid, after)
        print("open storm ns/op (cpu, wall):", out.strip())
    finally:
        km.clear()
        km.close()


def test_repeated_opens_are_counted_exactly(vigil, tmp):
    """The hot path counts a repeated open in a per-CPU slot, not in the entry: every open is
    still counted, exactly, per process — two processes taking turns on one CPU (each turn
    moves the slot's hits into the entry), a third on the other CPU, one file — and a query
    made right after the storm, with hits still in the slots, counts them too."""
    path = os.path.join(tmp, "hot.txt")
    with open(path, "w") as fh:
        fh.write("x")
    n = 20000
    ncpu = os.cpu_count()
    procs = [subprocess.Popen(["taskset", "-c", str(cpu % ncpu), helper("file_storm"), "open",
                               path, str(n)], stdout=subprocess.DEVNULL)
             for cpu in (0, 0, 1)]
    for p in procs:
        assert p.wait(timeout=120) == 0
    t_end = time.time()
    for _ in range(2):  # and again: what a query adds is not added for good
        entries = vigil.query("files", "--path", path)
        counts = {e["process"]["pid"]: e["count"] for e in entries if e["path"] == path}
        counts.pop(os.getpid(), None)  # the test, which wrote the file
        assert counts == {p.pid: n for p in procs}, counts
    # last_time is the storm's end (tick resolution), not an earlier flush.
    for e in entries:
        if e["process"]["pid"] != os.getpid():
            assert t_end - 0.5 <= rfc3339(e["last_time"]) <= t_end + 0.5, (e, t_end)


def test_query_files_filters(vigil, tmp):
    """--pid, --tree, --path, --since, --exe, --actions select what they say."""
    parent_file = os.path.join(tmp, "parent.txt")
    child_file = os.path.join(tmp, "child.txt")
    pid = run_py(f"""
import subprocess, time
open("{parent_file}", "w").write("p")
subprocess.run(["/usr/bin/cp", "{parent_file}", "{child_file}"], check=True)
""")
    own = files_of(vigil, pid, "--path", tmp)
    assert {e["path"] for e in own} == {parent_file}, own
    tree = files_of(vigil, pid, "--tree", "--path", tmp)
    paths = {(e["path"], os.path.basename(e["process"]["exe"] or "")) for e in tree}
    assert (child_file, "cp") in paths and (parent_file, "cp") in paths, tree
    assert {e["process"]["pid"] for e in tree} > {pid}
    writes = files_of(vigil, pid, "--tree", "--path", tmp, "--actions", "writes")
    assert {e["path"] for e in writes} == {parent_file, child_file}, writes
    by_exe = vigil.query("files", "--exe", "cp", "--path", tmp)
    assert {e["path"] for e in by_exe} == {parent_file, child_file}, by_exe
    assert all(os.path.basename(e["process"]["exe"]) == "cp" for e in by_exe)
    # --since: an entry last touched before the window is left out.
    time.sleep(2.2)
    late = os.path.join(tmp, "late.txt")
    run_py(f"open('{late}', 'w').write('l')")
    recent = vigil.query("files", "--path", tmp, "--since", "2s")
    assert {e["path"] for e in recent} == {late}, recent
    # The table form has one row per entry and the columns the help promises.
    table = vigil.cli("query", "files", "--path", tmp).stdout.splitlines()
    assert table[0].split() == ["PID", "EXE", "ACTIONS", "COUNT", "FIRST", "LAST", "PATH"]
    assert len(table) == 1 + len(vigil.query("files", "--path", tmp))
    bad = vigil.cli("query", "files", "--actions", "bogus", check=False)
    assert bad.returncode == 2 and "bogus" in bad.stderr


def test_file_entries_leave_with_their_process(make_daemon, tmp):
    """When an exited process ages out, its file entries go too, counted."""
    d = make_daemon(["--retention", "1s", "--gc-interval", "200ms"]).start(["--reset-state"])
    path = os.path.join(tmp, "short.txt")
    pid = run_py(f"open('{path}', 'w').write('x')")
    assert by_path(d.query("files", "--pid", pid), path)
    before = d.counters()["file_evictions"]
    d.wait_for(lambda: not by_path(d.query("files", "--path", tmp), path), timeout=15,
               what="the file entry to age out with its process")
    assert d.counters()["file_evictions"] > before
    assert d.counters()["file_entries_created"] > 0


def test_exec_and_mmap_exec_are_recorded(vigil, tmp):
    """The executable gets 'exec'; a library mapped executable gets 'mmap_exec'."""
    pid = run_py("os.execv('/usr/bin/true', ['true'])")
    entries = files_of(vigil, pid)
    true = os.path.realpath("/usr/bin/true")
    assert "exec" in one(entries, true)["actions"]
    libc = [e for e in entries if "/libc.so" in e["path"]]
    assert libc and all("mmap_exec" in e["actions"] for e in libc), entries


def test_memfd_is_recorded(vigil):
    pid = run_py("os.memfd_create('vgmemfd')")
    e = [x for x in files_of(vigil, pid) if "memfd" in x["actions"]]
    assert len(e) == 1 and "vgmemfd" in e[0]["path"], e
    assert "deleted" in e[0]["flags"]


def test_file_capabilities_are_recorded(vigil, tmp):
    """setxattr security.capability (what setcap does) -> xattr_caps; other xattrs -> nothing."""
    path = os.path.join(tmp, "capbin")
    with open(path, "w") as f:
        f.write("x")
    # VFS_CAP_REVISION_2, CAP_NET_RAW permitted
    cap = struct.pack("<IIIII", 0x02000001, 1 << 13, 0, 0, 0)
    pid = run_py(f"""
os.setxattr("{path}", "security.capability", {cap!r})
try:
    os.setxattr("{path}", "user.comment", b"hello")
except OSError:
    pass
""")
    e = one(files_of(vigil, pid), path, resolved=False)
    assert e["actions"] == ["xattr_caps"], e
