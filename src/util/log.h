/* SPDX-License-Identifier: GPL-2.0 */
/* Diagnostics go to stderr, so stdout stays a clean stream of findings. */
#ifndef VG_LOG_H
#define VG_LOG_H

#include <stdbool.h>

void vg_log_quiet(bool quiet); /* suppress info lines */
void vg_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void vg_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void vg_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* libbpf's messages, routed through vigil's log (verbose only with VIGIL_DEBUG=1). */
void vg_log_libbpf(void);

#endif
