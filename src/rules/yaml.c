// SPDX-License-Identifier: GPL-2.0
/*
 * YAML documents for rule files: node accessors and typed getters that report
 * problems at the node's line:column with the dotted field path (yaml.h).
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "rules/yaml.h"
#include "util/timefmt.h"

void vg_rule_error_add(struct vg_rule_errors *e, const char *file, int line, int col,
		       const char *field, const char *fmt, ...)
{
	struct vg_rule_error *x;
	va_list ap;

	if (e->n == e->cap) {
		size_t cap = e->cap ? e->cap * 2 : 16;
		struct vg_rule_error *v = realloc(e->v, cap * sizeof(*v));

		if (!v)
			return;
		e->v = v;
		e->cap = cap;
	}
	x = &e->v[e->n++];
	memset(x, 0, sizeof(*x));
	snprintf(x->file, sizeof(x->file), "%s", file ? file : "");
	x->line = line;
	x->column = col;
	snprintf(x->field, sizeof(x->field), "%s", field ? field : "");
	va_start(ap, fmt);
	vsnprintf(x->msg, sizeof(x->msg), fmt, ap);
	va_end(ap);
}

void vg_rule_errors_free(struct vg_rule_errors *e)
{
	free(e->v);
	e->v = NULL;
	e->n = e->cap = 0;
}

void vg_rule_errors_print(const struct vg_rule_errors *e, FILE *out)
{
	for (size_t i = 0; i < e->n; i++) {
		const struct vg_rule_error *x = &e->v[i];

		fputs(x->file, out);
		if (x->line > 0) {
			fprintf(out, ":%d", x->line);
			if (x->column > 0)
				fprintf(out, ":%d", x->column);
		}
		fputs(": ", out);
		if (x->field[0])
			fprintf(out, "%s: ", x->field);
		fprintf(out, "%s\n", x->msg);
	}
}

const char *vg_severity_name(enum vg_severity s)
{
	static const char *const names[] = { "info", "low", "medium", "high", "critical" };

	return (unsigned)s < 5 ? names[s] : "?";
}

/* ---- YAML nodes ---- */

void y_err(struct y_ctx *c, const yaml_node_t *n, const char *field, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	vg_rule_error_add(c->errs, c->file, n ? Y_LINE(n) : 0, n ? Y_COL(n) : 0, field, "%s", msg);
}

yaml_node_t *y_node(struct y_ctx *c, int i)
{
	return yaml_document_get_node(c->doc, i);
}

const char *y_kind(const yaml_node_t *n)
{
	switch (n->type) {
	case YAML_SCALAR_NODE:
		return "a scalar";
	case YAML_SEQUENCE_NODE:
		return "a list";
	case YAML_MAPPING_NODE:
		return "a mapping";
	default:
		return "nothing";
	}
}

const char *y_str(const yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

/* An empty plain scalar is YAML's null ("key:" with no value). */
bool y_is_null(const yaml_node_t *n)
{
	const char *s = y_str(n);

	return s && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	       (!*s || !strcmp(s, "~") || !strcmp(s, "null"));
}

/* field + "." + key; a too long path is cut (it is only a message). */
void y_field(char *out, const char *field, const char *key)
{
	if (snprintf(out, Y_FIELD_MAX, "%s%s%s", field, *field ? "." : "", key) >= Y_FIELD_MAX)
		out[Y_FIELD_MAX - 1] = 0;
}

bool y_want_map(struct y_ctx *c, yaml_node_t *n, const char *field)
{
	if (n->type == YAML_MAPPING_NODE)
		return true;
	y_err(c, n, field, "expected a mapping, found %s", y_kind(n));
	return false;
}

/* Report unknown and repeated keys of a mapping; returns how many were unknown. */
int y_check_keys(struct y_ctx *c, yaml_node_t *n, const char *field,
		       const char *const *allowed)
{
	int unknown = 0;

	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
		yaml_node_t *k = y_node(c, p->key);
		const char *key = y_str(k);
		char f[Y_FIELD_MAX], exp[512];
		size_t off = 0;
		bool ok = false;

		if (!key) {
			y_err(c, k, field, "keys must be plain strings, found %s", y_kind(k));
			continue;
		}
		for (const char *const *a = allowed; *a; a++)
			ok |= !strcmp(*a, key);
		for (yaml_node_pair_t *q = n->data.mapping.pairs.start; q < p; q++)
			if (y_str(y_node(c, q->key)) && !strcmp(y_str(y_node(c, q->key)), key)) {
				y_field(f, field, key);
				y_err(c, k, f, "\"%s\" given twice (first at line %d)", key,
				     Y_LINE(y_node(c, q->key)));
				break;
			}
		if (ok)
			continue;
		exp[0] = 0;
		for (const char *const *a = allowed; *a && off < sizeof(exp); a++)
			off += snprintf(exp + off, sizeof(exp) - off, "%s%s", a == allowed ? "" : ", ",
					*a);
		y_field(f, field, key);
		y_err(c, k, f, "unknown field \"%s\" (expected one of %s)", key, exp);
		unknown++;
	}
	return unknown;
}

yaml_node_t *y_get(struct y_ctx *c, yaml_node_t *n, const char *key)
{
	if (!n || n->type != YAML_MAPPING_NODE)
		return NULL;
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
		const char *k = y_str(y_node(c, p->key));

		if (k && !strcmp(k, key))
			return y_node(c, p->value);
	}
	return NULL;
}

yaml_node_t *y_key_node(struct y_ctx *c, yaml_node_t *n, const char *key)
{
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
		yaml_node_t *k = y_node(c, p->key);

		if (y_str(k) && !strcmp(y_str(k), key))
			return k;
	}
	return n;
}

int y_get_str(struct y_ctx *c, yaml_node_t *n, const char *field, char **out)
{
	const char *s = y_str(n);

	if (!s || y_is_null(n)) {
		y_err(c, n, field, "expected a string, found %s", y_is_null(n) ? "nothing" : y_kind(n));
		return -EINVAL;
	}
	*out = strdup(s);
	return 0;
}

int y_strv_push(struct vg_strv *v, const char *s)
{
	char **nv = realloc(v->v, (v->n + 1) * sizeof(*nv));

	if (!nv)
		return -ENOMEM;
	v->v = nv;
	v->v[v->n++] = strdup(s);
	return 0;
}

/*
 * A list of strings. A single scalar is accepted as a one-element list. check
 * (may be NULL) validates each item and reports with the item's position.
 */

int y_get_strv(struct y_ctx *c, yaml_node_t *n, const char *field, struct vg_strv *out,
		    y_item_check check)
{
	int bad = 0;

	if (n->type == YAML_SCALAR_NODE && !y_is_null(n)) {
		if (check && !check(c, n, field))
			return -EINVAL;
		return y_strv_push(out, y_str(n));
	}
	if (n->type != YAML_SEQUENCE_NODE) {
		y_err(c, n, field, "expected a list of strings, found %s",
		     y_is_null(n) ? "nothing" : y_kind(n));
		return -EINVAL;
	}
	for (yaml_node_item_t *i = n->data.sequence.items.start; i < n->data.sequence.items.top; i++) {
		yaml_node_t *it = y_node(c, *i);

		if (!y_str(it) || y_is_null(it)) {
			y_err(c, it, field, "expected a string, found %s",
			     y_is_null(it) ? "nothing" : y_kind(it));
			bad = 1;
			continue;
		}
		if (check && !check(c, it, field)) {
			bad = 1;
			continue;
		}
		y_strv_push(out, y_str(it));
	}
	return bad ? -EINVAL : 0;
}

int y_get_bool(struct y_ctx *c, yaml_node_t *n, const char *field, bool *out)
{
	static const char *const t[] = { "true", "True", "TRUE", "yes", "on", NULL };
	static const char *const f[] = { "false", "False", "FALSE", "no", "off", NULL };
	const char *s = y_str(n);

	for (int i = 0; s && t[i]; i++)
		if (!strcmp(s, t[i]))
			return *out = true, 0;
	for (int i = 0; s && f[i]; i++)
		if (!strcmp(s, f[i]))
			return *out = false, 0;
	if (s)
		y_err(c, n, field, "expected true or false, found \"%s\"", s);
	else
		y_err(c, n, field, "expected true or false, found %s", y_kind(n));
	return -EINVAL;
}

int y_parse_u64(const char *s, uint64_t *v)
{
	char *end;

	if (!s || !*s || *s == '-' || isspace((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	*v = strtoull(s, &end, 0);
	return errno || *end ? -EINVAL : 0;
}

int y_get_uint(struct y_ctx *c, yaml_node_t *n, const char *field, uint64_t max,
		    uint64_t *out)
{
	const char *s = y_str(n);

	if (!s || y_parse_u64(s, out) || *out > max) {
		if (s)
			y_err(c, n, field, "expected a number from 0 to %llu, found \"%s\"",
			     (unsigned long long)max, s);
		else
			y_err(c, n, field, "expected a number, found %s", y_kind(n));
		return -EINVAL;
	}
	return 0;
}

int y_get_duration(struct y_ctx *c, yaml_node_t *n, const char *field, uint64_t *ns)
{
	const char *s = y_str(n);

	if (!s || vg_parse_duration(s, ns) || !*ns || *ns > 7 * 86400ULL * 1000000000ULL) {
		y_err(c, n, field, "expected a duration from 1ms to 7d (60s, 5m, 1h), found %s%s%s",
		     s ? "\"" : "", s ? s : y_kind(n), s ? "\"" : "");
		return -EINVAL;
	}
	return 0;
}

/* One word of a fixed set; *out gets its index. */
int y_get_enum(struct y_ctx *c, yaml_node_t *n, const char *field, const char *what,
		    const char *const *names, int *out)
{
	const char *s = y_str(n);
	char exp[512];
	size_t off = 0;

	for (int i = 0; s && names[i]; i++)
		if (!strcmp(names[i], s))
			return *out = i, 0;
	exp[0] = 0;
	for (int i = 0; names[i] && off < sizeof(exp); i++)
		off += snprintf(exp + off, sizeof(exp) - off, "%s%s", i ? ", " : "", names[i]);
	if (s)
		y_err(c, n, field, "unknown %s \"%s\" (expected one of %s)", what, s, exp);
	else
		y_err(c, n, field, "expected %s (one of %s), found %s", what, exp, y_kind(n));
	return -EINVAL;
}

/* A list of words of a fixed set (a single word allowed); bit i set for names[i]. */
int y_get_enum_mask(struct y_ctx *c, yaml_node_t *n, const char *field, const char *what,
			 const char *const *names, const uint32_t *bits, uint32_t *mask)
{
	int bad = 0, k;

	if (n->type == YAML_SCALAR_NODE) {
		if (y_get_enum(c, n, field, what, names, &k))
			return -EINVAL;
		*mask |= bits[k];
		return 0;
	}
	if (n->type != YAML_SEQUENCE_NODE) {
		y_err(c, n, field, "expected a list of %ss, found %s", what, y_kind(n));
		return -EINVAL;
	}
	for (yaml_node_item_t *i = n->data.sequence.items.start; i < n->data.sequence.items.top; i++) {
		if (y_get_enum(c, y_node(c, *i), field, what, names, &k))
			bad = 1;
		else
			*mask |= bits[k];
	}
	if (!bad && !*mask) {
		y_err(c, n, field, "empty list");
		return -EINVAL;
	}
	return bad ? -EINVAL : 0;
}

