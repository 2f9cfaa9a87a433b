// SPDX-License-Identifier: GPL-2.0
/*
 * src/util/timefmt: durations as the CLI takes them (--retention 15m) and
 * prints them, and RFC 3339 timestamps as queries print and parse them.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <time.h>
#include <cmocka.h>

#include "util/timefmt.h"

#define NS 1ULL
#define US (1000 * NS)
#define MS (1000 * US)
#define SEC (1000 * MS)
#define MIN (60 * SEC)
#define HOUR (60 * MIN)
#define DAY (24 * HOUR)

/* 2026-11-27T01:16:49Z (checked with `date -u -d @1795742209`). */
#define T_2026 (1795742209ULL * SEC)

/* Helpers report the caller's line, and both values. */
#define fail_at(file, line, ...)                                                                   \
	do {                                                                                       \
		print_error(__VA_ARGS__);                                                          \
		_fail(file, line);                                                                 \
	} while (0)

#define expect_duration(s, want) expect_duration_at(s, want, __FILE__, __LINE__)
static void expect_duration_at(const char *s, uint64_t want, const char *file, int line)
{
	uint64_t got = 0xdeadbeef;
	int err = vg_parse_duration(s, &got);

	if (err || got != want)
		fail_at(file, line, "vg_parse_duration(\"%s\"): got %d, %llu ns; want 0, %llu ns\n",
			s, err, (unsigned long long)got, (unsigned long long)want);
}

#define expect_duration_rejected(s) expect_duration_rejected_at(s, __FILE__, __LINE__)
static void expect_duration_rejected_at(const char *s, const char *file, int line)
{
	uint64_t got = 0xdeadbeef;
	int err = vg_parse_duration(s, &got);

	if (err != -EINVAL)
		fail_at(file, line, "vg_parse_duration(\"%s\"): got %d (%llu ns), want -EINVAL\n",
			s, err, (unsigned long long)got);
	if (got != 0xdeadbeef)
		fail_at(file, line, "vg_parse_duration(\"%s\") failed but wrote %llu to *ns\n", s,
			(unsigned long long)got);
}

static void test_duration_every_unit(void **state)
{
	expect_duration("15m", 15 * MIN);
	expect_duration("90s", 90 * SEC);
	expect_duration("500ms", 500 * MS);
	expect_duration("250us", 250 * US);
	expect_duration("42ns", 42 * NS);
	expect_duration("2h", 2 * HOUR);
	expect_duration("2d", 2 * DAY);
	expect_duration("0s", 0);
}

static void test_duration_bare_number_is_seconds(void **state)
{
	expect_duration("30", 30 * SEC);
	expect_duration("0", 0);
	expect_duration("86400", DAY);
}

static void test_duration_fractions(void **state)
{
	expect_duration("1.5h", 90 * MIN);
	expect_duration("0.5s", 500 * MS);
	expect_duration("2.5", 2500 * MS);
	expect_duration("0.25d", 6 * HOUR);
	expect_duration("2.3ms", 2300 * US);
}

/* Decimal fractions must not lose a nanosecond to binary floating point. */
static void test_duration_fractions_exact(void **state)
{
	expect_duration("1.001s", 1001 * MS);
	expect_duration("0.007s", 7 * MS);
	expect_duration("1.1ms", 1100 * US);
}

static void test_duration_rejects_junk(void **state)
{
	expect_duration_rejected("");
	expect_duration_rejected("m");
	expect_duration_rejected("abc");
	expect_duration_rejected("5x");
	expect_duration_rejected("5 s");
	expect_duration_rejected("5s ");
	expect_duration_rejected("5S");
	expect_duration_rejected("5sec");
	expect_duration_rejected("5m30s");
	expect_duration_rejected("1..5s");
	assert_int_equal(vg_parse_duration(NULL, &(uint64_t){ 0 }), -EINVAL);
}

static void test_duration_rejects_negative(void **state)
{
	expect_duration_rejected("-1");
	expect_duration_rejected("-5m");
	expect_duration_rejected("-0.5s");
}

/* Not numbers, or too big for 64-bit ns (584 years): an error, not garbage or 0. */
static void test_duration_rejects_inf_nan_overflow(void **state)
{
	expect_duration_rejected("inf");
	expect_duration_rejected("nan");
	expect_duration_rejected("1e30d");
	expect_duration_rejected("20000000000d");
	expect_duration_rejected("18446744073709551615");
}

#define expect_fmt(ns, want)                                                                       \
	do {                                                                                       \
		char buf_[32];                                                                     \
		assert_string_equal(vg_fmt_duration(ns, buf_, sizeof(buf_)), want);                \
	} while (0)

static void test_fmt_duration_picks_unit(void **state)
{
	expect_fmt(0, "0.0 us");
	expect_fmt(1500 * NS, "1.5 us");
	expect_fmt(3 * MS, "3.0 ms");
	expect_fmt(1500 * MS, "1.5 s");
	expect_fmt(90 * SEC, "90.0 s");
	expect_fmt(2 * MIN, "2.0 m");
	expect_fmt(12 * MIN, "12.0 m");
	expect_fmt(90 * MIN, "90.0 m");
	expect_fmt(2 * HOUR, "2.0 h");
	expect_fmt(30 * HOUR, "30.0 h");
}

/* Just below a unit boundary, rounding must not print "1000.0" of the smaller unit. */
static void test_fmt_duration_rounding_at_unit_boundary(void **state)
{
	expect_fmt(999999 * NS, "1.0 ms");
	expect_fmt(999999999 * NS, "1.0 s");
}

static void test_fmt_duration_truncates_to_buffer(void **state)
{
	char buf[4];

	memset(buf, 'x', sizeof(buf));
	assert_ptr_equal(vg_fmt_duration(90 * SEC, buf, sizeof(buf)), buf);
	assert_string_equal(buf, "90.");
}

static void test_rfc3339_known_instants(void **state)
{
	char buf[VG_RFC3339_LEN];

	assert_string_equal(vg_rfc3339(0, buf, sizeof(buf)), "1970-01-01T00:00:00.000000000Z");
	assert_string_equal(vg_rfc3339(T_2026 + 123456789, buf, sizeof(buf)),
			    "2026-11-27T01:16:49.123456789Z");
	assert_string_equal(vg_rfc3339(T_2026 + 1, buf, sizeof(buf)),
			    "2026-11-27T01:16:49.000000001Z");
	assert_string_equal(vg_rfc3339(951782400ULL * SEC, buf, sizeof(buf)),
			    "2000-02-29T00:00:00.000000000Z");
	/* The largest instant fits VG_RFC3339_LEN. */
	assert_string_equal(vg_rfc3339(UINT64_MAX, buf, sizeof(buf)),
			    "2554-07-21T23:34:33.709551615Z");
}

#define expect_parse(s, want) expect_parse_at(s, want, __FILE__, __LINE__)
static void expect_parse_at(const char *s, uint64_t want, const char *file, int line)
{
	uint64_t got = 7;
	int err = vg_parse_rfc3339(s, &got);

	if (err || got != want)
		fail_at(file, line, "vg_parse_rfc3339(\"%s\"): got %d, %llu; want 0, %llu\n", s, err,
			(unsigned long long)got, (unsigned long long)want);
}

#define expect_parse_rejected(s) expect_parse_rejected_at(s, __FILE__, __LINE__)
static void expect_parse_rejected_at(const char *s, const char *file, int line)
{
	uint64_t got = 7;
	int err = vg_parse_rfc3339(s, &got);

	if (err != -EINVAL)
		fail_at(file, line, "vg_parse_rfc3339(\"%s\"): got %d (%llu), want -EINVAL\n", s,
			err, (unsigned long long)got);
}

static void test_parse_rfc3339_fraction_digits(void **state)
{
	expect_parse("2026-11-27T01:16:49.123456789Z", T_2026 + 123456789);
	expect_parse("2026-11-27T01:16:49Z", T_2026);
	expect_parse("2026-11-27T01:16:49.5Z", T_2026 + 500 * MS);
	expect_parse("2026-11-27T01:16:49.000001Z", T_2026 + 1 * US);
	expect_parse("1970-01-01T00:00:00.000000000Z", 0);
}

static void test_rfc3339_round_trip(void **state)
{
	uint64_t x = 0x9e3779b97f4a7c15ULL;
	char buf[VG_RFC3339_LEN];

	for (int i = 0; i < 10000; i++) {
		uint64_t ns, back = 0;

		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		ns = i < 3 ? (uint64_t[]){ 0, 1, UINT64_MAX }[i] : x;
		vg_rfc3339(ns, buf, sizeof(buf));
		if (vg_parse_rfc3339(buf, &back) || back != ns)
			fail_msg("%llu -> \"%s\" -> %llu", (unsigned long long)ns, buf,
				 (unsigned long long)back);
	}
}

static void test_parse_rfc3339_rejects_other_zones_and_junk(void **state)
{
	expect_parse_rejected("2026-11-27T01:16:49.123456789");
	expect_parse_rejected("2026-11-27T01:16:49.123456789+00:00");
	expect_parse_rejected("2026-11-27T02:16:49+01:00");
	expect_parse_rejected("2026-11-27T01:16:49.123456789z");
	expect_parse_rejected("2026-11-27 01:16:49Z");
	expect_parse_rejected("2026-11-27T25:16:49Z");
	expect_parse_rejected("2026-11-27");
	expect_parse_rejected("1795742209");
	expect_parse_rejected("junk");
	expect_parse_rejected("");
	assert_int_equal(vg_parse_rfc3339(NULL, &(uint64_t){ 0 }), -EINVAL);
}

static void test_parse_rfc3339_rejects_trailing_junk(void **state)
{
	expect_parse_rejected("2026-11-27T01:16:49.123456789Zjunk");
	expect_parse_rejected("2026-11-27T01:16:49ZZ");
}

/* Before 1970 has no uint64 ns: must not wrap around to the year 2554. */
static void test_parse_rfc3339_rejects_before_epoch(void **state)
{
	expect_parse_rejected("1969-12-31T23:59:59Z");
}

static void test_parse_rfc3339_rejects_impossible_dates(void **state)
{
	expect_parse_rejected("2026-02-31T00:00:00Z");
	expect_parse_rejected("2026-13-01T00:00:00Z");
}

/* A boot timestamp of "now" prints as the wall-clock "now". */
static void test_rfc3339_boot_is_wall_clock(void **state)
{
	char buf[VG_RFC3339_LEN];
	uint64_t before = vg_now_real_ns();
	uint64_t boot = vg_now_boot_ns();
	uint64_t after, got = 0;

	vg_rfc3339_boot(boot, buf, sizeof(buf));
	after = vg_now_real_ns();
	assert_int_equal(vg_parse_rfc3339(buf, &got), 0);
	/* One clock read of slack either way; a wrong offset is off by the uptime. */
	if (got + MS < before || got > after + MS)
		fail_msg("boot %llu printed as %s = %llu, not within [%llu, %llu]",
			 (unsigned long long)boot, buf, (unsigned long long)got,
			 (unsigned long long)before, (unsigned long long)after);
	/* And one second later on the boot clock is one second later on the wall. */
	vg_rfc3339_boot(boot + SEC, buf, sizeof(buf));
	assert_int_equal(vg_parse_rfc3339(buf, &after), 0);
	assert_in_range(after - got, SEC - MS, SEC + MS);
}

int main(void)
{
	/* UTC means UTC: a local-time slip shows up as a 5:30 shift. No tzdata needed. */
	setenv("TZ", "VGT-05:30", 1);
	tzset();

	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_duration_every_unit),
		cmocka_unit_test(test_duration_bare_number_is_seconds),
		cmocka_unit_test(test_duration_fractions),
		cmocka_unit_test(test_duration_fractions_exact),
		cmocka_unit_test(test_duration_rejects_junk),
		cmocka_unit_test(test_duration_rejects_negative),
		cmocka_unit_test(test_duration_rejects_inf_nan_overflow),
		cmocka_unit_test(test_fmt_duration_picks_unit),
		cmocka_unit_test(test_fmt_duration_rounding_at_unit_boundary),
		cmocka_unit_test(test_fmt_duration_truncates_to_buffer),
		cmocka_unit_test(test_rfc3339_known_instants),
		cmocka_unit_test(test_parse_rfc3339_fraction_digits),
		cmocka_unit_test(test_rfc3339_round_trip),
		cmocka_unit_test(test_parse_rfc3339_rejects_other_zones_and_junk),
		cmocka_unit_test(test_parse_rfc3339_rejects_trailing_junk),
		cmocka_unit_test(test_parse_rfc3339_rejects_before_epoch),
		cmocka_unit_test(test_parse_rfc3339_rejects_impossible_dates),
		cmocka_unit_test(test_rfc3339_boot_is_wall_clock),
	};

	return cmocka_run_group_tests_name("timefmt", tests, NULL, NULL);
}
