"""A realistic CI job under a daemon running every default rule: it must be quiet.

The job is one shell script run the way a CI runner runs a job step: build a small C
project with make -j2 and run its tests, create, clone, commit and push git repositories,
create a Python venv and run unit tests in it (pytest), tar and sha256sum the build
output, serve it with python3 -m http.server and fetch it with curl, build a .deb with
dpkg-deb, install it with dpkg -i, run what it installed, and remove it.

Zero findings of severity medium or above may come from the job's process tree. Every
finding the job caused is printed with its rule id, so noise is fixed by tuning the rule
(rules/default/), never by changing this job.
"""
import os
import shutil
import socket
import tempfile
import uuid

import pytest

from scenario_lib import SEVERITIES, defaults_daemon, describe, marked_shell, under

PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

FILES = {
    "proj/Makefile": """\
CC ?= cc
CFLAGS ?= -O2 -g -Wall -Wextra
OBJ := build/main.o build/strbuf.o build/hash.o
TESTS := build/test_strbuf build/test_hash

all: build/hello

build:
\tmkdir -p build

build/%.o: src/%.c src/%.h | build
\t$(CC) $(CFLAGS) -Isrc -c -o $@ $<

build/main.o: src/main.c | build
\t$(CC) $(CFLAGS) -Isrc -c -o $@ $<

build/hello: $(OBJ)
\t$(CC) $(CFLAGS) -o $@ $^

build/test_%: tests/test_%.c build/%.o
\t$(CC) $(CFLAGS) -Isrc -o $@ $^

test: $(TESTS) build/hello
\t@for t in $(TESTS); do ./$$t || exit 1; done
\t./build/hello world | grep -q 'hello, world'
\t@echo all tests passed

install: build/hello
\tinstall -D -m 755 build/hello $(DESTDIR)/usr/bin/vg-ci-hello

clean:
\trm -rf build

.PHONY: all test install clean
""",
    "proj/src/strbuf.h": """\
#include <stddef.h>
struct strbuf { char *s; size_t len, cap; };
void sb_add(struct strbuf *b, const char *s);
void sb_free(struct strbuf *b);
""",
    "proj/src/strbuf.c": """\
#include <stdlib.h>
#include <string.h>
#include "strbuf.h"
void sb_add(struct strbuf *b, const char *s)
{
\tsize_t n = strlen(s);
\tif (b->len + n + 1 > b->cap) {
\t\tb->cap = (b->len + n + 1) * 2;
\t\tb->s = realloc(b->s, b->cap);
\t}
\tmemcpy(b->s + b->len, s, n + 1);
\tb->len += n;
}
void sb_free(struct strbuf *b) { free(b->s); b->s = NULL; b->len = b->cap = 0; }
""",
    "proj/src/hash.h": "unsigned long fnv1a(const char *s);\n",
    "proj/src/hash.c": """\
#include "hash.h"
unsigned long fnv1a(const char *s)
{
\tunsigned long h = 1469598103934665603UL;
\tfor (; *s; s++) { h ^= (unsigned char)*s; h *= 1099511628211UL; }
\treturn h;
}
""",
    "proj/src/main.c": """\
#include <stdio.h>
#include "strbuf.h"
#include "hash.h"
int main(int argc, char **argv)
{
\tstruct strbuf b = {0};
\tsb_add(&b, "hello, ");
\tsb_add(&b, argc > 1 ? argv[1] : "vigil");
\tprintf("%s (%lx)\\n", b.s, fnv1a(b.s));
\tsb_free(&b);
\treturn 0;
}
""",
    "proj/tests/test_strbuf.c": """\
#include <assert.h>
#include <string.h>
#include "strbuf.h"
int main(void)
{
\tstruct strbuf b = {0};
\tfor (int i = 0; i < 1000; i++)
\t\tsb_add(&b, "ab");
\tassert(b.len == 2000 && !strncmp(b.s, "abab", 4));
\tsb_free(&b);
\treturn 0;
}
""",
    "proj/tests/test_hash.c": """\
#include <assert.h>
#include "hash.h"
int main(void)
{
\tassert(fnv1a("") == 1469598103934665603UL);
\tassert(fnv1a("a") != fnv1a("b"));
\treturn 0;
}
""",
    "proj/py/calc.py": """\
def mean(xs):
    xs = list(xs)
    if not xs:
        raise ValueError("empty")
    return sum(xs) / len(xs)
""",
    "proj/py/test_calc.py": """\
import pytest
from calc import mean


def test_mean():
    assert mean([1, 2, 3]) == 2


def test_empty():
    with pytest.raises(ValueError):
        mean([])
""",
}

JOB = r"""
set -eux
cd "$WORK"

# --- checkout: a bare "origin", a first commit pushed, a fresh clone
git config --global user.name "CI Bot"
git config --global user.email ci@example.com
git config --global init.defaultBranch main
git init -q --bare origin.git
cd proj
git init -q
git add -A
git commit -q -m "initial import"
git remote add origin "$WORK/origin.git"
git push -q origin main
cd "$WORK"
git clone -q origin.git checkout
cd checkout
git log --oneline | head -1

# --- build and test
make -j2
make test
echo "// touched by CI" >> src/main.c
make -j2
git commit -q -am "ci: rebuild"
git push -q origin main
git status --short

# --- python: a venv and unit tests in it
python3 -m venv --system-site-packages "$WORK/venv"
. "$WORK/venv/bin/activate"
python -c 'import sys; assert sys.prefix != sys.base_prefix'
(cd py && python -m pytest -q -p no:cacheprovider)
deactivate

# --- artifacts: archive, checksum, verify
mkdir -p "$WORK/dist"
tar czf "$WORK/dist/hello-build.tar.gz" build
(cd "$WORK/dist" && sha256sum hello-build.tar.gz > SHA256SUMS && sha256sum -c SHA256SUMS)

# --- serve the artifacts and fetch them back
python3 -m http.server --bind 127.0.0.1 --directory "$WORK/dist" "$PORT" >/dev/null 2>&1 &
srv=$!
for i in $(seq 50); do curl -fsS -o /dev/null "http://127.0.0.1:$PORT/SHA256SUMS" && break; sleep 0.1; done
curl -fsS -o "$WORK/fetched.tar.gz" "http://127.0.0.1:$PORT/hello-build.tar.gz"
cmp "$WORK/fetched.tar.gz" "$WORK/dist/hello-build.tar.gz"
kill $srv
wait $srv || true

# --- package: build a .deb, install it, use it, remove it
make install DESTDIR="$WORK/pkg"
mkdir -p "$WORK/pkg/DEBIAN" "$WORK/pkg/usr/share/doc/$PKG" "$WORK/pkg/usr/share/man/man1"
printf 'Package: %s\nVersion: 1.0-%s\nArchitecture: amd64\nMaintainer: CI <ci@example.com>\nDescription: CI test package\n' \
    "$PKG" "$(git rev-parse --short HEAD)" > "$WORK/pkg/DEBIAN/control"
printf '#!/bin/sh\nset -e\necho "configured $1"\n' > "$WORK/pkg/DEBIAN/postinst"
chmod 755 "$WORK/pkg/DEBIAN/postinst"
echo "hello tool" > "$WORK/pkg/usr/share/doc/$PKG/README"
printf '.TH VG-CI-HELLO 1\n.SH NAME\nvg-ci-hello \\- say hello\n' | gzip -9n > "$WORK/pkg/usr/share/man/man1/vg-ci-hello.1.gz"
dpkg-deb --root-owner-group -b "$WORK/pkg" "$WORK/dist/$PKG.deb"
dpkg_retry() { for i in $(seq 90); do out=$(dpkg "$@" 2>&1) && { echo "$out"; return 0; }; echo "$out" | grep -q lock || { echo "$out" >&2; return 1; }; sleep 1; done; return 1; }
dpkg_retry -i "$WORK/dist/$PKG.deb"
/usr/bin/vg-ci-hello CI | grep -q 'hello, CI'
dpkg_retry -r "$PKG"
test ! -e /usr/bin/vg-ci-hello
echo CI-JOB-OK
"""


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


@pytest.fixture
def ci(request):
    d, fs, rules = defaults_daemon("benign-ci")
    work = tempfile.mkdtemp(prefix="vg-ci-")
    home = f"/home/vg-ci-{uuid.uuid4().hex[:8]}"
    os.makedirs(home)
    pkg = f"vg-ci-hello-{uuid.uuid4().hex[:6]}"
    yield d, fs, work, home, pkg
    d.stop()
    d.purge()
    os.system(f"dpkg -P {pkg} >/dev/null 2>&1")
    for p in (work, home, rules):
        shutil.rmtree(p, ignore_errors=True)


def test_benign_ci_job_has_no_medium_or_higher_findings(ci):
    d, fs, work, home, pkg = ci
    for rel, text in FILES.items():
        path = os.path.join(work, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)
    env = {"PATH": PATH, "HOME": home, "WORK": work, "PORT": str(free_port()), "PKG": pkg,
           "LC_ALL": "C", "CI": "true", "TERM": "dumb"}
    pid, mark, rc, err = marked_shell(JOB, env=env, cwd=work, timeout=600)
    assert rc == 0 and "CI-JOB-OK" in err, f"the CI job failed (rc={rc}):\n{err[-4000:]}"

    # Everything the job did has been judged once a finding caused after it is out: a
    # marker exec after the job (an exec rule's candidate, handled in ring-buffer order).
    probe = os.path.join(work, "xmrig")
    shutil.copy("/usr/bin/true", probe)
    ppid, pmark, _, _ = marked_shell(probe)
    assert fs.wait("crypto-miner-exe", lambda f: under(f, ppid, pmark), timeout=20), \
        "the sensor did not report the probe after the job"

    mine = [f for f in fs.all() if under(f, pid, mark) or f["process"].get("pid") == pid]
    print(f"\nCI job: {len(mine)} finding(s) from its process tree")
    for f in mine:
        print("  " + describe(f))
    loud = [f for f in mine if SEVERITIES.index(f["rule"]["severity"]) >= SEVERITIES.index("medium")]
    assert not loud, "findings of severity medium or above from a benign CI job:\n" + \
        "\n".join(describe(f) for f in loud)
    det = d.status()["detections"]["counters"]
    assert det["alerts_lost"] == 0, det
