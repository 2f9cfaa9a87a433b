# Open storm: open()+close() of a file no default rule names, OPENSTORM_N times from 2 parallel
# workers (bench/openstorm.c) — the hot path of a file monitor when nothing matches.
#   OPENSTORM_N   opens per run (default 1000000; not -n, which sizes the exec storm)
#   -j / BENCH_J  parallel workers (default 2)
# The auditd and bpftrace references are shared by the file workloads (openstorm,
# openstorm_watched, build): auditd watches what vigil's default file rules watch, bpftrace
# traces the syscalls vigil's file programs hook and prints one line per event.
OPENSTORM_N=${OPENSTORM_N:-1000000}
OPENSTORM_J=${BENCH_J:-2}

wl_openstorm_title() { echo "Open storm, unwatched file"; }

wl_openstorm_describe() {
	echo "open(O_RDONLY)+close of a file no default rule names (\`$(_openstorm_file)\`), $OPENSTORM_N times from $OPENSTORM_J parallel workers (\`build/bench/openstorm -n $OPENSTORM_N -j $OPENSTORM_J FILE\`); vigil runs every default rule"
}

wl_openstorm_ops() { echo "$OPENSTORM_N"; }
wl_openstorm_unit() { echo "open"; }

_openstorm_file() { echo "$BENCH_BIN/openstorm.dat"; }

wl_openstorm_prepare() {
	bench_build openstorm || return 1
	echo "vigil bench data" >"$(_openstorm_file)"
}

wl_openstorm_run() {
	"$BENCH_BIN/openstorm" -n "$OPENSTORM_N" -j "$OPENSTORM_J" "$(_openstorm_file)"
}

wl_openstorm_audit_rules() { _file_audit_rules; }
wl_openstorm_bpftrace_prog() { _file_bpftrace_prog; }

# Goal from the issue: at most 15 % slower, and below every reference monitor.
wl_openstorm_target() { echo 1.15; }

# The file watches of vigil's default rules (rules/default/*.yaml) as audit rules: writes to
# the account, sudo, cron, systemd, shell start-up, loader, init, package-manager and PAM
# configuration and to the system binary directories; reads of password hashes, SSH host keys
# and the OS identity files; attribute changes included (-p wa / -p rwa).
_file_audit_rules() {
	local w
	for w in /etc/passwd /etc/group /etc/subuid /etc/subgid /etc/sudoers /etc/sudoers.d \
		/etc/crontab /etc/cron.d /etc/cron.hourly /etc/cron.daily /etc/cron.weekly \
		/etc/cron.monthly /var/spool/cron /etc/systemd/system /usr/lib/systemd/system \
		/etc/profile /etc/profile.d /etc/bash.bashrc /etc/environment /etc/ld.so.conf \
		/etc/ld.so.conf.d /etc/init.d /etc/rc.local /etc/apt/apt.conf.d /etc/dpkg/dpkg.cfg.d \
		/etc/pam.d /etc/security /usr/bin /usr/sbin /usr/lib/x86_64-linux-gnu/security \
		/var/log/wtmp /var/log/btmp /var/log/lastlog /var/log/journal; do
		[[ -e $w ]] && echo "-w $w -p wa"
	done
	for w in /etc/shadow /etc/gshadow /etc/ssh /usr/lib/os-release /etc/machine-id \
		/etc/ld.so.preload; do
		[[ -e $w ]] && echo "-w $w -p rwa"
	done
	echo "-a always,exit -F arch=b64 -S ptrace -S process_vm_readv -S process_vm_writev"
}

# The open family, unlink, rename, chmod and exec, as vigil's file programs hook them (at
# syscall exit, with the path), one line per event to user space.
_file_bpftrace_prog() {
	cat <<'BT'
tracepoint:syscalls:sys_enter_openat { @p[tid] = args->filename; }
tracepoint:syscalls:sys_exit_openat /@p[tid]/ { printf("%d %s open %s %d\n", pid, comm, str(@p[tid]), args->ret); delete(@p[tid]); }
tracepoint:syscalls:sys_enter_unlinkat { printf("%d %s unlink %s\n", pid, comm, str(args->pathname)); }
tracepoint:syscalls:sys_enter_renameat2 { printf("%d %s rename %s %s\n", pid, comm, str(args->oldname), str(args->newname)); }
tracepoint:syscalls:sys_enter_fchmodat { printf("%d %s chmod %s\n", pid, comm, str(args->filename)); }
tracepoint:sched:sched_process_exec { printf("%d %s exec\n", pid, comm); }
BT
}
