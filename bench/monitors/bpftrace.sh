# Reference: bpftrace printing one line per event (the workload's `bpftrace_prog`, default a
# printf on every sched_process_exec) to /dev/null — the "push every event to user space" design.
mon_bpftrace_describe() {
	echo "$(bpftrace --version 2>/dev/null | head -n1): \`$(_bpftrace_prog)\` > /dev/null"
}

_bpftrace_prog() {
	wl_param bpftrace_prog 'tracepoint:sched:sched_process_exec { printf("%d %s\n", pid, comm); }'
}

mon_bpftrace_check() {
	command -v bpftrace >/dev/null || { MON_ERR="bpftrace not installed (scripts/install-deps.sh bench)"; return 1; }
	ensure_tracefs || { MON_ERR="tracefs is not mounted and cannot be mounted"; return 1; }
}

# Attached = the kernel lists perf-event attachments (tracepoints, kprobes) owned by the pid and
# their number has stopped growing. Without bpftool, fall back to a fixed delay.
_bpftrace_attached() {
	local n
	n=$(bpftool perf show 2>/dev/null | grep -c "^pid $MON_PID ")
	[[ $n -gt 0 && $n == "${_bt_last:-}" ]] && return 0
	_bt_last=$n
	sleep 0.25
	return 1
}

mon_bpftrace_start() {
	local dir=$1 rc
	bpftrace -e "$(_bpftrace_prog)" >/dev/null 2>"$dir/bpftrace.err" </dev/null &
	MON_PID=$!
	if command -v bpftool >/dev/null; then
		_bt_last=
		wait_until 60 "$MON_PID" _bpftrace_attached
		rc=$?
	else
		sleep 5
		kill -0 "$MON_PID" 2>/dev/null
		rc=$?
	fi
	[[ $rc == 0 ]] && return 0
	MON_ERR="bpftrace did not attach: $(grep -v RLIMIT_MEMLOCK "$dir/bpftrace.err" | tail -n1 | cut -c1-200)"
	mon_bpftrace_stop "$dir"
	return 1
}

mon_bpftrace_stop() { stop_pid "$MON_PID" INT 20; }
