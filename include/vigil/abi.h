/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * vigil's kernel/user ABI: every record that crosses the boundary (map keys and
 * values, ring-buffer messages, counters) is described here once and included
 * by both the BPF programs (bpf/) and user space (src/).
 *
 * Changing a layout here changes VG_ABI_VERSION; a daemon that finds pinned
 * maps of another version reports it and starts a fresh state (src/sensor/pin.c).
 */
#ifndef VIGIL_ABI_H
#define VIGIL_ABI_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define VG_ABI_VERSION 1
#define VG_ABI_MAGIC 0x5649474c /* "VIGL" */

#define VG_COMM_LEN 16
/* Largest interned string (a path or an argv block), bytes incl. the NUL. */
#define VG_STR_MAX 4096
/* Interned strings live in three size classes so a short path doesn't pay for 4 KiB. */
#define VG_STR_CLASS_S 128
#define VG_STR_CLASS_M 512
#define VG_STR_CLASS_L VG_STR_MAX
/* Top two bits of a string id name its class (so a reader knows which map). */
#define VG_STR_CLASS_SHIFT 62
#define VG_STR_HASHBITS(h) ((h) & ~(3ULL << VG_STR_CLASS_SHIFT))
/* Never 0 ("no string"), whatever the hash: a zero hash part becomes 1. */
#define VG_STR_ID(hash, cls)                                                                       \
	((VG_STR_HASHBITS(hash) ? VG_STR_HASHBITS(hash) : 1ULL) |                                  \
	 ((__u64)(cls) << VG_STR_CLASS_SHIFT))
#define VG_STR_CLASS_OF(id) ((unsigned)((id) >> VG_STR_CLASS_SHIFT))

/* Default bounds; each is a run-time setting (`vigil run --help`). */
#define VG_ARGV_DEFAULT 4096   /* argv bytes kept per exec */
#define VG_PATH_DEPTH 64       /* dentry components walked */
#define VG_PROCS_DEFAULT 65536 /* process table entries */
#define VG_STRS_DEFAULT 65536  /* interned strings per class */

/* A process is (tgid, start time): PID reuse can never mix two processes. */
struct vg_proc_key {
	__u64 start_ns; /* task start, CLOCK_BOOTTIME ns (group leader's) */
	__u32 tgid;
	__u32 _pad;
};

enum vg_proc_flags {
	VG_PF_EXITED = 1 << 0,         /* exit observed (or inferred, see EXIT_UNSEEN) */
	VG_PF_FROM_SNAPSHOT = 1 << 1,  /* existed before vigil attached */
	VG_PF_EXECED = 1 << 2,         /* exec'd at least once since fork */
	VG_PF_TRUNC_ARGV = 1 << 3,     /* argv longer than the bound: cut */
	VG_PF_TRUNC_EXE = 1 << 4,      /* exe path deeper/longer than the bound: cut */
	VG_PF_EXIT_UNSEEN = 1 << 5,    /* exited while no daemon ran; time = when noticed */
	VG_PF_APPROX_START = 1 << 6,   /* start time from /proc (tick resolution) */
	VG_PF_EXE_DELETED = 1 << 7,    /* exe file unlinked / anonymous (memfd) */
	VG_PF_STR_LOST = 1 << 8,       /* a string could not be interned (table full) */
	VG_PF_KTHREAD = 1 << 9,        /* kernel thread */
	VG_PF_PARENT_UNKNOWN = 1 << 10 /* parent predates tracking and left no record */
};

struct vg_proc {
	struct vg_proc_key key;
	struct vg_proc_key parent; /* parent as at fork: reparenting doesn't lose lineage */
	__u64 exit_ns;             /* CLOCK_BOOTTIME ns, 0 while alive */
	__u64 exec_ns;             /* last exec, 0 if never exec'd under watch */
	__u64 cgroup_id;           /* cgroup v2 id (inode of the cgroup dir) */
	__u64 exe;                 /* string id: resolved path of the executable */
	__u64 prev_exe;            /* string id: exe before the last exec, 0 if none */
	__u64 argv;                /* string id: argv, NUL-separated */
	__u64 cgroup;              /* string id: cgroup v2 path, "" root */
	__u32 ppid;
	__u32 uid, gid, euid, egid, auid;
	__u32 ns_mnt, ns_pid, ns_net, ns_uts, ns_ipc, ns_user, ns_cgroup;
	__s32 exit_code; /* raw wait status: exit status << 8 | signal */
	__u32 flags;     /* enum vg_proc_flags */
	__u32 exec_count;
	__u32 argc;
	char comm[VG_COMM_LEN];
};

/* Interned string: key is its id (hash + class), stored once however often used. */
struct vg_str_hdr {
	__u64 last_used_ns; /* refreshed on every intern hit; GC keeps recent ones */
	__u32 len;          /* bytes used in data, incl. the final NUL */
	__u32 flags;        /* VG_STRF_* */
};
#define VG_STRF_TRUNC 1

/*
 * String hash, identical in BPF and user space: 8 bytes at a time, little
 * endian, bytes past the length ignored. Id 0 is reserved for "no string".
 */
#define VG_HASH_INIT(len) (0xcbf29ce484222325ULL ^ (__u64)(len))
#define VG_HASH_STEP(h, w)                                                                         \
	do {                                                                                       \
		(h) ^= (w);                                                                        \
		(h) *= 0x9e3779b97f4a7c15ULL;                                                      \
		(h) ^= (h) >> 32;                                                                  \
	} while (0)
#define VG_HASH_FINAL(h) (h) /* VG_STR_ID keeps ids non-zero */

#define VG_STR_VALUE(n)                                                                            \
	struct vg_str_##n {                                                                        \
		struct vg_str_hdr h;                                                               \
		char data[n];                                                                      \
	}
VG_STR_VALUE(128);
VG_STR_VALUE(512);
VG_STR_VALUE(4096);

/*
 * Counters, one slot each in the per-CPU `stats` map. User space sums CPUs.
 * Every limit vigil can hit has one: nothing is dropped without being counted.
 */
enum vg_stat {
	VG_ST_FORK,            /* processes created */
	VG_ST_EXEC,            /* execs */
	VG_ST_EXIT,            /* processes exited */
	VG_ST_PROC_INSERT_FAIL,/* process table full: process not recorded */
	VG_ST_PROC_MISSING,    /* exec/exit of a process with no record (then created) */
	VG_ST_EVICT_PRESSURE,  /* exited entries evicted early because the table was full */
	VG_ST_EVICT_RETENTION, /* exited entries evicted at the end of retention (user space) */
	VG_ST_EXITQ_FULL,      /* exit queue full: an exited entry can't be aged out in order */
	VG_ST_STR_INSERT_FAIL, /* string table full: string lost */
	VG_ST_STR_EVICT,       /* unreferenced strings collected (user space) */
	VG_ST_TRUNC_ARGV,      /* argv longer than the bound */
	VG_ST_TRUNC_PATH,      /* path deeper or longer than the bound */
	VG_ST_RB_DROP,         /* ring buffer full: message dropped */
	VG_ST_SNAPSHOT,        /* processes recorded by the start-up snapshot */
	VG_ST_EXIT_UNSEEN,     /* processes found gone after a daemon restart */
	VG_ST_STATE_RESET,     /* pinned state discarded (incompatible layout) */
	VG_ST_MAX
};

/* Process accounting the kernel keeps exact (updated with atomics). */
struct vg_gauges {
	__s64 procs;  /* entries in the process table */
	__s64 exited; /* of which exited */
};

enum vg_gauge_slot { VG_GAUGE_KERNEL, VG_GAUGE_USER, VG_GAUGE_SLOTS };

/* Pinned alongside the maps: tells a restarted daemon what layout they hold. */
struct vg_meta {
	__u32 magic;
	__u32 abi_version;
	__u32 proc_size;
	__u32 str_max;
	__u64 created_ns; /* CLOCK_REALTIME when the state was first created */
	__u64 boot_ns;    /* CLOCK_REALTIME - CLOCK_BOOTTIME at creation */
};

/* Ring-buffer messages (debug trace now; rule hits later). */
enum vg_msg_type {
	VG_MSG_EXEC = 1,
	VG_MSG_EXIT = 2,
};

struct vg_msg_hdr {
	__u32 type; /* enum vg_msg_type */
	__u32 len;  /* whole message */
	__u64 time_ns;
};

struct vg_msg_proc {
	struct vg_msg_hdr hdr;
	struct vg_proc proc;
};

#endif /* VIGIL_ABI_H */
