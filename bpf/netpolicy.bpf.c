// SPDX-License-Identifier: GPL-2.0
/*
 * Network policy, enforced synchronously at the cgroup v2 root:
 *   cgroup/connect4|6, cgroup/sendmsg4|6  return 0 (the caller gets EPERM) for
 *                                         a denied destination;
 *   cgroup_skb/egress                     drops DNS queries for denied names and
 *                                         every packet of a quarantined process's
 *                                         sockets;
 *   cgroup_skb/ingress                    learns the addresses of DNS answers for
 *                                         matched names (deny or allow) for their TTL;
 *                                         drops inbound traffic the ingress entries
 *                                         deny: a connection's packets to a listener
 *                                         (its SYN: the peer never gets an answer), a
 *                                         datagram that is no reply; and every packet
 *                                         for a quarantined process's sockets.
 * The cgroup_skb parts are global functions netskb.bpf.c's per-packet programs
 * call once they have counted the packet (vg_np_skb_egress, vg_np_skb_ingress,
 * vg_np_skb_addr: inbound packets, and raw sockets' packets out, which no connect/sendmsg
 * hook sees).
 * In audit mode the same decisions are taken and reported, nothing is refused.
 * Each refusal (or audit hit) sends one vg_np_msg, at most one per second per
 * (process, entry, destination); every decision is counted in vg_np_stats.
 * Maps and the decision: lib/netpolicy.bpf.h.
 */
#include <bpf/bpf_endian.h>
#include "lib/net.bpf.h"
#include "lib/netpolicy.bpf.h"

#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD
#define IPPROTO_UDP_ 17
#define IPPROTO_TCP_ 6
#define DNS_PORT 53
#define DNS_ANSWERS_MAX 12 /* answer records walked per response */
#define DNS_TTL_MIN 2      /* seconds: a TTL-0 answer still covers the connect that follows */

static __always_inline void np_v4mapped(struct vg_np_lpm_key *k, __u32 ip4)
{
	__builtin_memset(k->addr, 0, 10);
	k->addr[10] = 0xff;
	k->addr[11] = 0xff;
	__builtin_memcpy(&k->addr[12], &ip4, 4);
}

static __always_inline __u64 np_addr_hash(const struct vg_np_lpm_key *k, __u16 port)
{
	__u64 a, b;

	__builtin_memcpy(&a, k->addr, 8);
	__builtin_memcpy(&b, &k->addr[8], 8);
	return (a * 0x9e3779b97f4a7c15ULL) ^ b ^ ((__u64)port << 48);
}

static __always_inline void np_msg_fill(struct vg_np_scratch *sc, const struct np_actor *a,
					__u8 hook, const struct np_decision *d, __u8 blocked,
					__u32 gen)
{
	struct vg_np_msg *m = &sc->msg;

	m->proc = a->key;
	m->uid = a->uid;
	m->hook = hook;
	m->reason = d->reason;
	m->blocked = blocked;
	m->gen = gen;
	m->entry = d->entry;
	m->name_hash = d->name_hash;
	/* name_len: set by the caller (np_msg_name, or 0) */
}

/* Store the socket's owner: the egress and ingress hooks run where "current" may be anybody. */
static __always_inline struct vg_np_owner *np_own(struct bpf_sock *sk, const struct np_actor *a)
{
	struct vg_np_owner *o;

	if (!sk || !a->key.tgid)
		return NULL;
	o = bpf_sk_storage_get(&vg_np_skowner, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (o && o->key.tgid != a->key.tgid) {
		o->key = a->key;
		o->pol = 0;
	}
	return o;
}

/* Send a built-in detection's candidate (rate-limited like the decisions). */
static __always_inline void np_watch_send(struct vg_np_scratch *sc, const struct np_actor *a,
					  __u8 hook, __u32 watch, __u64 dest)
{
	struct np_decision d = { .entry = watch, .reason = VG_NPR_WATCH };

	np_count(VG_NPS_WATCH);
	if (!np_rate_ok(a->tgid, watch | VG_NP_SUB, dest, &sc->msg.suppressed))
		return;
	np_msg_fill(sc, a, hook, &d, 0, 0);
	np_send(sc);
}

/*
 * The hash of a name's parent domain, its last two labels (n: the name's labels; the
 * domain hash of vg_np_domain_hash): the tunnelling shape's candidates are rate-limited per
 * process and parent domain — a tunnel asks a new name every time, so a limit per name
 * (its first label's hash, before) held none back: 1,680 candidates for 300 KB through
 * iodine. The caller adds the longest label's length to the key: a candidate of another
 * shape under the same parent (a long but plain label, then an encoded one) is not held
 * back by the first, which user space may judge benign; a tunnel's labels have a few
 * lengths.
 */
static __always_inline __u64 np_parent_hash(const struct vg_np_scratch *sc, int n)
{
	__u64 h = vg_dom_fold(VG_DOM_INIT, sc->lh[vg_idx(n - 1, VG_NP_LABELS - 1)]);

	return n >= 2 ? vg_dom_fold(h, sc->lh[vg_idx(n - 2, VG_NP_LABELS - 1)]) : h;
}

/* Cloud metadata endpoint, stratum ports: candidates for user space (which knows
 * the expected processes). Decided before any policy, with or without one. The
 * destination is in sc->key (v4-mapped for IPv4). The caller's process is looked
 * up here if it wasn't yet (a->tgid 0). */
static __always_inline void np_watch_addr(struct vg_np_scratch *sc, struct np_actor *a,
					  __u8 hook, __u8 proto, __u16 port, bool v6)
{
	static const __u8 md4[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 169, 254, 169, 254 };
	static const __u8 md6[16] = { 0xfd, 0, 0x0e, 0xc2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, 0x54 };
	__u64 k0, k1, a0, a1, b0, b1;
	__u32 watch = 0;

	__builtin_memcpy(&k0, &sc->key.addr[0], 8);
	__builtin_memcpy(&k1, &sc->key.addr[8], 8);
	__builtin_memcpy(&a0, &md4[0], 8);
	__builtin_memcpy(&a1, &md4[8], 8);
	__builtin_memcpy(&b0, &md6[0], 8);
	__builtin_memcpy(&b1, &md6[8], 8);
	if ((k0 == a0 && k1 == a1) || (k0 == b0 && k1 == b1))
		watch = VG_NPW_METADATA;
	else if (proto == IPPROTO_TCP_ &&
		 (port == 3333 || port == 4444 || port == 5555 || port == 7777 || port == 14444 ||
		  port == 14433 || port == 45700))
		watch = VG_NPW_STRATUM;
	if (!watch)
		return;
	sc->msg.family = v6 ? 6 : 4;
	sc->msg.proto = proto;
	sc->msg.port = port;
	sc->msg.name_len = 0;
	__builtin_memcpy(sc->msg.addr, sc->key.addr, 16);
	if (!a->tgid) {
		np_actor_current(a);
		a->skb = NULL;
	}
	np_watch_send(sc, a, hook, watch, port);
}

/* A RuntimePolicy kill/freeze entry refused this thread's connect/sendmsg: the
 * signal it takes at the syscall's exit (a cgroup sock_addr program can't send
 * one), vg_np_pol_exit below. */
struct np_pending {
	__u64 time_ns;
	__u32 sig;
	__u32 _pad;
};
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32); /* tid */
	__type(value, struct np_pending);
} vg_np_pending SEC(".maps");

#define NP_SIGKILL 9
#define NP_SIGSTOP 19

__u64 vg_pol_target_gen(__u64 cand, __u32 gen); /* enforce.bpf.c */

/* Report a decision on an address (rate-limited); the destination is in sc->key. */
static __always_inline void np_report_addr(struct vg_np_scratch *sc, const struct np_actor *a,
					   __u8 hook, const struct np_decision *d, __u8 blocked,
					   __u32 gen, bool v6, __u8 proto, __u16 port)
{
	if (!np_rate_ok(a->tgid, d->entry, np_addr_hash(&sc->key, port), &sc->msg.suppressed))
		return;
	np_msg_fill(sc, a, hook, d, blocked, gen);
	sc->msg.family = v6 ? 6 : 4;
	sc->msg.proto = proto;
	sc->msg.port = port;
	sc->msg.name_len = 0;
	__builtin_memcpy(sc->msg.addr, sc->key.addr, 16);
	np_send(sc);
}

static __always_inline int np_sock_addr(struct bpf_sock_addr *ctx, __u8 hook, bool v6)
{
	struct vg_np_scratch *sc = np_scratch();
	struct vg_np_owner *own = NULL;
	struct np_decision d = {};
	struct np_actor a = {}; /* tgid 0: the process not looked up yet (no process is pid 0) */
	struct np_gen g;
	__u16 port;
	__u8 proto;
	bool enforce;

	if (!sc)
		return 1;
	/* every ctx field read once, up front (the verifier wants plain ctx loads) */
	port = bpf_ntohs((__u16)ctx->user_port);
	proto = ctx->protocol;
	if (v6) {
		/* one load per word: the verifier refuses a ctx pointer moved by a loop */
		__u32 w0 = ctx->user_ip6[0], w1 = ctx->user_ip6[1];
		__u32 w2 = ctx->user_ip6[2], w3 = ctx->user_ip6[3];

		__builtin_memcpy(&sc->key.addr[0], &w0, 4);
		__builtin_memcpy(&sc->key.addr[4], &w1, 4);
		__builtin_memcpy(&sc->key.addr[8], &w2, 4);
		__builtin_memcpy(&sc->key.addr[12], &w3, 4);
	} else {
		np_v4mapped(&sc->key, ctx->user_ip4);
	}
	/* The process (two hash lookups) only when something needs it: a DNS socket, a
	 * quarantine in force, a watched address, a policy — a connect storm with none
	 * of them doesn't pay for it. */
	if (port == DNS_PORT || vg_quarantine_any()) {
		np_actor_current(&a);
		a.skb = NULL;
	}
	/* DNS sockets: their answers arrive in softirq context, where only the socket
	 * tells whose they are (the other sockets don't pay for the storage) */
	if (port == DNS_PORT)
		own = np_own(ctx->sk, &a);
	if (a.tgid && np_quarantined(&a)) {
		np_count(VG_NPS_QUARANTINE);
		d.reason = VG_NPR_QUARANTINE;
		d.verdict = VG_NP_DENY;
		if (!np_gen_get(&g))
			g.gen = 0;
		np_report_addr(sc, &a, hook, &d, 1, g.gen, v6, proto, port);
		return 0;
	}
	np_watch_addr(sc, &a, hook, proto, port, v6);
	if (!np_gen_get(&g))
		return 1;
	if (!a.tgid) {
		np_actor_current(&a);
		a.skb = NULL;
	}
	if (!a.rec)
		np_count(VG_NPS_NO_PROC);
	np_count(VG_NPS_CHECKED);
	/* RuntimePolicy network rules: which targets hold (one walk of the policy
	 * tables, only when such rules exist) */
	if (g.conf->pol_mask)
		a.pol = vg_pol_target_gen(g.conf->pol_mask, g.conf->pol_gen);
	if (own) {
		/* the socket's DNS queries are decided for these targets */
		own->pol = a.pol;
		own->pol_gen = g.conf->pol_gen;
	}
	np_decide_addr(&g, &a, &sc->key, proto, port, &d, 0, 0);
	if (d.verdict == VG_NP_DENY && (d.flags & VG_NPE_AUDIT)) {
		/* a rule that only reports (alert, audit): reported, and the decision is
		 * taken again among the entries that enforce — it never lets through what
		 * another entry refuses */
		np_count(VG_NPS_AUDITED);
		np_report_addr(sc, &a, hook, &d, 0, g.gen, v6, proto, port);
		__builtin_memset(&d, 0, sizeof(d));
		np_decide_addr(&g, &a, &sc->key, proto, port, &d, 1, 0);
	}
	if (d.verdict != VG_NP_DENY) {
		np_count(VG_NPS_ALLOWED);
		return 1;
	}
	enforce = (d.flags & VG_NPE_POL) ? true : g.conf->mode == VG_NP_ENFORCE;
	np_count(enforce ? VG_NPS_DENIED : VG_NPS_AUDITED);
	np_report_addr(sc, &a, hook, &d, enforce, g.gen, v6, proto, port);
	if (enforce && (d.flags & (VG_NPE_KILL | VG_NPE_STOP))) {
		__u32 tid = (__u32)bpf_get_current_pid_tgid();
		struct np_pending pd = { .time_ns = bpf_ktime_get_boot_ns(),
					 .sig = (d.flags & VG_NPE_KILL) ? NP_SIGKILL : NP_SIGSTOP };

		bpf_map_update_elem(&vg_np_pending, &tid, &pd, BPF_ANY);
	}
	return enforce ? 0 : 1;
}

/*
 * The exits of the syscalls that reach the connect/sendmsg hooks (attached
 * only while a RuntimePolicy network rule kills or freezes): a thread whose
 * call was just refused by such a rule gets its signal here, in its own
 * context, before it returns to user space — it never sees the EPERM.
 */
SEC("tracepoint/syscalls/sys_exit_connect")
int vg_np_pol_exit(struct trace_event_raw_sys_exit *ctx)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct np_pending *pd = bpf_map_lookup_elem(&vg_np_pending, &tid);
	__u64 now;
	__u32 sig;

	if (!pd)
		return 0;
	now = bpf_ktime_get_boot_ns();
	sig = pd->sig;
	/* a mark left by a call with no syscall exit (io_uring) is stale: the refused
	 * call was the one that just returned only if it is this fresh */
	if (now - pd->time_ns > 1000000000ULL) {
		bpf_map_delete_elem(&vg_np_pending, &tid);
		np_count(VG_NPS_POL_STALE);
		return 0;
	}
	bpf_map_delete_elem(&vg_np_pending, &tid);
	bpf_send_signal(sig);
	np_count(VG_NPS_POL_SIGNALS);
	if (sig == NP_SIGSTOP) {
		__u32 tgid = bpf_get_current_pid_tgid() >> 32;
		struct vg_proc_key *k = bpf_map_lookup_elem(&vg_live, &tgid);
		struct vg_proc *p = k ? bpf_map_lookup_elem(&vg_procs, k) : NULL;

		if (p)
			p->flags |= VG_PF_FROZEN;
	}
	return 0;
}

SEC("cgroup/connect4")
int vg_np_connect4(struct bpf_sock_addr *ctx)
{
	return np_sock_addr(ctx, VG_NPH_CONNECT4, false);
}

SEC("cgroup/connect6")
int vg_np_connect6(struct bpf_sock_addr *ctx)
{
	return np_sock_addr(ctx, VG_NPH_CONNECT6, true);
}

SEC("cgroup/sendmsg4")
int vg_np_sendmsg4(struct bpf_sock_addr *ctx)
{
	return np_sock_addr(ctx, VG_NPH_SENDMSG4, false);
}

SEC("cgroup/sendmsg6")
int vg_np_sendmsg6(struct bpf_sock_addr *ctx)
{
	return np_sock_addr(ctx, VG_NPH_SENDMSG6, true);
}

/* ---- DNS on the skb hooks ---- */

struct np_l4 {
	__u32 off;      /* UDP header */
	__u8 family;
	__u8 proto;
	__u16 sport, dport;
	struct vg_np_lpm_key *dst; /* filled when asked */
};

/* The UDP packet netskb parsed (vg_np_pkt_pack in lib/netpolicy.bpf.h). 0 if it is one. */
static __always_inline int np_pkt_unpack(__u64 pkt, struct np_l4 *l)
{
	if (!pkt || VG_NP_PKT_PROTO(pkt) != IPPROTO_UDP_)
		return -1;
	l->off = VG_NP_PKT_UDP(pkt);
	l->family = VG_NP_PKT_FAMILY(pkt);
	l->proto = IPPROTO_UDP_;
	l->sport = VG_NP_PKT_SPORT(pkt);
	l->dport = VG_NP_PKT_DPORT(pkt);
	return 0;
}

struct np_walk {
	struct __sk_buff *skb;
	struct vg_np_scratch *sc;
	__u32 dns, pos, total, jumps, end;
	__s32 n;      /* labels so far; -1: malformed */
	__s32 done;
	__u32 _pad;
};

/* One step of a name walk (a label or a compression pointer): a bpf_loop
 * callback, so the verifier walks the label loop once. */
static long np_walk_step(__u64 i, void *arg)
{
	struct np_walk *w = arg;
	struct vg_np_scratch *sc = w->sc;
	__u8 len, lo;

	if (bpf_skb_load_bytes(w->skb, w->pos, &len, 1))
		goto bad;
	if (len == 0) {
		if (!w->end)
			w->end = w->pos + 1;
		w->done = 1;
		return 1;
	}
	if ((len & 0xc0) == 0xc0) {
		if (bpf_skb_load_bytes(w->skb, w->pos + 1, &lo, 1))
			goto bad;
		if (!w->end)
			w->end = w->pos + 2;
		if (++w->jumps > 8)
			goto bad; /* a pointer loop */
		w->pos = w->dns + (((__u32)(len & 0x3f) << 8) | lo);
		return 0;
	}
	if (len > 63)
		goto bad;
	w->total += len + 1;
	if (w->total > 255)
		goto bad;
	if (len > sc->maxlab)
		sc->maxlab = len;
	__builtin_memset(sc->label, 0, sizeof(sc->label));
	/* 1..63 in a form the verifier keeps: 6.1 rejects a size that may be 0. */
	if (bpf_skb_load_bytes(w->skb, w->pos + 1, sc->label, ((len - 1) & 63) + 1))
		goto bad;
	/* aligned: word loads, not bytes assembled on the stack (176 B of it, too
	 * deep a stack for 6.1 under the name walker) */
	sc->lh[vg_idx(w->n, VG_NP_LABELS - 1)] =
		vg_dom_label_hash(__builtin_assume_aligned(sc->label, 8), len);
	w->n++;
	w->pos += len + 1;
	return 0;
bad:
	w->n = -1;
	return 1;
}

/*
 * Hash the labels of the name at off (dns: offset of the DNS header, for
 * compression pointers) into sc->lh. Returns the label count, -1 if
 * malformed; *end is the offset just past the name where it first appeared.
 * At most 128 labels of 1 byte fit 255 bytes; 8 pointers more. A global
 * function: the verifier checks it once, not at every call.
 */
__noinline int vg_np_dns_name(struct __sk_buff *skb, __u32 dns, __u32 off,
					  struct vg_np_scratch *sc, __u32 *end)
{
	struct np_walk w = { .skb = skb, .sc = sc, .dns = dns, .pos = off };

	if (!sc || !end)
		return -1;
	sc->maxlab = 0;
	bpf_loop(136, np_walk_step, &w, 0);
	if (w.n < 0 || !w.done)
		return -1;
	*end = w.end;
	return w.n;
}

struct np_name_ctx {
	const struct np_gen *g;
	const struct np_actor *a;
	struct vg_np_scratch *sc;
	struct np_decision *d;
	__u64 h;
	__s32 n;
	__u32 _pad;
};

/* One suffix (k labels from the right, plus one): bpf_loop callback, so the
 * verifier walks it once, not once per label. */
static long np_suffix(__u64 k, void *arg)
{
	struct np_name_ctx *x = arg;
	struct vg_np_cands *c;
	__u32 prev;

	if ((__s64)k >= x->n)
		return 1;
	prev = x->d->entry;
	x->h = vg_dom_fold(x->h, x->sc->lh[vg_idx(x->n - 1 - k, VG_NP_LABELS - 1)]);
	c = bpf_map_lookup_elem(x->g->dom, &x->h);
	if (!c)
		return 0;
	np_try_cands(x->g, c, x->a, 0, 0, (__s64)k == x->n - 1 ? 0 : 1, x->d, VG_NPR_ENTRY, 0, 0);
	if (x->d->entry != prev)
		x->d->name_hash = x->h;
	return 0;
}

/* Fold the decision for a name of n labels (hashes in sc->lh) into d: every
 * suffix is looked up, the name itself for exact entries, shorter ones for
 * subdomain entries. */
static __always_inline void np_decide_name(const struct np_gen *g, const struct np_actor *a,
					   struct vg_np_scratch *sc, int n, struct np_decision *d)
{
	struct np_name_ctx x = { .g = g, .a = a, .sc = sc, .d = d, .h = VG_DOM_INIT, .n = n };

	if (n > VG_NP_LABELS)
		np_count(VG_NPS_DNS_DEEP);
	bpf_loop(VG_NP_LABELS, np_suffix, &x, 0);
}

/* An actor of an skb hook, nobody yet; returns the packet's full socket (NULL: none). */
static __always_inline struct bpf_sock *np_actor_skb_init(struct __sk_buff *skb,
							   struct np_actor *a)
{
	struct bpf_sock *sk = skb->sk;

	__builtin_memset(a, 0, sizeof(*a));
	a->uid = (__u32)-2;
	a->skb = skb;
	a->is_skb = 1;
	a->skip_audit = 1;
	return sk ? bpf_sk_fullsock(sk) : NULL;
}

/* The actor is process k (its record, if vigil has one). */
static __always_inline void np_actor_proc(struct np_actor *a, const struct vg_proc_key *k)
{
	a->key = *k;
	a->tgid = k->tgid;
	a->rec = bpf_map_lookup_elem(&vg_procs, k);
	if (a->rec)
		a->uid = a->rec->euid;
}

/* The process that owns the skb's socket (set at connect/sendmsg). */
static __always_inline void np_actor_sk(struct __sk_buff *skb, struct np_actor *a)
{
	struct bpf_sock *sk = np_actor_skb_init(skb, a);
	struct vg_np_owner *o;

	if (!sk)
		return;
	o = bpf_sk_storage_get(&vg_np_skowner, sk, 0, 0);
	if (!o)
		return;
	np_actor_proc(a, &o->key);
	if (o->pol) {
		/* targets decided at connect/sendmsg, if in the policy generation in force */
		__u32 zero = 0, gk;
		struct vg_np_state *st = bpf_map_lookup_elem(&vg_np_state, &zero);
		struct vg_np_conf *c;

		gk = st ? st->gen & 1 : 0;
		c = st ? bpf_map_lookup_elem(&vg_np_conf, &gk) : NULL;
		if (c && c->pol_gen == o->pol_gen)
			a->pol = o->pol;
	}
}

/* The sender of an egress packet: the socket's owner, else the current task. */
static __always_inline void np_actor_skb(struct __sk_buff *skb, struct np_actor *a)
{
	np_actor_sk(skb, a);
	if (!a->rec && vg_skb_current)
		np_actor_current(a);
}

static __always_inline void np_msg_name(struct __sk_buff *skb, struct vg_np_scratch *sc,
					__u32 off, __u32 end)
{
	__u32 len = end > off ? end - off : 0;

	if (len > VG_NP_NAME)
		len = VG_NP_NAME;
	/* 1..VG_NP_NAME (a power of two) in a form 6.1's verifier keeps: it
	 * rejects a size that may be 0. */
	if (len >= 1 && bpf_skb_load_bytes(skb, off, sc->msg.name,
					   ((len - 1) & (VG_NP_NAME - 1)) + 1) == 0)
		sc->msg.name_len = len;
}

/*
 * Is the owner of the packet's socket network-quarantined? The owner as the flow table knows
 * it — a TCP connection's row (by cookie: whoever connected, or the listener's owner), a UDP
 * socket's or a listener's storage — in whatever context the packet goes: a retransmission,
 * an ACK, every inbound packet run in softirq, where "current" is anybody. Counted when it
 * is (the caller drops the packet). A global function: its frame is its own.
 */
__noinline int vg_np_sock_quarantined(struct __sk_buff *skb)
{
	struct vg_proc_key *owner = NULL;
	struct bpf_sock *sk;
	struct vg_flow_key k;
	struct vg_proc *p;

	if (!skb)
		return 0;
	sk = skb->sk; /* one load: the verifier tracks that register's NULL test */
	if (sk)
		sk = bpf_sk_fullsock(sk);
	if (!sk)
		return 0;
	if (sk->protocol == IPPROTO_TCP_ && sk->state != 10 /* LISTEN */) {
		struct vg_flow *f;

		vg_tcp_conn_key(&k, bpf_get_socket_cookie(skb));
		f = vg_flow_row(&k);
		if (f)
			owner = &f->proc;
	} else {
		struct vg_sock *s = bpf_sk_storage_get(&vg_socks, sk, 0, 0);

		if (s)
			owner = &s->proc;
	}
	if (!owner || !owner->tgid)
		return 0;
	p = bpf_map_lookup_elem(&vg_procs, owner);
	if (!p || !(p->flags & VG_PF_NET_QUARANTINE))
		return 0;
	np_count(VG_NPS_QUARANTINE);
	return 1;
}

/*
 * The policy's part of an egress packet: quarantine and DNS queries. Called by
 * netskb's per-packet program after it counted the packet (one program per
 * direction: a second one would cost every packet another run and another
 * header parse); pkt is what that parse found (vg_np_pkt_pack). Returns the
 * program's verdict: 1 pass, 0 drop.
 */
__noinline int vg_np_skb_egress(struct __sk_buff *skb, __u64 pkt)
{
	struct vg_np_scratch *sc;
	struct np_decision d = {};
	struct np_actor a;
	struct np_gen g;
	struct np_l4 l;
	__u8 hdr[4];
	__u32 dns, q, end;
	bool enforce, known;
	int n;

	/* quarantine: the sending task (a process's own sends run in its context: a socket it
	 * inherited), and the socket's owner (its retransmissions and ACKs run anywhere). Every
	 * packet passes here: nobody is looked up until a process has been quarantined. */
	known = vg_quarantine_any();
	if (known) {
		np_actor_skb(skb, &a);
		if (np_quarantined(&a)) {
			np_count(VG_NPS_QUARANTINE);
			return 0;
		}
		if (vg_np_sock_quarantined(skb))
			return 0;
	}
	if (!skb || np_pkt_unpack(pkt, &l) || l.dport != DNS_PORT)
		return 1;
	if (!known)
		np_actor_skb(skb, &a);
	sc = np_scratch();
	if (!sc)
		return 1;
	dns = l.off + 8;
	/* flags (QR must be 0: a query) and the question count */
	if (bpf_skb_load_bytes(skb, dns + 2, hdr, 4) || (hdr[0] & 0x80) || !(hdr[2] | hdr[3]))
		return 1;
	np_count(VG_NPS_DNS_QUERIES);
	q = dns + 12;
	n = vg_np_dns_name(skb, dns, q, sc, &end);
	if (n < 0) {
		np_count(VG_NPS_DNS_MALFORMED);
		return 1;
	}
	a.skb = skb;
	/* tunnelling shape: a long label or a long name (user space judges the rest) */
	if (sc->maxlab >= VG_NPW_LABEL_MIN || end - q >= VG_NPW_NAME_MIN) {
		sc->msg.family = l.family;
		sc->msg.proto = IPPROTO_UDP_;
		sc->msg.port = DNS_PORT;
		__builtin_memset(sc->msg.addr, 0, 16);
		sc->msg.name_len = 0;
		np_msg_name(skb, sc, q, end);
		np_watch_send(sc, &a, VG_NPH_DNS_QUERY, VG_NPW_DNS_SHAPE,
			      np_parent_hash(sc, n) ^ sc->maxlab);
	}
	if (!np_gen_get(&g))
		return 1;
	np_decide_name(&g, &a, sc, n, &d);
	if (!d.entry) {
		/* Default deny covers names: only names an entry allows are asked for. */
		if (g.conf->def_egress != VG_NP_DENY)
			return 1;
		d.verdict = VG_NP_DENY;
		d.reason = VG_NPR_DEFAULT;
	}
	if (d.verdict != VG_NP_DENY)
		return 1;
	enforce = (d.flags & VG_NPE_POL) || g.conf->mode == VG_NP_ENFORCE; /* RuntimePolicy: its own mode */
	np_count(enforce ? VG_NPS_DNS_DROPPED : VG_NPS_DNS_AUDITED);
	if (np_rate_ok(a.tgid, d.entry, d.name_hash, &sc->msg.suppressed)) {
		np_msg_fill(sc, &a, VG_NPH_DNS_QUERY, &d, enforce, g.gen);
		sc->msg.family = l.family;
		sc->msg.proto = IPPROTO_UDP_;
		sc->msg.port = DNS_PORT;
		__builtin_memset(sc->msg.addr, 0, 16);
		sc->msg.name_len = 0;
		np_msg_name(skb, sc, q, end);
		np_send(sc);
	}
	return enforce ? 0 : 1;
}

/*
 * Stratum, whatever the port: a TCP connection whose first data out is a JSON-RPC call with a
 * mining pool's method — "mining.subscribe" / "mining.authorize" (stratum v1, Bitcoin-style
 * pools), "eth_submitLogin" (Ethereum stratum), "login" with a "pass" (the Monero pools'
 * protocol: xmrig, cpuminer) — a miner on 443 or 80 without TLS. netskb's egress program calls
 * this for a connection's first data segment only (the kernel's count of data segments it
 * sent is this packet's), and only a payload starting with '{' is read further: an HTTP
 * request or a TLS hello stops at its first byte. The first VG_NPW_DATA_WIN bytes are looked
 * at; a candidate goes to user space (VG_NPW_STRATUM_DATA), its method as text.
 */
struct np_strat {
	struct vg_np_scratch *sc;
	__u32 len;    /* payload bytes in sc->pay */
	__u32 method; /* where "method" ends (0: not seen) */
	__u32 pass;   /* "pass" seen */
};

#define NP_W8(a, b, c, d, e, f, g, h)                                                              \
	((__u64)(a) | (__u64)(b) << 8 | (__u64)(c) << 16 | (__u64)(d) << 24 | (__u64)(e) << 32 |   \
	 (__u64)(f) << 40 | (__u64)(g) << 48 | (__u64)(h) << 56)

static long np_strat_step(__u32 i, struct np_strat *x)
{
	struct vg_np_scratch *sc = x->sc;
	__u64 w;

	if (!sc || i + 8 > x->len)
		return 1;
	__builtin_memcpy(&w, &sc->pay[i & (VG_NPW_DATA_WIN - 1)], 8);
	if (!x->method && w == NP_W8('"', 'm', 'e', 't', 'h', 'o', 'd', '"'))
		x->method = i + 8;
	if ((w & 0xffffffffffffULL) == NP_W8('"', 'p', 'a', 's', 's', '"', 0, 0))
		x->pass = 1;
	return 0;
}

/* p (avail bytes of payload left) starts with the n bytes of s: never compared with what lies
 * past the payload in the scratch buffer (an earlier packet's bytes) */
static __always_inline bool np_strat_prefix(const __u8 *p, __u32 avail, const char *s, __u32 n)
{
	if (n > avail)
		return false;
	for (__u32 i = 0; i < n; i++)
		if (p[i] != (__u8)s[i])
			return false;
	return true;
}

__noinline int vg_np_skb_first_data(struct __sk_buff *skb)
{
	struct np_strat x = {};
	struct vg_np_scratch *sc;
	struct vg_ip src, dst;
	struct vg_pkt p = { .saddr = &src, .daddr = &dst };
	struct vg_flow_key k;
	struct vg_flow *f;
	struct np_actor a;
	__u32 len, at, n = 0;
	__u8 b0;

	if (!skb || vg_pkt_parse(skb, &p) || p.proto != IPPROTO_TCP_ || p.payload < 16 ||
	    bpf_skb_load_bytes(skb, p.l4off, &b0, 1) || b0 != '{')
		return 0;
	sc = np_scratch();
	if (!sc)
		return 0;
	len = p.payload < VG_NPW_DATA_WIN ? p.payload : VG_NPW_DATA_WIN;
	/* 1..VG_NPW_DATA_WIN in a form 6.1's verifier keeps */
	if (bpf_skb_load_bytes(skb, p.l4off, sc->pay, ((len - 1) & (VG_NPW_DATA_WIN - 1)) + 1))
		return 0;
	x.sc = sc;
	x.len = len;
	bpf_loop(VG_NPW_DATA_WIN, np_strat_step, &x, 0);
	if (!x.method)
		return 0;
	/* the method's value: past ':', spaces and the opening quote */
	at = x.method;
	for (int i = 0; i < 4; i++) {
		__u8 c = sc->pay[at & (VG_NPW_DATA_WIN - 1)];

		if (c != ':' && c != ' ' && c != '"')
			break;
		at++;
	}
	if (at + 5 > len)
		return 0;
	{
		const __u8 *m = &sc->pay[at & (VG_NPW_DATA_WIN - 1)];

		if (!np_strat_prefix(m, len - at, "mining.", 7) &&
		    !np_strat_prefix(m, len - at, "eth_submitLogin", 15) &&
		    !(np_strat_prefix(m, len - at, "login\"", 6) && x.pass))
			return 0;
		/* the method, up to its closing quote (VG_NPW_METHOD_MAX: cut, user space says so) */
		for (n = 0; n < VG_NPW_METHOD_MAX && at + n < len; n++) {
			if (m[n] == '"')
				break;
			sc->msg.name[n] = m[n];
		}
	}
	sc->msg.name_len = n;
	sc->msg.family = p.family;
	sc->msg.proto = IPPROTO_TCP_;
	sc->msg.port = p.dport;
	__builtin_memcpy(sc->msg.addr, &dst, 16); /* v4-mapped for IPv4, as every message's */
	/* whose: the connection's owner (its row), else as any egress packet */
	np_actor_skb_init(skb, &a);
	vg_tcp_conn_key(&k, bpf_get_socket_cookie(skb));
	f = vg_flow_row(&k);
	if (f && f->proc.tgid)
		np_actor_proc(&a, &f->proc);
	else if (vg_skb_current)
		np_actor_current(&a);
	np_watch_send(sc, &a, VG_NPH_TCP_DATA, VG_NPW_STRATUM_DATA, sc->msg.port);
	return 0;
}

struct np_rr {
	__u16 type, class;
	__u32 ttl;
	__u16 rdlen;
} __attribute__((packed));

struct np_answers {
	struct __sk_buff *skb;
	struct vg_np_scratch *sc;
	__u32 dns, pos, ancount, naddr, ncname;
	__s32 bad;
};

/*
 * Where the name at pos ends (its labels, up to a terminator or a compression
 * pointer), without reading it: an answer's owner name. Kept inline in the
 * answer callback — calling the name walker from there makes a third stack
 * frame, more than 6.1's verifier allows (512 bytes for the whole chain).
 */
static __always_inline int np_skip_name(struct __sk_buff *skb, __u32 pos, __u32 *end)
{
	for (int i = 0; i < 128; i++) {
		__u8 len;

		if (bpf_skb_load_bytes(skb, pos, &len, 1))
			return -1;
		if (len == 0) {
			*end = pos + 1;
			return 0;
		}
		if ((len & 0xc0) == 0xc0) {
			*end = pos + 2;
			return 0;
		}
		if (len > 63)
			return -1;
		pos += len + 1;
	}
	return -1;
}

/* Answer record i: a bpf_loop callback. CNAME targets and A/AAAA
 * records are noted, to be judged and learned after the walk. */
static long np_answer(__u64 i, void *arg)
{
	struct np_answers *x = arg;
	struct np_rr rr;
	__u32 end, rd;
	if (i >= x->ancount)
		return 1;
	if (np_skip_name(x->skb, x->pos, &end) < 0)
		goto bad;
	if (bpf_skb_load_bytes(x->skb, end, &rr, sizeof(rr)))
		goto bad;
	rd = end + sizeof(rr);
	rr.type = bpf_ntohs(rr.type);
	rr.rdlen = bpf_ntohs(rr.rdlen);
	if (rr.type == 5) { /* CNAME: judged after the walk (a shallower stack) */
		if (x->ncname < DNS_CNAMES_MAX)
			x->sc->cname[vg_idx(x->ncname++, DNS_CNAMES_MAX - 1)] = rd;
	} else if ((rr.type == 1 && rr.rdlen == 4) || (rr.type == 28 && rr.rdlen == 16)) {
		if (x->naddr < DNS_ADDRS_MAX) {
			__u32 k = vg_idx(x->naddr, DNS_ADDRS_MAX - 1);

			x->sc->addr[k].off = rd;
			x->sc->addr[k].ttl = bpf_ntohl(rr.ttl);
			x->sc->addr[k].len = rr.rdlen;
			x->naddr++;
		}
	}
	x->pos = rd + rr.rdlen;
	return 0;
bad:
	x->bad = 1;
	return 1;
}

/* The policy's part of an ingress packet: DNS answers for names it judges (their
 * addresses learned with the name's verdict). Called like vg_np_skb_egress. */
__noinline int vg_np_skb_ingress(struct __sk_buff *skb, __u64 pkt)
{
	struct vg_np_scratch *sc;
	struct np_decision d = {};
	struct np_actor a;
	struct np_gen g;
	struct np_l4 l;
	struct np_answers x = {};
	__u8 hdr[8];
	__u32 dns, q, end;
	int n;

	if (!skb || !np_gen_get(&g) || np_pkt_unpack(pkt, &l) || l.sport != DNS_PORT)
		return 1;
	sc = np_scratch();
	if (!sc)
		return 1;
	dns = l.off + 8;
	/* flags (QR 1: a response), qdcount 1, ancount */
	if (bpf_skb_load_bytes(skb, dns + 2, hdr, 8) || !(hdr[0] & 0x80) || hdr[2] || hdr[3] != 1)
		return 1;
	x.ancount = ((__u32)hdr[4] << 8) | hdr[5];
	if (!x.ancount)
		return 1;
	np_count(VG_NPS_DNS_ANSWERS);
	np_actor_sk(skb, &a);
	a.pol = ~0ULL; /* RuntimePolicy names are learned for whoever asked: the target is
			* decided at connect (reporting entries too: they report there) */
	a.skip_audit = 0;
	q = dns + 12;
	n = vg_np_dns_name(skb, dns, q, sc, &end);
	if (n < 0)
		goto malformed;
	np_decide_name(&g, &a, sc, n, &d);
	x.skb = skb;
	x.sc = sc;
	x.dns = dns;
	x.pos = end + 4; /* qtype, qclass */
	bpf_loop(DNS_ANSWERS_MAX, np_answer, &x, 0);
	if (x.bad)
		goto malformed;
	/* CNAME targets: the chain's names count as the question's */
	for (int i = 0; i < DNS_CNAMES_MAX; i++) {
		if (i >= x.ncname)
			break;
		n = vg_np_dns_name(skb, dns, sc->cname[vg_idx(i, DNS_CNAMES_MAX - 1)], sc, &end);
		if (n < 0)
			goto malformed;
		np_decide_name(&g, &a, sc, n, &d);
	}
	if (!d.entry || !x.naddr)
		return 1;
	/* The name (or its chain) matched an entry: its addresses take its verdict. */
	for (int i = 0; i < DNS_ADDRS_MAX; i++) {
		struct vg_np_learned *v = &sc->learned;
		__u32 k = vg_idx(i, DNS_ADDRS_MAX - 1);
		__u32 ttl;

		if (i >= x.naddr)
			break;
		__builtin_memset(&sc->key, 0, sizeof(sc->key));
		if (sc->addr[k].len == 4) {
			__u32 ip4;

			if (bpf_skb_load_bytes(skb, sc->addr[k].off, &ip4, 4))
				continue;
			np_v4mapped(&sc->key, ip4);
		} else if (bpf_skb_load_bytes(skb, sc->addr[k].off, sc->key.addr, 16)) {
			continue;
		}
		ttl = sc->addr[k].ttl < DNS_TTL_MIN ? DNS_TTL_MIN : sc->addr[k].ttl;
		{
			struct vg_np_learned *old = bpf_map_lookup_elem(&vg_np_learned, &sc->key);

			/* keep the other generation's slot (a reload may be preparing it) */
			if (old)
				__builtin_memcpy(v, old, sizeof(*v));
			else
				__builtin_memset(v, 0, sizeof(*v));
		}
		v->expire_ns = bpf_ktime_get_boot_ns() + (__u64)ttl * 1000000000ULL;
		v->name_hash = d.name_hash;
		v->entry[g.gen & 1] = d.entry;
		v->verdict[g.gen & 1] = d.verdict;
		if (bpf_map_update_elem(&vg_np_learned, &sc->key, v, BPF_ANY))
			np_count(VG_NPS_LEARNED_FAIL);
		else
			np_count(VG_NPS_LEARNED);
	}
	/* (a RuntimePolicy name is refused at connect, for its targets only: reported there) */
	if (d.verdict == VG_NP_DENY && !(d.flags & VG_NPE_POL) &&
	    np_rate_ok(a.tgid, d.entry, d.name_hash ^ 1, &sc->msg.suppressed)) {
		np_msg_fill(sc, &a, VG_NPH_DNS_ANSWER, &d, g.conf->mode == VG_NP_ENFORCE, g.gen);
		sc->msg.family = sc->key.addr[10] == 0xff && sc->key.addr[0] == 0 ? 4 : 6;
		sc->msg.proto = IPPROTO_UDP_;
		sc->msg.port = 0;
		__builtin_memcpy(sc->msg.addr, sc->key.addr, 16);
		/* the question: its name may differ from the matched CNAME target */
		sc->msg.name_len = 0;
		if (vg_np_dns_name(skb, dns, q, sc, &end) >= 0)
			np_msg_name(skb, sc, q, end);
		np_send(sc);
	}
	return 1;
malformed:
	np_count(VG_NPS_DNS_MALFORMED);
	return 1;
}

/* ---- inbound traffic: the ingress entries ---- */

/* The receiving socket's owner (a listener's: set at listen(); a UDP socket's: at its
 * creation, net.bpf.c): softirq context, "current" is anybody. */
static __always_inline void np_actor_owner(struct __sk_buff *skb, struct np_actor *a)
{
	struct bpf_sock *sk = np_actor_skb_init(skb, a);
	struct vg_sock *s = sk ? bpf_sk_storage_get(&vg_socks, sk, 0, 0) : NULL;

	if (s && s->proc.tgid)
		np_actor_proc(a, &s->proc);
}

/*
 * A packet decided by its address, called by netskb's programs once they have counted it:
 *  - inbound (VG_NP_PKT_INBOUND: for a listener, or a datagram that is no reply): returns at
 *    the first lookup unless the policy in force decides inbound traffic. The peer is the IP
 *    header's source (at offset 0 on these hooks), the port the local one;
 *  - a raw socket's TCP/UDP packet out (VG_NP_PKT_RAW): no connect/sendmsg hook runs for
 *    raw sockets, so the egress entries decide it here, by its destination and port
 *    (learned addresses too), as connect() would be.
 * The scopes test the socket's owner (its storage: softirq or not, "current" is not it).
 * Returns the verdict: 1 pass, 0 drop.
 */
__noinline int vg_np_skb_addr(struct __sk_buff *skb, __u64 pkt)
{
	bool in = pkt & VG_NP_PKT_INBOUND, enforce;
	struct vg_np_scratch *sc;
	struct vg_np_state *st;
	struct np_decision d = {};
	struct np_actor a;
	struct np_gen g;
	__u32 zero = 0;
	__u8 family, proto;
	__u16 port;

	st = bpf_map_lookup_elem(&vg_np_state, &zero);
	if (!st || (in && !st->ingress) || !skb || !np_gen_get(&g))
		return 1;
	sc = np_scratch();
	if (!sc)
		return 1;
	family = VG_NP_PKT_FAMILY(pkt);
	proto = VG_NP_PKT_PROTO(pkt);
	port = VG_NP_PKT_DPORT(pkt);
	__builtin_memset(&sc->key, 0, sizeof(sc->key));
	if (family == 4) {
		__u32 ip4;

		if (bpf_skb_load_bytes(skb, in ? 12 : 16, &ip4, 4))
			return 1;
		np_v4mapped(&sc->key, ip4);
	} else if (bpf_skb_load_bytes(skb, in ? 8 : 24, sc->key.addr, 16)) {
		return 1;
	}
	np_actor_owner(skb, &a);
	if (!a.rec)
		np_count(VG_NPS_NO_PROC);
	np_count(in ? VG_NPS_IN_CHECKED : VG_NPS_CHECKED);
	np_decide_addr(&g, &a, &sc->key, proto, port, &d, 0, in);
	if (d.verdict != VG_NP_DENY) {
		if (!in)
			np_count(VG_NPS_ALLOWED);
		return 1;
	}
	enforce = g.conf->mode == VG_NP_ENFORCE;
	if (in)
		np_count(enforce ? VG_NPS_IN_DENIED : VG_NPS_IN_AUDITED);
	else
		np_count(enforce ? VG_NPS_DENIED : VG_NPS_AUDITED);
	np_report_addr(sc, &a, in ? VG_NPH_INGRESS : VG_NPH_RAW, &d, enforce, g.gen, family == 6,
		       proto, port);
	return enforce ? 0 : 1;
}

__noinline int vg_np_inbound_on(void)
{
	__u32 zero = 0;
	struct vg_np_state *st = bpf_map_lookup_elem(&vg_np_state, &zero);

	return st && st->ingress;
}

/* ---- new listening sockets (a built-in detection's candidates) ---- */

/*
 * At the exit of listen(); the fd is the caller's saved first argument
 * (bpf_task_pt_regs), so no sys_enter hook: with none attached, no syscall on
 * the machine pays for the entry tracepoint.
 */
SEC("tracepoint/syscalls/sys_exit_listen")
int vg_np_listen_exit(struct trace_event_raw_sys_exit *ctx)
{
	struct task_struct *t = bpf_get_current_task_btf();
	struct pt_regs *r = (struct pt_regs *)bpf_task_pt_regs(t);
	struct vg_np_scratch *sc;
	struct np_actor a;
	struct file **fds, *f;
	struct socket *sock;
	struct sock *sk;
	__u32 fd = r->di, max;
	__u16 family;

	if (ctx->ret != 0)
		return 0;
	max = BPF_CORE_READ(t, files, fdt, max_fds);
	if (fd >= max)
		return 0;
	fds = BPF_CORE_READ(t, files, fdt, fd);
	if (bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]) || !f)
		return 0;
	sock = BPF_CORE_READ(f, private_data);
	sk = BPF_CORE_READ(sock, sk);
	if (!sk)
		return 0;
	family = BPF_CORE_READ(sk, __sk_common.skc_family);
	sc = np_scratch();
	if (!sc)
		return 0;
	np_actor_current(&a);
	sc->msg.family = family == 10 ? 6 : 4;
	sc->msg.proto = IPPROTO_TCP_;
	sc->msg.port = BPF_CORE_READ(sk, __sk_common.skc_num);
	sc->msg.name_len = 0;
	__builtin_memset(sc->msg.addr, 0, 16);
	np_watch_send(sc, &a, VG_NPH_LISTEN, VG_NPW_LISTEN, sc->msg.port);
	return 0;
}
