// SPDX-License-Identifier: GPL-2.0
/*
 * Kernel rule evaluation (see lib/rules.bpf.h for what each predicate is
 * looked up with). Lookups are made only when a still-candidate rule needs
 * them, cheapest first, and evaluation stops as soon as no rule is left.
 */
#include "lib/common.bpf.h"
#include "lib/rules.bpf.h"
#include "lib/task.bpf.h"

#define VG_RB_WORDS (VG_RULES_MAX / 64)

/* c &= x */
static __always_inline void rb_and(struct vg_rbits *c, const struct vg_rbits *x)
{
	for (int i = 0; i < VG_RB_WORDS; i++)
		c->w[i] &= x ? x->w[i] : 0;
}

/* c &= ~x */
static __always_inline void rb_andnot(struct vg_rbits *c, const struct vg_rbits *x)
{
	if (!x)
		return;
	for (int i = 0; i < VG_RB_WORDS; i++)
		c->w[i] &= ~x->w[i];
}

/* A predicate some rules need: c &= have | ~need (have NULL: holds for none). */
static __always_inline void rb_need(struct vg_rbits *c, const struct vg_rbits *need,
				    const struct vg_rbits *have)
{
	for (int i = 0; i < VG_RB_WORDS; i++)
		c->w[i] &= (have ? have->w[i] : 0) | ~need->w[i];
}

static __always_inline bool rb_any(const struct vg_rbits *c)
{
	return c->w[0] | c->w[1];
}

/* Does a still-candidate rule need this predicate? (else its lookup is skipped) */
static __always_inline bool rb_meets(const struct vg_rbits *c, const struct vg_rbits *need)
{
	return (c->w[0] & need->w[0]) | (c->w[1] & need->w[1]);
}

static __always_inline struct vg_rbits *names_get(__u32 gen, __u32 kind, __u32 what, __u64 value)
{
	struct vg_rule_key k = { .gen = gen, .kind = kind, .what = what, .value = value };

	return bpf_map_lookup_elem(&vg_rule_names, &k);
}

__noinline __u64 vg_base_hash(void)
{
	struct vg_scratch *sc = vg_scratch();
	__u64 h = VG_NAME_HASH_INIT;
	__u32 len, start;

	if (!sc)
		return 0;
	len = sc->str.h.len;
	if (len < 2 || len > VG_STR_MAX)
		return h;
	len -= 1; /* without the NUL */
	start = len;
	for (int i = 0; i < VG_NAME_MAX; i++) {
		if (start == 0 || sc->str.data[vg_idx(start - 1, VG_STR_MAX - 1)] == '/')
			break;
		start--;
	}
	/*
	 * Through the map, not a register: every exit of the first loop then
	 * enters the second with the same (unknown) start and prunes, instead of
	 * 256 exits each walking 256 iterations.
	 */
	sc->mark = start;
	asm volatile("" ::: "memory");
	start = sc->mark;
	for (int i = 0; i < VG_NAME_MAX; i++) {
		__u32 pos = start + i;

		if (pos >= len)
			break;
		h = VG_NAME_HASH_STEP(h, sc->str.data[vg_idx(pos, VG_STR_MAX - 1)]);
	}
	return h;
}

__noinline __u64 vg_str_base_hash(__u64 id)
{
	struct vg_scratch *sc = vg_scratch();
	struct vg_str_hdr *h = NULL;
	void *data = NULL;
	__u32 size = 0;

	if (!sc || !id)
		return 0;
	switch (VG_STR_CLASS_OF(id)) {
	case 0: {
		struct vg_str_128 *s = bpf_map_lookup_elem(&vg_strs_s, &id);

		if (s) {
			h = &s->h;
			data = s->data;
			size = sizeof(s->data);
		}
		break;
	}
	case 1: {
		struct vg_str_512 *s = bpf_map_lookup_elem(&vg_strs_m, &id);

		if (s) {
			h = &s->h;
			data = s->data;
			size = sizeof(s->data);
		}
		break;
	}
	default: {
		struct vg_str_4096 *s = bpf_map_lookup_elem(&vg_strs_l, &id);

		if (s) {
			h = &s->h;
			data = s->data;
			size = sizeof(s->data);
		}
		break;
	}
	}
	if (!h || !data)
		return 0;
	if (bpf_probe_read_kernel(sc->str.data, vg_idx(size, VG_STR_MAX * 2 - 1), data))
		return 0;
	sc->str.h.len = h->len;
	return vg_base_hash();
}

/* Argument conditions: a rule that needs one stays a candidate when it holds. */
static __always_inline void sys_args(struct vg_rbits *c, const struct vg_ruleset *rs, __u32 gen,
				     const struct vg_eval *ev)
{
	struct vg_rbits have = {};

	vg_sys_arg_bits(rs, gen, ev->a.sys.nr, ev->a.sys.args, &have);
	rb_need(c, &rs->need_arg, &have);
}

/* Send the prepared alert with the candidate rules c. */
static __always_inline int emit(struct vg_scratch *sc, struct task_struct *t, __u32 gen,
				__u32 kind, const struct vg_rbits *c, bool scan)
{
	struct vg_alert *m;
	__u64 avail, size;

	vg_count(VG_ST_ALERTS);
	if (scan)
		vg_count(VG_ST_EXEC_SCAN);
	m = bpf_ringbuf_reserve(&vg_events, sizeof(*m), 0);
	if (!m) {
		vg_count(VG_ST_ALERT_DROP);
		return 0;
	}
	__builtin_memcpy(m, &sc->ev.a, sizeof(*m));
	m->hdr.type = VG_MSG_ALERT;
	m->hdr.len = sizeof(*m);
	m->hdr.time_ns = bpf_ktime_get_boot_ns();
	vg_task_key(t, &m->proc);
	m->rules = *c;
	m->gen = gen;
	m->kind = kind;
	m->_pad = 0;
	m->uid = t->cred->euid.val;
	/* No wake-up per alert: the consumer polls. Wake it only when half full. */
	avail = bpf_ringbuf_query(&vg_events, BPF_RB_AVAIL_DATA);
	size = bpf_ringbuf_query(&vg_events, BPF_RB_RING_SIZE);
	bpf_ringbuf_submit(m, avail > size / 2 ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP);
	return 1;
}

__noinline int vg_rules_eval(__u32 kind)
{
	struct task_struct *t = bpf_get_current_task_btf();
	struct vg_scratch *sc = vg_scratch();
	struct vg_ruleset *rs;
	struct vg_eval *ev;
	struct vg_rbits c;
	__u32 gen, uid;
	bool scan;

	if (!sc || kind >= VG_RK_MAX || t->tgid == vg_self_tgid)
		return 0;
	ev = &sc->ev;
	gen = vg_rule_gen_now();
	rs = vg_ruleset_get(gen, kind);
	if (!rs)
		return 0;
	scan = kind == VG_RK_EXEC && rs->scan_all;
	if (!rs->nrules && !scan)
		return 0;
	c = rs->all;

	/* What the operation is: its action bits (file), its number (syscall). */
	if (kind == VG_RK_FILE) {
		__u64 m0 = 0, m1 = 0;

		for (int i = 0; i < 32; i++) {
			if (ev->act & (1u << i)) {
				m0 |= rs->act[i].w[0];
				m1 |= rs->act[i].w[1];
			}
		}
		c.w[0] &= m0;
		c.w[1] &= m1;
	} else if (kind == VG_RK_SYSCALL) {
		rb_and(&c, names_get(gen, kind, VG_RW_SYSCALL, ev->a.sys.nr));
		if (rb_meets(&c, &rs->need_arg))
			sys_args(&c, rs, gen, ev);
		if (ev->rel >= VG_KREL_SELF && ev->rel <= VG_KREL_DESCENDANT)
			rb_andnot(&c, &rs->rel_not[ev->rel - 1]);
	}
	uid = t->cred->euid.val;
	rb_andnot(&c, uid == 0 ? &rs->need_nonroot : &rs->need_root);
	if (kind == VG_RK_EXEC) {
		for (int i = 0; i < VG_XC_MAX; i++)
			if (!(ev->conds & (1u << i)))
				rb_andnot(&c, &rs->need_cond[i]);
	}
	if (!rb_any(&c))
		goto out;

	/* Who: the acting process's exe, excepted or required. */
	if (!ev->exe) {
		struct vg_proc_key k;
		struct vg_proc *p;

		vg_task_key(t, &k);
		p = bpf_map_lookup_elem(&vg_procs, &k);
		ev->exe = p ? p->exe : 0;
	}
	if (ev->exe)
		rb_andnot(&c, names_get(gen, kind, VG_RW_EXE_EXCEPT, ev->exe));
	if (rb_meets(&c, &rs->need_only))
		rb_need(&c, &rs->need_only,
			ev->exe ? names_get(gen, kind, VG_RW_EXE_ONLY, ev->exe) : NULL);
	if (!rb_any(&c))
		goto out;

	/* What: exact path, parent, basename, prefix — the dearer ones last. */
	if (rb_meets(&c, &rs->need_path))
		rb_need(&c, &rs->need_path,
			ev->path ? names_get(gen, kind, VG_RW_PATH, ev->path) : NULL);
	if (rb_meets(&c, &rs->need_parent))
		rb_need(&c, &rs->need_parent,
			ev->parent_base ? names_get(gen, kind, VG_RW_PARENT_BASE, ev->parent_base)
					: NULL);
	if (rb_meets(&c, &rs->need_base)) {
		__u64 base = ev->base;

		if (!base && ev->has_str)
			base = vg_base_hash();
		rb_need(&c, &rs->need_base, base ? names_get(gen, kind, VG_RW_BASE, base) : NULL);
	}
	if (rb_meets(&c, &rs->need_prefix)) {
		struct vg_rbits *hit = NULL;
		__u32 len = sc->str.h.len;

		if (ev->has_str && len > 0) {
			len = len - 1 > VG_LPM_MAX ? VG_LPM_MAX : len - 1;
			sc->lpm.prefixlen = 16 + 8 * len;
			sc->lpm.gen = gen;
			sc->lpm.kind = kind;
			/* Bytes past prefixlen are ignored by the trie: copy a fixed size. */
			__builtin_memcpy(sc->lpm.data, sc->str.data, VG_LPM_MAX);
			hit = bpf_map_lookup_elem(&vg_rule_prefix, &sc->lpm);
		}
		rb_need(&c, &rs->need_prefix, hit);
	}
out:
	if (!rb_any(&c) && !scan)
		return 0;
	return emit(sc, t, gen, kind, &c, scan);
}
