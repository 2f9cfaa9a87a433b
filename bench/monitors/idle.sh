# Control: a monitor process that attaches nothing (sleep). Its ratio is the harness's floor:
# what starting, keeping and stopping a monitor process costs the workload with no BPF at all.
mon_idle_describe() { echo "a process that attaches nothing (\`sleep\`): the method's floor"; }
mon_idle_start() {
	sleep 1000000 &
	MON_PID=$!
}
mon_idle_stop() { stop_pid "$MON_PID" TERM 5; }
