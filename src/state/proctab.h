/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A point-in-time copy of the kernel's process table, indexed for the
 * questions queries ask: by key, by pid, parent, children.
 */
#ifndef VG_PROCTAB_H
#define VG_PROCTAB_H

#include <stddef.h>
#include <stdint.h>
#include "state/maps.h"

struct vg_proctab {
	struct vg_proc *recs;
	size_t n;
	size_t *by_key;   /* open-addressing index into recs, cap entries, SIZE_MAX empty */
	size_t cap;
	size_t *by_parent; /* recs indices sorted by parent key (children lookups) */
};

int vg_proctab_load(struct vg_proctab *t, const struct vg_maps *m);
/* Same, from records in memory (copied): tests, and tables not read from a map. */
int vg_proctab_from(struct vg_proctab *t, const struct vg_proc *recs, size_t n);
void vg_proctab_free(struct vg_proctab *t);

const struct vg_proc *vg_proctab_get(const struct vg_proctab *t, const struct vg_proc_key *k);
/* The newest process with this pid (alive or not), or NULL. */
const struct vg_proc *vg_proctab_by_pid(const struct vg_proctab *t, uint32_t pid);
/*
 * The parent record: exact key, else — for records made from /proc, whose
 * start times have tick resolution — the same pid started within a tick.
 */
const struct vg_proc *vg_proctab_parent(const struct vg_proctab *t, const struct vg_proc *p);
/* Children of p, oldest first, calling fn (may be NULL) for each; returns how many. */
size_t vg_proctab_children(const struct vg_proctab *t, const struct vg_proc *p,
			   void (*fn)(const struct vg_proc *c, void *arg), void *arg);

static inline int vg_key_cmp(const struct vg_proc_key *a, const struct vg_proc_key *b)
{
	if (a->tgid != b->tgid)
		return a->tgid < b->tgid ? -1 : 1;
	if (a->start_ns != b->start_ns)
		return a->start_ns < b->start_ns ? -1 : 1;
	return 0;
}

#endif
