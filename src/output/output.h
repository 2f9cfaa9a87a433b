/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Where findings go: stdout (default) or a file with size-based rotation.
 * One finding is one line. Lines are buffered and written with write(2) in
 * whole lines only, so a reader of the file or pipe never sees half a
 * finding at a flush boundary (a line longer than the buffer goes alone).
 */
#ifndef VG_OUTPUT_H
#define VG_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum vg_out_format { VG_OUT_JSON, VG_OUT_TEXT };

#define VG_OUT_MAX_SIZE_DEFAULT (100ULL << 20) /* rotate at 100 MiB */
#define VG_OUT_KEEP_DEFAULT 5                  /* PATH.1 .. PATH.5 */

struct vg_output {
	enum vg_out_format format;
	char *path;        /* NULL: stdout */
	uint64_t max_size; /* file: rotate before a line would pass this; 0: never */
	unsigned keep;     /* file: rotated files kept (PATH.1 newest) */
	int fd;            /* -1: closed */
	char *buf;         /* whole lines waiting for write(2) */
	size_t buffered, cap;
	uint64_t size;     /* bytes in the current file, buffered ones included */
	bool rotatable;    /* a regular file (not /dev/null, a FIFO...) */
	/* counters (read by the status thread: updated with relaxed atomics) */
	uint64_t lines, bytes, rotations, errors;
	int last_errno;
};

/* "stdout" or "file:PATH"; -EINVAL on anything else. */
int vg_output_parse(struct vg_output *o, const char *spec);
const char *vg_output_format_name(enum vg_out_format f);
/* "json" | "text"; -EINVAL otherwise. */
int vg_output_parse_format(const char *s, enum vg_out_format *f);

/* "100M", "64k", "1G", "4096" (bytes; K/M/G are powers of 1024). -EINVAL on junk. */
int vg_output_parse_size(const char *s, uint64_t *bytes);

/* Open (create, append) the destination; -errno with why set. Zero the struct
 * (and set format, max_size, keep, path through vg_output_parse) before. */
int vg_output_open(struct vg_output *o, char *why, size_t whylen);
/* Write one line (no newline in `line`; one is added). -errno (counted) on failure. */
int vg_output_write(struct vg_output *o, const char *line, size_t len);
void vg_output_flush(struct vg_output *o);
void vg_output_close(struct vg_output *o);

/* Rotated file name i (1 = newest) of path, into buf. */
void vg_output_rotated_name(const char *path, unsigned i, char *buf, size_t len);

#endif
