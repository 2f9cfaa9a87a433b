/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What this kernel offers, found by loading tiny programs (never by reading
 * config files), and the enforcement tier vigil picks from it.
 */
#ifndef VG_PROBE_H
#define VG_PROBE_H

#include <stdbool.h>
#include <stdio.h>
#include <json-c/json.h>

enum vg_feat {
	VG_FEAT_BTF,             /* /sys/kernel/btf/vmlinux loads */
	VG_FEAT_TP_BTF,          /* BPF_PROG_TYPE_TRACING, BPF_TRACE_RAW_TP: loads + attaches */
	VG_FEAT_RINGBUF,         /* BPF_MAP_TYPE_RINGBUF creates */
	VG_FEAT_ITER_TASK,       /* iter/task loads + link creates */
	VG_FEAT_ITER_TASK_SLEEP, /* iter.s/task with bpf_copy_from_user_task */
	VG_FEAT_NOPREALLOC,      /* BPF_F_NO_PREALLOC hash usable from a tracing program */
	VG_FEAT_CGROUP_V2,       /* a cgroup2 mount exists (path in detail) */
	VG_FEAT_CGROUP_SOCK_ADDR,/* cgroup/connect4 loads + attaches at the cgroup2 root */
	VG_FEAT_CGROUP_SKB,      /* cgroup_skb/egress loads + attaches */
	VG_FEAT_SEND_SIGNAL,     /* bpf_send_signal helper accepted in a tracing program */
	VG_FEAT_FENTRY,          /* fentry loads + attaches */
	VG_FEAT_KPROBE,          /* kprobe attaches */
	VG_FEAT_LSM_LISTED,      /* "bpf" in /sys/kernel/security/lsm */
	VG_FEAT_LSM,             /* an LSM program loads and attaches */
	VG_FEAT_BPF_STATS,       /* BPF_ENABLE_STATS (per-program run time) */
	VG_FEAT_RDONLY_CAST,     /* bpf_rdonly_cast kfunc in a tracepoint program (Linux >= 6.2) */
	VG_FEAT_ITER_SOCK_FILE,  /* iter/task_file with bpf_sock_from_file (Linux >= 5.11) */
	VG_FEAT_CMPXCHG,         /* BPF compare-and-exchange (Linux >= 5.12): connection slots */
	VG_FEAT_MAX
};

enum vg_tier {
	VG_TIER_LSM,     /* BPF-LSM: deny with -EPERM before the operation */
	VG_TIER_SIGNAL,  /* tracepoints + bpf_send_signal: kill at syscall entry */
	VG_TIER_OBSERVE, /* observe only: no in-kernel enforcement possible */
};

struct vg_feature {
	bool ok;
	char detail[160]; /* why not, or where (e.g. the cgroup2 mount path) */
};

struct vg_probe {
	char kernel[96];        /* uname release */
	char cgroup2_path[256]; /* "" when no cgroup2 mount */
	struct vg_feature f[VG_FEAT_MAX];
	enum vg_tier tier;
	char tier_reason[160];
};

/* Run every probe. Returns 0, or -errno if probing itself was impossible (not root). */
int vg_probe_run(struct vg_probe *p);
bool vg_probe_has(const struct vg_probe *p, enum vg_feat f);
const char *vg_feat_name(enum vg_feat f); /* stable snake_case key, e.g. "tp_btf" */
const char *vg_tier_name(enum vg_tier t); /* "lsm", "signal", "observe" */
void vg_probe_print(const struct vg_probe *p, FILE *out); /* human table */
struct json_object *vg_probe_json(const struct vg_probe *p);

/* Pure parts, exposed for unit tests. */
void vg_probe_pick_tier(struct vg_probe *p);
int vg_cgroup2_from_mountinfo(FILE *f, char *buf, size_t len);

/* The cgroup2 mount point ("/sys/fs/cgroup" or "/sys/fs/cgroup/unified"), or NULL. */
const char *vg_cgroup2_mount(void);

#endif /* VG_PROBE_H */
