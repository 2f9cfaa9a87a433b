/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The daemon's rule sets over time: load at start (embedded defaults + the
 * rules directory, falling back to the defaults alone if the directory is
 * invalid), install into the kernel's idle generation, keep the previous
 * generation's set alive for alerts still in flight, reload on request,
 * rejecting an invalid set (its errors on stderr) while the old one stays.
 */
#ifndef VG_RULESETS_H
#define VG_RULESETS_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include "detect/detect.h"
#include "rules/rules.h"

#define VG_RULES_DIR "/etc/vigil/rules.d"

/* What `vigil status` shows; a copy, safe to read from another thread. */
struct vg_rules_status {
	bool installed;          /* a rule set is in the kernel */
	size_t total, enabled, builtin, from_dir;
	unsigned generation;     /* active kernel generation (0/1) */
	uint64_t reloads, reload_failures;
	uint64_t loaded_real_ns; /* when the set in force was loaded */
	uint64_t last_reload_real_ns;
	bool last_ok;
	char last_result[768];   /* "loaded N rules (...)" or why it was rejected */
	bool defaults_only;      /* the directory was invalid at start: embedded defaults run */
	bool watching;           /* inotify on the directory */
	char dir[PATH_MAX];
};

struct vg_rulesets;

/* drain(arg) consumes every message already in the ring buffer. */
struct vg_rulesets *vg_rulesets_new(struct vg_detect *det, const struct vg_rule_maps *maps,
				    const char *dir, void (*drain)(void *), void *arg);
void vg_rulesets_free(struct vg_rulesets *rs);

/* At start: load + install; prints what it loaded. -errno if nothing could be installed. */
int vg_rulesets_start(struct vg_rulesets *rs);
/* Reload (SIGHUP, directory change). 0 if the new set is in force, else the old one is. */
int vg_rulesets_reload(struct vg_rulesets *rs, const char *why);

/* inotify fd on the directory (-1 if none); call on_inotify when it is readable:
 * true if a rule file changed (the caller debounces, then reloads). */
int vg_rulesets_watch_fd(const struct vg_rulesets *rs);
bool vg_rulesets_on_inotify(struct vg_rulesets *rs);

void vg_rulesets_status(struct vg_rulesets *rs, struct vg_rules_status *st);

#endif
