"""Process state in the kernel: lineage of short-lived processes, after they are gone."""
import json
import os
import subprocess
import threading
import time

from conftest import basename, helper, marker, run

SHELLS = {"sh", "dash", "bash"}


def rfc_ns(s):
    """RFC 3339 with ns -> integer ns (for ordering checks)."""
    date, frac = s.rstrip("Z").split(".")
    return int(time.mktime(time.strptime(date, "%Y-%m-%dT%H:%M:%S")) - time.timezone) * 10**9 + int(frac)


def test_short_chain_ancestry_after_exit(vigil):
    """bash -> sh -> python3 -> sh -> /bin/true, all exited: the whole chain is queryable."""
    m = marker()
    # "; exit" after each command keeps every shell from exec'ing its last command,
    # so the chain has five distinct processes.
    py = f"import os; os.system('/bin/true {m}; exit 0')"
    t0 = time.time()
    run(["bash", "-c", f"sh -c \"/usr/bin/python3 -c \\\"{py}\\\"; exit 0\"; exit 0"])
    lived = time.time() - t0

    hits = vigil.wait_for(lambda: vigil.procs_by_argv(m, "--exe", "true", "--exited"),
                          what="the exited /bin/true")
    assert len(hits) == 1
    true = hits[0]
    chain = vigil.query("ancestry", true["id"])
    names = [basename(p) or p.get("comm") for p in chain]
    # true <- sh <- python3 <- sh <- bash <- (pytest's python ...) <- pid 1
    assert names[0] == "true"
    assert names[1] in SHELLS and names[1] != "bash"
    assert names[2].startswith("python3")
    assert names[3] in SHELLS and names[3] != "bash"
    assert names[4] == "bash"
    assert chain[-1]["pid"] == 1, f"chain must reach pid 1: {names}"
    assert not any(p.get("missing") for p in chain), names

    five = chain[:5]
    for p in five:
        assert p["alive"] is False and p["exit_time"] is not None, p
        assert p["exit_code"] == 0, p
        assert p["truncated"] == []
    assert true["argv"] == ["/bin/true", m]
    assert five[2]["argv"][:2] == ["/usr/bin/python3", "-c"]
    assert five[4]["argv"][0] == "bash"
    assert true["exe"] == os.path.realpath("/bin/true")
    assert five[2]["exe"] == os.path.realpath("/usr/bin/python3")
    # Lineage and time agree: each child started after and ended before its parent.
    for child, parent in zip(five, five[1:]):
        assert child["ppid"] == parent["pid"]
        assert child["parent_id"] == parent["id"]
        assert rfc_ns(child["start_time"]) >= rfc_ns(parent["start_time"])
        assert rfc_ns(child["exit_time"]) <= rfc_ns(parent["exit_time"])
    print(f"chain lived {lived * 1000:.0f} ms")


def test_readme_chain_literal(vigil):
    """The README's literal command: shells may exec their last command (same pid)."""
    p = subprocess.Popen(["bash", "-c", 'sh -c "python3 -c \\"import os; os.system(\\\\\\"/bin/true\\\\\\")\\""'])
    assert p.wait() == 0
    tree = vigil.query("tree", str(p.pid))
    hits = [t for t in tree if basename(t) == "true"]
    assert len(hits) == 1, [basename(t) for t in tree]
    chain = vigil.query("ancestry", hits[0]["id"])
    seen = []
    for p in chain:  # exec replaces a process image: count exe and prev_exe
        for exe in (p.get("exe"), p.get("prev_exe")):
            if exe:
                seen.append(os.path.basename(exe))
    joined = " ".join(seen)
    assert seen[0] == "true"
    assert "python3" in joined and "bash" in joined and ("dash" in joined or " sh" in joined), joined


def test_query_output_formats(vigil):
    """Tables by default, JSON arrays with the documented fields under --json."""
    m = marker()
    subprocess.run(["/bin/sh", "-c", f"/bin/true {m}; exit 3"])
    procs = vigil.wait_for(lambda: vigil.procs_by_argv(m, "--exited"), what="procs")
    fields = {"pid", "ppid", "start_time", "exit_time", "exit_code", "uid", "exe", "argv", "comm",
              "cgroup_id", "cgroup", "truncated"}
    for p in procs:
        assert fields <= set(p), fields - set(p)
        assert isinstance(p["argv"], list)
        assert p["start_time"].endswith("Z") and len(p["start_time"].split(".")[1]) == 10
    sh = [p for p in vigil.query("ancestry", procs[0]["id"]) if basename(p) in SHELLS]
    assert sh and sh[0]["exit_code"] == 3
    table = vigil.cli("query", "procs", "--argv", m).stdout
    assert table.splitlines()[0].split()[:3] == ["PID", "PPID", "START"]
    assert m in table
    tree = vigil.cli("query", "tree", str(sh[0]["pid"])).stdout
    assert "└─" in tree and "/usr/bin/true" in tree


def test_alive_process_has_null_exit(vigil):
    m = marker()
    p = subprocess.Popen([m, "30"], executable="/bin/sleep")  # argv[0] is the marker
    try:
        rec = vigil.wait_for(lambda: vigil.procs_by_argv(m), what="sleep")[0]
        assert rec["alive"] is True
        assert rec["exit_time"] is None and rec["exit_code"] is None
        assert rec["pid"] == p.pid and rec["ppid"] == os.getpid()
    finally:
        p.kill()
        p.wait()
    rec = vigil.wait_for(lambda: vigil.procs_by_argv(m, "--exited"), what="exit")[0]
    assert rec["exit_signal"] == 9 and rec["exit_code"] == 128 + 9


def test_exec_keeps_record_and_prev_exe(vigil):
    """exec replaces the image, not the process: same record, prev_exe kept."""
    m = marker()
    run(["bash", "-c", f"exec -a {m} /bin/sleep 0.05"])
    recs = vigil.wait_for(lambda: vigil.procs_by_argv(m, "--exited"), what="sleep")
    assert len(recs) == 1
    r = recs[0]
    assert basename(r) == "sleep" and r["argv"] == [m, "0.05"]
    assert os.path.basename(r["prev_exe"]) == "bash"
    assert r["exec_count"] >= 1


def test_threads_are_not_processes(vigil):
    """Threads create no entries; an exec from a non-leader thread keeps the pid."""
    m = marker()
    p = subprocess.Popen([helper("thread_exec"), "8", "/bin/sleep", "0.3", m])
    p.wait()
    recs = vigil.wait_for(lambda: vigil.query("procs", "--pid", str(p.pid)), what="record")
    mine = [r for r in recs if r["pid"] == p.pid and r["start_time"] >= recs[-1]["start_time"]]
    assert len(mine) == 1, recs
    r = mine[0]
    assert basename(r) == "sleep" and r["argv"][-1] == m
    assert os.path.basename(r["prev_exe"]) == "thread_exec"
    # No record was made for any of the 9 threads.
    kids = vigil.query("procs", "--ppid", str(p.pid))
    assert kids == []


def test_argv_truncation_is_flagged_and_counted(vigil):
    before = vigil.counters()["truncated_argv"]
    m = marker()
    run(["/bin/true", m, "x" * 10000])
    r = vigil.wait_for(lambda: vigil.procs_by_argv(m, "--exited"), what="true")[0]
    assert "argv" in r["truncated"]
    assert r["argv"][1] == m
    assert vigil.counters()["truncated_argv"] > before


def test_deep_exe_path_is_flagged_and_counted(vigil, tmp_path):
    """A path longer than the kernel-side bound is cut, flagged, counted."""
    # Deeper than PATH_MAX: build it one relative step at a time.
    fd = os.open(str(tmp_path), os.O_RDONLY)
    for i in range(20):
        name = f"{i:02d}" + "d" * 230
        os.mkdir(name, dir_fd=fd)
        nfd = os.open(name, os.O_RDONLY, dir_fd=fd)
        os.close(fd)
        fd = nfd
    with open("/bin/true", "rb") as src:
        data = src.read()
    efd = os.open("mytrue", os.O_WRONLY | os.O_CREAT, 0o755, dir_fd=fd)
    os.write(efd, data)
    os.close(efd)
    before = vigil.counters()["truncated_paths"]
    m = marker()
    # exec by a relative path from inside the directory (its absolute path is too long).
    r = subprocess.run(["./mytrue", m], preexec_fn=lambda: os.fchdir(fd))
    os.close(fd)
    assert r.returncode == 0
    r = vigil.wait_for(lambda: vigil.procs_by_argv(m, "--exited"), what="mytrue")[0]
    assert "exe" in r["truncated"]
    assert vigil.counters()["truncated_paths"] > before


def test_exited_tree_of_descendants(vigil):
    m = marker()
    p = subprocess.Popen(["bash", "-c", f"(sleep 0.01; true) & (/bin/true {m}) & wait; exit 0"])
    assert p.wait() == 0
    tree = vigil.query("tree", str(p.pid))
    assert tree[0]["pid"] == p.pid and tree[0]["depth"] == 0
    names = sorted((t["depth"], basename(t)) for t in tree)
    # bash; a subshell running sleep (then the builtin true); a subshell that exec'd /bin/true
    assert names == [(0, "bash"), (1, "bash"), (1, "true"), (2, "sleep")], names
    assert all(not t["alive"] for t in tree)
    assert any(t["argv"] == ["/bin/true", m] for t in tree)
    table = vigil.cli("query", "tree", str(p.pid)).stdout
    assert table.count("└─") == 3


def test_pipeline_neighbours_in_records(vigil, tmp_path):
    """a | b | c, all exited: a's stdout pipe is b's stdin pipe, b's stdout is c's stdin; a
    command reading a file has no stdin pipe, one writing a file no stdout pipe."""
    m = marker()
    out = tmp_path / "out"
    run(["bash", "-c", f"/bin/echo {m} | /usr/bin/tr a-z A-Z | /bin/cat > {out}; "
                       f"/bin/cat {out} /dev/null {m} > /dev/null 2>&1; exit 0"],
        stdin=subprocess.DEVNULL)
    echo = vigil.wait_for(lambda: vigil.procs_by_argv(m, "--exe", "echo", "--exited"),
                          what="the exited echo")[0]

    def siblings(exe, n):
        return vigil.wait_for(lambda: [p for p in vigil.query("procs", "--exe", exe, "--exited")
                                       if p["parent_id"] == echo["parent_id"]][:n] or None,
                              what=exe)
    tr = siblings("tr", 1)[0]
    cats = vigil.wait_for(lambda: len(siblings("cat", 2)) == 2 and siblings("cat", 2),
                          what="both cats")
    piped = [c for c in cats if c["stdin_pipe"]]
    alone = [c for c in cats if not c["stdin_pipe"]]
    assert len(piped) == 1 and len(alone) == 1, cats
    assert echo["stdin_pipe"] is None and echo["stdout_pipe"]
    assert tr["stdin_pipe"] == echo["stdout_pipe"]
    assert tr["stdout_pipe"] and tr["stdout_pipe"] != tr["stdin_pipe"]
    assert piped[0]["stdin_pipe"] == tr["stdout_pipe"]
    assert piped[0]["stdout_pipe"] is None  # writes the file
    assert alone[0]["stdout_pipe"] is None and m in alone[0]["argv"]
