/* SPDX-License-Identifier: GPL-2.0 */
/* What every query takes the same way: JSON arguments and --pid [--tree]. */
#ifndef VG_QUERY_SELECT_H
#define VG_QUERY_SELECT_H

#include <stdbool.h>
#include "query/query.h"

const char *vg_qarg_str(struct json_object *req, const char *k); /* NULL: absent */
bool vg_qarg_int(struct json_object *req, const char *k, int64_t *out);
bool vg_qarg_bool(struct json_object *req, const char *k);
/* --exe: a glob on the whole path or on its basename */
bool vg_qmatch_name(const char *pat, const char *path);

/* The process "pid" (and "start_ns" if given) names; NULL with err if vigil has none. */
const struct vg_proc *vg_qarg_proc(struct vg_query_ctx *q, struct json_object *req, int64_t pid,
				   char *err, size_t errlen);

/* The processes --pid (with --start_ns) and --tree name, sorted; keys NULL: all. */
struct vg_keyset {
	struct vg_proc_key *keys;
	size_t n, cap;
};

/* Fill ks from "pid", "start_ns", "tree"; 0 (nothing chosen without "pid"), or -errno with err. */
int vg_keyset_select(struct vg_query_ctx *q, struct json_object *req, struct vg_keyset *ks,
		     char *err, size_t errlen);
/* Is k chosen (always, when no --pid was given)? */
bool vg_keyset_has(const struct vg_keyset *ks, const struct vg_proc_key *k);
void vg_keyset_free(struct vg_keyset *ks);

#endif
