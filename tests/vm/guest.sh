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
