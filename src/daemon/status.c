// SPDX-License-Identifier: GPL-2.0
/* `vigil status`: counters, table fill, evictions, drops, per-program cost. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "daemon/daemon.h"
#include "policy/engine.h"
#include "net/net.h"
#include "util/timefmt.h"

static const char *const stat_names[VG_ST_MAX] = {
	[VG_ST_FORK] = "forks",
	[VG_ST_EXEC] = "execs",
	[VG_ST_EXIT] = "exits",
	[VG_ST_PROC_INSERT_FAIL] = "proc_insert_failures",
	[VG_ST_PROC_MISSING] = "proc_missing_adopted",
	[VG_ST_EVICT_PRESSURE] = "evictions_pressure",
	[VG_ST_EVICT_RETENTION] = "evictions_retention",
	[VG_ST_EXITQ_FULL] = "exit_queue_full",
	[VG_ST_STR_INSERT_FAIL] = "string_insert_failures",
	[VG_ST_STR_EVICT] = "strings_collected",
	[VG_ST_TRUNC_ARGV] = "truncated_argv",
	[VG_ST_TRUNC_PATH] = "truncated_paths",
	[VG_ST_RB_DROP] = "ringbuf_drops",
	[VG_ST_SNAPSHOT] = "snapshot_records",
	[VG_ST_EXIT_UNSEEN] = "exits_unseen",
	[VG_ST_STATE_RESET] = "state_resets",
	[VG_ST_FILE_EVENTS] = "file_events",
	[VG_ST_FILE_INSERT_FAIL] = "file_insert_failures",
	[VG_ST_FILE_EVICT] = "file_evictions",
	[VG_ST_PATH_UNRESOLVED] = "paths_unresolved",
	[VG_ST_ALERTS] = "alerts",
	[VG_ST_ALERT_DROP] = "alert_drops",
	[VG_ST_EXEC_SCAN] = "exec_scans",
	[VG_ST_FILE_NEW] = "file_entries_created",
	[VG_ST_NOT_FOUND] = "file_lookups_not_found",
	[VG_ST_NET_QUARANTINED] = "processes_net_quarantined",
};

const char *vg_stat_name(enum vg_stat s)
{
	return s < VG_ST_MAX ? stat_names[s] : "?";
}

/* Kernel memory charged to a map, from its fdinfo ("memlock:"). */
static long long map_memlock(int fd)
{
	char path[64], line[256];
	long long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "memlock: %lld", &v) == 1)
			break;
	fclose(f);
	return v;
}

static const char *map_type_name(enum bpf_map_type t)
{
	const char *n = libbpf_bpf_map_type_str(t);

	return n ? n : "unknown";
}

static struct json_object *maps_json(struct vg_daemon *d, long long *total)
{
	struct json_object *a = json_object_new_array();
	struct bpf_map *map;

	*total = 0;
	bpf_object__for_each_map(map, vg_sensor_object(&d->sensor)) {
		struct json_object *o;
		enum bpf_map_type t = bpf_map__type(map);
		int fd = bpf_map__fd(map);
		long long mem;
		long n = -1;

		if (fd < 0 || bpf_map__is_internal(map))
			continue; /* .rodata: the load-time knobs */
		o = json_object_new_object();
		mem = map_memlock(fd);
		if (t == BPF_MAP_TYPE_HASH || t == BPF_MAP_TYPE_LRU_HASH)
			n = vg_map_count(fd);
		json_object_object_add(o, "name", json_object_new_string(bpf_map__name(map)));
		json_object_object_add(o, "type", json_object_new_string(map_type_name(t)));
		json_object_object_add(o, "max_entries", json_object_new_int64(bpf_map__max_entries(map)));
		json_object_object_add(o, "entries", n >= 0 ? json_object_new_int64(n) : NULL);
		json_object_object_add(o, "fill_pct", n >= 0 ? json_object_new_double(
			100.0 * n / bpf_map__max_entries(map)) : NULL);
		json_object_object_add(o, "memlock_bytes", mem >= 0 ? json_object_new_int64(mem) : NULL);
		json_object_object_add(o, "pinned", json_object_new_boolean(bpf_map__pin_path(map) != NULL));
		if (mem > 0)
			*total += mem;
		json_object_array_add(a, o);
	}
	return a;
}

/* Are run times being measured: by this daemon (--bpf-stats) or by someone's sysctl? */
static bool bpf_stats_on(const struct vg_daemon *d)
{
	char c = '0';
	FILE *f;

	if (d->sensor.stats_fd >= 0)
		return true;
	f = fopen("/proc/sys/kernel/bpf_stats_enabled", "re");
	if (f) {
		if (fread(&c, 1, 1, f) != 1)
			c = '0';
		fclose(f);
	}
	return c == '1';
}

static struct json_object *progs_json(struct vg_daemon *d)
{
	struct json_object *a = json_object_new_array();
	struct bpf_program *prog;

	bpf_object__for_each_program(prog, vg_sensor_object(&d->sensor)) {
		struct bpf_prog_info info = {};
		uint32_t len = sizeof(info);
		struct json_object *o;
		int fd = bpf_program__fd(prog);

		if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len))
			continue;
		o = json_object_new_object();
		json_object_object_add(o, "name", json_object_new_string(bpf_program__name(prog)));
		json_object_object_add(o, "section", json_object_new_string(bpf_program__section_name(prog)));
		json_object_object_add(o, "run_count", json_object_new_uint64(info.run_cnt));
		json_object_object_add(o, "run_time_ns", json_object_new_uint64(info.run_time_ns));
		json_object_object_add(o, "avg_ns", info.run_cnt ? json_object_new_double(
			(double)info.run_time_ns / info.run_cnt) : NULL);
		json_object_object_add(o, "recursion_misses", json_object_new_uint64(info.recursion_misses));
		json_object_object_add(o, "verified_insns", json_object_new_int64(info.verified_insns));
		json_object_array_add(a, o);
	}
	return a;
}

static struct json_object *time_or_null(uint64_t real_ns)
{
	char buf[VG_RFC3339_LEN];

	return real_ns ? json_object_new_string(vg_rfc3339(real_ns, buf, sizeof(buf))) : NULL;
}

static void add_u64(struct json_object *o, const char *k, uint64_t v)
{
	json_object_object_add(o, k, json_object_new_uint64(v));
}

static struct json_object *rules_json(struct vg_daemon *d)
{
	struct json_object *o = json_object_new_object(), *last = json_object_new_object();
	struct vg_rules_status st = {};

	if (d->rules)
		vg_rulesets_status(d->rules, &st);
	else
		snprintf(st.dir, sizeof(st.dir), "%s", d->opts.rules_dir ? d->opts.rules_dir : "");
	json_object_object_add(o, "dir", json_object_new_string(st.dir));
	json_object_object_add(o, "installed", json_object_new_boolean(st.installed));
	add_u64(o, "loaded", st.enabled);
	add_u64(o, "builtin", st.builtin);
	add_u64(o, "from_dir", st.from_dir);
	add_u64(o, "disabled", st.total - st.enabled);
	json_object_object_add(o, "generation", st.installed ? json_object_new_int(st.generation) : NULL);
	json_object_object_add(o, "loaded_at", time_or_null(st.loaded_real_ns));
	json_object_object_add(o, "defaults_only", json_object_new_boolean(st.defaults_only));
	json_object_object_add(o, "watching", json_object_new_boolean(st.watching));
	add_u64(o, "reloads", st.reloads);
	add_u64(o, "reload_failures", st.reload_failures);
	json_object_object_add(last, "time", time_or_null(st.last_reload_real_ns));
	json_object_object_add(last, "ok", json_object_new_boolean(st.last_ok));
	json_object_object_add(last, "result", json_object_new_string(st.last_result));
	json_object_object_add(o, "last_reload", last);
	return o;
}

/* Which rules wake user space, and for what (since their set was loaded). */
static struct json_object *activity_json(struct vg_daemon *d)
{
	struct json_object *a = json_object_new_array();
	struct vg_rule_activity act[2 * VG_RULES_MAX];
	size_t n = d->det ? vg_detect_rule_activity(d->det, act, sizeof(act) / sizeof(act[0])) : 0;

	for (size_t i = 0; i < n; i++) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "id", json_object_new_string(act[i].id));
		add_u64(o, "candidates", act[i].candidates);
		add_u64(o, "findings", act[i].findings);
		add_u64(o, "not_matched", act[i].not_matched);
		add_u64(o, "rate_limited", act[i].rate_limited);
		json_object_array_add(a, o);
	}
	return a;
}

/* Where every rule candidate went, since this daemon started. */
static struct json_object *detections_json(struct vg_daemon *d)
{
	const struct vg_maps *m = &d->sensor.maps;
	struct json_object *o = json_object_new_object(), *c = json_object_new_object();
	struct json_object *out = json_object_new_object();
	struct vg_detect_counters dc = {};
	char dest[4200];

	if (d->det)
		vg_detect_counters(d->det, &dc);
	json_object_object_add(o, "rules", rules_json(d));
	add_u64(c, "alerts_sent", vg_stat_get(m, VG_ST_ALERTS) - d->alerts_base);
	add_u64(c, "alerts_lost", vg_stat_get(m, VG_ST_ALERT_DROP) - d->drops_base);
	add_u64(c, "alerts_received", dc.alerts);
	add_u64(c, "candidates", dc.candidates);
	add_u64(c, "findings", dc.findings);
	add_u64(c, "network_findings", dc.network_findings);
	add_u64(c, "policy_findings", dc.policy_findings);
	add_u64(c, "not_matched", dc.not_matched);
	add_u64(c, "rate_limited", dc.rate_limited);
	add_u64(c, "stale_generation", dc.stale);
	add_u64(c, "malformed", dc.malformed);
	add_u64(c, "process_missing", dc.proc_missing);
	add_u64(c, "object_lost", dc.object_lost);
	add_u64(c, "argv_from_proc", dc.argv_from_proc);
	add_u64(c, "self", dc.self);
	add_u64(c, "deferred", dc.deferred);
	add_u64(c, "deferred_pending", dc.deferred_pending);
	add_u64(c, "deferred_queue_full", dc.deferred_full);
	json_object_object_add(o, "counters", c);
	json_object_object_add(o, "rules_activity", activity_json(d));
	json_object_object_add(o, "busy_ms", json_object_new_double(dc.busy_ns / 1e6));
	json_object_object_add(o, "avg_us_per_alert", dc.alerts ?
			       json_object_new_double(dc.busy_ns / 1e3 / dc.alerts) : NULL);
	snprintf(dest, sizeof(dest), "%s%s", d->out.path ? "file:" : "stdout",
		 d->out.path ? d->out.path : "");
	json_object_object_add(out, "destination", json_object_new_string(dest));
	json_object_object_add(out, "format", json_object_new_string(vg_output_format_name(d->out.format)));
	add_u64(out, "lines", __atomic_load_n(&d->out.lines, __ATOMIC_RELAXED));
	add_u64(out, "bytes", __atomic_load_n(&d->out.bytes, __ATOMIC_RELAXED));
	add_u64(out, "rotations", __atomic_load_n(&d->out.rotations, __ATOMIC_RELAXED));
	add_u64(out, "errors", __atomic_load_n(&d->out.errors, __ATOMIC_RELAXED));
	if (d->out.path) {
		add_u64(out, "max_size", d->out.max_size);
		add_u64(out, "keep", d->out.keep);
	}
	json_object_object_add(o, "output", out);
	return o;
}

struct json_object *vg_status_json(struct vg_daemon *d)
{
	const struct vg_maps *m = &d->sensor.maps;
	struct json_object *o = json_object_new_object();
	struct json_object *procs = json_object_new_object();
	struct json_object *counters = json_object_new_object();
	struct json_object *daemon = json_object_new_object();
	int64_t n, exited;
	long long mem;
	char buf[VG_RFC3339_LEN];

	vg_gauges_get(m, &n, &exited);
	json_object_object_add(o, "version", json_object_new_string(VIGIL_VERSION));
	json_object_object_add(o, "kernel", json_object_new_string(d->probe.kernel));
	json_object_object_add(o, "tier", json_object_new_string(vg_tier_name(d->probe.tier)));
	json_object_object_add(o, "started", json_object_new_string(
		vg_rfc3339(d->started_real_ns, buf, sizeof(buf))));
	json_object_object_add(o, "uptime_s", json_object_new_double(
		(vg_now_real_ns() - d->started_real_ns) / 1e9));
	json_object_object_add(o, "state_dir", json_object_new_string(d->sensor.cfg.state_dir));
	json_object_object_add(o, "state_reused", json_object_new_boolean(d->sensor.state_reused));
	json_object_object_add(o, "retention_s", json_object_new_double(d->sensor.cfg.retention_ns / 1e9));

	json_object_object_add(procs, "tracked", json_object_new_int64(n));
	json_object_object_add(procs, "alive", json_object_new_int64(n - exited));
	json_object_object_add(procs, "exited", json_object_new_int64(exited));
	json_object_object_add(procs, "capacity", json_object_new_int64(d->sensor.cfg.max_procs));
	json_object_object_add(procs, "fill_pct", json_object_new_double(100.0 * n / d->sensor.cfg.max_procs));
	json_object_object_add(o, "processes", procs);

	for (int s = 0; s < VG_ST_MAX; s++)
		json_object_object_add(counters, stat_names[s], json_object_new_uint64(vg_stat_get(m, s)));
	json_object_object_add(o, "counters", counters);
	json_object_object_add(o, "detections", detections_json(d));
	json_object_object_add(o, "network", vg_net_status_json(d)); /* src/net/status.c */
	json_object_object_add(o, "network_policy", d->np ? vg_netpolicy_status(d->np) : NULL);
	if (d->enf) { /* runtime policies: counters, the policy list is `vigil policy list` */
		struct json_object *e = vg_enforce_json(d->enf);

		json_object_object_del(e, "policies");
		json_object_object_add(o, "enforcement", e);
	}

	json_object_object_add(o, "maps", maps_json(d, &mem));
	json_object_object_add(o, "kernel_memory_bytes", json_object_new_int64(mem));
	json_object_object_add(o, "programs", progs_json(d));
	json_object_object_add(o, "bpf_stats", json_object_new_boolean(bpf_stats_on(d)));

	json_object_object_add(daemon, "pid", json_object_new_int(getpid()));
	json_object_object_add(daemon, "snapshot", json_object_new_string(
		d->sensor.snap_mode == VG_SNAP_ITER ? "task iterator" : "/proc"));
	json_object_object_add(daemon, "load_ms", json_object_new_double(d->load_ns / 1e6));
	json_object_object_add(daemon, "gc_runs", json_object_new_uint64(d->gc_runs));
	json_object_object_add(daemon, "gc_requeued_with_descendants", json_object_new_uint64(d->requeued));
	json_object_object_add(daemon, "string_gc_runs", json_object_new_uint64(d->str_gc_runs));
	json_object_object_add(o, "daemon", daemon);
	return o;
}
