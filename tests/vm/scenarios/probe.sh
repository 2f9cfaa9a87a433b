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
