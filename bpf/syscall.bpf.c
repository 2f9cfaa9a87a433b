// SPDX-License-Identifier: GPL-2.0
/*
 * Syscall rules: one program attached at the exit of each syscall the rules
 * name (user space decides which: vg_sensor_hook_syscalls; by default ptrace,
 * process_vm_*, module load/unload, bpf, the setuid family, capset, unshare,
 * setns, mount, umount2, kill/tkill/tgkill, pidfd_open, memfd_create,
 * pivot_root, chroot, keyctl, personality, socket). Any syscall works: the
 * number is in the record. Without a rule for it, two array lookups and a
 * hash lookup. With one, the alert carries the six arguments, the result, the
 * path or name argument (interned, for the calls that take one) and, for calls
 * aimed at another process, that process's key (from vg_live).
 *
 * Failed calls are evaluated too (ret < 0 in the alert): an attempt is
 * evidence. The daemon's own calls are not (vg_rules_eval).
 */
#include "lib/common.bpf.h"
#include "lib/file.bpf.h"
#include "lib/path.bpf.h"
#include "lib/rules.bpf.h"
#include "lib/strings.bpf.h"
#include "lib/task.bpf.h"

enum str_kind { STR_NONE, STR_PATH, STR_NAME, STR_FD };

/* Which argument names something, and how to read it. */
static __always_inline enum str_kind str_arg(__u32 nr, int *idx)
{
	*idx = 0;
	switch (nr) {
	case VG_NR_mount:
		*idx = 1; /* the target: the path that changes */
		return STR_PATH;
	case VG_NR_umount2:
	case VG_NR_chroot:
	case VG_NR_pivot_root:
		return STR_PATH;
	case VG_NR_delete_module:
	case VG_NR_memfd_create:
		return STR_NAME;
	case VG_NR_finit_module:
	case VG_NR_setns:
		return STR_FD;
	default:
		return STR_NONE;
	}
}

/* The target's relation to the caller, by the parents as at fork (bounded). */
static __always_inline __u32 target_relation(struct task_struct *t, const struct vg_proc_key *tk)
{
	struct vg_proc_key self, k = *tk;

	vg_task_key(t, &self);
	if (k.tgid == self.tgid && k.start_ns == self.start_ns)
		return VG_KREL_SELF;
	for (int i = 0; i < VG_KREL_DEPTH; i++) {
		struct vg_proc *p = bpf_map_lookup_elem(&vg_procs, &k);

		if (!p)
			return VG_KREL_OTHER;
		k = p->parent;
		if (k.tgid == self.tgid && k.start_ns == self.start_ns)
			return i == 0 ? VG_KREL_CHILD : VG_KREL_DESCENDANT;
		if (k.tgid <= 1)
			return VG_KREL_OTHER;
	}
	return VG_KREL_OTHER;
}

/* The process a call is aimed at (its pid argument), if it names one. */
static __always_inline __s64 target_pid(__u32 nr, const __u64 *args)
{
	switch (nr) {
	case VG_NR_ptrace:
		return (__s64)args[1];
	case VG_NR_process_vm_readv:
	case VG_NR_process_vm_writev:
	case VG_NR_kill:
	case VG_NR_tkill:
	case VG_NR_tgkill:
	case VG_NR_pidfd_open:
		return (__s32)args[0];
	default:
		return 0;
	}
}

static __always_inline __u64 intern_arg(struct vg_scratch *sc, struct task_struct *t,
					enum str_kind kind, __u64 v)
{
	long n;

	switch (kind) {
	case STR_PATH:
		return vg_upath_build(v, VG_AT_FDCWD) < 0 ? 0 : vg_intern_scratch();
	case STR_NAME:
		n = bpf_probe_read_user_str(sc->str.data, VG_STR_MAX, (void *)v);
		if (n <= 0)
			return 0;
		sc->str.h.len = n;
		sc->str.h.flags = 0;
		return vg_intern_scratch();
	case STR_FD: {
		struct file *f = vg_fd_file(t, (int)v);

		if (!f || vg_path_build((__u64)BPF_CORE_READ(f, f_path.dentry),
					(__u64)BPF_CORE_READ(f, f_path.mnt)) < 0)
			return 0;
		return vg_intern_scratch();
	}
	default:
		return 0;
	}
}

SEC("tracepoint/syscalls/sys_exit_ptrace")
int vg_sys(struct vg_sys_exit_ctx *ctx)
{
	struct task_struct *t = bpf_get_current_task_btf();
	__u32 nr = ctx->nr, gen;
	struct vg_ruleset *rs;
	struct vg_rbits *hit;
	struct vg_scratch *sc;
	struct vg_eval *ev;
	struct pt_regs *r;
	struct vg_rule_key k = { .kind = VG_RK_SYSCALL, .what = VG_RW_SYSCALL };
	enum str_kind sk;
	__u64 args[6];
	__s64 pid;
	int idx;

	if (t->tgid == vg_self_tgid)
		return 0;
	/* No rule for this syscall: stop after the cheapest lookups. */
	gen = vg_rule_gen_now();
	rs = vg_ruleset_get(gen, VG_RK_SYSCALL);
	if (!rs || !rs->nrules)
		return 0;
	k.gen = gen;
	k.value = nr;
	hit = bpf_map_lookup_elem(&vg_rule_names, &k);
	if (!hit || !((hit->w[0] & rs->all.w[0]) | (hit->w[1] & rs->all.w[1])))
		return 0;
	r = (struct pt_regs *)bpf_task_pt_regs(t);
	args[0] = r->di;
	args[1] = r->si;
	args[2] = r->dx;
	args[3] = r->r10;
	args[4] = r->r8;
	args[5] = r->r9;
	/* Only rules with an argument condition name this syscall (socket: the packet
	 * socket rule): none holds for these arguments -> stop before the evaluation. */
	if (!((hit->w[0] & rs->all.w[0] & ~rs->need_arg.w[0]) |
	      (hit->w[1] & rs->all.w[1] & ~rs->need_arg.w[1]))) {
		struct vg_rbits have = {};

		vg_sys_arg_bits(rs, gen, nr, args, &have);
		if (!((hit->w[0] & have.w[0]) | (hit->w[1] & have.w[1])))
			return 0;
	}

	sc = vg_scratch();
	if (!sc)
		return 0;
	ev = &sc->ev;
	__builtin_memset(ev, 0, sizeof(*ev));
	ev->a.sys.nr = nr;
	ev->a.sys.ret = ctx->ret;
	__builtin_memcpy(ev->a.sys.args, args, sizeof(args));
	pid = target_pid(nr, ev->a.sys.args);
	if (pid > 0) {
		__u32 tgid = pid;
		struct vg_proc_key *tk = bpf_map_lookup_elem(&vg_live, &tgid);

		if (tk) {
			ev->a.sys.target = *tk;
			ev->rel = target_relation(t, tk);
		}
	}
	sk = str_arg(nr, &idx);
	if (sk != STR_NONE) {
		ev->a.sys.str = intern_arg(sc, t, sk, idx ? ev->a.sys.args[1] : ev->a.sys.args[0]);
		ev->path = ev->a.sys.str;
		ev->has_str = ev->a.sys.str != 0;
	}
	vg_rules_eval(VG_RK_SYSCALL);
	return 0;
}
