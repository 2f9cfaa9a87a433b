# Control: vigil's network hooks with programs that do nothing (bench/hooks.bpf.c: both packet
# hooks, socket creation, connect and sendmsg as many times as vigil attaches them, the TCP
# state tracepoint, the socket() and listen() exits). Its ratio is what being called on those
# hooks costs the workload by itself — the kernel's side of every program run, which the
# programs' own run time (`--bpf-stats`) does not include; vigil's ratio above it is vigil's
# work.
# HOOKS_ONLY=prog,prog... attaches only those programs (bench/hooks.bpf.c's names), to take
# the hooks' cost apart.
mon_hooks_describe() { echo "empty BPF programs on vigil's network hooks (\`build/bench/hooks\`, bench/hooks.bpf.c): the hooks' own cost"; }

_hooks_cgroup() { awk '$3 == "cgroup2" {print $2; exit}' /proc/mounts; }

mon_hooks_check() {
	bench_build hooks || { MON_ERR="build/bench/hooks not built (make build/bench/hooks)"; return 1; }
	[[ -n $(_hooks_cgroup) ]] || { MON_ERR="no cgroup v2 mount"; return 1; }
}

mon_hooks_start() {
	local dir=$1
	"$BENCH_BIN/hooks" "$BENCH_BIN/hooks.bpf.o" "$(_hooks_cgroup)" ${HOOKS_ONLY:+"$HOOKS_ONLY"} >"$dir/hooks.out" 2>"$dir/hooks.err" </dev/null &
	MON_PID=$!
	wait_until 30 "$MON_PID" grep -qs '^attached' "$dir/hooks.out" && return 0
	MON_ERR="did not attach: $(tail -n1 "$dir/hooks.err")"
	mon_hooks_stop "$dir"
	return 1
}

mon_hooks_stop() { stop_pid "$MON_PID" TERM 5; }
