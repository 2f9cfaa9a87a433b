// SPDX-License-Identifier: GPL-2.0
/*
 * `query files`: which process did what to which file, from the kernel's
 * per-(process, file) table. Answers questions like "which files did this
 * build step write, and which process wrote them" (--pid N --tree --actions writes).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "query/query.h"
#include "query/select.h"
#include "state/filetab.h"
#include "util/timefmt.h"

struct files_filter {
	const char *exe, *path;
	uint64_t since_ns;
	uint32_t actions;
	int64_t limit;
	struct vg_keyset procs; /* --pid (and --tree) */
};

static bool files_match(struct vg_query_ctx *q, const struct files_filter *f,
			const struct vg_file_rec *r)
{
	const struct vg_file *v = &r->val;

	if (f->since_ns && v->last_ns + f->since_ns < q->now_boot)
		return false;
	if (f->actions && !(v->actions & f->actions))
		return false;
	if (!vg_keyset_has(&f->procs, &r->key.proc))
		return false;
	if (f->path) {
		const char *s = vg_strcache_get(q->strs, v->path, NULL, NULL);

		if (!s || strncmp(s, f->path, strlen(f->path)))
			return false;
	}
	if (f->exe) {
		const struct vg_proc *p = vg_proctab_get(&q->tab, &r->key.proc);

		if (!p || !vg_qmatch_name(f->exe, vg_strcache_get(q->strs, p->exe, NULL, NULL)))
			return false;
	}
	return true;
}

static int cmp_first(const void *a, const void *b)
{
	const struct vg_file_rec *ra = *(const struct vg_file_rec *const *)a;
	const struct vg_file_rec *rb = *(const struct vg_file_rec *const *)b;

	if (ra->val.first_ns != rb->val.first_ns)
		return ra->val.first_ns < rb->val.first_ns ? -1 : 1;
	return vg_key_cmp(&ra->key.proc, &rb->key.proc);
}

static struct json_object *time_json(uint64_t boot_ns, uint64_t off)
{
	char buf[VG_RFC3339_LEN];

	return json_object_new_string(vg_rfc3339(boot_ns + off, buf, sizeof(buf)));
}

struct json_object *vg_file_json(const struct vg_query_ctx *q, const struct vg_file_key *k,
				 const struct vg_file *v)
{
	struct json_object *o = json_object_new_object();
	struct json_object *proc = json_object_new_object();
	struct json_object *acts = json_object_new_array();
	struct json_object *flags = json_object_new_array();
	const struct vg_proc *p = vg_proctab_get(&q->tab, &k->proc);
	const char *exe = p ? vg_strcache_get(q->strs, p->exe, NULL, NULL) : NULL;
	const char *path = vg_strcache_get(q->strs, v->path, NULL, NULL);
	bool trunc = false;
	char id[48], dev[32];

	vg_proc_id(&k->proc, id, sizeof(id));
	json_object_object_add(proc, "id", json_object_new_string(id));
	json_object_object_add(proc, "pid", json_object_new_int64(k->proc.tgid));
	json_object_object_add(proc, "exe", exe ? json_object_new_string(exe) : NULL);
	json_object_object_add(o, "process", proc);
	if (path)
		vg_strcache_get(q->strs, v->path, NULL, &trunc);
	json_object_object_add(o, "path", path ? json_object_new_string(path) : NULL);
	for (unsigned b = 0; b < 32; b++)
		if ((v->actions & (1u << b)) && vg_fact_name(b))
			json_object_array_add(acts, json_object_new_string(vg_fact_name(b)));
	json_object_object_add(o, "actions", acts);
	json_object_object_add(o, "count", json_object_new_int64(v->count));
	json_object_object_add(o, "first_time", time_json(v->first_ns, q->boot_off));
	json_object_object_add(o, "last_time", time_json(v->last_ns, q->boot_off));
	if (v->flags & VG_FF_UNRESOLVED)
		json_object_array_add(flags, json_object_new_string("unresolved"));
	if ((v->flags & VG_FF_TRUNC) || trunc)
		json_object_array_add(flags, json_object_new_string("truncated"));
	if (v->flags & VG_FF_DELETED)
		json_object_array_add(flags, json_object_new_string("deleted"));
	if (!path && v->path)
		json_object_array_add(flags, json_object_new_string("lost"));
	json_object_object_add(o, "flags", flags);
	if (k->dev) {
		/* the kernel's dev_t: major << 20 | minor */
		snprintf(dev, sizeof(dev), "%u:%u", k->dev >> 20, k->dev & 0xfffff);
		json_object_object_add(o, "inode", json_object_new_uint64(k->obj));
		json_object_object_add(o, "dev", json_object_new_string(dev));
	} else {
		json_object_object_add(o, "inode", NULL);
		json_object_object_add(o, "dev", NULL);
	}
	return o;
}

/* --pid N[@START] and --tree: which processes. */
struct json_object *vg_query_files(struct vg_query_ctx *q, struct json_object *req, char *err,
				   size_t errlen)
{
	struct files_filter f = { .exe = vg_qarg_str(req, "exe"), .path = vg_qarg_str(req, "path") };
	const char *acts = vg_qarg_str(req, "actions");
	const struct vg_file_rec **hits = NULL;
	struct json_object *out = NULL;
	struct vg_filetab t;
	int64_t since = 0;
	size_t n = 0, first = 0;
	char bad[64];

	if (vg_qarg_int(req, "since_ns", &since) && since > 0)
		f.since_ns = since;
	if (!vg_qarg_int(req, "limit", &f.limit))
		f.limit = 0;
	if (acts && vg_fact_parse(acts, &f.actions, bad, sizeof(bad))) {
		snprintf(err, errlen, "unknown action '%s'", bad);
		return NULL;
	}
	if (vg_keyset_select(q, req, &f.procs, err, errlen))
		goto out_keys;
	if (q->maps->files < 0 || vg_filetab_load(&t, q->maps->files)) {
		snprintf(err, errlen, "reading the file table failed");
		goto out_keys;
	}
	vg_filetab_add_pending(&t, q->maps->file_hot);
	hits = malloc((t.n ? t.n : 1) * sizeof(*hits));
	if (!hits) {
		snprintf(err, errlen, "out of memory");
		goto out_tab;
	}
	for (size_t i = 0; i < t.n; i++)
		if (files_match(q, &f, &t.recs[i]))
			hits[n++] = &t.recs[i];
	qsort(hits, n, sizeof(*hits), cmp_first);
	if (f.limit > 0 && n > (size_t)f.limit)
		first = n - f.limit; /* the newest `limit` */
	out = json_object_new_array();
	for (size_t i = first; i < n; i++)
		json_object_array_add(out, vg_file_json(q, &hits[i]->key, &hits[i]->val));
	free(hits);
out_tab:
	vg_filetab_free(&t);
out_keys:
	vg_keyset_free(&f.procs);
	return out;
}
