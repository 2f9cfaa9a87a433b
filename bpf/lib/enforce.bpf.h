/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Enforcement (runtime policies): the policy tables the daemon fills
 * (include/vigil/abi.h, "enforcement"), and the two functions every hook that
 * enforces shares (bpf/enforce.bpf.c):
 *   vg_pol_target(cand, in_exec)  which of the candidate rules' targets hold for
 *                                 the current process (0 for a process vigil never
 *                                 acts on: pid 1, kernel threads, vigil and its
 *                                 ancestors)
 *   vg_pol_act(hits, hook, lsm)   take the action of the rules that hold, report it
 *                                 on vg_events; returns -EPERM when an LSM hook
 *                                 must deny
 * Both use the per-CPU scratch: the caller prepares sc->ev.a (the operation, as
 * a rule alert would carry it) before vg_pol_act.
 */
#ifndef VG_ENFORCE_BPF_H
#define VG_ENFORCE_BPF_H

#include "lib/common.bpf.h"

VG_MAP struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct vg_pol_key);
	__type(value, __u64);
} vg_pol_names SEC(".maps");

VG_MAP struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 4096);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct vg_lpm_key);
	__type(value, __u64);
} vg_pol_prefix SEC(".maps");

/* [gen] -> the generation's masks; slot 2 holds the active generation in nrules. */
VG_MAP struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 3);
	__type(key, __u32);
	__type(value, struct vg_pol_set);
} vg_pol_sets SEC(".maps");

/* Processes never acted upon besides pid 1, kernel threads and vigil: the
 * daemon's ancestors (tgid -> 1), filled by the daemon at start. */
VG_MAP struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, __u32);
} vg_pol_protect SEC(".maps");


__u64 vg_pol_target(__u64 cand, __u32 in_exec);
/* The same in a given generation (cgroup connect/sendmsg hooks, netpolicy.bpf.c). */
__u64 vg_pol_target_gen(__u64 cand, __u32 gen);
int vg_pol_act(__u64 hits, __u32 hook, __u32 lsm);
/* The exec trigger, called by the exec hook (proc.bpf.c) with the new
 * executable's path in sc->str and the record updated but for comm and creds:
 * the target is the caller as it was before exec. */
int vg_enforce_exec(void);
/* File rules whose paths match (dentry, mnt) (pointers as integers); the path
 * is left in sc->str, its id in sc->ev.path. */
__u64 vg_pol_file_match(__u64 dentry, __u64 mnt);

#define VG_FMODE_READ 0x1  /* struct file f_mode bits */
#define VG_FMODE_WRITE 0x2

/* File rules of c an open of f in mode fmode triggers: its access, its target,
 * its path. When some hold, the alert's file part is prepared in sc->ev.a (the
 * open-exit tier and the LSM file_open hook both act on it). */
static __always_inline __u64 vg_pol_file_open(const struct vg_pol_set *ps, __u64 c,
					      struct file *f, __u32 fmode, __u32 actions)
{
	struct vg_scratch *sc;

	c &= ((fmode & VG_FMODE_READ) ? ps->file_read : 0) |
	     ((fmode & VG_FMODE_WRITE) ? ps->file_write : 0);
	if (!c)
		return 0;
	c = vg_pol_target(c, 0);
	if (!c)
		return 0;
	c &= vg_pol_file_match((__u64)BPF_CORE_READ(f, f_path.dentry),
			       (__u64)BPF_CORE_READ(f, f_path.mnt));
	sc = vg_scratch();
	if (!c || !sc)
		return 0;
	__builtin_memset(&sc->ev.a, 0, sizeof(sc->ev.a));
	sc->ev.a.hdr.time_ns = bpf_ktime_get_boot_ns();
	sc->ev.a.kind = VG_RK_FILE;
	sc->ev.a.file.path = sc->ev.path;
	sc->ev.a.file.actions = actions | ((fmode & VG_FMODE_READ) ? VG_FA_READ : 0) |
				((fmode & VG_FMODE_WRITE) ? VG_FA_WRITE : 0);
	return c;
}

static __always_inline struct vg_pol_set *vg_pol_set_now(__u32 *gen)
{
	__u32 slot = VG_POL_GEN_SLOT;
	struct vg_pol_set *g = bpf_map_lookup_elem(&vg_pol_sets, &slot);

	*gen = g ? g->nrules & 1 : 0;
	slot = *gen;
	return bpf_map_lookup_elem(&vg_pol_sets, &slot);
}

static __always_inline __u64 vg_pol_lookup(__u32 gen, __u32 what, __u32 aux, __u64 value)
{
	struct vg_pol_key k = { .gen = gen, .what = what, .aux = aux, .value = value };
	__u64 *m = bpf_map_lookup_elem(&vg_pol_names, &k);

	return m ? *m : 0;
}

/* c &= have | ~need: a predicate some candidate rules need. */
#define NEED(c, need, have) ((c) &= (have) | ~(need))

/* Rules of this syscall whose argument condition (if any) holds. */
static __always_inline __u64 sys_rules(struct vg_pol_set *ps, __u32 gen, __u32 nr,
				       const __u64 *args)
{
	__u64 c = vg_pol_lookup(gen, VG_PW_SYSCALL, 0, nr) & ps->all, have = 0;

	if (c & ps->need_arg) {
		for (int i = 0; i < 6; i++)
			if (ps->arg_idx & (1u << i))
				have |= vg_pol_lookup(gen, VG_PW_SYSARG, VG_ARG_AUX(nr, i), args[i]);
		NEED(c, ps->need_arg, have);
	}
	return c;
}

#endif /* VG_ENFORCE_BPF_H */
