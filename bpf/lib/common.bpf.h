/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What every vigil BPF program shares: the maps (defined once in maps.bpf.c,
 * declared extern here), the load-time knobs, counters and small helpers.
 */
#ifndef VG_COMMON_BPF_H
#define VG_COMMON_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "vigil/abi.h"

#ifdef VG_DEFINE_MAPS
#define VG_MAP
#define VG_KNOB(type, name, val) const volatile type name = val
#else
#define VG_MAP extern
#define VG_KNOB(type, name, val) extern const volatile type name
#endif

/* ---- load-time knobs (set through skel->rodata before load) ---- */
VG_KNOB(__u32, vg_argv_max, VG_ARGV_DEFAULT); /* argv bytes kept, <= VG_STR_MAX */
VG_KNOB(__u32, vg_procs_high, VG_PROCS_DEFAULT - VG_PROCS_DEFAULT / 16); /* evict above */
VG_KNOB(bool, vg_trace, false);               /* stream exec/exit to user space */
VG_KNOB(__u32, vg_self_tgid, 0);              /* the daemon, never acted upon */
/* cgroup_skb programs may ask who is current (bpf_get_current_pid_tgid: not on 6.1) */
VG_KNOB(bool, vg_skb_current, false);
/*
 * bpf_rdonly_cast (Linux >= 6.2, the probe's rdonly_cast): a pointer read
 * from memory becomes a typed, read-only one, whose fields load without a
 * helper call each. Where the kernel lacks it the knob is false, the verifier
 * drops the branch that calls it, and the weak extern stays unresolved.
 */
VG_KNOB(bool, vg_have_rdonly_cast, false);
/* A connected TCP socket counts its packets in its own storage (vg_sock), added to its
 * flow row at CLOSE and by the vg_flow_flush iterator (iter/task_file + bpf_sock_from_file:
 * Linux >= 5.11) */
VG_KNOB(bool, vg_sock_acct, false);
extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym __weak;

/* ---- shared state, pinned under /sys/fs/bpf/vigil/ ---- */
VG_MAP struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, VG_PROCS_DEFAULT);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct vg_proc_key);
	__type(value, struct vg_proc);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} vg_procs SEC(".maps");

/* Exited processes in exit order: the head is the first to age out. */
VG_MAP struct {
	__uint(type, BPF_MAP_TYPE_QUEUE);
	__uint(max_entries, VG_PROCS_DEFAULT);
	__type(value, struct vg_proc_key);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} vg_exitq SEC(".maps");

/* Live index tgid -> key: lets exit find records whose start time was approximate. */
VG_MAP struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, VG_PROCS_DEFAULT);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32);
	__type(value, struct vg_proc_key);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} vg_live SEC(".maps");

#define VG_STR_MAP(n, cls)                                                                         \
	VG_MAP struct {                                                                            \
		__uint(type, BPF_MAP_TYPE_HASH);                                                   \
		__uint(max_entries, VG_STRS_DEFAULT);                                              \
		__uint(map_flags, BPF_F_NO_PREALLOC);                                              \
		__type(key, __u64);                                                                \
		__type(value, struct vg_str_##n);                                                  \
		__uint(pinning, LIBBPF_PIN_BY_NAME);                                               \
	} vg_strs_##cls SEC(".maps")
VG_STR_MAP(128, s);
VG_STR_MAP(512, m);
VG_STR_MAP(4096, l);

/* cgroup id -> string id of its path, filled on first sight. */
VG_MAP struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u64);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} vg_cgpaths SEC(".maps");

VG_MAP struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, VG_ST_MAX);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} vg_stats SEC(".maps");

/* Counters only user space writes (retention evictions, ...): same slots as vg_stats. */
VG_MAP struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, VG_ST_MAX);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} vg_ustats SEC(".maps");

/*
 * Has any process ever been put in network quarantine? User space counts each
 * one it marks (VG_ST_NET_QUARANTINED); until the first, the per-packet
 * programs skip looking the sender up.
 */
static __always_inline bool vg_quarantine_any(void)
{
	__u32 k = VG_ST_NET_QUARANTINED;
	__u64 *n = bpf_map_lookup_elem(&vg_ustats, &k);

	return n && *n;
}

/* Slot VG_GAUGE_KERNEL is changed by BPF (atomics), VG_GAUGE_USER by the daemon; sum them. */
VG_MAP struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, VG_GAUGE_SLOTS);
	__type(key, __u32);
	__type(value, struct vg_gauges);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} vg_gauge SEC(".maps");

VG_MAP struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vg_meta);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} vg_meta SEC(".maps");

/*
 * (process, file) -> what it did to it. Pinned: file history survives restarts.
 * An LRU hash: the entry is also the hot-path cache (a hit costs a lookup), so
 * a full table must not turn every operation into a slow path. When it is full
 * the least recently used entry makes room; the daemon counts those evictions
 * (created - present - removed with their process: VG_ST_FILE_EVICT).
 */
VG_MAP struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, VG_FILES_DEFAULT);
	__type(key, struct vg_file_key);
	__type(value, struct vg_file);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} vg_files SEC(".maps");

/* The hot path's per-CPU last entry and its pending hits (struct vg_file_hot). Pinned with vg_files. */
VG_MAP struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vg_file_hot);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} vg_file_hot SEC(".maps");

/* ---- rule tables (rebuilt by the daemon at start and on reload; not pinned) ---- */
VG_MAP struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 16384);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct vg_lpm_key);
	__type(value, struct vg_rbits);
} vg_rule_prefix SEC(".maps");

VG_MAP struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct vg_rule_key);
	__type(value, struct vg_rbits);
} vg_rule_names SEC(".maps");

VG_MAP struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2 * VG_RK_MAX);
	__type(key, __u32);
	__type(value, struct vg_ruleset);
} vg_rule_sets SEC(".maps");

VG_MAP struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} vg_rule_gen SEC(".maps");

/* Messages to user space: rule hits (and exec/exit in --trace mode). Not pinned. */
VG_MAP struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} vg_events SEC(".maps");

/* Per-CPU scratch: records and strings too big for the 512-byte BPF stack. */
#define VG_NAME_MAX 256 /* NAME_MAX + NUL */
#define VG_NORM_DEPTH 128 /* components a user path may nest (lexical normalisation) */

/*
 * A rule evaluation being prepared (lib/rules.bpf.h): the message to send if
 * some rule is a candidate, and the values the predicates are looked up with.
 * The path/name bytes the prefix and basename predicates need are sc->str.
 */
struct vg_eval {
	struct vg_alert a;  /* filled by the caller; rules, gen, kind, hdr by the evaluation */
	__u64 path;         /* VG_RW_PATH value: string id of the path (file, exe, syscall arg) */
	__u64 exe;          /* the acting process's exe (VG_RW_EXE_EXCEPT / _ONLY) */
	__u64 base;         /* basename hash if known, else 0: computed from sc->str when needed */
	__u64 parent_base;  /* exec: the parent's exe basename hash */
	__u32 act;          /* file: the action bits to evaluate (new ones only) */
	__u32 conds;        /* exec: bit c set when enum vg_exec_cond c holds */
	__u32 has_str;      /* sc->str holds the path/name (else no prefix/base predicate holds) */
	__u32 rel;          /* syscall: enum vg_krel of the target process to the caller */
};

struct vg_scratch {
	struct vg_proc proc;
	struct vg_str_4096 str;    /* string being built, then interned */
	char tmp[2 * VG_STR_MAX];  /* paths are assembled right to left here */
	char name[VG_NAME_MAX];    /* one path component */
	__u32 pos;                 /* where the next component goes in tmp */
	__u32 mark;                /* a position handed from one loop to the next (see vg_base_hash) */
	struct vg_file_key fkey;   /* the file entry being recorded (file.bpf.c) */
	struct vg_file fval;
	__u32 fkey_missed;         /* fkey is set and vg_files had no entry for it just now */
	__u32 pkt_ttl;             /* the TTL of the packet being counted (netskb.bpf.c) */
	__u64 sb_last;             /* vg_file_key_of(): the super block last met on this CPU */
	__u32 sb_last_dev;         /* ... and its s_dev */
	__u32 _pad_sb;
	__u64 tick_jiffies;        /* vg_now_tick(): the jiffy of tick_ns, on this CPU */
	__u64 tick_ns;
	__u64 tick_mono_off;       /* ... and CLOCK_BOOTTIME - CLOCK_MONOTONIC then (time suspended) */
	struct vg_eval ev;         /* rule evaluation (rules.bpf.c) */
	struct vg_lpm_key lpm;     /* prefix lookup key (rules.bpf.c) */
	/* user paths (path.bpf.c): the normaliser's state, and where each output component starts */
	struct {
		__u32 in, end, out, comp, depth, trunc;
	} norm;
	__u16 comp[VG_NORM_DEPTH];
};

VG_MAP struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vg_scratch);
} vg_scratch_map SEC(".maps");

/*
 * Index masked so the verifier sees the bound. The empty asm stops clang from
 * proving the mask redundant and dropping it (then the verifier, which tracks
 * less than clang knows, rejects the access).
 */
#define vg_idx(x, mask)                                                                            \
	({                                                                                         \
		__u32 __v = (x);                                                                   \
		asm volatile("" : "+r"(__v));                                                      \
		__v & (mask);                                                                      \
	})

static __always_inline struct vg_scratch *vg_scratch(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&vg_scratch_map, &zero);
}

/*
 * CLOCK_BOOTTIME at tick resolution, for the hot path: reading the clock costs
 * ~100 ns in a VM (rdtsc), a jiffy compare costs a few. At most one tick (4 ms
 * at HZ=250) behind. (bpf_ktime_get_coarse_ns is refused to tracing programs,
 * and is CLOCK_MONOTONIC besides.)
 */
static __always_inline __u64 vg_now_tick(struct vg_scratch *sc)
{
	__u64 j = bpf_jiffies64();

	if (sc->tick_jiffies != j) {
		/* through the work area: nothing but sc kept across the calls, so no stack
		 * (the packet programs' call chains are at 6.1's 512 bytes) */
		sc->tick_jiffies = j;
		sc->tick_mono_off = bpf_ktime_get_ns();
		sc->tick_ns = bpf_ktime_get_boot_ns();
		sc->tick_mono_off = sc->tick_ns - sc->tick_mono_off;
	}
	return sc->tick_ns;
}

/* vg_now_tick() where the work area may be missing (then the clock itself). */
static __always_inline __u64 vg_now(void)
{
	struct vg_scratch *sc = vg_scratch();

	return sc ? vg_now_tick(sc) : bpf_ktime_get_boot_ns();
}

/* vg_now() and the offset that turns a CLOCK_MONOTONIC time the kernel keeps (TCP's
 * tcp_mstamp) into CLOCK_BOOTTIME: the machine's time suspended, which changes only at
 * a resume, so the tick's reading serves. */
static __always_inline __u64 vg_now_mono_off(__u64 *mono_off)
{
	struct vg_scratch *sc = vg_scratch();
	__u64 now;

	if (!sc) {
		now = bpf_ktime_get_boot_ns();
		*mono_off = now - bpf_ktime_get_ns();
		return now;
	}
	now = vg_now_tick(sc);
	*mono_off = sc->tick_mono_off;
	return now;
}

static __always_inline void vg_count(enum vg_stat s)
{
	__u32 k = s;
	__u64 *v = bpf_map_lookup_elem(&vg_stats, &k);

	if (v)
		*v += 1; /* per-CPU slot: no atomic needed */
}

static __always_inline struct vg_gauges *vg_gauges(void)
{
	__u32 slot = VG_GAUGE_KERNEL;

	return bpf_map_lookup_elem(&vg_gauge, &slot);
}

/* Entries in the process table: kernel slot plus the daemon's adjustments. */
static __always_inline __s64 vg_procs_count(void)
{
	__u32 slot = VG_GAUGE_USER;
	struct vg_gauges *k = vg_gauges();
	struct vg_gauges *u = bpf_map_lookup_elem(&vg_gauge, &slot);

	return (k ? k->procs : 0) + (u ? u->procs : 0);
}

static __always_inline void vg_gauge_add(__s64 procs, __s64 exited)
{
	struct vg_gauges *g = vg_gauges();

	if (!g)
		return;
	if (procs)
		__sync_fetch_and_add(&g->procs, procs);
	if (exited)
		__sync_fetch_and_add(&g->exited, exited);
}

#endif /* VG_COMMON_BPF_H */
