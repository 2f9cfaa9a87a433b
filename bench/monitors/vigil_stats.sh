# vigil with `--bpf-stats`: the same sensor plus the kernel's per-program run-time statistics
# (BPF_ENABLE_STATS: two clock reads around every BPF program run, every program of the
# machine). The report's per-program costs come from these rounds; `vigil` itself runs
# without them, as it does by default — its ratio is the sensor's cost alone, and the
# difference between the two is the cost of measuring.
mon_vigil_stats_describe() { echo "$(mon_vigil_describe) + \`--bpf-stats\` (per-program costs)"; }
mon_vigil_stats_check() { mon_vigil_check; }
mon_vigil_stats_start() {
	local save=$VIGIL_ARGS rc
	VIGIL_ARGS="$VIGIL_ARGS --bpf-stats"
	mon_vigil_start "$1"
	rc=$?
	VIGIL_ARGS=$save
	return $rc
}
mon_vigil_stats_begin() { mon_vigil_begin "$1"; }
mon_vigil_stats_report() { mon_vigil_report "$1"; }
mon_vigil_stats_stop() { mon_vigil_stop "$1"; }
