// SPDX-License-Identifier: GPL-2.0
/*
 * Socket ownership and TCP life cycle, for the flow table (netskb.bpf.c
 * counts the packets). All hooks only observe: the cgroup ones return 1.
 *
 *   cgroup/sock_create    the socket's owner: the creating process, in the
 *                         socket's own storage (vg_socks, BPF_MAP_TYPE_SK_STORAGE:
 *                         freed with the socket, no release hook, no table to fill)
 *   cgroup/connect4|6     the socket initiated (VG_FI_CONNECT)
 *   tp_btf/inet_sock_set_state
 *                         LISTEN -> SYN_RECV: a connection being accepted gets its
 *                         record, the listener's owner (left by the ingress program:
 *                         vg_accept_from), VG_FI_ACCEPT;
 *                         listen() gives a socket older than vigil an owner; CLOSE
 *                         adds the packets the socket counted to its flow row and
 *                         marks it closed, or refused when it never left SYN_SENT.
 *   iter/task_file        vg_flow_flush: the same addition for every socket a
 *                         process holds, run by the daemon before it reads the
 *                         flow table.
 *
 * The owner is found by tgid in vg_live (the process table's live index):
 * cgroup programs cannot read the task. A process with no record yet (it
 * predates vigil and the snapshot missed it) is recorded by tgid only and
 * counted (VG_NS_SOCK_NO_OWNER).
 */
#include "lib/common.bpf.h"
#include "lib/net.bpf.h"

#define VG_TCP_ESTABLISHED 1
#define VG_TCP_SYN_SENT 2
#define VG_TCP_SYN_RECV 3
#define VG_TCP_CLOSE 7
#define VG_TCP_LISTEN 10

static __always_inline void owner_current(struct vg_proc_key *k)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct vg_proc_key *live = bpf_map_lookup_elem(&vg_live, &tgid);

	if (live) {
		*k = *live;
		return;
	}
	k->start_ns = 0;
	k->tgid = tgid;
	k->_pad = 0;
	vg_net_count(VG_NS_SOCK_NO_OWNER);
}

/* A socket storage just created (zeroed): the current process owns the socket. */
static __always_inline void sock_fill(struct vg_sock *s, __u16 family, __u16 proto)
{
	owner_current(&s->proc);
	s->family = family;
	s->proto = proto;
	vg_net_count(VG_NS_SOCK_NEW);
}

SEC("cgroup/sock_create")
int vg_sock_create(struct bpf_sock *sk)
{
	struct vg_sock *s;

	if (sk->protocol != VG_IPPROTO_TCP && sk->protocol != VG_IPPROTO_UDP)
		return 1;
	s = bpf_sk_storage_get(&vg_socks, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (!s) {
		vg_net_count(VG_NS_SOCK_INSERT_FAIL); /* no memory for the storage */
		return 1;
	}
	sock_fill(s, sk->family, sk->protocol);
	return 1;
}

static __always_inline int on_connect(struct bpf_sock_addr *ctx)
{
	struct vg_sock *s;

	if (ctx->protocol != VG_IPPROTO_TCP && ctx->protocol != VG_IPPROTO_UDP)
		return 1;
	s = bpf_sk_storage_get(&vg_socks, ctx->sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (!s) {
		vg_net_count(VG_NS_SOCK_INSERT_FAIL);
		return 1;
	}
	if (!s->proto) /* a socket older than vigil: the connecting process owns it */
		sock_fill(s, ctx->family, ctx->protocol);
	s->init = VG_FI_CONNECT;
	return 1;
}

SEC("cgroup/connect4")
int vg_connect4(struct bpf_sock_addr *ctx)
{
	return on_connect(ctx);
}

SEC("cgroup/connect6")
int vg_connect6(struct bpf_sock_addr *ctx)
{
	return on_connect(ctx);
}

/* The flow key of a TCP socket as netskb builds it from its packets. */
static __always_inline void sk_flow_key(const struct sock *sk, __u64 cookie, struct vg_flow_key *k)
{
	const struct sock_common *c = &sk->__sk_common;

	k->cookie = cookie;
	k->proto = VG_IPPROTO_TCP;
	/* skc_num is 0 once the port is released (before CLOSE); inet_sport stays */
	k->lport = bpf_ntohs(BPF_CORE_READ((struct inet_sock *)sk, inet_sport));
	k->rport = bpf_ntohs(c->skc_dport);
	if (c->skc_family == VG_AF_INET) {
		vg_ip_v4(&k->laddr, c->skc_rcv_saddr);
		vg_ip_v4(&k->raddr, c->skc_daddr);
		k->family = 4;
		return;
	}
	__builtin_memcpy(&k->laddr, &c->skc_v6_rcv_saddr, 16);
	__builtin_memcpy(&k->raddr, &c->skc_v6_daddr, 16);
	/* a v6 socket talking to a v4-mapped peer sends IPv4 */
	k->family = (k->raddr.w[0] | k->raddr.w[1]) == 0 && k->raddr.w[2] == bpf_htonl(0xffff) ? 4 : 6;
}

/*
 * A connection being accepted: the kernel just made its socket as a copy of the
 * listener's (its port still the listener's), for the packet the ingress program saw
 * with the listener a moment ago on this CPU (vg_accept_from). Its owner is the
 * listener's. Nothing pending for that port (a listener with no owner record): no
 * record, its flows have no process (VG_NS_SOCK_UNKNOWN), as before vigil.
 */
static __always_inline void accepted(const struct sock *sk)
{
	struct vg_accept_from *a;
	struct vg_sock *s;
	__u32 zero = 0;

	a = bpf_map_lookup_elem(&vg_accept_from, &zero);
	if (!a || !a->lport || a->lport != sk->__sk_common.skc_num)
		return;
	a->lport = 0;
	s = bpf_sk_storage_get(&vg_socks, (struct sock *)sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (!s) {
		vg_net_count(VG_NS_SOCK_INSERT_FAIL);
		return;
	}
	s->proc = a->proc;
	s->family = a->family;
	s->proto = VG_IPPROTO_TCP;
	s->init = VG_FI_ACCEPT;
	vg_net_count(VG_NS_SOCK_NEW);
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(vg_sock_state, const struct sock *sk, int oldstate, int newstate)
{
	struct vg_flow_key k = {};
	struct vg_sock *s;
	struct vg_flow *f;

	/* only listen(), a connection cloned from a listener and CLOSE matter: the other
	 * transitions (half of a connection's) leave at once */
	if (newstate != VG_TCP_LISTEN && newstate != VG_TCP_CLOSE && oldstate != VG_TCP_LISTEN)
		return 0;
	if (sk->sk_protocol != VG_IPPROTO_TCP)
		return 0;
	if (oldstate == VG_TCP_LISTEN) {
		if (newstate == VG_TCP_SYN_RECV)
			accepted(sk);
		return 0;
	}
	if (newstate == VG_TCP_LISTEN) {
		struct vg_sock *s = bpf_sk_storage_get(&vg_socks, (struct sock *)sk, 0,
						       BPF_SK_STORAGE_GET_F_CREATE);

		if (!s) {
			vg_net_count(VG_NS_SOCK_INSERT_FAIL);
			return 0;
		}
		if (!s->proto) /* older than vigil: listen() runs in the owner's context */
			sock_fill(s, sk->__sk_common.skc_family, VG_IPPROTO_TCP);
		s->init = VG_FI_ACCEPT;
		return 0;
	}
	s = bpf_sk_storage_get(&vg_socks, (struct sock *)sk, 0, 0);
	if (s && s->row.cookie) {
		/* its row, as its packets made it; the packets it counted go there now */
		f = vg_sock_sync(s);
	} else {
		sk_flow_key(sk, bpf_get_socket_cookie((void *)sk), &k);
		f = bpf_map_lookup_elem(&vg_flows, &k);
	}
	if (f)
		f->state = oldstate == VG_TCP_SYN_SENT ? VG_FS_REFUSED : VG_FS_CLOSED;
	return 0;
}

/*
 * The packets connected TCP sockets counted in their storage, added to their flow
 * rows: run by the daemon before it reads the flow table, so a query sees every
 * packet of a connection still open. It walks every process's open files (every
 * network namespace's sockets: a socket storage iterator would see only the
 * daemon's); a socket several processes hold is added once (then nothing is left).
 */
SEC("iter/task_file")
int vg_flow_flush(struct bpf_iter__task_file *ctx)
{
	struct file *file = ctx->file;
	struct socket *so;
	struct vg_sock *s;

	if (!file)
		return 0;
	so = bpf_sock_from_file(file);
	if (!so || !so->sk)
		return 0;
	s = bpf_sk_storage_get(&vg_socks, so->sk, 0, 0);
	if (s && s->row.cookie && (s->tx_pkts | s->rx_pkts))
		vg_sock_sync(s);
	return 0;
}
