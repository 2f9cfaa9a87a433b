// SPDX-License-Identifier: GPL-2.0
/*
 * Socket ownership and TCP life cycle, for the flow table (netskb.bpf.c
 * counts UDP packets). All hooks only observe: the cgroup ones return 1.
 *
 *   cgroup/sock_create    a UDP socket's owner: the creating process, in the
 *                         socket's own storage (vg_socks, BPF_MAP_TYPE_SK_STORAGE:
 *                         freed with the socket, no release hook, no table to fill)
 *   cgroup/connect4|6     a UDP socket connected (VG_FI_CONNECT)
 *   tp_btf/inet_sock_set_state
 *                         CLOSE -> SYN_SENT: a connection starts, in the connecting
 *                         process — its flow row is made (conn_start) in a slot of
 *                         vg_conns chosen by socket cookie (abi.h: vg_conn), with its
 *                         owner, initiator and first time;
 *                         LISTEN -> SYN_RECV -> ESTABLISHED: a connection being
 *                         accepted — its row, the listener's owner's (left by the
 *                         ingress program: vg_accept_from);
 *                         listen(): the listener's owner, in its storage, and its row
 *                         in a slot (the SYNs it gets: netskb's listener_packet), its slot
 *                         done when it closes;
 *                         CLOSE: the row brought up to date from the socket (tcp_row:
 *                         the kernel's tcp_sock counters, addresses), closed, or
 *                         refused when it never left SYN_SENT (counted toward the
 *                         process's port scan shape: vg_shape_scan); its slot done.
 *   iter/task_file        vg_flow_flush: the same for every open TCP connection a
 *                         process holds, run by the daemon before it reads the table.
 *
 * A TCP connection thus costs one slot taken and found again per end, and its packets a
 * few loads from the socket: the kernel counts every connection's bytes and segments
 * already (netskb.bpf.c). No socket storage per connection (allocating and freeing one
 * cost a connect storm ~7 % of its time), no owner table (an insert, a lookup and a
 * delete more per end: ~3 µs of programs per loopback connection), no hash insert (the LRU
 * flow hash's cost ~1.1-1.5 µs per end on this project's VM).
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
/* enum sock_flags: SOCK_DONE has been 1 since Linux 2.6 (a CO-RE enum relocation here
 * is refused by libbpf 1.1's linker) */
#define VG_SOCK_DONE 1

static __always_inline void owner_of(__u32 tgid, struct vg_proc_key *k)
{
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

static __always_inline void owner_current(struct vg_proc_key *k)
{
	owner_of(bpf_get_current_pid_tgid() >> 32, k);
}

/* A socket storage just created (zeroed): the current process owns the socket. */
static __always_inline void sock_fill(struct vg_sock *s, __u16 family, __u16 proto)
{
	owner_current(&s->proc);
	s->family = family;
	s->proto = proto;
	vg_net_count(VG_NS_SOCK_NEW);
}

/* UDP sockets, and raw ones (SOCK_RAW: rare; their packets, built by the process, such
 * as a SYN scan's probes, are its own: initiator raw) */
SEC("cgroup/sock_create")
int vg_sock_create(struct bpf_sock *sk)
{
	bool raw = sk->type == VG_SOCK_RAW;
	struct vg_sock *s;

	if (sk->protocol != VG_IPPROTO_UDP && !raw)
		return 1;
	s = bpf_sk_storage_get(&vg_socks, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (!s) {
		vg_net_count(VG_NS_SOCK_INSERT_FAIL); /* no memory for the storage */
		return 1;
	}
	sock_fill(s, sk->family, sk->protocol);
	if (raw)
		s->init = VG_FI_RAW;
	return 1;
}

static __always_inline int on_connect(struct bpf_sock_addr *ctx)
{
	struct vg_sock *s;

	if (ctx->protocol != VG_IPPROTO_UDP) /* TCP: CLOSE -> SYN_SENT below */
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

/* The flow key of a TCP socket as netskb builds it from its packets (tp: the socket as a
 * tcp_sock, bpf_skc_to_tcp_sock: a typed load, not a probe read; NULL if it is not one). */
static __always_inline void sk_flow_key(const struct sock *sk, const struct tcp_sock *tp,
					__u64 cookie, struct vg_flow_key *k)
{
	const struct sock_common *c = &sk->__sk_common;

	k->cookie = cookie;
	k->proto = VG_IPPROTO_TCP;
	/* skc_num is 0 once the port is released (before CLOSE); inet_sport stays */
	k->lport = bpf_ntohs(tp ? tp->inet_conn.icsk_inet.inet_sport :
				  BPF_CORE_READ((struct inet_sock *)sk, inet_sport));
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
 * A slot for a TCP connection starting (abi.h: vg_conn), in one pass over its probe slots:
 * the one its socket's earlier connection left (a socket that connects again after a
 * disconnect keeps its cookie: the new connection takes the row over), else a free one, else
 * the done one whose row is oldest (cookies come in per-CPU batches, so another CPU's
 * connections can land on slots a newer row holds: the oldest of the probes goes first).
 * NULL: every one is open, or another CPU took the chosen one first (VG_NS_CONN_FULL: the
 * caller uses the flow hash).
 */
static __always_inline struct vg_conn *conn_claim(__u64 cookie, const bool slots)
{
	__u64 mine = VG_CONN_CLAIM(cookie, VG_CONN_OPEN), was, free_was = 0, free_last = 0;
	struct vg_conn *c, *free = NULL;

	if (!slots)
		return NULL;
	for (__u32 i = 0; i < VG_CONN_PROBES; i++) {
		__u32 idx = ((__u32)cookie + i) & vg_conns_mask;

		c = bpf_map_lookup_elem(&vg_conns, &idx);
		if (!c)
			continue;
		was = c->claim;
		if (VG_CONN_COOKIE(was) == cookie) {
			if (was == mine || __sync_val_compare_and_swap(&c->claim, was, mine) == was)
				return c;
		} else if (VG_CONN_STATE(was) != VG_CONN_OPEN) {
			__u64 last = VG_CONN_STATE(was) == VG_CONN_FREE ? 0 : c->f.last_ns;

			if (!free || last < free_last) {
				free = c;
				free_was = was;
				free_last = last;
			}
		}
	}
	if (free && __sync_val_compare_and_swap(&free->claim, free_was, mine) == free_was) {
		if (VG_CONN_STATE(free_was) == VG_CONN_DONE)
			vg_net_count(VG_NS_CONN_REUSED);
		return free;
	}
	vg_net_count(VG_NS_CONN_FULL);
	return NULL;
}

/* A connection's slot given back at CLOSE, its final row in it (unless the daemon took the
 * slot back meanwhile: its owner's record was gone). */
static __always_inline void conn_done(struct vg_conn *c, __u64 cookie, const bool slots)
{
	if (slots)
		__sync_val_compare_and_swap(&c->claim, VG_CONN_CLAIM(cookie, VG_CONN_OPEN),
					    VG_CONN_CLAIM(cookie, VG_CONN_DONE));
}

/*
 * A TCP socket's row, made in place in a slot by its cookie, else in the flow hash (key: the
 * cookie): a connection starting (conn_start), or a listener (listener: any remote; the SYNs
 * it gets are counted on it by netskb's listener_packet, which finds it in its slot with a
 * few array probes instead of a hash of the packet's addresses. No slot: no row here, its
 * packets make it in the flow hash as for a listener older than the daemon).
 */
static __always_inline void conn_row(const struct sock *sk, const struct vg_proc_key *proc,
				     __u32 init, const bool slots, const bool listener)
{
	__u64 cookie = bpf_get_socket_cookie((void *)sk);
	struct vg_conn *c = conn_claim(cookie, slots);
	struct tcp_sock *tp = bpf_skc_to_tcp_sock((void *)sk);
	struct vg_flow nf = {}, *f;
	struct vg_flow_key k;
	int err;

	if (c) {
		f = &c->f;
		__builtin_memset(f, 0, sizeof(*f));
		f->proc = *proc;
		f->init = init;
		f->first_ns = vg_now();
		f->last_ns = f->first_ns;
		sk_flow_key(sk, tp, cookie, &f->wire);
		if (!listener) {
			vg_net_count(VG_NS_SOCK_NEW);
			return;
		}
		__builtin_memset(&f->wire.raddr, 0, sizeof(f->wire.raddr));
		f->wire.rport = 0;
		return;
	}
	if (listener)
		return;
	vg_tcp_conn_key(&k, cookie);
	nf.proc = *proc;
	nf.init = init;
	nf.first_ns = vg_now();
	nf.last_ns = nf.first_ns;
	nf.state = VG_FS_OPEN;
	sk_flow_key(sk, tp, cookie, &nf.wire);
	err = bpf_map_update_elem(&vg_flows, &k, &nf, BPF_NOEXIST);
	if (err == 0) {
		vg_net_count(VG_NS_FLOW_NEW);
		vg_net_count(VG_NS_SOCK_NEW);
		return;
	}
	f = err == -17 /* EEXIST */ ? bpf_map_lookup_elem(&vg_flows, &k) : NULL;
	if (!f) {
		vg_net_count(VG_NS_FLOW_INSERT_FAIL);
		return;
	}
	*f = nf;
	vg_net_count(VG_NS_SOCK_NEW);
}

static __always_inline void conn_start(const struct sock *sk, const struct vg_proc_key *proc,
				       __u32 init, const bool slots)
{
	conn_row(sk, proc, init, slots, false);
}

/* A listener closed: its row's slot given back (its row, made at listen(), stays until the
 * daemon's retention takes it). */
static __always_inline void listener_done(const struct sock *sk, const bool slots)
{
	__u64 cookie = bpf_get_socket_cookie((void *)sk);
	struct vg_conn *c = vg_conn_find(cookie);

	if (!c)
		return;
	c->f.state = VG_FS_CLOSED;
	conn_done(c, cookie, slots);
}

/*
 * A connection being accepted: the kernel just made its socket as a copy of the
 * listener's (its port still the listener's), for the packet the ingress program saw
 * with the listener a moment ago on this CPU (vg_accept_from). Its owner is the
 * listener's; the socket claims the slot here and takes it at ESTABLISHED (accepted_est),
 * when it has its own cookie: here it still has a fresh one that the kernel replaces with
 * its request socket's right after this state change. Nothing pending for that port (a
 * listener with no owner record): no owner, its row has no process
 * (VG_NS_SOCK_UNKNOWN), as before vigil.
 */
static __always_inline void accepted(const struct sock *sk)
{
	struct vg_accept_from *a;
	__u32 zero = 0;

	a = bpf_map_lookup_elem(&vg_accept_from, &zero);
	if (!a || !a->lport || a->lport != sk->__sk_common.skc_num)
		return;
	a->lport = 0;
	a->child = (__u64)sk;
}

static __always_inline void accepted_est(const struct sock *sk, const bool slots)
{
	struct vg_accept_from *a;
	__u32 zero = 0;

	a = bpf_map_lookup_elem(&vg_accept_from, &zero);
	if (!a || a->child != (__u64)sk)
		return;
	a->child = 0;
	conn_start(sk, &a->proc, VG_FI_ACCEPT, slots);
}

/*
 * The kernel's counts of a TCP connection (tcp_sock; cumulative, so setting them again
 * later is harmless): payload bytes each way — a FIN received takes a sequence number,
 * which bytes_received counts (tcp_fin() sets SOCK_DONE; a reset does not, and
 * tcp_disconnect() clears it) — segments each way as the stack counts them (a GSO packet
 * is its segments), and the time of the last segment either way (exact: the kernel's,
 * while now is the tick's, vg_now_mono_off).
 */
static __always_inline const struct tcp_sock *tcp_counts(const struct sock *sk,
							struct vg_flow *c, __u64 now,
							__u64 mono_off)
{
	struct tcp_sock *tp = bpf_skc_to_tcp_sock((void *)sk); /* typed loads, no helper each */
	__u64 rx, last;

	if (!tp) {
		c->last_ns = now;
		return NULL;
	}
	c->tx_bytes = tp->bytes_sent;
	rx = tp->bytes_received;
	c->tx_pkts = tp->segs_out;
	c->rx_pkts = tp->segs_in;
	if (rx && (sk->__sk_common.skc_flags & (1UL << VG_SOCK_DONE)))
		rx--;
	c->rx_bytes = rx;
	/* tcp_mstamp: CLOCK_MONOTONIC in µs; rows are CLOCK_BOOTTIME */
	last = tp->tcp_mstamp * 1000 + mono_off;
	if (last > c->last_ns)
		c->last_ns = last;
	return tp;
}

/* A row brought up to date from its socket: counts, addresses, state. */
static __always_inline void tcp_refresh(const struct sock *sk, __u64 cookie, struct vg_flow *f,
					__u64 now, __u64 mono_off, __u32 state)
{
	sk_flow_key(sk, tcp_counts(sk, f, now, mono_off), cookie, &f->wire);
	f->state = state;
}

/*
 * A TCP connection's row (its slot, or in the flow hash) brought up to date from its
 * socket: the kernel's counts (tcp_counts), its addresses and its state. A row that is
 * missing — its slot taken back with its exited owner's record while another process
 * holds the socket, or of a connection older than the daemon — is made again with the whole
 * connection's counts, owned by the process holder (a tgid; 0: no owner, counted). A
 * socket that never had a local port sent nothing: its row says so (lport 0). Returns the
 * row it found (NULL: made here, or none); *slot: the row's slot (NULL: in the flow hash).
 */
static __always_inline struct vg_flow *tcp_row(const struct sock *sk, __u64 cookie, __u32 holder,
					       __u32 state, struct vg_conn **slot, const bool slots)
{
	__u64 mono_off, now = vg_now_mono_off(&mono_off);
	struct vg_conn *c = vg_conn_find(cookie);
	struct vg_flow_key k;
	struct vg_flow nf = {}, *f;
	int err;

	*slot = c;
	if (c) {
		tcp_refresh(sk, cookie, &c->f, now, mono_off, state);
		return &c->f;
	}
	vg_tcp_conn_key(&k, cookie);
	f = bpf_map_lookup_elem(&vg_flows, &k);
	if (f) {
		tcp_refresh(sk, cookie, f, now, mono_off, state);
		return f;
	}
	c = conn_claim(cookie, slots);
	f = c ? &c->f : &nf;
	if (c)
		__builtin_memset(f, 0, sizeof(*f));
	/* the owner before the cookie (tcp_refresh): a reader takes a slot whose cookie is
	 * written for a row whose owner is (vg_flows_load, the daemon's GC) */
	if (holder)
		owner_of(holder, &f->proc);
	tcp_refresh(sk, cookie, f, now, mono_off, state);
	f->first_ns = f->last_ns;
	if (c) {
		*slot = c;
		if (!holder)
			vg_net_count(VG_NS_SOCK_UNKNOWN);
		return NULL;
	}
	err = bpf_map_update_elem(&vg_flows, &k, &nf, BPF_NOEXIST);
	if (err == 0) {
		vg_net_count(VG_NS_FLOW_NEW);
		if (!holder)
			vg_net_count(VG_NS_SOCK_UNKNOWN);
		return NULL;
	}
	f = err == -17 /* EEXIST: made meanwhile on another CPU */ ? bpf_map_lookup_elem(&vg_flows, &k)
								 : NULL;
	if (!f) {
		vg_net_count(VG_NS_FLOW_INSERT_FAIL);
		return NULL;
	}
	tcp_refresh(sk, cookie, f, now, mono_off, state);
	return f;
}

/* slots: this kernel has compare-and-exchange (Linux >= 5.12): connections take slots
 * (conn_claim). Without, their rows go to the flow hash. A constant in each of the two
 * programs below, so that the other has no such instruction: an older verifier refuses one
 * wherever it is, even where it cannot run. The daemon loads one of them. */
static __always_inline int sock_state(const struct sock *sk, int oldstate, int newstate,
				      const bool slots)
{
	__u32 state = oldstate == VG_TCP_SYN_SENT ? VG_FS_REFUSED : VG_FS_CLOSED;
	struct vg_conn *slot = NULL;
	struct vg_flow_key k;
	struct vg_proc_key me;
	struct vg_flow *f;
	__u64 cookie;

	/* only a connection's start (connect(), or cloned from a listener, then established),
	 * listen() and CLOSE matter: the other transitions leave at once */
	if (newstate != VG_TCP_SYN_SENT && newstate != VG_TCP_LISTEN && newstate != VG_TCP_CLOSE &&
	    oldstate != VG_TCP_LISTEN &&
	    (oldstate != VG_TCP_SYN_RECV || newstate != VG_TCP_ESTABLISHED))
		return 0;
	if (sk->sk_protocol != VG_IPPROTO_TCP)
		return 0;
	if (oldstate == VG_TCP_SYN_RECV && newstate == VG_TCP_ESTABLISHED) {
		accepted_est(sk, slots);
		return 0;
	}
	if (oldstate == VG_TCP_LISTEN) {
		if (newstate == VG_TCP_SYN_RECV)
			accepted(sk);
		else if (newstate == VG_TCP_CLOSE)
			listener_done(sk, slots);
		return 0;
	}
	if (newstate == VG_TCP_SYN_SENT) { /* in connect(): the caller owns the connection */
		owner_current(&me);
		conn_start(sk, &me, VG_FI_CONNECT, slots);
		return 0;
	}
	if (newstate == VG_TCP_LISTEN) {
		struct vg_sock *s = bpf_sk_storage_get(&vg_socks, (struct sock *)sk, 0,
						       BPF_SK_STORAGE_GET_F_CREATE);

		if (!s) {
			vg_net_count(VG_NS_SOCK_INSERT_FAIL);
			return 0;
		}
		if (!s->proto) /* listen() runs in the owner's context */
			sock_fill(s, sk->__sk_common.skc_family, VG_IPPROTO_TCP);
		s->init = VG_FI_ACCEPT;
		conn_row(sk, &s->proc, VG_FI_ACCEPT, slots, true);
		return 0;
	}
	/* CLOSE */
	cookie = bpf_get_socket_cookie((void *)sk);
	if (vg_sock_acct) {
		f = tcp_row(sk, cookie, 0, state, &slot, slots);
	} else { /* the packets counted the row (netskb.bpf.c) */
		slot = vg_conn_find(cookie);
		vg_tcp_conn_key(&k, cookie);
		f = slot ? &slot->f : bpf_map_lookup_elem(&vg_flows, &k);
		if (f) {
			sk_flow_key(sk, bpf_skc_to_tcp_sock((void *)sk), cookie, &f->wire);
			f->state = state;
		}
	}
	if (slot)
		conn_done(slot, cookie, slots);
	/* a connection refused (or never answered): toward a port scan's shape */
	if (f && state == VG_FS_REFUSED && f->init == VG_FI_CONNECT)
		vg_shape_scan(&f->proc, bpf_ktime_get_boot_ns(),
			      vg_shape_dest(&f->wire.raddr, f->wire.rport, VG_IPPROTO_TCP));
	return 0;
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(vg_sock_state, const struct sock *sk, int oldstate, int newstate)
{
	return sock_state(sk, oldstate, newstate, true);
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(vg_sock_state_hash, const struct sock *sk, int oldstate, int newstate)
{
	return sock_state(sk, oldstate, newstate, false);
}

/*
 * The rows of every open TCP connection, made or brought up to date from their sockets
 * (tcp_row): run by the daemon before it reads the flow table, so a query sees a
 * connection still open, exact. It walks every process's open files (every network
 * namespace's sockets: a socket storage iterator would see only the daemon's). A
 * connection without a row (older than the daemon, or its row gone) gets one owned by the
 * process holding it, which the row keeps to CLOSE. A closed socket's row is final (CLOSE
 * made it); a listener has no connection.
 */
static __always_inline int flow_flush(struct bpf_iter__task_file *ctx, const bool slots)
{
	struct file *file = ctx->file;
	struct task_struct *task = ctx->task;
	struct vg_conn *slot;
	struct socket *so;
	struct sock *sk;
	int st;

	if (!file || !task)
		return 0;
	so = bpf_sock_from_file(file);
	if (!so)
		return 0;
	sk = so->sk;
	if (!sk || sk->sk_protocol != VG_IPPROTO_TCP)
		return 0;
	st = sk->__sk_common.skc_state;
	if (st == VG_TCP_LISTEN || st == VG_TCP_CLOSE)
		return 0;
	tcp_row(sk, bpf_get_socket_cookie(sk), task->tgid, VG_FS_OPEN, &slot, slots);
	return 0;
}

SEC("iter/task_file")
int vg_flow_flush(struct bpf_iter__task_file *ctx)
{
	return flow_flush(ctx, true);
}

SEC("iter/task_file")
int vg_flow_flush_hash(struct bpf_iter__task_file *ctx)
{
	return flow_flush(ctx, false);
}
