/* SPDX-License-Identifier: GPL-2.0 */
/* Interned strings (paths, argv) by id: read them, and intern from user space. */
#ifndef VG_STRINGS_H
#define VG_STRINGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "state/maps.h"

/* The id the kernel would give these bytes (len includes the final NUL). */
uint64_t vg_str_id(const void *data, uint32_t len);

/*
 * Copy string `id` into buf (NUL-terminated, data may hold inner NULs as argv
 * does). Returns its length incl. the final NUL, or -ENOENT. *trunc tells if
 * the kernel cut it.
 */
int vg_str_read(const struct vg_maps *m, uint64_t id, char *buf, size_t len, bool *trunc);

/* Store a string as the kernel would; returns its id or 0 (counted) on failure. */
uint64_t vg_str_intern(const struct vg_maps *m, const void *data, uint32_t len, bool trunc);

/* A per-query cache so a thousand records sharing an exe cost one map lookup. */
struct vg_strcache;
struct vg_strcache *vg_strcache_new(const struct vg_maps *m);
void vg_strcache_free(struct vg_strcache *c);
/* NULL if unknown; *len incl. final NUL; valid until vg_strcache_free. */
const char *vg_strcache_get(struct vg_strcache *c, uint64_t id, uint32_t *len, bool *trunc);

#endif
