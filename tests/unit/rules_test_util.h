/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the rule tests: build a synthetic struct vg_match from a
 * few strings, and evaluate the compiled kernel tables the way the BPF side
 * does (the formula at struct vg_ruleset in include/vigil/abi.h), so a test
 * can check that a rule user space would report is a kernel candidate.
 */
#ifndef VG_RULES_TEST_UTIL_H
#define VG_RULES_TEST_UTIL_H

#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "rules/rules_int.h"
#include "state/strings.h"

/* argv strings are tab-separated ("sh\t-c\tcat x | base64"). */
struct t_proc {
	const char *exe;
	const char *argv;
	uint32_t flags; /* enum vg_proc_flags */
};

struct t_op {
	enum vg_rule_kind kind;
	struct t_proc self, parent, grand;
	uint32_t euid;
	bool nonroot;           /* euid 1000 (euid 0 otherwise unless euid set) */
	const char *path;       /* file path; syscall string argument */
	uint32_t actions, mode;
	uint32_t nr;
	uint64_t args[6];
	uint32_t conds;         /* exec conditions the kernel saw (for the kernel side) */
	bool conds_known;       /* ... and tell user space about them */
	const char *env;        /* tab-separated NAME=value; NULL: empty environment */
	const char *container;
	uint32_t self_pid;      /* 0: this test process */
	uint32_t ppid;          /* the parent's pid as recorded (0: 900001, no such process) */
	const struct vg_proc *target;
};

/* Owns everything a vg_match points to. */
struct t_match {
	struct vg_match m;
	struct vg_proc rec[3];
	struct vg_match_proc anc[2];
	char *bufs[8];
	const char **argvs[3];
	const char **envv;
	int nbufs;
};

static inline const char **t_split(struct t_match *t, const char *s, size_t *n)
{
	char *copy, *tok, *save = NULL;
	const char **v;
	size_t k = 0;

	*n = 0;
	if (!s)
		return NULL;
	copy = strdup(s);
	t->bufs[t->nbufs++] = copy;
	v = calloc(strlen(s) + 2, sizeof(*v));
	for (tok = strtok_r(copy, "\t", &save); tok; tok = strtok_r(NULL, "\t", &save))
		v[k++] = tok;
	*n = k;
	return v;
}

static inline void t_match_free(struct t_match *t)
{
	for (int i = 0; i < t->nbufs; i++)
		free(t->bufs[i]);
	for (int i = 0; i < 3; i++)
		free(t->argvs[i]);
	free(t->envv);
	memset(t, 0, sizeof(*t));
}

static inline void t_fill_proc(struct t_match *t, int i, const struct t_proc *p,
			       struct vg_match_proc *out, uint32_t pid, uint32_t euid)
{
	size_t n;

	t->rec[i].key.tgid = pid;
	t->rec[i].key.start_ns = 1000 + i;
	t->rec[i].uid = t->rec[i].euid = euid;
	t->rec[i].flags = p->flags;
	t->argvs[i] = t_split(t, p->argv, &n);
	out->rec = &t->rec[i];
	out->exe = p->exe;
	out->argv = t->argvs[i];
	out->argc = n;
}

static inline struct vg_match *t_match_build(struct t_match *t, const struct t_op *op)
{
	uint32_t self = op->self_pid ? op->self_pid : (uint32_t)getpid();
	uint32_t euid = op->nonroot ? 1000 : op->euid;
	size_t n;

	memset(t, 0, sizeof(*t));
	t->m.kind = op->kind;
	t_fill_proc(t, 0, &op->self, &t->m.self, self, euid);
	t->rec[0].ppid = op->ppid ? op->ppid : 900001;
	t->rec[0].parent.tgid = t->rec[0].ppid;
	if (op->parent.exe || op->parent.argv || op->parent.flags) {
		t_fill_proc(t, 1, &op->parent, &t->anc[0], 900001, 0);
		t->m.nancestry = 1;
		if (op->grand.exe || op->grand.argv) {
			t_fill_proc(t, 2, &op->grand, &t->anc[1], 900002, 0);
			t->m.nancestry = 2;
		}
		t->m.ancestry = t->anc;
	}
	t->m.container = op->container;
	t->m.path = op->path;
	t->m.str = op->path;
	t->m.actions = op->actions;
	t->m.mode = op->mode;
	t->m.nr = op->nr;
	memcpy(t->m.args, op->args, sizeof(t->m.args));
	t->m.target = op->target;
	t->m.conds_known = op->conds_known;
	t->m.conds = op->conds;
	t->envv = t_split(t, op->env ? op->env : "", &n);
	if (!t->envv)
		t->envv = calloc(1, sizeof(*t->envv));
	t->m.env = t->envv;
	t->m.nenv = n;
	t->m.now_ns = 1;
	return &t->m;
}

/* ---- the kernel's evaluation, from the compiled tables ---- */

static inline const struct vg_rbits *t_names(const struct vg_rule_tables *tb, uint8_t gen,
					     uint8_t kind, uint16_t what, uint64_t value)
{
	for (size_t i = 0; i < tb->nnames; i++) {
		const struct vg_rule_key *k = &tb->names[i].key;

		if (k->gen == gen && k->kind == kind && k->what == what && k->value == value &&
		    !k->aux)
			return &tb->names[i].bits;
	}
	return NULL;
}

/* A syscall argument entry (VG_RW_SYSCALL_ARG). */
static inline const struct vg_rbits *t_names_aux(const struct vg_rule_tables *tb, uint8_t gen,
						 uint32_t aux, uint64_t value)
{
	for (size_t i = 0; i < tb->nnames; i++) {
		const struct vg_rule_key *k = &tb->names[i].key;

		if (k->gen == gen && k->kind == VG_RK_SYSCALL && k->what == VG_RW_SYSCALL_ARG &&
		    k->aux == aux && k->value == value)
			return &tb->names[i].bits;
	}
	return NULL;
}

static inline const struct vg_rbits *t_lpm(const struct vg_rule_tables *tb, uint8_t gen,
					   uint8_t kind, const char *s)
{
	const struct vg_lpm_entry *best = NULL;
	size_t len = strlen(s);

	if (len > VG_LPM_MAX)
		len = VG_LPM_MAX;
	for (size_t i = 0; i < tb->nlpm; i++) {
		const struct vg_lpm_entry *e = &tb->lpm[i];
		size_t plen = (e->key.prefixlen - 16) / 8;

		if (e->key.gen != gen || e->key.kind != kind || plen > len ||
		    memcmp(e->key.data, s, plen))
			continue;
		if (!best || e->key.prefixlen > best->key.prefixlen)
			best = e;
	}
	return best ? &best->bits : NULL;
}

static inline void t_need(struct vg_rbits *c, const struct vg_rbits *need,
			  const struct vg_rbits *have)
{
	for (int i = 0; i < VG_RULES_MAX / 64; i++)
		c->w[i] &= (have ? have->w[i] : 0) | ~need->w[i];
}

static inline uint64_t t_base(const char *s)
{
	const char *b = s ? strrchr(s, '/') : NULL;

	b = b ? b + 1 : s ? s : "";
	return vg_name_hash(b, strlen(b));
}

static inline uint64_t t_id(const char *s)
{
	return s ? vg_str_id(s, strlen(s) + 1) : 0;
}

/* Candidates of one operation, as the BPF evaluation computes them. */
static inline struct vg_rbits t_kernel_candidates(const struct vg_rule_tables *tb, uint8_t gen,
						  const struct t_op *op)
{
	const struct vg_ruleset *rs = &tb->sets[op->kind];
	uint32_t euid = op->nonroot ? 1000 : op->euid;
	const char *what = op->kind == VG_RK_EXEC ? op->self.exe : op->path;
	struct vg_rbits c = rs->all;
	const struct vg_rbits *x;

	if (op->kind == VG_RK_FILE) {
		struct vg_rbits a = {};

		for (int i = 0; i < 32; i++)
			if (op->actions & (1u << i))
				for (int w = 0; w < VG_RULES_MAX / 64; w++)
					a.w[w] |= rs->act[i].w[w];
		for (int w = 0; w < VG_RULES_MAX / 64; w++)
			c.w[w] &= a.w[w];
	} else if (op->kind == VG_RK_SYSCALL) {
		struct vg_rbits have = {};

		x = t_names(tb, gen, op->kind, VG_RW_SYSCALL, op->nr);
		for (int w = 0; w < VG_RULES_MAX / 64; w++)
			c.w[w] &= x ? x->w[w] : 0;
		for (int i = 0; i < 6; i++) {
			if (!(rs->arg_idx & (1u << i)))
				continue;
			x = t_names_aux(tb, gen, VG_ARG_AUX(op->nr, i), op->args[i]);
			for (int w = 0; x && w < VG_RULES_MAX / 64; w++)
				have.w[w] |= x->w[w];
		}
		t_need(&c, &rs->need_arg, &have);
	}
	x = euid == 0 ? &rs->need_nonroot : &rs->need_root;
	for (int w = 0; w < VG_RULES_MAX / 64; w++)
		c.w[w] &= ~x->w[w];
	if (op->kind == VG_RK_EXEC)
		for (int i = 0; i < VG_XC_MAX; i++)
			if (!(op->conds & (1u << i)))
				for (int w = 0; w < VG_RULES_MAX / 64; w++)
					c.w[w] &= ~rs->need_cond[i].w[w];
	x = t_names(tb, gen, op->kind, VG_RW_EXE_EXCEPT, t_id(op->self.exe));
	for (int w = 0; x && w < VG_RULES_MAX / 64; w++)
		c.w[w] &= ~x->w[w];
	t_need(&c, &rs->need_only, t_names(tb, gen, op->kind, VG_RW_EXE_ONLY, t_id(op->self.exe)));
	t_need(&c, &rs->need_path, what ? t_names(tb, gen, op->kind, VG_RW_PATH, t_id(what)) : NULL);
	t_need(&c, &rs->need_parent,
	       op->parent.exe ? t_names(tb, gen, op->kind, VG_RW_PARENT_BASE, t_base(op->parent.exe))
			      : NULL);
	t_need(&c, &rs->need_base, what ? t_names(tb, gen, op->kind, VG_RW_BASE, t_base(what)) : NULL);
	t_need(&c, &rs->need_prefix, what ? t_lpm(tb, gen, op->kind, what) : NULL);
	return c;
}

static inline bool t_rbit(const struct vg_rbits *b, unsigned bit)
{
	return bit < VG_RULES_MAX && (b->w[bit / 64] >> (bit % 64)) & 1;
}

/* Is rule r among the kernel's candidates for op? */
static inline bool t_kernel_flags(const struct vg_rule_tables *tb, const struct vg_rule *r,
				  const struct t_op *op)
{
	struct vg_rbits c = t_kernel_candidates(tb, 0, op);

	for (unsigned b = 0; b < VG_RULES_MAX; b++)
		if (t_rbit(&c, b) && vg_rule_owns_bit(r, b))
			return true;
	return false;
}

#endif
