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
