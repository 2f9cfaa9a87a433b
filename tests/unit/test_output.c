// SPDX-License-Identifier: GPL-2.0
/* Finding outputs: destination and size syntax, and size-based file rotation. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "output/output.h"

static void expect_size(const char *s, uint64_t want)
{
	uint64_t v = 0;

	if (vg_output_parse_size(s, &v) || v != want)
		fail_msg("size '%s': got %llu want %llu", s, (unsigned long long)v,
			 (unsigned long long)want);
}

static void test_sizes(void **state)
{
	uint64_t v;

	expect_size("4096", 4096);
	expect_size("64K", 65536);
	expect_size("64k", 65536);
	expect_size("100M", 100ULL << 20);
	expect_size("100MiB", 100ULL << 20);
	expect_size("2G", 2ULL << 30);
	expect_size("1MB", 1ULL << 20);
	assert_int_not_equal(vg_output_parse_size("", &v), 0);
	assert_int_not_equal(vg_output_parse_size("-1", &v), 0);
	assert_int_not_equal(vg_output_parse_size("10X", &v), 0);
	assert_int_not_equal(vg_output_parse_size("M", &v), 0);
	assert_int_not_equal(vg_output_parse_size("99999999999999999999", &v), 0);
}

static void test_output_spec(void **state)
{
	struct vg_output o = {};
	enum vg_out_format f;

	assert_int_equal(vg_output_parse(&o, "stdout"), 0);
	assert_null(o.path);
	assert_int_equal(vg_output_parse(&o, "file:/var/log/x.jsonl"), 0);
	assert_string_equal(o.path, "/var/log/x.jsonl");
	assert_int_not_equal(vg_output_parse(&o, "file:"), 0);
	assert_int_not_equal(vg_output_parse(&o, "syslog"), 0);
	assert_int_equal(vg_output_parse_format("text", &f), 0);
	assert_int_equal(f, VG_OUT_TEXT);
	assert_int_not_equal(vg_output_parse_format("xml", &f), 0);
	free(o.path);
}

static size_t lines_in(const char *path)
{
	FILE *f = fopen(path, "r");
	size_t n = 0;
	int c;

	if (!f)
		return 0;
	while ((c = fgetc(f)) != EOF)
		n += c == '\n';
	fclose(f);
	return n;
}

static long size_of(const char *path)
{
	struct stat st;

	return stat(path, &st) ? -1 : st.st_size;
}

static void test_rotation(void **state)
{
	char dir[] = "/tmp/vg-test-rotate-XXXXXX", path[256], rot[300], why[256];
	struct vg_output o = { .max_size = 1000, .keep = 2 };
	char line[100];
	size_t total = 0;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "file:%s/findings.jsonl", dir);
	assert_int_equal(vg_output_parse(&o, path), 0);
	assert_int_equal(vg_output_open(&o, why, sizeof(why)), 0);
	memset(line, 'x', sizeof(line));
	for (int i = 0; i < 50; i++) /* 50 lines of 100 bytes: 10 per file of 1000 */
		assert_int_equal(vg_output_write(&o, line, 99), 0);
	vg_output_flush(&o);
	assert_int_equal(o.lines, 50);
	assert_int_equal(o.rotations, 4);
	/* every file whole lines and within the limit; the oldest beyond keep are gone */
	snprintf(path, sizeof(path), "%s/findings.jsonl", dir);
	assert_int_equal(size_of(path), 1000);
	total += lines_in(path);
	for (unsigned i = 1; i <= 3; i++) {
		vg_output_rotated_name(path, i, rot, sizeof(rot));
		if (i <= 2) {
			assert_int_equal(size_of(rot), 1000);
			total += lines_in(rot);
			unlink(rot);
		} else {
			assert_int_equal(size_of(rot), -1);
		}
	}
	assert_int_equal(total, 30);
	unlink(path);
	vg_output_close(&o);
	rmdir(dir);
}

/* A line bigger than the limit is written alone, never split or dropped. */
static void test_rotation_big_line(void **state)
{
	char dir[] = "/tmp/vg-test-rotate-XXXXXX", spec[256], path[256], rot[300], why[256];
	struct vg_output o = { .max_size = 100, .keep = 1 };
	char big[300];

	assert_non_null(mkdtemp(dir));
	snprintf(spec, sizeof(spec), "file:%s/f", dir);
	snprintf(path, sizeof(path), "%s/f", dir);
	vg_output_rotated_name(path, 1, rot, sizeof(rot));
	assert_int_equal(vg_output_parse(&o, spec), 0);
	assert_int_equal(vg_output_open(&o, why, sizeof(why)), 0);
	memset(big, 'y', sizeof(big));
	assert_int_equal(vg_output_write(&o, "small", 5), 0);
	assert_int_equal(vg_output_write(&o, big, sizeof(big)), 0);
	vg_output_flush(&o);
	assert_int_equal(size_of(rot), 6);
	assert_int_equal(size_of(path), sizeof(big) + 1);
	assert_int_equal(vg_output_write(&o, "next", 4), 0);
	vg_output_flush(&o);
	assert_int_equal(size_of(path), 5);
	assert_int_equal(size_of(rot), sizeof(big) + 1);
	vg_output_close(&o);
	unlink(path);
	unlink(rot);
	rmdir(dir);
}

/* Only regular files rotate: file:/dev/null must never be renamed. */
static void test_no_rotation_of_devices(void **state)
{
	struct vg_output o = { .max_size = 10, .keep = 2 };
	struct stat st;
	char why[256];

	assert_int_equal(vg_output_parse(&o, "file:/dev/null"), 0);
	assert_int_equal(vg_output_open(&o, why, sizeof(why)), 0);
	for (int i = 0; i < 10; i++)
		assert_int_equal(vg_output_write(&o, "0123456789abcdef", 16), 0);
	vg_output_flush(&o);
	assert_int_equal(o.rotations, 0);
	assert_int_equal(o.lines, 10);
	assert_int_equal(stat("/dev/null", &st), 0);
	assert_true(S_ISCHR(st.st_mode));
	assert_int_equal(size_of("/dev/null.1"), -1);
	vg_output_close(&o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_output_spec),
		cmocka_unit_test(test_rotation),
		cmocka_unit_test(test_rotation_big_line),
		cmocka_unit_test(test_no_rotation_of_devices),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
