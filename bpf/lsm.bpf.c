// SPDX-License-Identifier: GPL-2.0
/*
 * Runtime policies, the BPF-LSM tier: deny with -EPERM *before* the operation;
 * the caller gets the error and keeps running. Loaded only where the probe saw
 * BPF-LSM work (the sensor turns autoload off elsewhere: the kernel would
 * refuse these programs and the whole load with them). Which rules are
 * enforced here is decided at load (src/policy: `block` rules on exec, and on
 * ptrace / process_vm_readv / process_vm_writev; their bits are in
 * vg_pol_set.lsm): the tracepoint programs leave those alone.
 *   bprm_check_security   exec rules: execve fails, the caller's image stays
 *   ptrace_access_check   attach-mode access to another process: ptrace attach,
 *                         process_vm_readv/writev, /proc/PID/mem
 *   file_open             file rules (read/write opens of paths/prefixes)
 *   path_unlink, path_rmdir, path_rename, path_chmod
 *                         file rules with access unlink / rename / chmod (the
 *                         object's path: its parent directory's mount + its dentry)
 *   bpf, sb_mount, task_kill, task_fix_setuid, capset, kernel_read_file,
 *   kernel_load_data      syscall rules on bpf, mount, kill/tkill/tgkill, the setuid
 *                         family, capset, finit_module/init_module: the rules of the
 *                         syscall being made (orig_ax), argument conditions included
 * Kernel: BPF-LSM (CONFIG_BPF_LSM, "bpf" in lsm=), 5.7+.
 */
#include "lib/common.bpf.h"
#include "lib/enforce.bpf.h"
#include "lib/path.bpf.h"
#include "lib/strings.bpf.h"
#include "lib/task.bpf.h"

#define EPERM 1
#define PTRACE_MODE_ATTACH 0x02

/* The rules an LSM hook may deny: block, enforced here, not audit. */
static __always_inline __u64 lsm_rules(struct vg_pol_set *ps)
{
	return ps->all & ps->lsm & ps->block & ~ps->audit;
}

/* The current syscall and its arguments, for the finding. */
static __always_inline void lsm_sys_prepare(struct vg_scratch *sc, struct task_struct *t)
{
	struct pt_regs *r = (struct pt_regs *)bpf_task_pt_regs(t);
	struct vg_eval *ev = &sc->ev;

	__builtin_memset(&ev->a, 0, sizeof(ev->a));
	ev->a.hdr.time_ns = bpf_ktime_get_boot_ns();
	ev->a.kind = VG_RK_SYSCALL;
	ev->a.sys.nr = r->orig_ax;
	ev->a.sys.ret = -EPERM;
	ev->a.sys.args[0] = r->di;
	ev->a.sys.args[1] = r->si;
	ev->a.sys.args[2] = r->dx;
	ev->a.sys.args[3] = r->r10;
	ev->a.sys.args[4] = r->r8;
	ev->a.sys.args[5] = r->r9;
}

SEC("lsm/bprm_check_security")
int BPF_PROG(vg_lsm_exec, struct linux_binprm *bprm, int ret)
{
	struct task_struct *t = bpf_get_current_task_btf();
	struct vg_scratch *sc;
	struct vg_pol_set *ps;
	__u64 c, id;
	__u32 gen, len;
	int pf;

	if (ret)
		return ret;
	ps = vg_pol_set_now(&gen);
	if (!ps || !lsm_rules(ps) || t->tgid == vg_self_tgid)
		return 0;
	sc = vg_scratch();
	if (!sc)
		return 0;
	pf = vg_path_build((__u64)BPF_CORE_READ(bprm, file, f_path.dentry),
			   (__u64)BPF_CORE_READ(bprm, file, f_path.mnt));
	if (pf < 0)
		return 0;
	len = sc->str.h.len;
	id = vg_intern_scratch(); /* the record gets the same id at exec */
	c = id ? vg_pol_lookup(gen, VG_PW_EXEC, 0, id) : 0;
	if ((ps->exec_prefix & ~c) && len > 1) {
		__u64 *m;

		len = len - 1 > VG_LPM_MAX ? VG_LPM_MAX : len - 1;
		sc->lpm.prefixlen = 16 + 8 * len;
		sc->lpm.gen = gen;
		sc->lpm.kind = VG_PL_EXEC;
		__builtin_memcpy(sc->lpm.data, sc->str.data, VG_LPM_MAX);
		m = bpf_map_lookup_elem(&vg_pol_prefix, &sc->lpm);
		if (m)
			c |= *m;
	}
	c &= lsm_rules(ps);
	if (!c)
		return 0;
	/* the caller, before the exec: its name, exe and creds are still the old ones */
	c = vg_pol_target(c, 0);
	if (!c)
		return 0;
	__builtin_memset(&sc->ev.a, 0, sizeof(sc->ev.a));
	sc->ev.a.hdr.time_ns = bpf_ktime_get_boot_ns();
	sc->ev.a.kind = VG_RK_EXEC;
	sc->ev.a.exec.exe = id;
	return vg_pol_act(c, VG_EH_LSM_EXEC, 1) ? -EPERM : 0;
}

SEC("lsm/ptrace_access_check")
int BPF_PROG(vg_lsm_ptrace, struct task_struct *child, unsigned int mode, int ret)
{
	struct task_struct *t = bpf_get_current_task_btf();
	struct vg_scratch *sc;
	struct vg_pol_set *ps;
	__u64 c;
	__u32 gen;

	if (ret || !(mode & PTRACE_MODE_ATTACH))
		return ret;
	ps = vg_pol_set_now(&gen);
	if (!ps || !lsm_rules(ps) || t->tgid == vg_self_tgid)
		return 0;
	c = (vg_pol_lookup(gen, VG_PW_SYSCALL, 0, 101) | vg_pol_lookup(gen, VG_PW_SYSCALL, 0, 310) |
	     vg_pol_lookup(gen, VG_PW_SYSCALL, 0, 311)) & lsm_rules(ps);
	if (!c)
		return 0;
	c = vg_pol_target(c, 0);
	if (!c)
		return 0;
	sc = vg_scratch();
	if (!sc)
		return 0;
	lsm_sys_prepare(sc, t);
	{
		__u32 tgid = BPF_CORE_READ(child, tgid);
		struct vg_proc_key *tk = bpf_map_lookup_elem(&vg_live, &tgid);

		if (tk)
			sc->ev.a.sys.target = *tk;
	}
	return vg_pol_act(c, VG_EH_LSM_PTRACE, 1) ? -EPERM : 0;
}

SEC("lsm/file_open")
int BPF_PROG(vg_lsm_file_open, struct file *file, int ret)
{
	struct task_struct *t = bpf_get_current_task_btf();
	struct vg_pol_set *ps;
	__u32 gen, fmode;
	__u64 c;

	if (ret)
		return ret;
	ps = vg_pol_set_now(&gen);
	if (!ps || t->tgid == vg_self_tgid || !(lsm_rules(ps) & (ps->file_read | ps->file_write)))
		return 0;
	fmode = BPF_CORE_READ(file, f_mode);
	c = vg_pol_file_open(ps, lsm_rules(ps), file, fmode, VG_FA_FAILED);
	if (!c)
		return 0;
	return vg_pol_act(c, VG_EH_LSM_FILE, 1) ? -1 /* -EPERM */ : 0;
}

/* Syscall rules the LSM tier enforces at a hook reached from that syscall: the
 * rules of the current syscall number (its arguments from the saved registers). */
static __always_inline int lsm_sys_deny(__u32 hook)
{
	struct task_struct *t = bpf_get_current_task_btf();
	struct vg_scratch *sc;
	struct vg_pol_set *ps;
	__u64 c;
	__u32 gen;

	ps = vg_pol_set_now(&gen);
	if (!ps || !lsm_rules(ps) || t->tgid == vg_self_tgid)
		return 0;
	sc = vg_scratch();
	if (!sc)
		return 0;
	lsm_sys_prepare(sc, t);
	c = sys_rules(ps, gen, sc->ev.a.sys.nr, sc->ev.a.sys.args) & lsm_rules(ps);
	if (!c)
		return 0;
	c = vg_pol_target(c, 0);
	if (!c)
		return 0;
	lsm_sys_prepare(sc, t); /* the target walk may have used the scratch */
	return vg_pol_act(c, hook, 1) ? -EPERM : 0;
}

SEC("lsm/bpf")
int BPF_PROG(vg_lsm_bpf, int cmd, union bpf_attr *attr, unsigned int size, int ret)
{
	return ret ? ret : lsm_sys_deny(VG_EH_LSM_BPF);
}

SEC("lsm/sb_mount")
int BPF_PROG(vg_lsm_mount, const char *dev, const struct path *path, const char *type,
	     unsigned long flags, void *data, int ret)
{
	return ret ? ret : lsm_sys_deny(VG_EH_LSM_MOUNT);
}

SEC("lsm/task_kill")
int BPF_PROG(vg_lsm_kill, struct task_struct *p, struct kernel_siginfo *info, int sig,
	     const struct cred *cred, int ret)
{
	return ret ? ret : lsm_sys_deny(VG_EH_LSM_KILL);
}

SEC("lsm/task_fix_setuid")
int BPF_PROG(vg_lsm_setuid, struct cred *new, const struct cred *old, int flags, int ret)
{
	return ret ? ret : lsm_sys_deny(VG_EH_LSM_SETUID);
}

SEC("lsm/capset")
int BPF_PROG(vg_lsm_capset, struct cred *new, const struct cred *old, const kernel_cap_t *eff,
	     const kernel_cap_t *inh, const kernel_cap_t *perm, int ret)
{
	return ret ? ret : lsm_sys_deny(VG_EH_LSM_CAPSET);
}

SEC("lsm/kernel_read_file")
int BPF_PROG(vg_lsm_read_file, struct file *file, enum kernel_read_file_id id, bool contents,
	     int ret)
{
	return ret ? ret : lsm_sys_deny(VG_EH_LSM_MODULE);
}

SEC("lsm/kernel_load_data")
int BPF_PROG(vg_lsm_load_data, enum kernel_load_data_id id, bool contents, int ret)
{
	return ret ? ret : lsm_sys_deny(VG_EH_LSM_MODULE);
}

/* File rules of one path operation (mask: the rules watching that access). */
static __always_inline int lsm_path_deny(__u64 dentry, __u64 mnt, __u64 (*pick)(struct vg_pol_set *),
					 __u32 action)
{
	struct task_struct *t = bpf_get_current_task_btf();
	struct vg_scratch *sc;
	struct vg_pol_set *ps;
	__u64 c, path;
	__u32 gen;

	ps = vg_pol_set_now(&gen);
	if (!ps || t->tgid == vg_self_tgid)
		return 0;
	c = lsm_rules(ps) & pick(ps);
	if (!c)
		return 0;
	c = vg_pol_target(c, 0);
	if (!c)
		return 0;
	c &= vg_pol_file_match(dentry, mnt);
	sc = vg_scratch();
	if (!c || !sc)
		return 0;
	path = sc->ev.path;
	__builtin_memset(&sc->ev.a, 0, sizeof(sc->ev.a));
	sc->ev.a.hdr.time_ns = bpf_ktime_get_boot_ns();
	sc->ev.a.kind = VG_RK_FILE;
	sc->ev.a.file.path = path;
	sc->ev.a.file.actions = action | VG_FA_FAILED;
	return vg_pol_act(c, VG_EH_LSM_PATH, 1) ? -EPERM : 0;
}

/* A hook argument as an integer (global functions take pointers as integers; a cast
 * keeps the verifier's pointer type, a read of the context slot gives a scalar). */
static __always_inline __u64 arg_u64(unsigned long long *ctx, int i)
{
	__u64 v = 0;

	bpf_probe_read_kernel(&v, sizeof(v), &ctx[i]);
	return v;
}

static __always_inline __u64 pick_unlink(struct vg_pol_set *ps) { return ps->file_unlink; }
static __always_inline __u64 pick_rename(struct vg_pol_set *ps) { return ps->file_rename; }
static __always_inline __u64 pick_chmod(struct vg_pol_set *ps) { return ps->file_chmod; }

SEC("lsm/path_unlink")
int BPF_PROG(vg_lsm_unlink, const struct path *dir, struct dentry *dentry, int ret)
{
	if (ret)
		return ret;
	return lsm_path_deny(arg_u64(ctx, 1), (__u64)BPF_CORE_READ(dir, mnt), pick_unlink,
			     VG_FA_UNLINK);
}

SEC("lsm/path_rmdir")
int BPF_PROG(vg_lsm_rmdir, const struct path *dir, struct dentry *dentry, int ret)
{
	if (ret)
		return ret;
	return lsm_path_deny(arg_u64(ctx, 1), (__u64)BPF_CORE_READ(dir, mnt), pick_unlink,
			     VG_FA_UNLINK);
}

SEC("lsm/path_rename")
int BPF_PROG(vg_lsm_rename, const struct path *old_dir, struct dentry *old_dentry,
	     const struct path *new_dir, struct dentry *new_dentry, unsigned int flags, int ret)
{
	if (ret)
		return ret;
	return lsm_path_deny(arg_u64(ctx, 1), (__u64)BPF_CORE_READ(old_dir, mnt), pick_rename,
			     VG_FA_RENAME_FROM);
}

SEC("lsm/path_chmod")
int BPF_PROG(vg_lsm_chmod, const struct path *path, umode_t mode, int ret)
{
	if (ret)
		return ret;
	return lsm_path_deny((__u64)BPF_CORE_READ(path, dentry), (__u64)BPF_CORE_READ(path, mnt),
			     pick_chmod, VG_FA_CHMOD);
}
