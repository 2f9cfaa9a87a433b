/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A point-in-time copy of the kernel's file activity table (vg_files), and
 * the names of the action bits (enum vg_fact) as queries and findings print them.
 */
#ifndef VG_FILETAB_H
#define VG_FILETAB_H

#include <stddef.h>
#include <stdint.h>
#include "state/maps.h"

struct vg_file_rec {
	struct vg_file_key key;
	struct vg_file val;
};

struct vg_filetab {
	struct vg_file_rec *recs;
	size_t n;
};

int vg_filetab_load(struct vg_filetab *t, int fd);
/*
 * Add the hits the kernel's hot path still holds per CPU (vg_file_hot, see
 * abi.h) to their entries in t: counts and last times as of now. hot_fd < 0:
 * nothing to add.
 */
void vg_filetab_add_pending(struct vg_filetab *t, int hot_fd);
void vg_filetab_free(struct vg_filetab *t);

/* "read", "write", ... for bit i of enum vg_fact; NULL for an unused bit. */
const char *vg_fact_name(unsigned bit);
/*
 * "write,create" -> mask. Also "writes" (every bit of VG_FA_WRITES) and "any".
 * -EINVAL naming the bad word in bad (may be NULL).
 */
int vg_fact_parse(const char *list, uint32_t *mask, char *bad, size_t badlen);

#endif
