// SPDX-License-Identifier: GPL-2.0
/*
 * File activity: what each process did to each file, as kernel state (one
 * vg_files entry per (process, file): action mask, count, first/last time),
 * and the file rules evaluated on first sight and on new action bits.
 *
 * Hooks: syscalls:sys_exit_* tracepoints, one program per shape of call,
 * each attached to every syscall of that shape (the number is in the
 * record). Arguments are the caller's saved registers (bpf_task_pt_regs), so
 * no sys_enter hook and no per-thread map are needed. Never hooked: read,
 * write and friends on open descriptors — only the open-time intent and the
 * calls that change a file.
 *
 *   vg_file_open  open openat openat2 creat open_by_handle_at memfd_create
 *   vg_file_mmap  mmap (PROT_EXEC of a file)
 *   vg_file_op    unlink* rmdir rename* *chmod* *chown* *truncate link* symlink*
 *                 utime* futimesat mknod* *setxattr*  (fchmodat2, setxattrat if present)
 *
 * Paths: for calls that yield or take a descriptor, the path of the struct
 * file the kernel resolved (mounts crossed, symlinks followed). For calls
 * that only name a path, and for every failed attempt, the caller's string
 * made absolute and normalised lexically, flagged VG_FF_UNRESOLVED.
 */
#include "lib/common.bpf.h"
#include "lib/file.bpf.h"
#include "lib/path.bpf.h"
#include "lib/rules.bpf.h"
#include "lib/strings.bpf.h"
#include "lib/task.bpf.h"

/* Fill the file part of the alert being prepared and evaluate the file rules. */
static __always_inline void file_eval(struct vg_scratch *sc, __u64 path, __u64 path2,
				      __u32 actions, __u32 fresh, __u32 flags, __u32 mode)
{
	struct vg_eval *ev = &sc->ev;

	__builtin_memset(ev, 0, sizeof(*ev));
	ev->a.file.path = path;
	ev->a.file.path2 = path2;
	ev->a.file.ino = sc->fkey.dev ? sc->fkey.obj : 0;
	ev->a.file.dev = sc->fkey.dev;
	ev->a.file.actions = actions;
	ev->a.file.flags = flags;
	ev->a.file.mode = mode;
	ev->path = path;
	ev->act = fresh;
	ev->has_str = 1;
	vg_rules_eval(VG_RK_FILE);
}

/*
 * Insert a new entry (sc->fkey -> sc->fval), or merge into the one another
 * CPU just inserted. Returns the action bits to evaluate. Key and value live
 * in the scratch map, not on the stack: see vg_file_fd on stack depth.
 */
static __always_inline __u32 file_insert(struct vg_scratch *sc, __u64 path, __u32 actions,
					 __u32 flags, __u32 gen)
{
	__u64 now = bpf_ktime_get_boot_ns();
	struct vg_file *v = &sc->fval;
	struct vg_file *e;
	int err;

	v->path = path;
	v->first_ns = now;
	v->last_ns = now;
	v->actions = actions;
	v->count = 1;
	v->flags = flags;
	v->alerted = actions | (gen << 31);
	vg_count(VG_ST_FILE_EVENTS);
	err = bpf_map_update_elem(&vg_files, &sc->fkey, v, BPF_NOEXIST);
	if (err == 0) {
		vg_count(VG_ST_FILE_NEW);
		return actions;
	}
	if (err != -17 /* EEXIST */) {
		vg_count(VG_ST_FILE_INSERT_FAIL); /* no state, but still evaluated */
		return actions;
	}
	e = bpf_map_lookup_elem(&vg_files, &sc->fkey);
	if (e) {
		__sync_fetch_and_add(&e->count, 1);
		e->actions |= actions;
		e->last_ns = now;
	}
	return actions;
}

/* An existing entry met again with new bits: merge; returns the bits to evaluate. */
static __always_inline __u32 file_merge(struct vg_file *e, __u32 actions, __u32 gen)
{
	__u32 done = vg_file_evaluated(e, gen);
	__u32 fresh = actions & ~done;

	vg_count(VG_ST_FILE_EVENTS);
	__sync_fetch_and_add(&e->count, 1);
	e->actions |= actions;
	e->last_ns = bpf_ktime_get_boot_ns();
	e->alerted = done | fresh | (gen << 31);
	return fresh;
}

static __always_inline __u32 path_flags(struct vg_scratch *sc, int pf)
{
	__u32 f = 0;

	if (pf & VG_PATHF_TRUNC)
		f |= VG_FF_TRUNC;
	if (pf & (VG_PATHF_DELETED | VG_PATHF_DETACHED))
		f |= VG_FF_DELETED;
	return f;
}

__noinline int vg_file_slow(__u64 file_p, __u32 actions, __u32 mode, __u64 known)
{
	struct task_struct *t = bpf_get_current_task_btf();
	struct vg_scratch *sc = vg_scratch();
	struct file *f = (struct file *)file_p;
	__u32 gen = vg_rule_gen_now(), fresh, flags;
	struct vg_file *e;
	__u64 path = known;
	int pf = 0;

	if (!sc || !f)
		return 0;
	/* From vg_file_fd's miss: the key is there and the lookup need not be made again. */
	if (sc->fkey_missed) {
		sc->fkey_missed = 0;
		e = NULL;
	} else {
		vg_file_key_fields(t, f, &sc->fkey);
		e = bpf_map_lookup_elem(&vg_files, &sc->fkey);
	}
	if (e) {
		fresh = file_merge(e, actions, gen);
		if (!fresh || !vg_rules_want_file(fresh, gen))
			return 0;
		path = e->path;
		flags = e->flags;
		if (!known && vg_path_build((__u64)BPF_CORE_READ(f, f_path.dentry),
					    (__u64)BPF_CORE_READ(f, f_path.mnt)) < 0)
			return 0;
	} else {
		if (!known) {
			pf = vg_path_build((__u64)BPF_CORE_READ(f, f_path.dentry),
					   (__u64)BPF_CORE_READ(f, f_path.mnt));
			if (pf < 0)
				return 0;
			path = vg_intern_scratch();
		} else {
			if (sc->str.h.flags & VG_STRF_TRUNC)
				pf |= VG_PATHF_TRUNC;
			if (BPF_CORE_READ(f, f_inode, __i_nlink) == 0)
				pf |= VG_PATHF_DELETED;
		}
		flags = path_flags(sc, pf);
		fresh = file_insert(sc, path, actions, flags, gen);
		if (!vg_rules_want_file(fresh, gen))
			return 0;
	}
	file_eval(sc, path, 0, actions, fresh, flags, mode);
	return 0;
}

__noinline __u64 vg_file_upath(__u64 uptr, __s32 dfd, __u32 actions, __u32 mode, __u64 path2)
{
	struct task_struct *t = bpf_get_current_task_btf();
	struct vg_scratch *sc = vg_scratch();
	__u32 gen = vg_rule_gen_now(), fresh, flags;
	struct vg_file *e;
	__u64 path;
	int pf;

	if (!sc || !uptr)
		return 0;
	pf = vg_upath_build(uptr, dfd);
	if (pf < 0)
		return 0;
	path = vg_intern_scratch();
	if (!actions || !path)
		return path; /* only interned (the other name of a rename/link) */
	vg_count(VG_ST_PATH_UNRESOLVED);
	flags = VG_FF_UNRESOLVED | path_flags(sc, pf);
	vg_task_key(t, &sc->fkey.proc);
	sc->fkey.obj = path;
	sc->fkey.dev = 0;
	sc->fkey.igen = 0;
	e = bpf_map_lookup_elem(&vg_files, &sc->fkey);
	if (e)
		fresh = file_merge(e, actions, gen);
	else
		fresh = file_insert(sc, path, actions, flags, gen);
	if (fresh && vg_rules_want_file(fresh, gen))
		file_eval(sc, path, path2, actions, fresh, flags, mode);
	return path;
}

static __always_inline bool key_eq(const struct vg_file_key *a, const struct vg_file_key *b)
{
	const __u64 *x = (const __u64 *)a, *y = (const __u64 *)b;

	return x[0] == y[0] && x[1] == y[1] && x[2] == y[2] && x[3] == y[3];
}

/* Add the slot's pending hits to their entry (if it left with its process, they go too). */
static __always_inline void hot_flush(struct vg_file_hot *h)
{
	struct vg_file *e;

	if (!h->pending)
		return;
	e = bpf_map_lookup_elem(&vg_files, &h->key);
	if (e) {
		__sync_fetch_and_add(&e->count, h->pending);
		if (h->last_ns > e->last_ns)
			e->last_ns = h->last_ns;
	}
	h->pending = 0;
}

__noinline int vg_file_fd(__s32 fd, __u32 actions, __u32 mode)
{
	struct task_struct *t = bpf_get_current_task_btf();
	struct file *f = vg_fd_file(t, fd);
	struct vg_scratch *sc = vg_scratch();
	struct vg_file_hot *h;
	struct vg_file_key k;
	struct vg_file *e;
	__u32 zero = 0, gen;
	bool hit_only = actions == VG_FD_READ_HIT;
	__u64 now;

	if (!f || !sc)
		return 0;
	if (hit_only) {
		__u32 fm = vg_file_fmode(f);

		if (fm & VG_FMODE_PATH)
			return 0; /* O_PATH: a handle on a name, nothing read or written */
		if (fm & VG_FMODE_WRITE)
			return 1;
		actions = VG_FA_READ;
	}
	vg_file_key_of(t, f, &k, sc);
	h = bpf_map_lookup_elem(&vg_file_hot, &zero);
	if (!h)
		return 0;
	gen = vg_rule_gen_now();
	now = vg_now_tick(sc); /* last_time: tick resolution */
	if (key_eq(&h->key, &k) && !(actions & ~vg_alerted_bits(h->alerted, gen))) {
		/* This CPU's last entry again, nothing new: counted in the slot, no lookup. */
		if (h->last_ns != now) {
			hot_flush(h);
			h->last_ns = now;
		}
		h->pending++;
		return 0;
	}
	hot_flush(h);
	e = bpf_map_lookup_elem(&vg_files, &k);
	if (e && !(actions & ~vg_file_evaluated(e, gen))) {
		__sync_fetch_and_add(&e->count, 1);
		if (now > e->last_ns)
			e->last_ns = now;
		h->key = k;
		h->alerted = e->alerted;
		h->last_ns = now;
		return 0;
	}
	if (hit_only)
		return 1;
	if (!e) { /* first sight: hand the key over (a lookup and four reads saved) */
		sc->fkey = k;
		sc->fkey_missed = 1;
	}
	return vg_file_slow((__u64)f, actions, mode, 0);
}

/*
 * A call that failed because nothing has that name (ENOENT, ENOTDIR) touched
 * no object: compilers and loaders probe search paths by the thousand (two
 * opens in three of a C build). Counted, not recorded; a refused attempt on
 * something that exists (EACCES, EPERM, EEXIST, EISDIR, EROFS...) is.
 */
static __always_inline bool not_found(long ret)
{
	if (ret != -2 /* ENOENT */ && ret != -20 /* ENOTDIR */)
		return false;
	vg_count(VG_ST_NOT_FOUND);
	return true;
}

/* A raw user string (a symlink's target: its content, not a path to normalise). */
static __always_inline __u64 ustr_intern(struct vg_scratch *sc, __u64 uptr)
{
	long n = bpf_probe_read_user_str(sc->str.data, VG_STR_MAX, (void *)uptr);

	if (n <= 0)
		return 0;
	sc->str.h.len = n;
	sc->str.h.flags = 0;
	return vg_intern_scratch();
}

/* ---- opens ---- */

static __always_inline __u32 open_actions(__u64 flags)
{
	__u32 a;

	switch (flags & VG_O_ACCMODE) {
	case VG_O_WRONLY:
		a = VG_FA_WRITE;
		break;
	case VG_O_RDWR:
		a = VG_FA_READ | VG_FA_WRITE;
		break;
	default:
		a = VG_FA_READ;
	}
	if (flags & VG_O_CREAT)
		a |= VG_FA_CREATE;
	if ((flags & VG_O_TRUNC) && (a & VG_FA_WRITE))
		a |= VG_FA_TRUNC;
	return a;
}

SEC("tracepoint/syscalls/sys_exit_openat")
int vg_file_open(struct vg_sys_exit_ctx *ctx)
{
	struct task_struct *t = bpf_get_current_task_btf();
	struct pt_regs *r;
	__u64 flags, uptr, mode;
	__s32 dfd = VG_AT_FDCWD;
	__u32 actions;
	long ret = ctx->ret;

	if (t->tgid == vg_self_tgid)
		return 0;
	/* A repeated read-only open ends here, its arguments never read (see VG_FD_READ_HIT). */
	if (ret >= 0 && ctx->nr != VG_NR_memfd_create && ctx->nr != VG_NR_creat &&
	    vg_file_fd(ret, VG_FD_READ_HIT, 0) == 0)
		return 0;
	r = (struct pt_regs *)bpf_task_pt_regs(t);
	switch (ctx->nr) {
	case VG_NR_openat:
		dfd = r->di;
		uptr = r->si;
		flags = r->dx;
		mode = r->r10;
		break;
	case VG_NR_open:
		uptr = r->di;
		flags = r->si;
		mode = r->dx;
		break;
	case VG_NR_openat2: {
		__u64 how[2] = {}; /* struct open_how: flags, mode, resolve */

		dfd = r->di;
		uptr = r->si;
		bpf_probe_read_user(how, sizeof(how), (void *)r->dx);
		flags = how[0];
		mode = how[1];
		break;
	}
	case VG_NR_creat:
		uptr = r->di;
		flags = VG_O_CREAT | VG_O_WRONLY | VG_O_TRUNC;
		mode = r->si;
		break;
	case VG_NR_open_by_handle_at:
		uptr = 0; /* a file handle, no name */
		flags = r->dx;
		mode = 0;
		break;
	case VG_NR_memfd_create:
		if (ret >= 0)
			vg_file_fd(ret, VG_FA_MEMFD, 0);
		return 0;
	default:
		return 0;
	}
	if (flags & VG_O_PATH)
		return 0; /* a handle on a name: nothing was read or written */
	actions = open_actions(flags);
	if (not_found(ret))
		return 0;
	if (ret < 0) {
		vg_file_upath(uptr, dfd, actions | VG_FA_FAILED, mode, 0);
		return 0;
	}
	vg_file_fd(ret, actions, (flags & VG_O_CREAT) ? mode : 0);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_mmap")
int vg_file_mmap(struct vg_sys_exit_ctx *ctx)
{
	struct task_struct *t;
	struct pt_regs *r;

	if ((__u64)ctx->ret >= (__u64)-4095)
		return 0; /* failed */
	t = bpf_get_current_task_btf();
	r = (struct pt_regs *)bpf_task_pt_regs(t);
	if (!(r->dx & VG_PROT_EXEC) || (r->r10 & VG_MAP_ANONYMOUS) || t->tgid == vg_self_tgid)
		return 0;
	vg_file_fd((int)r->r8, VG_FA_MMAP_EXEC, 0);
	return 0;
}

/* ---- calls that change a file ---- */

/* *at() with AT_EMPTY_PATH and "" act on dfd itself. */
static __always_inline void at_op(__s32 dfd, __u64 uptr, __u64 atflags,
				  __u32 actions, __u32 mode)
{
	char c = 1;

	if ((atflags & VG_AT_EMPTY_PATH) && uptr) {
		bpf_probe_read_user(&c, 1, (void *)uptr);
		if (c == 0) {
			vg_file_fd(dfd, actions, mode);
			return;
		}
	}
	vg_file_upath(uptr, dfd, actions, mode, 0);
}

static __always_inline __u32 chmod_actions(__u64 mode)
{
	return VG_FA_CHMOD | ((mode & (VG_S_ISUID | VG_S_ISGID)) ? VG_FA_SETID : 0);
}

/* Is the xattr name at uptr "security.capability"? */
static __always_inline bool xattr_is_caps(__u64 uptr)
{
	static const char want[] = "security.capability";
	char name[sizeof(want)] = {};

	if (bpf_probe_read_user_str(name, sizeof(name), (void *)uptr) != sizeof(want))
		return false;
	for (int i = 0; i < sizeof(want); i++)
		if (name[i] != want[i])
			return false;
	return true;
}

/* utimensat's times: explicit unless absent or both UTIME_NOW/UTIME_OMIT. */
static __always_inline bool utimens_explicit(__u64 uptr)
{
	__s64 ts[4] = {}; /* two struct timespec */

	if (!uptr || bpf_probe_read_user(ts, sizeof(ts), (void *)uptr))
		return false;
	for (int i = 1; i < 4; i += 2)
		if (ts[i] != ((1l << 30) - 1) /* UTIME_NOW */ && ts[i] != ((1l << 30) - 2) /* OMIT */)
			return true;
	return false;
}

static __always_inline void rename_op(__s32 odfd, __u64 old, __s32 ndfd, __u64 new, __u32 fail)
{
	__u64 to = vg_file_upath(new, ndfd, 0, 0, 0);
	__u64 from = vg_file_upath(old, odfd, VG_FA_RENAME_FROM | fail, 0, to);

	vg_file_upath(new, ndfd, VG_FA_RENAME_TO | fail, 0, from);
}

static __always_inline void link_op(__s32 odfd, __u64 old, __s32 ndfd, __u64 new, __u32 fail)
{
	__u64 target = vg_file_upath(old, odfd, 0, 0, 0);

	vg_file_upath(new, ndfd, VG_FA_LINK | fail, 0, target);
}

static __always_inline void symlink_op(struct vg_scratch *sc, __u64 target, __s32 ndfd, __u64 new,
				       __u32 fail)
{
	__u64 content = ustr_intern(sc, target);

	vg_file_upath(new, ndfd, VG_FA_SYMLINK | fail, 0, content);
}

SEC("tracepoint/syscalls/sys_exit_unlink")
int vg_file_op(struct vg_sys_exit_ctx *ctx)
{
	struct task_struct *t = bpf_get_current_task_btf();
	struct vg_scratch *sc;
	struct pt_regs *r;
	__u32 fail = ctx->ret < 0 ? VG_FA_FAILED : 0;

	if (t->tgid == vg_self_tgid || not_found(ctx->ret))
		return 0;
	sc = vg_scratch();
	if (!sc)
		return 0;
	r = (struct pt_regs *)bpf_task_pt_regs(t);
	switch (ctx->nr) {
	case VG_NR_unlink:
	case VG_NR_rmdir:
		vg_file_upath(r->di, VG_AT_FDCWD, VG_FA_UNLINK | fail, 0, 0);
		break;
	case VG_NR_unlinkat:
		vg_file_upath(r->si, r->di, VG_FA_UNLINK | fail, 0, 0);
		break;
	case VG_NR_rename:
		rename_op(VG_AT_FDCWD, r->di, VG_AT_FDCWD, r->si, fail);
		break;
	case VG_NR_renameat:
	case VG_NR_renameat2:
		rename_op(r->di, r->si, r->dx, r->r10, fail);
		break;
	case VG_NR_chmod:
		vg_file_upath(r->di, VG_AT_FDCWD, chmod_actions(r->si) | fail, r->si, 0);
		break;
	case VG_NR_fchmodat:
		vg_file_upath(r->si, r->di, chmod_actions(r->dx) | fail, r->dx, 0);
		break;
	case VG_NR_fchmodat2:
		at_op(r->di, r->si, r->r10, chmod_actions(r->dx) | fail, r->dx);
		break;
	case VG_NR_fchmod:
		vg_file_fd(r->di, chmod_actions(r->si) | fail, r->si);
		break;
	case VG_NR_chown:
	case VG_NR_lchown:
		vg_file_upath(r->di, VG_AT_FDCWD, VG_FA_CHOWN | fail, 0, 0);
		break;
	case VG_NR_fchownat:
		at_op(r->di, r->si, r->r8, VG_FA_CHOWN | fail, 0);
		break;
	case VG_NR_fchown:
		vg_file_fd(r->di, VG_FA_CHOWN | fail, 0);
		break;
	case VG_NR_truncate:
		vg_file_upath(r->di, VG_AT_FDCWD, VG_FA_TRUNC | fail, 0, 0);
		break;
	case VG_NR_ftruncate:
		vg_file_fd(r->di, VG_FA_TRUNC | fail, 0);
		break;
	case VG_NR_link:
		link_op(VG_AT_FDCWD, r->di, VG_AT_FDCWD, r->si, fail);
		break;
	case VG_NR_linkat:
		link_op(r->di, r->si, r->dx, r->r10, fail);
		break;
	case VG_NR_symlink:
		symlink_op(sc, r->di, VG_AT_FDCWD, r->si, fail);
		break;
	case VG_NR_symlinkat:
		symlink_op(sc, r->di, r->si, r->dx, fail);
		break;
	case VG_NR_utime:
	case VG_NR_utimes:
		if (r->si) /* NULL: "now", what touch does — not timestomping */
			vg_file_upath(r->di, VG_AT_FDCWD, VG_FA_UTIMES | fail, 0, 0);
		break;
	case VG_NR_futimesat:
		if (!r->dx)
			break;
		if (r->si)
			vg_file_upath(r->si, r->di, VG_FA_UTIMES | fail, 0, 0);
		else
			vg_file_fd(r->di, VG_FA_UTIMES | fail, 0);
		break;
	case VG_NR_utimensat:
		if (!utimens_explicit(r->dx))
			break;
		if (r->si)
			at_op(r->di, r->si, r->r10, VG_FA_UTIMES | fail, 0);
		else
			vg_file_fd(r->di, VG_FA_UTIMES | fail, 0);
		break;
	case VG_NR_mknod:
		vg_file_upath(r->di, VG_AT_FDCWD, VG_FA_CREATE | fail, r->si, 0);
		break;
	case VG_NR_mknodat:
		vg_file_upath(r->si, r->di, VG_FA_CREATE | fail, r->dx, 0);
		break;
	case VG_NR_setxattr:
	case VG_NR_lsetxattr:
		if (xattr_is_caps(r->si))
			vg_file_upath(r->di, VG_AT_FDCWD, VG_FA_XATTR_CAPS | fail, 0, 0);
		break;
	case VG_NR_fsetxattr:
		if (xattr_is_caps(r->si))
			vg_file_fd(r->di, VG_FA_XATTR_CAPS | fail, 0);
		break;
	case VG_NR_setxattrat:
		if (xattr_is_caps(r->r10))
			at_op(r->di, r->si, r->dx, VG_FA_XATTR_CAPS | fail, 0);
		break;
	}
	return 0;
}
