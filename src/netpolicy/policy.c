// SPDX-License-Identifier: GPL-2.0
/*
 * Policy files: YAML (read with the rule files' line-aware helpers, so every
 * problem is file:line:column: field: message) and blocklists (one domain or
 * CIDR a line) -> struct vg_np_policy: kernel entries with their rank, the
 * prefixes and names that lead to them. Format and precedence:
 * docs/network-policy.md; keep the two in step.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "netpolicy/netpolicy.h"
#include "rules/yaml.h"
#include "state/strings.h"
#include "util/timefmt.h"

/* ---------------- names and addresses ---------------- */

bool vg_np_domain_norm(const char *in, char *out, size_t outlen, bool *wild, const char **why)
{
	size_t n = 0, label = 0;
	const char *s = in;

	*wild = false;
	if (!strncmp(s, "*.", 2)) {
		*wild = true;
		s += 2;
	}
	for (; *s; s++) {
		char c = tolower((unsigned char)*s);

		if (c == '.') {
			if (!label) {
				*why = "empty label";
				return false;
			}
			if (!s[1])
				break; /* a final dot: absolute form */
			label = 0;
		} else if (isalnum((unsigned char)c) || c == '-' || c == '_') {
			if (++label > 63) {
				*why = "label longer than 63 bytes";
				return false;
			}
		} else {
			*why = c == '*' ? "'*' only as the first label (\"*.example.com\")"
					: "invalid character (letters, digits, '-', '_' and '.')";
			return false;
		}
		if (n + 2 > outlen || n >= 253) {
			*why = "longer than 253 bytes";
			return false;
		}
		out[n++] = c;
	}
	out[n] = 0;
	if (!n || !label) {
		*why = n ? "empty label" : "empty name";
		return false;
	}
	return true;
}

uint64_t vg_np_domain_hash(const char *name, unsigned *labels)
{
	const char *end = name + strlen(name);
	uint64_t h = VG_DOM_INIT;
	unsigned n = 0;

	/* fold from the rightmost label */
	while (end > name) {
		const char *start = end;
		uint8_t buf[64] = { 0 };

		while (start > name && start[-1] != '.')
			start--;
		memcpy(buf, start, end - start > 63 ? 63 : end - start);
		h = vg_dom_fold(h, vg_dom_label_hash(buf, end - start));
		n++;
		end = start > name ? start - 1 : name;
	}
	if (labels)
		*labels = n;
	return h;
}

bool vg_np_cidr_parse(const char *s, uint8_t addr[16], uint8_t *len, const char **why)
{
	char buf[64];
	const char *slash = strchr(s, '/');
	size_t alen = slash ? (size_t)(slash - s) : strlen(s);
	unsigned long bits;
	char *e;

	if (alen >= sizeof(buf)) {
		*why = "not an address";
		return false;
	}
	memcpy(buf, s, alen);
	buf[alen] = 0;
	memset(addr, 0, 16);
	if (inet_pton(AF_INET, buf, addr + 12) == 1) {
		addr[10] = addr[11] = 0xff;
		bits = 32;
		if (slash) {
			errno = 0;
			bits = strtoul(slash + 1, &e, 10);
			if (!slash[1] || *e || errno || bits > 32) {
				*why = "IPv4 prefix length must be 0-32";
				return false;
			}
		}
		*len = 96 + bits;
	} else if (inet_pton(AF_INET6, buf, addr) == 1) {
		bits = 128;
		if (slash) {
			errno = 0;
			bits = strtoul(slash + 1, &e, 10);
			if (!slash[1] || *e || errno || bits > 128) {
				*why = "IPv6 prefix length must be 0-128";
				return false;
			}
		}
		*len = bits;
	} else {
		*why = "not an IPv4 or IPv6 address";
		return false;
	}
	/* host bits must be zero: 10.1.2.3/8 is most likely a typo */
	for (unsigned i = *len; i < 128; i++)
		if (addr[i / 8] & (0x80 >> (i % 8))) {
			*why = "host bits set after the prefix length";
			return false;
		}
	return true;
}

void vg_np_addr_str(const uint8_t a[16], char *out, size_t len)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	if (!memcmp(a, mapped, 12))
		inet_ntop(AF_INET, a + 12, out, len);
	else
		inet_ntop(AF_INET6, a, out, len);
}

static void prefix_str(const uint8_t a[16], uint8_t plen, char *out, size_t len)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	char ip[INET6_ADDRSTRLEN];
	bool v4 = !memcmp(a, mapped, 12) && plen >= 96;

	vg_np_addr_str(a, ip, sizeof(ip));
	snprintf(out, len, "%s/%u", ip, v4 ? plen - 96 : plen);
}

/* ---------------- building the policy ---------------- */

static void *grow(void *v, size_t *cap, size_t n, size_t size)
{
	void *p;
	size_t c;

	if (n < *cap)
		return v;
	c = *cap ? *cap * 2 : 64;
	p = realloc(v, c * size);
	if (!p)
		return NULL;
	*cap = c;
	return p;
}

static uint32_t ent_add(struct vg_np_policy *p, const struct vg_np_ent *e)
{
	struct vg_np_ent *v = grow(p->ents, &p->capents, p->nents, sizeof(*v));

	if (!v)
		return 0;
	p->ents = v;
	p->ents[p->nents++] = *e;
	return p->nents; /* id = index + 1 */
}

static int pfx_add(struct vg_np_policy *p, const uint8_t addr[16], uint8_t len, uint32_t ent)
{
	struct vg_np_prefix *v = grow(p->pfx, &p->cappfx, p->npfx, sizeof(*v));

	if (!v)
		return -ENOMEM;
	p->pfx = v;
	memcpy(v[p->npfx].addr, addr, 16);
	v[p->npfx].len = len;
	v[p->npfx++].ent = ent;
	return 0;
}

static int dom_add(struct vg_np_policy *p, uint64_t hash, uint32_t ent)
{
	struct vg_np_dom *v = grow(p->doms, &p->capdoms, p->ndoms, sizeof(*v));

	if (!v)
		return -ENOMEM;
	p->doms = v;
	v[p->ndoms].hash = hash;
	v[p->ndoms++].ent = ent;
	return 0;
}

static void dom_name_add(struct vg_np_policy *p, const char *name, uint64_t hash)
{
	char **n = realloc(p->dom_names, (p->ndom_names + 1) * sizeof(*n));
	uint64_t *h = realloc(p->dom_name_hash, (p->ndom_names + 1) * sizeof(*h));

	if (n)
		p->dom_names = n;
	if (h)
		p->dom_name_hash = h;
	if (!n || !h)
		return;
	n[p->ndom_names] = strdup(name);
	h[p->ndom_names++] = hash;
}

void vg_np_policy_free(struct vg_np_policy *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->nents; i++) {
		if (p->ents[i].shared)
			continue;
		free(p->ents[i].source);
		free(p->ents[i].what);
		free(p->ents[i].exe_path);
		free(p->ents[i].cgroup_path);
	}
	for (size_t i = 0; i < p->npolrefs; i++) {
		struct vg_np_polref *r = &p->polrefs[i];

		free(r->policy);
		free(r->rule_id);
		free(r->message);
		free(r->how);
		free(r->source);
	}
	free(p->polrefs);
	for (size_t i = 0; i < p->ndom_names; i++)
		free(p->dom_names[i]);
	free(p->dom_names);
	free(p->dom_name_hash);
	free(p->ents);
	free(p->pfx);
	free(p->doms);
	free(p->files);
	free(p);
}

/* ---------------- YAML ---------------- */

struct scope {
	uint64_t exe;
	char *exe_path, *cgroup_path;
	uint64_t cgroup_id;
	uint16_t cg_level;
	uint32_t uid;
	uint8_t proto;
};

/* Where cgroup v2 is mounted (hybrid systems: /sys/fs/cgroup/unified). */
static const char *cgroup2_root(void)
{
	static char root[PATH_MAX];
	char line[1024];
	FILE *f;

	if (root[0])
		return root;
	f = fopen("/proc/self/mountinfo", "r");
	if (!f)
		return NULL;
	while (fgets(line, sizeof(line), f)) {
		char *sep = strstr(line, " - ");
		char mnt[PATH_MAX];

		if (!sep || strncmp(sep + 3, "cgroup2 ", 8))
			continue;
		if (sscanf(line, "%*s %*s %*s %*s %4095s", mnt) == 1) {
			snprintf(root, sizeof(root), "%s", mnt);
			break;
		}
	}
	fclose(f);
	return root[0] ? root : NULL;
}

static int parse_scope(struct y_ctx *c, yaml_node_t *n, const char *field, struct scope *s)
{
	static const char *const protos[] = { "any", "tcp", "udp", NULL };
	char f[Y_FIELD_MAX];
	yaml_node_t *v;
	int bad = 0;

	memset(s, 0, sizeof(*s));
	s->uid = (uint32_t)-1;
	if ((v = y_get(c, n, "proto"))) {
		int i;

		y_field(f, field, "proto");
		if (y_get_enum(c, v, f, "protocol", protos, &i))
			bad = 1;
		else
			s->proto = i == 1 ? 6 : i == 2 ? 17 : 0;
	}
	if ((v = y_get(c, n, "uid"))) {
		uint64_t u;

		y_field(f, field, "uid");
		if (y_get_uint(c, v, f, 0xfffffffeULL, &u))
			bad = 1;
		else
			s->uid = u;
	}
	if ((v = y_get(c, n, "exe"))) {
		y_field(f, field, "exe");
		if (y_get_str(c, v, f, &s->exe_path)) {
			bad = 1;
		} else if (s->exe_path[0] != '/') {
			y_err(c, v, f, "\"%s\" is not an absolute path", s->exe_path);
			bad = 1;
		} else {
			s->exe = vg_str_id(s->exe_path, strlen(s->exe_path) + 1);
		}
	}
	if ((v = y_get(c, n, "cgroup"))) {
		const char *root = cgroup2_root();
		char path[PATH_MAX];
		struct stat st;

		y_field(f, field, "cgroup");
		if (y_get_str(c, v, f, &s->cgroup_path)) {
			bad = 1;
		} else if (s->cgroup_path[0] != '/') {
			y_err(c, v, f, "\"%s\": a cgroup v2 path starts with '/' (as in "
			      "/proc/PID/cgroup)", s->cgroup_path);
			bad = 1;
		} else if (!root) {
			y_err(c, v, f, "cgroup v2 is not mounted: cgroup scopes can't be resolved");
			bad = 1;
		} else {
			snprintf(path, sizeof(path), "%s%s", root, s->cgroup_path);
			if (stat(path, &st)) {
				y_err(c, v, f, "cgroup %s not found (%s)", s->cgroup_path,
				      strerror(errno));
				bad = 1;
			} else {
				s->cgroup_id = st.st_ino;
				for (const char *p = s->cgroup_path; *p; p++)
					if (*p == '/' && p[1])
						s->cg_level++;
			}
		}
	}
	return bad ? -EINVAL : 0;
}

struct port_range {
	uint16_t lo, hi;
};

static bool parse_port(const char *s, struct port_range *r)
{
	uint64_t a, b;
	const char *dash = strchr(s, '-');
	char buf[16];

	if (!dash) {
		if (y_parse_u64(s, &a) || a < 1 || a > 65535)
			return false;
		r->lo = r->hi = a;
		return true;
	}
	if ((size_t)(dash - s) >= sizeof(buf))
		return false;
	memcpy(buf, s, dash - s);
	buf[dash - s] = 0;
	if (y_parse_u64(buf, &a) || y_parse_u64(dash + 1, &b) || a < 1 || b > 65535 || a > b)
		return false;
	r->lo = a;
	r->hi = b;
	return true;
}

static char *what_str(const char *dest, const struct port_range *pr, const struct scope *s)
{
	char buf[512];
	size_t n;

	n = snprintf(buf, sizeof(buf), "%s", dest);
	if (s->proto && n < sizeof(buf))
		n += snprintf(buf + n, sizeof(buf) - n, " %s", s->proto == 6 ? "tcp" : "udp");
	if (pr && pr->hi && n < sizeof(buf)) {
		if (pr->lo == pr->hi)
			n += snprintf(buf + n, sizeof(buf) - n, " port %u", pr->lo);
		else
			n += snprintf(buf + n, sizeof(buf) - n, " ports %u-%u", pr->lo, pr->hi);
	}
	if (s->exe_path && n < sizeof(buf))
		n += snprintf(buf + n, sizeof(buf) - n, " exe=%s", s->exe_path);
	if (s->uid != (uint32_t)-1 && n < sizeof(buf))
		n += snprintf(buf + n, sizeof(buf) - n, " uid=%u", s->uid);
	if (s->cgroup_path && n < sizeof(buf))
		snprintf(buf + n, sizeof(buf) - n, " cgroup=%s", s->cgroup_path);
	return strdup(buf);
}

/* One item of allow:/deny: -> kernel entries (one per destination and port range).
 * prefix: where the list is in the document ("" at the top of a policy file). */
static void parse_item(struct y_ctx *c, yaml_node_t *n, const char *prefix, const char *list,
		       size_t idx, struct vg_np_policy *p)
{
	static const char *const keys[] = { "cidr", "ip", "domain", "ports", "port", "proto",
					    "exe", "uid", "cgroup", "comment", NULL };
	static const char *const dkeys[] = { "cidr", "ip" };
	bool deny = !strcmp(list, "deny");
	char field[Y_FIELD_MAX], f[Y_FIELD_MAX], src[300];
	struct port_range ports[64];
	size_t nports = 0, ndest = 0;
	struct scope s;
	yaml_node_t *v;
	int bad = 0;

	snprintf(field, sizeof(field), "%s%s[%zu]", prefix, list, idx);
	if (!y_want_map(c, n, field))
		return;
	if (y_check_keys(c, n, field, keys))
		bad = 1;
	if (parse_scope(c, n, field, &s))
		bad = 1;
	if (y_get(c, n, "ports") && y_get(c, n, "port")) {
		y_err(c, y_key_node(c, n, "port"), field, "give either port or ports");
		bad = 1;
	}
	v = y_get(c, n, "ports");
	if (!v)
		v = y_get(c, n, "port");
	if (v) {
		struct vg_strv sv = {};

		y_field(f, field, y_get(c, n, "ports") ? "ports" : "port");
		if (y_get_strv(c, v, f, &sv, NULL)) {
			bad = 1;
		} else {
			for (size_t i = 0; i < sv.n; i++) {
				if (nports == sizeof(ports) / sizeof(ports[0])) {
					y_err(c, v, f, "more than 64 port ranges");
					bad = 1;
					break;
				}
				if (!parse_port(sv.v[i], &ports[nports])) {
					y_err(c, v, f, "\"%s\" is not a port (1-65535) or range "
					      "(\"8000-8100\")", sv.v[i]);
					bad = 1;
				}
				nports++;
			}
		}
		for (size_t i = 0; i < sv.n; i++)
			free(sv.v[i]);
		free(sv.v);
	}
	if (!nports)
		ports[nports++] = (struct port_range){ 0, 0 };
	snprintf(src, sizeof(src), "%s:%d", c->file, Y_LINE(n));

	/* destinations: addresses */
	for (size_t k = 0; k < 2; k++) {
		struct vg_strv sv = {};

		v = y_get(c, n, dkeys[k]);
		if (!v)
			continue;
		y_field(f, field, dkeys[k]);
		if (y_get_strv(c, v, f, &sv, NULL)) {
			bad = 1;
			continue;
		}
		for (size_t i = 0; i < sv.n; i++) {
			uint8_t addr[16], plen;
			const char *why;
			char txt[64];

			ndest++;
			if (!vg_np_cidr_parse(sv.v[i], addr, &plen, &why)) {
				y_err(c, v, f, "bad CIDR \"%s\": %s", sv.v[i], why);
				bad = 1;
				continue;
			}
			if (k == 1 && plen != 128) {
				y_err(c, v, f, "\"%s\" is a prefix: use cidr:", sv.v[i]);
				bad = 1;
				continue;
			}
			if (bad)
				continue;
			prefix_str(addr, plen, txt, sizeof(txt));
			for (size_t j = 0; j < nports; j++) {
				struct vg_np_ent e = { .list = deny ? "deny" : "allow", .index = idx,
						       .category = -1 };
				uint32_t ties = VG_NP_TIE_EXPLICIT | (deny ? VG_NP_TIE_DENY : 0);

				e.scoped = s.exe || s.cgroup_id || s.uid != (uint32_t)-1;
				ties |= e.scoped ? VG_NP_TIE_SCOPED : 0;
				ties |= ports[j].hi || s.proto ? VG_NP_TIE_PORT : 0;
				e.k = (struct vg_np_entry){ .rank = VG_NP_RANK(plen, ties),
							    .verdict = deny ? VG_NP_DENY : VG_NP_ALLOW,
							    .proto = s.proto, .port_lo = ports[j].lo,
							    .port_hi = ports[j].hi, .uid = s.uid,
							    .cgroup_id = s.cgroup_id,
							    .cg_level = s.cg_level, .exe = s.exe };
				e.source = strdup(src);
				e.what = what_str(txt, &ports[j], &s);
				e.exe_path = s.exe_path ? strdup(s.exe_path) : NULL;
				e.cgroup_path = s.cgroup_path ? strdup(s.cgroup_path) : NULL;
				pfx_add(p, addr, plen, ent_add(p, &e));
			}
		}
		for (size_t i = 0; i < sv.n; i++)
			free(sv.v[i]);
		free(sv.v);
	}
	/* destinations: names */
	if ((v = y_get(c, n, "domain"))) {
		struct vg_strv sv = {};

		y_field(f, field, "domain");
		if (y_get_strv(c, v, f, &sv, NULL)) {
			bad = 1;
		} else {
			for (size_t i = 0; i < sv.n; i++) {
				char name[256];
				const char *why;
				bool wild;
				unsigned labels;
				uint64_t h;

				ndest++;
				if (!vg_np_domain_norm(sv.v[i], name, sizeof(name), &wild, &why)) {
					y_err(c, v, f, "bad domain \"%s\": %s", sv.v[i], why);
					bad = 1;
					continue;
				}
				if (bad)
					continue;
				h = vg_np_domain_hash(name, &labels);
				dom_name_add(p, name, h);
				for (size_t j = 0; j < nports; j++) {
					struct vg_np_ent e = { .list = deny ? "deny" : "allow",
							       .index = idx, .category = -1 };
					uint32_t ties = VG_NP_TIE_EXPLICIT |
							(deny ? VG_NP_TIE_DENY : 0);
					char txt[300];
					uint32_t id;

					e.scoped = s.exe || s.cgroup_id || s.uid != (uint32_t)-1;
					ties |= e.scoped ? VG_NP_TIE_SCOPED : 0;
					ties |= ports[j].hi || s.proto ? VG_NP_TIE_PORT : 0;
					e.k = (struct vg_np_entry){
						.rank = VG_NP_RANK(wild ? 100 + labels : 200, ties),
						.verdict = deny ? VG_NP_DENY : VG_NP_ALLOW,
						.proto = s.proto, .port_lo = ports[j].lo,
						.port_hi = ports[j].hi, .uid = s.uid,
						.cgroup_id = s.cgroup_id, .cg_level = s.cg_level,
						.exe = s.exe };
					snprintf(txt, sizeof(txt), "%s%s", wild ? "*." : "", name);
					e.source = strdup(src);
					e.what = what_str(txt, &ports[j], &s);
					e.exe_path = s.exe_path ? strdup(s.exe_path) : NULL;
					e.cgroup_path = s.cgroup_path ? strdup(s.cgroup_path) : NULL;
					id = ent_add(p, &e);
					dom_add(p, h, wild ? (id | VG_NP_SUB) : id);
				}
			}
		}
		for (size_t i = 0; i < sv.n; i++)
			free(sv.v[i]);
		free(sv.v);
	}
	if (!ndest && !bad) {
		/* no destination: every address (ports, scope still apply) */
		uint8_t any[16] = { 0 };

		for (size_t j = 0; j < nports; j++) {
			struct vg_np_ent e = { .list = deny ? "deny" : "allow", .index = idx,
					       .category = -1 };
			uint32_t ties = VG_NP_TIE_EXPLICIT | (deny ? VG_NP_TIE_DENY : 0);

			e.scoped = s.exe || s.cgroup_id || s.uid != (uint32_t)-1;
			ties |= e.scoped ? VG_NP_TIE_SCOPED : 0;
			ties |= ports[j].hi || s.proto ? VG_NP_TIE_PORT : 0;
			e.k = (struct vg_np_entry){ .rank = VG_NP_RANK(0, ties),
						    .verdict = deny ? VG_NP_DENY : VG_NP_ALLOW,
						    .proto = s.proto, .port_lo = ports[j].lo,
						    .port_hi = ports[j].hi, .uid = s.uid,
						    .cgroup_id = s.cgroup_id, .cg_level = s.cg_level,
						    .exe = s.exe };
			e.source = strdup(src);
			e.what = what_str("any", &ports[j], &s);
			e.exe_path = s.exe_path ? strdup(s.exe_path) : NULL;
			e.cgroup_path = s.cgroup_path ? strdup(s.cgroup_path) : NULL;
			pfx_add(p, any, 0, ent_add(p, &e));
		}
	}
	free(s.exe_path);
	free(s.cgroup_path);
}

static int category_of(const char *s)
{
	static const char *const names[] = { "c2", "mining", "dyndns" };

	for (int i = 0; i < VG_NPC_MAX; i++)
		if (!strcmp(s, names[i]))
			return i;
	return -1;
}

/* Blocklist entries: one kernel entry per (file, specificity), made on demand. */
struct bl_ctx {
	const char *path;
	char *src;
	int category;
	uint32_t ids[256]; /* by specificity: prefix length, or 100 + labels for names */
};

static uint32_t bl_entry(struct vg_np_policy *p, struct bl_ctx *b, unsigned spec)
{
	struct vg_np_ent e = { .list = "blocklist", .index = p->nblocklists, .category = b->category };

	if (b->ids[spec])
		return b->ids[spec];
	for (size_t i = 0; i < 256; i++)
		e.shared |= b->ids[i] != 0; /* the file's first entry owns source */
	e.k = (struct vg_np_entry){ .rank = VG_NP_RANK(spec, VG_NP_TIE_DENY), .verdict = VG_NP_DENY,
				    .uid = (uint32_t)-1 };
	e.source = b->src; /* shared by every entry of the file */
	b->ids[spec] = ent_add(p, &e);
	return b->ids[spec];
}

static void load_blocklist(struct y_ctx *c, yaml_node_t *n, const char *field, const char *path,
			   int category, struct vg_np_policy *p)
{
	struct bl_ctx b = { .path = path, .category = category };
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0, lineno = 0, errors = 0;
	ssize_t len;

	if (!f) {
		y_err(c, n, field, "blocklist %s: %s", path, strerror(errno));
		return;
	}
	b.src = strdup(path);
	while ((len = getline(&line, &cap, f)) >= 0) {
		char *s = line, *e, *hash;
		uint8_t addr[16], plen;
		const char *why;

		lineno++;
		if ((hash = strchr(s, '#')))
			*hash = 0;
		while (isspace((unsigned char)*s))
			s++;
		e = s + strlen(s);
		while (e > s && isspace((unsigned char)e[-1]))
			*--e = 0;
		if (!*s)
			continue;
		/* hosts-file form "0.0.0.0 name": the name */
		if ((e = strpbrk(s, " \t"))) {
			char *name = e;

			*e = 0;
			while (isspace((unsigned char)*++name))
				;
			if (!strcmp(s, "0.0.0.0") || !strcmp(s, "127.0.0.1"))
				s = name; /* the name (the rest of the line is ignored) */
			if ((e = strpbrk(s, " \t")))
				*e = 0;
		}
		if (strchr(s, ':') || (isdigit((unsigned char)s[0]) && strspn(s, "0123456789./") == strlen(s))) {
			if (!vg_np_cidr_parse(s, addr, &plen, &why)) {
				if (errors++ < 20)
					vg_rule_error_add(c->errs, path, lineno, 1, "entry",
							  "bad CIDR \"%s\": %s", s, why);
				continue;
			}
			pfx_add(p, addr, plen, bl_entry(p, &b, plen));
		} else {
			char name[256];
			bool wild;
			unsigned labels;
			uint64_t h;
			uint32_t id;

			if (!vg_np_domain_norm(s, name, sizeof(name), &wild, &why)) {
				if (errors++ < 20)
					vg_rule_error_add(c->errs, path, lineno, 1, "entry",
							  "bad domain \"%s\": %s", s, why);
				continue;
			}
			h = vg_np_domain_hash(name, &labels);
			id = bl_entry(p, &b, 100 + (labels > 150 ? 150 : labels));
			/* a listed name: itself and every name under it */
			dom_add(p, h, id);
			dom_add(p, h, id | VG_NP_SUB);
		}
		p->blocklist_entries++;
	}
	if (errors > 20)
		vg_rule_error_add(c->errs, path, 0, 0, "entry", "%zu more bad lines", errors - 20);
	{
		bool owned = false; /* no entry made: the file's string has no owner */

		for (size_t i = 0; i < 256 && !owned; i++)
			owned = b.ids[i];
		if (!owned)
			free(b.src);
	}
	free(line);
	fclose(f);
	p->nblocklists++;
}

static void parse_blocklists(struct y_ctx *c, yaml_node_t *n, struct vg_np_policy *p)
{
	static const char *const keys[] = { "path", "category", NULL };
	char dir[PATH_MAX], *slash;

	snprintf(dir, sizeof(dir), "%s", c->file);
	slash = strrchr(dir, '/');
	if (slash)
		*slash = 0;
	else
		snprintf(dir, sizeof(dir), ".");
	if (n->type != YAML_SEQUENCE_NODE) {
		y_err(c, n, "blocklists", "expected a list of files, found %s", y_kind(n));
		return;
	}
	for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top;
	     it++) {
		yaml_node_t *item = y_node(c, *it);
		char field[Y_FIELD_MAX], f[Y_FIELD_MAX], path[PATH_MAX];
		const char *file = y_str(item);
		int category = VG_NPC_C2;

		snprintf(field, sizeof(field), "blocklists[%d]",
			 (int)(it - n->data.sequence.items.start));
		if (!file) {
			yaml_node_t *v;

			if (!y_want_map(c, item, field))
				continue;
			y_check_keys(c, item, field, keys);
			file = y_str(y_get(c, item, "path"));
			if (!file) {
				y_err(c, item, field, "a blocklist needs path:");
				continue;
			}
			if ((v = y_get(c, item, "category"))) {
				y_field(f, field, "category");
				category = y_str(v) ? category_of(y_str(v)) : -1;
				if (category < 0) {
					y_err(c, v, f, "unknown category (c2, mining, dyndns)");
					continue;
				}
			}
		} else if (strstr(file, "mining")) {
			category = VG_NPC_MINING;
		} else if (strstr(file, "dyndns") || strstr(file, "dynamic-dns")) {
			category = VG_NPC_DYNDNS;
		}
		if (snprintf(path, sizeof(path), "%s%s%s", file[0] == '/' ? "" : dir,
			     file[0] == '/' ? "" : "/", file) >= (int)sizeof(path)) {
			y_err(c, item, field, "path too long (more than %zu bytes)", sizeof(path) - 1);
			continue;
		}
		load_blocklist(c, item, field, path, category, p);
	}
}

/*
 * ingress: {allow: [...], deny: [...]}: entries as in allow:/deny: (cidr, ip, ports, proto,
 * scopes) deciding inbound traffic — cidr/ip the peer, ports the local port, scopes the
 * receiving socket's owner. No domain: an inbound peer has no name the policy saw.
 */
static void parse_ingress(struct y_ctx *c, yaml_node_t *n, struct vg_np_policy *p)
{
	static const char *const keys[] = { "allow", "deny", NULL };
	static const char *const lists[] = { "allow", "deny" };

	if (y_is_null(n) || !y_want_map(c, n, "ingress"))
		return;
	y_check_keys(c, n, "ingress", keys);
	for (int l = 0; l < 2; l++) {
		yaml_node_t *v = y_get(c, n, lists[l]);
		char f[Y_FIELD_MAX];

		if (!v || y_is_null(v))
			continue;
		y_field(f, "ingress", lists[l]);
		if (v->type != YAML_SEQUENCE_NODE) {
			y_err(c, v, f, "expected a list of entries, found %s", y_kind(v));
			continue;
		}
		for (yaml_node_item_t *it = v->data.sequence.items.start;
		     it < v->data.sequence.items.top; it++) {
			yaml_node_t *item = y_node(c, *it);
			size_t idx = it - v->data.sequence.items.start, before = p->nents;
			char field[Y_FIELD_MAX];

			snprintf(field, sizeof(field), "ingress.%s[%zu]", lists[l], idx);
			if (item && item->type == YAML_MAPPING_NODE && y_get(c, item, "domain")) {
				char df[Y_FIELD_MAX];

				y_field(df, field, "domain");
				y_err(c, y_get(c, item, "domain"), df, "an ingress entry matches the "
				      "peer's address (cidr, ip): an inbound peer has no name");
				continue;
			}
			parse_item(c, item, "ingress.", lists[l], idx, p);
			for (size_t i = before; i < p->nents; i++) {
				struct vg_np_ent *e = &p->ents[i];
				char *what = NULL;

				e->k.flags |= VG_NPE_INGRESS;
				e->list = l ? "ingress.deny" : "ingress.allow";
				if (e->what && asprintf(&what, "inbound from %s", e->what) > 0) {
					free(e->what);
					e->what = what;
				}
				p->ningress++;
			}
		}
	}
}

static void parse_top(struct y_ctx *c, yaml_node_t *root, bool first, struct vg_np_policy *p)
{
	static const char *const keys[] = { "mode", "default", "allow", "deny", "ingress",
					    "blocklists", NULL };
	static const char *const modes[] = { "audit", "enforce", NULL };
	static const char *const verdicts[] = { "allow", "deny", NULL };
	static const char *const lists[] = { "allow", "deny" };
	yaml_node_t *v;
	int i;

	if (y_is_null(root) || !y_want_map(c, root, ""))
		return;
	y_check_keys(c, root, "", keys);
	if ((v = y_get(c, root, "mode"))) {
		if (!first)
			y_err(c, v, "mode", "mode is set by the first policy file only");
		else if (!y_get_enum(c, v, "mode", "mode", modes, &i))
			p->mode = i == 1 ? VG_NP_ENFORCE : VG_NP_AUDIT;
	}
	if ((v = y_get(c, root, "default"))) {
		static const char *const dkeys[] = { "egress", "ingress", NULL };
		yaml_node_t *d = v, *din = NULL;

		if (v->type == YAML_MAPPING_NODE) {
			y_check_keys(c, v, "default", dkeys);
			d = y_get(c, v, "egress");
			din = y_get(c, v, "ingress");
		}
		if (!first) {
			y_err(c, v, "default", "default is set by the first policy file only");
		} else {
			if (d && !y_get_enum(c, d, v == d ? "default" : "default.egress", "verdict",
					     verdicts, &i))
				p->def_egress = i == 1 ? VG_NP_DENY : VG_NP_ALLOW;
			if (din && !y_get_enum(c, din, "default.ingress", "verdict", verdicts, &i))
				p->def_ingress = i == 1 ? VG_NP_DENY : VG_NP_ALLOW;
		}
	}
	for (int l = 0; l < 2; l++) {
		v = y_get(c, root, lists[l]);
		if (!v || y_is_null(v))
			continue;
		if (v->type != YAML_SEQUENCE_NODE) {
			y_err(c, v, lists[l], "expected a list of entries, found %s", y_kind(v));
			continue;
		}
		for (yaml_node_item_t *it = v->data.sequence.items.start;
		     it < v->data.sequence.items.top; it++)
			parse_item(c, y_node(c, *it), "", lists[l],
				   it - v->data.sequence.items.start, p);
	}
	if ((v = y_get(c, root, "ingress")))
		parse_ingress(c, v, p);
	if ((v = y_get(c, root, "blocklists")) && !y_is_null(v))
		parse_blocklists(c, v, p);
}

static void yaml_problem(struct y_ctx *c, yaml_parser_t *pr)
{
	const yaml_mark_t *m = pr->problem_mark.line || pr->problem_mark.column ? &pr->problem_mark
										  : &pr->context_mark;

	vg_rule_error_add(c->errs, c->file, (int)m->line + 1, (int)m->column + 1, "",
			  "invalid YAML: %s%s%s", pr->problem ? pr->problem : "syntax error",
			  pr->context ? " " : "", pr->context ? pr->context : "");
}

static int err_cmp(const void *a, const void *b)
{
	const struct vg_rule_error *x = a, *y = b;

	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->column < y->column ? -1 : x->column > y->column;
}

static void parse_file(const char *path, bool first, struct vg_np_policy *p,
		       struct vg_rule_errors *errs)
{
	struct y_ctx c = { .file = path, .errs = errs, .errs_at_start = errs->n };
	yaml_parser_t parser;
	yaml_document_t doc;
	yaml_node_t *root;
	FILE *f = fopen(path, "r");

	if (!f) {
		vg_rule_error_add(errs, path, 0, 0, "", "%s", strerror(errno));
		return;
	}
	if (!yaml_parser_initialize(&parser)) {
		fclose(f);
		return;
	}
	yaml_parser_set_input_file(&parser, f);
	if (!yaml_parser_load(&parser, &doc)) {
		yaml_problem(&c, &parser);
		goto out;
	}
	c.doc = &doc;
	root = yaml_document_get_root_node(&doc);
	if (root)
		parse_top(&c, root, first, p);
	yaml_document_delete(&doc);
out:
	yaml_parser_delete(&parser);
	fclose(f);
	/* this file's errors in reading order (blocklists' come with their own file name) */
	if (errs->n > c.errs_at_start + 1)
		qsort(errs->v + c.errs_at_start, errs->n - c.errs_at_start, sizeof(*errs->v), err_cmp);
}

struct vg_np_policy *vg_np_policy_new(void)
{
	struct vg_np_policy *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->mode = VG_NP_ENFORCE;
	p->def_egress = VG_NP_ALLOW;
	p->def_ingress = VG_NP_ALLOW;
	return p;
}

/* ---------------- RuntimePolicy network rules ---------------- */

int vg_np_parse_rule_lists(struct y_ctx *c, yaml_node_t *n, const char *field,
			   struct vg_np_policy *p)
{
	static const char *const keys[] = { "deny", "allow", NULL };
	static const char *const lists[] = { "deny", "allow" };
	size_t before = c->errs->n, items = 0;
	char prefix[Y_FIELD_MAX];

	if (!y_want_map(c, n, field))
		return -EINVAL;
	y_check_keys(c, n, field, keys);
	snprintf(prefix, sizeof(prefix), "%s.", field);
	for (int l = 0; l < 2; l++) {
		yaml_node_t *v = y_get(c, n, lists[l]);
		char f[Y_FIELD_MAX];

		if (!v)
			continue;
		y_field(f, field, lists[l]);
		if (v->type != YAML_SEQUENCE_NODE) {
			y_err(c, v, f, "expected a list of entries as in the network policy "
			      "(- cidr: 10.0.0.0/8, - domain: \"*.example.com\", - ports: [4444]), "
			      "found %s", y_kind(v));
			continue;
		}
		for (yaml_node_item_t *it = v->data.sequence.items.start;
		     it < v->data.sequence.items.top; it++, items++)
			parse_item(c, y_node(c, *it), prefix, lists[l],
				   it - v->data.sequence.items.start, p);
	}
	if (!items && c->errs->n == before)
		y_err(c, n, field, "no entries: give deny: (and allow: for exceptions), lists of "
		      "network-policy entries");
	return c->errs->n > before ? -EINVAL : 0;
}

int vg_np_policy_merge(struct vg_np_policy *dst, const struct vg_np_policy *src, unsigned bit,
		       uint32_t flags, const struct vg_np_polref *ref)
{
	struct vg_np_polref *refs = realloc(dst->polrefs, (dst->npolrefs + 1) * sizeof(*refs));
	uint32_t base = dst->nents;
	unsigned idx;

	if (!refs)
		return -ENOMEM;
	dst->polrefs = refs;
	idx = dst->npolrefs++;
	refs[idx] = *ref;
	refs[idx].policy = ref->policy ? strdup(ref->policy) : NULL;
	refs[idx].rule_id = ref->rule_id ? strdup(ref->rule_id) : NULL;
	refs[idx].message = ref->message ? strdup(ref->message) : NULL;
	refs[idx].how = ref->how ? strdup(ref->how) : NULL;
	refs[idx].source = ref->source ? strdup(ref->source) : NULL;
	refs[idx].rule.id = refs[idx].rule_id;
	refs[idx].rule.title = refs[idx].message ? refs[idx].message : refs[idx].rule_id;
	refs[idx].rule.source = refs[idx].source;
	refs[idx].rule.tags = NULL; /* set by the user of the finding (static) */
	for (size_t i = 0; i < src->nents; i++) {
		struct vg_np_ent e = src->ents[i];

		e.source = e.source ? strdup(e.source) : NULL;
		e.what = e.what ? strdup(e.what) : NULL;
		e.exe_path = e.exe_path ? strdup(e.exe_path) : NULL;
		e.cgroup_path = e.cgroup_path ? strdup(e.cgroup_path) : NULL;
		e.shared = false;
		e.scoped = true;
		e.polref = idx + 1;
		e.k.pol = bit + 1;
		e.k.flags = flags | VG_NPE_POL;
		e.k.rank |= VG_NP_TIE_SCOPED; /* a target is a scope */
		if (!ent_add(dst, &e))
			return -ENOMEM;
	}
	for (size_t i = 0; i < src->npfx; i++)
		if (pfx_add(dst, src->pfx[i].addr, src->pfx[i].len, src->pfx[i].ent + base))
			return -ENOMEM;
	for (size_t i = 0; i < src->ndoms; i++) {
		uint32_t raw = src->doms[i].ent;

		if (dom_add(dst, src->doms[i].hash, ((raw & ~VG_NP_SUB) + base) | (raw & VG_NP_SUB)))
			return -ENOMEM;
	}
	for (size_t i = 0; i < src->ndom_names; i++)
		dom_name_add(dst, src->dom_names[i], src->dom_name_hash[i]);
	return 0;
}

struct vg_np_policy *vg_np_policy_load(char *const *paths, size_t n, struct vg_rule_errors *errs)
{
	struct vg_np_policy *p = vg_np_policy_new();
	size_t before = errs->n, flen = 0;
	uint64_t t0 = vg_now_boot_ns();

	if (!p)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		parse_file(paths[i], i == 0, p, errs);
		flen += strlen(paths[i]) + 2;
	}
	if (errs->n > before) {
		vg_np_policy_free(p);
		return NULL;
	}
	p->files = calloc(1, flen + 1);
	for (size_t i = 0; p->files && i < n; i++) {
		if (i)
			strcat(p->files, ", ");
		strcat(p->files, paths[i]);
	}
	p->parse_ns = vg_now_boot_ns() - t0;
	return p;
}
