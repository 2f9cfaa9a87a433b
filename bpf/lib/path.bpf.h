/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Resolve (dentry, vfsmount) to an absolute path, the way d_path() does, for
 * program types that may not call bpf_d_path(). Bounded: VG_PATH_DEPTH
 * components; deeper or longer paths are cut and flagged.
 */
#ifndef VG_PATH_BPF_H
#define VG_PATH_BPF_H

#include "lib/common.bpf.h"

#define VG_NAME_MAX 256 /* NAME_MAX + NUL */

enum vg_path_flags {
	VG_PATHF_TRUNC = 1,    /* cut: deeper than VG_PATH_DEPTH or longer than VG_STR_MAX */
	VG_PATHF_DELETED = 2,  /* unlinked (or anonymous, like a memfd) */
	VG_PATHF_DETACHED = 4, /* not reachable from a root: pseudo/anonymous file */
};

/*
 * Walk from `dentry` up to the root of its mount namespace, crossing mount
 * points, and write the path into sc->str. Returns enum vg_path_flags.
 */
static __noinline int vg_path_build(struct vg_scratch *sc, struct dentry *dentry,
				    struct vfsmount *vfsmnt)
{
	struct mount *mnt = container_of(vfsmnt, struct mount, mnt);
	struct dentry *d = dentry;
	__u32 n = 0, off = 0;
	int flags = VG_PATHF_TRUNC;

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
		if (n >= VG_PATH_DEPTH)
			break;
		sc->names[n & (VG_PATH_DEPTH - 1)] = BPF_CORE_READ(d, d_name.name);
		n++;
		if (d == parent) { /* disconnected: pipe:, memfd:, anon_inode: ... */
			flags = (flags & ~VG_PATHF_TRUNC) | VG_PATHF_DETACHED;
			break;
		}
		d = parent;
	}

	for (int i = VG_PATH_DEPTH - 1; i >= 0; i--) {
		long len;

		if ((__u32)i >= n)
			continue;
		if (off > VG_STR_MAX - VG_NAME_MAX - 1) {
			flags |= VG_PATHF_TRUNC;
			break;
		}
		sc->str.data[off & (VG_STR_MAX - 1)] = '/';
		off++;
		len = bpf_probe_read_kernel_str(&sc->str.data[off & (VG_STR_MAX - 1)], VG_NAME_MAX,
						sc->names[i & (VG_PATH_DEPTH - 1)]);
		if (len > 1)
			off += len - 1;
	}
	if (off == 0)
		sc->str.data[off++] = '/';
	sc->str.data[off & (VG_STR_MAX - 1)] = 0;
	sc->str.h.len = off + 1;
	sc->str.h.flags = (flags & VG_PATHF_TRUNC) ? VG_STRF_TRUNC : 0;

	if (BPF_CORE_READ(dentry, d_inode, __i_nlink) == 0)
		flags |= VG_PATHF_DELETED;
	if (flags & VG_PATHF_TRUNC)
		vg_count(VG_ST_TRUNC_PATH);
	return flags;
}

#endif /* VG_PATH_BPF_H */
