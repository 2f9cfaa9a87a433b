# RuntimePolicy network rules on 6.1 (docs/policies.md, "network"): the cgroup connect
# hook refuses the target with EPERM (its target decided in the kernel: an exe prefix),
# the same binary elsewhere still reaches the stack; kill: SIGKILL at connect()'s exit.
# No server: the bystander's "Connection refused" shows its connect got through.
# Then the network policy's ingress part (docs/network-policy.md, "Inbound traffic"):
# default deny for inbound, one listener's port allowed from loopback.
# First: a connect scan makes a port-scan finding (the kernel counts the refusals at CLOSE
# and asks for the table walk). Run alone right after boot, the scan may land within the
# first 30 s of CLOCK_BOOTTIME, where a shape's first window must still start (the uptime
# is printed: under TCG the daemon's start alone often takes longer).
# vm-timeout: 320
. /vm/guest.sh
need_bin vigil vg_portscan
export VIGIL_SOCKET=/run/vigil/vm.sock
has() { echo "$1" | grep -qF "$2"; }

ip link set lo up
start_vigil
echo "uptime at the scan: $(cut -d' ' -f1 /proc/uptime) s"
vg_portscan 9100 25 >/tmp/scan.out
cat /tmp/scan.out
expect 'the scan: 25 connections refused' grep -q 'refused 25' /tmp/scan.out
i=0
until grep -q '"net-port-scan"' /tmp/out; do
	i=$((i + 1))
	[ $i -gt 100 ] && break
	sleep 0.1
done
spid=$(sed -n 's/^pid \([0-9]*\) .*/\1/p' /tmp/scan.out)
f=$(grep '"net-port-scan"' /tmp/out | tr -d ' ')
expect 'a port-scan finding for the scanning process' has "$f" "\"pid\":$spid,"
st=$(vigil status --json | tr -d ' \n')
expect 'status: the kernel asked for the walk' sh -c "echo '$st' | grep -q '\"shape_walks_asked\":[1-9]'"
kill -TERM $pid
wait $pid
mkdir -p /tmp/pol /tmp/net/deny /tmp/net/ok /tmp/net/kill
for d in deny ok kill; do cp /bin/busybox /tmp/net/$d/nc; done
cat >/tmp/pol/net.yaml <<'Y'
apiVersion: vigil.dev/v1
kind: RuntimePolicy
metadata: {name: vm-net-deny}
spec:
  target: {exe: [/tmp/net/deny/**]}
  rules:
    - action: block
      network:
        deny:
          - cidr: 127.0.0.2/32
            ports: [8080]
      message: "no 127.0.0.2:8080"
---
apiVersion: vigil.dev/v1
kind: RuntimePolicy
metadata: {name: vm-net-kill}
spec:
  target: {exe: [/tmp/net/kill/nc]}
  rules:
    - action: kill
      network:
        deny:
          - ip: 127.0.0.2
Y
vigil policy check /tmp/pol/net.yaml || fail "policy check"

start_vigil --policies /tmp/pol
list=$(vigil policy list --json | tr -d ' \n')
expect 'policy list: the network rule is enforced by cgroup' has "$list" '"enforced_by":"cgroup"'

/tmp/net/deny/nc 127.0.0.2 8080 </dev/null >/tmp/deny.out 2>&1
cat /tmp/deny.out
expect 'the target: connect refused with EPERM' grep -q 'not permitted' /tmp/deny.out
/tmp/net/ok/nc 127.0.0.2 8080 </dev/null >/tmp/ok.out 2>&1
cat /tmp/ok.out
expect 'the same binary elsewhere reaches the stack (refused by it, not by vigil)' grep -q 'refused' /tmp/ok.out
/tmp/net/deny/nc 127.0.0.2 8081 </dev/null >/tmp/port.out 2>&1
expect 'the target, another port: not vigil' grep -q 'refused' /tmp/port.out
rc=0
/tmp/net/kill/nc 127.0.0.2 8080 </dev/null >/tmp/kill.out 2>&1 || rc=$?
cat /tmp/kill.out
expect 'kill rule: the process died of SIGKILL (rc 137)' test "$rc" = 137
expect '... before it saw the EPERM (printed nothing)' sh -c '! grep -q "not permitted" /tmp/kill.out'

sleep 1
kill -TERM $pid
wait $pid
f=$(cat /tmp/out | tr -d ' ')
expect 'a finding for the refusal, enforced_by cgroup' has "$f" '"action":"block","enforced_by":"cgroup","enforcement":{"policy":"vm-net-deny"'
expect 'a finding for the kill, enforced_by signal' has "$f" '"action":"kill","enforced_by":"signal","enforcement":{"policy":"vm-net-kill"'

# Ingress: inbound default deny, one port allowed. The allowed connection's replies (the
# SYN-ACK to the connecting socket) are not inbound traffic; the other listener's SYN is
# dropped, so that connect times out and the listener gets nothing.
cat >/tmp/pol/ingress.yaml <<'Y'
default: {egress: allow, ingress: deny}
ingress:
  allow:
    - ip: 127.0.0.1
      ports: [8080]
Y
vigil netpolicy check /tmp/pol/ingress.yaml || fail "netpolicy check (ingress)"
start_vigil --network-policy /tmp/pol/ingress.yaml
/tmp/net/ok/nc -l -p 8080 >/tmp/in-ok.out &
l1=$!
/tmp/net/ok/nc -l -p 8081 >/tmp/in-deny.out &
l2=$!
sleep 1
echo allowed | /tmp/net/ok/nc -w 3 127.0.0.1 8080
rc=0
echo denied | /tmp/net/ok/nc -w 3 127.0.0.1 8081 || rc=$?
sleep 1
expect 'ingress: the allowed port got its data' grep -q allowed /tmp/in-ok.out
expect "ingress: the other listener's connect failed (its SYN dropped)" test "$rc" != 0
expect '... and that listener got nothing' sh -c '! test -s /tmp/in-deny.out'
st=$(vigil status --json | tr -d ' \n')
in_denied() { echo "$st" | grep -q '"inbound_denied":[1-9]'; }
expect 'status: inbound decisions denied' in_denied
kill $l1 $l2 2>/dev/null
kill -TERM $pid
wait $pid
f=$(cat /tmp/out | tr -d ' ')
expect 'a finding for the dropped connection: ingress, default, port 8081' has "$f" '"direction":"ingress","hook":"ingress","protocol":"tcp","family":4,"address":"127.0.0.1","port":8081'
expect '... by the ingress rule, decided by the default' has "$f" '"reason":"default"'
