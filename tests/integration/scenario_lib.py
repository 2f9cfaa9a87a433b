"""Shared by the default-rule scenarios and the benign CI job: a daemon running the
embedded default rules, its findings, and small builders (a .deb, a marked shell).
"""
import json
import os
import subprocess
import tempfile
import time

from conftest import OPENED, Daemon, marker

SEVERITIES = ["info", "low", "medium", "high", "critical"]


class Findings:
    """The findings a daemon wrote to its stdout since this object was made."""

    def __init__(self, d):
        self.d = d
        # a daemon's first start in this run empties the file (conftest)
        self.off = os.path.getsize(d.stdout_path) if d.stdout_path in OPENED else 0

    def all(self):
        self.d._out.flush()
        with open(self.d.stdout_path, "rb") as f:
            f.seek(self.off)
            data = f.read().decode("utf-8", "replace")
        return [json.loads(l) for l in data[:data.rfind("\n") + 1].split("\n") if l]

    def of(self, rule_id):
        return [f for f in self.all() if f["rule"]["id"] == rule_id]

    def wait(self, rule_id, pred, timeout=15):
        deadline = time.time() + timeout
        while True:
            got = [f for f in self.of(rule_id) if pred(f)]
            if got or time.time() > deadline:
                return got
            time.sleep(0.1)


def defaults_daemon(name):
    """A daemon with the embedded default rules only (an empty rules directory, so a
    /etc/vigil/rules.d on this machine changes nothing)."""
    rules = tempfile.mkdtemp(prefix=f"vg-{name}-rules-")
    # other work on this host (file storms of other suites) interns strings too
    d = Daemon(name, ["--rules-dir", rules, "--max-strings", "262144"])
    d.purge()
    fs = Findings(d)
    d.start(["--reset-state"])
    return d, fs, rules


def under(f, pid, mark):
    """The finding's ancestry holds the process `pid` started with `mark` in its argv.
    (An argv the sensor could not keep — its strings table full under machine-wide load,
    counted in `string_insert_failures` — is empty: then the pid alone decides.)"""
    return any(a.get("pid") == pid and (mark in (a.get("argv") or []) or not a.get("argv"))
               for a in f["ancestry"])


def chain_text(f):
    return " < ".join(f"{os.path.basename(a.get('exe') or '?')}({a.get('pid')})"
                      for a in [f["process"]] + f["ancestry"])


def describe(f):
    p = f["process"]
    obj = (f.get("file") or {}).get("path") or (f.get("exec") or {}).get("argv") or \
        (f.get("syscall") or {}).get("name")
    return (f"{f['rule']['severity']:8} {f['rule']['id']}: {' '.join(p.get('argv') or [])[:160]!r} "
            f"-> {obj} | {chain_text(f)}")


def marked_shell(script, env=None, cwd=None, timeout=120):
    """Run `script` with bash, as a process whose argv carries a unique marker (so its
    findings can be told apart by ancestry). Returns (pid, marker, rc, stderr)."""
    m = marker()
    # The trailing ':' keeps bash from exec'ing the last command in its own process:
    # the script's commands are children of this shell.
    p = subprocess.Popen(["/bin/bash", "-c", script + "\n:", m], env=env, cwd=cwd,
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, text=True)
    try:
        _, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        _, err = p.communicate()
    return p.pid, m, p.returncode, err


def build_deb(workdir, name, files, postinst=None, postrm=None, version="1.0"):
    """A tiny binary package shipping `files` ({path: (content, mode)}); returns its path."""
    root = os.path.join(workdir, f"{name}-pkg")
    os.makedirs(os.path.join(root, "DEBIAN"), exist_ok=True)
    with open(os.path.join(root, "DEBIAN", "control"), "w") as f:
        f.write(f"Package: {name}\nVersion: {version}\nArchitecture: all\n"
                f"Maintainer: vigil tests <root@localhost>\nDescription: vigil test package\n")
    for script, body in (("postinst", postinst), ("postrm", postrm)):
        if body:
            p = os.path.join(root, "DEBIAN", script)
            with open(p, "w") as f:
                f.write("#!/bin/sh\nset -e\n" + body + "\n")
            os.chmod(p, 0o755)
    for path, (content, mode) in files.items():
        dst = root + path
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        with open(dst, "wb") as f:
            f.write(content if isinstance(content, bytes) else content.encode())
        os.chmod(dst, mode)
    out = os.path.join(workdir, f"{name}.deb")
    subprocess.run(["dpkg-deb", "--root-owner-group", "-b", root, out], check=True,
                   capture_output=True)
    return out


# Defines dpkg_retry: dpkg that waits for the lock (other package work may be running
# on this host) and fails with dpkg's message otherwise.
DPKG_RETRY = ("dpkg_retry() { for i in $(seq 90); do out=$(dpkg \"$@\" 2>&1) && return 0; "
              "echo \"$out\" | grep -q lock || { echo \"$out\" >&2; return 1; }; sleep 1; "
              "done; return 1; }\n")
