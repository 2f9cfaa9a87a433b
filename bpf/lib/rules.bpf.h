/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The kernel half of the rules: the cheap predicates of every rule, compiled
 * by user space into vg_rule_prefix / vg_rule_names / vg_rule_sets (two
 * generations, vg_rule_gen says which is active), combined exactly as
 * include/vigil/abi.h documents at struct vg_ruleset. A candidate rule sends
 * one struct vg_alert on vg_events; user space finishes the rule.
 *
 * What the kernel looks the predicates up with:
 *   prefix       LPM key (gen, kind, the first VG_LPM_MAX bytes of the path/name,
 *                no NUL): a prefix rule stores its bytes without a NUL too
 *   path         string id of the whole path (file), exe (exec), argument (syscall)
 *   base         vg_name_hash of the last '/'-separated component of the same string
 *   parent       exec: the parent process's exe basename hash (vg_proc.exe_base)
 *   except/only  the acting process's exe string id; for exec, the new exe
 *   uid          the effective uid at the operation (after the exec for exec rules)
 *   act          file: the operation's action bits not yet evaluated for this
 *                (process, file) in this generation
 *   syscall      VG_RW_SYSCALL names the rules of each syscall number; a syscall
 *                rule is a candidate only for the syscalls it lists
 * The daemon itself (vg_self_tgid) is never evaluated: its own operations raise
 * nothing. Operations of others *on* the daemon (kill, ptrace) are evaluated.
 */
#ifndef VG_RULES_BPF_H
#define VG_RULES_BPF_H

#include "lib/common.bpf.h"

/* The active generation (0/1). */
static __always_inline __u32 vg_rule_gen_now(void)
{
	__u32 zero = 0;
	__u32 *g = bpf_map_lookup_elem(&vg_rule_gen, &zero);

	return g ? *g & 1 : 0;
}

static __always_inline struct vg_ruleset *vg_ruleset_get(__u32 gen, __u32 kind)
{
	__u32 slot = VG_RULESET_SLOT(gen & 1, kind);

	return bpf_map_lookup_elem(&vg_rule_sets, &slot);
}

/* Could any file rule care about these action bits? (saves building a path) */
/*
 * Argument conditions (bpf cmd, socket family...): the rules whose condition
 * (nr, argument i, its value) holds, for the arguments some rule checks
 * (rs->arg_idx: at most 6 lookups, usually one), or-ed into *have.
 */
static __always_inline void vg_sys_arg_bits(const struct vg_ruleset *rs, __u32 gen, __u32 nr,
					    const __u64 *args, struct vg_rbits *have)
{
	for (int i = 0; i < 6; i++) {
		struct vg_rule_key k = { .gen = gen, .kind = VG_RK_SYSCALL,
					 .what = VG_RW_SYSCALL_ARG };
		struct vg_rbits *h;

		if (!(rs->arg_idx & (1u << i)))
			continue;
		k.aux = VG_ARG_AUX(nr, i);
		k.value = args[i];
		h = bpf_map_lookup_elem(&vg_rule_names, &k);
		if (h) {
			have->w[0] |= h->w[0];
			have->w[1] |= h->w[1];
		}
	}
}

static __always_inline bool vg_rules_want_file(__u32 act, __u32 gen)
{
	struct vg_ruleset *rs = vg_ruleset_get(gen, VG_RK_FILE);
	__u64 m0 = 0, m1 = 0;

	if (!rs || !rs->nrules)
		return false;
	for (int i = 0; i < 32; i++) {
		if (act & (1u << i)) {
			m0 |= rs->act[i].w[0];
			m1 |= rs->act[i].w[1];
		}
	}
	return (m0 & rs->all.w[0]) | (m1 & rs->all.w[1]);
}

/*
 * Evaluate the rules of `kind` for the operation prepared in sc->ev (and
 * sc->str when ev.has_str); send an alert if some rule is a candidate (or,
 * for exec, if some rule scans every exec). Returns 1 if a message was sent.
 * Global (rules.bpf.c).
 */
int vg_rules_eval(__u32 kind);

/* vg_name_hash of the last component of the scratch string (sc->str). */
__u64 vg_base_hash(void);

/* The same for an interned string, by id (copies it into sc->str). 0 if unknown. */
__u64 vg_str_base_hash(__u64 id);

#endif /* VG_RULES_BPF_H */
