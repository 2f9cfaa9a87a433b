/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Network state shared by the socket/flow programs (net.bpf.c), the skb
 * accounting and DNS programs (netskb.bpf.c) and the network policy: maps
 * (defined once, in maps.bpf.c), counters and the packet header parse.
 */
#ifndef VG_NET_BPF_H
#define VG_NET_BPF_H

#include "lib/common.bpf.h"
#include <bpf/bpf_endian.h>

#define VG_AF_INET 2
#define VG_AF_INET6 10
#define VG_IPPROTO_TCP 6
#define VG_IPPROTO_UDP 17
#define VG_ETH_P_IP 0x0800
#define VG_ETH_P_IPV6 0x86DD
#define VG_SOCK_STREAM 1 /* enum sock_type */
#define VG_SOCK_RAW 3

/*
 * Socket -> owner (vg_sock), in the socket's own storage: created at sock_create for UDP
 * (or at connect for a socket older than vigil) and at listen() for a TCP listener, freed
 * by the kernel with the socket — no delete, no capacity to run out of. Not for TCP
 * connections, which are many and short: a connection's owner is in its flow row, made
 * when it starts (net.bpf.c); a storage allocated and freed per connection cost a connect
 * storm ~7 % of its time, and a separate owner table by cookie (insert, lookup, delete)
 * ~3 µs of programs per connection.
 */
VG_MAP struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct vg_sock);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} vg_socks SEC(".maps");

/*
 * The listener a connection is being accepted from, per CPU. The ingress program runs
 * every packet a listener gets (SYN, final ACK; skb->sk the listener or its request
 * socket) just before the kernel, in the same softirq on the same CPU, makes the
 * connection's socket from it (a copy of the listener: LISTEN -> SYN_RECV in
 * net.bpf.c). That packet leaves the listener's owner here; the new socket claims it
 * when its port is the listener's, and takes it at SYN_RECV -> ESTABLISHED, right after
 * in the same softirq: only then does it have its cookie (the kernel gives the new socket
 * the request socket's after the first state change).
 */
struct vg_accept_from {
	struct vg_proc_key proc;
	__u16 lport; /* host order; 0: nothing pending */
	__u16 _pad[3];
	__u64 child; /* the new socket (its address), from LISTEN -> SYN_RECV to ESTABLISHED */
};
VG_MAP struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vg_accept_from);
} vg_accept_from SEC(".maps");

/*
 * The owner record of a packet's socket (fs: the full socket, NULL: none): a listener's, a
 * UDP or a raw socket's, in its storage. A TCP connection has none: its owner is in its row.
 */
static __always_inline struct vg_sock *vg_pkt_owner(struct bpf_sock *fs, __u8 proto)
{
	if (!fs || (proto == VG_IPPROTO_TCP && fs->state != 10 /* LISTEN */ &&
		    fs->type == VG_SOCK_STREAM))
		return NULL;
	return bpf_sk_storage_get(&vg_socks, fs, 0, 0);
}

/* A TCP connection's row key: its socket cookie (its addresses are in the row: wire). */
static __always_inline void vg_tcp_conn_key(struct vg_flow_key *k, __u64 cookie)
{
	__builtin_memset(k, 0, sizeof(*k));
	k->cookie = cookie;
	k->proto = VG_IPPROTO_TCP;
}

/*
 * Flows: live while their process's record lives (src/net/state.c). An LRU hash, like
 * vg_files: when it is full the least recently used flow makes room — a connection storm
 * must not leave the table refusing every new flow until the old ones age out (the
 * daemon counts those pushed out: flows created - present - removed).
 */
VG_MAP struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, VG_FLOWS_DEFAULT);
	__type(key, struct vg_flow_key);
	__type(value, struct vg_flow);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} vg_flows SEC(".maps");

/* TCP connections' rows, by socket cookie (abi.h: vg_conn). Its length, a power of two, is
 * set at load: vg_conns_mask is that length - 1. */
VG_KNOB(__u32, vg_conns_mask, VG_CONNS_DEFAULT - 1);
VG_MAP struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, VG_CONNS_DEFAULT);
	__uint(map_flags, BPF_F_MMAPABLE); /* the daemon reads it, and gives slots back, in place */
	__type(key, __u32);
	__type(value, struct vg_conn);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} vg_conns SEC(".maps");

/* The slot holding a TCP connection's row (open, or closed and not yet taken again). */
static __always_inline struct vg_conn *vg_conn_find(__u64 cookie)
{
	for (__u32 i = 0; i < VG_CONN_PROBES; i++) {
		__u32 idx = ((__u32)cookie + i) & vg_conns_mask;
		struct vg_conn *c = bpf_map_lookup_elem(&vg_conns, &idx);

		if (c && VG_CONN_COOKIE(c->claim) == cookie)
			return c;
	}
	return NULL;
}

/* A flow's row. A TCP connection's (k: vg_tcp_conn_key) is in its slot, or in the flow hash
 * when it found none free (VG_NS_CONN_FULL) or its packets made it (netskb's flow_new). */
static __always_inline struct vg_flow *vg_flow_row(const struct vg_flow_key *k)
{
	if (!k->family && k->proto == VG_IPPROTO_TCP) {
		struct vg_conn *c = vg_conn_find(k->cookie);

		if (c)
			return &c->f;
	}
	return bpf_map_lookup_elem(&vg_flows, k);
}

/* One packet into a row, last time forward only: each CPU reads the clock at its own
 * first event of a tick, so two CPUs' times for one tick differ (by less than a tick). */
#define VG_COUNT_PKT(r, egress, payload, now)                                                     \
	do {                                                                                       \
		if (egress) {                                                                      \
			__sync_fetch_and_add(&(r)->tx_pkts, 1);                                    \
			__sync_fetch_and_add(&(r)->tx_bytes, (payload));                           \
		} else {                                                                           \
			__sync_fetch_and_add(&(r)->rx_pkts, 1);                                    \
			__sync_fetch_and_add(&(r)->rx_bytes, (payload));                           \
		}                                                                                  \
		if ((now) > (r)->last_ns)                                                          \
			(r)->last_ns = (now);                                                      \
	} while (0)

/* DNS: what each process asked, and which names each address was an answer for. */
VG_MAP struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, VG_DNSQ_DEFAULT);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct vg_dnsq_key);
	__type(value, struct vg_dnsq);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} vg_dnsq SEC(".maps");

VG_MAP struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, VG_DNSA_DEFAULT);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct vg_dnsa_key);
	__type(value, struct vg_dnsa);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} vg_dnsa SEC(".maps");

VG_MAP struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, VG_NS_MAX);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} vg_net_stats SEC(".maps");

/* Counters only the daemon writes (evictions): same slots. */
VG_MAP struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, VG_NS_MAX);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} vg_net_ustats SEC(".maps");

static __always_inline void vg_net_count(enum vg_net_stat s)
{
	__u32 k = s;
	__u64 *v = bpf_map_lookup_elem(&vg_net_stats, &k);

	if (v)
		*v += 1; /* per-CPU slot */
}

/* Per process, the events that can make a shape user space judges (abi.h: vg_shape). */
VG_MAP struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, VG_SHAPES_DEFAULT);
	__type(key, struct vg_proc_key);
	__type(value, struct vg_net_shape);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} vg_net_shape SEC(".maps");

VG_MAP struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, VG_SHAPE_MAX);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} vg_net_due SEC(".maps");

static const struct vg_net_shape vg_shape_zero;

/*
 * A port scan event's destination as vg_net_shape.recent keeps it: a hash of the remote
 * address, port and protocol (never 0: 0 is an empty place). The walk counts destinations
 * by the same three (src/netpolicy).
 */
static __always_inline __u32 vg_shape_dest(const struct vg_ip *raddr, __u16 rport, __u8 proto)
{
	__u64 h = ((__u64)rport << 8 | proto) * 0x9e3779b97f4a7c15ULL;

	for (int i = 0; i < 4; i++)
		h = (h ^ raddr->w[i]) * 0x9e3779b97f4a7c15ULL;
	h ^= h >> 32;
	return (__u32)h ? (__u32)h : 1;
}

/*
 * One event toward a shape by process proc at now (abi.h: vg_shape). since: when the
 * same thing last happened (a name asked before: its question's last time; 0: never) —
 * counted only once per window. dest (VG_SHAPE_SCAN: vg_shape_dest): a destination among
 * the last the window counted is not counted again (VG_NS_SHAPE_REPEAT). Stamps the shape
 * due when the two windows hold enough; a process whose counts cannot be kept stamps it at
 * once (the walk judges). Runs on rare events only: a refusal, a datagram to a new flow, a
 * DNS query.
 */
static __always_inline void vg_shape_event(const struct vg_proc_key *proc, __u32 shape, __u64 now,
					   __u64 since, __u32 dest)
{
	__u64 win = shape == VG_SHAPE_SCAN ? VG_SCAN_WINDOW_NS : VG_MANY_WINDOW_NS;
	__u32 due = shape == VG_SHAPE_SCAN ? VG_SCAN_DUE : VG_MANY_MIN, k = shape;
	struct vg_net_shape *s;
	struct vg_shape_win *w;
	__u64 *stamp;

	if (!proc->tgid) /* no process: no shape */
		return;
	s = bpf_map_lookup_elem(&vg_net_shape, proc);
	if (!s) { /* a zero row from .rodata: no stack for it (the packet programs' is tight) */
		bpf_map_update_elem(&vg_net_shape, proc, &vg_shape_zero, BPF_NOEXIST);
		s = bpf_map_lookup_elem(&vg_net_shape, proc);
	}
	if (s) {
		w = &s->w[shape & 1];
		/* a new window (the first: a fresh row, even within a window of boot): the last one
		 * is the one before */
		if (!w->start || now - w->start >= win) {
			w->prev = now - w->start >= 2 * win ? 0 : w->cur;
			w->cur = 0;
			w->start = now;
			if (shape == VG_SHAPE_SCAN)
				__builtin_memset(s->recent, 0, sizeof(s->recent));
		}
		if (since >= w->start)
			return; /* already counted in this window */
		if (dest) {
			for (int i = 0; i < VG_SCAN_RECENT; i++) {
				if (s->recent[i] == dest) {
					vg_net_count(VG_NS_SHAPE_REPEAT);
					return;
				}
			}
			s->recent[s->next++ & (VG_SCAN_RECENT - 1)] = dest;
		}
		__sync_fetch_and_add(&w->cur, 1);
		if (w->cur + w->prev < due)
			return;
	} else {
		vg_net_count(VG_NS_SHAPE_NO_ROW);
	}
	vg_net_count(VG_NS_SHAPE_DUE);
	stamp = bpf_map_lookup_elem(&vg_net_due, &k);
	if (stamp)
		*stamp = now;
}

/*
 * A port scan event (a refusal, a raw probe, a datagram to a new destination) by process
 * proc, counted for it and for its ancestors as at fork, to VG_SCAN_ANCESTORS generations
 * (vg_procs): a scan spread over processes — a shell loop running a subshell, `nc -z` or
 * `timeout sh -c` per port — has no process with enough events of its own, and its loop's
 * shell gathers them (the walk judges the group: src/netpolicy). Not for init or kthreadd
 * (tgid <= 2), whose children are unrelated services. A subprogram: the packet programs' frames are tight.
 */
static __noinline int vg_shape_scan(const struct vg_proc_key *proc, __u64 now, __u32 dest)
{
	struct vg_proc_key k = *proc; /* a copy: the next generation's key is read into it */

	for (int d = 0; d <= VG_SCAN_ANCESTORS; d++) {
		struct vg_proc *p;

		if (!k.tgid || (d && k.tgid <= 2))
			break;
		vg_shape_event(&k, VG_SHAPE_SCAN, now, 0, dest);
		if (d == VG_SCAN_ANCESTORS)
			break;
		p = bpf_map_lookup_elem(&vg_procs, &k);
		if (!p)
			break;
		k = p->parent;
	}
	return 0;
}

/* IPv4 address (network order) as a v4-mapped vg_ip. */
static __always_inline void vg_ip_v4(struct vg_ip *a, __u32 v4)
{
	a->w[0] = 0;
	a->w[1] = 0;
	a->w[2] = bpf_htonl(0xffff);
	a->w[3] = v4;
}

/* A group address: IPv4 multicast, reserved or broadcast (224.0.0.0 and up), IPv6 multicast
 * (ff00::/8). A datagram to one is answered, if at all, from the members' own addresses. */
static __always_inline bool vg_ip_group(const struct vg_ip *a)
{
	if (a->w[0] == 0 && a->w[1] == 0 && a->w[2] == bpf_htonl(0xffff))
		return (bpf_ntohl(a->w[3]) >> 24) >= 224;
	return (bpf_ntohl(a->w[0]) >> 24) == 0xff;
}

/*
 * The headers of a packet on a cgroup skb hook (the IP header is at offset 0).
 * The addresses go where the caller points saddr and daddr (straight into its
 * flow key: the per-packet programs' stack is the DNS parser's too).
 */
struct vg_pkt {
	struct vg_ip *saddr, *daddr;
	__u16 sport, dport; /* host order */
	__u8 proto;
	__u8 family;  /* 4 or 6 */
	__u8 l3len;   /* IP header length (incl. IPv6 fixed header only) */
	__u8 ttl;     /* IPv4 TTL, IPv6 hop limit */
	__u32 l4off;  /* where the L4 payload starts */
	__u32 payload; /* L4 payload bytes */
};

enum vg_pkt_res { VG_PKT_OK = 0, VG_PKT_SHORT = 1, VG_PKT_OTHER = 2 };

/*
 * Fast path: the headers read in place (direct packet access: no helper call),
 * when they are in the linear part of the skb — nearly always. Returns -1 to
 * fall back to bpf_skb_load_bytes.
 */
static __always_inline int vg_pkt_parse_direct(struct __sk_buff *skb, struct vg_pkt *p)
{
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	__u32 len = skb->len, l3;
	__u8 *l4;

	if (data + 1 > end)
		return -1;
	if (((__u8 *)data)[0] >> 4 == 4) {
		struct iphdr *ip = data;

		if ((void *)(ip + 1) > end)
			return -1;
		p->family = 4;
		p->proto = ip->protocol;
		p->ttl = ip->ttl;
		l3 = ip->ihl * 4;
		vg_ip_v4(p->saddr, ip->saddr);
		vg_ip_v4(p->daddr, ip->daddr);
		if (ip->frag_off & bpf_htons(0x1fff))
			return VG_PKT_OTHER;
	} else if (((__u8 *)data)[0] >> 4 == 6) {
		struct ipv6hdr *ip6 = data;

		if ((void *)(ip6 + 1) > end)
			return -1;
		p->family = 6;
		p->proto = ip6->nexthdr;
		p->ttl = ip6->hop_limit;
		l3 = sizeof(*ip6);
		__builtin_memcpy(p->saddr, &ip6->saddr, 16);
		__builtin_memcpy(p->daddr, &ip6->daddr, 16);
	} else {
		return VG_PKT_OTHER;
	}
	if (l3 < 20 || l3 > 60)
		return -1;
	p->l3len = l3;
	l4 = data + l3;
	if (p->proto == VG_IPPROTO_TCP) {
		if ((void *)(l4 + 20) > end)
			return -1;
		p->sport = (__u16)l4[0] << 8 | l4[1];
		p->dport = (__u16)l4[2] << 8 | l4[3];
		p->l4off = l3 + (l4[12] >> 4) * 4;
	} else if (p->proto == VG_IPPROTO_UDP) {
		if ((void *)(l4 + 8) > end)
			return -1;
		p->sport = (__u16)l4[0] << 8 | l4[1];
		p->dport = (__u16)l4[2] << 8 | l4[3];
		p->l4off = l3 + 8;
	} else {
		return VG_PKT_OTHER;
	}
	p->payload = len > p->l4off ? len - p->l4off : 0;
	return VG_PKT_OK;
}

static __always_inline int vg_pkt_parse(struct __sk_buff *skb, struct vg_pkt *p)
{
	__u8 b0;
	__u32 len = skb->len;
	int r = vg_pkt_parse_direct(skb, p);

	if (r >= 0)
		return r;
	if (bpf_skb_load_bytes(skb, 0, &b0, 1))
		return VG_PKT_SHORT;
	if ((b0 >> 4) == 4) {
		struct iphdr ip;

		if (bpf_skb_load_bytes(skb, 0, &ip, sizeof(ip)))
			return VG_PKT_SHORT;
		p->family = 4;
		p->proto = ip.protocol;
		p->ttl = ip.ttl;
		p->l3len = ip.ihl * 4;
		vg_ip_v4(p->saddr, ip.saddr);
		vg_ip_v4(p->daddr, ip.daddr);
		if (ip.frag_off & bpf_htons(0x1fff))
			return VG_PKT_OTHER; /* a later fragment: no L4 header */
	} else if ((b0 >> 4) == 6) {
		struct ipv6hdr ip6;

		if (bpf_skb_load_bytes(skb, 0, &ip6, sizeof(ip6)))
			return VG_PKT_SHORT;
		p->family = 6;
		p->ttl = ip6.hop_limit;
		p->proto = ip6.nexthdr; /* extension headers: not TCP/UDP here, counted as other */
		p->l3len = sizeof(ip6);
		__builtin_memcpy(p->saddr, &ip6.saddr, 16);
		__builtin_memcpy(p->daddr, &ip6.daddr, 16);
	} else {
		return VG_PKT_OTHER;
	}
	if (p->proto == VG_IPPROTO_TCP) {
		struct {
			__be16 source, dest;
			__be32 seq, ack;
			__u8 doff_res; /* data offset in the high nibble */
			__u8 flags;
		} th;

		if (bpf_skb_load_bytes(skb, p->l3len, &th, sizeof(th)))
			return VG_PKT_SHORT;
		p->sport = bpf_ntohs(th.source);
		p->dport = bpf_ntohs(th.dest);
		p->l4off = p->l3len + (th.doff_res >> 4) * 4;
	} else if (p->proto == VG_IPPROTO_UDP) {
		struct udphdr uh;

		if (bpf_skb_load_bytes(skb, p->l3len, &uh, sizeof(uh)))
			return VG_PKT_SHORT;
		p->sport = bpf_ntohs(uh.source);
		p->dport = bpf_ntohs(uh.dest);
		p->l4off = p->l3len + sizeof(uh);
	} else {
		return VG_PKT_OTHER;
	}
	p->payload = len > p->l4off ? len - p->l4off : 0;
	return VG_PKT_OK;
}

/*
 * The network policy's part of each packet (netpolicy.bpf.c), called by netskb's
 * per-packet programs once they have parsed and counted it: one program per
 * direction and one header parse. pkt packs what the parse found (0: it is not
 * TCP or UDP); the return value is the program's verdict, 1 pass, 0 drop.
 */
#define VG_NP_PKT(l3len, family, proto, sport, dport)                                          \
	(1ULL << 63 | (__u64)(l3len) | (__u64)(family) << 8 | (__u64)(proto) << 16 |              \
	 (__u64)(sport) << 24 | (__u64)(dport) << 40)
#define VG_NP_PKT_UDP(pkt) ((__u32)((pkt) & 0xff)) /* the L4 header's offset */
#define VG_NP_PKT_FAMILY(pkt) ((__u8)((pkt) >> 8))
#define VG_NP_PKT_PROTO(pkt) ((__u8)((pkt) >> 16))
#define VG_NP_PKT_SPORT(pkt) ((__u16)((pkt) >> 24))
#define VG_NP_PKT_DPORT(pkt) ((__u16)((pkt) >> 40))
/* Inbound: a packet for a listener (a connection being made), or a UDP datagram whose flow
 * the socket did not start (not a reply to what it sent): what ingress entries decide. */
#define VG_NP_PKT_INBOUND (1ULL << 56)
/* Raw: a TCP/UDP packet a raw socket built (its flow's initiator raw), on egress: decided by
 * its destination, as connect/sendmsg decide a socket's (no such hook runs for raw sockets). */
#define VG_NP_PKT_RAW (1ULL << 57)
int vg_np_skb_egress(struct __sk_buff *skb, __u64 pkt);
int vg_np_skb_ingress(struct __sk_buff *skb, __u64 pkt);
int vg_np_skb_addr(struct __sk_buff *skb, __u64 pkt);
int vg_np_sock_quarantined(struct __sk_buff *skb);
int vg_np_skb_first_data(struct __sk_buff *skb);
/* 1 while the policy in force decides inbound traffic (ingress entries or default deny): a
 * listener's packets then go through vg_np_skb_addr. */
int vg_np_inbound_on(void);

#endif /* VG_NET_BPF_H */
