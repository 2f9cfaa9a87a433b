// SPDX-License-Identifier: GPL-2.0
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/libbpf.h>
#include "util/log.h"

static bool quiet;

void vg_log_quiet(bool q)
{
	quiet = q;
}

static void vlog(const char *level, const char *fmt, va_list ap)
{
	fprintf(stderr, "vigil: %s", level);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void vg_info(const char *fmt, ...)
{
	va_list ap;

	if (quiet)
		return;
	va_start(ap, fmt);
	vlog("", fmt, ap);
	va_end(ap);
}

void vg_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("warning: ", fmt, ap);
	va_end(ap);
}

void vg_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("error: ", fmt, ap);
	va_end(ap);
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	static int debug = -1;

	if (debug < 0)
		debug = getenv("VIGIL_DEBUG") != NULL;
	if (!debug && (level != LIBBPF_WARN || strstr(fmt, "PROG LOAD LOG")))
		return 0; /* verifier logs are long: VIGIL_DEBUG=1 shows them */
	fputs("vigil: ", stderr); /* libbpf's own messages start with "libbpf: " */
	return vfprintf(stderr, fmt, ap);
}

void vg_log_libbpf(void)
{
	libbpf_set_print(libbpf_print);
}
