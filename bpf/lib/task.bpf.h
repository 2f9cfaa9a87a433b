/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Reading a task into a process record: identity, credentials, namespaces,
 * cgroup, executable and argv. Shared by the lifecycle hooks and the start-up
 * snapshot so both produce identical records.
 *
 * The task pointers these get are BTF pointers (tp_btf arguments, iterator
 * context), so fields are read with plain loads — the verifier turns them into
 * fault-safe loads — instead of one bpf_probe_read_kernel() call per hop:
 * several times cheaper on the fork/exec path.
 */
#ifndef VG_TASK_BPF_H
#define VG_TASK_BPF_H

#include "lib/common.bpf.h"
#include "lib/compat.bpf.h"
#include "lib/path.bpf.h"
#include "lib/rules.bpf.h"
#include "lib/strings.bpf.h"

#define VG_PF_KTHREAD_TASK 0x00200000 /* PF_KTHREAD in task_struct::flags */

/* The process a task belongs to, named by its group leader's start time. */
static __always_inline void vg_task_key(struct task_struct *t, struct vg_proc_key *k)
{
	k->start_ns = t->group_leader->start_boottime;
	k->tgid = t->tgid;
	k->_pad = 0;
}

static __always_inline void vg_task_creds(struct task_struct *t, struct vg_proc *p)
{
	const struct cred *c = t->real_cred;

	p->uid = c->uid.val;
	p->gid = c->gid.val;
	p->euid = c->euid.val;
	p->egid = c->egid.val;
	p->auid = vg_task_loginuid(t);
	p->ns_user = c->user_ns->ns.inum;
}

/* nsproxy is gone once a task is past exit_task_namespaces(): leave ns ids as they were. */
static __always_inline void vg_task_namespaces(struct task_struct *t, struct vg_proc *p)
{
	struct nsproxy *ns = t->nsproxy;
	struct pid *pid;
	unsigned int level;

	if (!ns)
		return;
	p->ns_mnt = ns->mnt_ns->ns.inum;
	p->ns_net = ns->net_ns->ns.inum;
	p->ns_uts = ns->uts_ns->ns.inum;
	p->ns_ipc = ns->ipc_ns->ns.inum;
	p->ns_cgroup = ns->cgroup_ns->ns.inum;
	/* numbers[level]: a variable index, which plain loads can't take. */
	pid = BPF_CORE_READ(t, thread_pid);
	level = BPF_CORE_READ(pid, level);
	p->ns_pid = BPF_CORE_READ(pid, numbers[level].ns, ns.inum);
}

/* cgroup v2 id and (interned, cached per id) path of the task's cgroup. */
static __always_inline void vg_task_cgroup(struct vg_scratch *sc, struct task_struct *t,
					   struct vg_proc *p)
{
	struct kernfs_node *kn = t->cgroups->dfl_cgrp->kn;
	__u64 id = kn->id;
	__u64 kn_addr;
	__u64 *path;

	p->cgroup_id = id;
	path = bpf_map_lookup_elem(&vg_cgpaths, &id);
	if (path) {
		p->cgroup = *path;
		return;
	}
	kn_addr = (__u64)BPF_CORE_READ(t, cgroups, dfl_cgrp, kn); /* an integer, for the global */
	p->cgroup = vg_cgroup_path_build(kn_addr) >= 0 ? vg_intern_scratch() : 0;
	if (p->cgroup)
		bpf_map_update_elem(&vg_cgpaths, &id, &p->cgroup, BPF_ANY);
}

/* Identity and context of a task; leaves exe/argv/lineage to the caller. */
static __always_inline void vg_task_fill(struct vg_scratch *sc, struct task_struct *t,
					 struct vg_proc *p)
{
	vg_task_key(t, &p->key);
	__builtin_memcpy(p->comm, t->group_leader->comm, sizeof(p->comm));
	vg_task_creds(t, p);
	vg_task_namespaces(t, p);
	vg_task_cgroup(sc, t, p);
	if (t->flags & VG_PF_KTHREAD_TASK)
		p->flags |= VG_PF_KTHREAD;
}

/* The parent as the kernel sees it now (at fork: the process that forked). */
static __always_inline void vg_task_parent(struct task_struct *t, struct vg_proc *p)
{
	struct task_struct *rp = t->real_parent;

	vg_task_key(rp, &p->parent);
	p->ppid = p->parent.tgid;
	if (p->key.tgid == 1 || p->key.tgid == 2 || p->ppid == 0) {
		p->parent.start_ns = 0; /* init and kthreadd have no parent process */
		p->parent.tgid = 0;
		p->ppid = 0;
	}
}

/* Intern the path of an executable file; returns its id, sets flags and exe_base on p.
 * The path stays in sc->str. */
static __always_inline __u64 vg_file_path_intern(struct vg_scratch *sc, struct file *f,
						 struct vg_proc *p)
{
	int pf;
	__u64 id;

	if (!f)
		return 0;
	/* Global functions take integers: BPF_CORE_READ yields those, plain loads don't. */
	pf = vg_path_build((__u64)BPF_CORE_READ(f, f_path.dentry), (__u64)BPF_CORE_READ(f, f_path.mnt));
	if (pf < 0)
		return 0;
	if (pf & VG_PATHF_TRUNC)
		p->flags |= VG_PF_TRUNC_EXE;
	if (pf & (VG_PATHF_DELETED | VG_PATHF_DETACHED))
		p->flags |= VG_PF_EXE_DELETED;
	p->exe_base = vg_base_hash(); /* children's exec rules match on their parent's name */
	id = vg_intern_scratch();
	if (!id)
		p->flags |= VG_PF_STR_LOST;
	return id;
}

/*
 * argv from the process's argument area. `remote` reads another process's
 * memory (sleepable programs only); otherwise t must be current, right after
 * exec, when the kernel has just written the area.
 */
static __always_inline __u64 vg_argv_read(struct vg_scratch *sc, struct task_struct *t,
					  struct vg_proc *p, const bool remote)
{
	struct mm_struct *mm = t->mm;
	unsigned long start, end;
	__u32 len, max = vg_argv_max;
	__u64 id;

	if (!mm)
		return 0;
	start = mm->arg_start;
	end = mm->arg_end;
	if (end <= start)
		return 0;
	len = end - start;
	if (max > VG_STR_MAX)
		max = VG_STR_MAX;
	p->flags &= ~VG_PF_TRUNC_ARGV;
	if (len > max) {
		len = max;
		p->flags |= VG_PF_TRUNC_ARGV;
		vg_count(VG_ST_TRUNC_ARGV);
	}
	if (len == 0 || len > VG_STR_MAX)
		return 0;
	/* str.data is followed by tmp in the scratch: a size below 2 * VG_STR_MAX is in bounds. */
	len = vg_idx(len, 2 * VG_STR_MAX - 1);
	if (remote ? bpf_copy_from_user_task(sc->str.data, len, (void *)start, t, 0)
		   : bpf_probe_read_user(sc->str.data, len, (void *)start))
		return 0;
	sc->str.data[vg_idx(len - 1, VG_STR_MAX - 1)] = 0;
	sc->str.h.len = len;
	sc->str.h.flags = (p->flags & VG_PF_TRUNC_ARGV) ? VG_STRF_TRUNC : 0;
	id = vg_intern_scratch();
	if (!id)
		p->flags |= VG_PF_STR_LOST;
	return id;
}

static __always_inline __u64 vg_task_argv_intern(struct vg_scratch *sc, struct task_struct *t,
						 struct vg_proc *p)
{
	return vg_argv_read(sc, t, p, false);
}

#endif /* VG_TASK_BPF_H */
