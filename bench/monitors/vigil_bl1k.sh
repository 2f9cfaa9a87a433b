# vigil enforcing a network policy with a 1,000-entry blocklist (the reference for
# vigil_bl1m: the lookup cost must not depend on the list's size). Like `vigil`, plus
# `--network-policy` with a generated list of 500 addresses of 10.215.0.0/16 and 500 names
# under blk.vigil-bench.example — none the workloads use, so nothing is refused and every
# connect pays the full lookup. Runs for the network workloads only (connstorm, netbulk).
NPB_SIZE_vigil_bl1k=1000

_npb_policy() { # SIZE -> prints the policy path (generated once per bench run)
	local n=$1 dir=${TMP:-/var/tmp}/netpolicy-bench
	mkdir -p "$dir"
	if [[ ! -s $dir/p$n.yaml ]]; then
		python3 - "$dir/bl$n.txt" "$n" <<'PY' || return 1
import sys
path, n = sys.argv[1], int(sys.argv[2])
half = n // 2
with open(path, "w") as f:
    for i in range(half):
        f.write(f"10.{215 + (i >> 16)}.{(i >> 8) & 255}.{i & 255}\n")
    for i in range(n - half):
        f.write(f"n{i}.blk.vigil-bench.example\n")
PY
		printf 'mode: enforce\ndefault: allow\nblocklists:\n  - path: %s\n' "$dir/bl$n.txt" >"$dir/p$n.yaml"
	fi
	echo "$dir/p$n.yaml"
}

_npb_start() { # MONITOR DIR
	local size_var=NPB_SIZE_$1 pol save rc
	if [[ ${WL:-} != connstorm && ${WL:-} != netbulk ]]; then
		MON_ERR="network policy monitors run for connstorm and netbulk only"
		return 1
	fi
	pol=$(_npb_policy "${!size_var}") || { MON_ERR="generating the blocklist failed"; return 1; }
	save=$VIGIL_ARGS
	VIGIL_ARGS="$VIGIL_ARGS --network-policy $pol"
	mon_vigil_start "$2"
	rc=$?
	VIGIL_ARGS=$save
	return $rc
}

# The policy's own figures: entries, load time, kernel memory of its maps.
_npb_report() {
	mon_vigil_report "$1"
	VIGIL_SOCKET=$VIGIL_BENCH_SOCKET "$VIGIL" status --json 2>/dev/null | python3 -c '
import json, sys
try:
    p = json.load(sys.stdin).get("network_policy") or {}
except ValueError:
    p = {}
m = p.get("kernel_memory_bytes") or {}
c = p.get("counters") or {}
print("np_entries=%s np_load_ms=%.0f np_kmem=%s np_decisions=%s np_denied=%s" % (
    p.get("blocklist_entries"), p.get("load_ms") or 0, m.get("total"),
    c.get("decisions"), c.get("denied")))' 2>/dev/null
}

mon_vigil_bl1k_describe() { echo "$(mon_vigil_describe) + \`--network-policy\` with a 1,000-entry blocklist (500 addresses, 500 names), enforce"; }
mon_vigil_bl1k_check() { mon_vigil_check; }
mon_vigil_bl1k_start() { _npb_start vigil_bl1k "$1"; }
mon_vigil_bl1k_begin() { mon_vigil_begin "$1"; }
mon_vigil_bl1k_report() { _npb_report "$1"; }
mon_vigil_bl1k_stop() { mon_vigil_stop "$1"; }
