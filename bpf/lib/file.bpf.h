/* SPDX-License-Identifier: GPL-2.0 */
/*
 * File activity: one vg_files entry per (process, file). The hooks are
 * syscalls:sys_exit_* tracepoints (file.bpf.c); the arguments are read from
 * the task's saved user registers at exit, so one hook per syscall suffices.
 *
 * The per-process cache is the entry itself: an operation on a file the
 * process already touched, with action bits already evaluated, costs a map
 * lookup and two stores (vg_file_fd below, the hot path) — and when it is the
 * entry this CPU met last, not even the lookup: the hit is counted in the
 * per-CPU slot vg_file_hot and added to the entry at the next tick. Only
 * first sight and new action bits go to the global slow path, which builds
 * the path and evaluates the rules.
 */
#ifndef VG_FILE_BPF_H
#define VG_FILE_BPF_H

#include "lib/common.bpf.h"
#include "lib/rules.bpf.h"

/* x86_64 syscall numbers (arch/x86/entry/syscalls/syscall_64.tbl): stable ABI. */
enum vg_nr {
	VG_NR_open = 2, VG_NR_mmap = 9, VG_NR_kill = 62, VG_NR_truncate = 76,
	VG_NR_ftruncate = 77, VG_NR_rename = 82, VG_NR_rmdir = 84, VG_NR_creat = 85,
	VG_NR_link = 86, VG_NR_unlink = 87, VG_NR_symlink = 88, VG_NR_chmod = 90,
	VG_NR_fchmod = 91, VG_NR_chown = 92, VG_NR_fchown = 93, VG_NR_lchown = 94,
	VG_NR_ptrace = 101, VG_NR_setuid = 105, VG_NR_setgid = 106, VG_NR_setreuid = 113,
	VG_NR_setregid = 114, VG_NR_setresuid = 117, VG_NR_setresgid = 119,
	VG_NR_setfsuid = 122, VG_NR_setfsgid = 123, VG_NR_capset = 126, VG_NR_utime = 132,
	VG_NR_mknod = 133, VG_NR_personality = 135, VG_NR_pivot_root = 155,
	VG_NR_chroot = 161, VG_NR_mount = 165, VG_NR_umount2 = 166, VG_NR_init_module = 175,
	VG_NR_delete_module = 176, VG_NR_setxattr = 188, VG_NR_lsetxattr = 189,
	VG_NR_fsetxattr = 190, VG_NR_tkill = 200, VG_NR_tgkill = 234, VG_NR_utimes = 235,
	VG_NR_keyctl = 250, VG_NR_openat = 257, VG_NR_mknodat = 259, VG_NR_fchownat = 260,
	VG_NR_futimesat = 261, VG_NR_unlinkat = 263, VG_NR_renameat = 264,
	VG_NR_linkat = 265, VG_NR_symlinkat = 266, VG_NR_fchmodat = 268,
	VG_NR_unshare = 272, VG_NR_utimensat = 280, VG_NR_open_by_handle_at = 304,
	VG_NR_setns = 308, VG_NR_process_vm_readv = 310, VG_NR_process_vm_writev = 311,
	VG_NR_finit_module = 313, VG_NR_renameat2 = 316, VG_NR_memfd_create = 319,
	VG_NR_bpf = 321, VG_NR_pidfd_open = 434, VG_NR_openat2 = 437, VG_NR_fchmodat2 = 452 /* 6.6 */,
	VG_NR_setxattrat = 463 /* 6.13 */,
};

/* uapi constants (not in BTF: they are #defines). */
#define VG_AT_FDCWD -100
#define VG_AT_EMPTY_PATH 0x1000
#define VG_O_ACCMODE 03
#define VG_O_WRONLY 01
#define VG_O_RDWR 02
#define VG_O_CREAT 0100
#define VG_O_TRUNC 01000
#define VG_O_PATH 010000000
#define VG_S_IFMT 0170000
#define VG_S_IFSOCK 0140000
#define VG_S_IFIFO 0010000
#define VG_S_IFCHR 0020000
#define VG_S_ISUID 04000
#define VG_S_ISGID 02000
#define VG_PROT_EXEC 4
#define VG_MAP_ANONYMOUS 0x20

/*
 * The record of a syscalls:sys_exit_* event. (vmlinux.h's trace_event_raw_sys_exit
 * is raw_syscalls' and has a long id; here the number is an int and the 4 bytes
 * after it are padding the kernel doesn't clear.)
 */
struct vg_sys_exit_ctx {
	__u64 common;
	__s32 nr;
	__s32 _pad;
	__s64 ret;
};

/*
 * The struct file behind fd in t's table, NULL if none. fdt->fd is an array
 * of pointers the verifier won't index with a variable: one probe read.
 */
static __always_inline struct file *vg_fd_file(struct task_struct *t, int fd)
{
	struct fdtable *fdt = t->files->fdt;
	struct file **arr;
	struct file *f = NULL;

	if (fd < 0 || fd >= fdt->max_fds)
		return NULL;
	arr = fdt->fd;
	bpf_probe_read_kernel(&f, sizeof(f), &arr[fd & 0xffffff]);
	return f;
}

/* The inode on fd when it is of this type (VG_S_IFSOCK, VG_S_IFCHR, ...), else NULL. */
static __always_inline struct inode *vg_fd_inode(struct task_struct *t, int fd, __u32 type)
{
	struct file *f = vg_fd_file(t, fd);
	struct inode *i;

	if (!f)
		return NULL;
	i = BPF_CORE_READ(f, f_inode);
	return (BPF_CORE_READ(i, i_mode) & VG_S_IFMT) == type ? i : NULL;
}

/* Is fd a socket? (exec condition: a shell whose stdin/stdout is a socket) */
static __always_inline bool vg_fd_is_sock(struct task_struct *t, int fd)
{
	return vg_fd_inode(t, fd, VG_S_IFSOCK) != NULL;
}

/* Is fd a pseudo-terminal's end a program runs on (/dev/pts/N: Unix98 pty slave, majors
 * 136-143)? */
static __always_inline bool vg_fd_is_pty(struct task_struct *t, int fd)
{
	struct inode *i = vg_fd_inode(t, fd, VG_S_IFCHR);
	__u32 major;

	if (!i)
		return false;
	major = BPF_CORE_READ(i, i_rdev) >> 20; /* MAJOR() of the kernel's dev_t */
	return major >= 136 && major <= 143;
}

/* The inode number of the pipe or FIFO on fd, 0 if fd is something else. */
static __always_inline __u64 vg_fd_pipe_ino(struct task_struct *t, int fd)
{
	struct inode *i = vg_fd_inode(t, fd, VG_S_IFIFO);

	return i ? BPF_CORE_READ(i, i_ino) : 0;
}

/*
 * The entry key of an open file: (process, inode number, device, generation).
 * On the hot path, so few reads: i_sb and i_ino (close together in struct
 * inode on every kernel vigil knows) and, where the layout puts it near as
 * 6.18's does, i_generation come in one read of a window. The offsets are
 * CO-RE relocated constants: the verifier sees the branches decided. The
 * super block's device number comes from a one-entry per-CPU cache (a super
 * block's s_dev never changes while it exists; opens in a row are mostly on
 * one file system).
 */
#define VG_INODE_WINDOW 96
static __always_inline void vg_file_key_of(struct task_struct *t, struct file *f,
					   struct vg_file_key *k, struct vg_scratch *sc)
{
	struct inode *ino = BPF_CORE_READ(f, f_inode);
	__u32 sb_off = bpf_core_field_offset(struct inode, i_sb);
	__u32 ino_off = bpf_core_field_offset(struct inode, i_ino);
	__u32 gen_off = bpf_core_field_offset(struct inode, i_generation);
	__u64 win[VG_INODE_WINDOW / 8];
	struct super_block *sb;

	k->proc.start_ns = t->group_leader->start_boottime;
	k->proc.tgid = t->tgid;
	k->proc._pad = 0;
	if (vg_have_rdonly_cast) { /* typed loads, no helper call */
		struct file *ft = bpf_rdonly_cast(f, bpf_core_type_id_kernel(struct file));
		struct inode *in = ft->f_inode;

		k->obj = in->i_ino;
		k->igen = in->i_generation;
		k->dev = in->i_sb->s_dev;
		return;
	}
	if (ino_off < sb_off || ino_off + 8 - sb_off > VG_INODE_WINDOW || (ino_off - sb_off) % 8) {
		/* a layout the window doesn't cover: field by field */
		k->obj = BPF_CORE_READ(ino, i_ino);
		k->dev = BPF_CORE_READ(ino, i_sb, s_dev);
		k->igen = BPF_CORE_READ(ino, i_generation);
		return;
	}
	if (bpf_probe_read_kernel(win, sizeof(win), (void *)ino + sb_off))
		__builtin_memset(win, 0, sizeof(win));
	sb = (struct super_block *)win[0];
	k->obj = win[(ino_off - sb_off) / 8];
	if (gen_off >= sb_off && gen_off + 4 - sb_off <= VG_INODE_WINDOW)
		k->igen = ((__u32 *)win)[(gen_off - sb_off) / 4];
	else
		k->igen = BPF_CORE_READ(ino, i_generation);
	if (sc->sb_last == (__u64)sb && sb) {
		k->dev = sc->sb_last_dev;
		return;
	}
	k->dev = BPF_CORE_READ(sb, s_dev);
	sc->sb_last = (__u64)sb;
	sc->sb_last_dev = k->dev;
}

/* f->f_mode (FMODE_*): a typed load where the kernel allows it, else a probe read. */
#define VG_FMODE_WRITE 0x2
#define VG_FMODE_PATH 0x4000
static __always_inline __u32 vg_file_fmode(struct file *f)
{
	if (vg_have_rdonly_cast) {
		struct file *ft = bpf_rdonly_cast(f, bpf_core_type_id_kernel(struct file));

		return ft->f_mode;
	}
	return BPF_CORE_READ(f, f_mode);
}

/* The same key read field by field: for the slow paths, whose stack is precious. */
static __always_inline void vg_file_key_fields(struct task_struct *t, struct file *f,
					       struct vg_file_key *k)
{
	struct inode *ino = BPF_CORE_READ(f, f_inode);

	k->proc.start_ns = t->group_leader->start_boottime;
	k->proc.tgid = t->tgid;
	k->proc._pad = 0;
	k->obj = BPF_CORE_READ(ino, i_ino);
	k->dev = BPF_CORE_READ(ino, i_sb, s_dev);
	k->igen = BPF_CORE_READ(ino, i_generation);
}

/*
 * Action bits of an entry already evaluated against the active rule
 * generation. The top bit of vg_file.alerted says which generation that was,
 * so after a rule reload every (process, file) is evaluated again once.
 */
#define VG_ALERTED_GEN (1u << 31)
static __always_inline __u32 vg_alerted_bits(__u32 alerted, __u32 gen)
{
	return (alerted >> 31) == gen ? alerted & ~VG_ALERTED_GEN : 0;
}

static __always_inline __u32 vg_file_evaluated(const struct vg_file *e, __u32 gen)
{
	return vg_alerted_bits(e->alerted, gen);
}

/*
 * Global slow paths (file.bpf.c), verified once per program that calls them.
 *
 * vg_file_slow: an operation on an open file (struct file * as an integer)
 * that missed the cache or brought new action bits: builds the path, interns
 * it, inserts or merges the entry, evaluates the file rules. `known` != 0
 * means sc->str already holds the path and `known` is its id (exec).
 */
int vg_file_slow(__u64 file, __u32 actions, __u32 mode, __u64 known);

/*
 * vg_file_upath: an operation on a path the caller named (path-only calls
 * and failed attempts): the user string at uptr, made absolute against dfd
 * (or the cwd) and normalised lexically, flagged VG_FF_UNRESOLVED. With
 * actions == 0 the path is only interned. Returns its string id, 0 if none.
 */
__u64 vg_file_upath(__u64 uptr, __s32 dfd, __u32 actions, __u32 mode, __u64 path2);

/*
 * vg_file_fd: an operation on descriptor fd of the current process — the hot
 * path. The entry this CPU met last, with nothing new to evaluate, is counted
 * in vg_file_hot; any other is looked up, and if nothing new is to be
 * evaluated, counted, stamped and made the slot's; else vg_file_slow. A global
 * function, not inlined: the hooks that also call the path-only slow path keep
 * a small frame, so the deepest call chain fits the 512 bytes of stack Linux
 * 6.1 allows all frames together (6.13+ relaxes this with private stacks).
 */
int vg_file_fd(__s32 fd, __u32 actions, __u32 mode);

/*
 * vg_file_fd(fd, VG_FD_READ_HIT, 0): a successful open, its flags not read
 * yet. If the file is open without write access (f_mode) and its entry is
 * there with read already evaluated, that is the whole story: counted, 0.
 * Anything else (write access, first sight, a new rule generation) returns 1
 * and nothing was recorded: the caller reads the flags and calls again.
 * Repeated read-only opens, the bulk of all opens, so never need the
 * caller's arguments (bpf_task_pt_regs, a helper call).
 */
#define VG_FD_READ_HIT (1u << 29)

#endif /* VG_FILE_BPF_H */
