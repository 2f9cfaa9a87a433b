// SPDX-License-Identifier: GPL-2.0
/*
 * Process lifecycle: one record per process (not per thread) from fork to
 * exit, kept after exit until it ages out. tp_btf only: no kprobes, no fentry.
 */
#include "lib/common.bpf.h"
#include "lib/enforce.bpf.h"
#include "lib/file.bpf.h"
#include "lib/rules.bpf.h"
#include "lib/task.bpf.h"

/* Make room by dropping the oldest exited record; the table is near full. */
static __always_inline void vg_evict_for_room(void)
{
	struct vg_proc_key old;

	if (vg_procs_count() < (__s64)vg_procs_high)
		return;
	for (int i = 0; i < 2; i++) { /* one out per one in, plus slack */
		if (bpf_map_pop_elem(&vg_exitq, &old))
			return;
		if (bpf_map_delete_elem(&vg_procs, &old) == 0) {
			vg_gauge_add(-1, -1);
			vg_count(VG_ST_EVICT_PRESSURE);
		}
	}
}

static __always_inline int vg_proc_insert(struct vg_proc *p)
{
	int err = bpf_map_update_elem(&vg_procs, &p->key, p, BPF_NOEXIST);

	if (err == 0) {
		vg_gauge_add(1, 0);
		bpf_map_update_elem(&vg_live, &p->key.tgid, &p->key, BPF_ANY);
	} else if (err != -17 /* EEXIST */) {
		vg_count(VG_ST_PROC_INSERT_FAIL);
	}
	return err;
}

static __always_inline void vg_trace_emit(__u32 type, struct vg_proc *p)
{
	struct vg_msg_proc *m;

	if (!vg_trace)
		return;
	m = bpf_ringbuf_reserve(&vg_events, sizeof(*m), 0);
	if (!m) {
		vg_count(VG_ST_RB_DROP);
		return;
	}
	m->hdr.type = type;
	m->hdr.len = sizeof(*m);
	m->hdr.time_ns = bpf_ktime_get_boot_ns();
	__builtin_memcpy(&m->proc, p, sizeof(*p));
	bpf_ringbuf_submit(m, 0);
}

/*
 * A record for a task we have none for (started before vigil and missed by
 * the snapshot, or lost to a full table): built from what the task shows now.
 */
static __always_inline struct vg_proc *vg_proc_adopt(struct vg_scratch *sc,
						     struct task_struct *t)
{
	struct vg_proc *p = &sc->proc;
	struct vg_proc *rec;

	__builtin_memset(p, 0, sizeof(*p));
	vg_task_fill(sc, t, p);
	vg_task_parent(t, p);
	p->flags |= VG_PF_PARENT_UNKNOWN;
	p->exe = vg_file_path_intern(sc, t->mm->exe_file, p);
	p->argv = vg_task_argv_intern(sc, t, p);
	vg_count(VG_ST_PROC_MISSING);
	vg_evict_for_room();
	vg_proc_insert(p);
	rec = bpf_map_lookup_elem(&vg_procs, &p->key);
	return rec;
}

/*
 * The parent's exe basename hash, for exec rules on its children. Records
 * made by user space (the /proc snapshot) have none yet: computed once from
 * the interned exe and kept. Uses sc->str: call before building anything.
 */
static __always_inline __u64 vg_parent_base(const struct vg_proc_key *parent)
{
	struct vg_proc *pp = bpf_map_lookup_elem(&vg_procs, parent);

	if (!pp)
		return 0;
	if (!pp->exe_base && pp->exe)
		pp->exe_base = vg_str_base_hash(pp->exe);
	return pp->exe_base;
}

/*
 * Detection at exec, with the exe's path in sc->str: the file record of the
 * executable (VG_FA_EXEC, file rules), then the exec rules with the exec
 * conditions the kernel can see.
 */
static __always_inline void vg_exec_detect(struct vg_scratch *sc, struct task_struct *t,
					   struct vg_proc *p, __u64 file, __u64 parent_base)
{
	struct vg_eval *ev = &sc->ev;
	struct vg_proc *pp;
	__u32 conds = 0;

	if (t->tgid == vg_self_tgid)
		return;
	vg_file_slow(file, VG_FA_EXEC, 0, p->exe);
	if (p->flags & VG_PF_EXE_DELETED)
		conds |= 1u << VG_XC_MEMFD;
	if (vg_fd_is_sock(t, 0) || vg_fd_is_sock(t, 1)) {
		conds |= 1u << VG_XC_STDIO_SOCK;
	} else if (vg_fd_is_pty(t, 0)) {
		/* a pty relay: the shell on a pseudo-terminal whose other end a parent with
		 * its stdio on a socket copies to and from it (pty.spawn after dup2, script) */
		struct task_struct *pt = t->real_parent;

		if (vg_fd_is_sock(pt, 0) || vg_fd_is_sock(pt, 1))
			conds |= 1u << VG_XC_STDIO_SOCK | 1u << VG_XC_VIA_PTY;
	} else if (p->stdin_pipe && p->stdout_pipe) {
		/* maybe a pipe relay: a parent copying both pipes to and from a socket it holds
		 * on any fd (ncat -e, a Go implant's exec.Cmd with the connection as Stdin and
		 * Stdout). Which fds it holds is not walked here: user space confirms, for the
		 * programs a rule names, that the parent holds the pipe and an inet socket. */
		conds |= 1u << VG_XC_STDIO_SOCK;
	}
	/* The real uid doesn't change across exec: root came from a set-uid file. */
	if (p->uid != 0 && p->euid == 0)
		conds |= 1u << VG_XC_GAINED_ROOT;
	__builtin_memset(ev, 0, sizeof(*ev));
	pp = bpf_map_lookup_elem(&vg_procs, &p->parent);
	ev->a.exec.parent_exe = pp ? pp->exe : 0;
	ev->a.exec.exe = p->exe;
	ev->a.exec.argv = p->argv;
	ev->a.exec.flags = p->flags;
	ev->a.exec.conds = conds;
	ev->path = p->exe;
	ev->exe = p->exe;
	ev->base = p->exe_base;
	ev->parent_base = parent_base;
	ev->conds = conds;
	ev->has_str = 1;
	vg_rules_eval(VG_RK_EXEC);
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(vg_fork, struct task_struct *parent, struct task_struct *child)
{
	struct vg_scratch *sc;
	struct vg_proc *p, *pp;

	if (child->pid != child->tgid)
		return 0; /* a thread, not a process */
	sc = vg_scratch();
	if (!sc)
		return 0;
	p = &sc->proc;
	__builtin_memset(p, 0, sizeof(*p));
	vg_task_fill(sc, child, p);
	vg_task_parent(child, p);
	vg_count(VG_ST_FORK);

	/* Until it execs, the child runs its parent's image. */
	pp = bpf_map_lookup_elem(&vg_procs, &p->parent);
	if (!pp && p->parent.tgid) {
		/* A parent recorded from /proc has an approximate start: use its key. */
		struct vg_proc_key *lk = bpf_map_lookup_elem(&vg_live, &p->parent.tgid);

		if (lk) {
			p->parent = *lk;
			pp = bpf_map_lookup_elem(&vg_procs, &p->parent);
		}
	}
	if (pp) {
		p->exe = pp->exe;
		p->exe_base = pp->exe_base;
		p->argv = pp->argv;
		p->argc = pp->argc;
		p->flags |= pp->flags & (VG_PF_TRUNC_ARGV | VG_PF_TRUNC_EXE | VG_PF_EXE_DELETED);
		/* A quarantined process tree stays quarantined (network policy enforces it). */
		p->flags |= pp->flags & VG_PF_NET_QUARANTINE;
	} else if (p->parent.tgid) {
		p->flags |= VG_PF_PARENT_UNKNOWN;
	}
	vg_evict_for_room();
	vg_proc_insert(p);
	return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(vg_exec, struct task_struct *t, pid_t old_pid, struct linux_binprm *bprm)
{
	struct vg_proc_key key;
	struct vg_scratch *sc;
	struct vg_proc *p;
	__u64 exe, parent_base;

	sc = vg_scratch();
	if (!sc)
		return 0;
	vg_count(VG_ST_EXEC);
	vg_task_key(t, &key);
	p = bpf_map_lookup_elem(&vg_procs, &key);
	if (!p) {
		p = vg_proc_adopt(sc, t);
		if (!p)
			return 0;
	}
	parent_base = vg_parent_base(&p->parent);
	p->flags &= ~(VG_PF_TRUNC_EXE | VG_PF_EXE_DELETED | VG_PF_STR_LOST);
	p->argv = vg_task_argv_intern(sc, t, p);
	/* The exe last: its path stays in sc->str for the rules below. */
	exe = vg_file_path_intern(sc, bprm->file, p);
	p->prev_exe = p->exe;
	p->exe = exe;
	p->argc = bprm->argc;
	p->exec_ns = bpf_ktime_get_boot_ns();
	p->exec_count++;
	p->flags |= VG_PF_EXECED | VG_PF_STDIO_SEEN;
	p->stdin_pipe = vg_fd_pipe_ino(t, 0);
	p->stdout_pipe = vg_fd_pipe_ino(t, 1);
	/* Policies (enforce.bpf.c): before comm and creds move on to the new image. */
	vg_enforce_exec();
	__builtin_memcpy(p->comm, t->comm, sizeof(p->comm));
	vg_task_creds(t, p);
	vg_exec_detect(sc, t, p, (__u64)BPF_CORE_READ(bprm, file), parent_base);
	vg_task_cgroup(sc, t, p);
	vg_trace_emit(VG_MSG_EXEC, p);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(vg_exit, struct task_struct *t)
{
	struct vg_proc_key key, *live;
	struct vg_scratch *sc;
	struct vg_proc *p;
	bool adopted = false;
	__u32 tgid;

	/* Every thread passes here; the process ends with its last thread. */
	if (t->signal->live.counter != 0)
		return 0;
	sc = vg_scratch();
	if (!sc)
		return 0;
	vg_task_key(t, &key);
	tgid = key.tgid;

	/*
	 * Several exiting threads may all see live == 0. Whoever deletes the
	 * live-index entry records the exit; the others stop here. (An atomic
	 * fetch-or on the flags would need Linux 5.12.)
	 */
	live = bpf_map_lookup_elem(&vg_live, &tgid);
	if (live) {
		struct vg_proc_key lk = *live;

		if (bpf_map_delete_elem(&vg_live, &tgid))
			return 0;
		p = bpf_map_lookup_elem(&vg_procs, &key);
		if (!p && lk.start_ns != key.start_ns) {
			key = lk; /* /proc-snapshot record: start time was approximate */
			p = bpf_map_lookup_elem(&vg_procs, &key);
		}
	} else {
		p = bpf_map_lookup_elem(&vg_procs, &key);
		if (p && (p->flags & VG_PF_EXITED))
			return 0;
	}
	if (!p) {
		p = vg_proc_adopt(sc, t);
		if (!p)
			return 0;
		key = p->key;
		adopted = true;
	}
	p->flags |= VG_PF_EXITED;
	p->exit_ns = bpf_ktime_get_boot_ns();
	p->exit_code = t->exit_code;
	vg_count(VG_ST_EXIT);
	vg_gauge_add(0, 1);
	if (bpf_map_push_elem(&vg_exitq, &key, 0))
		vg_count(VG_ST_EXITQ_FULL);
	if (adopted)
		bpf_map_delete_elem(&vg_live, &tgid);
	vg_trace_emit(VG_MSG_EXIT, p);
	return 0;
}
