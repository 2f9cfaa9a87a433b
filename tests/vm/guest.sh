# /vm/guest.sh — helpers for scenarios (busybox sh). Use: . /vm/guest.sh
# A scenario passes by exiting 0, fails by exiting non-zero, is skipped by exiting 77.

# skip REASON: stop here, report the scenario as skipped with REASON.
skip() { echo "SKIP: $*"; echo "$*" >/run/vm-skip; exit 77; }
# fail MSG: stop here, report failure.
fail() { echo "FAIL: $*"; exit 1; }
# need_bin NAME...: skip unless each NAME is in /bin.
need_bin() { for b in "$@"; do [ -x "/bin/$b" ] || skip "/bin/$b is not in the initramfs"; done; }
# expect DESCRIPTION COMMAND...: run COMMAND, fail with DESCRIPTION unless it succeeds.
expect() { d=$1; shift; if "$@"; then echo "ok: $d"; else fail "$d"; fi; }

# start_vigil [ARGS...]: `vigil run ARGS` in the background (stdout /tmp/out, stderr
# /tmp/err, printed once it is up); returns when it says it is ready, with its pid in $pid.
# Fails if it dies first or is not ready within 90 s (TCG is slow).
start_vigil() {
	: >/tmp/err
	vigil run "$@" >/tmp/out 2>>/tmp/err &
	pid=$!
	i=0
	until grep -q "vigil: ready" /tmp/err; do
		i=$((i + 1))
		[ $i -gt 900 ] && { cat /tmp/err; fail "daemon not ready"; }
		kill -0 $pid 2>/dev/null || { cat /tmp/err; fail "daemon died"; }
		sleep 0.1
	done
	cat /tmp/err
}
