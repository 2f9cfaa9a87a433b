/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Absolute paths built in the kernel, for program types that may not call
 * bpf_d_path(): files (dentry + vfsmount, crossing mounts like d_path())
 * and cgroups (kernfs nodes). Implemented in path.bpf.c as global functions
 * so the verifier checks each once, not once per caller.
 */
#ifndef VG_PATH_BPF_H
#define VG_PATH_BPF_H

#include "lib/common.bpf.h"

#define VG_CGROUP_DEPTH 32 /* kernfs levels walked */

enum vg_path_flags {
	VG_PATHF_TRUNC = 1,    /* cut: deeper than VG_PATH_DEPTH or longer than VG_STR_MAX */
	VG_PATHF_DELETED = 2,  /* unlinked (or anonymous, like a memfd) */
	VG_PATHF_DETACHED = 4, /* not reachable from a root: pseudo/anonymous file */
};

/*
 * Write the path of (dentry, vfsmount) into the per-CPU scratch string
 * (sc->str). Pointers are passed as integers: global functions verify
 * pointer arguments as memory of the pointee's size, which kernel objects
 * are not. Returns enum vg_path_flags, or < 0 if there is no scratch.
 */
int vg_path_build(__u64 dentry, __u64 vfsmnt);

/* Same for a cgroup's kernfs node: "/system.slice/ssh.service", "/" for the root. */
int vg_cgroup_path_build(__u64 kn);

/*
 * A path a syscall's caller named (user pointer uptr), made absolute against
 * directory fd dfd (AT_FDCWD: the cwd) and normalised lexically ("." ".."
 * "//"; symlinks not followed) into sc->str. For path-only operations and
 * failed attempts, where the kernel resolved nothing we could walk. Returns
 * VG_PATHF_TRUNC or 0, < 0 without a string.
 */
int vg_upath_build(__u64 uptr, __s32 dfd);

#endif /* VG_PATH_BPF_H */
