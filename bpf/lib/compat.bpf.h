/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel-version differences, one helper each, named for what it papers over.
 * Program code calls these and stays straight.
 */
#ifndef VG_COMPAT_BPF_H
#define VG_COMPAT_BPF_H

#include "lib/common.bpf.h"

/*
 * kernfs_node::parent became ::__parent (RCU-protected) in Linux 6.15,
 * commit 633488947ef6 ("kernfs: Use RCU to access kernfs_node::parent").
 */
struct kernfs_node___pre615 {
	struct kernfs_node *parent;
} __attribute__((preserve_access_index));

static __always_inline struct kernfs_node *vg_kernfs_parent(struct kernfs_node *kn)
{
	struct kernfs_node___pre615 *old = (void *)kn;

	if (bpf_core_field_exists(old->parent))
		return BPF_CORE_READ(old, parent);
	return BPF_CORE_READ(kn, __parent);
}

/*
 * task_struct::loginuid exists only with CONFIG_AUDIT; (u32)-1 means unset.
 */
static __always_inline __u32 vg_task_loginuid(struct task_struct *t)
{
	if (bpf_core_field_exists(t->loginuid))
		return t->loginuid.val;
	return (__u32)-1;
}

#endif /* VG_COMPAT_BPF_H */
