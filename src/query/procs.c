// SPDX-License-Identifier: GPL-2.0
/* `query procs`, `query ancestry`, `query tree`. */
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "query/query.h"
#include "query/select.h"
#include "query/netq.h"
#include "util/timefmt.h"

int vg_query_ctx_open(struct vg_query_ctx *q, const struct vg_maps *m)
{
	int err;

	memset(q, 0, sizeof(*q));
	q->maps = m;
	q->boot_off = vg_meta_boot_offset(m);
	q->now_boot = vg_now_boot_ns();
	err = vg_proctab_load(&q->tab, m);
	if (err)
		return err;
	q->strs = vg_strcache_new(m);
	return q->strs ? 0 : -ENOMEM;
}

void vg_query_ctx_close(struct vg_query_ctx *q)
{
	vg_proctab_free(&q->tab);
	vg_strcache_free(q->strs);
}

int vg_parse_proc_ref(const char *s, uint32_t *pid, uint64_t *start_ns)
{
	char *end;
	unsigned long v;

	if (*s < '0' || *s > '9') /* no sign, no space */
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || v == 0 || v > 0x7fffffff)
		return -EINVAL;
	*pid = v;
	*start_ns = 0;
	if (*end == '@') {
		s = end + 1;
		if (*s < '0' || *s > '9')
			return -EINVAL;
		errno = 0;
		*start_ns = strtoull(s, &end, 10);
		if (errno)
			return -EINVAL;
	}
	return *end ? -EINVAL : 0;
}

/* ---- procs ---- */

struct procs_filter {
	const char *exe, *comm, *argv, *cgroup;
	int64_t pid, ppid, uid, limit;
	uint64_t since_ns;
	bool exited, alive, has_pid, has_ppid, has_uid;
};

static bool argv_contains(struct vg_query_ctx *q, const struct vg_proc *p, const char *needle)
{
	uint32_t len = 0;
	const char *s = vg_strcache_get(q->strs, p->argv, &len, NULL);

	if (!s)
		return false;
	for (uint32_t off = 0; off < len; off += strlen(s + off) + 1)
		if (strstr(s + off, needle))
			return true;
	return false;
}

static bool procs_match(struct vg_query_ctx *q, const struct procs_filter *f,
			const struct vg_proc *p)
{
	bool exited = p->flags & VG_PF_EXITED;

	if (f->exited && !exited)
		return false;
	if (f->alive && exited)
		return false;
	if (f->has_pid && p->key.tgid != f->pid)
		return false;
	if (f->has_ppid && p->ppid != f->ppid)
		return false;
	if (f->has_uid && p->uid != f->uid)
		return false;
	if (f->since_ns && exited && p->exit_ns + f->since_ns < q->now_boot)
		return false;
	if (f->comm && fnmatch(f->comm, p->comm, 0))
		return false;
	if (f->exe && !vg_qmatch_name(f->exe, vg_strcache_get(q->strs, p->exe, NULL, NULL)))
		return false;
	if (f->argv && !argv_contains(q, p, f->argv))
		return false;
	if (f->cgroup) {
		const char *cg = vg_strcache_get(q->strs, p->cgroup, NULL, NULL);

		if (!cg || strncmp(cg, f->cgroup, strlen(f->cgroup)))
			return false;
	}
	return true;
}

static int cmp_start(const void *a, const void *b)
{
	const struct vg_proc *pa = *(const struct vg_proc *const *)a;
	const struct vg_proc *pb = *(const struct vg_proc *const *)b;

	if (pa->key.start_ns != pb->key.start_ns)
		return pa->key.start_ns < pb->key.start_ns ? -1 : 1;
	return pa->key.tgid < pb->key.tgid ? -1 : pa->key.tgid > pb->key.tgid;
}

static struct json_object *q_procs(struct vg_query_ctx *q, struct json_object *req, char *err,
				   size_t errlen)
{
	struct procs_filter f = {
		.exe = vg_qarg_str(req, "exe"), .comm = vg_qarg_str(req, "comm"),
		.argv = vg_qarg_str(req, "argv"), .cgroup = vg_qarg_str(req, "cgroup"),
		.exited = vg_qarg_bool(req, "exited"), .alive = vg_qarg_bool(req, "alive"),
	};
	const struct vg_proc **hits;
	struct json_object *out;
	int64_t since = 0;
	size_t n = 0, first = 0;

	f.has_pid = vg_qarg_int(req, "pid", &f.pid);
	f.has_ppid = vg_qarg_int(req, "ppid", &f.ppid);
	f.has_uid = vg_qarg_int(req, "uid", &f.uid);
	if (vg_qarg_int(req, "since_ns", &since))
		f.since_ns = since;
	if (!vg_qarg_int(req, "limit", &f.limit))
		f.limit = 0;
	if (f.exited && f.alive) {
		snprintf(err, errlen, "--exited and --alive exclude each other");
		return NULL;
	}
	hits = malloc((q->tab.n ? q->tab.n : 1) * sizeof(*hits));
	if (!hits) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	for (size_t i = 0; i < q->tab.n; i++)
		if (procs_match(q, &f, &q->tab.recs[i]))
			hits[n++] = &q->tab.recs[i];
	qsort(hits, n, sizeof(*hits), cmp_start);
	if (f.limit > 0 && n > (size_t)f.limit)
		first = n - f.limit; /* the newest `limit` */
	out = json_object_new_array();
	for (size_t i = first; i < n; i++)
		json_object_array_add(out, vg_proc_json(q, hits[i]));
	free(hits);
	return out;
}

/* ---- ancestry, tree ---- */

static const struct vg_proc *find_ref(struct vg_query_ctx *q, struct json_object *req, char *err,
				      size_t errlen)
{
	int64_t pid = 0;

	if (!vg_qarg_int(req, "pid", &pid) || pid <= 0) {
		snprintf(err, errlen, "a pid is required");
		return NULL;
	}
	return vg_qarg_proc(q, req, pid, err, errlen);
}

static struct json_object *q_ancestry(struct vg_query_ctx *q, struct json_object *req, char *err,
				      size_t errlen)
{
	const struct vg_proc *p = find_ref(q, req, err, errlen);
	struct json_object *out;

	if (!p)
		return NULL;
	out = json_object_new_array();
	for (int depth = 0; p && depth < 4096; depth++) {
		const struct vg_proc *up = vg_proctab_parent(&q->tab, p);

		json_object_array_add(out, vg_proc_json(q, p));
		if (!up && p->parent.tgid) {
			/* The chain continues past what vigil holds: say so, don't stop silently. */
			struct json_object *gap = json_object_new_object();
			char id[48];

			vg_proc_id(&p->parent, id, sizeof(id));
			json_object_object_add(gap, "id", json_object_new_string(id));
			json_object_object_add(gap, "pid", json_object_new_int64(p->parent.tgid));
			json_object_object_add(gap, "missing", json_object_new_boolean(true));
			json_object_array_add(out, gap);
		}
		p = up;
	}
	return out;
}

struct tree_walk {
	struct vg_query_ctx *q;
	struct json_object *out;
	int depth, max_depth;
	size_t count;
};

static void tree_visit(const struct vg_proc *p, void *arg)
{
	struct tree_walk *w = arg;
	struct json_object *o = vg_proc_json(w->q, p);

	json_object_object_add(o, "depth", json_object_new_int(w->depth));
	json_object_array_add(w->out, o);
	if (++w->count > 100000 || (w->max_depth && w->depth >= w->max_depth))
		return;
	w->depth++;
	vg_proctab_children(&w->q->tab, p, tree_visit, w);
	w->depth--;
}

static struct json_object *q_tree(struct vg_query_ctx *q, struct json_object *req, char *err,
				  size_t errlen)
{
	const struct vg_proc *p = find_ref(q, req, err, errlen);
	struct tree_walk w = { .q = q };
	int64_t depth = 0;

	if (!p)
		return NULL;
	vg_qarg_int(req, "depth", &depth);
	w.max_depth = depth;
	w.out = json_object_new_array();
	tree_visit(p, &w);
	return w.out;
}

struct json_object *vg_query_run(struct vg_query_ctx *q, struct json_object *req, char *err,
				 size_t errlen)
{
	const char *cmd = vg_qarg_str(req, "cmd");

	if (!cmd)
		snprintf(err, errlen, "request has no cmd");
	else if (!strcmp(cmd, "procs"))
		return q_procs(q, req, err, errlen);
	else if (!strcmp(cmd, "ancestry"))
		return q_ancestry(q, req, err, errlen);
	else if (!strcmp(cmd, "tree"))
		return q_tree(q, req, err, errlen);
	else if (!strcmp(cmd, "files"))
		return vg_query_files(q, req, err, errlen);
	else if (!strcmp(cmd, "flows")) /* network (src/query/flows.c, dns.c) */
		return vg_query_flows(q, req, err, errlen);
	else if (!strcmp(cmd, "dns"))
		return vg_query_dns(q, req, err, errlen);
	else
		snprintf(err, errlen, "unknown query '%s'", cmd);
	return NULL;
}
