/* SPDX-License-Identifier: GPL-2.0 */
/* A point-in-time copy of a BPF hash map's entries (batched lookups). */
#ifndef VG_MAPTAB_H
#define VG_MAPTAB_H

#include <stdbool.h>
#include <stddef.h>

struct vg_maptab {
	void *keys, *vals; /* n entries of ksz / vsz bytes */
	size_t n, ksz, vsz;
};

#define VG_MAPTAB_KEY(t, i) ((void *)((char *)(t)->keys + (i) * (t)->ksz))
#define VG_MAPTAB_VAL(t, i) ((void *)((char *)(t)->vals + (i) * (t)->vsz))

int vg_maptab_load(struct vg_maptab *t, int fd, size_t ksz, size_t vsz);
void vg_maptab_free(struct vg_maptab *t);

#endif
