// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include "api/api.h"
#include "detect/detect.h"

static int addr_of(const char *path, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa->sun_path))
		return -ENAMETOOLONG;
	strcpy(sa->sun_path, path);
	return 0;
}

static int mkdir_parent(const char *path)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = 0;
	if (mkdir(dir, 0700) && errno != EEXIST)
		return -errno;
	return 0;
}

int vg_api_listen(const char *path, char *why, size_t whylen)
{
	struct sockaddr_un sa;
	int fd, err;

	err = addr_of(path, &sa);
	if (!err)
		err = mkdir_parent(path);
	if (err) {
		snprintf(why, whylen, "socket path %s: %s", path, strerror(-err));
		return err;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
		snprintf(why, whylen, "another vigil daemon is serving %s", path);
		close(fd);
		return -EADDRINUSE;
	}
	unlink(path); /* stale, from a daemon that died */
	umask(077);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || chmod(path, 0600) || listen(fd, 64)) {
		err = -errno;
		snprintf(why, whylen, "listening on %s: %s", path, strerror(-err));
		close(fd);
		return err;
	}
	return fd;
}

static int write_all(int fd, const char *s, size_t n)
{
	while (n) {
		ssize_t w = write(fd, s, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -errno;
		s += w;
		n -= w;
	}
	return 0;
}

/* Read until EOF or a newline (requests) — bounded. */
static char *read_msg(int fd, size_t max, bool line)
{
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap);

	while (buf) {
		ssize_t r;

		if (len + 1 >= cap) {
			char *n;

			if (cap >= max)
				break;
			cap *= 2;
			n = realloc(buf, cap);
			if (!n)
				break;
			buf = n;
		}
		r = read(fd, buf + len, cap - len - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			buf[len] = 0;
			return buf;
		}
		len += r;
		buf[len] = 0;
		if (line && memchr(buf + len - r, '\n', r))
			return buf;
	}
	free(buf);
	return NULL;
}

static void reply(int fd, struct json_object *result, const char *err)
{
	struct json_object *o = json_object_new_object();
	struct vg_sbuf b = { 0 };
	const char *s;

	json_object_object_add(o, "ok", json_object_new_boolean(!err));
	if (err)
		json_object_object_add(o, "error", json_object_new_string(err));
	else
		json_object_object_add(o, "result", result);
	s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	/* json-c passes a string's bytes that are not UTF-8 through (a DNS tunnel's binary
	 * labels in query dns): they can only be inside strings, where U+FFFD replaces them */
	vg_sbuf_put_utf8(&b, s, strlen(s));
	write_all(fd, b.p ? b.p : "", b.len);
	vg_sbuf_free(&b);
	json_object_put(o);
}

int vg_api_serve_one(int lfd, vg_api_handler fn, void *ctx)
{
	struct timeval tv = { .tv_sec = 5 };
	struct ucred cred;
	socklen_t clen = sizeof(cred);
	struct json_object *req, *res;
	char err[512] = "";
	char *msg;
	int fd;

	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	/* The socket is 0600 already; the peer check holds even if someone chmods it. */
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) ||
	    (cred.uid != 0 && cred.uid != geteuid())) {
		reply(fd, NULL, "permission denied: the vigil API is for root only");
		goto out;
	}
	msg = read_msg(fd, VG_API_MAX_REQUEST, true);
	req = msg ? json_tokener_parse(msg) : NULL;
	free(msg);
	if (!req || !json_object_is_type(req, json_type_object)) {
		reply(fd, NULL, "malformed request: expected one JSON object");
		json_object_put(req);
		goto out;
	}
	res = fn(ctx, req, err, sizeof(err));
	reply(fd, res, res ? NULL : (err[0] ? err : "request failed"));
	json_object_put(req);
out:
	close(fd);
	return 0;
}

int vg_api_call(const char *path, struct json_object *req, struct json_object **result,
		char *err, size_t errlen)
{
	struct json_object *resp, *ok, *v;
	struct sockaddr_un sa;
	const char *s;
	char *msg;
	int fd, rc = -EPROTO;

	*result = NULL;
	if (addr_of(path, &sa))
		return -ENAMETOOLONG;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		rc = -errno;
		if (rc == -EACCES || rc == -EPERM)
			snprintf(err, errlen, "permission denied on %s: the vigil API is for root "
				 "(try sudo)", path);
		else
			snprintf(err, errlen, "cannot reach the vigil daemon at %s (%s): is `vigil "
				 "run` running?", path, strerror(-rc));
		close(fd);
		return rc;
	}
	s = json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN);
	if (write_all(fd, s, strlen(s)) || write_all(fd, "\n", 1)) {
		rc = -errno;
		snprintf(err, errlen, "sending the request: %s", strerror(-rc));
		close(fd);
		return rc;
	}
	shutdown(fd, SHUT_WR);
	msg = read_msg(fd, 1UL << 31, false);
	close(fd);
	resp = msg ? json_tokener_parse(msg) : NULL;
	free(msg);
	if (!resp || !json_object_object_get_ex(resp, "ok", &ok)) {
		snprintf(err, errlen, "malformed answer from the daemon");
		goto out;
	}
	if (!json_object_get_boolean(ok)) {
		snprintf(err, errlen, "%s", json_object_object_get_ex(resp, "error", &v)
					     ? json_object_get_string(v) : "request failed");
		rc = -EINVAL;
		goto out;
	}
	json_object_object_get_ex(resp, "result", &v);
	*result = json_object_get(v);
	rc = 0;
out:
	json_object_put(resp);
	return rc;
}
