# Open storm on a watched file: open()+close() of /etc/os-release (→ /usr/lib/os-release), a
# file the default rules name (system-fingerprinting: a burst of reads of machine-description
# files). The kernel matches the path and sends the first open of each process to user space,
# which judges it and reports nothing (one file is not a burst); every later open is the
# already-evaluated fast path. auditd audits every read of it (its watch), bpftrace traces
# every open. Same sizes as the open storm (OPENSTORM_N, -j).
wl_openstorm_watched_title() { echo "Open storm, watched file (matched, no finding)"; }

wl_openstorm_watched_describe() {
	echo "open(O_RDONLY)+close of \`/etc/os-release\` (resolved: /usr/lib/os-release, matched in the kernel by system-fingerprinting; judged in user space once per process, no finding), $OPENSTORM_N times from $OPENSTORM_J parallel workers; vigil runs every default rule"
}

wl_openstorm_watched_ops() { echo "$OPENSTORM_N"; }
wl_openstorm_watched_unit() { echo "open"; }
wl_openstorm_watched_prepare() { bench_build openstorm && [[ -r /etc/os-release ]]; }

wl_openstorm_watched_run() {
	"$BENCH_BIN/openstorm" -n "$OPENSTORM_N" -j "$OPENSTORM_J" /etc/os-release
}

wl_openstorm_watched_audit_rules() { _file_audit_rules; }
wl_openstorm_watched_bpftrace_prog() { _file_bpftrace_prog; }
wl_openstorm_watched_target() { echo 1.15; }
