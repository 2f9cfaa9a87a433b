"""Bad rule files, end to end: `vigil rules check` names FILE:LINE:COL and the field and exits
1, and a running daemon that sees the same file in its rules directory (a file change
reloads) rejects the whole set with that error and keeps the previous one working.

The parser's every error path is unit-tested (tests/unit/test_rules_parse.c); the reload
with an unknown field and invalid rules at start-up are in test_findings.py. Here: the five
kinds the issue names, through the CLI and the daemon.
"""
import os
import re
import shutil
import subprocess
import tempfile
import time

import pytest

from conftest import VIGIL, Daemon, marker, run

GOOD = """rules:
  - id: {rid}
    title: Test rule
    mitre: {{tactic: TA0005, technique: T1070.004}}
    severity: low
    match:
      file:
        path: {{prefix: [{prefix}]}}
        actions: [create]
    rate_limit: false
"""

HEAD = """rules:
  - id: bad-one
    title: A rule
    mitre: {tactic: TA0002, technique: T1059.004}
    severity: high
"""

# kind -> (file text, line, field, message pattern)
BAD = {
    "malformed-yaml": (
        "rules:\n  - id: x\n    title: [unclosed\n    severity: high\n",
        None, None, r"(YAML|yaml|syntax|flow|expected)"),
    "unknown-field": (
        HEAD + "    match:\n      exec:\n        exe: {basename: [nc]}\n        colour: blue\n",
        9, "rules[0].match.exec.colour", r"unknown field \"colour\""),
    "bad-regex": (
        HEAD + "    match:\n      exec:\n        argv:\n          regex: ['(unclosed']\n",
        9, "rules[0].match.exec.argv.regex", r"invalid regex"),
    "unknown-mitre": (
        HEAD.replace("T1059.004", "T1999.123") + "    match:\n      exec:\n        exe: {basename: [nc]}\n",
        4, "rules[0].mitre.technique", r"unknown MITRE ATT&CK technique \"T1999.123\""),
    "duplicate-id": (
        HEAD + "    match:\n      exec:\n        exe: {basename: [nc]}\n" + HEAD[len("rules:\n"):] +
        "    match:\n      exec:\n        exe: {basename: [ncat]}\n",
        9, "rules[1].id", r"duplicate rule id \"bad-one\" \(first at line 2\)"),
}


@pytest.fixture(scope="module")
def setup():
    tmp = tempfile.mkdtemp(prefix="vg-rule-errors-")
    rules, work = os.path.join(tmp, "rules"), os.path.join(tmp, "work")
    os.makedirs(rules)
    os.makedirs(work)
    rid = "test-good-" + marker()
    with open(os.path.join(rules, "10-good.yaml"), "w") as f:
        f.write(GOOD.format(rid=rid, prefix=work + "/"))
    d = Daemon("rule-errors", ["--rules-dir", rules])
    d.purge()
    d.start(["--reset-state"])
    yield d, rules, work, rid, tmp
    d.stop()
    d.purge()
    shutil.rmtree(tmp, ignore_errors=True)


def rules_state(d):
    return d.status()["detections"]["rules"]


def findings_of(d, rid):
    d._out.flush()
    with open(d.stdout_path) as f:
        return [l for l in f if f'"id":"{rid}"' in l]


@pytest.mark.parametrize("kind", list(BAD))
def test_bad_rule_file_is_named_and_the_old_set_stays(setup, kind):
    d, rules, work, rid, tmp = setup
    text, line, field, msg = BAD[kind]
    bad = os.path.join(tmp, f"{kind}.yaml")
    with open(bad, "w") as f:
        f.write(text)

    # the CLI: FILE:LINE:COL: FIELD: MESSAGE, exit 1
    r = subprocess.run([VIGIL, "rules", "check", bad], capture_output=True, text=True)
    out = r.stdout + r.stderr
    assert r.returncode == 1, out
    if line is None:
        assert re.search(re.escape(bad) + r":\d+:\d+: .*" + msg, out), out
    else:
        assert re.search(re.escape(bad) + rf":{line}:\d+: {re.escape(field)}: .*{msg}", out), out

    # the daemon: the same file dropped into its directory; the reload is rejected with that
    # error and the set in force does not change
    before = rules_state(d)
    off = len(d.log())
    dst = os.path.join(rules, f"50-{kind}.yaml")
    shutil.copy(bad, dst + ".tmp")
    os.rename(dst + ".tmp", dst)
    try:
        log = d.wait_for(lambda: "previous rule set stays in force" in d.log()[off:] and
                         d.log()[off:], what="the rejection")
        expect = re.escape(dst) + (r":\d+:\d+: " if line is None else
                                   rf":{line}:\d+: {re.escape(field)}: ")
        assert re.search(expect, log), log
        st = rules_state(d)
        assert st["last_reload"]["ok"] is False and dst in st["last_reload"]["result"]
        assert st["reload_failures"] > before["reload_failures"]
        assert (st["generation"], st["loaded"], st["from_dir"]) == \
            (before["generation"], before["loaded"], before["from_dir"])
        # the old set works: its rule still fires
        n = len(findings_of(d, rid))
        run(["/bin/sh", "-c", f"touch {work}/{kind}; exit 0"])
        d.wait_for(lambda: len(findings_of(d, rid)) > n, what="the old rule's finding")
    finally:
        off = len(d.log())
        os.unlink(dst)
        d.wait_for(lambda: "rules reloaded" in d.log()[off:], what="the reload without it")
    assert rules_state(d)["last_reload"]["ok"] is True
