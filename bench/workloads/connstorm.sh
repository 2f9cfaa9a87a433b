# Connect/close storm on loopback: N TCP connections (connect, 1 byte, close) from J threads
# taking them from one shared count, to a listener in the same process (bench/connstorm.c).
#   -n / BENCH_N   connections per run (default 50000)
#   -j / BENCH_J   client threads      (default 2)
CONNSTORM_N=${BENCH_N:-50000}
CONNSTORM_J=${BENCH_J:-2}

wl_connstorm_title() { echo "Connect/close storm"; }

wl_connstorm_describe() {
	echo "$CONNSTORM_N loopback TCP connections (connect, send 1 byte, close with RST) from $CONNSTORM_J client threads taking them from one shared count, to an in-process listener (\`build/bench/connstorm -n $CONNSTORM_N -j $CONNSTORM_J\`)"
}

wl_connstorm_ops() { echo "$CONNSTORM_N"; }
wl_connstorm_unit() { echo "connection"; }

wl_connstorm_prepare() { bench_build connstorm; }

wl_connstorm_run() { "$BENCH_BIN/connstorm" -n "$CONNSTORM_N" -j "$CONNSTORM_J"; }

wl_connstorm_audit_rules() { echo '-a always,exit -F arch=b64 -S connect -S accept -S accept4'; }
wl_connstorm_bpftrace_prog() { echo 'tracepoint:sock:inet_sock_set_state { @[args->newstate] = count(); }'; }

# Goal from the issue: connect storm slowdown at most 10 %.
wl_connstorm_target() { echo 1.10; }
