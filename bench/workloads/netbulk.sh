# Loopback bulk throughput: one iperf3 TCP stream over 127.0.0.1 moving a fixed amount of data.
#   NETBULK_BYTES  bytes per run (default 8G; iperf3 -n syntax: 500M, 4G)
#   NETBULK_PORT   port (default 15201)
NETBULK_BYTES=${NETBULK_BYTES:-8G}
NETBULK_PORT=${NETBULK_PORT:-15201}

wl_netbulk_title() { echo "Loopback bulk throughput"; }

wl_netbulk_describe() {
	echo "one iperf3 TCP stream over loopback moving $NETBULK_BYTES (\`iperf3 -s -1\` + \`iperf3 -c 127.0.0.1 -n $NETBULK_BYTES\`), client and server pinned to CPUs of their own when there are two; time ratio = inverse throughput ratio"
}

# operations: MiB moved
wl_netbulk_ops() {
	awk -v b="$NETBULK_BYTES" 'BEGIN { m = 1; u = toupper(substr(b, length(b)))
		if (u == "K") m = 1 / 1024; else if (u == "M") m = 1; else if (u == "G") m = 1024; else m = 1 / 1048576
		printf "%d\n", (b + 0) * m }'
}
wl_netbulk_unit() { echo "MiB"; }

wl_netbulk_prepare() { command -v iperf3 >/dev/null || { log "iperf3 missing (scripts/install-deps.sh bench)"; return 1; }; }

# Server and client as children of one python process: elapsed time of the client, CPU of both.
wl_netbulk_run() {
	python3 - "$NETBULK_BYTES" "$NETBULK_PORT" <<'PY'
import os, resource, subprocess, sys, time
n, port = sys.argv[1], sys.argv[2]
# Client and server on CPUs of their own when there are two: where the scheduler puts
# them (together or apart) otherwise moves the throughput by tens of percent run to run.
cpus = sorted(os.sched_getaffinity(0))
def pin(c):
    return (lambda: os.sched_setaffinity(0, {c})) if len(cpus) >= 2 else None
srv = subprocess.Popen(["iperf3", "-s", "-1", "-B", "127.0.0.1", "-p", port],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=pin(cpus[-1]))
for _ in range(100):
    time.sleep(0.05)
    r = subprocess.run(["ss", "-Hltn", f"sport = :{port}"], capture_output=True, text=True)
    if r.stdout.strip():
        break
t = time.monotonic()
rc = subprocess.run(["iperf3", "-c", "127.0.0.1", "-p", port, "-n", n],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                    preexec_fn=pin(cpus[0])).returncode
el = time.monotonic() - t
srv.wait(timeout=30)
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
print("seconds=%.6f cpu=%.6f failed=%d" % (el, ru.ru_utime + ru.ru_stime, rc != 0))
PY
}

wl_netbulk_audit_rules() { echo '-a always,exit -F arch=b64 -S connect -S accept -S accept4'; }
wl_netbulk_bpftrace_prog() { echo 'tracepoint:sock:inet_sock_set_state { @[args->newstate] = count(); }'; }

# Goal from the issue: throughput loss at most 5 %.
wl_netbulk_target() { echo 1.05; }
