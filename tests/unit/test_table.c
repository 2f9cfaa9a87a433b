// SPDX-License-Identifier: GPL-2.0
/*
 * src/cli/table: the aligned text every command prints. Columns are as wide as
 * their widest cell, two spaces apart, the last column unpadded; a NULL cell
 * prints as "-"; width counts characters, not UTF-8 bytes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cli/table.h"

/* The text vg_table_print writes, malloc'd. */
static char *render(const struct vg_table *t)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);

	assert_non_null(out);
	vg_table_print(t, out);
	fclose(out);
	return text;
}

#define assert_renders(t, want)                                                                    \
	do {                                                                                       \
		char *got_ = render(t);                                                            \
		assert_string_equal(got_, want);                                                   \
		free(got_);                                                                        \
	} while (0)

static void test_columns_pad_to_widest_cell(void **state)
{
	static const char *const h[] = { "PID", "COMM", "EXE" };
	struct vg_table *t = vg_table_new(3, h);

	assert_non_null(t);
	vg_table_row(t, (const char *const[]){ "1", "systemd", "/usr/lib/systemd/systemd" });
	vg_table_row(t, (const char *const[]){ "12345", "sshd", "/usr/sbin/sshd" });
	assert_renders(t,
		       "PID    COMM     EXE\n"
		       "1      systemd  /usr/lib/systemd/systemd\n"
		       "12345  sshd     /usr/sbin/sshd\n");
	vg_table_free(t);
}

/* A header wider than every cell sets the width too. */
static void test_header_can_be_widest(void **state)
{
	static const char *const h[] = { "CGROUP ID", "N" };
	struct vg_table *t = vg_table_new(2, h);

	vg_table_row(t, (const char *const[]){ "7", "1" });
	assert_renders(t,
		       "CGROUP ID  N\n"
		       "7          1\n");
	vg_table_free(t);
}

/* No trailing blanks: the last column is never padded, however short. */
static void test_last_column_unpadded(void **state)
{
	static const char *const h[] = { "A", "LAST" };
	struct vg_table *t = vg_table_new(2, h);
	char *text, *line;

	vg_table_row(t, (const char *const[]){ "x", "a-much-longer-last-cell" });
	vg_table_row(t, (const char *const[]){ "y", "z" });
	text = render(t);
	assert_string_equal(text,
			    "A  LAST\n"
			    "x  a-much-longer-last-cell\n"
			    "y  z\n");
	for (line = strtok(text, "\n"); line; line = strtok(NULL, "\n"))
		assert_int_not_equal(line[strlen(line) - 1], ' ');
	free(text);
	vg_table_free(t);
}

static void test_single_column_is_never_padded(void **state)
{
	static const char *const h[] = { "NAME" };
	struct vg_table *t = vg_table_new(1, h);

	vg_table_row(t, (const char *const[]){ "a" });
	vg_table_row(t, (const char *const[]){ "longer-name" });
	assert_renders(t, "NAME\na\nlonger-name\n");
	vg_table_free(t);
}

static void test_null_cell_prints_dash(void **state)
{
	static const char *const h[] = { "PID", "EXIT", "EXE" };
	struct vg_table *t = vg_table_new(3, h);

	vg_table_row(t, (const char *const[]){ "42", NULL, NULL });
	vg_table_row(t, (const char *const[]){ NULL, "0", "/bin/true" });
	assert_renders(t,
		       "PID  EXIT  EXE\n"
		       "42   -     -\n"
		       "-    0     /bin/true\n");
	vg_table_free(t);
}

/* "é" is two bytes and "→" three, but each takes one column on a terminal. */
static void test_utf8_counts_characters_not_bytes(void **state)
{
	static const char *const h[] = { "USER", "NOTE", "X" };
	struct vg_table *t = vg_table_new(3, h);

	vg_table_row(t, (const char *const[]){ "rené", "a→b", "1" });
	vg_table_row(t, (const char *const[]){ "bob", "müller→x", "2" });
	assert_renders(t,
		       "USER  NOTE      X\n"
		       "rené  a→b       1\n"
		       "bob   müller→x  2\n");
	vg_table_free(t);
}

/* Cells are copied: the caller's buffer can be reused for the next row. */
static void test_cells_are_copied(void **state)
{
	static const char *const h[] = { "PID", "COMM" };
	struct vg_table *t = vg_table_new(2, h);
	char pid[16], comm[16];

	for (int i = 1; i <= 3; i++) {
		snprintf(pid, sizeof(pid), "%d", i * 100);
		snprintf(comm, sizeof(comm), "worker/%d", i);
		vg_table_row(t, (const char *const[]){ pid, comm });
	}
	memset(pid, 'X', sizeof(pid) - 1);
	assert_renders(t,
		       "PID  COMM\n"
		       "100  worker/1\n"
		       "200  worker/2\n"
		       "300  worker/3\n");
	vg_table_free(t);
}

static void test_header_only(void **state)
{
	static const char *const h[] = { "MAP", "ENTRIES" };
	struct vg_table *t = vg_table_new(2, h);

	assert_renders(t, "MAP  ENTRIES\n");
	vg_table_free(t);
}

/* Past the first allocation (64 rows): every row kept, widths from all of them. */
static void test_many_rows(void **state)
{
	static const char *const h[] = { "N", "SQUARE" };
	struct vg_table *t = vg_table_new(2, h);
	char n[16], sq[16], *text, *want, *p;
	size_t wlen = 0;
	FILE *w = open_memstream(&want, &wlen);

	fprintf(w, "N    SQUARE\n");
	for (int i = 0; i < 1000; i++) {
		snprintf(n, sizeof(n), "%d", i);
		snprintf(sq, sizeof(sq), "%d", i * i);
		vg_table_row(t, (const char *const[]){ n, sq });
		fprintf(w, "%-3d  %d\n", i, i * i);
	}
	fclose(w);
	text = render(t);
	/* Compare line by line so a failure shows the first wrong row, not 12 KB. */
	p = text;
	for (char *q = want, *nl; (nl = strchr(q, '\n')); q = nl + 1) {
		size_t len = nl - q + 1;

		if (strncmp(p, q, len))
			fail_msg("row mismatch: got \"%.*s\", want \"%.*s\"", (int)strcspn(p, "\n"),
				 p, (int)len - 1, q);
		p += len;
	}
	assert_string_equal(p, "");
	free(text);
	free(want);
	vg_table_free(t);
}

static void test_free_null(void **state)
{
	vg_table_free(NULL); /* like free(): callers can free on every path */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_columns_pad_to_widest_cell),
		cmocka_unit_test(test_header_can_be_widest),
		cmocka_unit_test(test_last_column_unpadded),
		cmocka_unit_test(test_single_column_is_never_padded),
		cmocka_unit_test(test_null_cell_prints_dash),
		cmocka_unit_test(test_utf8_counts_characters_not_bytes),
		cmocka_unit_test(test_cells_are_copied),
		cmocka_unit_test(test_header_only),
		cmocka_unit_test(test_many_rows),
		cmocka_unit_test(test_free_null),
	};

	return cmocka_run_group_tests_name("table", tests, NULL, NULL);
}
