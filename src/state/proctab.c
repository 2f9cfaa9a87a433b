// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include "state/proctab.h"

#define TICK_SLACK_NS 20000000ULL /* /proc start times: 10 ms ticks, plus rounding */
#define BATCH 1024

static size_t key_hash(const struct vg_proc_key *k)
{
	uint64_t h = k->start_ns * 0x9e3779b97f4a7c15ULL ^ k->tgid;

	return h ^ (h >> 31);
}

static int append(struct vg_proctab *t, size_t *cap, const struct vg_proc *v, size_t n)
{
	if (t->n + n > *cap) {
		size_t ncap = *cap ? *cap * 2 : 4096;
		struct vg_proc *r;

		while (ncap < t->n + n)
			ncap *= 2;
		r = realloc(t->recs, ncap * sizeof(*r));
		if (!r)
			return -ENOMEM;
		t->recs = r;
		*cap = ncap;
	}
	memcpy(t->recs + t->n, v, n * sizeof(*v));
	t->n += n;
	return 0;
}

/* Batched read; falls back to key-by-key walking where batch ops are missing. */
static int read_all(struct vg_proctab *t, int fd)
{
	struct vg_proc_key *keys = malloc(BATCH * sizeof(*keys));
	struct vg_proc *vals = malloc(BATCH * sizeof(*vals));
	struct vg_proc_key k, next;
	size_t cap = 0;
	uint64_t token = 0;
	bool first = true;
	int err = 0;

	if (!keys || !vals) {
		err = -ENOMEM;
		goto out;
	}
	for (;;) {
		uint32_t count = BATCH;

		err = bpf_map_lookup_batch(fd, first ? NULL : &token, &token, keys, vals, &count,
					   NULL);
		first = false;
		if (count && append(t, &cap, vals, count)) {
			err = -ENOMEM;
			goto out;
		}
		if (err) {
			if (err == -ENOENT) { /* libbpf returns -errno; ENOENT: no more */
				err = 0;
				goto out;
			}
			if (err == -EINVAL || err == -ENOTSUP || err == -EOPNOTSUPP || err == -ENOSPC)
				break; /* no batch support, or a huge bucket: walk key by key */
			goto out;
		}
	}
	t->n = 0;
	err = 0;
	if (bpf_map_get_next_key(fd, NULL, &next))
		goto out;
	do {
		k = next;
		if (bpf_map_lookup_elem(fd, &k, vals) == 0 && append(t, &cap, vals, 1)) {
			err = -ENOMEM;
			goto out;
		}
	} while (bpf_map_get_next_key(fd, &k, &next) == 0);
out:
	free(keys);
	free(vals);
	return err;
}

static int cmp_parent(const void *a, const void *b, void *arg)
{
	const struct vg_proctab *t = arg;
	const struct vg_proc *pa = &t->recs[*(const size_t *)a];
	const struct vg_proc *pb = &t->recs[*(const size_t *)b];

	return vg_key_cmp(&pa->parent, &pb->parent);
}

static int index_build(struct vg_proctab *t)
{
	t->cap = 16;
	while (t->cap < t->n * 2)
		t->cap *= 2;
	t->by_key = malloc(t->cap * sizeof(size_t));
	t->by_parent = malloc((t->n ? t->n : 1) * sizeof(size_t));
	if (!t->by_key || !t->by_parent)
		return -ENOMEM;
	memset(t->by_key, 0xff, t->cap * sizeof(size_t));
	for (size_t i = 0; i < t->n; i++) {
		size_t j = key_hash(&t->recs[i].key) & (t->cap - 1);

		while (t->by_key[j] != SIZE_MAX)
			j = (j + 1) & (t->cap - 1);
		t->by_key[j] = i;
		t->by_parent[i] = i;
	}
	qsort_r(t->by_parent, t->n, sizeof(size_t), cmp_parent, t);
	return 0;
}

int vg_proctab_load(struct vg_proctab *t, const struct vg_maps *m)
{
	int err;

	memset(t, 0, sizeof(*t));
	err = read_all(t, m->procs);
	if (!err)
		err = index_build(t);
	if (err)
		vg_proctab_free(t);
	return err;
}

int vg_proctab_from(struct vg_proctab *t, const struct vg_proc *recs, size_t n)
{
	size_t cap = 0;
	int err;

	memset(t, 0, sizeof(*t));
	err = n ? append(t, &cap, recs, n) : 0;
	if (!err)
		err = index_build(t);
	if (err)
		vg_proctab_free(t);
	return err;
}

void vg_proctab_free(struct vg_proctab *t)
{
	free(t->recs);
	free(t->by_key);
	free(t->by_parent);
	memset(t, 0, sizeof(*t));
}

const struct vg_proc *vg_proctab_get(const struct vg_proctab *t, const struct vg_proc_key *k)
{
	size_t j;

	if (!t->cap)
		return NULL;
	for (j = key_hash(k) & (t->cap - 1); t->by_key[j] != SIZE_MAX; j = (j + 1) & (t->cap - 1)) {
		const struct vg_proc *p = &t->recs[t->by_key[j]];

		if (p->key.tgid == k->tgid && p->key.start_ns == k->start_ns)
			return p;
	}
	return NULL;
}

const struct vg_proc *vg_proctab_by_pid(const struct vg_proctab *t, uint32_t pid)
{
	const struct vg_proc *best = NULL;

	for (size_t i = 0; i < t->n; i++)
		if (t->recs[i].key.tgid == pid &&
		    (!best || t->recs[i].key.start_ns > best->key.start_ns))
			best = &t->recs[i];
	return best;
}

static bool within(uint64_t a, uint64_t b, uint64_t slack)
{
	return a + slack >= b && a <= b + slack;
}

const struct vg_proc *vg_proctab_parent(const struct vg_proctab *t, const struct vg_proc *p)
{
	const struct vg_proc *q;

	if (!p->parent.tgid)
		return NULL;
	q = vg_proctab_get(t, &p->parent);
	if (q)
		return q != p ? q : NULL;
	for (size_t i = 0; i < t->n; i++) {
		q = &t->recs[i];
		if (q == p || q->key.tgid != p->parent.tgid)
			continue;
		if (!((q->flags | p->flags) & VG_PF_APPROX_START))
			continue;
		if (within(q->key.start_ns, p->parent.start_ns, TICK_SLACK_NS))
			return q;
	}
	return NULL;
}

static int cmp_start_ptr(const void *a, const void *b)
{
	const struct vg_proc *pa = *(const struct vg_proc *const *)a;
	const struct vg_proc *pb = *(const struct vg_proc *const *)b;

	if (pa->key.start_ns != pb->key.start_ns)
		return pa->key.start_ns < pb->key.start_ns ? -1 : 1;
	return pa->key.tgid < pb->key.tgid ? -1 : pa->key.tgid > pb->key.tgid;
}

/*
 * Children are the records whose parent key is p's — or, when a start time
 * came from /proc (tick resolution), whose parent resolves to p within a tick,
 * exactly as vg_proctab_parent() decides. Reported oldest first.
 */
size_t vg_proctab_children(const struct vg_proctab *t, const struct vg_proc *p,
			   void (*fn)(const struct vg_proc *c, void *arg), void *arg)
{
	struct vg_proc_key lo_key = {
		.tgid = p->key.tgid,
		.start_ns = p->key.start_ns > TICK_SLACK_NS ? p->key.start_ns - TICK_SLACK_NS : 0,
	};
	const struct vg_proc *stack[64], **kids = stack;
	size_t lo = 0, hi = t->n, n = 0, cap = 64;

	while (lo < hi) { /* first index whose parent key >= lo_key */
		size_t mid = (lo + hi) / 2;

		if (vg_key_cmp(&t->recs[t->by_parent[mid]].parent, &lo_key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < t->n; lo++) {
		const struct vg_proc *c = &t->recs[t->by_parent[lo]];

		if (c->parent.tgid != p->key.tgid ||
		    c->parent.start_ns > p->key.start_ns + TICK_SLACK_NS)
			break;
		if (c == p)
			continue;
		if (c->parent.start_ns != p->key.start_ns && vg_proctab_parent(t, c) != p)
			continue;
		if (n == cap) {
			const struct vg_proc **more = malloc(2 * cap * sizeof(*more));

			if (!more)
				break;
			memcpy(more, kids, n * sizeof(*more));
			if (kids != stack)
				free(kids);
			kids = more;
			cap *= 2;
		}
		kids[n++] = c;
	}
	qsort(kids, n, sizeof(*kids), cmp_start_ptr);
	for (size_t i = 0; fn && i < n; i++)
		fn(kids[i], arg);
	if (kids != stack)
		free(kids);
	return n;
}
