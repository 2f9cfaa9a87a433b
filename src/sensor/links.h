/* SPDX-License-Identifier: GPL-2.0 */
#ifndef VIGIL_SENSOR_LINKS_H
#define VIGIL_SENSOR_LINKS_H

#include <stddef.h>

struct bpf_link;

/* Destroy n links (NULLs allowed) concurrently; returns when all are gone. */
void vg_links_destroy(struct bpf_link **links, size_t n);

#endif
