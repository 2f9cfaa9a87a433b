// SPDX-License-Identifier: GPL-2.0
/*
 * Path building. Components are prepended right to left into sc->tmp as the
 * walk goes up (one loop, bounded), then the result is copied to sc->str.
 */

/* The path is built in sc->tmp[sc->pos, VG_PATH_END); an empty one is the root. */
#define VG_PATH_END (VG_STR_MAX - 1)
#include "lib/common.bpf.h"
#include "lib/compat.bpf.h"
#include "lib/path.bpf.h"

/*
 * Prepend "/" + name (read from kernel memory) before sc->pos in sc->tmp.
 * The position lives in the map, not a register, on purpose: the verifier
 * then sees an unknown (masked) value at every iteration, so paths through
 * the walk (mount crossings, components) prune instead of multiplying.
 */
static __always_inline int prepend(struct vg_scratch *sc, const void *name)
{
	long n = bpf_probe_read_kernel_str(sc->name, sizeof(sc->name), name);
	__u32 len = n > 1 ? vg_idx(n - 1, VG_NAME_MAX - 1) : 0;
	__u32 pos = sc->pos;

	if (len + 1 > pos || pos > VG_PATH_END)
		return -1; /* no room left: truncated */
	pos -= len;
	bpf_probe_read_kernel(&sc->tmp[vg_idx(pos, VG_STR_MAX - 1)], len, sc->name);
	pos -= 1;
	sc->tmp[vg_idx(pos, VG_STR_MAX - 1)] = '/';
	sc->pos = pos;
	return 0;
}

/* Move sc->tmp[sc->pos, VG_PATH_END) to sc->str as a NUL-terminated string. */
static __always_inline void finish(struct vg_scratch *sc, bool trunc)
{
	__u32 pos = sc->pos;
	__u32 len = VG_PATH_END - pos;

	if (pos >= VG_PATH_END) {
		sc->str.data[0] = '/';
		len = 1;
	} else {
		len = vg_idx(len, VG_STR_MAX - 1);
		bpf_probe_read_kernel(sc->str.data, len, &sc->tmp[vg_idx(pos, VG_STR_MAX - 1)]);
	}
	sc->str.data[vg_idx(len, VG_STR_MAX - 1)] = 0;
	sc->str.h.len = len + 1;
	sc->str.h.flags = trunc ? VG_STRF_TRUNC : 0;
	if (trunc)
		vg_count(VG_ST_TRUNC_PATH);
}

__noinline int vg_path_build(__u64 dentry_p, __u64 vfsmnt_p)
{
	struct vg_scratch *sc = vg_scratch();
	struct dentry *dentry = (struct dentry *)dentry_p;
	struct mount *mnt = container_of((struct vfsmount *)vfsmnt_p, struct mount, mnt);
	struct dentry *d = dentry;
	int flags = VG_PATHF_TRUNC;

	if (!sc)
		return -1;
	sc->pos = VG_PATH_END;
	for (int i = 0; i < VG_PATH_DEPTH * 2; i++) {
		struct dentry *root = BPF_CORE_READ(mnt, mnt.mnt_root);
		struct dentry *parent = BPF_CORE_READ(d, d_parent);

		if (d == root) {
			struct mount *up = BPF_CORE_READ(mnt, mnt_parent);

			if (up == mnt) { /* root of the namespace */
				flags &= ~VG_PATHF_TRUNC;
				break;
			}
			d = BPF_CORE_READ(mnt, mnt_mountpoint);
			mnt = up;
			continue;
		}
		if (prepend(sc, BPF_CORE_READ(d, d_name.name)))
			break;
		if (d == parent) { /* disconnected: pipe:, memfd:, anon_inode: ... */
			flags = (flags & ~VG_PATHF_TRUNC) | VG_PATHF_DETACHED;
			break;
		}
		d = parent;
	}
	finish(sc, flags & VG_PATHF_TRUNC);
	if (BPF_CORE_READ(dentry, d_inode, __i_nlink) == 0)
		flags |= VG_PATHF_DELETED;
	return flags;
}

__noinline int vg_cgroup_path_build(__u64 kn_p)
{
	struct vg_scratch *sc = vg_scratch();
	struct kernfs_node *kn = (struct kernfs_node *)kn_p;
	bool trunc = true;

	if (!sc)
		return -1;
	sc->pos = VG_PATH_END;
	for (int i = 0; i < VG_CGROUP_DEPTH; i++) {
		struct kernfs_node *up = vg_kernfs_parent(kn);

		if (!up) { /* the root's own name is not part of the path */
			trunc = false;
			break;
		}
		if (prepend(sc, BPF_CORE_READ(kn, name)))
			break;
		kn = up;
	}
	finish(sc, trunc);
	return trunc ? VG_PATHF_TRUNC : 0;
}

/* ---- paths the caller named (user strings) ---- */

/*
 * The normaliser's state lives in the scratch map, not on the stack: the loop
 * callback below is verified once, and a verifier that tracks values written
 * through the callback's context may decide a branch can't be taken from the
 * first iteration's values — Linux 6.1 does, and drops the ".." branch. Map
 * values are never tracked. Only the scratch pointer rides in the context.
 */
struct vg_norm_ctx {
	struct vg_scratch *sc;
};

/*
 * A component of the output ended (at a '/' or the end): drop ".", pop for
 * "..", drop empty ones ("//"), keep the rest followed by '/'. Returns 1 to stop.
 */
static __always_inline long norm_component_end(struct vg_scratch *sc)
{
	__u32 out = sc->norm.out, comp = sc->norm.comp, depth = sc->norm.depth;
	__u32 len = out - comp;
	char c0 = sc->str.data[vg_idx(comp, VG_STR_MAX - 1)];
	char c1 = sc->str.data[vg_idx(comp + 1, VG_STR_MAX - 1)];

	if (len == 0) {
		/* "//": nothing */
	} else if (len == 1 && c0 == '.') {
		out = comp;
	} else if (len == 2 && c0 == '.' && c1 == '.') {
		if (depth > 0) {
			depth--;
			out = sc->comp[vg_idx(depth, VG_NORM_DEPTH - 1)];
		} else {
			out = comp; /* "/.." is "/" */
		}
	} else {
		if (depth >= VG_NORM_DEPTH || out >= VG_STR_MAX - 1) {
			sc->norm.trunc = 1; /* deeper or longer than we can keep */
			return 1;
		}
		sc->comp[vg_idx(depth, VG_NORM_DEPTH - 1)] = comp;
		depth++;
		sc->str.data[vg_idx(out, VG_STR_MAX - 1)] = '/';
		out++;
	}
	sc->norm.out = out;
	sc->norm.comp = out;
	sc->norm.depth = depth;
	return 0;
}

static long norm_step(__u32 i, void *ctx)
{
	struct vg_scratch *sc = ((struct vg_norm_ctx *)ctx)->sc;
	__u32 pos = sc->norm.in + i, out = sc->norm.out;
	char ch;

	if (pos >= sc->norm.end)
		return 1;
	ch = sc->tmp[vg_idx(pos, 2 * VG_STR_MAX - 1)];
	if (ch == '/')
		return norm_component_end(sc);
	if (out >= VG_STR_MAX - 1) {
		sc->norm.trunc = 1;
		return 1;
	}
	sc->str.data[vg_idx(out, VG_STR_MAX - 1)] = ch;
	sc->norm.out = out + 1;
	return 0;
}

/*
 * The user string at uptr, read at syscall exit (the kernel's own copy has
 * faulted the page in), made absolute against dfd's directory or the cwd,
 * then normalised lexically — ".", ".." and "//" — into sc->str. Symlinks
 * are not followed (the kernel did not resolve this path for us): a ".."
 * after a symlinked directory goes up lexically. Returns VG_PATHF_TRUNC or
 * 0, < 0 if there is no string (bad pointer, bad dfd).
 */
__noinline int vg_upath_build(__u64 uptr, __s32 dfd)
{
	struct vg_scratch *sc = vg_scratch();
	struct vg_norm_ctx ctx;
	__u32 out;
	int flags = 0;
	long len;

	if (!sc)
		return -1;
	/* The user's string goes to the upper half of tmp, the base directory right before it. */
	len = bpf_probe_read_user_str(&sc->tmp[VG_STR_MAX], VG_STR_MAX, (void *)uptr);
	if (len <= 0)
		return -1;
	sc->norm.in = VG_STR_MAX;
	sc->norm.end = VG_STR_MAX + (__u32)len - 1;
	if (sc->tmp[VG_STR_MAX] != '/') {
		struct task_struct *t = bpf_get_current_task_btf();
		__u64 dentry, mnt;
		int pf;

		if (dfd == -100 /* AT_FDCWD */) {
			dentry = (__u64)BPF_CORE_READ(t, fs, pwd.dentry);
			mnt = (__u64)BPF_CORE_READ(t, fs, pwd.mnt);
		} else {
			struct fdtable *fdt = t->files->fdt;
			struct file **arr = fdt->fd;
			struct file *f = NULL;

			if (dfd < 0 || dfd >= fdt->max_fds)
				return -1;
			bpf_probe_read_kernel(&f, sizeof(f), &arr[dfd & 0xffffff]);
			if (!f)
				return -1;
			dentry = (__u64)BPF_CORE_READ(f, f_path.dentry);
			mnt = (__u64)BPF_CORE_READ(f, f_path.mnt);
		}
		/* Builds tmp[pos, VG_PATH_END): exactly the bytes before the user's string. */
		pf = vg_path_build(dentry, mnt);
		if (pf < 0)
			return -1;
		flags = pf & VG_PATHF_TRUNC;
		sc->norm.in = sc->pos < VG_PATH_END ? sc->pos : VG_PATH_END;
		sc->tmp[VG_PATH_END] = '/';
	}
	sc->norm.out = 1;
	sc->norm.comp = 1;
	sc->norm.depth = 0;
	sc->norm.trunc = 0;
	sc->str.data[0] = '/';
	ctx.sc = sc;
	bpf_loop(2 * VG_STR_MAX, norm_step, &ctx, 0);
	if (!sc->norm.trunc)
		norm_component_end(sc);
	out = sc->norm.out;
	if (out > 1 && sc->str.data[vg_idx(out - 1, VG_STR_MAX - 1)] == '/')
		out--;
	sc->str.data[vg_idx(out, VG_STR_MAX - 1)] = 0;
	sc->str.h.len = vg_idx(out, VG_STR_MAX - 1) + 1;
	if (sc->norm.trunc) {
		flags |= VG_PATHF_TRUNC;
		vg_count(VG_ST_TRUNC_PATH);
	}
	sc->str.h.flags = (flags & VG_PATHF_TRUNC) ? VG_STRF_TRUNC : 0;
	return flags;
}
