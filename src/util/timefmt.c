// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "util/timefmt.h"

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

uint64_t vg_now_boot_ns(void)
{
	return clock_ns(CLOCK_BOOTTIME);
}

uint64_t vg_now_real_ns(void)
{
	return clock_ns(CLOCK_REALTIME);
}

uint64_t vg_boot_offset_ns(void)
{
	/* Bracket the realtime read to bound the error to one clock read. */
	uint64_t b1 = vg_now_boot_ns();
	uint64_t r = vg_now_real_ns();
	uint64_t b2 = vg_now_boot_ns();

	return r - (b1 + (b2 - b1) / 2);
}

char *vg_rfc3339(uint64_t real_ns, char *buf, size_t len)
{
	time_t sec = real_ns / 1000000000ULL;
	struct tm tm;
	char base[32];

	gmtime_r(&sec, &tm);
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%s.%09lluZ", base, (unsigned long long)(real_ns % 1000000000ULL));
	return buf;
}

char *vg_rfc3339_boot(uint64_t boot_ns, char *buf, size_t len)
{
	return vg_rfc3339(boot_ns + vg_boot_offset_ns(), buf, len);
}

int vg_parse_duration(const char *s, uint64_t *ns)
{
	static const struct {
		const char *unit;
		uint64_t mult;
	} units[] = {
		{ "ns", 1ULL },	      { "us", 1000ULL },	   { "ms", 1000000ULL },
		{ "s", 1000000000ULL }, { "m", 60000000000ULL },	   { "h", 3600000000000ULL },
		{ "d", 86400000000000ULL }, { "", 1000000000ULL },
	};
	char *end;
	double v;

	if (!s || !*s)
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || v < 0)
		return -EINVAL;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(end, units[i].unit) == 0) {
			*ns = (uint64_t)(v * (double)units[i].mult);
			return 0;
		}
	}
	return -EINVAL;
}

char *vg_fmt_duration(uint64_t ns, char *buf, size_t len)
{
	if (ns < 1000000ULL)
		snprintf(buf, len, "%.1f us", ns / 1e3);
	else if (ns < 1000000000ULL)
		snprintf(buf, len, "%.1f ms", ns / 1e6);
	else if (ns < 120000000000ULL)
		snprintf(buf, len, "%.1f s", ns / 1e9);
	else if (ns < 7200000000000ULL)
		snprintf(buf, len, "%.1f m", ns / 6e10);
	else
		snprintf(buf, len, "%.1f h", ns / 3.6e12);
	return buf;
}

int vg_parse_rfc3339(const char *s, uint64_t *real_ns)
{
	struct tm tm = {};
	unsigned long long frac = 0;
	const char *p;
	int digits = 0;

	if (!s)
		return -EINVAL;
	p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!p)
		return -EINVAL;
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++, digits++)
			if (digits < 9)
				frac = frac * 10 + (*p - '0');
	for (; digits < 9; digits++)
		frac *= 10;
	if (*p != 'Z')
		return -EINVAL;
	*real_ns = (uint64_t)timegm(&tm) * 1000000000ULL + frac;
	return 0;
}
