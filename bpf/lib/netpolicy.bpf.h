/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Network policy, kernel half: the maps a policy is compiled into and the
 * decision every hook takes (bpf/netpolicy.bpf.c). The layouts are in
 * include/vigil/abi.h ("network policy"); the compiler is src/netpolicy/.
 *
 * A decision: the process's quarantine flag first; then the best of
 *   - the longest CIDR prefix holding the address (LPM trie), its entries tried
 *     best first for port/protocol/scope,
 *   - the address learned from a DNS answer for a matched name (ranked as a
 *     host route with its name entry's tie-breakers),
 * by rank, deny winning a tie; nothing matched: the policy's default.
 */
#ifndef VG_NETPOLICY_BPF_H
#define VG_NETPOLICY_BPF_H

#include "lib/common.bpf.h"

/* Inner map templates: the daemon creates maps of these shapes, sized to the policy. */
struct vg_np_lpm_inner {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(key_size, sizeof(struct vg_np_lpm_key));
	__uint(value_size, sizeof(struct vg_np_cands));
};

struct vg_np_dom_inner {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(key_size, sizeof(__u64));
	__uint(value_size, sizeof(struct vg_np_cands));
};

struct vg_np_ent_inner {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(struct vg_np_entry));
};

/* Slot = generation. An empty slot (no policy) reads as NULL. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 2);
	__type(key, __u32);
	__array(values, struct vg_np_lpm_inner);
} vg_np_lpm SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 2);
	__type(key, __u32);
	__array(values, struct vg_np_dom_inner);
} vg_np_dom SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 2);
	__type(key, __u32);
	__array(values, struct vg_np_ent_inner);
} vg_np_ent SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, struct vg_np_conf);
} vg_np_conf SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vg_np_state);
} vg_np_state SEC(".maps");

/* Addresses from DNS answers for matched names, until their TTL runs out. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, VG_NP_LEARNED_DEFAULT);
	__type(key, struct vg_np_lpm_key); /* prefixlen unused (0) */
	__type(value, struct vg_np_learned);
} vg_np_learned SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, VG_NPS_MAX);
	__type(key, __u32);
	__type(value, __u64);
} vg_np_stats SEC(".maps");

/* One message per (process, entry, destination) per second; the rest counted. */
struct vg_np_rl_key {
	__u32 tgid;
	__u32 entry;
	__u64 dest; /* hash of address/port or name */
};
struct vg_np_rl {
	__u64 last_ns;
	__u32 suppressed;
	__u32 _pad;
};
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, struct vg_np_rl_key);
	__type(value, struct vg_np_rl);
} vg_np_rlmap SEC(".maps");

/* The process a DNS socket belongs to, set when its query leaves: the answer
 * arrives in softirq context, where "current" is anybody. With it, the
 * RuntimePolicy network rules whose target held for that process at its
 * connect/sendmsg (the query hook can't take the target test). */
struct vg_np_owner {
	struct vg_proc_key key;
	__u64 pol;      /* rule bits (vg_np_entry.pol - 1) whose target held */
	__u32 pol_gen;  /* ... in this policy generation (vg_np_conf.pol_gen) */
	__u32 _pad;
};
struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct vg_np_owner);
} vg_np_skowner SEC(".maps");

#define DNS_ADDRS_MAX 8  /* addresses learned per DNS response */
#define DNS_CNAMES_MAX 4 /* CNAME targets judged per DNS response */

/* Per-CPU scratch: label hashes, the answer's addresses, the message being built. */
struct vg_np_scratch {
	struct vg_np_msg msg;
	__u64 lh[VG_NP_LABELS];   /* label hashes, ring: label i at i % VG_NP_LABELS */
	__u8 label[64];
	struct vg_np_lpm_key key;
	struct {                  /* A/AAAA records of the answer being read */
		__u32 off, ttl, len, _pad;
	} addr[DNS_ADDRS_MAX];
	__u32 cname[DNS_CNAMES_MAX]; /* offsets of its CNAME targets */
	__u32 maxlab;                /* longest label of the last name walked */
	struct vg_np_learned learned;
	__u8 pay[VG_NPW_DATA_WIN + 32]; /* a first data segment's payload (vg_np_skb_first_data):
					 * room past the window for reads at a masked offset */
};
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vg_np_scratch);
} vg_np_scratch_map SEC(".maps");

static __always_inline void np_count(enum vg_np_stat s)
{
	__u32 k = s;
	__u64 *v = bpf_map_lookup_elem(&vg_np_stats, &k);

	if (v)
		*v += 1;
}

/* Who is acting: the process record (NULL if none) and what scopes test. */
struct np_actor {
	struct vg_proc_key key;
	struct vg_proc *rec;
	__u32 uid;
	__u32 tgid;
	struct __sk_buff *skb; /* skb hooks: the cgroup is the socket's, not current's */
	/* 1 on skb hooks: a scalar the verifier follows, so each program type sees
	 * only its own cgroup helper (6.1 has no current-ancestor helper for skb
	 * programs and does not prune a NULL test of a ctx pointer). */
	__u32 is_skb;
	__u32 _pad;
	/* RuntimePolicy network rules (entry->pol) whose target holds for this
	 * actor: connect/sendmsg ask vg_pol_target_gen; DNS answers learn for
	 * every target (all ones: applicability is decided at connect); DNS
	 * queries for none (0). */
	__u64 pol;
	__u32 skip_audit; /* DNS queries: entries that only report (VG_NPE_AUDIT) never decide */
	__u32 _pad2;
};

static __always_inline void np_actor_current(struct np_actor *a)
{
	__u64 pt = bpf_get_current_pid_tgid();
	__u32 tgid = pt >> 32;
	struct vg_proc_key *k;

	a->tgid = tgid;
	a->skb = NULL;
	a->is_skb = 0;
	a->uid = (__u32)bpf_get_current_uid_gid();
	a->rec = NULL;
	a->pol = 0;
	a->skip_audit = 0;
	__builtin_memset(&a->key, 0, sizeof(a->key));
	k = bpf_map_lookup_elem(&vg_live, &tgid);
	if (!k)
		return;
	a->key = *k;
	a->rec = bpf_map_lookup_elem(&vg_procs, k);
}

static __always_inline bool np_quarantined(const struct np_actor *a)
{
	return a->rec && (a->rec->flags & VG_PF_NET_QUARANTINE);
}

/* Does entry e apply to this process, protocol and port (port 0: not a port check)? */
static __always_inline bool np_entry_applies(const struct vg_np_entry *e, const struct np_actor *a,
					     __u8 proto, __u16 port)
{
	if (e->proto && proto && e->proto != proto)
		return false;
	if (e->port_hi && (port < e->port_lo || port > e->port_hi))
		return false;
	if (e->uid != (__u32)-1 && e->uid != a->uid)
		return false;
	if (e->exe && (!a->rec || a->rec->exe != e->exe))
		return false;
	if (e->pol && !((a->pol >> ((e->pol - 1) & 63)) & 1))
		return false;
	if (e->cgroup_id) {
		__u64 cg = a->is_skb ? bpf_skb_ancestor_cgroup_id(a->skb, e->cg_level) :
				    bpf_get_current_ancestor_cgroup_id(e->cg_level);

		if (cg != e->cgroup_id)
			return false;
	}
	return true;
}

struct np_gen {
	__u32 gen;
	struct vg_np_conf *conf;
	void *lpm, *dom, *ent;
};

/* The policy in force; false if none is loaded. */
static __always_inline bool np_gen_get(struct np_gen *g)
{
	__u32 zero = 0;
	struct vg_np_state *st = bpf_map_lookup_elem(&vg_np_state, &zero);

	if (!st)
		return false;
	g->gen = st->gen & 1;
	g->conf = bpf_map_lookup_elem(&vg_np_conf, &g->gen);
	if (!g->conf || !g->conf->loaded)
		return false;
	g->lpm = bpf_map_lookup_elem(&vg_np_lpm, &g->gen);
	g->dom = bpf_map_lookup_elem(&vg_np_dom, &g->gen);
	g->ent = bpf_map_lookup_elem(&vg_np_ent, &g->gen);
	return g->lpm && g->dom && g->ent;
}

/* A decision: verdict, the entry that gave it (0: default) and its rank. */
struct np_decision {
	__u32 entry;
	__u32 rank;
	__u8 verdict;
	__u8 reason;
	__u32 flags;      /* the entry's VG_NPE_* */
	__u64 name_hash;
};

/* Is (rank, verdict) better than the decision so far? Deny wins a tie. */
static __always_inline bool np_better(const struct np_decision *d, __u32 rank, __u8 verdict)
{
	if (!d->entry)
		return true;
	if (rank != d->rank)
		return rank > d->rank;
	return verdict == VG_NP_DENY && d->verdict != VG_NP_DENY;
}

struct np_cand_ctx {
	const struct np_gen *g;
	const struct vg_np_cands *c;
	const struct np_actor *a;
	struct np_decision *d;
	__u16 port;
	__u8 proto;
	__s8 sub;
	__u8 reason;
	__u8 skip_audit; /* 1: entries that only report (VG_NPE_AUDIT) are passed over */
	__u8 ingress;    /* the direction decided: entries of the other one are passed over */
};

/* Candidate i: a bpf_loop callback, so the verifier walks it once. */
static long np_cand(__u64 i, void *arg)
{
	struct np_cand_ctx *x = arg;
	struct vg_np_entry *e;
	__u32 id, raw;

	if (i >= x->c->n || i >= VG_NP_CAND)
		return 1;
	raw = x->c->id[vg_idx(i, VG_NP_CAND - 1)];
	if (x->sub >= 0 && !!(raw & VG_NP_SUB) != x->sub)
		return 0;
	id = raw & ~VG_NP_SUB;
	e = bpf_map_lookup_elem(x->g->ent, &id);
	if (!e || !!(e->flags & VG_NPE_INGRESS) != x->ingress ||
	    !np_entry_applies(e, x->a, x->proto, x->port))
		return 0;
	if ((x->skip_audit || x->a->skip_audit) && (e->flags & VG_NPE_AUDIT))
		return 0;
	if (np_better(x->d, e->rank, e->verdict)) {
		x->d->entry = id;
		x->d->rank = e->rank;
		x->d->verdict = e->verdict;
		x->d->reason = x->reason;
		x->d->flags = e->flags;
	}
	return 1; /* best first: the first that applies is this prefix's answer */
}

/* Try the candidate entries of one prefix or name; sub: which kind of name
 * match (-1: an address, 0: the name itself, 1: a subdomain of it). */
static __always_inline void np_try_cands(const struct np_gen *g, const struct vg_np_cands *c,
					 const struct np_actor *a, __u8 proto, __u16 port, int sub,
					 struct np_decision *d, __u8 reason, __u8 skip_audit,
					 __u8 ingress)
{
	struct np_cand_ctx x = { .g = g, .c = c, .a = a, .d = d, .port = port, .proto = proto,
				 .sub = sub, .reason = reason, .skip_audit = skip_audit,
				 .ingress = ingress };

	bpf_loop(VG_NP_CAND, np_cand, &x, 0);
}

/* The decision for a destination address (v4-mapped or v6); skip_audit: among
 * the entries that enforce only. Ingress: for an inbound peer's address and the local
 * port, among the ingress entries (no learned addresses: those are destinations). */
static __always_inline void np_decide_addr(const struct np_gen *g, const struct np_actor *a,
					   struct vg_np_lpm_key *key, __u8 proto, __u16 port,
					   struct np_decision *d, __u8 skip_audit, __u8 ingress)
{
	struct vg_np_cands *c;
	struct vg_np_learned *l;

	key->prefixlen = 128;
	c = bpf_map_lookup_elem(g->lpm, key);
	if (c)
		np_try_cands(g, c, a, proto, port, -1, d, VG_NPR_ENTRY, skip_audit, ingress);
	key->prefixlen = 0;
	if (ingress) {
		if (!d->entry) {
			d->verdict = g->conf->def_ingress;
			d->reason = VG_NPR_DEFAULT;
		}
		return;
	}
	l = bpf_map_lookup_elem(&vg_np_learned, key);
	if (l && l->verdict[g->gen & 1] && l->expire_ns > bpf_ktime_get_boot_ns()) {
		__u32 id = l->entry[g->gen & 1];
		__u8 verdict = l->verdict[g->gen & 1];
		struct vg_np_entry *e = bpf_map_lookup_elem(g->ent, &id);
		__u32 rank = e ? VG_NP_RANK(VG_NP_SPEC_HOST, e->rank & VG_NP_TIE_MASK) : 0;

		if (e && np_entry_applies(e, a, proto, port) &&
		    !(skip_audit && (e->flags & VG_NPE_AUDIT)) && np_better(d, rank, verdict)) {
			d->entry = id;
			d->rank = rank;
			d->verdict = verdict;
			d->reason = VG_NPR_LEARNED;
			d->flags = e->flags;
			d->name_hash = l->name_hash;
			np_count(VG_NPS_LEARNED_HITS);
		}
	}
	if (!d->entry) {
		d->verdict = g->conf->def_egress;
		d->reason = VG_NPR_DEFAULT;
	}
}

static __always_inline struct vg_np_scratch *np_scratch(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&vg_np_scratch_map, &zero);
}

/* Rate limit per (process, entry, destination): true if a message may go. */
static __noinline bool np_rate_ok(__u32 tgid, __u32 entry, __u64 dest, __u32 *suppressed)
{
	struct vg_np_rl_key k = { .tgid = tgid, .entry = entry, .dest = dest };
	struct vg_np_rl *r = bpf_map_lookup_elem(&vg_np_rlmap, &k);
	__u64 now = bpf_ktime_get_boot_ns();
	struct vg_np_rl fresh = { .last_ns = now };

	*suppressed = 0;
	if (r) {
		if (now - r->last_ns < 1000000000ULL) {
			__sync_fetch_and_add(&r->suppressed, 1);
			np_count(VG_NPS_MSG_SUPPRESSED);
			return false;
		}
		*suppressed = r->suppressed;
		r->suppressed = 0;
		r->last_ns = now;
		return true;
	}
	bpf_map_update_elem(&vg_np_rlmap, &k, &fresh, BPF_ANY);
	return true;
}

/* Send the message prepared in sc->msg. */
static __noinline void np_send(struct vg_np_scratch *sc)
{
	struct vg_np_msg *m;
	__u64 avail;

	m = bpf_ringbuf_reserve(&vg_events, sizeof(*m), 0);
	if (!m) {
		np_count(VG_NPS_MSG_DROP);
		return;
	}
	__builtin_memcpy(m, &sc->msg, sizeof(*m));
	m->hdr.type = VG_MSG_NET;
	m->hdr.len = sizeof(*m);
	m->hdr.time_ns = bpf_ktime_get_boot_ns();
	avail = bpf_ringbuf_query(&vg_events, BPF_RB_AVAIL_DATA);
	np_count(VG_NPS_MSG);
	bpf_ringbuf_submit(m, avail > (1 << 19) ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP);
}

#endif /* VG_NETPOLICY_BPF_H */
