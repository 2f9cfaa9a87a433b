# Runtime policies on a BPF-LSM kernel: block = EPERM before the operation, the caller alive;
# the tier is lsm; the same policies as on the host (deploy/policies shape).
# vm-timeout: 300
. /vm/guest.sh
need_bin vigil vg_memread
export VIGIL_SOCKET=/run/vigil/vm.sock
has() { echo "$1" | grep -qF "$2"; }

flat=$(vigil probe --json | tr -d ' \t\n')
expect 'probe reports tier "lsm"' has "$flat" '"tier":"lsm"'

mkdir -p /tmp/pol /tmp/drop /tmp/ok
cp /bin/busybox /tmp/drop/touch
cp /bin/busybox /tmp/ok/touch
cat >/tmp/pol/mem.yaml <<'Y'
apiVersion: vigil.dev/v1
kind: RuntimePolicy
metadata: {name: vm-no-mem-read}
spec:
  target: {exe: [/bin/vg_memread]}
  rules:
    - action: block
      syscalls: [process_vm_readv, ptrace]
      message: "no memory reads"
---
apiVersion: vigil.dev/v1
kind: RuntimePolicy
metadata: {name: vm-no-exec-drop}
spec:
  target: {all: true}
  rules:
    - action: block
      exec: [/tmp/drop/**]
      message: "exec from a drop dir"
---
apiVersion: vigil.dev/v1
kind: RuntimePolicy
metadata: {name: vm-no-key-read}
spec:
  target: {all: true}
  rules:
    - action: block
      files: [/tmp/keys/**]
      access: [read]
    - action: block
      files: [/tmp/keys/**]
      access: [unlink, rename, chmod]
---
apiVersion: vigil.dev/v1
kind: RuntimePolicy
metadata: {name: vm-no-mount-kill}
spec:
  target: {exe: [/tmp/tools/busybox]}
  rules:
    - action: block
      syscalls: [mount]
    - action: block
      syscalls: [kill]
Y
mkdir -p /tmp/tools /tmp/mnt && cp /bin/busybox /tmp/tools/busybox
mkdir -p /tmp/keys && echo PRIVATE-KEY >/tmp/keys/id && echo public >/tmp/pub
vigil policy check /tmp/pol/mem.yaml || fail "policy check"

start_vigil --policies /tmp/pol
list=$(vigil policy list --json | tr -d ' \n')
echo "$list"
expect 'policy list: the memory rule is enforced by lsm' has "$list" '"enforced_by":"lsm","how":"deniedwithEPERM'

out=$(vg_memread 200)
echo "$out"
expect 'process_vm_readv: EPERM' has "$out" 'readv: EPERM'
expect 'the secret never reached the reader' has "$out" 'secret: not seen'
# mm_access() turns the hook's EPERM into EACCES for /proc/PID/mem; root may open it otherwise
expect '/proc/PID/mem open denied too' sh -c "echo '$out' | grep -qE 'mem: (EPERM|EACCES)'"
expect 'the reader is still alive after the denials' has "$out" 'alive'
echo "$out" | sed -n 's/^latency_ns /VM LSM enforcement latency (process_vm_readv entry -> EPERM), ns: /p'

rc=0
/tmp/drop/touch /tmp/made 2>/tmp/exec.err || rc=$?
cat /tmp/exec.err
expect 'exec from /tmp/drop refused (exit 126, permission denied)' test "$rc" = 126
expect 'the blocked binary created nothing' test ! -e /tmp/made
/tmp/ok/touch /tmp/made-ok || fail "the same binary elsewhere should run"
expect 'the same binary from another directory runs' test -e /tmp/made-ok
expect 'the calling shell is alive (this line runs)' true

rc=0
cat /tmp/keys/id >/tmp/cat.out 2>/tmp/cat.err || rc=$?
cat /tmp/cat.err
expect 'reading /tmp/keys/id refused (EPERM)' grep -q 'Operation not permitted' /tmp/cat.err
expect 'nothing of it was read' sh -c '! grep -q PRIVATE /tmp/cat.out'
expect 'another file reads fine' sh -c 'cat /tmp/pub | grep -q public'
echo x >>/tmp/keys/id || fail "writing is not covered by a read rule"
expect 'rm refused (path_unlink)' sh -c '! rm -f /tmp/keys/id 2>/dev/null && test -e /tmp/keys/id'
expect 'mv refused (path_rename)' sh -c '! mv /tmp/keys/id /tmp/keys/id2 2>/dev/null && test -e /tmp/keys/id'
expect 'chmod refused (path_chmod)' sh -c '! chmod 777 /tmp/keys/id 2>/dev/null'
expect 'a file outside is removed fine' sh -c 'rm /tmp/pub && test ! -e /tmp/pub'

rc=0
/tmp/tools/busybox mount -t tmpfs none /tmp/mnt 2>/tmp/mount.err || rc=$?
cat /tmp/mount.err
expect 'mount refused with EPERM (sb_mount; busybox says "permission denied")' grep -qiE 'not permitted|permission denied' /tmp/mount.err
expect 'nothing mounted' sh -c '! grep -q " /tmp/mnt " /proc/mounts'
sleep 60 &
victim=$!
rc=0
/tmp/tools/busybox kill -TERM $victim 2>/tmp/kill.err || rc=$?
cat /tmp/kill.err
expect 'kill refused (task_kill): the victim lives' kill -0 $victim
kill $victim

sleep 1
kill -TERM $pid
wait $pid
f=$(cat /tmp/out | tr -d ' ')
expect 'a finding for the memory read, enforced_by lsm' has "$f" '"id":"policy/vm-no-mem-read/0"'
expect '... hook ptrace_access_check' has "$f" '"hook":"lsm:ptrace_access_check"'
expect 'a finding for the exec, enforced_by lsm' has "$f" '"action":"block","enforced_by":"lsm","enforcement":{"policy":"vm-no-exec-drop"'
expect 'a finding for the file, hook file_open' has "$f" '"hook":"lsm:file_open"'
expect 'a finding for the mount, hook sb_mount' has "$f" '"hook":"lsm:sb_mount"'
expect 'a finding for the unlink, hook path' has "$f" '"hook":"lsm:path"'
expect 'a finding for the kill, hook task_kill' has "$f" '"hook":"lsm:task_kill"'
