# vigil probe on a BPF-LSM kernel: the lsm feature works and the tier is "lsm".
# vm-timeout: 180
. /vm/guest.sh
need_bin vigil
rc=0
out=$(vigil probe --json) || rc=$?
echo "$out"
[ $rc -eq 0 ] || fail "vigil probe --json exited $rc"
flat=$(echo "$out" | tr -d ' \t\n')
lsm=$(echo "$flat" | sed -n 's/.*"lsm":{\([^}]*\)}.*/\1/p')
has() { echo "$1" | grep -qF "$2"; }
expect 'probe reports features.lsm.ok = true' has "$lsm" '"ok":true'
expect 'probe reports tier "lsm"' has "$flat" '"tier":"lsm"'
# 6.1 predates bpf_rdonly_cast (6.2): the file hot path's probe-read fallback is the one in use
# (files.sh checks file activity on it).
rc_=$(echo "$flat" | sed -n 's/.*"rdonly_cast":{\([^}]*\)}.*/\1/p')
expect 'probe reports features.rdonly_cast.ok = false on 6.1' has "$rc_" '"ok":false'
# 6.1 has iter/task_file + bpf_sock_from_file (5.11): TCP sockets count packets in their own
# storage there too (flows.sh checks the counts of connections on it).
isf=$(echo "$flat" | sed -n 's/.*"iter_sock_file":{\([^}]*\)}.*/\1/p')
expect 'probe reports features.iter_sock_file.ok = true on 6.1' has "$isf" '"ok":true'
# 6.1 has BPF compare-and-exchange (5.12): TCP connections take vg_conns slots there too.
cx=$(echo "$flat" | sed -n 's/.*"cmpxchg":{\([^}]*\)}.*/\1/p')
expect 'probe reports features.cmpxchg.ok = true on 6.1' has "$cx" '"ok":true'
