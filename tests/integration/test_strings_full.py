"""A full string table must not blind the argv rules: the kernel counts the
command line it could not intern, and the daemon reads it from /proc while
the process runs (argv_from_proc), so crypto-miner-args still fires."""
import json
import os
import subprocess
import time
import uuid

from conftest import Daemon

PY = "/usr/bin/python3"


def findings(d):
    out = []
    with open(d.stdout_path) as f:
        for line in f:
            try:
                out.append(json.loads(line))
            except ValueError:
                pass
    return out


def test_argv_rule_fires_with_the_string_table_full():
    d = Daemon("strfull")
    d.purge()
    # 1024 per class: the medium class (command lines of 129-512 bytes) holds 2048.
    d.start(["--reset-state", "--max-strings", "1024"])
    try:
        tag = uuid.uuid4().hex
        # Fill it: 2500 processes, each with its own 200-byte command line, kept
        # by their (retained) records.
        script = ("for i in $(seq 2500); do /bin/true " + tag + "-$i-" + "x" * 180 + "; done")
        subprocess.run(["/bin/sh", "-c", script], check=True)
        fails = d.counters()["string_insert_failures"]
        assert fails > 0, "the table did not fill"
        # A miner-shaped command line that lives a second: its argv cannot be interned.
        marker = "vg-" + tag[:12] + "-" + "y" * 150
        subprocess.run([PY, "-c", "import time; time.sleep(1.5)", "-o",
                        "stratum+tcp://pool.example.net:3333", "--donate-level", "1", marker],
                       check=True)
        assert d.counters()["string_insert_failures"] > fails

        def hit():
            return [f for f in findings(d) if f["rule"]["id"] == "crypto-miner-args" and
                    marker in ((f.get("exec") or {}).get("argv") or [])]
        got = d.wait_for(hit, timeout=20, what="crypto-miner-args finding")
        assert got[0]["rule"]["mitre"]["technique"]["id"].startswith("T1496"), got[0]
        # the record itself says what it lost
        assert "lost" in got[0]["process"]["truncated"], got[0]["process"]
        st = d.status()
        assert st["detections"]["counters"]["argv_from_proc"] >= 1, st["detections"]
    finally:
        d.stop()
        d.purge()  # pinned state keeps its programs attached: never leave it behind
