"""Findings: the JSON schema (docs/findings.md), text and file outputs, rule reloads,
and alert pressure — against the real sensor, real rules and real processes.

Each test writes its own rules into a private --rules-dir, with ids and paths no other
activity on the machine can hit, so it only ever looks at its own findings.
"""
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import uuid

import pytest

from conftest import OPENED, VIGIL, helper, marker, run

HEX32 = re.compile(r"^[0-9a-f]{32}$")
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$")
TOP_FIELDS = ["schema", "time", "id", "rule", "kind", "process", "ancestry", "file", "exec",
              "syscall", "network", "container", "host", "suppressed", "action", "enforced_by"]


# ---------------------------------------------------------------- helpers

def file_rule(rid, prefix, actions=("create",), severity="medium", rate_limit=False, extra=""):
    rl = "\n    rate_limit: false" if rate_limit is False else ""
    return f"""
  - id: {rid}
    title: Test file rule {rid}
    description: integration test rule
    mitre: {{tactic: TA0005, technique: T1070.004}}
    severity: {severity}
    tags: [test, findings]
    match:
      file:
        path: {{prefix: [{prefix}]}}
        actions: [{", ".join(actions)}]{rl}{extra}
"""


def exec_rule(rid, basename):
    return f"""
  - id: {rid}
    title: Test exec rule {rid}
    description: integration test rule
    mitre: {{tactic: TA0002, technique: T1059.004}}
    severity: high
    tags: [test]
    match:
      exec:
        exe: {{basename: [{basename}]}}
    rate_limit: false
"""


def write_rules(d, name, *rules, disable=()):
    text = ""
    if disable:
        text += "disable: [" + ", ".join(disable) + "]\n"
    text += "rules:\n" + "".join(rules)
    path = os.path.join(d, name)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.rename(tmp, path)  # atomically, as an editor or config management would
    return path


class Findings:
    """The findings a daemon wrote to its stdout since it started."""

    def __init__(self, d):
        self.d = d
        # a daemon's first start in this run empties the file (conftest)
        self.off = os.path.getsize(d.stdout_path) if d.stdout_path in OPENED else 0

    def lines(self):
        """Whole lines only: the daemon may be writing the next one."""
        self.d._out.flush()
        with open(self.d.stdout_path, "rb") as f:
            f.seek(self.off)
            data = f.read().decode("utf-8")
        return [l for l in data[:data.rfind("\n") + 1].split("\n") if l]

    def all(self):
        return [json.loads(l) for l in self.lines()]

    def of(self, rule_id):
        return [f for f in self.all() if f["rule"]["id"] == rule_id]

    def wait(self, rule_id, n=1, timeout=10, pred=lambda f: True):
        return self.d.wait_for(lambda: len([f for f in self.of(rule_id) if pred(f)]) >= n and
                               [f for f in self.of(rule_id) if pred(f)],
                               timeout=timeout, what=f"{n} finding(s) of {rule_id}")


@pytest.fixture
def tmp(request):
    d = tempfile.mkdtemp(prefix="vg-findings-")
    yield d
    shutil.rmtree(d, ignore_errors=True)


def detections(d):
    return d.status()["detections"]


def start(make_daemon, rules_dir, *args):
    d = make_daemon(["--rules-dir", rules_dir, *args])
    fs = Findings(d)
    d.start()
    return d, fs


def check_proc_shape(p, reference_keys):
    assert set(reference_keys) <= set(p), set(reference_keys) - set(p)
    assert re.match(r"^\d+@\d+$", p["id"]) and p["id"].split("@")[0] == str(p["pid"])


# ---------------------------------------------------------------- schema

def test_file_finding_has_every_documented_field(make_daemon, tmp):
    rules = os.path.join(tmp, "rules")
    work = os.path.join(tmp, "work")
    os.makedirs(rules)
    os.makedirs(work)
    rid = "test-" + marker()
    path = write_rules(rules, "test.yaml", file_rule(rid, work + "/"))
    d, fs = start(make_daemon, rules)
    assert re.search(r"loaded \d+ rules \(\d+ builtin, 1 from " + re.escape(rules) + r"\)", d.log())

    # python (exited by the time we look) under sh under this test: a chain with exits.
    target = os.path.join(work, "dir", "..", "created.txt")  # the kernel resolves ".."
    os.makedirs(os.path.join(work, "dir"))
    run(["/bin/sh", "-c", f"/usr/bin/python3 -c 'open(\"{target}\", \"w\").close()'; exit 0"])
    f = fs.wait(rid)[0]

    assert list(f) == TOP_FIELDS, "every documented field, in order"
    assert f["schema"] == 1
    assert RFC3339.match(f["time"]) and HEX32.match(f["id"])
    r = f["rule"]
    assert r["id"] == rid and r["title"] == f"Test file rule {rid}" and r["severity"] == "medium"
    assert r["mitre"] == {"tactic": {"id": "TA0005", "name": "Defense Evasion"},
                          "technique": {"id": "T1070.004", "name": r["mitre"]["technique"]["name"]}}
    assert r["mitre"]["technique"]["name"]  # from the embedded ATT&CK table
    assert r["tags"] == ["test", "findings"] and r["source"] == path
    assert f["kind"] == "file" and f["exec"] is None and f["syscall"] is None

    fl = f["file"]
    assert fl["path"] == os.path.join(work, "created.txt")
    assert "create" in fl["actions"] and fl["flags"] == [] and fl["path2"] is None
    assert fl["inode"] == os.stat(fl["path"]).st_ino
    st = os.stat(fl["path"])
    assert fl["dev"] == f"{os.major(st.st_dev)}:{os.minor(st.st_dev)}"

    # process: the shape of `vigil query procs --json`, for the same record
    p = f["process"]
    ref = d.query("procs", "--pid", str(p["pid"]))
    ref = [x for x in ref if x["id"] == p["id"]][0]
    check_proc_shape(p, ref.keys())
    assert os.path.basename(p["exe"]).startswith("python3")
    assert p["argv"][0] == "/usr/bin/python3" and p["argv"][1] == "-c"
    for k in ("start_time", "exe", "argv", "uid", "cgroup", "namespaces"):
        assert p[k] == ref[k], k

    # ancestry: parent first, to pid 1, exited ancestors included, same shape
    anc = f["ancestry"]
    assert anc[0]["id"] == p["parent_id"] and anc[0]["pid"] == p["ppid"]
    assert os.path.basename(anc[0]["exe"]) in ("sh", "dash", "bash")
    assert anc[1]["pid"] == os.getpid(), [a["pid"] for a in anc]
    assert anc[-1]["pid"] == 1, [a["pid"] for a in anc]
    assert not any(a.get("missing") for a in anc)
    for a, b in zip(anc, anc[1:]):
        # a parent recorded from /proc has a start time within a tick of the child's key
        assert a["parent_id"] == b["id"] or \
            (b["approx_start"] and a["parent_id"].split("@")[0] == str(b["pid"])), (a, b)
        check_proc_shape(b, ref.keys())
    chain = d.query("ancestry", p["id"])
    assert [a["id"] for a in anc] == [c["id"] for c in chain[1:]]

    assert f["container"] is None  # the test runs on the host
    h = f["host"]
    assert h["hostname"] == os.uname().nodename and h["kernel"] == os.uname().release
    assert h["boot_id"] == open("/proc/sys/kernel/random/boot_id").read().strip()
    assert f["suppressed"] == 0 and f["action"] == "alert" and f["enforced_by"] is None

    # the near-miss: a read of a file under the same prefix is not a create
    run(["/bin/cat", fl["path"]])
    outside = os.path.join(tmp, "outside.txt")
    run(["/bin/sh", "-c", f": > {outside}; exit 0"])
    time.sleep(0.5)
    assert len(fs.of(rid)) == 1, fs.of(rid)
    det = detections(d)
    c = det["counters"]
    assert c["findings"] >= 1 and c["alerts_lost"] == 0
    assert c["candidates"] == c["findings"] + c["not_matched"] + c["rate_limited"] + \
        c["stale_generation"] + c["deferred_pending"]


def test_exec_finding_with_exited_ancestors(make_daemon, tmp):
    rules = os.path.join(tmp, "rules")
    os.makedirs(rules)
    name = "vgx-" + uuid.uuid4().hex[:8]
    prog = os.path.join(tmp, name)
    shutil.copy("/bin/true", prog)
    rid = "test-exec-" + marker()
    write_rules(rules, "x.yaml", exec_rule(rid, name))
    d, fs = start(make_daemon, rules)

    # The shell backgrounds a subshell and exits at once; the subshell execs the program
    # later, when its parent is gone: the finding must still show the whole chain.
    run(["/bin/sh", "-c", f"(sleep 0.3; exec {prog} one 'two words') & exit 0"])
    f = fs.wait(rid, timeout=15)[0]
    assert f["kind"] == "exec" and f["file"] is None and f["syscall"] is None
    x = f["exec"]
    assert x["exe"] == prog and x["argv"] == [prog, "one", "two words"]
    assert os.path.basename(x["parent"] or "") in ("sh", "dash", "bash"), x
    assert isinstance(x["flags"], list)
    p, anc = f["process"], f["ancestry"]
    assert p["exe"] == prog
    assert anc[-1]["pid"] == 1
    exited = [a for a in anc if not a["alive"]]
    assert exited, "the shell that started the subshell exited before the exec"
    assert os.getpid() in [a["pid"] for a in anc]


def test_finding_ids_are_unique_and_stable(make_daemon, tmp):
    rules = os.path.join(tmp, "rules")
    work = os.path.join(tmp, "work")
    os.makedirs(rules)
    os.makedirs(work)
    rid = "test-" + marker()
    write_rules(rules, "t.yaml", file_rule(rid, work + "/"))
    d, fs = start(make_daemon, rules)
    run([helper("touch_files"), work, "50"])
    got = fs.wait(rid, n=50)
    ids = [f["id"] for f in got]
    assert len(set(ids)) == 50
    assert sorted(f["file"]["path"] for f in got) == sorted(f"{work}/f{i}" for i in range(50))
    # the same operation judged again (another daemon reading the same state) would get
    # the same id: it depends only on rule, process, object and time
    assert all(HEX32.match(i) for i in ids)


# ---------------------------------------------------------------- text, files

def test_text_format_one_line_per_finding(make_daemon, tmp):
    rules = os.path.join(tmp, "rules")
    work = os.path.join(tmp, "work")
    os.makedirs(rules)
    os.makedirs(work)
    rid = "test-" + marker()
    write_rules(rules, "t.yaml", file_rule(rid, work + "/", severity="high"))
    d, fs = start(make_daemon, rules, "--format", "text")
    assert "findings (text) go to stdout" in d.log()
    run(["/bin/sh", "-c", f"touch {work}/a; exit 0"])
    line = d.wait_for(lambda: [l for l in fs.lines() if rid in l], what="text finding")[0]
    m = re.match(r"^(\S+) HIGH +(\S+) \"([^\"]*)\" pid=(\d+) uid=0 exe=(\S+) \u2192 file (\S+) "
                 r"\[([a-z_,]+)\] \| (.*)$", line)
    assert m, line
    assert RFC3339.match(m.group(1)) and m.group(2) == rid and m.group(3) == f"Test file rule {rid}"
    assert os.path.basename(m.group(5)) == "touch" and m.group(6) == f"{work}/a"
    assert "create" in m.group(7).split(",")
    chain = m.group(8).split(" < ")
    assert chain[0] == f"touch({m.group(4)})" and chain[-1].endswith("(1)"), chain
    assert f"({os.getpid()})" in m.group(8)


def test_output_file_rotates_and_stdout_stays_clean(make_daemon, tmp):
    rules = os.path.join(tmp, "rules")
    work = os.path.join(tmp, "work")
    out = os.path.join(tmp, "out", "findings.jsonl")
    os.makedirs(rules)
    os.makedirs(work)
    os.makedirs(os.path.dirname(out))
    rid = "test-" + marker()
    write_rules(rules, "t.yaml", file_rule(rid, work + "/"))
    d, fs = start(make_daemon, rules, "--output", f"file:{out}", "--output-max-size", "64K",
                  "--output-keep", "2")
    run([helper("touch_files"), work, "200"])
    d.wait_for(lambda: detections(d)["output"]["lines"] >= 200, what="200 lines written")
    det = detections(d)
    o = det["output"]
    assert o["destination"] == f"file:{out}" and o["format"] == "json"
    assert o["errors"] == 0 and o["rotations"] >= 3 and o["keep"] == 2 and o["max_size"] == 65536
    d.stop()  # flushes
    files = [out, out + ".1", out + ".2"]
    assert all(os.path.exists(p) for p in files) and not os.path.exists(out + ".3")
    seen = []
    for p in reversed(files):  # oldest first
        assert os.path.getsize(p) <= 65536, p
        assert oct(os.stat(p).st_mode & 0o777) == "0o600"
        with open(p) as fh:
            data = fh.read()
        assert data.endswith("\n"), "whole lines only"
        seen += [json.loads(l) for l in data.splitlines()]
    mine = [f for f in seen if f["rule"]["id"] == rid]
    assert mine and len(mine) < 200  # the oldest files were rotated away
    paths = [f["file"]["path"] for f in mine]
    assert paths == sorted(paths, key=lambda s: int(s.rsplit("f", 1)[1])), "in order"
    assert paths[-1] == f"{work}/f199"
    assert fs.lines() == [], "findings went to the file, nothing to stdout"


# ---------------------------------------------------------------- reloads

def test_sighup_reload_rejects_bad_rules_and_keeps_the_old_set(make_daemon, tmp):
    rules = os.path.join(tmp, "rules")
    work = os.path.join(tmp, "work")
    os.makedirs(rules)
    os.makedirs(work)
    a, b = "test-a-" + marker(), "test-b-" + marker()
    write_rules(rules, "a.yaml", file_rule(a, work + "/a/"))
    os.makedirs(work + "/a")
    os.makedirs(work + "/b")
    d, fs = start(make_daemon, rules)
    loaded0 = detections(d)["rules"]
    assert loaded0["installed"] and loaded0["from_dir"] == 1 and not loaded0["defaults_only"]

    # A bad file: an unknown field on line 4 of the rule. The reload is rejected, naming it.
    bad = os.path.join(rules, "b.yaml")
    with open(bad, "w") as fh:
        fh.write(f"rules:\n  - id: {b}\n    title: broken\n    colour: blue\n")
    off = len(d.log())
    d.proc.send_signal(signal.SIGHUP)
    err = d.wait_for(lambda: "previous rule set stays in force" in d.log()[off:] and d.log()[off:],
                     what="the rejection")
    assert re.search(re.escape(bad) + r":4:\d+: rules\[0\]\.colour", err), err
    st = detections(d)["rules"]
    assert st["reload_failures"] >= 1 and st["last_reload"]["ok"] is False
    assert bad in st["last_reload"]["result"]
    assert st["generation"] == loaded0["generation"] and st["loaded"] == loaded0["loaded"]
    assert st["last_reload"]["result"].startswith("rejected: ")
    # the old set still works
    run(["/bin/sh", "-c", f"touch {work}/a/1; exit 0"])
    fs.wait(a)

    # Fix the file: b is loaded, a stays, the kernel generation flips.
    write_rules(rules, "b.yaml", file_rule(b, work + "/b/"))
    off = len(d.log())
    d.proc.send_signal(signal.SIGHUP)
    d.wait_for(lambda: "rules reloaded" in d.log()[off:], what="the reload")
    st = detections(d)["rules"]
    assert st["last_reload"]["ok"] is True and st["from_dir"] == 2
    assert st["loaded"] == loaded0["loaded"] + 1 and st["generation"] in (0, 1)
    # (the file change is seen by inotify too: one more reload may follow, same rules)
    run(["/bin/sh", "-c", f"touch {work}/b/1 {work}/a/2; exit 0"])
    fs.wait(b)
    fs.wait(a, n=2)
    c = detections(d)["counters"]
    assert c["stale_generation"] == 0 and c["malformed"] == 0


def test_rule_file_change_reloads_without_a_signal(make_daemon, tmp):
    rules = os.path.join(tmp, "rules")
    work = os.path.join(tmp, "work")
    os.makedirs(rules)
    os.makedirs(work)
    d, fs = start(make_daemon, rules)
    assert detections(d)["rules"]["watching"] is True
    rid = "test-" + marker()
    write_rules(rules, "new.yaml", file_rule(rid, work + "/"))
    d.wait_for(lambda: "rule files changed: rules reloaded" in d.log(), what="inotify reload")
    run(["/bin/sh", "-c", f"touch {work}/x; exit 0"])
    fs.wait(rid)
    # a file that isn't a rule file (an editor's swap file) doesn't reload
    reloads = detections(d)["rules"]["reloads"]
    with open(os.path.join(rules, ".new.yaml.swp"), "w") as fh:
        fh.write("junk")
    time.sleep(1)
    assert detections(d)["rules"]["reloads"] == reloads


def test_invalid_rules_at_start_run_the_defaults_loudly(make_daemon, tmp):
    rules = os.path.join(tmp, "rules")
    os.makedirs(rules)
    bad = os.path.join(rules, "bad.yaml")
    with open(bad, "w") as fh:
        fh.write("rules:\n  - id: x\n    severity: apocalyptic\n")
    d, fs = start(make_daemon, rules)
    log = d.log()
    assert re.search(re.escape(bad) + r":3:\d+: rules\[0\]\.severity", log), log
    assert "ARE INVALID" in log and "embedded default rules ONLY" in log
    st = detections(d)["rules"]
    assert st["installed"] and st["defaults_only"] and st["from_dir"] == 0
    assert st["loaded"] == st["builtin"] > 0
    table = d.cli("status").stdout
    assert "detections:" in table and "DEFAULTS ONLY" in table


def test_status_shows_detections(make_daemon, tmp):
    rules = os.path.join(tmp, "rules")
    work = os.path.join(tmp, "work")
    os.makedirs(rules)
    os.makedirs(work)
    rid = "test-" + marker()
    write_rules(rules, "t.yaml", file_rule(rid, work + "/"))
    d, fs = start(make_daemon, rules)
    run(["/bin/sh", "-c", f"touch {work}/1 {work}/2; exit 0"])
    fs.wait(rid, n=2)
    det = detections(d)
    for k in ("alerts_sent", "alerts_lost", "alerts_received", "candidates", "findings",
              "not_matched", "rate_limited", "stale_generation", "malformed", "process_missing",
              "object_lost", "self", "deferred", "deferred_pending", "deferred_queue_full"):
        assert isinstance(det["counters"][k], int), k
    r = det["rules"]
    assert r["installed"] and r["loaded"] == r["builtin"] + r["from_dir"] and r["loaded"] > 0
    assert r["dir"] == rules and r["generation"] in (0, 1) and r["from_dir"] == 1
    assert r["last_reload"]["ok"] is True and r["last_reload"]["result"].startswith("loaded ")
    assert det["output"]["destination"] == "stdout" and det["output"]["lines"] >= 2
    assert det["avg_us_per_alert"] > 0 and det["busy_ms"] > 0
    act = {a["id"]: a for a in det["rules_activity"]}
    assert act[rid]["candidates"] >= 2 and act[rid]["findings"] >= 2
    assert act[rid]["candidates"] == act[rid]["findings"] + act[rid]["not_matched"] + \
        act[rid]["rate_limited"]
    table = d.cli("status").stdout
    assert "detections:" in table and "alerts_lost" in table and "rules: " in table
    assert f"{r['loaded']} loaded" in table and rid in table and "us CPU per alert" in table


# ---------------------------------------------------------------- pressure

BURST = 100_000


def test_alert_pressure_100k_delivered_or_counted_exactly(make_daemon, tmp):
    """100,000 rule hits in a burst: every one is a finding or a counted loss, and the
    daemon keeps answering queries meanwhile."""
    rules = os.path.join(tmp, "rules")
    work = os.path.join(tmp, "work")
    out = os.path.join(tmp, "out", "findings.jsonl")
    os.makedirs(rules)
    os.makedirs(work)
    os.makedirs(os.path.dirname(out))
    # Only the test rule is enabled, so every alert is one of ours and the kernel's loss
    # counter is ours alone.
    listed = json.loads(subprocess.run([VIGIL, "rules", "list", "--json"], capture_output=True,
                                       text=True, check=True).stdout)
    defaults = [r["id"] for r in listed if r["source"] == "builtin" and r["enabled"]]
    rid = "test-burst-" + marker()
    write_rules(rules, "burst.yaml", file_rule(rid, work + "/"), disable=defaults)
    # 100,000 distinct paths: strings tables sized for them (each is interned once).
    d, fs = start(make_daemon, rules, "--output", f"file:{out}", "--output-max-size", "4G",
                  "--max-strings", "262144")
    st = detections(d)
    assert st["rules"]["loaded"] == 1, st["rules"]
    before = st["counters"]

    latencies, stop = [], threading.Event()

    def query_loop():
        while not stop.is_set():
            t0 = time.monotonic()
            r = subprocess.run([VIGIL, "query", "procs", "--exe", "touch_files", "--json"],
                               capture_output=True, text=True, env=d.env, timeout=30)
            latencies.append((time.monotonic() - t0, r.returncode))
            time.sleep(0.05)

    q = threading.Thread(target=query_loop)
    q.start()
    try:
        t0 = time.monotonic()
        r = run([helper("touch_files"), work, str(BURST)], timeout=600)
        burst_s = time.monotonic() - t0
    finally:
        stop.set()
        q.join()
    assert r.stdout.strip() == f"touched {BURST} failed 0"

    def drained():
        time.sleep(0.5)
        c = detections(d)["counters"]
        return c["alerts_sent"] - before["alerts_sent"] >= BURST and \
            c["alerts_sent"] == c["alerts_received"] + c["alerts_lost"]

    d.wait_for(drained, timeout=120, what="the buffer drained")
    c = detections(d)["counters"]
    det = detections(d)
    sent = c["alerts_sent"] - before["alerts_sent"]
    lost = c["alerts_lost"] - before["alerts_lost"]
    found = c["findings"] - before["findings"]
    assert sent == BURST, c
    assert c["candidates"] - before["candidates"] == found + (c["not_matched"] - before["not_matched"]) \
        + (c["rate_limited"] - before["rate_limited"]) + (c["stale_generation"] - before["stale_generation"])
    assert c["rate_limited"] == before["rate_limited"] and c["not_matched"] == before["not_matched"]
    assert c["object_lost"] == before["object_lost"], c

    # what was delivered is what was written: count the lines in the file
    d.stop()
    lines = 0
    with open(out, "rb") as fh:
        for line in fh:
            if b'"kind":"network"' in line:
                continue  # network findings (host-wide detections): counted apart
            lines += 1
            if lines % 10007 == 1:  # a sample is parsed, all are counted
                f = json.loads(line)
                assert f["rule"]["id"] == rid and f["file"]["path"].startswith(work + "/")
    assert lines == found, (lines, found)
    assert found + lost == BURST, dict(found=found, lost=lost)

    ok = [t for t, rc in latencies if rc == 0]
    assert latencies and len(ok) == len(latencies), latencies
    assert max(ok) < 1.0, f"slowest query during the burst: {max(ok):.3f} s"
    print(f"\nburst {BURST} in {burst_s:.1f} s: {found} findings, {lost} lost; "
          f"{det['avg_us_per_alert']:.1f} us per alert; {len(ok)} queries, slowest {max(ok)*1000:.0f} ms")


def test_losses_are_counted_exactly_when_the_reader_stalls(make_daemon, tmp):
    """Findings go to a FIFO whose reader stops during a burst: the daemon blocks on the
    write, the ring buffer fills, the kernel drops — and every hit is still a finding
    read or a counted loss. Queries keep working meanwhile (their own thread)."""
    n = 30_000
    rules = os.path.join(tmp, "rules")
    work = os.path.join(tmp, "work")
    fifo = os.path.join(tmp, "findings.fifo")
    os.makedirs(rules)
    os.makedirs(work)
    os.mkfifo(fifo, 0o600)
    listed = json.loads(subprocess.run([VIGIL, "rules", "list", "--json"], capture_output=True,
                                       text=True, check=True).stdout)
    defaults = [r["id"] for r in listed if r["source"] == "builtin" and r["enabled"]]
    rid = "test-stall-" + marker()
    write_rules(rules, "s.yaml", file_rule(rid, work + "/"), disable=defaults)
    rfd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # so the daemon's open doesn't block
    os.set_blocking(rfd, True)
    reading, stop, got = threading.Event(), threading.Event(), {"lines": 0, "other": 0, "net": 0}

    def reader():
        buf = b""
        with os.fdopen(rfd, "rb", buffering=0) as fh:
            while not stop.is_set():
                reading.wait()
                chunk = fh.read(1 << 16)
                if not chunk:
                    break
                buf += chunk
                *lines, buf = buf.split(b"\n")
                for l in lines:
                    if rid.encode() in l:
                        got["lines"] += 1
                    elif b'"kind":"network"' in l:
                        # built-in network detections see the whole host: another
                        # test's port scan or DNS shape may land here (network_findings)
                        got["net"] += 1
                    else:
                        got["other"] += 1

    t = threading.Thread(target=reader, daemon=True)
    t.start()
    d, _ = start(make_daemon, rules, "--output", f"file:{fifo}", "--max-strings", "131072")
    before = detections(d)["counters"]
    final = {}
    try:
        run([helper("touch_files"), work, str(n)], timeout=600)  # nobody reads meanwhile
        t0 = time.monotonic()
        mid = detections(d)["counters"]  # the API answers while the writer is blocked
        assert time.monotonic() - t0 < 1.0
        assert mid["alerts_lost"] - before["alerts_lost"] > 0, "the stall must overflow the buffer"
        reading.set()

        def drained():
            time.sleep(0.3)
            c = detections(d)["counters"]
            final.update(c)
            return c["alerts_sent"] - before["alerts_sent"] == n and \
                c["alerts_sent"] == c["alerts_received"] + c["alerts_lost"] and \
                c["findings"] - before["findings"] == got["lines"]

        d.wait_for(drained, timeout=120, what="the backlog read")
    finally:
        reading.set()
        d.stop()
        stop.set()
    t.join(timeout=10)
    found = final["findings"] - before["findings"]
    lost = final["alerts_lost"] - before["alerts_lost"]
    assert got["other"] == 0 and got["lines"] == found
    for k in ("not_matched", "rate_limited", "stale_generation", "object_lost"):
        assert final[k] == before[k], k
    assert found + lost == n and lost > 0, dict(found=found, lost=lost)
    print(f"\nstalled reader: {n} hits, {found} findings read, {lost} lost and counted")
