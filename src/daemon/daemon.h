/* SPDX-License-Identifier: GPL-2.0 */
/* `vigil run`: the daemon — sensor, housekeeping, local API. */
#ifndef VG_DAEMON_H
#define VG_DAEMON_H

#include <stdint.h>
#include <json-c/json.h>
#include "detect/detect.h"
#include "detect/rulesets.h"
#include "netpolicy/netpolicy.h"
#include "output/output.h"
#include "sensor/probe.h"
#include "sensor/sensor.h"

struct ring_buffer;

/* `vigil run` options beyond the sensor's: rules and where findings go. */
struct vg_run_opts {
	const char *rules_dir;       /* default VG_RULES_DIR */
	bool rules_dir_given;        /* --rules-dir: the directory must exist */
	const char *output;          /* "stdout" | "file:PATH" */
	enum vg_out_format format;
	uint64_t output_max_size;    /* file: rotate at this size */
	unsigned output_keep;        /* file: rotated files kept */
	const char *policies_dir;    /* runtime policies (default VG_POLICIES_DIR) */
	bool enforce_off;            /* --enforce=off: every policy action is reported only */
	const char *network_policy;  /* --network-policy FILE; NULL: /etc/vigil/network{.yaml,.d} */
};

void vg_run_opts_defaults(struct vg_run_opts *o);

struct vg_daemon {
	struct vg_sensor sensor;
	struct vg_probe probe;
	uint64_t started_real_ns;
	uint64_t load_ns;      /* time to load + attach + snapshot */
	uint64_t gc_runs, gc_last_ns, str_gc_runs;
	uint64_t requeued;     /* expired records kept because descendants remain */
	uint64_t trace_lines;
	struct vg_run_opts opts;
	struct vg_output out;        /* findings */
	struct vg_detect *det;       /* alert -> finding */
	struct vg_rulesets *rules;   /* rule sets, generations, reloads */
	struct vg_netpolicy *np;     /* network policy: cgroup hooks, policy, findings */
	struct ring_buffer *rb;      /* vg_events: alerts (+ exec/exit with --trace) */
	struct vg_enforce *enf;      /* runtime policies (src/policy) */
	unsigned rb_batch;           /* messages handled in the current consume call */
	uint64_t alerts_base, drops_base; /* kernel counters when this daemon started */
};

int vg_daemon_main(const struct vg_config *cfg, const struct vg_run_opts *opts);

/* Housekeeping (gc.c): age out exited processes, collect unused strings. */
void vg_gc_run(struct vg_daemon *d, bool strings);

/* `vigil status` as JSON (status.c). */
struct json_object *vg_status_json(struct vg_daemon *d);

#endif
