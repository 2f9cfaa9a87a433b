"""The command line: probe, status, errors that say what to do, the API's permissions."""
import json
import os
import stat
import subprocess

from conftest import VIGIL, marker, run


def vigil_cmd(*args, env=None, user=None):
    cmd = [VIGIL, *args]
    if user:
        cmd = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups", *cmd]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=60)


def test_probe_reports_this_kernel():
    r = vigil_cmd("probe", "--json")
    assert r.returncode == 0, r.stderr
    p = json.loads(r.stdout)
    f = p["features"]
    for name in ("btf", "tp_btf", "ringbuf", "iter_task", "cgroup_v2", "cgroup_sock_addr",
                 "send_signal", "bpf_stats", "rdonly_cast", "iter_sock_file", "cmpxchg"):
        assert f[name]["ok"] is True, (name, f[name])
    # This kernel (6.18 microVM) refuses fentry and BPF-LSM programs: the signal tier.
    lsm_works = f["lsm"]["ok"]
    if os.uname().release.startswith("6.18"):
        assert lsm_works is False and f["fentry"]["ok"] is False
    assert p["tier"] == ("lsm" if lsm_works else "signal")
    assert p["cgroup2"] and os.path.isdir(p["cgroup2"])
    table = vigil_cmd("probe").stdout
    assert "enforcement tier: " + p["tier"] in table
    assert "lsm" in table and "fentry" in table


def test_status_counts_and_costs(vigil):
    run(["/bin/true", marker()])
    s = vigil.status()
    assert s["processes"]["tracked"] > 0 and s["processes"]["alive"] > 0
    assert s["processes"]["tracked"] == s["processes"]["alive"] + s["processes"]["exited"]
    for c in ("proc_insert_failures", "evictions_pressure", "evictions_retention",
              "string_insert_failures", "truncated_argv", "truncated_paths", "ringbuf_drops"):
        assert c in s["counters"]
    progs = {p["name"]: p for p in s["programs"]}
    assert {"vg_fork", "vg_exec", "vg_exit"} <= set(progs)
    assert progs["vg_exec"]["run_count"] > 0 and progs["vg_exec"]["avg_ns"] > 0
    maps = {m["name"]: m for m in s["maps"]}
    assert maps["vg_procs"]["entries"] == s["processes"]["tracked"] or \
        abs(maps["vg_procs"]["entries"] - s["processes"]["tracked"]) < 8
    assert s["kernel_memory_bytes"] > 0
    table = vigil.cli("status").stdout
    assert "processes:" in table and "vg_exec" in table and "kernel memory" in table


def test_bad_input_gets_a_clear_error_and_exit_code(vigil):
    cases = [
        (("query", "procs", "--pid", "abc"), 2, "positive number"),
        (("query", "procs", "--since", "yesterday"), 2, "not a duration"),
        (("query", "ancestry"), 2, "PID"),
        (("query", "flows-of-the-future"), 2, "unknown query"),
        (("query", "procs", "--exited", "--alive"), 1, "exclude each other"),
        (("run", "--retention", "soon"), 2, "not a duration"),
        (("run", "--argv-max", "10"), 2, "64..4096"),
        (("frobnicate",), 2, "unknown command"),
    ]
    for args, rc, text in cases:
        r = vigil.cli(*args, check=False)
        assert r.returncode == rc, (args, r.returncode, r.stderr)
        assert text in r.stderr, (args, r.stderr)
    r = vigil.cli("query", "ancestry", "4194304", check=False)
    assert r.returncode == 1 and "no process" in r.stderr


def test_daemon_not_running_is_exit_3():
    env = dict(os.environ, VIGIL_SOCKET="/run/vigil/nobody-here.sock")
    r = vigil_cmd("query", "procs", env=env)
    assert r.returncode == 3 and "is `vigil run` running?" in r.stderr


def test_api_socket_is_root_only(vigil):
    st = os.stat(vigil.socket)
    assert stat.S_ISSOCK(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o600
    env = dict(os.environ, VIGIL_SOCKET=vigil.socket)
    r = vigil_cmd("query", "procs", env=env, user="65534")
    assert r.returncode == 3 and "root" in r.stderr, r.stderr


def test_non_root_run_says_what_is_missing(tmp_path):
    r = vigil_cmd("run", "--socket", str(tmp_path / "s.sock"), user="65534")
    assert r.returncode == 1
    assert "needs root" in r.stderr and "sudo" in r.stderr


def test_second_daemon_refuses_to_start(vigil):
    r = vigil.cli("run", "--socket", vigil.socket, "--state-dir", vigil.state_dir, check=False,
                  timeout=30)
    assert r.returncode == 1 and "another vigil daemon" in r.stderr


def test_help_has_examples():
    for args in (("--help",), ("run", "--help"), ("query", "--help"), ("probe", "--help"),
                 ("status", "--help")):
        r = vigil_cmd(*args)
        assert r.returncode == 0 and "usage: vigil" in r.stdout, args
    assert "examples:" in vigil_cmd("--help").stdout
    assert "vigil query procs --exe true --exited" in vigil_cmd("query", "--help").stdout
