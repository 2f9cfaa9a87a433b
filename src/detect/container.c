// SPDX-License-Identifier: GPL-2.0
/*
 * Container identity from a cgroup v2 path. Runtimes name a container's cgroup
 * after its 64-hex id; the innermost match wins (docker-in-docker, pods).
 *   docker       /system.slice/docker-<id>.scope     /docker/<id>
 *   containerd   .../cri-containerd-<id>.scope       /kubepods/<qos>/pod<uid>/<id>
 *   cri-o        .../crio-<id>.scope
 *   podman       .../libpod-<id>.scope               /libpod_parent/libpod-<id>
 * The runtimes' own helpers (crio-conmon-, libpod-conmon-) are not containers.
 */
#include <ctype.h>
#include <string.h>
#include "detect/detect.h"

#define ID_LEN 64

static bool is_hex_id(const char *s, size_t n)
{
	if (n != ID_LEN)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]) || isupper((unsigned char)s[i]))
			return false;
	return true;
}

static const struct {
	const char *prefix, *runtime;
} scoped[] = {
	{ "docker-", "docker" },
	{ "cri-containerd-", "containerd" },
	{ "nerdctl-", "containerd" },
	{ "crio-", "cri-o" },
	{ "libpod-", "podman" },
};

/* One path component [s, s+n): a container id in it? */
static const char *component_id(const char *s, size_t n, const char **id)
{
	for (size_t i = 0; i < sizeof(scoped) / sizeof(scoped[0]); i++) {
		size_t pl = strlen(scoped[i].prefix);
		size_t rest = n - pl;

		if (n <= pl || strncmp(s, scoped[i].prefix, pl))
			continue;
		if (rest > 6 && !strncmp(s + n - 6, ".scope", 6))
			rest -= 6;
		if (is_hex_id(s + pl, rest)) {
			*id = s + pl;
			return scoped[i].runtime;
		}
	}
	if (is_hex_id(s, n)) {
		*id = s;
		return ""; /* bare id: the runtime comes from the enclosing components */
	}
	return NULL;
}

/* "pod<uid>" (cgroupfs) or "kubepods-<qos>-pod<uid_with_underscores>.slice" (systemd). */
static bool pod_uid(const char *s, size_t n, char *out, size_t outlen)
{
	const char *p = NULL;
	size_t len;

	if (n > 3 && !strncmp(s, "pod", 3)) {
		p = s + 3;
		len = n - 3;
	} else {
		for (size_t i = 0; i + 4 < n; i++)
			if (!strncmp(s + i, "-pod", 4)) {
				p = s + i + 4;
				len = n - i - 4;
				break;
			}
		if (!p)
			return false;
		if (len > 6 && !strncmp(p + len - 6, ".slice", 6))
			len -= 6;
	}
	if (len < 32 || len >= outlen)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = p[i] == '_' ? '-' : p[i];

		if (!isxdigit((unsigned char)c) && c != '-')
			return false;
		out[i] = c;
	}
	out[len] = 0;
	return true;
}

bool vg_container_from_cgroup(const char *cg, struct vg_container *c)
{
	const char *comp[128];
	size_t clen[128], n = 0;
	const char *s = cg;
	bool kube = false;

	memset(c, 0, sizeof(*c));
	if (!cg)
		return false;
	while (*s && n < 128) {
		const char *e;

		while (*s == '/')
			s++;
		if (!*s)
			break;
		e = strchrnul(s, '/');
		comp[n] = s;
		clen[n++] = e - s;
		s = e;
	}
	for (size_t i = 0; i < n; i++)
		if (!strncmp(comp[i], "kubepods", 8))
			kube = true;
	for (size_t i = n; i-- > 0;) {
		const char *id = NULL, *rt = component_id(comp[i], clen[i], &id);

		if (!rt)
			continue;
		if (!*rt) {
			if (i > 0 && clen[i - 1] == 6 && !strncmp(comp[i - 1], "docker", 6))
				rt = "docker";
			else if (i > 0 && !strncmp(comp[i - 1], "libpod_parent", 13))
				rt = "podman";
			else if (kube)
				rt = "kubernetes"; /* cgroupfs driver: the CRI runtime isn't named */
			else
				rt = "unknown";
		}
		memcpy(c->id, id, ID_LEN);
		c->id[ID_LEN] = 0;
		snprintf(c->runtime, sizeof(c->runtime), "%s", rt);
		for (size_t j = 0; kube && j < i; j++)
			if (pod_uid(comp[j], clen[j], c->pod_uid, sizeof(c->pod_uid)))
				break;
		return true;
	}
	return false;
}
