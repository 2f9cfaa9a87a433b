// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include "state/strings.h"
#include "util/timefmt.h"

static const uint32_t class_size[3] = { VG_STR_CLASS_S, VG_STR_CLASS_M, VG_STR_CLASS_L };

uint64_t vg_str_id(const void *data, uint32_t len)
{
	const unsigned char *p = data;
	uint64_t h = VG_HASH_INIT(len);
	int cls;

	for (uint32_t off = 0; off < len; off += 8) {
		uint64_t w = 0;
		uint32_t n = len - off < 8 ? len - off : 8;

		memcpy(&w, p + off, n); /* little endian, as in BPF */
		VG_HASH_STEP(h, w);
	}
	h = VG_HASH_FINAL(h);
	cls = len <= VG_STR_CLASS_S ? 0 : len <= VG_STR_CLASS_M ? 1 : 2;
	return VG_STR_ID(h, cls);
}

int vg_str_read(const struct vg_maps *m, uint64_t id, char *buf, size_t len, bool *trunc)
{
	struct vg_str_4096 v;
	unsigned cls = VG_STR_CLASS_OF(id);
	uint32_t n;

	if (!id || cls > 2 || !len)
		return -ENOENT;
	if (bpf_map_lookup_elem(m->strs[cls], &id, &v))
		return -ENOENT;
	n = v.h.len;
	if (n > class_size[cls])
		n = class_size[cls];
	if (n > len)
		n = len;
	memcpy(buf, v.data, n);
	buf[n ? n - 1 : 0] = 0;
	if (trunc)
		*trunc = v.h.flags & VG_STRF_TRUNC;
	return n;
}

uint64_t vg_str_intern(const struct vg_maps *m, const void *data, uint32_t len, bool trunc)
{
	struct vg_str_4096 v = {};
	uint64_t id;
	int err;

	if (!len || len > VG_STR_MAX)
		return 0;
	id = vg_str_id(data, len);
	memcpy(v.data, data, len);
	v.h.len = len;
	v.h.flags = trunc ? VG_STRF_TRUNC : 0;
	v.h.last_used_ns = vg_now_boot_ns();
	err = bpf_map_update_elem(m->strs[VG_STR_CLASS_OF(id)], &id, &v, BPF_NOEXIST);
	if (err && errno != EEXIST) {
		vg_ustat_add(m, VG_ST_STR_INSERT_FAIL, 1);
		return 0;
	}
	return id;
}

/* Open addressing, power-of-two size, grows at 50 % load. */
struct vg_strcache {
	const struct vg_maps *m;
	size_t cap, n;
	struct ent {
		uint64_t id;
		char *s; /* NULL: known missing */
		uint32_t len;
		bool trunc;
	} *t;
};

struct vg_strcache *vg_strcache_new(const struct vg_maps *m)
{
	struct vg_strcache *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->m = m;
	c->cap = 256;
	c->t = calloc(c->cap, sizeof(*c->t));
	if (!c->t) {
		free(c);
		return NULL;
	}
	return c;
}

void vg_strcache_free(struct vg_strcache *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->cap; i++)
		free(c->t[i].s);
	free(c->t);
	free(c);
}

static struct ent *slot(struct ent *t, size_t cap, uint64_t id)
{
	size_t i = (id ^ (id >> 29)) & (cap - 1);

	while (t[i].id && t[i].id != id)
		i = (i + 1) & (cap - 1);
	return &t[i];
}

static int grow(struct vg_strcache *c)
{
	size_t cap = c->cap * 2;
	struct ent *t = calloc(cap, sizeof(*t));

	if (!t)
		return -ENOMEM;
	for (size_t i = 0; i < c->cap; i++)
		if (c->t[i].id)
			*slot(t, cap, c->t[i].id) = c->t[i];
	free(c->t);
	c->t = t;
	c->cap = cap;
	return 0;
}

const char *vg_strcache_get(struct vg_strcache *c, uint64_t id, uint32_t *len, bool *trunc)
{
	char buf[VG_STR_MAX];
	struct ent *e;
	int n;

	if (!id)
		return NULL;
	e = slot(c->t, c->cap, id);
	if (!e->id) {
		if (c->n * 2 >= c->cap && grow(c) == 0)
			e = slot(c->t, c->cap, id);
		e->id = id;
		c->n++;
		n = vg_str_read(c->m, id, buf, sizeof(buf), &e->trunc);
		if (n > 0) {
			e->s = malloc(n);
			if (e->s) {
				memcpy(e->s, buf, n);
				e->len = n;
			}
		}
	}
	if (len)
		*len = e->len;
	if (trunc)
		*trunc = e->trunc;
	return e->s;
}
