/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Queries over kernel state. A request is a JSON object {"cmd": ..., args};
 * the answer is JSON data the CLI renders as a table or prints as is.
 */
#ifndef VG_QUERY_H
#define VG_QUERY_H

#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>
#include "state/maps.h"
#include "state/proctab.h"
#include "state/strings.h"

struct vg_query_ctx {
	const struct vg_maps *maps;
	uint64_t boot_off; /* CLOCK_REALTIME - CLOCK_BOOTTIME */
	uint64_t now_boot;
	struct vg_proctab tab;
	struct vg_strcache *strs;
};

int vg_query_ctx_open(struct vg_query_ctx *q, const struct vg_maps *m);
void vg_query_ctx_close(struct vg_query_ctx *q);

/* Run procs|ancestry|tree|files. NULL with err set on a bad request. */
struct json_object *vg_query_run(struct vg_query_ctx *q, struct json_object *req, char *err,
				 size_t errlen);

struct json_object *vg_proc_json(const struct vg_query_ctx *q, const struct vg_proc *p);

/* `query files` (files.c), and one file entry as JSON (the shape findings reuse). */
struct json_object *vg_query_files(struct vg_query_ctx *q, struct json_object *req, char *err,
				   size_t errlen);
struct json_object *vg_file_json(const struct vg_query_ctx *q, const struct vg_file_key *k,
				 const struct vg_file *v);
void vg_proc_id(const struct vg_proc_key *k, char *buf, size_t len); /* "pid@start_ns" */

/* Parse "1234" or "1234@start_ns". */
int vg_parse_proc_ref(const char *s, uint32_t *pid, uint64_t *start_ns);

#endif
