/* SPDX-License-Identifier: GPL-2.0 */
/* Kernel timestamps (CLOCK_BOOTTIME ns) to wall-clock text, and durations. */
#ifndef VG_TIMEFMT_H
#define VG_TIMEFMT_H

#include <stddef.h>
#include <stdint.h>

uint64_t vg_now_boot_ns(void);
uint64_t vg_now_real_ns(void);
/* CLOCK_REALTIME - CLOCK_BOOTTIME, ns: add to a boot timestamp to get wall time. */
uint64_t vg_boot_offset_ns(void);

/* RFC 3339 UTC with nanoseconds: 2026-11-27T01:16:49.123456789Z. Returns buf. */
char *vg_rfc3339(uint64_t real_ns, char *buf, size_t len);
#define VG_RFC3339_LEN 40
/* Same, from a CLOCK_BOOTTIME timestamp. */
char *vg_rfc3339_boot(uint64_t boot_ns, char *buf, size_t len);

/* Parse what vg_rfc3339 writes (UTC, "Z"). -EINVAL on anything else. */
int vg_parse_rfc3339(const char *s, uint64_t *real_ns);

/* "15m", "90s", "2h", "500ms", "1d", bare number = seconds. -EINVAL on junk. */
int vg_parse_duration(const char *s, uint64_t *ns);
/* "1.5 s", "3.0 ms", "12.0 m" — short human form, one decimal. */
char *vg_fmt_duration(uint64_t ns, char *buf, size_t len);

#endif
