/* SPDX-License-Identifier: GPL-2.0 */
/* Network state: hooks, and the flow / DNS tables in user space. */
#ifndef VG_NET_H
#define VG_NET_H

#include <stddef.h>
#include <stdint.h>
#include "sensor/sensor.h"

/* Where cgroup v2 is mounted: /sys/fs/cgroup, /sys/fs/cgroup/unified, else from /proc/mounts. */
int vg_cgroup2_root(char *buf, size_t len);
int vg_net_attach(struct vg_sensor *s, char *why, size_t whylen);
void vg_net_detach(struct vg_sensor *s);

/* Network counters: kernel per-CPU slots summed, plus the daemon's. */
uint64_t vg_net_stat_get(const struct vg_maps *m, enum vg_net_stat st);
void vg_net_ustat_add(const struct vg_maps *m, enum vg_net_stat st, uint64_t n);
const char *vg_net_stat_name(enum vg_net_stat st);

/* Bring the rows of open TCP connections up to date from their sockets (the
 * vg_flow_flush iterator): before reading the flow table. 0, or -errno. */
int vg_flows_flush(const struct vg_maps *m);

/* A copy of the flow table (vg_maptab of vg_flow_key -> vg_flow) with every key
 * giving its row's addresses: a TCP connection's row is keyed by socket cookie alone,
 * its addresses are in the row (vg_flow.wire). Rewrites the copy's keys in place. */
struct vg_maptab;
void vg_flows_wire(struct vg_maptab *t);

/* The TCP connections' slots (vg_conns, abi.h: vg_conn) mapped into memory, read-write: the
 * daemon gives slots back with compare-and-exchange. NULL (errno set) on failure;
 * vg_conns_unmap() when done. */
struct vg_conn *vg_conns_map(int fd, uint32_t *n);
void vg_conns_unmap(struct vg_conn *c, uint32_t n);

/* The flow table as queries see it: the flow hash's rows, then every slot of vg_conns that
 * holds a row (keyed vg_tcp_conn_key: cookie, TCP), with vg_flows_wire() applied. conns_fd
 * < 0: the flow hash alone. 0, or -errno. */
int vg_flows_load(struct vg_maptab *t, int flows_fd, int conns_fd);

/* Domain hash of a normalised name (abi.h): FNV-1a 64 over the bytes last to first. */
uint64_t vg_dns_hash(const char *name, size_t len);

/* "1.2.3.4" or "2001:db8::1" from a vg_ip. */
void vg_ip_str(const struct vg_ip *a, char *buf, size_t len);
/* Parse an address into a vg_ip (v4-mapped for IPv4). 0 or -EINVAL. */
int vg_ip_parse(const char *s, struct vg_ip *a);

/* The daemon's side (state.c): `vigil status` numbers, and retention. */
struct vg_daemon;
struct vg_proctab;
struct json_object;
struct json_object *vg_net_status_json(struct vg_daemon *d);
/* Drop flows and DNS questions whose process left the table (unowned ones and DNS
 * answers after the retention window); returns the string ids still used. */
uint64_t *vg_net_gc(struct vg_daemon *d, const struct vg_proctab *t, size_t *nids);

#endif
