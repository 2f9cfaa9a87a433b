# Exec storm: fork+exec of /bin/true N times from J parallel workers (bench/execstorm.c).
#   -n / BENCH_N   executions per run (default 20000)
#   -j / BENCH_J   parallel workers   (default 2)
#   EXECSTORM_PROG program to execute (default /bin/true)
#   EXECSTORM_MODE fork (default) | vfork | spawn  (how each child is created)
EXECSTORM_N=${BENCH_N:-20000}
EXECSTORM_J=${BENCH_J:-2}
EXECSTORM_PROG=${EXECSTORM_PROG:-/bin/true}
EXECSTORM_MODE=${EXECSTORM_MODE:-fork}

wl_execstorm_title() { echo "Exec storm"; }

wl_execstorm_describe() {
	echo "fork+execve of \`$EXECSTORM_PROG\` ($EXECSTORM_MODE), $EXECSTORM_N times from $EXECSTORM_J parallel workers, each waiting for its child (\`build/bench/execstorm -n $EXECSTORM_N -j $EXECSTORM_J -m $EXECSTORM_MODE\`)"
}

wl_execstorm_ops() { echo "$EXECSTORM_N"; }      # operations per run (for rates and CPU/op)
wl_execstorm_unit() { echo "exec"; }

wl_execstorm_prepare() { bench_build execstorm; }

# Must print a line with seconds=<elapsed> (more key=value pairs are kept in the raw data).
wl_execstorm_run() {
	"$BENCH_BIN/execstorm" -n "$EXECSTORM_N" -j "$EXECSTORM_J" -p "$EXECSTORM_PROG" -m "$EXECSTORM_MODE"
}

# How the reference monitors watch this workload.
wl_execstorm_audit_rules() { echo '-a always,exit -F arch=b64 -S execve -S execveat'; }
wl_execstorm_bpftrace_prog() { echo 'tracepoint:sched:sched_process_exec { printf("%d %s\n", pid, comm); }'; }

# Goal from the issue: vigil's ratio at most this, and below every reference monitor.
wl_execstorm_target() { echo 1.05; }
