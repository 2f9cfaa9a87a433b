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

# stop_vigil_at_exit: a scenario that fails midway must not leave its daemon holding the API
# socket's lock for the next one: TERM it and wait for it to go (at most 30 s).
stop_vigil_at_exit() {
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null || return 0
	i=0
	while kill -0 "$pid" 2>/dev/null && [ $i -lt 300 ]; do
		sleep 0.1
		i=$((i + 1))
	done
}

# start_vigil [ARGS...]: `vigil run ARGS` in the background (stdout /tmp/out, stderr
# /tmp/err, printed once it is up); returns when it says it is ready, with its pid in $pid
# (stopped when the scenario exits, however it exits: stop_vigil_at_exit). Fails if it dies
# first or is not ready within 90 s (TCG is slow).
start_vigil() {
	: >/tmp/err
	vigil run "$@" >/tmp/out 2>>/tmp/err &
	pid=$!
	trap stop_vigil_at_exit EXIT
	i=0
	until grep -q "vigil: ready" /tmp/err; do
		i=$((i + 1))
		[ $i -gt 900 ] && { cat /tmp/err; fail "daemon not ready"; }
		kill -0 $pid 2>/dev/null || { cat /tmp/err; fail "daemon died"; }
		sleep 0.1
	done
	cat /tmp/err
}
