// SPDX-License-Identifier: GPL-2.0
/* A point-in-time copy of a BPF hash map's entries (flows, DNS tables). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include "net/maptab.h"

#define BATCH 4096

int vg_maptab_load(struct vg_maptab *t, int fd, size_t ksz, size_t vsz)
{
	size_t cap = BATCH;
	char *kb, *vb;
	uint64_t in = 0, out = 0;
	bool first = true;

	memset(t, 0, sizeof(*t));
	t->ksz = ksz;
	t->vsz = vsz;
	if (fd < 0)
		return -EBADF;
	t->keys = malloc(cap * ksz);
	t->vals = malloc(cap * vsz);
	if (!t->keys || !t->vals)
		goto nomem;
	for (;;) {
		LIBBPF_OPTS(bpf_map_batch_opts, opts);
		uint32_t count = BATCH;
		int err;

		if (t->n + BATCH > cap) {
			cap *= 2;
			kb = realloc(t->keys, cap * ksz);
			if (kb)
				t->keys = kb;
			vb = realloc(t->vals, cap * vsz);
			if (vb)
				t->vals = vb;
			if (!kb || !vb)
				goto nomem;
		}
		err = bpf_map_lookup_batch(fd, first ? NULL : &in, &out,
					   (char *)t->keys + t->n * ksz, (char *)t->vals + t->n * vsz,
					   &count, &opts);
		first = false;
		if (err && errno != ENOENT) {
			vg_maptab_free(t);
			return -errno;
		}
		t->n += count;
		if (err) /* ENOENT: that was the last batch */
			break;
		in = out;
	}
	return 0;
nomem:
	vg_maptab_free(t);
	return -ENOMEM;
}

void vg_maptab_free(struct vg_maptab *t)
{
	free(t->keys);
	free(t->vals);
	memset(t, 0, sizeof(*t));
}
