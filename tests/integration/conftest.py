"""Integration fixtures: a real vigil daemon on this kernel, driven by real processes.

Every daemon a test starts gets its own pinned-state directory and API socket,
so tests never touch (or depend on) a vigil the user may be running.
"""
import datetime
import json
import os
import shutil
import signal
import subprocess
import time
import uuid

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("BUILD", os.path.join(ROOT, "build"))
VIGIL = os.path.join(BUILD, "vigil")
HELPERS = os.path.join(BUILD, "tests", "helpers")
BPFFS = "/sys/fs/bpf"
# Every test run names its daemons' state and sockets uniquely, so two runs (two
# checkouts, or a developer's run next to CI) never share pinned maps or sockets.
RUN_ID = os.environ.get("VIGIL_TEST_RUN", str(os.getpid()))


def helper(name):
    path = os.path.join(HELPERS, name)
    assert os.access(path, os.X_OK), f"{path} missing: run `make test`"
    return path


def marker():
    """A unique word to find a test's own processes by argv."""
    return "vg-" + uuid.uuid4().hex[:12]


class VigilError(Exception):
    def __init__(self, rc, out, err):
        super().__init__(f"vigil exited {rc}: {err.strip()}")
        self.rc, self.out, self.err = rc, out, err


OPENED = set()  # the daemons' output files this run has started afresh


class Daemon:
    """`vigil run` in the background with private state and socket."""

    def __init__(self, name, args=(), state_dir=None):
        self.name = name
        self.args = list(args)
        self.state_dir = state_dir or f"{BPFFS}/vigil-test-{RUN_ID}-{name}"
        self.socket = f"/run/vigil/test-{RUN_ID}-{name}.sock"
        self.proc = None
        self.stderr_path = os.path.join(BUILD, "test-results", f"daemon-{name}.log")
        self.stdout_path = os.path.join(BUILD, "test-results", f"daemon-{name}.out")

    @property
    def env(self):
        return dict(os.environ, VIGIL_SOCKET=self.socket)

    def start(self, extra=(), timeout=30):
        os.makedirs(os.path.dirname(self.stderr_path), exist_ok=True)
        # a fresh file at the first start of a daemon of this name in this run of the suite,
        # appended to after it (restarts, a test's second daemon): findings of an earlier
        # run (whose pids this run's processes may have again) are not this daemon's
        mode = "a" if self.stdout_path in OPENED else "w"
        OPENED.add(self.stdout_path)
        self._err = open(self.stderr_path, mode)
        self._out = open(self.stdout_path, mode)
        self._err_off = self._err.tell()
        cmd = [VIGIL, "run", "--state-dir", self.state_dir, "--socket", self.socket]
        self.proc = subprocess.Popen(cmd + self.args + list(extra), stdout=self._out,
                                     stderr=self._err, env=self.env)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if "vigil: ready" in self.log():
                return self
            if self.proc.poll() is not None:
                raise AssertionError(f"daemon exited {self.proc.returncode}:\n{self.log()}")
            time.sleep(0.05)
        raise AssertionError(f"daemon not ready in {timeout}s:\n{self.log()}")

    def log(self):
        """What this run of the daemon printed on stderr."""
        with open(self.stderr_path) as f:
            f.seek(self._err_off)
            return f.read()

    def stop(self, sig=signal.SIGTERM):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            rc = self.proc.wait(timeout=30)
            assert rc == 0, f"daemon exit code {rc}:\n{self.log()}"
        self.proc = None

    def purge(self):
        """Remove the pinned state (a fresh start next time)."""
        shutil.rmtree(self.state_dir, ignore_errors=True)

    def cli(self, *args, check=True, timeout=60):
        r = subprocess.run([VIGIL, *map(str, args)], capture_output=True, text=True,
                           env=self.env, timeout=timeout)
        if check and r.returncode != 0:
            raise VigilError(r.returncode, r.stdout, r.stderr)
        return r

    def query(self, *args):
        return json.loads(self.cli("query", *args, "--json").stdout)

    def status(self):
        return json.loads(self.cli("status", "--json").stdout)

    def counters(self):
        return self.status()["counters"]

    def procs_by_argv(self, word, *extra):
        """Processes with `word` as one whole argument (vigil's own queries excluded)."""
        return [p for p in self.query("procs", "--argv", word, *extra)
                if word in p["argv"] and os.path.basename(p.get("exe") or "") != "vigil"]

    def wait_for(self, fn, timeout=10, what="condition"):
        deadline = time.time() + timeout
        while True:
            v = fn()
            if v:
                return v
            if time.time() > deadline:
                raise AssertionError(f"timed out waiting for {what}")
            time.sleep(0.05)


@pytest.fixture(scope="session", autouse=True)
def _root_and_build():
    if os.geteuid() != 0:
        pytest.exit("integration tests need root (they load BPF programs)", returncode=1)
    assert os.access(VIGIL, os.X_OK), f"{VIGIL} missing: run `make`"


@pytest.fixture(scope="module")
def vigil(request):
    """One daemon per test module, fresh state."""
    name = request.module.__name__.split(".")[-1].replace("test_", "")
    d = Daemon(name)
    d.purge()
    d.start(["--reset-state", "--bpf-stats"])  # the tests read per-program run counts
    yield d
    d.stop()
    d.purge()


@pytest.fixture
def make_daemon(request):
    """Factory for tests that need their own daemon settings (retention, restarts)."""
    made = []

    def make(args=(), name=None):
        d = Daemon(name or request.node.name[:40].replace("[", "-").replace("]", ""), args)
        d.purge()
        made.append(d)
        return d

    yield make
    for d in made:
        try:
            d.stop()
        finally:
            d.purge()


def run(cmd, **kw):
    """Run a command (list or shell string) and return CompletedProcess, failing loudly."""
    shell = isinstance(cmd, str)
    r = subprocess.run(cmd, shell=shell, capture_output=True, text=True, **kw)
    assert r.returncode == 0, f"{cmd!r} -> {r.returncode}\n{r.stdout}\n{r.stderr}"
    return r


def basename(p):
    return os.path.basename(p["exe"]) if p.get("exe") else None


def rfc3339(s):
    """An RFC 3339 time as vigil prints it (nanoseconds, Z) -> seconds since the epoch; 0 if none."""
    if not s:
        return 0
    day, frac = s.rstrip("Z").split(".") if "." in s else (s.rstrip("Z"), "0")
    return datetime.datetime.fromisoformat(day).replace(
        tzinfo=datetime.timezone.utc).timestamp() + float("0." + frac)
