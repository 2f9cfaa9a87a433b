/* SPDX-License-Identifier: GPL-2.0 */
#ifndef VG_SNAPSHOT_H
#define VG_SNAPSHOT_H

#include <stddef.h>

struct vg_sensor;

/* Record processes that predate the hooks, then reconcile an earlier daemon's state. */
int vg_snapshot_take(struct vg_sensor *s, char *why, size_t whylen);

#endif
