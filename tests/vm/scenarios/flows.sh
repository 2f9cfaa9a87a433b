# Flow attribution on 6.1 (docs/network.md): a TCP connection's row, keyed by socket cookie,
# is made when it starts — connect()'s caller owns it; an accepted connection's gets its
# listener's owner when the kernel makes its socket (vg_accept_from, left by the ingress
# program for the handshake's last packet), made at ESTABLISHED once the socket has its
# final cookie — so it counts for the listener's process; here the server accepts only
# after the client has exited. Byte counts exact both ends (the kernel's tcp_sock counters).
# vm-timeout: 150
. /vm/guest.sh
need_bin vigil vg_tcppair
export VIGIL_SOCKET=/run/vigil/vm.sock
ip link set lo up

start_vigil
vg_tcppair 9099 54321 >/tmp/pair.out || fail "vg_tcppair"
cat /tmp/pair.out
srv=$(sed -n 's/^server //p' /tmp/pair.out)
cli=$(sed -n 's/^client //p' /tmp/pair.out)
expect 'the server read every byte' grep -q '^got 54321$' /tmp/pair.out
sleep 1
s=$(vigil query flows --pid "$srv" --json | tr -d ' \n')
c=$(vigil query flows --pid "$cli" --json | tr -d ' \n')
echo "server: $s"
echo "client: $c"
has() { echo "$1" | grep -qF "$2"; }
expect "the client's row: connect, 54321 bytes out" has "$c" '"initiator":"connect"'
expect '... 54321 bytes out' has "$c" '"tx_bytes":54321'
# (the listener's own row, remote '*', is "accept" too: the accepted connection's has a peer)
accepted() {
	echo "$s" | grep -q '"remote_port":[0-9]*,"remote_names":\[\],"initiator":"accept","state":"[a-z]*",[^{}]*"tx_bytes":0,"rx_bytes":54321'
}
expect "the accepted socket is the listener's process's: accept, 54321 bytes in" accepted
st=$(vigil status --json | tr -d ' \n')
expect 'every socket got its owner record' has "$st" '"socket_owner_alloc_failed":0'
kill -TERM $pid
wait $pid
