// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "query/select.h"

const char *vg_qarg_str(struct json_object *req, const char *k)
{
	struct json_object *v;

	return json_object_object_get_ex(req, k, &v) && json_object_is_type(v, json_type_string)
		       ? json_object_get_string(v) : NULL;
}

bool vg_qarg_int(struct json_object *req, const char *k, int64_t *out)
{
	struct json_object *v;

	if (!json_object_object_get_ex(req, k, &v) || !json_object_is_type(v, json_type_int))
		return false;
	*out = json_object_get_int64(v);
	return true;
}

bool vg_qarg_bool(struct json_object *req, const char *k)
{
	struct json_object *v;

	return json_object_object_get_ex(req, k, &v) && json_object_get_boolean(v);
}

bool vg_qmatch_name(const char *pat, const char *path)
{
	const char *base;

	if (!path)
		return false;
	base = strrchr(path, '/');
	base = base ? base + 1 : path;
	return fnmatch(pat, path, 0) == 0 || fnmatch(pat, base, 0) == 0;
}

static int key_cmp(const void *a, const void *b)
{
	return vg_key_cmp(a, b);
}

static void keys_add(const struct vg_proc *p, void *arg)
{
	struct vg_keyset *ks = arg;

	if (ks->n == ks->cap) {
		size_t cap = ks->cap ? ks->cap * 2 : 64;
		struct vg_proc_key *k = realloc(ks->keys, cap * sizeof(*k));

		if (!k)
			return;
		ks->keys = k;
		ks->cap = cap;
	}
	ks->keys[ks->n++] = p->key;
}

struct tree_ctx {
	const struct vg_proctab *t;
	struct vg_keyset *ks;
	size_t visited;
};

/* The process and all its descendants (bounded: a fork bomb can't hang a query). */
static void tree_add(const struct vg_proc *p, void *arg)
{
	struct tree_ctx *c = arg;

	if (++c->visited > 1000000)
		return;
	keys_add(p, c->ks);
	vg_proctab_children(c->t, p, tree_add, c);
}

const struct vg_proc *vg_qarg_proc(struct vg_query_ctx *q, struct json_object *req, int64_t pid,
				   char *err, size_t errlen)
{
	int64_t start = 0;
	const struct vg_proc *p;

	vg_qarg_int(req, "start_ns", &start);
	if (start) {
		struct vg_proc_key k = { .tgid = pid, .start_ns = start };

		p = vg_proctab_get(&q->tab, &k);
	} else {
		p = vg_proctab_by_pid(&q->tab, pid);
	}
	if (!p)
		snprintf(err, errlen, "no process %lld in vigil's table (never seen, or aged out)",
			 (long long)pid);
	return p;
}

int vg_keyset_select(struct vg_query_ctx *q, struct json_object *req, struct vg_keyset *ks,
		     char *err, size_t errlen)
{
	int64_t pid = 0;
	const struct vg_proc *p;
	bool tree = vg_qarg_bool(req, "tree");

	if (!vg_qarg_int(req, "pid", &pid)) {
		if (tree) {
			snprintf(err, errlen, "--tree needs --pid");
			return -EINVAL;
		}
		return 0;
	}
	p = vg_qarg_proc(q, req, pid, err, errlen);
	if (!p)
		return -ENOENT;
	if (tree) {
		struct tree_ctx c = { .t = &q->tab, .ks = ks };

		tree_add(p, &c);
	} else {
		keys_add(p, ks);
	}
	if (!ks->keys) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	qsort(ks->keys, ks->n, sizeof(*ks->keys), key_cmp);
	return 0;
}

bool vg_keyset_has(const struct vg_keyset *ks, const struct vg_proc_key *k)
{
	return !ks->keys || bsearch(k, ks->keys, ks->n, sizeof(*ks->keys), key_cmp);
}

void vg_keyset_free(struct vg_keyset *ks)
{
	free(ks->keys);
	ks->keys = NULL;
	ks->n = ks->cap = 0;
}
