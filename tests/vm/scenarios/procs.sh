# Process state on Debian's 6.1 kernel: the same binary (CO-RE) loads, records a
# short chain, keeps it after exit, and survives a daemon restart.
# vm-timeout: 240
. /vm/guest.sh
need_bin vigil
export VIGIL_SOCKET=/run/vigil/vm.sock

start_vigil
sh -c 'sh -c "/bin/true vg-vm-marker; exit 0"; exit 0'
sleep 0.3
out=$(vigil query procs --argv vg-vm-marker --exited --json) || fail "query failed"
echo "$out"
flat=$(echo "$out" | tr -d ' \n')
has() { echo "$1" | grep -qF "$2"; }
expect 'the exited true is recorded' has "$flat" '"argv":["/bin/true","vg-vm-marker"]'
id=$(echo "$flat" | sed -n 's/.*"id":"\([0-9]*@[0-9]*\)".*"argv":\["\/bin\/true".*/\1/p' | head -1)
[ -n "$id" ] || fail "no id"
chain=$(vigil query ancestry "$id") || fail "ancestry failed"
echo "$chain"
n=$(echo "$chain" | grep -c "sh -c")
[ "$n" -ge 2 ] || fail "ancestry should show both shells"
echo "$chain" | tail -1 | grep -q '^1 ' || fail "ancestry should end at pid 1"
vigil status | head -3

kill -TERM $pid
wait $pid || fail "daemon exit code $?"
start_vigil
grep -q "reused from the previous daemon" /tmp/err || { cat /tmp/err; fail "state not reused"; }
vigil query procs --argv vg-vm-marker --exited | grep -q vg-vm-marker || fail "history lost on restart"
echo "ok: history kept across restart"
kill -TERM $pid
wait $pid
