# vigil itself: `build/vigil run` in the background until it prints `vigil: ready` on stderr.
# It runs with its own state directory and API socket, so it neither disturbs nor reuses the
# state of another vigil on the machine, and starts from empty state every run (--reset-state)
# so that every round measures the same thing; the state directory is removed after the run.
#   VIGIL=path             binary (default build/vigil)
#   VIGIL_ARGS="..."       arguments for `vigil run` (default --reset-state)
#   VIGIL_STATE_DIR=dir    pinned state (default /sys/fs/bpf/vigil-bench)
#   VIGIL_BENCH_SOCKET=p   API socket (default /run/vigil/bench.sock)
#   VIGIL_READY_TIMEOUT=s  how long to wait for `vigil: ready` (default 60)
VIGIL=${VIGIL:-$ROOT/build/vigil}
VIGIL_ARGS=${VIGIL_ARGS---reset-state}
VIGIL_STATE_DIR=${VIGIL_STATE_DIR:-/sys/fs/bpf/vigil-bench}
VIGIL_BENCH_SOCKET=${VIGIL_BENCH_SOCKET:-/run/vigil/bench.sock}
VIGIL_READY_TIMEOUT=${VIGIL_READY_TIMEOUT:-60}

mon_vigil_describe() {
	local v
	v=$("$VIGIL" version 2>/dev/null | head -n1 | grep -i vigil)
	echo "\`vigil run${VIGIL_ARGS:+ $VIGIL_ARGS}\` (own state dir and socket; ${v:-$(git -C "$ROOT" describe --always --dirty 2>/dev/null)})"
}

mon_vigil_check() {
	[[ -x $VIGIL ]] || { MON_ERR="$VIGIL is not built (make)"; return 1; }
	# Run a private copy: the build may change under a long run on a shared checkout.
	if [[ -n ${TMP:-} ]] && cp "$VIGIL" "$TMP/vigil" 2>/dev/null; then
		VIGIL=$TMP/vigil
	fi
}

mon_vigil_start() {
	local dir=$1 rc
	# shellcheck disable=SC2086
	"$VIGIL" run --state-dir "$VIGIL_STATE_DIR" --socket "$VIGIL_BENCH_SOCKET" $VIGIL_ARGS \
		>"$dir/vigil.out" 2>"$dir/vigil.err" </dev/null &
	MON_PID=$!
	wait_for_file_pattern "$dir/vigil.err" 'vigil: ready' "$VIGIL_READY_TIMEOUT" "$MON_PID"
	rc=$?
	[[ $rc == 0 ]] && return 0
	if [[ $rc == 2 ]]; then
		wait "$MON_PID" 2>/dev/null
		rc=$?
		MON_ERR="\`vigil run\` exited during start-up (status $rc): $(grep . "$dir/vigil.err" | tail -n1 | cut -c1-200)"
		[[ -s $dir/vigil.err ]] || MON_ERR+="(no output)"
	else
		MON_ERR="no 'vigil: ready' on stderr within ${VIGIL_READY_TIMEOUT}s"
	fi
	mon_vigil_stop "$dir"
	return 1
}

# _vigil_status FIELD... — from `vigil status --json`, print FIELD=value for each of:
#   status_kmem  vigil's own account of its kernel memory: the first "kernel_memory_bytes"
#                anywhere, else the sum of "memlock_bytes"/"bytes_memlock" over a "maps" list
#   bpf_ns       total run time of its BPF programs, the sum of "programs"[].run_time_ns
# ("n/a" when the daemon does not answer or does not report it).
_vigil_status() {
	local json
	json=$(VIGIL_SOCKET=$VIGIL_BENCH_SOCKET "$VIGIL" status --json 2>/dev/null) || json=null
	python3 - "$json" "$@" <<'PY' 2>/dev/null || printf '%s=n/a\n' "$@"
import json, sys
try:
    doc = json.loads(sys.argv[1])
except ValueError:
    doc = None
def find(o, key, want=(int, float)):
    if isinstance(o, dict):
        if isinstance(o.get(key), want):
            return o[key]
        o = list(o.values())
    if isinstance(o, list):
        for v in o:
            r = find(v, key, want)
            if r is not None:
                return r
    return None
def total(items, keys):
    vals = [x.get(k) for x in items or [] if isinstance(x, dict)
            for k in keys if isinstance(x.get(k), (int, float))]
    return sum(vals) if vals else None
for field in sys.argv[2:]:
    v = None
    if field == "status_kmem":
        v = find(doc, "kernel_memory_bytes")
        if v is None:
            v = total(find(doc, "maps", list), ("memlock_bytes", "bytes_memlock", "memlock"))
    elif field == "bpf_ns":
        v = total(find(doc, "programs", list), ("run_time_ns",))
    print("%s=%s" % (field, int(v) if v is not None else "n/a"))
PY
}

# _vigil_progs FILE — the run count and run time of each BPF program (bpf_stats, from
# `vigil status --json`), summed by program name: "name count ns" lines.
_vigil_progs() {
	VIGIL_SOCKET=$VIGIL_BENCH_SOCKET "$VIGIL" status --json 2>/dev/null | python3 -c '
import json, sys
try:
    progs = json.load(sys.stdin).get("programs") or []
except ValueError:
    progs = []
tot = {}
for p in progs:
    c, t = tot.get(p.get("name"), (0, 0))
    tot[p.get("name")] = (c + (p.get("run_count") or 0), t + (p.get("run_time_ns") or 0))
for n, (c, t) in sorted(tot.items()):
    print(n, c, t)' >"$1" 2>/dev/null
}

mon_vigil_begin() {
	VIGIL_BPF_NS0=$(_vigil_status bpf_ns)
	VIGIL_BPF_NS0=${VIGIL_BPF_NS0#*=}
	_vigil_progs "$1/progs0"
}

# Kernel memory as vigil reports it, and the run time of its BPF programs during the workload
# (bpf_stats: CPU spent in the workload's own context, not in vigil's process).
mon_vigil_report() {
	local kmem ns
	read -r kmem ns <<<"$(_vigil_status status_kmem bpf_ns | tr '\n' ' ')"
	ns=${ns#*=}
	if [[ $ns =~ ^[0-9]+$ && ${VIGIL_BPF_NS0:-} =~ ^[0-9]+$ ]]; then
		ns=$((ns - VIGIL_BPF_NS0))
	else
		ns=n/a
	fi
	echo "$kmem bpf_ns=$ns"
	# Per program during the workload: average ns per run (bpfavg_NAME) and runs (bpfrun_NAME).
	_vigil_progs "$1/progs1"
	[[ -s $1/progs0 && -s $1/progs1 ]] && awk 'NR == FNR { c[$1] = $2; t[$1] = $3; next }
		($1 in c) && $2 > c[$1] { printf "bpfavg_%s=%.0f bpfrun_%s=%d\n", $1, ($3 - t[$1]) / ($2 - c[$1]), $1, $2 - c[$1] }' \
		"$1/progs0" "$1/progs1"
}

mon_vigil_stop() {
	stop_pid "$MON_PID" INT 20
	# Our own pinned state only (never the default /sys/fs/bpf/vigil of a real daemon).
	[[ $VIGIL_STATE_DIR == /sys/fs/bpf/vigil-bench* && -d $VIGIL_STATE_DIR ]] && rm -rf "$VIGIL_STATE_DIR"
	return 0
}
