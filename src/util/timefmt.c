// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <math.h>
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

	/* digits first: no sign, no space, no hex, no inf/nan */
	if (!s || !((*s >= '0' && *s <= '9') || (*s == '.' && s[1] >= '0' && s[1] <= '9')))
		return -EINVAL;
	if (strpbrk(s, "xXpP"))
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || !isfinite(v) || v < 0)
		return -EINVAL;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(end, units[i].unit) == 0) {
			double n = v * (double)units[i].mult + 0.5; /* round, don't truncate */

			if (n >= 18446744073709549568.0) /* largest double below 2^64 */
				return -EINVAL;
			*ns = (uint64_t)n;
			return 0;
		}
	}
	return -EINVAL;
}

char *vg_fmt_duration(uint64_t ns, char *buf, size_t len)
{
	/* Thresholds sit where one decimal would round up to the next unit's 1000. */
	if (ns < 999950ULL)
		snprintf(buf, len, "%.1f us", ns / 1e3);
	else if (ns < 999950000ULL)
		snprintf(buf, len, "%.1f ms", ns / 1e6);
	else if (ns < 119950000000ULL)
		snprintf(buf, len, "%.1f s", ns / 1e9);
	else if (ns < 7197000000000ULL)
		snprintf(buf, len, "%.1f m", ns / 6e10);
	else
		snprintf(buf, len, "%.1f h", ns / 3.6e12);
	return buf;
}

int vg_parse_rfc3339(const char *s, uint64_t *real_ns)
{
	struct tm tm = {}, back;
	unsigned long long frac = 0;
	const char *p;
	int digits = 0;
	time_t t;

	/* exactly YYYY-MM-DDTHH:MM:SS, zero padded */
	if (!s || strlen(s) < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' ||
	    s[16] != ':')
		return -EINVAL;
	for (int i = 0; i < 19; i++)
		if (i != 4 && i != 7 && i != 10 && i != 13 && i != 16 && (s[i] < '0' || s[i] > '9'))
			return -EINVAL;
	p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!p)
		return -EINVAL;
	if (*p == '.') {
		for (p++; *p >= '0' && *p <= '9'; p++, digits++)
			if (digits < 9)
				frac = frac * 10 + (*p - '0');
		if (!digits)
			return -EINVAL;
	}
	for (; digits < 9; digits++)
		frac *= 10;
	if (p[0] != 'Z' || p[1])
		return -EINVAL;
	back = tm;
	t = timegm(&tm);
	/* timegm normalises Feb 31 to Mar 3: an impossible date comes back different */
	if (t < 0 || tm.tm_mday != back.tm_mday || tm.tm_mon != back.tm_mon)
		return -EINVAL;
	*real_ns = (uint64_t)t * 1000000000ULL + frac;
	return 0;
}
