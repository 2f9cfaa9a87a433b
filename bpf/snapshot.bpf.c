// SPDX-License-Identifier: GPL-2.0
/*
 * Start-up snapshot: after the lifecycle hooks are attached, walk every task
 * once and record the processes that predate vigil (flagged FROM_SNAPSHOT).
 * Processes already recorded by the hooks are left alone. Each live process's
 * key is written to the iterator's output so user space can reconcile records
 * left alive by a previous daemon. Sleepable (Linux >= 5.18) so argv of other
 * processes can be read; older kernels use the /proc fallback in user space.
 */
#include "lib/common.bpf.h"
#include "lib/task.bpf.h"

SEC("iter.s/task")
int vg_snapshot(struct bpf_iter__task *ctx)
{
	struct task_struct *t = ctx->task;
	struct vg_scratch *sc;
	struct vg_proc *p;
	__u32 tgid;

	if (!t || t->pid != t->tgid)
		return 0; /* end of walk, or a thread */
	sc = vg_scratch();
	if (!sc)
		return 0;
	p = &sc->proc;
	__builtin_memset(p, 0, sizeof(*p));
	vg_task_fill(sc, t, p);
	bpf_seq_write(ctx->meta->seq, &p->key, sizeof(p->key));
	if (bpf_map_lookup_elem(&vg_procs, &p->key))
		return 0; /* known: seen by a hook, or by an earlier daemon */

	vg_task_parent(t, p);
	p->flags |= VG_PF_FROM_SNAPSHOT;
	p->exe = vg_file_path_intern(sc, t->mm->exe_file, p);
	p->argv = vg_argv_read(sc, t, p, true);
	tgid = p->key.tgid;
	if (bpf_map_update_elem(&vg_procs, &p->key, p, BPF_NOEXIST) == 0) {
		vg_gauge_add(1, 0);
		vg_count(VG_ST_SNAPSHOT);
		bpf_map_update_elem(&vg_live, &tgid, &p->key, BPF_NOEXIST);
	} else if (!bpf_map_lookup_elem(&vg_procs, &p->key)) {
		vg_count(VG_ST_PROC_INSERT_FAIL); /* not a race with a hook: the table is full */
	}
	return 0;
}
