/* SPDX-License-Identifier: GPL-2.0 */
/* File descriptors of vigil's kernel state, however they were obtained. */
#ifndef VG_MAPS_H
#define VG_MAPS_H

#include <stdint.h>
#include "vigil/abi.h"

struct vg_maps {
	int procs, exitq, live, cgpaths, stats, ustats, gauge, meta;
	int strs[3]; /* by size class */
	int files;   /* vg_files: (process, file) activity */
	int file_hot; /* vg_file_hot: per CPU, hits not yet added to their vg_files entry */
	int socks, flows, dnsq, dnsa, net_stats, net_ustats; /* network (src/net); socks: not enumerable */
	int conns; /* vg_conns: TCP connections' rows, by socket cookie (abi.h: vg_conn) */
	int flow_flush; /* link of the vg_flow_flush iterator, -1 without (vg_flows_flush) */
};

void vg_maps_init(struct vg_maps *m); /* all -1 */

/* Sum of a counter over CPUs (kernel side) plus the daemon's own slot. */
uint64_t vg_stat_get(const struct vg_maps *m, enum vg_stat s);
/* Add to a daemon-owned counter. */
void vg_ustat_add(const struct vg_maps *m, enum vg_stat s, uint64_t n);
/* Process table gauges, kernel + daemon slots summed. */
void vg_gauges_get(const struct vg_maps *m, int64_t *procs, int64_t *exited);
void vg_gauges_add_user(const struct vg_maps *m, int64_t procs, int64_t exited);

/*
 * CLOCK_REALTIME - CLOCK_BOOTTIME as recorded with the state, so every query
 * (and every daemon) prints a given kernel timestamp the same way. Resynced
 * when the wall clock has moved by more than 1 ms (an NTP step).
 */
uint64_t vg_meta_boot_offset(const struct vg_maps *m);
void vg_meta_sync_clock(const struct vg_maps *m);

/* Number of entries in a hash map (walks its keys). */
long vg_map_count(int fd);

#endif
