/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The sensor: load vigil's BPF programs, reuse or create the pinned state,
 * attach, and take the start-up snapshot. Everything kernel-facing that the
 * daemon owns lives behind this header.
 */
#ifndef VG_SENSOR_H
#define VG_SENSOR_H

#include <stdbool.h>
#include <stdint.h>
#include "state/maps.h"

struct bpf_link;

#define VG_STATE_DIR "/sys/fs/bpf/vigil"
#define VG_SOCKET_PATH "/run/vigil/vigil.sock"

struct vg_config {
	uint64_t retention_ns; /* exited processes stay queryable this long */
	uint64_t gc_interval_ns;
	uint32_t max_procs;
	uint32_t max_strs; /* per size class */
	uint32_t argv_max;
	uint32_t max_flows; /* network flow table */
	bool trace;        /* stream exec/exit lines (debug view) */
	bool reset_state;  /* discard pinned state at start */
	bool bpf_stats;    /* hold BPF_ENABLE_STATS: per-program run time (costs every BPF program) */
	bool force_proc_snapshot; /* use the /proc fallback (no sleepable iterator, or tests) */
	bool lsm;          /* load the BPF-LSM programs (the probe saw BPF-LSM work) */
	bool rdonly_cast;  /* typed reads via bpf_rdonly_cast (the probe saw it load) */
	bool sock_acct;    /* TCP sockets count packets in their storage (iter_sock_file) */
	bool conn_slots;   /* TCP connections' rows in vg_conns slots (cmpxchg), else the flow hash */
	bool no_conn_slots; /* --no-conn-slots: the flow hash even where slots would work */
	const char *state_dir;
	const char *socket_path;
};

void vg_config_defaults(struct vg_config *cfg);

enum vg_snapshot_mode { VG_SNAP_ITER, VG_SNAP_PROC };

struct vigil_bpf;

struct vg_sensor {
	struct vigil_bpf *skel;
	struct bpf_link **tp_links; /* file-activity syscall tracepoints */
	size_t ntp_links;
	struct vg_sys_hook {        /* syscall-rule tracepoints (vg_sys), by syscall name */
		char name[32];
		struct bpf_link *link;
	} *sys_hooks;
	size_t nsys_hooks;
	struct bpf_link *net_links[8]; /* network: cgroup programs at the v2 root + TCP state */
	size_t nnet_links;
	char cgroot[256];              /* where they are attached */
	struct vg_config cfg;
	struct vg_maps maps;
	int stats_fd;            /* BPF_ENABLE_STATS holder, -1 if unavailable */
	bool state_reused;       /* pinned state from an earlier daemon */
	bool state_reset;        /* earlier state was incompatible and discarded */
	char reset_reason[160];
	enum vg_snapshot_mode snap_mode;
	uint64_t snap_new;       /* processes the snapshot added */
	uint64_t snap_alive;     /* live processes it saw */
	uint64_t snap_unseen;    /* records found dead after a restart */
	uint64_t snap_missed;    /* processes the full task walk skipped, walked alone */
	uint64_t start_boot_ns;  /* when the hooks were attached */
};

/* Load, pin, attach, snapshot. Prints nothing; returns -errno with *why set. */
int vg_sensor_start(struct vg_sensor *s, const struct vg_config *cfg, char *why, size_t whylen);
void vg_sensor_stop(struct vg_sensor *s);

/*
 * Hook exactly these syscalls (x86_64 names as rules spell them: "ptrace",
 * "umount2") for syscall rules; the others are unhooked. Call after installing
 * a rule set with the names vg_rules_syscalls() gives. Until then a default
 * set is hooked (what the rule language's targets and the default rules
 * name). Syscalls this kernel lacks are skipped (logged). 0 or -errno.
 */
int vg_sensor_hook_syscalls(struct vg_sensor *s, const char *const *names, size_t n, char *why,
			    size_t whylen);

/* The tracepoint name of a syscall ("umount2" -> "umount"). */
const char *vg_sensor_tracepoint_of(const char *name);

/* Ring buffer fd of the events map (for epoll), and program iteration for status. */
int vg_sensor_events_fd(const struct vg_sensor *s);
struct bpf_object *vg_sensor_object(const struct vg_sensor *s);

#endif
