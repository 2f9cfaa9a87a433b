# File activity on Debian's 6.1 kernel: the same binary loads its syscall hooks
# (mounting tracefs itself), and records opens with the kernel's resolved path,
# failed attempts as the caller named them, and path-only changes.
# vm-timeout: 240
. /vm/guest.sh
need_bin vigil
export VIGIL_SOCKET=/run/vigil/vm.sock
# A fresh machine has no tracefs: take it away (and debugfs, which reaches it too).
umount /sys/kernel/tracing 2>/dev/null
umount /sys/kernel/debug 2>/dev/null
grep -q ' /sys/kernel/tracing \| /sys/kernel/debug ' /proc/mounts && fail "could not unmount tracefs for the test"

start_vigil
expect "vigil mounted tracefs itself" grep -q "mounted tracefs" /tmp/err
expect "tracefs is mounted" grep -q ' /sys/kernel/tracing tracefs ' /proc/mounts

mkdir -p /tmp/w/sub
echo data >/tmp/w/real.txt
ln -s /tmp/w/real.txt /tmp/w/link
cd /tmp/w/sub
cat ../real.txt ../link ./../sub/../real.txt >/dev/null
cat ../missing/../nope.txt 2>/dev/null      # ENOENT: counted, not recorded
echo x 2>/dev/null >../sub/./../sub         # EISDIR: a refused attempt, recorded
echo x >new.txt
chmod 4755 new.txt
mv new.txt moved.txt
rm moved.txt
cd /tmp
# 500 read-only opens of one file by one shell: the hot path (its per-CPU slot, on this
# kernel's probe-read fallback) still counts every one.
echo s >/tmp/w/storm.txt
sh -c 'i=0; while [ $i -lt 500 ]; do read x </tmp/w/storm.txt; i=$((i+1)); done'

out=$(vigil query files --path /tmp/w --json) || fail "query files failed"
echo "$out"
flat=$(echo "$out" | tr -d ' \n')
has() { echo "$flat" | grep -qF "$1"; }
real=$(echo "$flat" | grep -o '"path":"/tmp/w/real.txt","actions":\["read"\],"count":[0-9]*' | head -1)
echo "real: $real"
expect 'relative, symlinked and ".." opens land on /tmp/w/real.txt (3 opens by one cat)' \
	sh -c "echo '$real' | grep -q '\"count\":3'"
expect 'nothing read under the symlink name' sh -c "! echo '$flat' | grep -q '\"path\":\"/tmp/w/link\",\"actions\":\[\"read'"
expect 'ln -s made the link' has '"path":"/tmp/w/link","actions":["symlink"]'
expect 'the refused open is kept as named, normalised' has '"path":"/tmp/w/sub","actions":["write","create","truncate","failed"]'
expect 'the refused open is flagged unresolved' sh -c "echo '$flat' | grep -o '\"path\":\"/tmp/w/sub\",\"actions\":\[\"write[^}]*' | grep -q unresolved"
expect 'a name that leads nowhere is not recorded' sh -c "! echo '$flat' | grep -q '/tmp/w/nope.txt'"
expect 'the shell redirection created new.txt' has '"path":"/tmp/w/sub/new.txt","actions":["write","create","truncate"]'
expect 'chmod 4755 is chmod + setid' has '"actions":["chmod","setid"]'
expect 'mv is rename_from + rename_to' has '"path":"/tmp/w/sub/new.txt","actions":["rename_from"]'
expect 'mv renamed to moved.txt' has '"path":"/tmp/w/sub/moved.txt","actions":["rename_to"]'
expect 'rm is unlink' has '"path":"/tmp/w/sub/moved.txt","actions":["unlink"]'
expect '500 read-only opens in a loop: counted exactly' has '"path":"/tmp/w/storm.txt","actions":["read"],"count":500'

st=$(vigil status --json | tr -d ' \n')
echo "$st" | grep -o '"name":"vg_file_[a-z]*","section":"[^"]*","run_count":[0-9]*' || fail "no file programs in status"
echo "verifier, per program:"
echo "$st" | grep -o '"name":"vg_[a-z_]*","section":"[^"]*","run_count":[0-9]*,"run_time_ns":[0-9]*,"avg_ns":[0-9.null]*,"recursion_misses":[0-9]*,"verified_insns":[0-9]*' |
	sed 's/"name":"\([a-z_]*\)".*"run_count":\([0-9]*\).*"avg_ns":\([0-9.null]*\).*"verified_insns":\([0-9]*\)/  \1 runs \2 avg_ns \3 verified_insns \4/'
kill -TERM $pid
wait $pid || fail "daemon exit code $?"
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null # as /init left it
