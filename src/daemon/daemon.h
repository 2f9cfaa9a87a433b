/* SPDX-License-Identifier: GPL-2.0 */
/* `vigil run`: the daemon — sensor, housekeeping, local API. */
#ifndef VG_DAEMON_H
#define VG_DAEMON_H

#include <stdint.h>
#include <json-c/json.h>
#include "sensor/probe.h"
#include "sensor/sensor.h"

struct vg_daemon {
	struct vg_sensor sensor;
	struct vg_probe probe;
	uint64_t started_real_ns;
	uint64_t load_ns;      /* time to load + attach + snapshot */
	uint64_t gc_runs, gc_last_ns, str_gc_runs;
	uint64_t requeued;     /* expired records kept because descendants remain */
	uint64_t trace_lines;
};

int vg_daemon_main(const struct vg_config *cfg);

/* Housekeeping (gc.c): age out exited processes, collect unused strings. */
void vg_gc_run(struct vg_daemon *d, bool strings);

/* `vigil status` as JSON (status.c). */
struct json_object *vg_status_json(struct vg_daemon *d);

#endif
