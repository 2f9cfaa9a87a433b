// SPDX-License-Identifier: GPL-2.0
/*
 * vg_parse_proc_ref: the PID or PID@START_NS that `vigil query ancestry|tree`
 * takes, START_NS being what every JSON record prints as its "id".
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <cmocka.h>

#include "query/query.h"

#define fail_at(file, line, ...)                                                                   \
	do {                                                                                       \
		print_error(__VA_ARGS__);                                                          \
		_fail(file, line);                                                                 \
	} while (0)

#define expect_ref(s, pid, start) expect_ref_at(s, pid, start, __FILE__, __LINE__)
static void expect_ref_at(const char *s, uint32_t want_pid, uint64_t want_start, const char *file,
			  int line)
{
	uint32_t pid = 0xdead;
	uint64_t start = 0xbeef;
	int err = vg_parse_proc_ref(s, &pid, &start);

	if (err || pid != want_pid || start != want_start)
		fail_at(file, line, "vg_parse_proc_ref(\"%s\"): got %d, pid %u, start %llu; "
			"want 0, pid %u, start %llu\n", s, err, pid, (unsigned long long)start,
			want_pid, (unsigned long long)want_start);
}

#define expect_bad(s) expect_bad_at(s, __FILE__, __LINE__)
static void expect_bad_at(const char *s, const char *file, int line)
{
	uint32_t pid = 0xdead;
	uint64_t start = 0xbeef;
	int err = vg_parse_proc_ref(s, &pid, &start);

	if (err != -EINVAL)
		fail_at(file, line, "vg_parse_proc_ref(\"%s\"): got %d (pid %u, start %llu), "
			"want -EINVAL\n", s, err, pid, (unsigned long long)start);
}

static void test_pid_alone(void **state)
{
	expect_ref("1234", 1234, 0);
	expect_ref("1", 1, 0);
	expect_ref("2147483647", 2147483647, 0); /* largest pid_t */
}

static void test_pid_at_start(void **state)
{
	expect_ref("1234@5678", 1234, 5678);
	expect_ref("1@0", 1, 0);
	expect_ref("12@0755", 12, 755); /* decimal, leading zero or not */
	expect_ref("4194304@18446744073709551615", 4194304, UINT64_MAX);
}

/* What a query prints as "id" is what the CLI takes back. */
static void test_round_trip_with_proc_id(void **state)
{
	static const struct vg_proc_key keys[] = {
		{ .tgid = 1, .start_ns = 1 },
		{ .tgid = 31337, .start_ns = 1795742209123456789ULL },
		{ .tgid = 4194304, .start_ns = UINT64_MAX },
	};
	char id[48];

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		vg_proc_id(&keys[i], id, sizeof(id));
		expect_ref(id, keys[i].tgid, keys[i].start_ns);
	}
}

static void test_rejects_bad_pids(void **state)
{
	expect_bad("");
	expect_bad("0");
	expect_bad("-1");
	expect_bad("12x");
	expect_bad("x12");
	expect_bad("99999999999");
	expect_bad("2147483648"); /* > pid_t */
	expect_bad("@5");
	expect_bad("0x10");
	expect_bad("12 ");
}

static void test_rejects_bad_starts(void **state)
{
	expect_bad("12@");
	expect_bad("12@x");
	expect_bad("12@5x");
	expect_bad("12@5@6");
	expect_bad("12@@5");
	expect_bad("12@0x10");
	expect_bad("0@5");
}

/* A minus sign is never part of a pid: strtoul would wrap "-N" around to 2^64 - N. */
static void test_rejects_negative_pid_that_wraps(void **state)
{
	expect_bad("-18446744073709551615"); /* strtoul: 1 */
	expect_bad("-18446744073709551614"); /* strtoul: 2 */
}

/* Nor of a start time; and a start that overflows 64 bits is not UINT64_MAX. */
static void test_rejects_negative_or_overflowing_start(void **state)
{
	expect_bad("12@-1");
	expect_bad("12@18446744073709551616");
	expect_bad("12@99999999999999999999999");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pid_alone),
		cmocka_unit_test(test_pid_at_start),
		cmocka_unit_test(test_round_trip_with_proc_id),
		cmocka_unit_test(test_rejects_bad_pids),
		cmocka_unit_test(test_rejects_bad_starts),
		cmocka_unit_test(test_rejects_negative_pid_that_wraps),
		cmocka_unit_test(test_rejects_negative_or_overflowing_start),
	};

	return cmocka_run_group_tests_name("query_parse", tests, NULL, NULL);
}
