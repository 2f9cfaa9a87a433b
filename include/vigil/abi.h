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

#define VG_ABI_VERSION 12
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
#define VG_FILES_DEFAULT 262144 /* (process, file) entries */

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
	VG_PF_PARENT_UNKNOWN = 1 << 10, /* parent predates tracking and left no record */
	VG_PF_NET_QUARANTINE = 1 << 11, /* network cut: connect/sendmsg get EPERM, egress dropped;
					 * inherited by children at fork (enforcement sets it) */
	VG_PF_FROZEN = 1 << 12,         /* stopped by an enforcement action (freeze) */
	VG_PF_STDIO_SEEN = 1 << 13      /* stdin_pipe/stdout_pipe recorded at the last exec */
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
	__u64 exe_base;            /* vg_name_hash of the exe's basename, 0 if unknown (exec rules:
				    * a child's VG_RW_PARENT_BASE comes from here) */
	__u32 ppid;
	__u32 uid, gid, euid, egid, auid;
	__u32 ns_mnt, ns_pid, ns_net, ns_uts, ns_ipc, ns_user, ns_cgroup;
	__s32 exit_code; /* raw wait status: exit status << 8 | signal */
	__u32 flags;     /* enum vg_proc_flags */
	__u32 exec_count;
	__u32 argc;
	char comm[VG_COMM_LEN];
	/* Inode numbers of the pipes (or FIFOs) on fds 0 and 1 at the last exec, 0 if not a
	 * pipe: two records with stdout_pipe == stdin_pipe are neighbours in a pipeline,
	 * even after both exited (the rules' stdout_pipe_to / stdin_pipe_from). */
	__u64 stdin_pipe, stdout_pipe;
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
	/* detections */
	VG_ST_FILE_EVENTS,     /* file operations seen (after the per-process cache) */
	VG_ST_FILE_INSERT_FAIL,/* file table full: a (process, file) entry not recorded */
	VG_ST_FILE_EVICT,      /* file entries removed with their process, or for room (LRU) */
	VG_ST_PATH_UNRESOLVED, /* a path kept as the user gave it (failed or path-only op) */
	VG_ST_ALERTS,          /* rule candidates sent to user space (attempted) */
	VG_ST_ALERT_DROP,      /* ... of which did not fit the ring buffer */
	VG_ST_EXEC_SCAN,       /* execs sent for argv-only rules */
	VG_ST_FILE_NEW,        /* (process, file) entries created */
	VG_ST_NOT_FOUND,       /* file calls that failed ENOENT/ENOTDIR: counted, not recorded */
	VG_ST_NET_QUARANTINED, /* processes put in network quarantine (user space counts) */
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

/* ======================= file activity ======================= */

/* What a process did to a file: one bit per kind of operation. */
enum vg_fact {
	VG_FA_READ = 1 << 0,        /* opened for reading */
	VG_FA_WRITE = 1 << 1,       /* opened for writing */
	VG_FA_CREATE = 1 << 2,      /* opened with O_CREAT, creat(), mknod() */
	VG_FA_TRUNC = 1 << 3,       /* O_TRUNC, truncate(), ftruncate() */
	VG_FA_UNLINK = 1 << 4,      /* unlink(), unlinkat(), rmdir */
	VG_FA_RENAME_FROM = 1 << 5, /* the old name of a rename */
	VG_FA_RENAME_TO = 1 << 6,   /* the new name of a rename */
	VG_FA_CHMOD = 1 << 7,       /* chmod family */
	VG_FA_CHOWN = 1 << 8,       /* chown family */
	VG_FA_LINK = 1 << 9,        /* a hard link made at this path */
	VG_FA_SYMLINK = 1 << 10,    /* a symlink made at this path */
	VG_FA_EXEC = 1 << 11,       /* executed */
	VG_FA_MMAP_EXEC = 1 << 12,  /* mapped executable */
	VG_FA_SETID = 1 << 13,      /* chmod that sets S_ISUID or S_ISGID */
	VG_FA_UTIMES = 1 << 14,     /* explicit times set (utimensat, utimes) */
	VG_FA_XATTR_CAPS = 1 << 15, /* security.capability set (file capabilities) */
	VG_FA_MEMFD = 1 << 16,      /* memfd_create() */
	VG_FA_FAILED = 1 << 30,     /* the operation failed (EACCES, ENOENT...) */
};
#define VG_FA_WRITES (VG_FA_WRITE | VG_FA_CREATE | VG_FA_TRUNC | VG_FA_RENAME_TO | VG_FA_LINK | \
		      VG_FA_SYMLINK)

/* A (process, file) pair. obj/dev name the inode; for a path the kernel could not
 * resolve to an inode (a failed or path-only operation), dev is 0 and obj is the
 * path's string id. */
struct vg_file_key {
	struct vg_proc_key proc;
	__u64 obj;  /* inode number, or the path's string id when dev is 0 */
	__u32 dev;  /* st_dev of the inode (kernel encoding: major << 20 | minor), 0: a path */
	__u32 igen; /* inode generation: an inode number reused for a new file (a deleted
		     * temporary file's) makes a new entry, not a hit on the old file's */
};

enum vg_file_flags {
	VG_FF_UNRESOLVED = 1 << 0, /* path as the caller gave it (made absolute, not resolved) */
	VG_FF_TRUNC = 1 << 1,      /* path cut at the bound */
	VG_FF_DELETED = 1 << 2,    /* the file was unlinked (or is anonymous) */
};

struct vg_file {
	__u64 path;     /* string id of the absolute path */
	__u64 first_ns; /* CLOCK_BOOTTIME */
	__u64 last_ns;  /* at tick resolution (the hot path reads the clock once per jiffy) */
	__u32 actions;  /* enum vg_fact, all seen */
	__u32 count;    /* operations */
	__u32 flags;    /* enum vg_file_flags */
	__u32 alerted;  /* action bits already evaluated against the rules */
};

/*
 * Per CPU: the (process, file) the hot path met last, and the hits on it not
 * yet added to its vg_files entry. A repeated operation with nothing new to
 * evaluate bumps `pending` here instead of looking the entry up; the pending
 * hits go into the entry when this CPU meets another file, or at the next
 * tick (so an entry lags at most a tick behind while its CPU is busy).
 * Queries add what is still pending (vg_filetab_load).
 */
struct vg_file_hot {
	struct vg_file_key key;
	__u64 last_ns;  /* tick time of the newest pending hit */
	__u32 pending;  /* hits not yet in the entry's count */
	__u32 alerted;  /* the entry's vg_file.alerted when the slot was filled */
};

/* ======================= rules in the kernel ======================= */

/*
 * The cheap part of each rule is compiled into the tables below; a hit sends a
 * vg_alert with the candidate rules and user space finishes the rule. Rules are
 * numbered per kind, VG_RULES_MAX at most, as bits of a vg_rbits.
 *
 * Two generations of every table exist side by side (gen 0/1): a reload fills
 * the idle one, then flips vg_rule_gen. A message carries the generation it was
 * evaluated with.
 */
#define VG_RULES_MAX 128
struct vg_rbits {
	__u64 w[VG_RULES_MAX / 64];
};

enum vg_rule_kind { VG_RK_FILE, VG_RK_EXEC, VG_RK_SYSCALL, VG_RK_MAX };

/* Path prefixes: an LPM trie over (gen, kind, path bytes). The value for a
 * prefix is the union of the rules of that prefix and of every shorter one. */
#define VG_LPM_MAX 126
struct vg_lpm_key {
	__u32 prefixlen; /* in bits, the 2-byte (gen, kind) head included */
	__u8 gen;
	__u8 kind;
	__u8 data[VG_LPM_MAX];
};

/* Exact-value predicates, hashed: (gen, kind, what, value) -> rules. */
enum vg_rule_what {
	VG_RW_PATH,        /* value: string id of a whole path (file path / exe path) */
	VG_RW_BASE,        /* value: vg_name_hash() of the last path component */
	VG_RW_PARENT_BASE, /* exec: basename hash of the parent's executable */
	VG_RW_EXE_EXCEPT,  /* value: string id of an exe the rules don't apply to */
	VG_RW_EXE_ONLY,    /* value: string id of an exe the rules are limited to */
	VG_RW_SYSCALL,     /* value: syscall number */
	VG_RW_SYSCALL_ARG, /* value: an argument's whole 64-bit value; aux: VG_ARG_AUX(nr, index) */
};
struct vg_rule_key {
	__u8 gen;
	__u8 kind;
	__u16 what; /* enum vg_rule_what */
	__u32 aux;  /* VG_RW_SYSCALL_ARG: which syscall and argument; 0 otherwise */
	__u64 value;
};
#define VG_ARG_AUX(nr, idx) (((__u32)(nr) << 3) | ((__u32)(idx) & 7))

/* Conditions on the exec itself that the kernel checks (exec rules). */
enum vg_exec_cond {
	VG_XC_MEMFD,       /* the executable is anonymous or deleted (memfd, unlinked) */
	VG_XC_STDIO_SOCK,  /* stdin or stdout is a socket (reverse-shell shape) */
	VG_XC_GAINED_ROOT, /* euid became 0 while the real uid before exec was not 0 */
	VG_XC_VIA_PTY,     /* with VG_XC_STDIO_SOCK: stdin is a pseudo-terminal and the socket
			    * is the parent's stdin or stdout — a pty relay (python's
			    * pty.spawn, script) between a socket and the shell; no rule
			    * asks for it, it says where user space confirms the socket */
	VG_XC_MAX = 4
};

/* Per (gen, kind): which rules need which predicate. A rule is a candidate when
 * every predicate it needs holds:
 *   cand = all & (prefix | ~need_prefix) & (path | ~need_path) & (base | ~need_base)
 *        & (parent | ~need_parent) & (only | ~need_only) & ~except
 *        & act[bit] for some action bit of the operation (file)
 *        & (uid == 0 ? ~need_nonroot : ~need_root)
 *        & for each exec condition c: (c holds ? all : ~need_cond[c])     (exec)
 *        & (arg | ~need_arg)                                               (syscall)
 * Exec rules with no kernel predicate at all (argv-only) set scan_all: every
 * exec is then sent (batched, no wake-up per exec).
 * What the kernel looks each predicate up with (uid is the effective uid; a
 * prefix is the path's first VG_LPM_MAX bytes without a NUL; except/only take
 * the acting process's exe, for exec the new one) is in bpf/lib/rules.bpf.h. */
struct vg_ruleset {
	struct vg_rbits all;
	struct vg_rbits need_prefix, need_path, need_base, need_parent, need_only;
	struct vg_rbits need_root, need_nonroot;
	struct vg_rbits need_cond[VG_XC_MAX];
	struct vg_rbits act[32]; /* file: rules that care about action bit i */
	__u32 scan_all;          /* exec: some rule must see every exec (argv-only) */
	__u32 nrules;
	/* syscall: rules with an argument condition `in: [values]` the kernel checks: a
	 * candidate only when (nr, argument arg_idx bit i, its value) is in VG_RW_SYSCALL_ARG */
	struct vg_rbits need_arg;
	__u32 arg_idx;           /* bit i: some rule's kernel condition is on argument i */
	__u32 _pad;
	/* syscall: rules that don't apply when the call's target process is the
	 * caller's own (VG_KREL_x - 1): strace reading its tracees, a shell
	 * killing its jobs. Ancestry as at fork, at most VG_KREL_DEPTH levels. */
	struct vg_rbits rel_not[3];
};
enum vg_krel { VG_KREL_OTHER, VG_KREL_SELF, VG_KREL_CHILD, VG_KREL_DESCENDANT };
#define VG_KREL_DEPTH 8
#define VG_RULESET_SLOT(gen, kind) ((gen) * VG_RK_MAX + (kind))

/* Hash of one path component (a basename), the same in BPF and user space:
 * FNV-1a 64 over its bytes. */
#define VG_NAME_HASH_INIT 0xcbf29ce484222325ULL
#define VG_NAME_HASH_STEP(h, c) (((h) ^ (__u8)(c)) * 0x100000001b3ULL)

/* Ring-buffer messages: exec/exit in --trace mode, rule candidates (alerts). */
enum vg_msg_type {
	VG_MSG_EXEC = 1,
	VG_MSG_EXIT = 2,
	VG_MSG_ALERT = 3,
	VG_MSG_ENFORCE = 4, /* struct vg_enforce_msg (enforcement section) */
	VG_MSG_NET = 0x20, /* struct vg_np_msg: network policy */
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

/* A rule candidate. The process is named by key: user space reads its record
 * (alive or exited) and ancestry from the process table. */
struct vg_alert {
	struct vg_msg_hdr hdr; /* type VG_MSG_ALERT */
	struct vg_proc_key proc;
	struct vg_rbits rules; /* candidate rules of `kind` in generation `gen` */
	__u8 gen;
	__u8 kind;           /* enum vg_rule_kind */
	__u16 _pad;
	__u32 uid;           /* at the time of the operation */
	union {
		struct {
			__u64 path;     /* string id */
			__u64 path2;    /* rename: the other name; link: the target */
			__u64 ino;
			__u32 dev;
			__u32 actions;  /* this operation's enum vg_fact bits */
			__u32 flags;    /* enum vg_file_flags */
			__u32 mode;     /* chmod/open/mknod mode */
		} file;
		struct {
			__u64 exe;      /* string id (also in the record, which may change later) */
			__u64 argv;     /* string id */
			__u64 parent_exe;
			__u32 flags;    /* the record's enum vg_proc_flags at exec */
			__u32 conds;    /* exec conditions the kernel saw: 1 << enum vg_exec_cond */
		} exec;
		struct {
			__u32 nr;       /* syscall number (x86_64) */
			__s32 ret;      /* return value, or 0 when seen at entry */
			__u64 args[6];
			__u64 str;      /* string id of a path/name argument, 0 if none */
			struct vg_proc_key target; /* ptrace/kill/process_vm_*: the other process */
		} sys;
	};
};

/* ======================= network: flows and DNS ======================= */

/*
 * Flows. A socket is named by its cookie (bpf_get_socket_cookie): the socket
 * table says which process created it (cgroup/sock_create; accepted sockets
 * inherit the listener's owner), so its traffic stays with that process after
 * fork, exec, fd passing or its exit. A flow is (socket, protocol, local and
 * remote address/port); user space merges flows of one process with the same
 * addresses (a listener's handshake packets and its accepted socket's data).
 *
 * Addresses are 16 bytes; IPv4 is stored IPv4-mapped (::ffff:a.b.c.d), so a
 * v4 address is w[0] = w[1] = 0, w[2] = htonl(0xffff), w[3] = the address.
 * Ports are in host order.
 *
 * bytes: L4 payload bytes (TCP payload after the TCP header with its options,
 * UDP payload after the 8-byte header); packets: packets the cgroup skb hooks
 * saw (a GSO/TSO super-packet on egress is one). Handshake, pure ACKs, FIN
 * and RST count as packets with 0 bytes.
 */
#define VG_FLOWS_DEFAULT 65536
#define VG_DNSQ_DEFAULT 16384   /* (process, name, qtype) entries */
#define VG_DNSA_DEFAULT 65536   /* (address, name) answers */

struct vg_ip {
	__u32 w[4]; /* network byte order */
};

/* What a flow's first packet showed (struct vg_flow.flags). */
enum vg_flow_flags {
	/* a datagram (or a raw socket's packet) the process sent first on this flow with an IP
	 * TTL (hop limit) of at most VG_TTL_PROBE_MAX:
	 * a route probe (traceroute, tracepath, mtr), not a port scan's — its answer is an
	 * ICMP error from a router on the way, which no socket receives as data */
	VG_FF_TTL_LOW = 1,
};
#define VG_TTL_PROBE_MAX 30

enum vg_flow_init {
	VG_FI_UNKNOWN = 0, /* socket created before vigil attached, or owner unknown */
	VG_FI_CONNECT = 1, /* connect() (TCP, or connected UDP) */
	VG_FI_ACCEPT = 2,  /* accepted TCP connection (the listener's owner) */
	VG_FI_SEND = 3,    /* unconnected UDP: the first packet went out (sendto) */
	VG_FI_RECV = 4,    /* unconnected UDP: the first packet came in (a server) */
	VG_FI_RAW = 5,     /* a raw socket's (SOCK_RAW): packets the process built itself, such
			    * as a SYN scan's probes; a row per destination */
};

enum vg_flow_state {
	VG_FS_OPEN = 0,
	VG_FS_CLOSED = 1,  /* TCP reached CLOSE after being established, or the socket was released */
	VG_FS_REFUSED = 2, /* TCP SYN_SENT -> CLOSE: RST, timeout or unreachable */
};

/*
 * A flow row's key. A TCP connection's row is keyed by its socket cookie alone
 * (family 0, no addresses: it is made when the connection starts, before its local port
 * is known); its addresses are in the row (vg_flow.wire). Any other row (UDP, a TCP
 * listener's, remote :: port 0) by cookie and addresses: its key is its wire.
 */
struct vg_flow_key {
	__u64 cookie;       /* socket cookie */
	struct vg_ip laddr; /* local, remote: as seen by this host */
	struct vg_ip raddr;
	__u16 lport, rport; /* host order */
	__u8 proto;         /* IPPROTO_TCP (6), IPPROTO_UDP (17) */
	__u8 family;        /* 4 or 6: the IP version on the wire; 0: a TCP connection's key */
	__u16 _pad;
};

/*
 * A TCP connection's row is made when it starts (connect(), or accepted: its owner, the
 * initiator, the first time) and brought up to date from its socket — the kernel's own
 * counters (tcp_sock), its addresses and state — at CLOSE and whenever the flow table is
 * read (the vg_flow_flush iterator): a packet of a connection costs a few loads from its
 * socket (docs/network.md).
 */
struct vg_flow {
	struct vg_proc_key proc; /* owner of the socket */
	__u64 first_ns, last_ns; /* CLOCK_BOOTTIME; last at tick resolution */
	__u64 tx_bytes, rx_bytes; /* L4 payload */
	__u64 tx_pkts, rx_pkts;
	__u32 init;  /* enum vg_flow_init */
	__u32 state; /* enum vg_flow_state */
	__u16 dns_left[2]; /* TCP/53, out and in: bytes of a DNS message still to come in later
			    * segments (its start, in an earlier one, was parsed) */
	__u32 flags; /* enum vg_flow_flags */
	struct vg_flow_key wire; /* cookie, addresses, ports, protocol, IP version on the wire
				  * (a TCP connection's: lport 0 until the row is first brought
				  * up to date) */
};

/*
 * TCP connections' rows: slots of vg_conns, an array (a power of two long). A connection
 * takes a slot of (cookie + i) & (length - 1), i < VG_CONN_PROBES, not held by an open one
 * (a free one, else the oldest closed row) when it starts, and frees it at CLOSE with its
 * final row in it. Socket cookies are handed out in sequence (per CPU, in batches), so a storm's connections take neighbouring slots: no
 * hash, no lock, no allocation, no least-recently-used list — on this project's VM an
 * insert into the LRU flow hash cost ~1.4 µs per connection end, most of a connect storm's
 * overhead. A freed slot keeps its row until a later connection takes it: the table holds
 * the last connections, a ring in cookie order (VG_NS_CONN_REUSED counts the rows
 * overwritten). When every slot a connection may take is open it goes to the flow hash
 * (vg_flows, keyed by cookie as before: VG_NS_CONN_FULL). A run of connections open at once
 * takes a stretch of slots in cookie order, so with more open than slots, two runs (say a
 * client's ends, and its server's ends given cookies later) overlap on the ring and only
 * their union is used: 1,200 ends open in 1,024 slots took 600-1,024 of them, the rest of
 * the ends going to the flow hash, counted (tests/integration/test_flows.py).
 */
#define VG_CONNS_DEFAULT 65536
#define VG_CONN_PROBES 4

enum vg_conn_claim {
	VG_CONN_FREE = 0, /* never used */
	VG_CONN_OPEN = 1, /* taken by a connection not yet closed */
	VG_CONN_DONE = 2, /* its connection closed: the row stays until the slot is taken again */
};

struct vg_conn {
	__u64 claim; /* VG_CONN_CLAIM(cookie, enum vg_conn_claim): taken and given back with
		      * compare-and-exchange, so a slot changes hands once (cookies are unique) */
	struct vg_flow f;
};
#define VG_CONN_CLAIM(cookie, st) ((__u64)(cookie) << 2 | (st))
#define VG_CONN_STATE(claim) ((claim)&3)
#define VG_CONN_COOKIE(claim) ((claim) >> 2)

/* A socket's owner: a UDP socket's or a TCP listener's, in its storage (vg_socks:
 * BPF_MAP_TYPE_SK_STORAGE). A TCP connection's owner is in its row. */
struct vg_sock {
	struct vg_proc_key proc; /* UDP: its creator; TCP listener: listen()'s caller */
	__u32 init;   /* enum vg_flow_init (TCP listener: accept), 0 until known */
	__u16 family; /* AF_INET / AF_INET6 */
	__u16 proto;  /* IPPROTO_TCP / IPPROTO_UDP / other */
};

/*
 * DNS. Names are normalised: lowercase ASCII, labels joined with '.', no
 * trailing dot, the root is "" (len 0); at most VG_DNS_NAME_LEN characters.
 *
 * Domain hash (shared with the network policy's domain and suffix tables):
 * FNV-1a 64 (VG_NAME_HASH_INIT / VG_NAME_HASH_STEP) over the normalised name's
 * bytes taken LAST TO FIRST. Walking a name backwards, the running hash at
 * each '.' is the hash of the suffix to its right, so one pass yields the hash
 * of every suffix ("com", "example.com", "a.example.com") — see
 * vg_dns_suffixes() in bpf/lib/dns.bpf.h and vg_dns_hash() in src/net/dnsname.h.
 */
#define VG_DNS_NAME_LEN 253
#define VG_DNS_NAME_BUF 256 /* a name buffer: VG_DNS_NAME_LEN + NUL, rounded */
#define VG_DNS_SUFFIX_MAX 8 /* suffixes vg_dns_suffixes() reports (the shortest ones) */

/* (process, name, qtype) -> what it asked and what it got. */
struct vg_dnsq_key {
	struct vg_proc_key proc;
	__u64 name_hash; /* domain hash of the question name */
	__u16 qtype;
	__u16 _pad[3];
};

struct vg_dnsq {
	__u64 name;      /* string id of the question name (interned) */
	__u64 first_ns, last_ns;
	__u32 queries;   /* queries sent */
	__u32 responses; /* responses received */
	__u16 rcode;     /* of the last response; 0xffff: none yet */
	__u16 answers;   /* A/AAAA records in the last response */
	__u32 _pad;
};

/* (address, question name) -> where the address came from. */
struct vg_dnsa_key {
	struct vg_ip addr;
	__u64 name_hash; /* domain hash of the question name */
};

struct vg_dnsa {
	__u64 name;      /* string id: the question name */
	__u64 chain;     /* string id: CNAME chain "q,cname1,cname2" (0: no CNAME) */
	__u64 first_ns, last_ns;
	__u64 expires_ns; /* last_ns + TTL */
	struct vg_proc_key proc; /* the process that last received it */
	__u32 ttl;
	__u32 count;     /* responses that carried it */
};

/*
 * Shapes judged in user space over the tables (src/netpolicy): a port scan (many
 * destinations, mostly refused) over the flows, many unique subdomains of one domain over
 * the DNS questions. Walking a table is costly (64k flows: 11 MB copied), so the daemon
 * walks one only when the kernel found it due: per process (vg_net_shape; a port scan's
 * events for its ancestors too, to VG_SCAN_ANCESTORS generations), the kernel counts the
 * events that can make the shape — refused TCP connections, a raw socket's
 * probes and the datagrams a process sends to new destinations (not DNS, not a group
 * address, not a route probe: VG_FF_TTL_LOW), which may go unanswered; distinct names
 * asked, each once per window — over two fixed windows, the current one and the one
 * before (every sliding window of that length lies within the two), and when their sum
 * reaches the least that could make the shape, it stamps the shape's slot in vg_net_due
 * with the time. The count is a necessary condition: the walk decides.
 */
enum vg_shape {
	VG_SHAPE_SCAN = 0, /* refused TCP connections, raw probes, new UDP destinations */
	VG_SHAPE_MANY = 1, /* distinct (name, qtype) asked */
	VG_SHAPE_MAX
};
#define VG_SCAN_WINDOW_NS 30000000000ULL
#define VG_SCAN_MIN_DESTS 20
#define VG_SCAN_REFUSED_PCT 70
/* the fewest refusals (and probes, datagrams that may go unanswered) that can make a scan: 14 */
#define VG_SCAN_DUE ((VG_SCAN_MIN_DESTS * VG_SCAN_REFUSED_PCT + 99) / 100)
/* a scan's events count for the process and this many of its ancestors: the loop's shell of
 * `for p in ...; do timeout 1 sh -c "bash -c '</dev/tcp/H/$p'; ..."; done` is the connecting
 * bash's third (sh, timeout, the loop), of `seq ... | xargs -I{} sh -c 'timeout 1 nc -z H {}'`
 * xargs is nc's third */
#define VG_SCAN_ANCESTORS 3
#define VG_MANY_WINDOW_NS 60000000000ULL
#define VG_MANY_MIN 40
#define VG_SHAPES_DEFAULT 4096 /* processes counted at once (LRU: the least recent go) */

struct vg_shape_win {
	__u64 start;     /* CLOCK_BOOTTIME: the current window's start */
	__u32 prev, cur; /* events in the window before (0 if it was not the last one), in this */
};

/* The port scan shape counts a destination (address, port, protocol) once per window: the
 * last VG_SCAN_RECENT it counted, hashed (0: none), are skipped — a client retrying one closed
 * port, a sender making a socket per datagram to one collector. Emptied when a window
 * starts, so every destination counts in each window it is seen in (still a necessary
 * condition for the walk's finding). */
#define VG_SCAN_RECENT 4

struct vg_net_shape { /* vg_net_shape: struct vg_proc_key -> this */
	struct vg_shape_win w[VG_SHAPE_MAX];
	__u32 recent[VG_SCAN_RECENT]; /* VG_SHAPE_SCAN: the destinations counted last */
	__u32 next;                   /* where the next one goes in recent (mod VG_SCAN_RECENT) */
	__u32 _pad;
};
/* vg_net_due: an array of VG_SHAPE_MAX __u64, the time each shape was last found due
 * (0: never) */

/* Network counters, one slot each in the per-CPU vg_net_stats map (and vg_net_ustats
 * for the daemon's own). Never silent: every skip and every full table is here. */
enum vg_net_stat {
	VG_NS_SOCK_NEW,         /* owners recorded: UDP sockets, listeners, TCP connections */
	VG_NS_SOCK_INSERT_FAIL, /* an owner record (socket storage) could not be made: no memory */
	VG_NS_SOCK_NO_OWNER,    /* socket created by a process with no record (owner by tgid only) */
	VG_NS_SOCK_UNKNOWN,     /* flows made with no owner record (socket older than vigil) */
	VG_NS_FLOW_NEW,         /* flows created */
	VG_NS_FLOW_INSERT_FAIL, /* a new flow could not be inserted (LRU: only under memory pressure) */
	VG_NS_FLOW_EVICT,       /* flows that left: with their process, after retention, or pushed
				 * out by the LRU when the table was full (user space) */
	VG_NS_PKT_SHORT,        /* packet too short for its IP/L4 header: not counted */
	VG_NS_PKT_OTHER,        /* not TCP/UDP (ICMP, ...): not accounted */
	VG_NS_DNS_QUERY,        /* DNS queries seen */
	VG_NS_DNS_RESPONSE,     /* DNS responses seen */
	VG_NS_DNS_MALFORMED,    /* bad header, label type or counts: skipped */
	VG_NS_DNS_TRUNCATED,    /* message ends inside a name or record: skipped (from there) */
	VG_NS_DNS_PTR_LOOP,     /* compression pointer loop / forward pointer / too many hops */
	VG_NS_DNS_NAME_LONG,    /* name longer than VG_DNS_NAME_LEN: skipped */
	VG_NS_DNS_BIG,          /* message larger than the parse window: records past it not read */
	VG_NS_DNS_Q_INSERT_FAIL,/* DNS question table full */
	VG_NS_DNS_A_INSERT_FAIL,/* DNS answer table full */
	VG_NS_DNS_TCP,          /* DNS over TCP: a second message in a segment, a segment too short for
				 * a header, a connection with no row: not parsed */
	VG_NS_DNS_STR_FAIL,     /* name could not be interned (string table full) */
	VG_NS_DNS_EVICT,        /* DNS entries removed with their process / after TTL (user space) */
	VG_NS_SHAPE_DUE,        /* events that found a shape due (vg_net_due): table walks asked */
	VG_NS_SHAPE_NO_ROW,     /* a process's shape counts could not be kept (no memory): the
				 * event asks for the walk */
	VG_NS_SHAPE_REPEAT,     /* port scan shape events for a destination just counted (a retry,
				 * a socket per datagram): skipped (vg_net_shape.recent) */
	VG_NS_CONN_REUSED,      /* a closed TCP connection's row overwritten by a new connection
				 * taking its slot (vg_conns): it left the table */
	VG_NS_CONN_FULL,        /* a TCP connection found every slot it may take open: its row
				 * went to the flow hash (vg_flows) */
	VG_NS_MAX
};

/* ======================= enforcement (runtime policies) ======================= */

/*
 * Policies (src/policy, docs/policies.md) compile into the tables below, two
 * generations like the rules. Every policy rule is one bit of a __u64, all
 * policies together. A rule acts on an operation when its trigger holds (a
 * syscall, maybe one argument value; an exec of a path) AND its policy's target
 * holds for the acting process: for each target predicate the rule needs, one of
 * its values matches (processName, exe, ancestor exe, uid, cgroup).
 */
#define VG_POL_RULES_MAX 64
#define VG_POL_ANCESTORS 16 /* ancestor exe: how far up the kernel looks */

enum vg_pol_action { VG_PA_ALERT, VG_PA_BLOCK, VG_PA_KILL, VG_PA_FREEZE, VG_PA_QUARANTINE };
enum vg_enforcer { VG_EB_NONE, VG_EB_LSM, VG_EB_SIGNAL, VG_EB_CGROUP, VG_EB_FREEZER };

enum vg_pol_what {
	/* target predicates */
	VG_PW_COMM,     /* value: vg_name_hash of the comm (processName), up to 15 bytes */
	VG_PW_EXE,      /* value: string id of the executable's path (exact) */
	VG_PW_ANCESTOR, /* value: string id of an ancestor's executable */
	VG_PW_UID,      /* value: the effective uid */
	VG_PW_CGROUP,   /* (LPM only) a prefix of the process's cgroup v2 path */
	VG_PW_TARGET_MAX,
	/* triggers */
	VG_PW_SYSCALL = VG_PW_TARGET_MAX, /* value: syscall number */
	VG_PW_SYSARG,   /* value: an argument's 64-bit value; aux: VG_ARG_AUX(nr, index) */
	VG_PW_EXEC,     /* value: string id of the new executable (exact) */
	VG_PW_FILE,     /* value: string id of an opened file's resolved path (exact) */
	VG_PW_MAX
};
/* LPM kinds in vg_pol_prefix (struct vg_lpm_key.kind): exe and cgroup targets, exec prefixes. */
#define VG_PL_EXE VG_PW_EXE
#define VG_PL_EXEC VG_PW_EXEC
#define VG_PL_CGROUP VG_PW_CGROUP
#define VG_PL_FILE VG_PW_FILE

struct vg_pol_key {
	__u8 gen;
	__u8 what; /* enum vg_pol_what */
	__u16 _pad;
	__u32 aux;
	__u64 value;
}; /* -> __u64: the rules this value satisfies */

struct vg_pol_set {
	__u64 all;                       /* rules of this generation */
	__u64 need[VG_PW_TARGET_MAX];    /* rules whose target needs predicate i */
	__u64 need_exe_prefix;           /* ... whose exe target has a prefix (LPM) */
	__u64 need_arg;                  /* syscall rules with an argument condition */
	__u64 exec_prefix;               /* exec rules with a path prefix (LPM) */
	__u64 file_read, file_write;     /* file rules, by the access they watch */
	__u64 file_unlink, file_rename, file_chmod; /* ... (BPF-LSM path hooks only) */
	__u64 file_prefix;               /* file rules with a path prefix (LPM) */
	__u64 kill, stop, block;         /* by action; the rest only report */
	__u64 lsm;                       /* block rules an LSM program denies (the signal
					  * path leaves them alone) */
	__u64 audit;                     /* of the acting ones: mode audit or --enforce=off:
					  * report what would have been done, do nothing */
	__u32 arg_idx;                   /* bit i: some rule checks argument i */
	__u32 nrules;
};
/* vg_pol_sets: slots 0/1 the generations; slot 2's nrules names the active one. */
#define VG_POL_GEN_SLOT 2

/* Ring buffer: an enforcement (VG_MSG_ENFORCE). The alert part names the
 * process and the operation as a rule alert would (kind syscall or exec, gen is
 * the policy generation, rules.w[0] the policy rules that held). */
struct vg_enforce_msg {
	struct vg_alert a;
	__u64 enter_ns;  /* bpf_ktime_get_boot_ns() when the program started */
	__u32 rule;      /* the policy rule (bit) that decided the action */
	__u8 action;     /* enum vg_pol_action taken (or, audit, that would have been) */
	__u8 by;         /* enum vg_enforcer */
	__u8 audit;      /* 1: nothing was done (audit mode / --enforce=off) */
	__u8 hook;       /* enum vg_enf_hook: where it was decided */
};
enum vg_enf_hook {
	VG_EH_SYS_ENTER, VG_EH_EXEC, VG_EH_LSM_EXEC, VG_EH_LSM_PTRACE, VG_EH_LSM_FILE,
	VG_EH_LSM_BPF, VG_EH_LSM_OTHER, VG_EH_OPEN_EXIT, VG_EH_LSM_MOUNT, VG_EH_LSM_KILL,
	VG_EH_LSM_SETUID, VG_EH_LSM_CAPSET, VG_EH_LSM_MODULE, VG_EH_LSM_PATH
};

/* ======================= network policy (bpf/netpolicy.bpf.c, src/netpolicy/) ======================= */

/*
 * A policy is compiled into inner maps of two generations (slots 0/1 of the
 * array-of-maps vg_np_lpm, vg_np_dom, vg_np_ent); a reload fills the idle slot
 * and flips vg_np_state.gen, so the kernel never sees half a policy.
 * Addresses are IPv6; IPv4 is the v4-mapped ::ffff:a.b.c.d (a /24 is a /120).
 */
#define VG_NP_CAND 8     /* policy entries per prefix or name the kernel tries, best first */
#define VG_NP_LABELS 16  /* DNS labels hashed per name, counted from the right */
#define VG_NP_NAME 256   /* DNS name bytes kept in a message (wire format) */
#define VG_NP_LEARNED_DEFAULT 65536 /* IPs learned from DNS answers */

enum vg_np_verdict { VG_NP_NONE = 0, VG_NP_ALLOW = 1, VG_NP_DENY = 2 };
enum vg_np_mode { VG_NP_AUDIT = 0, VG_NP_ENFORCE = 1 };

struct vg_np_lpm_key {
	__u32 prefixlen; /* bits of addr */
	__u8 addr[16];
};

/* Entry ids, best (highest rank) first. For names, VG_NP_SUB marks an id that
 * applies to subdomains of the name only; without it, to the name itself only. */
#define VG_NP_SUB (1U << 31)
struct vg_np_cands {
	__u32 n;
	__u32 id[VG_NP_CAND];
};

/*
 * Precedence: rank = specificity << 4 | tie-breakers, higher wins. Specificity
 * of an address entry is its prefix length as IPv6 (a v4 /24 is 120, no
 * destination 0); of a name entry 200 for an exact name, 100 + labels for a
 * suffix. Tie-breakers, in order: scoped (exe/uid/cgroup), port-limited,
 * explicit (the allow/deny lists, over blocklists), deny. An address learned
 * from a DNS answer ranks as a host route (128) with its name entry's tie-breakers.
 */
#define VG_NP_TIE_SCOPED 8
#define VG_NP_TIE_PORT 4
#define VG_NP_TIE_EXPLICIT 2
#define VG_NP_TIE_DENY 1
#define VG_NP_TIE_MASK 15
#define VG_NP_RANK(spec, ties) (((__u32)(spec) << 4) | (ties))
#define VG_NP_SPEC_HOST 128

/* One policy entry (a rule of the allow/deny lists, or one blocklist file). */
struct vg_np_entry {
	__u32 rank;       /* precedence: higher wins (src/netpolicy/compile.c, docs) */
	__u8 verdict;     /* enum vg_np_verdict */
	__u8 proto;       /* 0 any, 6 tcp, 17 udp */
	__u16 port_lo;    /* host order; 0/0: any port */
	__u16 port_hi;
	__u16 cg_level;   /* ancestor level of cgroup_id */
	__u32 uid;        /* (__u32)-1: any */
	__u64 cgroup_id;  /* 0: any; else this cgroup and its descendants */
	__u64 exe;        /* string id of the exe path, 0: any */
	__u32 pol;        /* a RuntimePolicy network rule's entry: its kernel bit + 1 (its
			   * target, vg_pol_target); 0: a network-policy file entry */
	__u32 flags;      /* VG_NPE_* */
};

/* Entry flags (RuntimePolicy network rules, docs/policies.md). */
#define VG_NPE_POL 1      /* from a RuntimePolicy: applies where its target holds */
#define VG_NPE_AUDIT 2    /* action alert, mode audit or --enforce=off: reported only */
#define VG_NPE_KILL 4     /* refused, and SIGKILL at the syscall's exit */
#define VG_NPE_STOP 8     /* refused, and SIGSTOP at the syscall's exit */
/* An ingress entry (the policy file's ingress: lists): decides inbound traffic — a TCP
 * connection reaching a listener, a UDP datagram that is not a reply — by the peer's
 * address and the local port, for the receiving socket's owner. Egress decisions pass it
 * over, and ingress decisions every entry without it. */
#define VG_NPE_INGRESS 16

/* Per generation: what to do when nothing matches. */
struct vg_np_conf {
	__u8 loaded;      /* a policy is installed in this generation */
	__u8 mode;        /* enum vg_np_mode */
	__u8 def_egress;  /* enum vg_np_verdict */
	__u8 def_ingress; /* enum vg_np_verdict: inbound traffic no ingress entry matches */
	__u32 entries;
	__u32 pol_gen;    /* the RuntimePolicy generation (vg_pol_sets) entries' bits refer to */
	__u32 _pad2;
	__u64 pol_mask;   /* the bits of RuntimePolicy network rules (0: none) */
};

struct vg_np_state {
	__u32 gen;        /* active generation (0/1) */
	__u32 ingress;    /* 1: it decides inbound traffic (ingress entries or default deny);
			   * 0: inbound packets do not call the decision at all */
};

/* An address learned from a DNS answer for a matched name. One slot per
 * generation: a reload prepares the new generation's slot (names resolved
 * earlier) while the kernel still reads the old one. */
struct vg_np_learned {
	__u64 expire_ns;   /* CLOCK_BOOTTIME: answer time + TTL */
	__u64 name_hash;   /* vg domain hash of the matched name (VG_DOM_*) */
	__u32 entry[2];    /* the entry the name matched, per generation */
	__u8 verdict[2];   /* per generation; VG_NP_NONE: nothing learned for it */
	__u8 _pad[6];
};

/*
 * Domain hash, identical in BPF and user space. A label (1..63 bytes) is
 * hashed as 64 bytes, zero-padded, lowercased 8 at a time, 8 bytes per step
 * (no per-byte loop: cheap to verify). A name is folded from its rightmost
 * label: H("") = VG_DOM_INIT, H(label.rest) = vg_dom_fold(H(rest), label hash),
 * so every suffix of a name is one step from the next shorter one.
 */
#define VG_DOM_INIT 0x6e657470ULL
#define VG_DOM_ONES 0x0101010101010101ULL

static inline __attribute__((always_inline)) __u64 vg_dom_lower8(__u64 w)
{
	__u64 h7 = w & (0x7f * VG_DOM_ONES);
	__u64 ge_a = h7 + (0x80 - 'A') * VG_DOM_ONES;     /* bit 7 set: byte >= 'A' */
	__u64 gt_z = h7 + (0x80 - 'Z' - 1) * VG_DOM_ONES; /* bit 7 set: byte > 'Z' */
	__u64 up = ge_a & ~gt_z & ~w & (0x80 * VG_DOM_ONES);

	return w | (up >> 2);
}

/* buf: 64 bytes, the label in the first len, zeros after. */
static inline __attribute__((always_inline)) __u64 vg_dom_label_hash(const __u8 *buf, __u32 len)
{
	__u64 h = 0xcbf29ce484222325ULL ^ len;

	/* not unrolled: eight words live at once spill to the BPF stack */
#ifdef __clang__
#pragma clang loop unroll(disable)
#endif
	for (int i = 0; i < 8; i++) {
		__u64 w;

		__builtin_memcpy(&w, buf + i * 8, 8);
		h ^= vg_dom_lower8(w);
		h *= 0x9e3779b97f4a7c15ULL;
		h ^= h >> 32;
	}
	return h;
}

static inline __u64 vg_dom_fold(__u64 h, __u64 label_hash)
{
	h ^= label_hash;
	h *= 0x9e3779b97f4a7c15ULL;
	return h ^ (h >> 29);
}

enum vg_np_hook {
	VG_NPH_CONNECT4 = 1, VG_NPH_CONNECT6, VG_NPH_SENDMSG4, VG_NPH_SENDMSG6,
	VG_NPH_DNS_QUERY,    /* a query leaving (cgroup_skb/egress) */
	VG_NPH_DNS_ANSWER,   /* an answer arriving (cgroup_skb/ingress): IPs learned */
	VG_NPH_EGRESS,       /* a packet of a quarantined process (cgroup_skb/egress) */
	VG_NPH_LISTEN,       /* listen() (syscall tracepoint) */
	VG_NPH_INGRESS,      /* an inbound connection or datagram (cgroup_skb/ingress): addr is
			      * the peer, port the local one */
	VG_NPH_RAW,          /* a TCP/UDP packet a raw socket built (cgroup_skb/egress): no
			      * connect/sendmsg hook runs for raw sockets */
	VG_NPH_TCP_DATA,     /* a TCP connection's first data out (cgroup_skb/egress) */
};

enum vg_np_reason {
	VG_NPR_ENTRY = 1,     /* an allow/deny entry or blocklist matched */
	VG_NPR_DEFAULT,       /* nothing matched: the policy's default */
	VG_NPR_LEARNED,       /* the address was learned from a DNS answer for a matched name */
	VG_NPR_QUARANTINE,    /* the process (tree) is network-quarantined */
	VG_NPR_WATCH,         /* not a decision: a built-in network detection's candidate
			       * (entry = enum vg_np_watch); user space judges it */
};

/* Built-in network detections: what the kernel watches for (docs/network-policy.md). */
enum vg_np_watch {
	VG_NPW_METADATA = 1, /* connect/send to the cloud metadata endpoint */
	VG_NPW_STRATUM,      /* TCP connect to a port mining pools (stratum) listen on */
	VG_NPW_DNS_SHAPE,    /* DNS question with a long label or a long name (tunnelling shape) */
	VG_NPW_LISTEN,       /* a TCP socket started listening (listen() returned 0) */
	VG_NPW_STRATUM_DATA, /* a TCP connection's first data is a JSON-RPC call whose method is a
			      * mining pool's (stratum): name holds the method, as text */
};
#define VG_NPW_DATA_MIN 88 /* packets at most this long (IP + TCP headers) carry no payload
			    * worth a look: an ACK with options is 52 (IPv4) or 72 (IPv6) */
#define VG_NPW_DATA_WIN 256 /* payload bytes a first data segment is looked at */
#define VG_NPW_METHOD_MAX 32 /* bytes of a stratum method sent (longer: cut, and said so) */
#define VG_NPW_LABEL_MIN 24 /* longest label at least this long: a DNS_SHAPE candidate */
#define VG_NPW_NAME_MIN 120 /* or the name at least this long */

/* One denial (or, in audit mode, would-be denial) sent to user space. */
struct vg_np_msg {
	struct vg_msg_hdr hdr;    /* type VG_MSG_NET */
	struct vg_proc_key proc;  /* zero if unknown (an answer whose socket has no owner) */
	__u32 uid;
	__u8 hook;                /* enum vg_np_hook */
	__u8 reason;              /* enum vg_np_reason */
	__u8 blocked;             /* 1: the operation failed / packet dropped; 0: audit */
	__u8 gen;
	__u8 family;              /* 4 or 6 */
	__u8 proto;               /* 6, 17 */
	__u16 port;               /* destination, host order (VG_NPH_INGRESS: the local port) */
	__u8 addr[16];            /* destination, v4-mapped for IPv4 (VG_NPH_INGRESS: the peer) */
	__u32 entry;              /* entry id in generation gen, 0 for default/quarantine */
	__u32 suppressed;         /* identical hits not sent since the last message */
	__u64 name_hash;          /* matched name (DNS, learned), 0 if none */
	__u16 name_len;           /* bytes of name (wire format, uncompressed), 0 if none */
	__u16 _pad[3];
	__u8 name[VG_NP_NAME];
};

/* Counters of the per-CPU array vg_np_stats. */
enum vg_np_stat {
	VG_NPS_CHECKED,        /* connect/sendmsg decisions taken */
	VG_NPS_ALLOWED,        /* ... allowed by an entry or the default */
	VG_NPS_DENIED,         /* ... refused (EPERM) */
	VG_NPS_AUDITED,        /* ... that would have been refused (audit mode) */
	VG_NPS_DNS_QUERIES,    /* DNS queries parsed at egress */
	VG_NPS_DNS_DROPPED,    /* ... dropped (denied name) */
	VG_NPS_DNS_AUDITED,    /* ... denied name, audit mode: let through */
	VG_NPS_DNS_ANSWERS,    /* DNS answers parsed at ingress */
	VG_NPS_DNS_MALFORMED,  /* DNS packets that could not be parsed (skipped) */
	VG_NPS_DNS_DEEP,       /* names with more labels than VG_NP_LABELS (exact match impossible) */
	VG_NPS_LEARNED,        /* addresses learned from answers */
	VG_NPS_LEARNED_FAIL,   /* ... that could not be stored */
	VG_NPS_LEARNED_HITS,   /* decisions taken on a learned address */
	VG_NPS_QUARANTINE,     /* operations refused because the process is quarantined */
	VG_NPS_MSG,            /* messages sent */
	VG_NPS_MSG_SUPPRESSED, /* identical hits within a second: counted, not sent */
	VG_NPS_MSG_DROP,       /* ring buffer full */
	VG_NPS_NO_PROC,        /* decisions for a process with no record (scopes can't match) */
	VG_NPS_WATCH,          /* built-in detection candidates sent (before the rate limit) */
	VG_NPS_POL_SIGNALS,    /* RuntimePolicy kill/freeze: signals sent at the syscall's exit */
	VG_NPS_POL_STALE,      /* ... marks found stale (no syscall exit followed: io_uring) */
	VG_NPS_IN_CHECKED,     /* inbound decisions (connections to a listener, datagrams) */
	VG_NPS_IN_DENIED,      /* ... dropped */
	VG_NPS_IN_AUDITED,     /* ... that would have been dropped (audit mode) */
	VG_NPS_MAX
};

#endif /* VIGIL_ABI_H */
