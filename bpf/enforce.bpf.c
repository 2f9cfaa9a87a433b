// SPDX-License-Identifier: GPL-2.0
/*
 * Runtime policies, the tracepoint tier (any kernel vigil runs on) and the
 * functions the LSM tier (lsm.bpf.c) shares with it:
 *   vg_enf_sys       sys_enter of each syscall a policy names (the daemon attaches
 *                    it to exactly those): SIGKILL / SIGSTOP from the kernel before
 *                    the syscall runs. SIGKILL is delivered before the return to
 *                    user space: the call may still run, its result is never used.
 *   vg_enforce_exec  called by the exec hook (proc.bpf.c, sched_process_exec):
 *                    the new image never runs its first instruction.
 *   vg_enf_open      sys_exit of the open family (attached only while file rules
 *                    exist): the file is open, SIGKILL before the process can use
 *                    the descriptor (O_CREAT/O_TRUNC have taken effect).
 * Nothing here runs for a syscall no policy names; with a policy, one array and
 * one hash lookup decide for processes it does not target.
 */
#include "lib/common.bpf.h"
#include "lib/enforce.bpf.h"
#include "lib/task.bpf.h"
#include "lib/file.bpf.h"
#include "lib/path.bpf.h"
#include "lib/strings.bpf.h"

#define SIGKILL 9
#define SIGSTOP 19

/* Is bit b of m set? Lowest set bit of m, 64 if none (no ctz in BPF). */
static __always_inline __u32 lowest_bit(__u64 m)
{
	for (__u32 i = 0; i < 64; i++)
		if (m & (1ULL << i))
			return i;
	return 64;
}

/* pid 1, kernel threads, vigil and its ancestors: never acted upon. */
static __always_inline bool protected_task(struct task_struct *t)
{
	__u32 tgid = t->tgid;

	if (tgid <= 1 || tgid == vg_self_tgid || (t->flags & VG_PF_KTHREAD_TASK))
		return true;
	return bpf_map_lookup_elem(&vg_pol_protect, &tgid) != NULL;
}

/* Copy an interned string into sc->tmp (the exe-prefix target), 0 if unknown. */
static __always_inline __u32 str_to_tmp(struct vg_scratch *sc, __u64 id)
{
	void *data = NULL;
	__u32 len = 0;

	switch (VG_STR_CLASS_OF(id)) {
	case 0: {
		struct vg_str_128 *s = bpf_map_lookup_elem(&vg_strs_s, &id);

		if (s) {
			data = s->data;
			len = s->h.len;
		}
		break;
	}
	case 1: {
		struct vg_str_512 *s = bpf_map_lookup_elem(&vg_strs_m, &id);

		if (s) {
			data = s->data;
			len = s->h.len;
		}
		break;
	}
	default: {
		struct vg_str_4096 *s = bpf_map_lookup_elem(&vg_strs_l, &id);

		if (s) {
			data = s->data;
			len = s->h.len;
		}
		break;
	}
	}
	if (!data || len < 2)
		return 0;
	/* only the LPM's share is ever compared */
	if (bpf_probe_read_kernel(sc->tmp, VG_LPM_MAX, data))
		return 0;
	return len - 1 > VG_LPM_MAX ? VG_LPM_MAX : len - 1;
}

static __always_inline __u64 lpm_lookup(struct vg_scratch *sc, __u32 gen, __u32 kind,
					const char *src, __u32 len)
{
	__u64 *m;

	sc->lpm.prefixlen = 16 + 8 * len;
	sc->lpm.gen = gen;
	sc->lpm.kind = kind;
	__builtin_memcpy(sc->lpm.data, src, VG_LPM_MAX);
	m = bpf_map_lookup_elem(&vg_pol_prefix, &sc->lpm);
	return m ? *m : 0;
}

static __always_inline __u64 comm_hash(const char *comm)
{
	__u64 h = VG_NAME_HASH_INIT;

	for (int i = 0; i < VG_COMM_LEN - 1; i++) {
		if (!comm[i])
			break;
		h = VG_NAME_HASH_STEP(h, comm[i]);
	}
	return h;
}


/* Which candidate rules' targets hold for the current task, in generation gen's tables. */
static __always_inline __u64 pol_target(__u64 cand, __u32 in_exec, __u32 gen,
					struct vg_pol_set *ps)
{
	struct task_struct *t = bpf_get_current_task_btf();
	struct vg_scratch *sc = vg_scratch();
	struct vg_proc_key k, up;
	struct vg_proc *p;
	char comm[VG_COMM_LEN];
	__u64 c, exe = 0, have;
	__u32 euid;

	if (!ps || !sc || protected_task(t))
		return 0;
	c = cand & ps->all;
	if (!c)
		return 0;
	vg_task_key(t, &k);
	p = bpf_map_lookup_elem(&vg_procs, &k);
	/* At exec the record still names the caller: its comm and creds are updated
	 * after this, its previous exe is prev_exe. */
	if (in_exec && p) {
		__builtin_memcpy(comm, p->comm, sizeof(comm));
		euid = p->euid;
		exe = p->prev_exe;
	} else {
		__builtin_memcpy(comm, t->comm, sizeof(comm));
		euid = t->cred->euid.val;
		exe = p ? p->exe : 0;
	}
	if (c & ps->need[VG_PW_UID])
		NEED(c, ps->need[VG_PW_UID], vg_pol_lookup(gen, VG_PW_UID, 0, euid));
	if (c & ps->need[VG_PW_COMM])
		NEED(c, ps->need[VG_PW_COMM], vg_pol_lookup(gen, VG_PW_COMM, 0, comm_hash(comm)));
	if (c & ps->need[VG_PW_CGROUP]) {
		/* the cgroup it is in now (its path is cached per id), else the record's */
		__u64 cgid = bpf_get_current_cgroup_id(), sid = p ? p->cgroup : 0, *cp;
		__u32 len;

		cp = bpf_map_lookup_elem(&vg_cgpaths, &cgid);
		if (cp)
			sid = *cp;
		len = sid ? str_to_tmp(sc, sid) : 0;
		have = len ? lpm_lookup(sc, gen, VG_PL_CGROUP, sc->tmp, len) : 0;
		NEED(c, ps->need[VG_PW_CGROUP], have);
	}
	if (c & ps->need[VG_PW_EXE]) {
		have = exe ? vg_pol_lookup(gen, VG_PW_EXE, 0, exe) : 0;
		if (exe && (c & ps->need_exe_prefix & ~have)) {
			__u32 len = str_to_tmp(sc, exe);

			if (len)
				have |= lpm_lookup(sc, gen, VG_PL_EXE, sc->tmp, len);
		}
		NEED(c, ps->need[VG_PW_EXE], have);
	}
	if ((c & ps->need[VG_PW_ANCESTOR]) && p) {
		have = 0;
		up = p->parent;
		for (int i = 0; i < VG_POL_ANCESTORS && up.tgid; i++) {
			struct vg_proc *a = bpf_map_lookup_elem(&vg_procs, &up);

			if (!a)
				break;
			if (a->exe)
				have |= vg_pol_lookup(gen, VG_PW_ANCESTOR, 0, a->exe);
			up = a->parent;
		}
		NEED(c, ps->need[VG_PW_ANCESTOR], have);
	} else if (c & ps->need[VG_PW_ANCESTOR]) {
		c &= ~ps->need[VG_PW_ANCESTOR];
	}
	return c;
}

__noinline __u64 vg_pol_target(__u64 cand, __u32 in_exec)
{
	struct vg_pol_set *ps;
	__u32 gen;

	ps = vg_pol_set_now(&gen);
	return pol_target(cand, in_exec, gen, ps);
}

/* The network policy's connect/sendmsg hooks: the entries of RuntimePolicy
 * network rules were compiled against generation gen (still intact while the
 * network policy is rebuilt after a policy reload). */
__noinline __u64 vg_pol_target_gen(__u64 cand, __u32 gen)
{
	__u32 slot = gen & 1;

	return pol_target(cand, 0, slot, bpf_map_lookup_elem(&vg_pol_sets, &slot));
}

static __always_inline void mark_frozen(struct task_struct *t)
{
	struct vg_proc_key k;
	struct vg_proc *p;

	vg_task_key(t, &k);
	p = bpf_map_lookup_elem(&vg_procs, &k);
	if (p)
		p->flags |= VG_PF_FROZEN;
}

__noinline int vg_pol_act(__u64 hits, __u32 hook, __u32 lsm)
{
	struct task_struct *t = bpf_get_current_task_btf();
	struct vg_scratch *sc = vg_scratch();
	struct vg_enforce_msg *m;
	struct vg_pol_set *ps;
	__u64 live, deny, kill, stop;
	__u32 gen, rule, action = VG_PA_ALERT, by = VG_EB_NONE, audit = 0;
	__u64 t0 = bpf_ktime_get_boot_ns();
	int ret = 0;

	ps = vg_pol_set_now(&gen);
	if (!ps || !sc || !hits)
		return 0;
	live = hits & ~ps->audit;
	deny = lsm ? live & ps->block & ps->lsm : 0;
	kill = live & (ps->kill | (ps->block & ~ps->lsm));
	stop = live & ps->stop;
	if (kill) {
		rule = lowest_bit(kill);
		action = (ps->kill & (1ULL << (rule & 63))) ? VG_PA_KILL : VG_PA_BLOCK;
		by = VG_EB_SIGNAL;
		bpf_send_signal(SIGKILL);
		if (deny)
			ret = -1; /* EPERM as well: nothing of the operation happens */
	} else if (deny) {
		rule = lowest_bit(deny);
		action = VG_PA_BLOCK;
		by = VG_EB_LSM;
		ret = -1;
	} else if (stop) {
		rule = lowest_bit(stop);
		action = VG_PA_FREEZE;
		by = VG_EB_SIGNAL;
		bpf_send_signal(SIGSTOP);
		mark_frozen(t);
	} else {
		/* only alerts, or audit: say what would have been done */
		rule = lowest_bit(hits);
		if (rule >= 64)
			return 0;
		audit = (ps->audit >> rule) & 1;
		if ((ps->kill >> rule) & 1)
			action = VG_PA_KILL;
		else if ((ps->block >> rule) & 1)
			action = VG_PA_BLOCK;
		else if ((ps->stop >> rule) & 1)
			action = VG_PA_FREEZE;
		if (audit)
			by = ((ps->lsm >> rule) & 1) && lsm ? VG_EB_LSM : VG_EB_SIGNAL;
	}
	m = bpf_ringbuf_reserve(&vg_events, sizeof(*m), 0);
	if (!m) {
		vg_count(VG_ST_RB_DROP);
		return ret;
	}
	__builtin_memcpy(&m->a, &sc->ev.a, sizeof(m->a));
	m->a.hdr.type = VG_MSG_ENFORCE;
	m->a.hdr.len = sizeof(*m);
	m->a.hdr.time_ns = t0;
	vg_task_key(t, &m->a.proc);
	__builtin_memset(&m->a.rules, 0, sizeof(m->a.rules));
	m->a.rules.w[0] = hits;
	m->a.gen = gen;
	m->a._pad = 0;
	m->a.uid = t->cred->euid.val;
	m->enter_ns = sc->ev.a.hdr.time_ns;
	m->rule = rule;
	m->action = action;
	m->by = by;
	m->audit = audit;
	m->hook = hook;
	bpf_ringbuf_submit(m, BPF_RB_FORCE_WAKEUP); /* rare, and someone should know now */
	return ret;
}

/* The syscall's own arguments, from the registers saved at entry. */
static __always_inline void sys_prepare(struct vg_scratch *sc, struct task_struct *t, __u32 nr)
{
	struct pt_regs *r = (struct pt_regs *)bpf_task_pt_regs(t);
	struct vg_eval *ev = &sc->ev;

	__builtin_memset(ev, 0, sizeof(*ev));
	ev->a.hdr.time_ns = bpf_ktime_get_boot_ns();
	ev->a.kind = VG_RK_SYSCALL;
	ev->a.sys.nr = nr;
	ev->a.sys.args[0] = r->di;
	ev->a.sys.args[1] = r->si;
	ev->a.sys.args[2] = r->dx;
	ev->a.sys.args[3] = r->r10;
	ev->a.sys.args[4] = r->r8;
	ev->a.sys.args[5] = r->r9;
}

struct vg_sys_enter_ctx {
	__u64 common;
	__s32 nr;
	__s32 _pad;
};

SEC("tracepoint/syscalls/sys_enter_ptrace")
int vg_enf_sys(struct vg_sys_enter_ctx *ctx)
{
	struct task_struct *t = bpf_get_current_task_btf();
	struct vg_scratch *sc;
	struct vg_pol_set *ps;
	__u64 c;
	__u32 gen, nr = ctx->nr;

	ps = vg_pol_set_now(&gen);
	if (!ps || !ps->all || t->tgid == vg_self_tgid)
		return 0;
	if (!(vg_pol_lookup(gen, VG_PW_SYSCALL, 0, nr) & ps->all))
		return 0;
	sc = vg_scratch();
	if (!sc)
		return 0;
	sys_prepare(sc, t, nr);
	c = sys_rules(ps, gen, nr, sc->ev.a.sys.args);
	c &= ~(ps->lsm & ps->block & ~ps->audit); /* the LSM hook denies those */
	if (!c)
		return 0;
	c = vg_pol_target(c, 0);
	if (c) {
		__s64 pid = 0;

		if (nr == 101) /* ptrace(request, pid) */
			pid = (__s64)sc->ev.a.sys.args[1];
		else if (nr == 310 || nr == 311 || nr == 62) /* process_vm_*, kill */
			pid = (__s32)sc->ev.a.sys.args[0];
		if (pid > 0) {
			__u32 tgid = pid;
			struct vg_proc_key *tk = bpf_map_lookup_elem(&vg_live, &tgid);

			if (tk)
				sc->ev.a.sys.target = *tk;
		}
		vg_pol_act(c, VG_EH_SYS_ENTER, 0);
	}
	return 0;
}

__noinline int vg_enforce_exec(void)
{
	struct task_struct *t = bpf_get_current_task_btf();
	struct vg_scratch *sc = vg_scratch();
	struct vg_proc_key k;
	struct vg_pol_set *ps;
	struct vg_proc *p;
	__u64 c, exe;
	__u32 gen, len;

	ps = vg_pol_set_now(&gen);
	if (!sc || !ps || !ps->all)
		return 0;
	vg_task_key(t, &k);
	p = bpf_map_lookup_elem(&vg_procs, &k);
	if (!p)
		return 0;
	exe = p->exe;
	c = exe ? vg_pol_lookup(gen, VG_PW_EXEC, 0, exe) : 0;
	len = sc->str.h.len;
	if ((ps->exec_prefix & ps->all & ~c) && len > 1) {
		len = len - 1 > VG_LPM_MAX ? VG_LPM_MAX : len - 1;
		c |= lpm_lookup(sc, gen, VG_PL_EXEC, sc->str.data, len);
	}
	c &= ps->all & ~(ps->lsm & ps->block & ~ps->audit);
	if (!c)
		return 0;
	c = vg_pol_target(c, 1);
	if (!c)
		return 0;
	__builtin_memset(&sc->ev.a, 0, sizeof(sc->ev.a));
	sc->ev.a.hdr.time_ns = bpf_ktime_get_boot_ns();
	sc->ev.a.kind = VG_RK_EXEC;
	sc->ev.a.exec.exe = exe;
	sc->ev.a.exec.argv = p->argv;
	sc->ev.a.exec.flags = p->flags;
	{
		struct vg_proc *pp = bpf_map_lookup_elem(&vg_procs, &p->parent);

		sc->ev.a.exec.parent_exe = pp ? pp->exe : 0;
	}
	vg_pol_act(c, VG_EH_EXEC, 0);
	return 0;
}

/* The file rules whose paths hold for (dentry, mnt): exact (interned id) or
 * prefix. The path is left in sc->str, its id in sc->ev.path. Integers for
 * pointers, as vg_path_build takes them. */
__noinline __u64 vg_pol_file_match(__u64 dentry, __u64 mnt)
{
	struct vg_scratch *sc = vg_scratch();
	struct vg_pol_set *ps;
	__u64 c = 0, id, *m;
	__u32 gen, len;

	ps = vg_pol_set_now(&gen);
	if (!sc || !ps)
		return 0;
	sc->ev.path = 0;
	if (vg_path_build(dentry, mnt) < 0)
		return 0;
	len = sc->str.h.len;
	id = vg_intern_scratch();
	sc->ev.path = id;
	if (id)
		c = vg_pol_lookup(gen, VG_PW_FILE, 0, id);
	if ((ps->file_prefix & ~c) && len > 1) {
		len = len - 1 > VG_LPM_MAX ? VG_LPM_MAX : len - 1;
		sc->lpm.prefixlen = 16 + 8 * len;
		sc->lpm.gen = gen;
		sc->lpm.kind = VG_PL_FILE;
		__builtin_memcpy(sc->lpm.data, sc->str.data, VG_LPM_MAX);
		m = bpf_map_lookup_elem(&vg_pol_prefix, &sc->lpm);
		if (m)
			c |= *m;
	}
	return c;
}

SEC("tracepoint/syscalls/sys_exit_openat")
int vg_enf_open(struct vg_sys_exit_ctx *ctx)
{
	struct task_struct *t = bpf_get_current_task_btf();
	struct vg_pol_set *ps;
	struct file *f;
	__u32 gen, fmode;
	__u64 c;

	ps = vg_pol_set_now(&gen);
	if (!ps || !((ps->file_read | ps->file_write) & ps->all) || ctx->ret < 0 ||
	    t->tgid == vg_self_tgid)
		return 0;
	f = vg_fd_file(t, (int)ctx->ret);
	if (!f)
		return 0;
	fmode = BPF_CORE_READ(f, f_mode);
	c = ps->all & ~(ps->lsm & ps->block & ~ps->audit); /* the LSM hook denies those */
	c = vg_pol_file_open(ps, c, f, fmode, 0);
	if (!c)
		return 0;
	vg_pol_act(c, VG_EH_OPEN_EXIT, 0);
	return 0;
}
