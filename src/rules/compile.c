// SPDX-License-Identifier: GPL-2.0
/*
 * Rules -> the kernel's tables (include/vigil/abi.h, "rules in the kernel").
 * Pure functions: no kernel needed, so tests/unit checks the tables.
 *
 * The kernel ANDs the predicates a bit needs. A rule's main selector (file:
 * path, exec: exe) is an OR of entries of different shapes: exact paths,
 * prefixes, basenames, globs (literal prefix + literal basename). One bit per
 * shape keeps each bit a conjunction the kernel can test:
 *   shape PATH         exact path            need_path
 *   shape PREFIX       literal prefix        need_prefix
 *   shape BASE         basename              need_base
 *   shape PREFIX_BASE  prefix and basename   need_prefix | need_base
 *   shape NONE         no kernel predicate   (action bits only; exec: scan_all)
 * Entries of one shape share a bit; the kernel then tests (any prefix) AND
 * (any basename) of the group, a superset user space narrows down again. A
 * rule with a NONE entry needs no other bit. So a rule owns 1 to 4 bits of its
 * kind; vg_rules_by_bit() maps each of them back to it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "rules/rules_int.h"
#include "state/strings.h"

enum shape { SH_NONE, SH_PATH, SH_PREFIX, SH_BASE, SH_PREFIX_BASE, SH_MAX };

struct shape_set {
	struct vg_strv prefix[SH_MAX], path[SH_MAX], base[SH_MAX];
	bool used[SH_MAX];
};

static void sv_add(struct vg_strv *v, const char *s)
{
	char **nv = realloc(v->v, (v->n + 1) * sizeof(*nv));

	if (!nv)
		return;
	v->v = nv;
	v->v[v->n++] = strdup(s);
}

static void shape_set_free(struct shape_set *ss)
{
	for (int i = 0; i < SH_MAX; i++) {
		struct vg_strv *l[] = { &ss->prefix[i], &ss->path[i], &ss->base[i] };

		for (int k = 0; k < 3; k++) {
			for (size_t j = 0; j < l[k]->n; j++)
				free(l[k]->v[j]);
			free(l[k]->v);
		}
	}
}

/* A prefix of one byte ("/") or none filters nothing. */
static bool useful_prefix(const char *p)
{
	return p && strlen(p) > 1;
}

static void add_glob(struct shape_set *ss, const char *g)
{
	char *pre, *base;
	bool p, b;

	if (!vg_glob_has_meta(g)) {
		ss->used[SH_PATH] = true;
		sv_add(&ss->path[SH_PATH], g);
		return;
	}
	vg_glob_split(g, &pre, &base);
	p = useful_prefix(pre);
	b = base != NULL;
	if (p && b) {
		ss->used[SH_PREFIX_BASE] = true;
		sv_add(&ss->prefix[SH_PREFIX_BASE], pre);
		sv_add(&ss->base[SH_PREFIX_BASE], base);
	} else if (p) {
		ss->used[SH_PREFIX] = true;
		sv_add(&ss->prefix[SH_PREFIX], pre);
	} else if (b) {
		ss->used[SH_BASE] = true;
		sv_add(&ss->base[SH_BASE], base);
	} else {
		ss->used[SH_NONE] = true;
	}
	free(pre);
	free(base);
}

/* Shapes of a path selector; an unset selector is one NONE shape. */
static void shapes_of(const struct vg_path_sel *s, struct shape_set *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (!s->set) {
		ss->used[SH_NONE] = true;
		return;
	}
	for (size_t i = 0; i < s->exact.n; i++) {
		ss->used[SH_PATH] = true;
		sv_add(&ss->path[SH_PATH], s->exact.v[i]);
	}
	for (size_t i = 0; i < s->prefix.n; i++) {
		if (!useful_prefix(s->prefix.v[i])) {
			ss->used[SH_NONE] = true;
			continue;
		}
		ss->used[SH_PREFIX] = true;
		sv_add(&ss->prefix[SH_PREFIX], s->prefix.v[i]);
	}
	for (size_t i = 0; i < s->basename.n; i++) {
		ss->used[SH_BASE] = true;
		sv_add(&ss->base[SH_BASE], s->basename.v[i]);
	}
	for (size_t i = 0; i < s->glob.n; i++)
		add_glob(ss, s->glob.v[i]);
	/* a suffix with a '/' ends in a whole basename ("/.ssh/authorized_keys") */
	for (size_t i = 0; i < s->suffix.n; i++) {
		const char *slash = strrchr(s->suffix.v[i], '/');

		if (slash && slash[1]) {
			ss->used[SH_BASE] = true;
			sv_add(&ss->base[SH_BASE], slash + 1);
		} else {
			ss->used[SH_NONE] = true;
		}
	}
	if (ss->used[SH_NONE]) /* matches everything: the other shapes add nothing */
		for (int i = 1; i < SH_MAX; i++)
			ss->used[i] = false;
}

static const struct vg_path_sel *main_selector(const struct vg_rule *r)
{
	const struct vg_rule_spec *s = r->priv;

	switch (r->kind) {
	case VG_RK_FILE:
		return &s->path;
	case VG_RK_EXEC:
		return &s->exe;
	default:
		return NULL;
	}
}

static unsigned bits_needed(const struct vg_rule *r)
{
	const struct vg_path_sel *sel = main_selector(r);
	struct shape_set ss;
	unsigned n = 0;

	if (!sel)
		return 1;
	shapes_of(sel, &ss);
	for (int i = 0; i < SH_MAX; i++)
		n += ss.used[i];
	shape_set_free(&ss);
	return n ? n : 1;
}

static void rbits_set(struct vg_rbits *b, unsigned bit)
{
	b->w[bit / 64] |= 1ULL << (bit % 64);
}

static void rbits_or(struct vg_rbits *d, const struct vg_rbits *s)
{
	for (int i = 0; i < VG_RULES_MAX / 64; i++)
		d->w[i] |= s->w[i];
}

static bool rbits_empty(const struct vg_rbits *b)
{
	for (int i = 0; i < VG_RULES_MAX / 64; i++)
		if (b->w[i])
			return false;
	return true;
}

int vg_rules_assign_bits(struct vg_rules *set, struct vg_rule_errors *errs)
{
	static const char *const kinds[] = { "file", "exec", "syscall" };
	unsigned next[VG_RK_MAX] = { 0 };
	int rc = 0;

	memset(set->by_bit, 0, sizeof(set->by_bit));
	for (size_t i = 0; i < set->n; i++) {
		struct vg_rule *r = &set->rules[i];
		struct vg_rule_spec *s = r->priv;
		unsigned k;

		memset(&s->bits, 0, sizeof(s->bits));
		r->bit = VG_RULE_NOBIT;
		if (!r->enabled)
			continue;
		k = bits_needed(r);
		if (next[r->kind] + k > VG_RULES_MAX) {
			vg_rule_error_add(errs, r->source, r->source_line, 0, r->id,
					  "too many %s rules: the kernel tables hold %d bits per "
					  "kind and this rule needs %u more (disable some rules)",
					  kinds[r->kind], VG_RULES_MAX, k);
			next[r->kind] = VG_RULES_MAX;
			rc = -E2BIG;
			continue;
		}
		r->bit = next[r->kind];
		for (unsigned b = 0; b < k; b++) {
			rbits_set(&s->bits, next[r->kind] + b);
			set->by_bit[r->kind][next[r->kind] + b] = r;
		}
		next[r->kind] += k;
	}
	for (int k = 0; k < VG_RK_MAX; k++)
		set->nbits[k] = next[k] > VG_RULES_MAX ? VG_RULES_MAX : next[k];
	return rc;
}

uint64_t vg_name_hash(const char *s, size_t len)
{
	uint64_t h = VG_NAME_HASH_INIT;

	for (size_t i = 0; i < len; i++)
		h = VG_NAME_HASH_STEP(h, s[i]);
	return h;
}

/* ---- building the tables ---- */

struct builder {
	struct vg_rule_tables *t;
	uint8_t gen;
	size_t lcap, ncap;
};

static void lpm_add(struct builder *b, uint8_t kind, const char *prefix,
		    const struct vg_rbits *bits)
{
	size_t len = strlen(prefix);
	struct vg_lpm_key key = { .gen = b->gen, .kind = kind };

	if (len > VG_LPM_MAX) /* the kernel compares this much; user space the rest */
		len = VG_LPM_MAX;
	key.prefixlen = 16 + 8 * len;
	memcpy(key.data, prefix, len);
	for (size_t i = 0; i < b->t->nlpm; i++)
		if (!memcmp(&b->t->lpm[i].key, &key, sizeof(key))) {
			rbits_or(&b->t->lpm[i].bits, bits);
			return;
		}
	if (b->t->nlpm == b->lcap) {
		size_t cap = b->lcap ? b->lcap * 2 : 64;
		struct vg_lpm_entry *v = realloc(b->t->lpm, cap * sizeof(*v));

		if (!v)
			return;
		b->t->lpm = v;
		b->lcap = cap;
	}
	b->t->lpm[b->t->nlpm] = (struct vg_lpm_entry){ .key = key, .bits = *bits };
	b->t->nlpm++;
}

static void name_add_aux(struct builder *b, uint8_t kind, enum vg_rule_what what, uint32_t aux,
			 uint64_t value, const struct vg_rbits *bits)
{
	struct vg_rule_key key = { .gen = b->gen, .kind = kind, .what = what, .aux = aux,
				   .value = value };

	for (size_t i = 0; i < b->t->nnames; i++)
		if (!memcmp(&b->t->names[i].key, &key, sizeof(key))) {
			rbits_or(&b->t->names[i].bits, bits);
			return;
		}
	if (b->t->nnames == b->ncap) {
		size_t cap = b->ncap ? b->ncap * 2 : 64;
		struct vg_name_entry *v = realloc(b->t->names, cap * sizeof(*v));

		if (!v)
			return;
		b->t->names = v;
		b->ncap = cap;
	}
	b->t->names[b->t->nnames] = (struct vg_name_entry){ .key = key, .bits = *bits };
	b->t->nnames++;
}

static void name_add(struct builder *b, uint8_t kind, enum vg_rule_what what, uint64_t value,
		     const struct vg_rbits *bits)
{
	name_add_aux(b, kind, what, 0, value, bits);
}

/*
 * The argument condition the kernel checks for a syscall rule: the first `in`
 * list (every condition must hold, so one of them is a sound filter; user
 * space checks them all). NULL when the rule has none: by number alone.
 */
static const struct vg_arg_cond *kernel_arg_cond(const struct vg_rule_spec *s)
{
	for (size_t i = 0; i < s->nargs; i++)
		if (s->args[i].op == VG_ARG_IN && s->args[i].n && s->args[i].arg < 6)
			return &s->args[i];
	return NULL;
}

static uint64_t path_id(const char *p)
{
	return vg_str_id(p, strlen(p) + 1);
}

static uint64_t base_hash(const char *b)
{
	return vg_name_hash(b, strlen(b));
}

/* Every entry of a path selector is an exact path (literal globs count). */
static bool only_exact(const struct vg_path_sel *s)
{
	if (!s->set || s->prefix.n || s->basename.n || s->suffix.n)
		return false;
	for (size_t i = 0; i < s->glob.n; i++)
		if (vg_glob_has_meta(s->glob.v[i]))
			return false;
	return s->exact.n + s->glob.n > 0;
}

static void exact_paths(const struct vg_path_sel *s, void (*fn)(struct builder *, uint8_t,
							       const char *, const struct vg_rbits *,
							       enum vg_rule_what),
			struct builder *b, uint8_t kind, const struct vg_rbits *bits,
			enum vg_rule_what what)
{
	for (size_t i = 0; i < s->exact.n; i++)
		fn(b, kind, s->exact.v[i], bits, what);
	for (size_t i = 0; i < s->glob.n; i++)
		fn(b, kind, s->glob.v[i], bits, what);
}

static void add_path_id(struct builder *b, uint8_t kind, const char *p,
			const struct vg_rbits *bits, enum vg_rule_what what)
{
	name_add(b, kind, what, path_id(p), bits);
}

/* Parent basenames the kernel can check: every entry must name one. */
static bool parent_bases(const struct vg_proc_sel *p, struct vg_strv *out)
{
	const struct vg_path_sel *s = &p->exe;

	memset(out, 0, sizeof(*out));
	if (!p->set || !s->set || s->prefix.n || s->suffix.n)
		return false;
	for (size_t i = 0; i < s->basename.n; i++)
		sv_add(out, s->basename.v[i]);
	for (size_t i = 0; i < s->exact.n; i++)
		sv_add(out, vg_basename(s->exact.v[i]));
	for (size_t i = 0; i < s->glob.n; i++) {
		char *pre, *base;

		vg_glob_split(s->glob.v[i], &pre, &base);
		free(pre);
		if (!base) {
			free(base);
			goto none;
		}
		sv_add(out, base);
		free(base);
	}
	if (out->n)
		return true;
none:
	for (size_t i = 0; i < out->n; i++)
		free(out->v[i]);
	free(out->v);
	memset(out, 0, sizeof(*out));
	return false;
}

/* uid selector -> which of need_root / need_nonroot it implies (bit 0/1). */
static int uid_kernel(const struct vg_uid_sel *u)
{
	bool has0 = false, all0 = u->n > 0;

	if (!u->set)
		return 0;
	for (size_t i = 0; i < u->n; i++) {
		has0 |= u->v[i] == 0;
		all0 &= u->v[i] == 0;
	}
	if (!u->negate)
		return all0 ? 1 : !has0 ? 2 : 0; /* uid 0 -> root; uids all non-zero -> non-root */
	return has0 ? 2 : 0;                     /* not 0 -> non-root */
}

/* An except entry the kernel can apply: only `exe` with exact paths. */
static bool except_kernel(const struct vg_except *x)
{
	return x->exe.set && only_exact(&x->exe) && !x->argv.set && !x->parent.set &&
	       !x->ancestor.set && !x->path.set && !x->uid.set && x->container < 0 &&
	       !x->env_present.n;
}

/* An except entry that is only a uid condition: the kernel can skip by root-ness. */
static int except_uid_kernel(const struct vg_except *x)
{
	if (!x->uid.set || x->exe.set || x->argv.set || x->parent.set || x->ancestor.set ||
	    x->path.set || x->container >= 0 || x->env_present.n)
		return 0;
	/* except uid 0 -> rule needs non-root; except "not 0" -> rule needs root */
	switch (uid_kernel(&x->uid)) {
	case 1:
		return 2;
	case 2:
		return x->uid.negate ? 1 : 0;
	}
	return 0;
}

static void compile_rule(struct builder *b, const struct vg_rule *r)
{
	const struct vg_rule_spec *s = r->priv;
	struct vg_ruleset *set = &b->t->sets[r->kind];
	const struct vg_path_sel *sel = main_selector(r);
	struct vg_rbits all = s->bits;
	struct vg_strv pbases;
	struct shape_set ss;
	unsigned bit = r->bit;
	bool have_parent;
	int u;

	rbits_or(&set->all, &all);
	/* the main selector: one bit per shape */
	if (sel) {
		shapes_of(sel, &ss);
		for (int sh = 0; sh < SH_MAX; sh++) {
			struct vg_rbits one = {};

			if (!ss.used[sh])
				continue;
			rbits_set(&one, bit++);
			for (size_t i = 0; i < ss.prefix[sh].n; i++)
				lpm_add(b, r->kind, ss.prefix[sh].v[i], &one);
			for (size_t i = 0; i < ss.path[sh].n; i++)
				name_add(b, r->kind, VG_RW_PATH, path_id(ss.path[sh].v[i]), &one);
			for (size_t i = 0; i < ss.base[sh].n; i++)
				name_add(b, r->kind, VG_RW_BASE, base_hash(ss.base[sh].v[i]), &one);
			if (ss.prefix[sh].n)
				rbits_or(&set->need_prefix, &one);
			if (ss.path[sh].n)
				rbits_or(&set->need_path, &one);
			if (ss.base[sh].n)
				rbits_or(&set->need_base, &one);
		}
		shape_set_free(&ss);
	}
	/* exec: parent basename */
	have_parent = r->kind == VG_RK_EXEC && parent_bases(&s->parent, &pbases);
	if (have_parent) {
		for (size_t i = 0; i < pbases.n; i++) {
			name_add(b, r->kind, VG_RW_PARENT_BASE, base_hash(pbases.v[i]), &all);
			free(pbases.v[i]);
		}
		free(pbases.v);
		rbits_or(&set->need_parent, &all);
	}
	/* uid, from match and from uid-only exceptions */
	u = uid_kernel(&s->uid);
	for (size_t i = 0; i < s->nexcept && !u; i++)
		u = except_uid_kernel(&s->except[i]);
	if (u == 1)
		rbits_or(&set->need_root, &all);
	else if (u == 2)
		rbits_or(&set->need_nonroot, &all);
	/* exec conditions */
	for (int c = 0; c < VG_XC_MAX; c++)
		if (s->conds & (1u << c))
			rbits_or(&set->need_cond[c], &all);
	/* file, syscall: limited to exact executables */
	if (r->kind != VG_RK_EXEC && only_exact(&s->exe)) {
		exact_paths(&s->exe, add_path_id, b, r->kind, &all, VG_RW_EXE_ONLY);
		rbits_or(&set->need_only, &all);
	}
	/* exceptions the kernel can apply */
	for (size_t i = 0; i < s->nexcept; i++)
		if (except_kernel(&s->except[i]))
			exact_paths(&s->except[i].exe, add_path_id, b, r->kind, &all,
				    VG_RW_EXE_EXCEPT);
	/* file: actions */
	if (r->kind == VG_RK_FILE)
		for (int a = 0; a < 32; a++)
			if (s->actions & (1u << a))
				rbits_or(&set->act[a], &all);
	/* syscall: numbers */
	if (r->kind == VG_RK_SYSCALL) {
		const struct vg_arg_cond *ac = kernel_arg_cond(s);

		for (size_t i = 0; i < s->nnrs; i++) {
			name_add(b, r->kind, VG_RW_SYSCALL, s->nrs[i], &all);
			for (size_t j = 0; ac && j < ac->n; j++)
				name_add_aux(b, r->kind, VG_RW_SYSCALL_ARG,
					     VG_ARG_AUX(s->nrs[i], ac->arg), ac->v[j], &all);
		}
		if (ac) {
			rbits_or(&set->need_arg, &all);
			set->arg_idx |= 1u << ac->arg;
		}
		/* target relation: the kernel drops the caller's own targets */
		if (s->relation) {
			static const uint32_t rel[3] = { VG_REL_SELF, VG_REL_CHILD, VG_REL_DESCENDANT };

			for (int i = 0; i < 3; i++)
				if (!(s->relation & rel[i]))
					rbits_or(&set->rel_not[i], &all);
		}
	}
}

/* The value of a prefix holds the rules of every shorter prefix too (LPM finds
 * only the longest match). */
static void prefix_closure(struct vg_rule_tables *t)
{
	for (size_t i = 0; i < t->nlpm; i++) {
		struct vg_lpm_entry *p = &t->lpm[i];

		for (size_t j = 0; j < t->nlpm; j++) {
			struct vg_lpm_entry *q = &t->lpm[j];

			if (i == j || q->key.kind != p->key.kind || q->key.gen != p->key.gen ||
			    q->key.prefixlen >= p->key.prefixlen)
				continue;
			if (!memcmp(q->key.data, p->key.data, (q->key.prefixlen - 16) / 8))
				rbits_or(&p->bits, &q->bits);
		}
	}
}

/* Does some exec bit need no kernel predicate at all (every exec a candidate)? */
static uint32_t exec_scan_all(const struct vg_ruleset *s)
{
	struct vg_rbits need = {};

	rbits_or(&need, &s->need_prefix);
	rbits_or(&need, &s->need_path);
	rbits_or(&need, &s->need_base);
	rbits_or(&need, &s->need_parent);
	rbits_or(&need, &s->need_only);
	for (int c = 0; c < VG_XC_MAX; c++)
		rbits_or(&need, &s->need_cond[c]);
	for (int i = 0; i < VG_RULES_MAX / 64; i++)
		if (s->all.w[i] & ~need.w[i])
			return 1;
	return 0;
}

int vg_rules_compile(const struct vg_rules *r, uint8_t gen, struct vg_rule_tables *t)
{
	struct builder b = { .t = t, .gen = gen };

	memset(t, 0, sizeof(*t));
	if (gen > 1)
		return -EINVAL;
	for (size_t i = 0; i < r->n; i++)
		if (r->rules[i].enabled && r->rules[i].bit != VG_RULE_NOBIT)
			compile_rule(&b, &r->rules[i]);
	prefix_closure(t);
	for (int k = 0; k < VG_RK_MAX; k++)
		t->sets[k].nrules = r->nbits[k];
	t->sets[VG_RK_EXEC].scan_all = !rbits_empty(&t->sets[VG_RK_EXEC].all) &&
				       exec_scan_all(&t->sets[VG_RK_EXEC]);
	return 0;
}

void vg_rule_tables_free(struct vg_rule_tables *t)
{
	free(t->lpm);
	free(t->names);
	memset(t, 0, sizeof(*t));
}
