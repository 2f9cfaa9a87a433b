# bench/lib.sh — helpers shared by bench/run, bench/monitors/*.sh and bench/workloads/*.sh.
# Sourced, not executed. Everything here is plain bash + coreutils + awk.

log() { printf 'bench: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

# wait_for_file_pattern FILE PATTERN TIMEOUT_S PID
# Waits until FILE contains PATTERN (grep -E). Fails early if PID (optional) exits.
wait_for_file_pattern() {
	local file=$1 pat=$2 timeout=$3 pid=${4:-} i
	for ((i = 0; i < timeout * 20; i++)); do
		grep -qE -- "$pat" "$file" 2>/dev/null && return 0
		if [[ -n $pid ]] && ! kill -0 "$pid" 2>/dev/null; then
			grep -qE -- "$pat" "$file" 2>/dev/null && return 0
			return 2
		fi
		sleep 0.05
	done
	return 1
}

# wait_until TIMEOUT_S PID CMD...  — polls CMD until it succeeds; fails if PID dies.
wait_until() {
	local timeout=$1 pid=$2 i
	shift 2
	for ((i = 0; i < timeout * 20; i++)); do
		"$@" && return 0
		if [[ -n $pid ]] && ! kill -0 "$pid" 2>/dev/null; then
			return 2
		fi
		sleep 0.05
	done
	return 1
}

# stop_pid PID SIGNAL TIMEOUT_S — signal, wait, SIGKILL if still there. Never fails.
stop_pid() {
	local pid=$1 sig=${2:-INT} timeout=${3:-10} i
	[[ -n $pid ]] || return 0
	kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return 0; }
	kill -s "$sig" "$pid" 2>/dev/null
	for ((i = 0; i < timeout * 20; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		# A zombie child of ours still answers kill -0; reap it.
		[[ $(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) == Z ]] && break
		sleep 0.05
	done
	if kill -0 "$pid" 2>/dev/null && [[ $(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) != Z ]]; then
		log "pid $pid ignored SIG$sig for ${timeout}s, killing"
		kill -KILL "$pid" 2>/dev/null
	fi
	wait "$pid" 2>/dev/null
	return 0
}

# cpu_ticks PID... — utime+stime (all threads) summed over PIDs, in clock ticks.
cpu_ticks() {
	local total=0 p rest
	local -a f
	for p in "$@"; do
		[[ -r /proc/$p/stat ]] || continue
		rest=$(<"/proc/$p/stat") || continue
		rest=${rest##*) }  # fields from 3 (state) on; comm may contain spaces
		read -r -a f <<<"$rest"
		total=$((total + f[11] + f[12]))  # fields 14 (utime) and 15 (stime)
	done
	echo "$total"
}

# status_kb PID FIELD — a "kB" field of /proc/PID/status (VmHWM, VmRSS), or empty.
status_kb() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status" 2>/dev/null; }

# reset_hwm PID — reset the peak-RSS watermark so VmHWM covers only what follows.
reset_hwm() { echo 5 >"/proc/$1/clear_refs" 2>/dev/null; }

# bpf_map_kmem PID — kernel memory (fdinfo "memlock", bytes) of the distinct BPF maps
# PID holds open. Empty if it holds none.
bpf_map_kmem() {
	local pid=$1 fd
	for fd in /proc/"$pid"/fd/*; do
		[[ $(readlink "$fd" 2>/dev/null) == "anon_inode:bpf-map" ]] || continue
		cat "/proc/$pid/fdinfo/${fd##*/}" 2>/dev/null
		echo "--"
	done | awk '
		/^map_id:/  { id = $2 }
		/^memlock:/ { mem = $2 }
		/^--/       { if (id != "" && !(id in seen)) { seen[id] = 1; sum += mem; n++ } id = ""; mem = 0 }
		END         { if (n) print sum }'
}

# kv KEY LINE... — value of KEY=VALUE in a whitespace-separated line (first match).
kv() {
	local key=$1
	shift
	tr ' \t' '\n\n' <<<"$*" | awk -F= -v k="$key" '$1 == k { sub(/^[^=]*=/, ""); print; exit }'
}

# median — median of the numbers on stdin (one per line, blanks ignored).
median() {
	grep -E '^-?[0-9.eE+-]+$' | sort -g | awk '{ v[n++] = $1 }
		END { if (!n) exit; if (n % 2) print v[(n - 1) / 2]; else print (v[n / 2 - 1] + v[n / 2]) / 2 }'
}

# fmt_bytes N — human-readable (KiB/MiB), or "n/a" if empty.
fmt_bytes() {
	[[ -n ${1:-} ]] || { echo "n/a"; return; }
	awk -v b="$1" 'BEGIN {
		if (b >= 1048576) printf "%.1f MiB\n", b / 1048576;
		else if (b >= 1024) printf "%.0f KiB\n", b / 1024;
		else printf "%d B\n", b }'
}

# hook KIND NAME FUNC [ARGS...] — call <KIND>_<NAME>_<FUNC> if the plugin defines it.
# Returns 127 if it does not.
hook() {
	local fn="$1_$2_$3"
	shift 3
	declare -F "$fn" >/dev/null || return 127
	"$fn" "$@"
}

# wl_param KEY DEFAULT — a monitor asks the current workload ($WL) how to watch it, e.g. the
# syscalls auditd should audit or the bpftrace program to run: wl_<WL>_<KEY> if defined.
wl_param() {
	local key=$1 def=$2
	if declare -F "wl_${WL}_$key" >/dev/null; then "wl_${WL}_$key"; else printf '%s\n' "$def"; fi
}

# ensure_tracefs — mount tracefs if nothing provides tracepoint ids (fresh machines here boot
# without it). Remembers the mount so cleanup can undo it.
BENCH_MOUNTED_TRACEFS=
ensure_tracefs() {
	[[ -e /sys/kernel/tracing/events/sched ]] && return 0
	[[ -e /sys/kernel/debug/tracing/events/sched ]] && return 0
	if mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null; then
		BENCH_MOUNTED_TRACEFS=/sys/kernel/tracing
		log "mounted tracefs on /sys/kernel/tracing (unmounted at exit)"
		return 0
	fi
	return 1
}

# foreign_bpf_progs — number of tracing-type BPF programs loaded (tracing, tracepoint, kprobe,
# raw_tracepoint, perf_event, lsm). Taken while no monitor of ours runs, it shows other
# monitors (another vigil, a test) slowing every configuration. Empty without bpftool.
foreign_bpf_progs() {
	command -v bpftool >/dev/null || return 0
	bpftool prog show 2>/dev/null |
		grep -cE '^[0-9]+: (tracing|tracepoint|kprobe|raw_tracepoint|perf_event|lsm) '
}

# machine_busy_ticks — CPU ticks the whole machine spent not idle (user, nice, system, irq,
# softirq, steal) since boot, from /proc/stat.
machine_busy_ticks() { awk '$1 == "cpu" {print $2 + $3 + $4 + $7 + $8 + $9; exit}' /proc/stat; }

# wait_idle MAX_CORES TIMEOUT_S — wait until the machine has been using at most MAX_CORES cores
# (e.g. 0.25) over half a second, for at most TIMEOUT_S. Prints the seconds waited beyond the
# first half-second sample; fails on timeout. Other people's work on a shared machine would
# otherwise land in random runs.
wait_idle() {
	local max=$1 timeout=$2 hz b0 b1 n=0
	hz=$(getconf CLK_TCK)
	while :; do
		b0=$(machine_busy_ticks)
		sleep 0.5
		b1=$(machine_busy_ticks)
		if awk -v d="$((b1 - b0))" -v hz="$hz" -v m="$max" 'BEGIN {exit !(d / hz / 0.5 <= m)}'; then
			echo $((n / 2))
			return 0
		fi
		n=$((n + 1))
		if ((n >= timeout * 2)); then
			echo $((n / 2))
			return 1
		fi
	done
}
