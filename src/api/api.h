/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The local API: a root-only Unix socket. One request per connection: the
 * client writes a JSON object and a newline; the daemon answers
 * {"ok": true, "result": ...} or {"ok": false, "error": "..."} and closes.
 */
#ifndef VG_API_H
#define VG_API_H

#include <stddef.h>
#include <json-c/json.h>

#define VG_API_MAX_REQUEST (64 * 1024)

typedef struct json_object *(*vg_api_handler)(void *ctx, struct json_object *req, char *err,
					       size_t errlen);

/* Bind the socket (directory 0700, socket 0600). Refuses if a daemon answers there. */
int vg_api_listen(const char *path, char *why, size_t whylen);
/* Accept and answer one client; returns 0, or -errno for accept failures. */
int vg_api_serve_one(int lfd, vg_api_handler fn, void *ctx);

/* Send req, wait for the answer. On success *result is owned by the caller. */
int vg_api_call(const char *path, struct json_object *req, struct json_object **result,
		char *err, size_t errlen);

#endif
