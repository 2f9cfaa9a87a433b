/* SPDX-License-Identifier: GPL-2.0 */
/* Aligned text tables for the human output of every command. */
#ifndef VG_TABLE_H
#define VG_TABLE_H

#include <stdio.h>

struct vg_table;

struct vg_table *vg_table_new(int ncols, const char *const *headers);
/* Add a row; cells are copied. The last column is never padded. */
void vg_table_row(struct vg_table *t, const char *const *cells);
void vg_table_print(const struct vg_table *t, FILE *out);
void vg_table_free(struct vg_table *t);

#endif
