/* SPDX-License-Identifier: GPL-2.0 */
/* What `query flows` and `query dns` share: process selection, lineage, names. */
#ifndef VG_QUERY_NETQ_H
#define VG_QUERY_NETQ_H

#include <stdbool.h>
#include "query/query.h"
#include "query/select.h"

#define VG_LINEAGE_MAX 32

struct vg_netsel {
	const char *exe;    /* --exe glob on path or basename */
	const char *domain; /* --domain: the name or a name under it */
	uint64_t since_ns;  /* active within the window */
	struct vg_keyset procs; /* --pid [--tree] */
};

int vg_netsel_parse(struct vg_query_ctx *q, struct json_object *req, struct vg_netsel *s,
		    char *err, size_t errlen);
void vg_netsel_free(struct vg_netsel *s);
/* Does the process pass --pid/--tree/--exe? */
bool vg_netsel_proc(struct vg_query_ctx *q, const struct vg_netsel *s,
		    const struct vg_proc_key *k);
/* Is name (normalised) the --domain or under it? */
bool vg_netsel_domain(const struct vg_netsel *s, const char *name);

/* Ancestors of k, root first, k last; returns how many (<= VG_LINEAGE_MAX, the top cut). */
size_t vg_lineage(struct vg_query_ctx *q, const struct vg_proc_key *k,
		  struct vg_proc_key out[VG_LINEAGE_MAX]);
int vg_lineage_cmp(const struct vg_proc_key *a, size_t na, const struct vg_proc_key *b,
		   size_t nb);
/* {"id","pid","ppid","exe","comm","exited"} and the lineage ids (root first, without k). */
struct json_object *vg_netproc_json(struct vg_query_ctx *q, const struct vg_proc_key *k);
struct json_object *vg_lineage_json(const struct vg_proc_key *lin, size_t n);
struct json_object *vg_time_json(const struct vg_query_ctx *q, uint64_t boot_ns);

/* The answer table, sorted by address, for remote_names. */
struct vg_dnsa_rec {
	struct vg_dnsa_key key;
	struct vg_dnsa val;
};
struct vg_dnsa_tab {
	struct vg_dnsa_rec *recs;
	size_t n;
};
int vg_dnsa_tab_load(struct vg_dnsa_tab *t, const struct vg_maps *m);
void vg_dnsa_tab_free(struct vg_dnsa_tab *t);
/* First record for addr (records of one address are adjacent), or NULL. */
const struct vg_dnsa_rec *vg_dnsa_tab_find(const struct vg_dnsa_tab *t, const struct vg_ip *addr,
					   size_t *count);

struct json_object *vg_query_flows(struct vg_query_ctx *q, struct json_object *req, char *err,
				   size_t errlen);
struct json_object *vg_query_dns(struct vg_query_ctx *q, struct json_object *req, char *err,
				 size_t errlen);

#endif
