// SPDX-License-Identifier: GPL-2.0
#include <stdlib.h>
#include <string.h>
#include "cli/table.h"

struct vg_table {
	int ncols;
	size_t nrows, cap;
	char **cells; /* (nrows + 1) * ncols, row 0 = headers */
};

static void add(struct vg_table *t, const char *const *cells)
{
	if (t->nrows + 1 >= t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		char **n = realloc(t->cells, cap * t->ncols * sizeof(char *));

		if (!n)
			return;
		t->cells = n;
		t->cap = cap;
	}
	for (int c = 0; c < t->ncols; c++) {
		char *v = strdup(cells[c] ? cells[c] : "-");

		/* control bytes shown as '?': a name or argv from the wire or a process (a DNS
		 * label may hold ESC) must not drive the reader's terminal */
		for (char *p = v; p && *p; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				*p = '?';
		t->cells[t->nrows * t->ncols + c] = v;
	}
	t->nrows++;
}

struct vg_table *vg_table_new(int ncols, const char *const *headers)
{
	struct vg_table *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->ncols = ncols;
	add(t, headers);
	return t;
}

void vg_table_row(struct vg_table *t, const char *const *cells)
{
	add(t, cells);
}

/* Display width: count UTF-8 lead bytes, not continuation bytes. */
static size_t width(const char *s)
{
	size_t w = 0;

	for (; *s; s++)
		w += ((unsigned char)*s & 0xc0) != 0x80;
	return w;
}

void vg_table_print(const struct vg_table *t, FILE *out)
{
	size_t *w = calloc(t->ncols, sizeof(size_t));

	if (!w)
		return;
	for (size_t r = 0; r < t->nrows; r++)
		for (int c = 0; c < t->ncols; c++) {
			size_t n = width(t->cells[r * t->ncols + c]);

			if (n > w[c])
				w[c] = n;
		}
	for (size_t r = 0; r < t->nrows; r++) {
		for (int c = 0; c < t->ncols; c++) {
			const char *s = t->cells[r * t->ncols + c];

			if (c == t->ncols - 1)
				fprintf(out, "%s\n", s);
			else
				fprintf(out, "%s%*s  ", s, (int)(w[c] - width(s)), "");
		}
	}
	free(w);
}

void vg_table_free(struct vg_table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t);
}
