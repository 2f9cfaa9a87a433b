/* SPDX-License-Identifier: GPL-2.0 */
/* Between the parts of src/netpolicy: the compiled maps of one generation. */
#ifndef VG_NETPOLICY_INTERNAL_H
#define VG_NETPOLICY_INTERNAL_H

#include "netpolicy/netpolicy.h"

struct vg_np_kmaps {
	int lpm, dom, ent;          /* inner map fds (-1: none) */
	size_t nprefixes, nnames;   /* distinct prefixes / names in the kernel */
	size_t truncated;           /* prefixes or names with more than VG_NP_CAND entries (cut) */
	size_t mem_lpm, mem_dom, mem_ent; /* kernel memory, bytes (fdinfo memlock) */
};

/* Build the maps for p (sorts p's tables). 0, or -errno with why set. */
int vg_np_compile(struct vg_np_policy *p, struct vg_np_kmaps *k, char *why, size_t whylen);
void vg_np_kmaps_close(struct vg_np_kmaps *k);

#endif
