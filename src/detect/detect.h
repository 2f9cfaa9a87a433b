/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Detection, user-space half: a rule candidate from the kernel (struct
 * vg_alert) -> the rule of its generation -> a vg_match built from current
 * state (process record, ancestry to pid 1, cgroup, container) -> the rest of
 * the rule (src/rules) and its rate limit -> a finding (docs/findings.md) on
 * the output (src/output). Every candidate ends in exactly one counter.
 */
#ifndef VG_DETECT_H
#define VG_DETECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "output/output.h"
#include "rules/rules.h"
#include "state/maps.h"

#define VG_FINDING_SCHEMA 1

/*
 * Where each candidate went. alerts counts messages (self ones included);
 * candidates counts the rules in the others, and
 * candidates == findings + not_matched + rate_limited + stale.
 */
struct vg_detect_counters {
	uint64_t alerts;       /* VG_MSG_ALERT messages read from the ring buffer */
	uint64_t candidates;   /* rule candidates in them (one per rule bit) */
	uint64_t findings;     /* findings emitted */
	uint64_t not_matched;  /* candidates the user-space half of the rule rejected */
	uint64_t rate_limited; /* matches suppressed by the rule's rate limit */
	uint64_t stale;        /* candidates naming a rule no loaded set has (generation gone) */
	uint64_t malformed;    /* messages too short or of an unknown type */
	uint64_t proc_missing; /* alerts whose process had no record: finding from the alert alone */
	uint64_t object_lost;  /* alerts whose path/exe string was not in the string table (full,
				* or collected): a rule that needs it can't match */
	uint64_t argv_from_proc; /* exec alerts whose command line was not interned (string
				  * table full): read from /proc/PID/cmdline, the process still alive */
	uint64_t self;         /* alerts about the daemon's own operations (its map reads are
				* bpf() calls): ignored, or reading them would raise more */
	uint64_t busy_ns;      /* CPU time reading the ring buffer (enrich, match, render, write) */
	uint64_t network_findings; /* findings of the network policy and network detections
				    * (src/netpolicy): not rule candidates, counted apart */
	uint64_t policy_findings;  /* findings of kernel enforcements (src/policy): not from rule
				    * candidates, outside the equation above */
	uint64_t deferred;         /* candidates judged again later: nothing on a pipeline's
				    * other end matched yet (stdout_pipe_to / stdin_pipe_from) */
	uint64_t deferred_pending; /* ... waiting now (in the equation with not_matched...) */
	uint64_t deferred_full;    /* ... not kept, the queue was full: judged at once */
};

/* Per rule, since its set was loaded: which rules wake user space for what. */
struct vg_rule_activity {
	char id[96];
	uint64_t candidates, findings, not_matched, rate_limited;
};

struct vg_detect;

struct vg_detect *vg_detect_new(const struct vg_maps *m, struct vg_output *out);
void vg_detect_free(struct vg_detect *d);

/* The rule set alerts tagged with generation `gen` are matched against (NULL: none).
 * The caller owns r and keeps it alive while it is set here. */
void vg_detect_set_rules(struct vg_detect *d, uint8_t gen, const struct vg_rules *r);

/* Handle one ring-buffer message of type VG_MSG_ALERT. */
void vg_detect_alert(struct vg_detect *d, const void *data, size_t len);
/* Count a message nobody could read (short, unknown type). */
void vg_detect_malformed(struct vg_detect *d);
/* CPU time the caller spent on a batch of messages (for the per-alert cost). */
void vg_detect_account(struct vg_detect *d, uint64_t cpu_ns);
/* After a batch: flush the output, let caches age. */
void vg_detect_flush(struct vg_detect *d);
/* Judge the candidates kept for later (a pipeline's other end not exec'd yet)
 * whose time has come. Call at least every 100 ms. */
void vg_detect_due(struct vg_detect *d);
/* Re-read hostname/kernel/boot id (on reload). */
void vg_detect_refresh_host(struct vg_detect *d);

/* A consistent-enough copy for `vigil status` (safe from another thread). */
void vg_detect_counters(const struct vg_detect *d, struct vg_detect_counters *c);
/* Rules with candidates, busiest first (both loaded generations summed by id);
 * returns how many were written. Safe from another thread. */
size_t vg_detect_rule_activity(struct vg_detect *d, struct vg_rule_activity *out, size_t max);

/* ---- enforcement (src/policy): actions in findings ---- */

/* What was done about a finding: rendered as action / enforced_by /
 * enforcement{} (docs/findings.md). Strings are copied when rendered. */
struct vg_detect_action {
	const char *action;      /* "alert", "block", "kill", "freeze", "quarantine" */
	const char *enforced_by; /* "lsm", "signal", "cgroup", "freezer", NULL: nothing acted */
	const char *policy;      /* policy name */
	const char *guarantee;   /* one phrase */
	const char *extra_json;  /* more members of "enforcement" (",\"k\":v..."), or NULL */
	bool audit;              /* nothing was done: mode audit / --enforce=off */
};

/* A finding about to be emitted, for the policies that act on detections. */
struct vg_detect_hit {
	const struct vg_rule *rule;
	const struct vg_proc *proc;
	const char *exe, *cgroup, *container;
	const char *const *ancestor_exes; /* parent first */
	size_t nancestors;
};
/* Called before each detection finding is written; returns true when it filled
 * *act (an action was taken, or would have been). */
typedef bool (*vg_detect_hook)(void *ctx, const struct vg_detect_hit *h,
			       struct vg_detect_action *act);
void vg_detect_set_hook(struct vg_detect *d, vg_detect_hook fn, void *ctx);
/* A finding for an enforcement the kernel did (struct vg_enforce_msg's alert part,
 * kind exec or syscall), with r as its "rule". */
void vg_detect_enforced(struct vg_detect *d, const struct vg_alert *a, const struct vg_rule *r,
			const struct vg_detect_action *act);
/*
 * A finding no rule candidate produced (network policy and the built-in
 * network detections, src/netpolicy): the same envelope, process context and
 * ancestry as a rule's, kind "network", the "network" object as given (JSON),
 * and the action taken. Counted in findings.
 */
struct vg_ext_finding {
	const struct vg_rule *rule;
	struct vg_proc_key proc;  /* zero: unknown (the finding says "missing") */
	uint32_t uid;
	uint64_t time_ns;         /* CLOCK_BOOTTIME of the operation */
	uint64_t id_parts[6];     /* what makes it unique besides rule, process, time */
	const char *network_json; /* the "network" object */
	const char *text;         /* one-line summary for --format text */
	const struct vg_detect_action *act; /* action, enforced_by, enforcement{} */
	uint64_t suppressed;
};
void vg_detect_emit_ext(struct vg_detect *d, const struct vg_ext_finding *x);

/* ---- pure helpers (unit-tested) ---- */

struct vg_container {
	char id[65];      /* 64 hex */
	char runtime[16]; /* docker, containerd, cri-o, podman, kubernetes, unknown */
	char pod_uid[64]; /* Kubernetes pod uid, "" if none */
};
/* Recognise a container from its cgroup v2 path; false on the host. */
bool vg_container_from_cgroup(const char *cgroup, struct vg_container *c);

/* x86_64 syscall name ("openat"), or "syscall_<nr>" written into buf. */
const char *vg_detect_syscall_name(uint32_t nr, char *buf, size_t len);

/* Growable text buffer used to render findings. */
struct vg_sbuf {
	char *p;
	size_t len, cap;
};
void vg_sbuf_put(struct vg_sbuf *b, const char *s, size_t n);
void vg_sbuf_puts(struct vg_sbuf *b, const char *s);
void vg_sbuf_printf(struct vg_sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void vg_sbuf_u64(struct vg_sbuf *b, uint64_t v);
/* What vg_rfc3339() writes, without its cost (the date is cached per second). */
void vg_sbuf_time(struct vg_sbuf *b, uint64_t real_ns);
/* A JSON string literal; bytes that aren't valid UTF-8 become U+FFFD. NULL -> null. */
void vg_sbuf_json_str(struct vg_sbuf *b, const char *s, size_t n);
void vg_sbuf_json_cstr(struct vg_sbuf *b, const char *s);
/* Copy s (already JSON) replacing invalid UTF-8 bytes by \ufffd. */
void vg_sbuf_put_utf8(struct vg_sbuf *b, const char *s, size_t n);
void vg_sbuf_free(struct vg_sbuf *b);

/* Names of enum vg_file_flags / vg_proc_flags bits, NULL for unnamed
 * (enum vg_fact: vg_fact_name() in state/filetab.h). */
const char *vg_file_flag_name(unsigned bit);
const char *vg_proc_flag_name(unsigned bit);

/* Stable finding id: 32 hex digits of a 128-bit hash of what makes it unique. */
void vg_finding_id(const char *rule_id, const struct vg_alert *a, char out[33]);

#endif
