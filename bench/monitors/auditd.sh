# Reference: Debian's auditd auditing the workload's syscalls (the workload's `audit_rules`,
# default every 64-bit execve/execveat), with Debian's default auditd.conf and audit.rules
# settings (-b 8192, --backlog_wait_time 60000, -f 1) except that the log goes to the run's
# scratch directory on the root disk (deleted after each run) and the disk-space thresholds are
# lowered so a small disk cannot suspend logging. The kernel's audit settings are restored after.
AUDIT_RULES_DEFAULT='-a always,exit -F arch=b64 -S execve -S execveat'

_audit_status() { auditctl -s 2>/dev/null | awk -v k="$1" '$1 == k {print $2}'; }

_auditd_registered() { [[ $(_audit_status pid) == "$MON_PID" ]]; }

mon_auditd_describe() {
	local rules n
	rules=$(wl_param audit_rules "$AUDIT_RULES_DEFAULT")
	n=$(grep -c . <<<"$rules")
	if [[ $n -le 1 ]]; then
		echo "auditd $(dpkg-query -W -f='${Version}' auditd 2>/dev/null): \`auditctl $rules\`"
	else # a rule set: one line, first and last rule
		echo "auditd $(dpkg-query -W -f='${Version}' auditd 2>/dev/null): $n audit rules (\`$(head -n1 <<<"$rules")\` … \`$(tail -n1 <<<"$rules")\`; the workload's \`audit_rules\`)"
	fi
}

mon_auditd_check() {
	command -v auditd >/dev/null && command -v auditctl >/dev/null ||
		{ MON_ERR="auditd not installed (scripts/install-deps.sh bench)"; return 1; }
	local err
	if ! err=$(auditctl -s 2>&1); then
		MON_ERR="kernel audit unavailable: $(head -n1 <<<"$err")"
		return 1
	fi
	local pid
	pid=$(_audit_status pid)
	if [[ -n $pid && $pid != 0 ]]; then
		MON_ERR="an audit daemon is already running (pid $pid); stop it to benchmark auditd"
		return 1
	fi
	if [[ $(auditctl -l 2>/dev/null) != "No rules" ]]; then
		MON_ERR="audit rules are already loaded (auditctl -l); they would also slow the baseline"
		return 1
	fi
}

mon_auditd_start() {
	local dir=$1 rule err
	AUDITD_DIR=$dir
	# Kernel settings to put back afterwards.
	AUDITD_SAVED="$(_audit_status enabled) $(_audit_status failure) $(_audit_status backlog_limit) $(_audit_status backlog_wait_time)"
	mkdir -p "$dir/conf/plugins.d" "$dir/log"
	sed -e "s|^log_file = .*|log_file = $dir/log/audit.log|" \
		-e 's|^log_group = .*|log_group = root|' \
		-e 's|^max_log_file = .*|max_log_file = 256|' \
		-e 's|^num_logs = .*|num_logs = 2|' \
		-e 's|^space_left = .*|space_left = 2|' \
		-e 's|^admin_space_left = .*|admin_space_left = 1|' \
		-e "s|^plugin_dir = .*|plugin_dir = $dir/conf/plugins.d|" \
		/etc/audit/auditd.conf >"$dir/conf/auditd.conf"
	chmod 600 "$dir/conf/auditd.conf"
	auditd -n -c "$dir/conf" >"$dir/auditd.err" 2>&1 </dev/null &
	MON_PID=$!
	wait_until 20 "$MON_PID" _auditd_registered
	if [[ $(_audit_status pid) != "$MON_PID" ]]; then
		MON_ERR="auditd did not register with the kernel: $(tail -n1 "$dir/auditd.err" | cut -c1-200)"
		mon_auditd_stop "$dir"
		return 1
	fi
	auditctl -D >/dev/null
	auditctl -b 8192 >/dev/null
	auditctl --backlog_wait_time 60000 >/dev/null
	auditctl -f 1 >/dev/null
	while read -r rule; do
		[[ -n $rule ]] || continue
		# shellcheck disable=SC2086
		if ! err=$(auditctl $rule 2>&1); then
			MON_ERR="auditctl $rule: $err"
			mon_auditd_stop "$dir"
			return 1
		fi
	done <<<"$(wl_param audit_rules "$AUDIT_RULES_DEFAULT")"
	# kauditd (kernel thread) formats and sends the records: count its CPU time too.
	MON_CPU_PIDS=$(pgrep -x kauditd | head -n1)
}

mon_auditd_begin() {
	AUDITD_LOST0=$(_audit_status lost)
	AUDITD_WAIT0=$(_audit_status backlog_wait_time_actual)
}

# Records the kernel dropped (lost) and how long tasks were held back waiting for backlog space
# (backlog_wait_time_actual, ms) during the run, and the size of the log written.
mon_auditd_report() {
	local dir=$1
	echo "audit_lost=$(($(_audit_status lost) - AUDITD_LOST0))" \
		"audit_wait_ms=$(($(_audit_status backlog_wait_time_actual) - AUDITD_WAIT0))" \
		"audit_log_bytes=$(du -cb "$dir/log" 2>/dev/null | awk 'END {print $1}')"
}

mon_auditd_stop() {
	local dir=${1:-$AUDITD_DIR} e f b w
	auditctl -D >/dev/null 2>&1
	stop_pid "$MON_PID" TERM 20
	if [[ -n ${AUDITD_SAVED:-} ]]; then
		read -r e f b w <<<"$AUDITD_SAVED"
		[[ -n $b ]] && auditctl -b "$b" >/dev/null 2>&1
		[[ -n $w ]] && auditctl --backlog_wait_time "$w" >/dev/null 2>&1
		[[ -n $f ]] && auditctl -f "$f" >/dev/null 2>&1
		[[ -n $e ]] && auditctl -e "$e" >/dev/null 2>&1
		AUDITD_SAVED=
	fi
	[[ -n $dir ]] && rm -rf "$dir/log"
}
