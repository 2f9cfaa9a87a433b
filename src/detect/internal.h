/* SPDX-License-Identifier: GPL-2.0 */
/* What detect.c resolves for one alert, and what finding.c renders from it. */
#ifndef VG_DETECT_INTERNAL_H
#define VG_DETECT_INTERNAL_H

#include "detect/detect.h"

/* A cached process record with its strings, JSON and container, by key. */
struct vg_pent {
	struct vg_proc_key key;
	struct vg_proc rec;
	bool used, missing;
	uint64_t fetched_ns; /* CLOCK_BOOTTIME of the map lookup */
	char *exe;           /* NULL: none */
	char *argv_buf;      /* NUL-separated words */
	const char **argv;
	size_t argc;
	char *cgroup;
	struct vg_container ct;
	bool in_container;
	char *json; /* vg_proc_json(), rendered once per record version */
	size_t json_len;
};

struct vg_fctx {
	const struct vg_alert *a;
	uint64_t time_real;            /* wall-clock ns of the operation */
	struct vg_pent *self;
	struct vg_pent **chain;        /* parent first, up to the oldest ancestor known */
	size_t nchain;
	bool gap;                      /* the chain continues past what vigil holds */
	struct vg_proc_key gap_key;
	/* object strings, NULL when absent */
	const char *path, *path2;      /* file */
	const char *exe, *parent_exe;  /* exec */
	const char *const *argv;
	size_t argc;
	const char *str;               /* syscall */
	struct vg_pent *target;
	uint64_t suppressed;           /* held back by the rule's rate limit since the last one */
	const struct vg_detect_action *act; /* enforcement, NULL: an alert */
	const struct vg_ext_finding *ext; /* a finding from outside the rule engine (network) */
};

const char *vg_detect_pent_json(struct vg_detect *d, struct vg_pent *e, size_t *len);
const char *vg_detect_rule_json(struct vg_detect *d, const struct vg_rule *r, uint8_t gen,
				size_t *len);
const char *vg_detect_host_json(struct vg_detect *d, size_t *len);

void vg_finding_render_json(struct vg_detect *d, const struct vg_rule *r, const struct vg_fctx *f,
			    struct vg_sbuf *b);
void vg_finding_render_text(struct vg_detect *d, const struct vg_rule *r, const struct vg_fctx *f,
			    struct vg_sbuf *b);
/* The rule's JSON object (cached per generation by detect.c). */
void vg_rule_render_json(const struct vg_rule *r, struct vg_sbuf *b);

#endif
