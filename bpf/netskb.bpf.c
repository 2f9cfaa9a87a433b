// SPDX-License-Identifier: GPL-2.0
/*
 * Per-packet accounting and DNS, on cgroup_skb/egress and ingress attached at
 * the cgroup v2 root. They observe; the verdict is the network policy's, whose
 * per-packet part (quarantine, DNS names, inbound traffic: a packet for a listener or a
 * datagram that is no reply, VG_NP_PKT_INBOUND; a raw socket's packet out, VG_NP_PKT_RAW)
 * they call once the packet is counted
 * (netpolicy.bpf.c: one program and one header parse per packet and direction).
 *
 * Hot path, every packet while nothing is network-quarantined: a connected TCP socket's
 * packet stops at a few loads from its socket (kernel_counted): the kernel counts the
 * connection (tcp_sock) and its row is made from the socket (net.bpf.c). Any other packet
 * (UDP, a listener's handshake, TCP/53, a closed socket's last packets): the IP and L4
 * headers read in place (direct packet access; bpf_skb_load_bytes when they are
 * not linear — the IP header is at offset 0 on these hooks), one hash lookup of
 * the flow (socket cookie + addresses), atomic adds; a first packet takes the socket's
 * owner (vg_pkt_owner) and inserts the flow. UDP with remote port 53 (and TCP segments holding one
 * whole length-prefixed message) also goes to the DNS parser (lib/dns.bpf.h):
 * queries a process sent (egress) and responses it received (ingress) become
 * vg_dnsq / vg_dnsa state.
 */
#include "lib/common.bpf.h"
#include "lib/net.bpf.h"
#include "lib/dns.bpf.h"
#include "lib/strings.bpf.h"

#define NAME_BUF_MASK (VG_DNS_NAME_BUF - 1)

/* Per-CPU room for DNS records being built: the call chain down to the name
 * parser would not fit the 512-byte stack otherwise. */
struct dns_tmp {
	struct vg_dnsa_key ak;
	struct vg_dnsa a;
	struct vg_dnsq_key qk;
	struct vg_dnsq q;
};
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct dns_tmp);
} vg_dns_tmp SEC(".maps");

static __always_inline struct dns_tmp *dns_tmp(void)
{
	__u32 zero = 0;
	struct dns_tmp *t = bpf_map_lookup_elem(&vg_dns_tmp, &zero);

	if (t)
		__builtin_memset(t, 0, sizeof(*t));
	return t;
}

/* Flow init when the socket's storage doesn't know: the first packet's direction. */
static __always_inline __u32 flow_init(const struct vg_sock *s, __u8 proto, bool egress)
{
	if (s && s->init)
		return s->init;
	if (proto == VG_IPPROTO_TCP)
		return egress ? VG_FI_CONNECT : VG_FI_ACCEPT;
	return egress ? VG_FI_SEND : VG_FI_RECV;
}

#define FLOW_EGRESS 1
#define FLOW_CONN 2 /* a TCP connection's: its row is keyed by cookie */

/* A flow's first packet (k: its addresses; FLOW_CONN: a TCP connection's, whose row was made
 * when it started, so here only when that row is gone): s is its socket's owner record
 * (NULL: none); the packet's TTL is in the scratch area (pkt_ttl). 1 if the row exists. */
static __noinline int flow_new(const struct vg_flow_key *k, __u32 how, const struct vg_sock *s,
			       __u32 payload, __u64 now)
{
	struct vg_scratch *sc = vg_scratch();
	bool egress = how & FLOW_EGRESS;
	/* a datagram or a raw socket's packet sent with a TTL (hop limit) this low: a route probe
	 * (abi.h: VG_FF_TTL_LOW; a TCP connection's row is its socket's, not a packet's) */
	bool ttl_low = egress && !(how & FLOW_CONN) && sc && sc->pkt_ttl <= VG_TTL_PROBE_MAX;
	struct vg_flow f = {}, *e;
	struct vg_flow_key rk;
	int err;

	if (s)
		f.proc = s->proc;
	else
		vg_net_count(VG_NS_SOCK_UNKNOWN);
	f.first_ns = now;
	f.last_ns = now;
	f.init = flow_init(s, k->proto, egress);
	f.wire = *k;
	if (how & FLOW_CONN)
		vg_tcp_conn_key(&rk, k->cookie);
	else
		rk = *k;
	if (egress) {
		f.tx_pkts = 1;
		f.tx_bytes = payload;
	} else {
		f.rx_pkts = 1;
		f.rx_bytes = payload;
	}
	if (ttl_low)
		f.flags = VG_FF_TTL_LOW;
	err = bpf_map_update_elem(&vg_flows, &rk, &f, BPF_NOEXIST);
	if (err == 0) {
		vg_net_count(VG_NS_FLOW_NEW);
		/* toward a port scan: a raw socket's packet to a new destination (a probe, TCP or
		 * UDP), or a datagram the process sent to a new one, which may go unanswered —
		 * not a DNS query, nor to a group address, nor a route probe (traceroute's) */
		if (egress && (f.init == VG_FI_RAW ||
			       (k->proto == VG_IPPROTO_UDP && f.init != VG_FI_RECV &&
				k->rport != VG_DNS_PORT && !ttl_low &&
				!vg_ip_group(&k->raddr))))
			vg_shape_scan(&f.proc, now, vg_shape_dest(&k->raddr, k->rport, k->proto));
		return 1;
	}
	e = err == -17 /* EEXIST: another CPU won */ ? bpf_map_lookup_elem(&vg_flows, &rk) : NULL;
	if (!e) {
		vg_net_count(VG_NS_FLOW_INSERT_FAIL);
		return 0;
	}
	VG_COUNT_PKT(e, egress, payload, now);
	return 1;
}

/* Intern the work area's name buffer `which` (question or CNAME chain) as a string. */
static __always_inline __u64 intern_name(struct vg_scratch *sc, const char *name, __u32 len)
{
	if (len > VG_DNS_NAME_LEN)
		return 0;
	bpf_probe_read_kernel(sc->str.data, (len + 1) & NAME_BUF_MASK, name);
	sc->str.data[vg_idx(len, VG_STR_MAX - 1)] = 0;
	sc->str.h.len = len + 1;
	sc->str.h.flags = 0;
	return vg_intern_scratch();
}
/* A query the process sent. */
static __noinline int dns_query(struct vg_proc_key *proc, __u64 now)
{
	struct vg_dns_work *w = vg_dns_work();
	struct vg_scratch *sc = vg_scratch();
	struct vg_dnsq_key k = {};
	struct vg_dnsq q = {}, *e;
	__u64 since = 0; /* the name asked before (toward the many-subdomains shape) */
	int err;

	if (!w || !sc)
		return 0;
	vg_net_count(VG_NS_DNS_QUERY);
	k.proc = *proc;
	k.name_hash = w->hash;
	k.qtype = w->qtype;
	e = bpf_map_lookup_elem(&vg_dnsq, &k);
	if (e) {
		__sync_fetch_and_add(&e->queries, 1);
		since = e->last_ns;
		e->last_ns = now;
		goto shape;
	}
	q.name = intern_name(sc, w->name, w->name_len & NAME_BUF_MASK);
	if (!q.name)
		vg_net_count(VG_NS_DNS_STR_FAIL);
	q.first_ns = now;
	q.last_ns = now;
	q.queries = 1;
	q.rcode = 0xffff;
	err = bpf_map_update_elem(&vg_dnsq, &k, &q, BPF_NOEXIST);
	if (err == -17) {
		e = bpf_map_lookup_elem(&vg_dnsq, &k);
		if (e)
			__sync_fetch_and_add(&e->queries, 1);
		return 0; /* another CPU's query of it counted */
	} else if (err) {
		vg_net_count(VG_NS_DNS_Q_INSERT_FAIL);
		return 0; /* not in the table: not in the walk either */
	}
shape:
	vg_shape_event(proc, VG_SHAPE_MANY, now, since, 0);
	return 0;
}

/* Append ",target" of the current CNAME to the chain being built in sc->str. */
static __always_inline void chain_add(struct vg_scratch *sc, struct vg_dns_work *w, __u32 *clen)
{
	__u32 at = *clen, n = w->ans.target_len & NAME_BUF_MASK;

	if (at + 1 + n + 1 > VG_STR_CLASS_M)
		return; /* a chain longer than that keeps its first names */
	sc->str.data[vg_idx(at, VG_STR_MAX - 1)] = ',';
	bpf_probe_read_kernel(&sc->str.data[vg_idx(at + 1, 1023)], n, w->ans.target);
	*clen = at + 1 + n;
}

struct ans_ctx {
	struct vg_proc_key proc;
	__u64 now;
	__u64 qname;   /* string id of the question */
	__u64 chain;   /* string id of the chain, interned at the first address after a CNAME */
	__u32 clen;    /* bytes of the chain in sc->str, 0: no CNAME yet */
	__u32 answers; /* A/AAAA */
	int err;
};

static long ans_step(__u32 i, struct ans_ctx *c)
{
	struct vg_dns_work *w = vg_dns_work();
	struct vg_scratch *sc = vg_scratch();
	struct dns_tmp *t;
	struct vg_dnsa *e;
	int r;

	if (!w || !sc)
		return 1;
	r = vg_dns_answer();
	if (r <= 0) {
		c->err = r;
		return 1;
	}
	if (w->ans.type == VG_DNS_T_CNAME) {
		if (!c->clen) {
			__u32 n = w->name_len & NAME_BUF_MASK;

			bpf_probe_read_kernel(sc->str.data, n, w->name);
			c->clen = n;
		}
		chain_add(sc, w, &c->clen);
		c->chain = 0;
		return 0;
	}
	if (w->ans.type != VG_DNS_T_A && w->ans.type != VG_DNS_T_AAAA)
		return 0;
	c->answers++;
	if (c->clen && !c->chain) {
		sc->str.data[vg_idx(c->clen, VG_STR_MAX - 1)] = 0;
		sc->str.h.len = c->clen + 1;
		sc->str.h.flags = 0;
		c->chain = vg_intern_scratch();
		if (!c->chain)
			vg_net_count(VG_NS_DNS_STR_FAIL);
	}
	t = dns_tmp();
	if (!t)
		return 1;
	t->ak.addr = w->ans.addr;
	t->ak.name_hash = w->hash;
	e = bpf_map_lookup_elem(&vg_dnsa, &t->ak);
	if (e) {
		e->last_ns = c->now;
		e->expires_ns = c->now + (__u64)w->ans.ttl * 1000000000ULL;
		e->ttl = w->ans.ttl;
		e->proc = c->proc;
		if (c->chain)
			e->chain = c->chain;
		__sync_fetch_and_add(&e->count, 1);
		return 0;
	}
	t->a.name = c->qname;
	t->a.chain = c->chain;
	t->a.first_ns = c->now;
	t->a.last_ns = c->now;
	t->a.expires_ns = c->now + (__u64)w->ans.ttl * 1000000000ULL;
	t->a.proc = c->proc;
	t->a.ttl = w->ans.ttl;
	t->a.count = 1;
	if (bpf_map_update_elem(&vg_dnsa, &t->ak, &t->a, BPF_ANY))
		vg_net_count(VG_NS_DNS_A_INSERT_FAIL);
	return 0;
}

/* A response the process received: its question entry, and the answers by address. */
static __noinline int dns_response(struct vg_proc_key *proc, __u64 now)
{
	struct vg_dns_work *w = vg_dns_work();
	struct vg_scratch *sc = vg_scratch();
	struct dns_tmp *t = dns_tmp();
	struct vg_dnsq *e;
	struct ans_ctx c = {};

	if (!w || !sc || !t)
		return 0;
	vg_net_count(VG_NS_DNS_RESPONSE);
	t->qk.proc = *proc;
	t->qk.name_hash = w->hash;
	t->qk.qtype = w->qtype;
	e = bpf_map_lookup_elem(&vg_dnsq, &t->qk);
	if (e) {
		c.qname = e->name;
	} else {
		c.qname = intern_name(sc, w->name, w->name_len & NAME_BUF_MASK);
		if (!c.qname)
			vg_net_count(VG_NS_DNS_STR_FAIL);
	}
	c.proc = *proc;
	c.now = now;
	bpf_loop(VG_DNS_ANS_MAX, ans_step, &c, 0);
	if (c.err < 0) {
		if (c.err == -VG_DNSE_TRUNC && w->full_len > w->len)
			vg_net_count(VG_NS_DNS_BIG);
		else
			vg_dns_count_err(c.err);
	} else if (w->ancount > VG_DNS_ANS_MAX) {
		vg_net_count(VG_NS_DNS_BIG);
	}
	if (!e) {
		/* a response without a query seen (the query predates vigil): still the process's */
		t = dns_tmp(); /* the answers used it */
		if (!t)
			return 0;
		t->qk.proc = *proc;
		t->qk.name_hash = w->hash;
		t->qk.qtype = w->qtype;
		t->q.name = c.qname;
		t->q.first_ns = now;
		bpf_map_update_elem(&vg_dnsq, &t->qk, &t->q, BPF_NOEXIST);
		e = bpf_map_lookup_elem(&vg_dnsq, &t->qk);
		if (!e) {
			vg_net_count(VG_NS_DNS_Q_INSERT_FAIL);
			return 0;
		}
	}
	__sync_fetch_and_add(&e->responses, 1);
	e->rcode = w->rcode;
	e->answers = c.answers;
	e->last_ns = now;
	return 0;
}

static __always_inline void dns(struct __sk_buff *skb, const struct vg_flow_key *rk, bool egress,
				__u64 now, __u32 off, __u32 len)
{
	struct vg_dns_work *w;
	struct vg_proc_key proc = {};
	struct vg_flow *f;
	int err;

	err = vg_dns_load(skb, off, len);
	w = vg_dns_work();
	if (!w)
		return;
	if (err) {
		if (err == -VG_DNSE_TRUNC && w->full_len > w->len)
			vg_net_count(VG_NS_DNS_BIG);
		else
			vg_dns_count_err(err);
		return;
	}
	/* Only what a process asked (egress query) and got (ingress response). */
	if (w->response == egress)
		return;
	f = vg_flow_row(rk);
	if (f) {
		proc = f->proc;
	} else { /* the flow did not fit the table: the socket names its owner */
		struct bpf_sock *sk = skb->sk;
		struct vg_sock *s = vg_pkt_owner(sk ? bpf_sk_fullsock(sk) : NULL, rk->proto);

		if (s)
			proc = s->proc;
	}
	if (egress)
		dns_query(&proc, now);
	else
		dns_response(&proc, now);
}

/* A packet a listener gets may make a connection from it: leave the listener's owner for
 * the new socket's record (vg_accept_from). */
static __always_inline void accept_from(struct __sk_buff *skb, __u16 lport)
{
	struct bpf_sock *sk = skb->sk, *l;
	struct vg_accept_from *a;
	struct vg_sock *s;
	__u32 zero = 0;

	a = bpf_map_lookup_elem(&vg_accept_from, &zero);
	if (!a)
		return;
	a->lport = 0;
	if (!sk)
		return;
	l = bpf_get_listener_sock(sk);
	s = l ? bpf_sk_storage_get(&vg_socks, l, 0, 0) : NULL;
	if (!s || !s->proto)
		return;
	a->proc = s->proc;
	a->lport = lport;
}

#define VG_TCP_CLOSE 7
#define VG_TCP_LISTEN 10
#define VG_TCP_SYN 0x02
#define VG_TCP_RST 0x04
#define VG_TCP_ACK 0x10

static __always_inline bool listener(const struct bpf_sock *sk)
{
	return sk && sk->state == VG_TCP_LISTEN;
}

/* A TCP packet's flags (0: not readable). The IP header is at offset 0; an IPv6 header's
 * next one is taken to be TCP's (the callers' packets are a TCP socket's). */
static __always_inline __u8 tcp_flags(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	__u8 b0, fl;
	__u32 l3;

	if (data + 1 <= end)
		b0 = *(__u8 *)data;
	else if (bpf_skb_load_bytes(skb, 0, &b0, 1))
		return 0;
	l3 = (b0 >> 4) == 4 ? (b0 & 0xf) * 4 : (b0 >> 4) == 6 ? 40 : 0;
	if (l3 < 20 || l3 > 60)
		return 0;
	if (data + l3 + 14 <= end)
		fl = *((__u8 *)data + l3 + 13);
	else if (bpf_skb_load_bytes(skb, l3 + 13, &fl, 1))
		return 0;
	return fl;
}

/* A SYN (SYN without ACK: a connection asked for)? */
static __always_inline bool tcp_syn(struct __sk_buff *skb)
{
	return (tcp_flags(skb) & (VG_TCP_SYN | VG_TCP_ACK)) == VG_TCP_SYN;
}

/* One packet with no payload onto a row in its slot (a listener's SYN, a closed socket's
 * reset: found without the header parse), last time forward only. */
static __always_inline void slot_packet(struct vg_conn *c, bool egress, __u64 now)
{
	__sync_fetch_and_add(egress ? &c->f.tx_pkts : &c->f.rx_pkts, 1);
	if (now > c->f.last_ns)
		c->f.last_ns = now;
}


/*
 * The connections a listener was asked for: one flow per listener (remote :: port 0,
 * initiator accept), not one per client — a connection flood makes one entry — counting the
 * SYNs it got (rx); the accepted socket's own flow counts the connection from there on. The
 * hooks run the rest of a handshake with its listener too (a request socket's packet is
 * given to them as its listener's): the SYN-ACK out and the final ACK in are counted nowhere
 * (a connection's two packets less through the table, on the one row every CPU writes), but
 * each packet in leaves the listener's owner for the socket the kernel may make from it
 * (accept_from: the final ACK; a SYN with a fast-open cookie). The row is made at listen()
 * in a slot by the listener's cookie (net.bpf.c), found with a few array probes; a listener
 * older than the daemon (or that found no slot) has its rows in the flow hash, one per
 * local address its SYNs came to. 1: a SYN whose row is not there yet (k: its key).
 */
static __noinline int listener_packet(struct vg_flow_key *k, struct __sk_buff *skb, bool egress,
				      __u64 now)
{
	struct vg_conn *c;
	struct vg_flow *f;

	if (egress)
		return 0;
	accept_from(skb, k->lport);
	if (!tcp_syn(skb))
		return 0;
	c = vg_conn_find(k->cookie);
	if (c) {
		slot_packet(c, false, now);
		return 0;
	}
	__builtin_memset(&k->raddr, 0, sizeof(k->raddr));
	k->rport = 0;
	f = bpf_map_lookup_elem(&vg_flows, k);
	if (!f)
		return 1; /* the caller makes the row (flow_new): a call from here would make the
			   * chain's stack larger than 6.1's 512 bytes */
	__sync_fetch_and_add(&f->rx_pkts, 1);
	if (now > f->last_ns) /* forward only: each CPU's tick time is its own */
		f->last_ns = now;
	return 0;
}

/*
 * A listener's packet in while nothing needs its parse (no quarantine, the policy decides no
 * inbound traffic): listener_packet's work without the header parse. false: the SYN's row is
 * not in a slot (account() takes it to the flow hash).
 */
static __always_inline bool listener_in(struct __sk_buff *skb, struct bpf_sock *sk)
{
	struct vg_conn *c = NULL;

	if (tcp_syn(skb)) {
		c = vg_conn_find(bpf_get_socket_cookie(skb));
		if (!c)
			return false;
	}
	accept_from(skb, sk->src_port);
	if (c)
		slot_packet(c, false, vg_now());
	return true;
}

/*
 * A connected TCP socket's packet (fs: its full socket, or NULL): nothing to count. The
 * kernel counts the connection's bytes and segments (tcp_sock); its row is made from the
 * socket at CLOSE and when the table is read (net.bpf.c). Not a listener's, not DNS over
 * TCP (parsed), nor a closed socket's last packets (a reset after close(): added to the
 * row CLOSE set). The programs ask this before the header parse: when the policy needs
 * no packet (nothing quarantined), such a packet costs a few socket field loads.
 */
static __always_inline bool kernel_counted(struct bpf_sock *fs)
{
	return vg_sock_acct && fs && fs->protocol == VG_IPPROTO_TCP && fs->state != VG_TCP_CLOSE &&
	       fs->state != VG_TCP_LISTEN && fs->dst_port != bpf_htons(VG_DNS_PORT) &&
	       fs->type == VG_SOCK_STREAM /* not a connected raw socket */;
}

static __always_inline bool skb_kernel_counted(struct __sk_buff *skb)
{
	struct bpf_sock *sk = skb->sk;

	return sk && kernel_counted(bpf_sk_fullsock(sk));
}

/*
 * A closed TCP socket's reset out: close() with SO_LINGER 0 or unread data, an abort — the
 * kernel sends it right after the CLOSE state change, whose row brought up to date from the
 * socket (net.bpf.c) so misses it. No payload: one packet more on the connection's row,
 * found in its slot, without the header parse. false: not such a packet, or its row is not
 * in a slot (account() counts it).
 */
static __always_inline bool closed_reset(struct __sk_buff *skb)
{
	struct bpf_sock *sk = skb->sk, *fs;
	struct vg_conn *c;

	if (!sk || sk->state != VG_TCP_CLOSE)
		return false;
	fs = bpf_sk_fullsock(sk);
	if (!fs || fs->protocol != VG_IPPROTO_TCP || fs->type != VG_SOCK_STREAM ||
	    !(tcp_flags(skb) & VG_TCP_RST))
		return false;
	c = vg_conn_find(bpf_get_socket_cookie(skb));
	if (!c)
		return false;
	slot_packet(c, true, vg_now());
	return true;
}

/*
 * A connected TCP socket's first data segment out: the kernel's count of the data segments
 * it sent (incremented before the packet gets here) is this packet's. Its payload goes to the
 * stratum check (vg_np_skb_first_data). A packet too short to hold a payload worth a look (a
 * pure ACK) stops at its length: a download's ACKs don't pay for the socket's counters.
 */
static __always_inline bool first_data(struct __sk_buff *skb)
{
	struct bpf_sock *sk = skb->sk;
	struct bpf_tcp_sock *tp;
	__u32 segs;

	if (skb->len <= VG_NPW_DATA_MIN || !sk)
		return false;
	tp = bpf_tcp_sock(sk);
	if (!tp)
		return false;
	segs = skb->gso_segs ? skb->gso_segs : 1;
	return tp->data_segs_out <= segs;
}

/*
 * DNS over TCP: each message is a 2-byte length and the message, and one may span
 * segments. A segment that starts a message has it parsed from the bytes it holds (a
 * response's question and first answers; what is beyond is counted as larger than the
 * window); the connection's row keeps, per direction, how many bytes of that message are
 * still to come (dns_left), so the segments that carry them are not taken for the start of
 * another. A segment that holds more than one message has its first parsed (counted:
 * VG_NS_DNS_TCP). Segments lost or reordered on the way make it miss a message (or parse
 * garbage, which fails and is counted): the kernel's reassembly is not visible here.
 */
static __always_inline void dns_tcp(struct __sk_buff *skb, const struct vg_flow_key *rk,
				    const struct vg_pkt *p, bool egress, __u64 now)
{
	struct vg_flow *f = vg_flow_row(rk);
	__u32 at = p->l4off, pay = p->payload, len, left;
	__u8 lb[2];

	if (!f) {
		vg_net_count(VG_NS_DNS_TCP);
		return;
	}
	left = f->dns_left[egress ? 0 : 1];
	if (left) { /* the rest of a message begun in an earlier segment */
		if (pay <= left) {
			f->dns_left[egress ? 0 : 1] = left - pay;
			return;
		}
		f->dns_left[egress ? 0 : 1] = 0;
		at += left; /* another message starts after it */
		pay -= left;
	}
	if (pay < 2 + 12 || bpf_skb_load_bytes(skb, at, lb, 2)) {
		vg_net_count(VG_NS_DNS_TCP);
		return;
	}
	len = (__u32)lb[0] << 8 | lb[1];
	if (len + 2 > pay)
		f->dns_left[egress ? 0 : 1] = len + 2 - pay;
	else if (len + 2 < pay)
		vg_net_count(VG_NS_DNS_TCP); /* more messages in this segment: the first is parsed */
	dns(skb, rk, egress, now, at + 2, len);
}

/* Count the packet in its flow (and parse DNS); returns the packet for the policy
 * (VG_NP_PKT, 0 if not TCP/UDP). A subprogram, so that its frame is gone when the
 * policy's part runs: 6.1 allows 512 bytes of stack for a whole call chain, and
 * both the DNS parser's chain here and the policy's are close to it. */
static __noinline __u64 account(struct __sk_buff *skb, bool egress)
{
	struct vg_scratch *sc = vg_scratch();
	struct vg_flow_key k = {}, rk;
	struct vg_pkt p = {};
	struct bpf_sock *sk, *fs = NULL;
	struct vg_flow *f;
	__u64 now, extra; /* VG_NP_PKT_INBOUND or VG_NP_PKT_RAW for the policy */
	__u32 init;
	bool conn;
	int r;

	if (!sc)
		return 0;
	p.saddr = egress ? &k.laddr : &k.raddr;
	p.daddr = egress ? &k.raddr : &k.laddr;
	r = vg_pkt_parse(skb, &p);
	if (r) {
		vg_net_count(r == VG_PKT_SHORT ? VG_NS_PKT_SHORT : VG_NS_PKT_OTHER);
		return 0;
	}
	sc->pkt_ttl = p.ttl; /* for a new flow's row (flow_new) */
	sk = skb->sk;
	if (p.proto == VG_IPPROTO_TCP && sk && sk->state != VG_TCP_LISTEN) {
		fs = bpf_sk_fullsock(sk);
		if (kernel_counted(fs)) /* here only when the policy needs the parse */
			return VG_NP_PKT(p.l3len, p.family, p.proto, p.sport, p.dport);
	}
	k.cookie = bpf_get_socket_cookie(skb);
	k.proto = p.proto;
	k.family = p.family;
	k.lport = egress ? p.sport : p.dport;
	k.rport = egress ? p.dport : p.sport;
	now = vg_now_tick(sc);
	/* A listening socket's packets — SYN, SYN-ACK and the final ACK of connections not
	 * yet accepted (the hooks run those with the listener, not a full socket of their
	 * own) — go to listener_packet at once: a lookup of the per-client key first would
	 * miss every time (a cache miss each). */
	if (p.proto == VG_IPPROTO_TCP && sk && !fs) {
		/* in, for a listener: a connection being made (the ingress policy's) */
		extra = !egress && sk->state == VG_TCP_LISTEN ? VG_NP_PKT_INBOUND : 0;
		if (listener_packet(&k, skb, egress, now)) /* a SYN, the row to make: the listener's
							  * owner's */
			flow_new(&k, 0, vg_pkt_owner(bpf_sk_fullsock(sk), VG_IPPROTO_TCP), 0, now);
		return VG_NP_PKT(p.l3len, p.family, p.proto, p.sport, p.dport) | extra;
	}
	/* A TCP connection's packet (a full stream socket's, not a listener's): its row is keyed
	 * by cookie. Not the kernel's control socket's (raw: a reset for a closed port, an ACK
	 * from TIME_WAIT), whose rows are by peer. */
	conn = fs && fs->type == VG_SOCK_STREAM;
	if (conn)
		vg_tcp_conn_key(&rk, k.cookie);
	else
		rk = k;
	f = vg_flow_row(&rk);
	if (f) {
		VG_COUNT_PKT(f, egress, p.payload, now);
		if (conn && !f->wire.lport) /* without the kernel's counters: addresses from here */
			f->wire = k;
		/* a datagram of a flow the socket did not start: no reply (the ingress policy's);
		 * a raw socket's packet: the egress policy's (the ingress program ignores it) */
		extra = f->init == VG_FI_RAW ? VG_NP_PKT_RAW :
			!egress && p.proto == VG_IPPROTO_UDP && f->init == VG_FI_RECV ?
							    VG_NP_PKT_INBOUND : 0;
	} else {
		/* a flow's first packet: its socket's owner (the storage of a full socket) */
		struct vg_sock *s;

		if (!fs && sk)
			fs = bpf_sk_fullsock(sk);
		s = vg_pkt_owner(fs, p.proto);
		/* before the call, so that only the bit lives across it and the DNS parser's
		 * calls: one value more kept across them grows this frame by 32 bytes, past
		 * 6.1's 512 for the DNS chain */
		init = flow_init(s, p.proto, egress);
		extra = init == VG_FI_RAW ? VG_NP_PKT_RAW :
			!egress && p.proto == VG_IPPROTO_UDP && init == VG_FI_RECV ?
							    VG_NP_PKT_INBOUND : 0;
		flow_new(&k, (egress ? FLOW_EGRESS : 0) | (conn ? FLOW_CONN : 0), s, p.payload,
			 now);
	}
	/* The client's side only: queries it sends, responses it gets (remote port 53). A
	 * local DNS server's side is not parsed (nor double-counted when both ends are here). */
	if (k.rport == VG_DNS_PORT) {
		if (p.proto == VG_IPPROTO_UDP)
			dns(skb, &rk, egress, now, p.l4off, 0);
		else if (conn && p.payload)
			dns_tcp(skb, &rk, &p, egress, now);
	}
	return VG_NP_PKT(p.l3len, p.family, p.proto, p.sport, p.dport) | extra;
}

/*
 * The policy's part is called only for the packets it looks at — on egress every packet
 * once a process has been quarantined, else UDP to port 53; on ingress every packet once a
 * process has been quarantined (its sockets' owner), inbound ones (the ingress entries) and
 * UDP from port 53 (netpolicy.bpf.c) — a call and return of a global function cost every
 * packet otherwise.
 */
SEC("cgroup_skb/egress")
int vg_skb_egress(struct __sk_buff *skb)
{
	bool quarantine = vg_quarantine_any(); /* read once per packet */
	__u64 pkt;

	if (skb_kernel_counted(skb)) {
		if (first_data(skb))
			vg_np_skb_first_data(skb);
		if (!quarantine)
			return 1;
	} else if (!quarantine && (listener(skb->sk) /* a SYN-ACK: see listener_packet */ ||
				   closed_reset(skb))) {
		return 1;
	}
	pkt = account(skb, true);
	/* a raw socket's TCP/UDP packet: decided by its destination (rare) */
	if ((pkt & VG_NP_PKT_RAW) && !vg_np_skb_addr(skb, pkt))
		return 0;
	if (!quarantine &&
	    (VG_NP_PKT_PROTO(pkt) != VG_IPPROTO_UDP || VG_NP_PKT_DPORT(pkt) != VG_DNS_PORT))
		return 1;
	return vg_np_skb_egress(skb, pkt) ? 1 : 0;
}

SEC("cgroup_skb/ingress")
int vg_skb_ingress(struct __sk_buff *skb)
{
	bool quarantine = vg_quarantine_any(); /* read once per packet */
	struct bpf_sock *sk;
	__u64 pkt;

	if (!quarantine && skb_kernel_counted(skb))
		return 1;
	sk = skb->sk;
	if (!quarantine && listener(sk) && !vg_np_inbound_on() && listener_in(skb, sk))
		return 1;
	pkt = account(skb, false);
	/* nothing reaches a network-quarantined process's sockets (its connections, its
	 * listeners, its datagram sockets) */
	if (quarantine && vg_np_sock_quarantined(skb))
		return 0;
	/* a connection to a listener, a datagram that is no reply: the ingress policy's (which
	 * returns at once unless the policy in force has ingress entries or default deny) */
	if ((pkt & VG_NP_PKT_INBOUND) && !vg_np_skb_addr(skb, pkt))
		return 0;
	if (VG_NP_PKT_PROTO(pkt) != VG_IPPROTO_UDP || VG_NP_PKT_SPORT(pkt) != VG_DNS_PORT)
		return 1;
	return vg_np_skb_ingress(skb, pkt) ? 1 : 0;
}
