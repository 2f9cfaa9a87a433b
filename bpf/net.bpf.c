// SPDX-License-Identifier: GPL-2.0
/*
 * Socket ownership and TCP life cycle, for the flow table (netskb.bpf.c
 * counts the packets). All hooks only observe: the cgroup ones return 1.
 *
 *   cgroup/sock_create    socket cookie -> the creating process (vg_socks)
 *   cgroup/sock_release   drop it (flows already made keep their owner)
 *   cgroup/connect4|6     the socket initiated (VG_FI_CONNECT)
 *   tp_btf/inet_sock_set_state
 *                         listen() records the listener's owner by (netns,
 *                         family, port); a connection cloned from a listener
 *                         (LISTEN -> SYN_RECV) gets the listener's owner and
 *                         VG_FI_ACCEPT; CLOSE marks the flow closed, or refused
 *                         when it never left SYN_SENT.
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
#define VG_SOCK_STREAM 1
#define VG_SOCK_DGRAM 2

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

static __always_inline int sock_record(__u64 cookie, struct vg_proc_key *owner, __u32 init,
				       __u16 family, __u16 proto)
{
	struct vg_scratch *sc = vg_scratch();
	struct vg_sock s = {};

	s.proc = *owner;
	s.created_ns = sc ? vg_now_tick(sc) : 0; /* tick resolution: the clock costs ~100 ns in a VM */
	s.init = init;
	s.family = family;
	s.proto = proto;
	if (bpf_map_update_elem(&vg_socks, &cookie, &s, BPF_ANY)) {
		vg_net_count(VG_NS_SOCK_INSERT_FAIL);
		return -1;
	}
	vg_net_count(VG_NS_SOCK_NEW);
	return 0;
}

SEC("cgroup/sock_create")
int vg_sock_create(struct bpf_sock *sk)
{
	struct vg_proc_key owner;

	if (sk->protocol != VG_IPPROTO_TCP && sk->protocol != VG_IPPROTO_UDP)
		return 1;
	owner_current(&owner);
	sock_record(bpf_get_socket_cookie(sk), &owner, 0, sk->family, sk->protocol);
	return 1;
}

SEC("cgroup/sock_release")
int vg_sock_release(struct bpf_sock *sk)
{
	__u64 cookie = bpf_get_socket_cookie(sk);

	bpf_map_delete_elem(&vg_socks, &cookie);
	return 1;
}

static __always_inline int on_connect(struct bpf_sock_addr *ctx)
{
	__u64 cookie = bpf_get_socket_cookie(ctx);
	struct vg_sock *s = bpf_map_lookup_elem(&vg_socks, &cookie);
	struct vg_proc_key owner;

	if (s) {
		s->init = VG_FI_CONNECT;
		return 1;
	}
	if (ctx->protocol != VG_IPPROTO_TCP && ctx->protocol != VG_IPPROTO_UDP)
		return 1;
	owner_current(&owner); /* a socket older than vigil: the connecting process owns it */
	sock_record(cookie, &owner, VG_FI_CONNECT, ctx->family, ctx->protocol);
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

static __always_inline void listen_key(const struct sock *sk, struct vg_listen_key *lk)
{
	lk->netns = sk->__sk_common.skc_net.net->ns.inum;
	lk->port = sk->__sk_common.skc_num;
	lk->family = sk->__sk_common.skc_family;
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(vg_sock_state, const struct sock *sk, int oldstate, int newstate)
{
	struct vg_listen_key lk = {};
	struct vg_flow_key k = {};
	struct vg_proc_key *owner;
	struct vg_flow *f;
	struct vg_sock *s;
	__u64 cookie;

	/* only listen(), a connection cloned from a listener, and CLOSE matter: the other
	 * transitions (half of a connection's) leave at once */
	if (newstate != VG_TCP_LISTEN && newstate != VG_TCP_CLOSE && oldstate != VG_TCP_LISTEN)
		return 0;
	if (sk->sk_protocol != VG_IPPROTO_TCP)
		return 0;
	cookie = bpf_get_socket_cookie((void *)sk);
	if (newstate == VG_TCP_LISTEN) {
		struct vg_proc_key cur;

		listen_key(sk, &lk);
		s = bpf_map_lookup_elem(&vg_socks, &cookie);
		if (s)
			cur = s->proc;
		else
			owner_current(&cur);
		if (bpf_map_update_elem(&vg_listen, &lk, &cur, BPF_ANY))
			vg_net_count(VG_NS_SOCK_INSERT_FAIL); /* listener table full */
		return 0;
	}
	if (oldstate == VG_TCP_LISTEN) {
		listen_key(sk, &lk);
		if (newstate == VG_TCP_SYN_RECV) { /* a connection cloned from the listener */
			owner = bpf_map_lookup_elem(&vg_listen, &lk);
			if (owner) {
				struct vg_proc_key o = *owner;

				sock_record(cookie, &o, VG_FI_ACCEPT, lk.family, VG_IPPROTO_TCP);
			}
		} else if (newstate == VG_TCP_CLOSE) {
			bpf_map_delete_elem(&vg_listen, &lk);
		}
		return 0;
	}
	if (newstate != VG_TCP_CLOSE)
		return 0;
	sk_flow_key(sk, cookie, &k);
	f = bpf_map_lookup_elem(&vg_flows, &k);
	if (f)
		f->state = oldstate == VG_TCP_SYN_SENT ? VG_FS_REFUSED : VG_FS_CLOSED;
	return 0;
}
