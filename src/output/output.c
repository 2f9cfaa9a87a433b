// SPDX-License-Identifier: GPL-2.0
/*
 * Finding sinks. A file rotates by size: PATH -> PATH.1 -> ... -> PATH.keep,
 * the oldest dropped, before a line would push PATH past max_size, so a file
 * always holds whole lines and never grows past the limit (unless a single
 * line is bigger than the limit: then it is written alone). Only regular files
 * rotate: a device or a FIFO (file:/dev/null, a named pipe) is written as is.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "output/output.h"
#include "util/log.h"

#define BUMP(x, n) __atomic_fetch_add(&(x), (n), __ATOMIC_RELAXED)

int vg_output_parse(struct vg_output *o, const char *spec)
{
	if (!strcmp(spec, "stdout") || !strcmp(spec, "-")) {
		free(o->path);
		o->path = NULL;
		return 0;
	}
	if (!strncmp(spec, "file:", 5) && spec[5]) {
		char *p = strdup(spec + 5);

		if (!p)
			return -ENOMEM;
		free(o->path);
		o->path = p;
		return 0;
	}
	return -EINVAL;
}

const char *vg_output_format_name(enum vg_out_format f)
{
	return f == VG_OUT_TEXT ? "text" : "json";
}

int vg_output_parse_format(const char *s, enum vg_out_format *f)
{
	if (!strcmp(s, "json"))
		*f = VG_OUT_JSON;
	else if (!strcmp(s, "text"))
		*f = VG_OUT_TEXT;
	else
		return -EINVAL;
	return 0;
}

int vg_output_parse_size(const char *s, uint64_t *bytes)
{
	unsigned long long v;
	char *end;
	int shift = 0;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -EINVAL;
	switch (*end) {
	case 0: break;
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	default: return -EINVAL;
	}
	if (*end == 'i' && shift)
		end++;
	if ((*end == 'B' || *end == 'b') && end[1] == 0)
		end++;
	if (*end || v > (~0ULL >> shift))
		return -EINVAL;
	*bytes = (uint64_t)v << shift;
	return 0;
}

void vg_output_rotated_name(const char *path, unsigned i, char *buf, size_t len)
{
	snprintf(buf, len, "%s.%u", path, i);
}

#define OUT_BUF (64 << 10)

static int open_file(struct vg_output *o)
{
	struct stat st;
	/* Findings name files and command lines: readable by root only. */
	int fd = open(o->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		int err = -errno;

		close(fd);
		return err;
	}
	o->fd = fd;
	o->size = st.st_size;
	o->rotatable = S_ISREG(st.st_mode);
	return 0;
}

int vg_output_open(struct vg_output *o, char *why, size_t whylen)
{
	int err;

	o->fd = -1;
	o->buffered = 0;
	o->cap = OUT_BUF;
	o->buf = malloc(o->cap);
	if (!o->buf) {
		snprintf(why, whylen, "findings output: %s", strerror(ENOMEM));
		return -ENOMEM;
	}
	if (!o->path) {
		o->fd = STDOUT_FILENO;
		return 0;
	}
	err = open_file(o);
	if (err)
		snprintf(why, whylen, "--output file:%s: %s", o->path, strerror(-err));
	return err;
}

/* write(2) all of it (EINTR, short writes). */
static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += w;
		n -= w;
	}
	return 0;
}

static void failed(struct vg_output *o, int err)
{
	if (o->last_errno != -err)
		vg_warn("writing findings to %s: %s", o->path ? o->path : "stdout", strerror(-err));
	o->last_errno = -err;
	BUMP(o->errors, 1);
}

static int drain(struct vg_output *o)
{
	int err;

	if (!o->buffered)
		return 0;
	err = o->fd < 0 ? -EBADF : write_all(o->fd, o->buf, o->buffered);
	o->buffered = 0; /* on error the lines are lost (counted), not retried forever */
	if (err)
		failed(o, err);
	return err;
}

static int rotate(struct vg_output *o)
{
	char from[4096], to[4096];

	drain(o);
	close(o->fd);
	o->fd = -1;
	if (o->keep == 0) {
		unlink(o->path);
	} else {
		for (unsigned i = o->keep; i > 1; i--) {
			vg_output_rotated_name(o->path, i - 1, from, sizeof(from));
			vg_output_rotated_name(o->path, i, to, sizeof(to));
			if (rename(from, to) && errno != ENOENT)
				vg_warn("rotating %s: %s", from, strerror(errno));
		}
		vg_output_rotated_name(o->path, 1, to, sizeof(to));
		if (rename(o->path, to) && errno != ENOENT)
			vg_warn("rotating %s: %s", o->path, strerror(errno));
	}
	BUMP(o->rotations, 1);
	return open_file(o);
}

int vg_output_write(struct vg_output *o, const char *line, size_t len)
{
	int err;

	if (o->fd < 0 && o->path) {
		/* A failed rotation or open: try again, a line at a time. */
		err = open_file(o);
		if (err) {
			failed(o, err);
			return err;
		}
	}
	if (o->path && o->rotatable && o->max_size && o->size &&
	    o->size + len + 1 > o->max_size) {
		err = rotate(o);
		if (err) {
			failed(o, err);
			return err;
		}
	}
	if (o->buffered + len + 1 > o->cap && (err = drain(o)))
		return err;
	if (len + 1 > o->cap) {
		/* Longer than the buffer: on its own, the newline with it. */
		err = write_all(o->fd, line, len);
		if (!err)
			err = write_all(o->fd, "\n", 1);
		if (err) {
			failed(o, err);
			return err;
		}
	} else {
		memcpy(o->buf + o->buffered, line, len);
		o->buf[o->buffered + len] = '\n';
		o->buffered += len + 1;
	}
	o->size += len + 1;
	BUMP(o->lines, 1);
	BUMP(o->bytes, len + 1);
	return 0;
}

void vg_output_flush(struct vg_output *o)
{
	drain(o);
}

void vg_output_close(struct vg_output *o)
{
	drain(o);
	if (o->fd >= 0 && o->fd != STDOUT_FILENO)
		close(o->fd);
	o->fd = -1;
	free(o->buf);
	o->buf = NULL;
	free(o->path);
	o->path = NULL;
}
