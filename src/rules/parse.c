// SPDX-License-Identifier: GPL-2.0
/*
 * Rule files: YAML (libyaml's document API, which keeps every node's line and
 * column) -> validated struct vg_rule. Every problem is reported, not just the
 * first, as file:line:column: dotted.field.path: message. The format is
 * documented in docs/rules.md; keep the two in step.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <yaml.h>
#include "rules/rules_int.h"
#include "util/timefmt.h"

#define FIELD_MAX 128

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

/* ---------------- freeing ---------------- */

static void strv_free(struct vg_strv *v)
{
	for (size_t i = 0; i < v->n; i++)
		free(v->v[i]);
	free(v->v);
	v->v = NULL;
	v->n = 0;
}

static void path_sel_free(struct vg_path_sel *s)
{
	strv_free(&s->exact);
	strv_free(&s->prefix);
	strv_free(&s->basename);
	strv_free(&s->glob);
	strv_free(&s->suffix);
}

static void argv_sel_free(struct vg_argv_sel *a)
{
	for (size_t i = 0; a->regex && i < a->regex_src.n; i++)
		regfree(&a->regex[i]);
	free(a->regex);
	a->regex = NULL;
	strv_free(&a->contains);
	strv_free(&a->regex_src);
	strv_free(&a->any_arg_glob);
}

static void proc_sel_free(struct vg_proc_sel *p)
{
	path_sel_free(&p->exe);
	argv_sel_free(&p->argv);
}

static void spec_free(struct vg_rule_spec *s)
{
	if (!s)
		return;
	path_sel_free(&s->exe);
	argv_sel_free(&s->argv);
	proc_sel_free(&s->parent);
	proc_sel_free(&s->ancestor);
	strv_free(&s->env_present);
	path_sel_free(&s->path);
	free(s->nrs);
	for (size_t i = 0; i < s->nargs; i++)
		free(s->args[i].v);
	free(s->args);
	free(s->uid.v);
	for (size_t i = 0; i < s->nexcept; i++) {
		struct vg_except *x = &s->except[i];

		path_sel_free(&x->exe);
		argv_sel_free(&x->argv);
		proc_sel_free(&x->parent);
		proc_sel_free(&x->ancestor);
		path_sel_free(&x->path);
		free(x->uid.v);
		strv_free(&x->env_present);
	}
	free(s->except);
	free(s);
}

void vg_rule_clear(struct vg_rule *r)
{
	free(r->id);
	free(r->title);
	free(r->description);
	free(r->tactic);
	free(r->technique);
	for (size_t i = 0; i < r->ntags; i++)
		free(r->tags[i]);
	free(r->tags);
	free(r->source);
	spec_free(r->priv);
	memset(r, 0, sizeof(*r));
}

void vg_rule_file_free(struct vg_rule_file *f)
{
	for (size_t i = 0; i < f->n; i++)
		vg_rule_clear(&f->rules[i]);
	free(f->rules);
	strv_free(&f->disable);
	free(f->disable_line);
	free(f->disable_col);
	memset(f, 0, sizeof(*f));
}

/* ---------------- YAML helpers ---------------- */

struct pctx {
	const char *file;
	yaml_document_t *doc;
	struct vg_rule_errors *errs;
	size_t errs_at_start;
};

#define LINE(n) ((int)(n)->start_mark.line + 1)
#define COL(n) ((int)(n)->start_mark.column + 1)

static void __attribute__((format(printf, 4, 5)))
perr(struct pctx *c, const yaml_node_t *n, const char *field, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	vg_rule_error_add(c->errs, c->file, n ? LINE(n) : 0, n ? COL(n) : 0, field, "%s", msg);
}

static yaml_node_t *nodeat(struct pctx *c, int i)
{
	return yaml_document_get_node(c->doc, i);
}

static const char *node_kind(const yaml_node_t *n)
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

static const char *sval(const yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

/* An empty plain scalar is YAML's null ("key:" with no value). */
static bool is_null(const yaml_node_t *n)
{
	const char *s = sval(n);

	return s && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	       (!*s || !strcmp(s, "~") || !strcmp(s, "null"));
}

/* field + "." + key; a too long path is cut (it is only a message). */
static void subfield(char *out, const char *field, const char *key)
{
	if (snprintf(out, FIELD_MAX, "%s%s%s", field, *field ? "." : "", key) >= FIELD_MAX)
		out[FIELD_MAX - 1] = 0;
}

static bool want_map(struct pctx *c, yaml_node_t *n, const char *field)
{
	if (n->type == YAML_MAPPING_NODE)
		return true;
	perr(c, n, field, "expected a mapping, found %s", node_kind(n));
	return false;
}

/* Report unknown and repeated keys of a mapping; returns how many were unknown. */
static int check_keys(struct pctx *c, yaml_node_t *n, const char *field,
		       const char *const *allowed)
{
	int unknown = 0;

	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
		yaml_node_t *k = nodeat(c, p->key);
		const char *key = sval(k);
		char f[FIELD_MAX], exp[512];
		size_t off = 0;
		bool ok = false;

		if (!key) {
			perr(c, k, field, "keys must be plain strings, found %s", node_kind(k));
			continue;
		}
		for (const char *const *a = allowed; *a; a++)
			ok |= !strcmp(*a, key);
		for (yaml_node_pair_t *q = n->data.mapping.pairs.start; q < p; q++)
			if (sval(nodeat(c, q->key)) && !strcmp(sval(nodeat(c, q->key)), key)) {
				subfield(f, field, key);
				perr(c, k, f, "\"%s\" given twice (first at line %d)", key,
				     LINE(nodeat(c, q->key)));
				break;
			}
		if (ok)
			continue;
		exp[0] = 0;
		for (const char *const *a = allowed; *a && off < sizeof(exp); a++)
			off += snprintf(exp + off, sizeof(exp) - off, "%s%s", a == allowed ? "" : ", ",
					*a);
		subfield(f, field, key);
		perr(c, k, f, "unknown field \"%s\" (expected one of %s)", key, exp);
		unknown++;
	}
	return unknown;
}

static yaml_node_t *get(struct pctx *c, yaml_node_t *n, const char *key)
{
	if (!n || n->type != YAML_MAPPING_NODE)
		return NULL;
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
		const char *k = sval(nodeat(c, p->key));

		if (k && !strcmp(k, key))
			return nodeat(c, p->value);
	}
	return NULL;
}

static yaml_node_t *key_node(struct pctx *c, yaml_node_t *n, const char *key)
{
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
		yaml_node_t *k = nodeat(c, p->key);

		if (sval(k) && !strcmp(sval(k), key))
			return k;
	}
	return n;
}

static int get_str(struct pctx *c, yaml_node_t *n, const char *field, char **out)
{
	const char *s = sval(n);

	if (!s || is_null(n)) {
		perr(c, n, field, "expected a string, found %s", is_null(n) ? "nothing" : node_kind(n));
		return -EINVAL;
	}
	*out = strdup(s);
	return 0;
}

static int strv_push(struct vg_strv *v, const char *s)
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
typedef bool (*item_check)(struct pctx *c, yaml_node_t *item, const char *field);

static int get_strv(struct pctx *c, yaml_node_t *n, const char *field, struct vg_strv *out,
		    item_check check)
{
	int bad = 0;

	if (n->type == YAML_SCALAR_NODE && !is_null(n)) {
		if (check && !check(c, n, field))
			return -EINVAL;
		return strv_push(out, sval(n));
	}
	if (n->type != YAML_SEQUENCE_NODE) {
		perr(c, n, field, "expected a list of strings, found %s",
		     is_null(n) ? "nothing" : node_kind(n));
		return -EINVAL;
	}
	for (yaml_node_item_t *i = n->data.sequence.items.start; i < n->data.sequence.items.top; i++) {
		yaml_node_t *it = nodeat(c, *i);

		if (!sval(it) || is_null(it)) {
			perr(c, it, field, "expected a string, found %s",
			     is_null(it) ? "nothing" : node_kind(it));
			bad = 1;
			continue;
		}
		if (check && !check(c, it, field)) {
			bad = 1;
			continue;
		}
		strv_push(out, sval(it));
	}
	return bad ? -EINVAL : 0;
}

static int get_bool(struct pctx *c, yaml_node_t *n, const char *field, bool *out)
{
	static const char *const t[] = { "true", "True", "TRUE", "yes", "on", NULL };
	static const char *const f[] = { "false", "False", "FALSE", "no", "off", NULL };
	const char *s = sval(n);

	for (int i = 0; s && t[i]; i++)
		if (!strcmp(s, t[i]))
			return *out = true, 0;
	for (int i = 0; s && f[i]; i++)
		if (!strcmp(s, f[i]))
			return *out = false, 0;
	if (s)
		perr(c, n, field, "expected true or false, found \"%s\"", s);
	else
		perr(c, n, field, "expected true or false, found %s", node_kind(n));
	return -EINVAL;
}

static int parse_u64(const char *s, uint64_t *v)
{
	char *end;

	if (!s || !*s || *s == '-' || isspace((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	*v = strtoull(s, &end, 0);
	return errno || *end ? -EINVAL : 0;
}

static int get_uint(struct pctx *c, yaml_node_t *n, const char *field, uint64_t max,
		    uint64_t *out)
{
	const char *s = sval(n);

	if (!s || parse_u64(s, out) || *out > max) {
		if (s)
			perr(c, n, field, "expected a number from 0 to %llu, found \"%s\"",
			     (unsigned long long)max, s);
		else
			perr(c, n, field, "expected a number, found %s", node_kind(n));
		return -EINVAL;
	}
	return 0;
}

static int get_duration(struct pctx *c, yaml_node_t *n, const char *field, uint64_t *ns)
{
	const char *s = sval(n);

	if (!s || vg_parse_duration(s, ns) || !*ns || *ns > 7 * 86400ULL * 1000000000ULL) {
		perr(c, n, field, "expected a duration from 1ms to 7d (60s, 5m, 1h), found %s%s%s",
		     s ? "\"" : "", s ? s : node_kind(n), s ? "\"" : "");
		return -EINVAL;
	}
	return 0;
}

/* One word of a fixed set; *out gets its index. */
static int get_enum(struct pctx *c, yaml_node_t *n, const char *field, const char *what,
		    const char *const *names, int *out)
{
	const char *s = sval(n);
	char exp[512];
	size_t off = 0;

	for (int i = 0; s && names[i]; i++)
		if (!strcmp(names[i], s))
			return *out = i, 0;
	exp[0] = 0;
	for (int i = 0; names[i] && off < sizeof(exp); i++)
		off += snprintf(exp + off, sizeof(exp) - off, "%s%s", i ? ", " : "", names[i]);
	if (s)
		perr(c, n, field, "unknown %s \"%s\" (expected one of %s)", what, s, exp);
	else
		perr(c, n, field, "expected %s (one of %s), found %s", what, exp, node_kind(n));
	return -EINVAL;
}

/* A list of words of a fixed set (a single word allowed); bit i set for names[i]. */
static int get_enum_mask(struct pctx *c, yaml_node_t *n, const char *field, const char *what,
			 const char *const *names, const uint32_t *bits, uint32_t *mask)
{
	int bad = 0, k;

	if (n->type == YAML_SCALAR_NODE) {
		if (get_enum(c, n, field, what, names, &k))
			return -EINVAL;
		*mask |= bits[k];
		return 0;
	}
	if (n->type != YAML_SEQUENCE_NODE) {
		perr(c, n, field, "expected a list of %ss, found %s", what, node_kind(n));
		return -EINVAL;
	}
	for (yaml_node_item_t *i = n->data.sequence.items.start; i < n->data.sequence.items.top; i++) {
		if (get_enum(c, nodeat(c, *i), field, what, names, &k))
			bad = 1;
		else
			*mask |= bits[k];
	}
	if (!bad && !*mask) {
		perr(c, n, field, "empty list");
		return -EINVAL;
	}
	return bad ? -EINVAL : 0;
}

/* ---------------- item checks ---------------- */

static bool chk_abs(struct pctx *c, yaml_node_t *it, const char *field)
{
	if (sval(it)[0] == '/')
		return true;
	perr(c, it, field, "\"%s\" is not an absolute path (paths are the kernel's resolved ones)",
	     sval(it));
	return false;
}

static bool chk_name(struct pctx *c, yaml_node_t *it, const char *field)
{
	const char *s = sval(it);

	if (*s && !strchr(s, '/'))
		return true;
	perr(c, it, field, "\"%s\" is not a file name (no '/')", s);
	return false;
}

static bool chk_glob(struct pctx *c, yaml_node_t *it, const char *field)
{
	const char *s = sval(it);

	if (*s == '/' || !strncmp(s, "**", 2))
		return true;
	perr(c, it, field, "glob \"%s\" must be absolute or start with \"**\"", s);
	return false;
}

static bool chk_nonempty(struct pctx *c, yaml_node_t *it, const char *field)
{
	if (*sval(it))
		return true;
	perr(c, it, field, "empty string");
	return false;
}

static bool chk_env(struct pctx *c, yaml_node_t *it, const char *field)
{
	const char *s = sval(it);
	bool ok = *s && !isdigit((unsigned char)*s);

	for (const char *p = s; *p; p++)
		ok &= isalnum((unsigned char)*p) || *p == '_';
	if (!ok)
		perr(c, it, field, "\"%s\" is not an environment variable name", s);
	return ok;
}

/* ---------------- selectors ---------------- */

/* A path selector: a mapping of kinds, or a list (a scalar) of globs. */
static int parse_path_sel(struct pctx *c, yaml_node_t *n, const char *field, bool file,
			  struct vg_path_sel *s)
{
	static const char *const exe_keys[] = { "path", "prefix", "basename", "glob", NULL };
	static const char *const file_keys[] = { "exact", "prefix", "glob", "basename", "suffix",
						 NULL };
	const char *const *keys = file ? file_keys : exe_keys;
	char f[FIELD_MAX];
	int bad = 0;

	s->set = true;
	if (n->type != YAML_MAPPING_NODE) {
		bad = get_strv(c, n, field, &s->glob, chk_glob);
		if (!bad && !s->glob.n) {
			perr(c, n, field, "empty list");
			bad = 1;
		}
		return bad ? -EINVAL : 0;
	}
	if (check_keys(c, n, field, keys))
		bad = 1; /* "no paths given" would only repeat it */
	for (int i = 0; keys[i]; i++) {
		yaml_node_t *v = get(c, n, keys[i]);
		struct vg_strv *dst;
		item_check chk;

		if (!v)
			continue;
		subfield(f, field, keys[i]);
		if (!strcmp(keys[i], "basename")) {
			dst = &s->basename;
			chk = chk_name;
		} else if (!strcmp(keys[i], "glob")) {
			dst = &s->glob;
			chk = chk_glob;
		} else if (!strcmp(keys[i], "suffix")) {
			dst = &s->suffix;
			chk = chk_nonempty;
		} else if (!strcmp(keys[i], "prefix")) {
			dst = &s->prefix;
			chk = chk_abs;
		} else {
			dst = &s->exact;
			chk = chk_abs;
		}
		if (get_strv(c, v, f, dst, chk))
			bad = 1;
	}
	if (!bad && !s->exact.n && !s->prefix.n && !s->basename.n && !s->glob.n && !s->suffix.n) {
		perr(c, n, field, "no paths given (one of %s)",
		     file ? "exact, prefix, glob, basename, suffix" : "path, prefix, basename, glob");
		bad = 1;
	}
	return bad ? -EINVAL : 0;
}

static int compile_regex(struct pctx *c, yaml_node_t *n, const char *field, const char *src,
			 regex_t *re)
{
	int flags = REG_EXTENDED | REG_NOSUB;
	char msg[160];
	int rc;

	if (!strncmp(src, "(?i)", 4)) {
		flags |= REG_ICASE;
		src += 4;
	}
	rc = regcomp(re, src, flags);
	if (!rc)
		return 0;
	regerror(rc, re, msg, sizeof(msg));
	perr(c, n, field, "invalid regex \"%s\": %s", src, msg);
	return -EINVAL;
}

static int parse_argv_sel(struct pctx *c, yaml_node_t *n, const char *field, struct vg_argv_sel *a)
{
	static const char *const keys[] = { "contains", "regex", "any_arg_glob", NULL };
	char f[FIELD_MAX];
	yaml_node_t *v;
	bool *ok;
	int bad = 0;

	if (!want_map(c, n, field))
		return -EINVAL;
	check_keys(c, n, field, keys);
	a->set = true;
	if ((v = get(c, n, "contains"))) {
		subfield(f, field, "contains");
		bad |= !!get_strv(c, v, f, &a->contains, chk_nonempty);
	}
	if ((v = get(c, n, "any_arg_glob"))) {
		subfield(f, field, "any_arg_glob");
		bad |= !!get_strv(c, v, f, &a->any_arg_glob, chk_nonempty);
	}
	if ((v = get(c, n, "regex")) && get_strv(c, v, (subfield(f, field, "regex"), f),
						  &a->regex_src, NULL)) {
		bad = 1;
	} else if (v) {
		a->regex = calloc(a->regex_src.n ? a->regex_src.n : 1, sizeof(regex_t));
		ok = calloc(a->regex_src.n ? a->regex_src.n : 1, sizeof(bool));
		/* report each bad pattern at its own line */
		for (size_t k = 0; k < a->regex_src.n; k++) {
			yaml_node_t *it = v->type == YAML_SEQUENCE_NODE
						  ? nodeat(c, v->data.sequence.items.start[k])
						  : v;

			ok[k] = !compile_regex(c, it, f, a->regex_src.v[k], &a->regex[k]);
			bad |= !ok[k];
		}
		if (bad) { /* the rule is rejected: free what compiled */
			for (size_t k = 0; k < a->regex_src.n; k++)
				if (ok[k])
					regfree(&a->regex[k]);
			free(a->regex);
			a->regex = NULL;
		}
		free(ok);
	}
	if (!bad && !a->contains.n && !a->regex_src.n && !a->any_arg_glob.n) {
		perr(c, n, field, "no pattern given (contains, regex or any_arg_glob)");
		bad = 1;
	}
	return bad ? -EINVAL : 0;
}

static int parse_proc_sel(struct pctx *c, yaml_node_t *n, const char *field, bool ancestor,
			  struct vg_proc_sel *p)
{
	static const char *const keys[] = { "path",   "prefix",  "basename", "glob",
					    "argv",   "kthread", NULL };
	static const char *const akeys[] = { "path",	"prefix",  "basename",	"glob",
					     "argv",	"kthread", "max_depth", NULL };
	static const char *const exe_keys[] = { "path", "prefix", "basename", "glob" };
	char f[FIELD_MAX];
	yaml_node_t *v;
	int bad = 0;

	p->kthread = -1;
	p->set = true;
	if (n->type != YAML_MAPPING_NODE) { /* a list of globs: shorthand for {glob: [...]} */
		return parse_path_sel(c, n, field, false, &p->exe);
	}
	check_keys(c, n, field, ancestor ? akeys : keys);
	for (size_t i = 0; i < 4; i++)
		if (get(c, n, exe_keys[i])) {
			/* exe part: reuse the path selector on a filtered view */
			yaml_node_t *val = get(c, n, exe_keys[i]);
			struct vg_strv *dst = i == 0   ? &p->exe.exact
					      : i == 1 ? &p->exe.prefix
					      : i == 2 ? &p->exe.basename
						       : &p->exe.glob;
			item_check chk = i == 2 ? chk_name : i == 3 ? chk_glob : chk_abs;

			subfield(f, field, exe_keys[i]);
			bad |= !!get_strv(c, val, f, dst, chk);
			p->exe.set = true;
		}
	if ((v = get(c, n, "argv"))) {
		subfield(f, field, "argv");
		bad |= !!parse_argv_sel(c, v, f, &p->argv);
	}
	if ((v = get(c, n, "kthread"))) {
		bool b;

		subfield(f, field, "kthread");
		if (get_bool(c, v, f, &b))
			bad = 1;
		else
			p->kthread = b;
	}
	if (ancestor && (v = get(c, n, "max_depth"))) {
		uint64_t d;

		subfield(f, field, "max_depth");
		if (get_uint(c, v, f, 64, &d))
			bad = 1;
		else
			p->max_depth = d;
	}
	if (!bad && !p->exe.set && !p->argv.set && p->kthread < 0) {
		perr(c, n, field, "no condition given (path, prefix, basename, glob, argv, kthread)");
		bad = 1;
	}
	return bad ? -EINVAL : 0;
}

static int parse_uid(struct pctx *c, yaml_node_t *n, const char *field, struct vg_uid_sel *u)
{
	char f[FIELD_MAX];
	uint64_t v;
	int bad = 0;

	u->set = true;
	if (n->type == YAML_MAPPING_NODE) {
		static const char *const keys[] = { "not", NULL };
		yaml_node_t *x = get(c, n, "not");

		check_keys(c, n, field, keys);
		if (!x) {
			perr(c, n, field, "expected a uid, a list of uids or {not: uid}");
			return -EINVAL;
		}
		subfield(f, field, "not");
		if (x->type == YAML_MAPPING_NODE) {
			perr(c, x, f, "expected a uid or a list of uids");
			return -EINVAL;
		}
		{
			struct vg_uid_sel t = {};
			int rc = parse_uid(c, x, f, &t);

			u->v = t.v;
			u->n = t.n;
			u->negate = true;
			return rc;
		}
	}
	if (n->type == YAML_SCALAR_NODE) {
		if (get_uint(c, n, field, UINT32_MAX - 1, &v))
			return -EINVAL;
		u->v = malloc(sizeof(*u->v));
		u->v[0] = v;
		u->n = 1;
		return 0;
	}
	if (n->type != YAML_SEQUENCE_NODE) {
		perr(c, n, field, "expected a uid, a list of uids or {not: uid}, found %s",
		     node_kind(n));
		return -EINVAL;
	}
	for (yaml_node_item_t *i = n->data.sequence.items.start; i < n->data.sequence.items.top; i++) {
		if (get_uint(c, nodeat(c, *i), field, UINT32_MAX - 1, &v)) {
			bad = 1;
			continue;
		}
		u->v = realloc(u->v, (u->n + 1) * sizeof(*u->v));
		u->v[u->n++] = v;
	}
	if (!bad && !u->n) {
		perr(c, n, field, "empty list");
		bad = 1;
	}
	return bad ? -EINVAL : 0;
}

static const char *const relation_names[] = { "self", "child", "descendant", "other", NULL };
static const uint32_t relation_bits[] = { VG_REL_SELF, VG_REL_CHILD, VG_REL_DESCENDANT,
					  VG_REL_OTHER };

/* ---------------- match ---------------- */

static const char *const action_names[] = {
	"read",	    "write", "create",	   "truncate", "unlink",     "rename_from",
	"rename_to", "chmod", "chown",	   "link",     "symlink",    "exec",
	"mmap_exec", "setid", "utimes",	   "xattr_caps", "memfd",    NULL
};
static const uint32_t action_bits[] = {
	VG_FA_READ,	 VG_FA_WRITE, VG_FA_CREATE, VG_FA_TRUNC,      VG_FA_UNLINK,  VG_FA_RENAME_FROM,
	VG_FA_RENAME_TO, VG_FA_CHMOD, VG_FA_CHOWN,  VG_FA_LINK,       VG_FA_SYMLINK, VG_FA_EXEC,
	VG_FA_MMAP_EXEC, VG_FA_SETID, VG_FA_UTIMES, VG_FA_XATTR_CAPS, VG_FA_MEMFD,
};

static int parse_exec(struct pctx *c, yaml_node_t *n, const char *field, struct vg_rule_spec *s)
{
	static const char *const keys[] = { "exe", "argv", "parent", "ancestor", "uid",
					    "conditions", "env_present", NULL };
	static const char *const conds[] = { "memfd", "stdio_socket", "gained_root", NULL };
	static const uint32_t cbits[] = { 1 << VG_XC_MEMFD, 1 << VG_XC_STDIO_SOCK,
					  1 << VG_XC_GAINED_ROOT };
	char f[FIELD_MAX];
	yaml_node_t *v;
	int bad = 0;

	if (!want_map(c, n, field))
		return -EINVAL;
	check_keys(c, n, field, keys);
	if ((v = get(c, n, "exe"))) {
		subfield(f, field, "exe");
		bad |= !!parse_path_sel(c, v, f, false, &s->exe);
	}
	if ((v = get(c, n, "argv"))) {
		subfield(f, field, "argv");
		bad |= !!parse_argv_sel(c, v, f, &s->argv);
	}
	if ((v = get(c, n, "parent"))) {
		subfield(f, field, "parent");
		bad |= !!parse_proc_sel(c, v, f, false, &s->parent);
	}
	if ((v = get(c, n, "ancestor"))) {
		subfield(f, field, "ancestor");
		bad |= !!parse_proc_sel(c, v, f, true, &s->ancestor);
	}
	if ((v = get(c, n, "uid"))) {
		subfield(f, field, "uid");
		bad |= !!parse_uid(c, v, f, &s->uid);
	}
	if ((v = get(c, n, "conditions"))) {
		subfield(f, field, "conditions");
		bad |= !!get_enum_mask(c, v, f, "condition", conds, cbits, &s->conds);
	}
	if ((v = get(c, n, "env_present"))) {
		subfield(f, field, "env_present");
		bad |= !!get_strv(c, v, f, &s->env_present, chk_env);
	}
	if (!bad && n->data.mapping.pairs.top == n->data.mapping.pairs.start) {
		perr(c, n, field, "empty: an exec rule needs at least one condition");
		bad = 1;
	}
	return bad ? -EINVAL : 0;
}

static int parse_target(struct pctx *c, yaml_node_t *n, const char *field, uint32_t *rel)
{
	return get_enum_mask(c, n, field, "relation", relation_names, relation_bits, rel);
}

static int parse_file(struct pctx *c, yaml_node_t *n, const char *field, struct vg_rule_spec *s)
{
	static const char *const keys[] = { "path",   "actions", "uid",	    "exe",
					    "env_present", "mode", "type", "own_exe",
					    "target", "include_failed", NULL };
	static const char *const modes[] = { "setuid", "setgid", "sticky", NULL };
	static const uint32_t mbits[] = { 04000, 02000, 01000 };
	static const char *const types[] = { "file", "dir", "symlink", "other", NULL };
	static const uint32_t tbits[] = { VG_FT_FILE, VG_FT_DIR, VG_FT_SYMLINK, VG_FT_OTHER };
	char f[FIELD_MAX];
	yaml_node_t *v;
	int bad = 0;

	if (!want_map(c, n, field))
		return -EINVAL;
	check_keys(c, n, field, keys);
	if ((v = get(c, n, "path"))) {
		subfield(f, field, "path");
		bad |= !!parse_path_sel(c, v, f, true, &s->path);
	} else {
		perr(c, n, field, "missing \"path\"");
		bad = 1;
	}
	if ((v = get(c, n, "actions"))) {
		subfield(f, field, "actions");
		bad |= !!get_enum_mask(c, v, f, "action", action_names, action_bits, &s->actions);
	} else {
		perr(c, n, field, "missing \"actions\"");
		bad = 1;
	}
	if ((v = get(c, n, "uid"))) {
		subfield(f, field, "uid");
		bad |= !!parse_uid(c, v, f, &s->uid);
	}
	if ((v = get(c, n, "exe"))) {
		subfield(f, field, "exe");
		bad |= !!parse_path_sel(c, v, f, false, &s->exe);
	}
	if ((v = get(c, n, "env_present"))) {
		subfield(f, field, "env_present");
		bad |= !!get_strv(c, v, f, &s->env_present, chk_env);
	}
	if ((v = get(c, n, "mode"))) {
		subfield(f, field, "mode");
		bad |= !!get_enum_mask(c, v, f, "mode bit", modes, mbits, &s->mode_bits);
	}
	if ((v = get(c, n, "type"))) {
		subfield(f, field, "type");
		bad |= !!get_enum_mask(c, v, f, "file type", types, tbits, &s->types);
	}
	if ((v = get(c, n, "own_exe"))) {
		subfield(f, field, "own_exe");
		bad |= !!get_bool(c, v, f, &s->own_exe);
	}
	if ((v = get(c, n, "target"))) {
		subfield(f, field, "target");
		bad |= !!parse_target(c, v, f, &s->relation);
	}
	if ((v = get(c, n, "include_failed"))) {
		subfield(f, field, "include_failed");
		bad |= !!get_bool(c, v, f, &s->include_failed);
	}
	return bad ? -EINVAL : 0;
}

static int push_values(struct pctx *c, yaml_node_t *n, const char *field, const char *named,
		       uint64_t **v, size_t *nv)
{
	int bad = 0;
	yaml_node_t *one[1] = { n };
	yaml_node_t **items = one;
	size_t count = 1;

	if (n->type == YAML_SEQUENCE_NODE) {
		count = n->data.sequence.items.top - n->data.sequence.items.start;
		items = calloc(count ? count : 1, sizeof(*items));
		for (size_t i = 0; i < count; i++)
			items[i] = nodeat(c, n->data.sequence.items.start[i]);
		if (!count) {
			perr(c, n, field, "empty list");
			bad = 1;
		}
	} else if (n->type != YAML_SCALAR_NODE) {
		perr(c, n, field, "expected a value or a list of values, found %s", node_kind(n));
		return -EINVAL;
	}
	for (size_t i = 0; i < count; i++) {
		const char *s = sval(items[i]);
		uint64_t x;
		int found = 0;

		if (!s) {
			perr(c, items[i], field, "expected a value, found %s", node_kind(items[i]));
			bad = 1;
			continue;
		}
		if (named)
			vg_syscall_named_arg(named, s, &x, &found);
		else
			found = !parse_u64(s, &x);
		if (!found) {
			perr(c, items[i], field, "unknown %s \"%s\"",
			     named ? named : "value (expected a number)", s);
			bad = 1;
			continue;
		}
		*v = realloc(*v, (*nv + 1) * sizeof(**v));
		(*v)[(*nv)++] = x;
	}
	if (items != one)
		free(items);
	return bad ? -EINVAL : 0;
}

static int add_arg_cond(struct vg_rule_spec *s, unsigned arg, enum vg_arg_op op, uint64_t *v,
			size_t n)
{
	struct vg_arg_cond *a = realloc(s->args, (s->nargs + 1) * sizeof(*a));

	if (!a)
		return -ENOMEM;
	s->args = a;
	s->args[s->nargs++] = (struct vg_arg_cond){ .arg = arg, .op = op, .v = v, .n = n };
	return 0;
}

static int parse_args(struct pctx *c, yaml_node_t *n, const char *field, struct vg_rule_spec *s)
{
	static const char *const keys[] = { "arg", "in", "not_in", "mask", NULL };
	int bad = 0;

	if (n->type != YAML_SEQUENCE_NODE) {
		perr(c, n, field, "expected a list of {arg: N, in: [...]}, found %s", node_kind(n));
		return -EINVAL;
	}
	for (yaml_node_item_t *i = n->data.sequence.items.start; i < n->data.sequence.items.top; i++) {
		yaml_node_t *it = nodeat(c, *i), *a, *v;
		char f[FIELD_MAX], g[FIELD_MAX];
		uint64_t idx;
		int ops = 0;

		if (snprintf(f, sizeof(f), "%s[%d]", field,
			     (int)(i - n->data.sequence.items.start)) >= (int)sizeof(f))
			f[sizeof(f) - 1] = 0;
		if (!want_map(c, it, f)) {
			bad = 1;
			continue;
		}
		check_keys(c, it, f, keys);
		subfield(g, f, "arg");
		if (!(a = get(c, it, "arg"))) {
			perr(c, it, f, "missing \"arg\" (0-5)");
			bad = 1;
			continue;
		}
		if (get_uint(c, a, g, 5, &idx)) {
			bad = 1;
			continue;
		}
		for (int k = 1; keys[k]; k++) {
			uint64_t *vals = NULL;
			size_t nv = 0;

			if (!(v = get(c, it, keys[k])))
				continue;
			ops++;
			subfield(g, f, keys[k]);
			if (push_values(c, v, g, NULL, &vals, &nv)) {
				bad = 1;
				free(vals);
				continue;
			}
			add_arg_cond(s, idx, k == 1 ? VG_ARG_IN : k == 2 ? VG_ARG_NOT_IN : VG_ARG_MASK,
				     vals, nv);
		}
		if (!ops) {
			perr(c, it, f, "no condition (in, not_in or mask)");
			bad = 1;
		}
	}
	return bad ? -EINVAL : 0;
}

static int parse_syscall(struct pctx *c, yaml_node_t *n, const char *field,
			 struct vg_rule_spec *s)
{
	static const char *const keys[] = { "name", "args", "request", "family", "cmd",
					    "uid",  "exe",  "target",  NULL };
	static const char *const named[] = { "request", "family", "cmd", NULL };
	struct vg_strv names = {};
	char f[FIELD_MAX];
	yaml_node_t *v;
	int bad = 0;

	if (!want_map(c, n, field))
		return -EINVAL;
	check_keys(c, n, field, keys);
	if (!(v = get(c, n, "name"))) {
		perr(c, n, field, "missing \"name\" (the syscalls, e.g. [ptrace])");
		bad = 1;
	} else {
		subfield(f, field, "name");
		if (get_strv(c, v, f, &names, NULL))
			bad = 1;
		else if (!names.n) {
			perr(c, v, f, "empty list");
			bad = 1;
		}
		/* check each name at its own position */
		for (size_t i = 0; i < names.n; i++) {
			yaml_node_t *it = v->type == YAML_SEQUENCE_NODE
						  ? nodeat(c, v->data.sequence.items.start[i])
						  : v;
			int nr = vg_syscall_nr(names.v[i]);

			if (nr < 0) {
				perr(c, it, f, "unknown syscall \"%s\" (x86_64 names, e.g. ptrace, "
					       "process_vm_readv, init_module)", names.v[i]);
				bad = 1;
				continue;
			}
			s->nrs = realloc(s->nrs, (s->nnrs + 1) * sizeof(*s->nrs));
			s->nrs[s->nnrs++] = nr;
		}
	}
	for (int k = 0; named[k]; k++) {
		const char *sc = vg_syscall_named_arg_syscall(named[k]);
		uint64_t *vals = NULL;
		size_t nv = 0;
		bool applies = false;

		if (!(v = get(c, n, named[k])))
			continue;
		subfield(f, field, named[k]);
		for (size_t i = 0; i < names.n; i++)
			applies |= !strcmp(names.v[i], sc);
		if (names.n && !applies) {
			perr(c, key_node(c, n, named[k]), f,
			     "\"%s\" applies to %s only, and name does not list it", named[k], sc);
			bad = 1;
			continue;
		}
		if (push_values(c, v, f, named[k], &vals, &nv)) {
			bad = 1;
			free(vals);
			continue;
		}
		add_arg_cond(s, 0, VG_ARG_IN, vals, nv);
	}
	if ((v = get(c, n, "args"))) {
		subfield(f, field, "args");
		bad |= !!parse_args(c, v, f, s);
	}
	if ((v = get(c, n, "uid"))) {
		subfield(f, field, "uid");
		bad |= !!parse_uid(c, v, f, &s->uid);
	}
	if ((v = get(c, n, "exe"))) {
		subfield(f, field, "exe");
		bad |= !!parse_path_sel(c, v, f, false, &s->exe);
	}
	if ((v = get(c, n, "target"))) {
		subfield(f, field, "target");
		bad |= !!parse_target(c, v, f, &s->relation);
	}
	strv_free(&names);
	return bad ? -EINVAL : 0;
}

static int parse_match(struct pctx *c, yaml_node_t *n, const char *field, struct vg_rule *r,
		       struct vg_rule_spec *s)
{
	static const char *const keys[] = { "exec", "file", "syscall", NULL };
	char f[FIELD_MAX];
	int found = 0, bad = 0;

	if (!want_map(c, n, field))
		return -EINVAL;
	check_keys(c, n, field, keys);
	for (int k = 0; keys[k]; k++) {
		yaml_node_t *v = get(c, n, keys[k]);

		if (!v)
			continue;
		if (found++) {
			perr(c, key_node(c, n, keys[k]), field,
			     "give exactly one of exec, file, syscall (found more)");
			return -EINVAL;
		}
		subfield(f, field, keys[k]);
		if (k == 0) {
			r->kind = VG_RK_EXEC;
			bad = parse_exec(c, v, f, s);
		} else if (k == 1) {
			r->kind = VG_RK_FILE;
			bad = parse_file(c, v, f, s);
		} else {
			r->kind = VG_RK_SYSCALL;
			bad = parse_syscall(c, v, f, s);
		}
	}
	if (!found) {
		perr(c, n, field, "give exactly one of exec, file, syscall");
		return -EINVAL;
	}
	return bad ? -EINVAL : 0;
}

/* ---------------- except, rate limit ---------------- */

static int parse_except_entry(struct pctx *c, yaml_node_t *n, const char *field,
			      struct vg_except *x)
{
	static const char *const keys[] = { "exe",  "argv",	 "parent",    "ancestor", "path",
					    "uid",  "container", "env_present", NULL };
	char f[FIELD_MAX];
	yaml_node_t *v;
	int bad = 0;

	x->container = -1;
	x->line = LINE(n);
	if (!want_map(c, n, field))
		return -EINVAL;
	check_keys(c, n, field, keys);
	if ((v = get(c, n, "exe"))) {
		subfield(f, field, "exe");
		bad |= !!parse_path_sel(c, v, f, false, &x->exe);
	}
	if ((v = get(c, n, "argv"))) {
		subfield(f, field, "argv");
		bad |= !!parse_argv_sel(c, v, f, &x->argv);
	}
	if ((v = get(c, n, "parent"))) {
		subfield(f, field, "parent");
		bad |= !!parse_proc_sel(c, v, f, false, &x->parent);
	}
	if ((v = get(c, n, "ancestor"))) {
		subfield(f, field, "ancestor");
		bad |= !!parse_proc_sel(c, v, f, true, &x->ancestor);
	}
	if ((v = get(c, n, "path"))) {
		subfield(f, field, "path");
		bad |= !!parse_path_sel(c, v, f, true, &x->path);
	}
	if ((v = get(c, n, "uid"))) {
		subfield(f, field, "uid");
		bad |= !!parse_uid(c, v, f, &x->uid);
	}
	if ((v = get(c, n, "container"))) {
		bool b;

		subfield(f, field, "container");
		if (get_bool(c, v, f, &b))
			bad = 1;
		else
			x->container = b;
	}
	if ((v = get(c, n, "env_present"))) {
		subfield(f, field, "env_present");
		bad |= !!get_strv(c, v, f, &x->env_present, chk_env);
	}
	if (!bad && n->data.mapping.pairs.top == n->data.mapping.pairs.start) {
		perr(c, n, field, "empty exception");
		bad = 1;
	}
	return bad ? -EINVAL : 0;
}

/* Entries of an except list; an item that is itself a list is spliced in, so
 * a YAML anchor of common exceptions can be reused: except: [*pkg, {...}]. */
static void collect_except(struct pctx *c, yaml_node_t *n, int depth, yaml_node_t ***v,
			   size_t *k)
{
	for (yaml_node_item_t *i = n->data.sequence.items.start; i < n->data.sequence.items.top; i++) {
		yaml_node_t *it = nodeat(c, *i);

		if (it->type == YAML_SEQUENCE_NODE && depth < 4) {
			collect_except(c, it, depth + 1, v, k);
			continue;
		}
		*v = realloc(*v, (*k + 1) * sizeof(**v));
		(*v)[(*k)++] = it;
	}
}

static int parse_except(struct pctx *c, yaml_node_t *n, const char *field, struct vg_rule_spec *s)
{
	yaml_node_t **items = NULL;
	size_t k = 0;
	int bad = 0;

	if (n->type == YAML_MAPPING_NODE) {
		s->except = calloc(1, sizeof(*s->except));
		s->nexcept = 1;
		return parse_except_entry(c, n, field, &s->except[0]);
	}
	if (n->type != YAML_SEQUENCE_NODE) {
		perr(c, n, field, "expected a list of exceptions, found %s", node_kind(n));
		return -EINVAL;
	}
	collect_except(c, n, 0, &items, &k);
	s->nexcept = k;
	s->except = calloc(k ? k : 1, sizeof(*s->except));
	for (size_t i = 0; i < k; i++) {
		char f[FIELD_MAX];

		if (snprintf(f, sizeof(f), "%s[%zu]", field, i) >= (int)sizeof(f))
			f[sizeof(f) - 1] = 0;
		bad |= !!parse_except_entry(c, items[i], f, &s->except[i]);
	}
	free(items);
	return bad ? -EINVAL : 0;
}

static const char *const per_names[] = { "process", "exe", "ancestry", "rule", "object", NULL };

static int parse_rate(struct pctx *c, yaml_node_t *n, const char *field, bool threshold,
		      struct vg_rate *rate)
{
	static const char *const keys[] = { "per", "count", "window", NULL };
	char f[FIELD_MAX];
	yaml_node_t *v;
	uint64_t x;
	int bad = 0, k;

	if (!threshold && sval(n)) {
		bool b;

		/* rate_limit: false turns limiting off */
		if (!get_bool(c, n, field, &b) && !b) {
			rate->count = 0;
			return 0;
		}
		if (b)
			perr(c, n, field, "expected false or {per, count, window}");
		return -EINVAL;
	}
	if (!want_map(c, n, field))
		return -EINVAL;
	check_keys(c, n, field, keys);
	if ((v = get(c, n, "per"))) {
		subfield(f, field, "per");
		if (get_enum(c, v, f, "key", per_names, &k))
			bad = 1;
		else
			rate->per = k;
	}
	if ((v = get(c, n, "count"))) {
		subfield(f, field, "count");
		if (get_uint(c, v, f, 1000000, &x))
			bad = 1;
		else if (threshold && x < 2) {
			perr(c, v, f, "a threshold needs a count of 2 or more");
			bad = 1;
		} else
			rate->count = x;
	} else if (threshold) {
		perr(c, n, field, "missing \"count\"");
		bad = 1;
	}
	if ((v = get(c, n, "window"))) {
		subfield(f, field, "window");
		if (get_duration(c, v, f, &x))
			bad = 1;
		else
			rate->window_ns = x;
	}
	return bad ? -EINVAL : 0;
}

/* ---------------- rule ---------------- */

static bool valid_id(const char *s)
{
	size_t n = strlen(s);

	if (!n || n > 64 || *s == '-')
		return false;
	for (; *s; s++)
		if (!(islower((unsigned char)*s) || isdigit((unsigned char)*s) || *s == '-'))
			return false;
	return true;
}

static bool valid_tactic(const char *s)
{
	return strlen(s) == 6 && !strncmp(s, "TA", 2) && strspn(s + 2, "0123456789") == 4;
}

static bool valid_technique(const char *s)
{
	size_t n = strlen(s);

	return (n == 5 || (n == 9 && s[5] == '.' && strspn(s + 6, "0123456789") == 3)) &&
	       s[0] == 'T' && strspn(s + 1, "0123456789") == 4;
}

static int parse_mitre(struct pctx *c, yaml_node_t *n, const char *field, struct vg_rule *r)
{
	static const char *const keys[] = { "tactic", "technique", NULL };
	yaml_node_t *t = get(c, n, "tactic"), *q = get(c, n, "technique");
	char f[FIELD_MAX];
	int bad = 0;

	if (!want_map(c, n, field))
		return -EINVAL;
	check_keys(c, n, field, keys);
	if (!t || !q) {
		perr(c, n, field, "missing \"%s\"", !t ? "tactic" : "technique");
		return -EINVAL;
	}
	subfield(f, field, "tactic");
	if (get_str(c, t, f, &r->tactic))
		bad = 1;
	else if (!valid_tactic(r->tactic)) {
		perr(c, t, f, "\"%s\" is not a tactic id (TAnnnn, e.g. TA0002)", r->tactic);
		bad = 1;
	} else if (!(r->tactic_name = vg_mitre_tactic_name(r->tactic))) {
		perr(c, t, f, "unknown MITRE ATT&CK tactic \"%s\"", r->tactic);
		bad = 1;
	}
	subfield(f, field, "technique");
	if (get_str(c, q, f, &r->technique))
		bad = 1;
	else if (!valid_technique(r->technique)) {
		perr(c, q, f, "\"%s\" is not a technique id (Tnnnn or Tnnnn.nnn, e.g. T1059.004)",
		     r->technique);
		bad = 1;
	} else if (!(r->technique_name = vg_mitre_technique_name(r->technique))) {
		perr(c, q, f, "unknown MITRE ATT&CK technique \"%s\" (not in vigil's table; see "
			      "docs/rules.md)", r->technique);
		bad = 1;
	} else if (r->tactic_name) {
		const char *tl = vg_mitre_technique_tactics(r->technique);

		if (tl && !strstr(tl, r->tactic)) {
			perr(c, q, f, "technique %s (%s) is not part of tactic %s (%s); it belongs to %s",
			     r->technique, r->technique_name, r->tactic, r->tactic_name, tl);
			bad = 1;
		}
	}
	return bad ? -EINVAL : 0;
}

static int parse_rule(struct pctx *c, yaml_node_t *n, const char *field, bool builtin,
		      struct vg_rule *r)
{
	static const char *const keys[] = { "id",    "title",  "description", "mitre",
					    "severity", "tags", "enabled",	"match",
					    "except", "rate_limit", "threshold", NULL };
	static const char *const sev[] = { "info", "low", "medium", "high", "critical", NULL };
	static const char *const required[] = { "id", "title", "mitre", "severity", "match", NULL };
	struct vg_rule_spec *s = calloc(1, sizeof(*s));
	char f[FIELD_MAX];
	yaml_node_t *v;
	int bad = 0, k;

	r->priv = s;
	r->enabled = true;
	r->bit = VG_RULE_NOBIT;
	r->source = strdup(builtin ? "builtin" : c->file);
	r->source_line = LINE(n);
	s->rate = (struct vg_rate){ .per = VG_PER_PROCESS, .count = 1, .window_ns = 60000000000ULL };
	s->threshold = (struct vg_rate){ .per = VG_PER_PROCESS, .window_ns = 60000000000ULL };
	s->parent.kthread = s->ancestor.kthread = -1;
	if (!want_map(c, n, field))
		return -EINVAL;
	check_keys(c, n, field, keys);
	for (int i = 0; required[i]; i++)
		if (!get(c, n, required[i])) {
			perr(c, n, field, "missing required field \"%s\"", required[i]);
			bad = 1;
		}
	if ((v = get(c, n, "id"))) {
		subfield(f, field, "id");
		if (get_str(c, v, f, &r->id))
			bad = 1;
		else if (!valid_id(r->id)) {
			perr(c, v, f, "\"%s\" is not a valid id (lowercase letters, digits and '-', "
				      "at most 64)", r->id);
			bad = 1;
		}
	}
	if ((v = get(c, n, "title"))) {
		subfield(f, field, "title");
		bad |= !!get_str(c, v, f, &r->title);
	}
	if ((v = get(c, n, "description"))) {
		subfield(f, field, "description");
		bad |= !!get_str(c, v, f, &r->description);
	}
	if (!r->description)
		r->description = strdup("");
	if ((v = get(c, n, "mitre"))) {
		subfield(f, field, "mitre");
		bad |= !!parse_mitre(c, v, f, r);
	}
	if ((v = get(c, n, "severity"))) {
		subfield(f, field, "severity");
		if (get_enum(c, v, f, "severity", sev, &k))
			bad = 1;
		else
			r->severity = k;
	}
	if ((v = get(c, n, "tags"))) {
		struct vg_strv t = {};

		subfield(f, field, "tags");
		bad |= !!get_strv(c, v, f, &t, chk_nonempty);
		r->tags = t.v;
		r->ntags = t.n;
	}
	if ((v = get(c, n, "enabled"))) {
		subfield(f, field, "enabled");
		bad |= !!get_bool(c, v, f, &r->enabled);
	}
	if ((v = get(c, n, "match"))) {
		subfield(f, field, "match");
		bad |= !!parse_match(c, v, f, r, s);
	}
	if ((v = get(c, n, "except"))) {
		subfield(f, field, "except");
		bad |= !!parse_except(c, v, f, s);
	}
	if ((v = get(c, n, "rate_limit"))) {
		subfield(f, field, "rate_limit");
		bad |= !!parse_rate(c, v, f, false, &s->rate);
	}
	if ((v = get(c, n, "threshold"))) {
		subfield(f, field, "threshold");
		bad |= !!parse_rate(c, v, f, true, &s->threshold);
	}
	return bad ? -EINVAL : 0;
}

/* ---------------- file ---------------- */

static void yaml_problem(struct pctx *c, yaml_parser_t *p)
{
	const yaml_mark_t *m = p->problem_mark.line || p->problem_mark.column ? &p->problem_mark
									      : &p->context_mark;
	char msg[256];

	if (p->context)
		snprintf(msg, sizeof(msg), "%s %s", p->problem ? p->problem : "syntax error",
			 p->context);
	else
		snprintf(msg, sizeof(msg), "%s", p->problem ? p->problem : "syntax error");
	vg_rule_error_add(c->errs, c->file, (int)m->line + 1, (int)m->column + 1, "",
			  "invalid YAML: %s", msg);
}

static void parse_top(struct pctx *c, yaml_node_t *root, bool builtin, struct vg_rule_file *out)
{
	static const char *const keys[] = { "rules", "disable", NULL };
	yaml_node_t *rules, *dis;

	if (is_null(root))
		return;
	if (!want_map(c, root, "")) {
		return;
	}
	check_keys(c, root, "", keys);
	if ((dis = get(c, root, "disable"))) {
		if (get_strv(c, dis, "disable", &out->disable, NULL) == 0) {
			size_t n = out->disable.n;

			out->disable_line = calloc(n ? n : 1, sizeof(int));
			out->disable_col = calloc(n ? n : 1, sizeof(int));
			for (size_t i = 0; i < n; i++) {
				yaml_node_t *it = dis->type == YAML_SEQUENCE_NODE
							  ? nodeat(c, dis->data.sequence.items.start[i])
							  : dis;

				out->disable_line[i] = LINE(it);
				out->disable_col[i] = COL(it);
			}
		}
	}
	rules = get(c, root, "rules");
	if (!rules || is_null(rules))
		return;
	if (rules->type != YAML_SEQUENCE_NODE) {
		perr(c, rules, "rules", "expected a list of rules, found %s", node_kind(rules));
		return;
	}
	out->n = rules->data.sequence.items.top - rules->data.sequence.items.start;
	out->rules = calloc(out->n ? out->n : 1, sizeof(*out->rules));
	for (size_t i = 0; i < out->n; i++) {
		yaml_node_t *rn = nodeat(c, rules->data.sequence.items.start[i]);
		struct vg_rule *r = &out->rules[i];
		char f[FIELD_MAX];

		snprintf(f, sizeof(f), "rules[%zu]", i);
		parse_rule(c, rn, f, builtin, r);
		if (!r->id)
			continue;
		for (size_t j = 0; j < i; j++)
			if (out->rules[j].id && !strcmp(out->rules[j].id, r->id)) {
				snprintf(f, sizeof(f), "rules[%zu].id", i);
				perr(c, get(c, rn, "id"), f,
				     "duplicate rule id \"%s\" (first at line %d)", r->id,
				     out->rules[j].source_line);
				break;
			}
	}
}

static int err_cmp(const void *a, const void *b)
{
	const struct vg_rule_error *x = a, *y = b;

	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	if (x->column != y->column)
		return x->column < y->column ? -1 : 1;
	return 0;
}

/* Errors of one file in reading order (qsort is not stable: ties keep any order). */
static void sort_errors(struct vg_rule_errors *e, size_t from)
{
	if (e->n > from + 1)
		qsort(e->v + from, e->n - from, sizeof(*e->v), err_cmp);
}

int vg_rule_file_parse(const char *name, const char *text, size_t len, bool builtin,
		       struct vg_rule_file *out, struct vg_rule_errors *errs)
{
	struct pctx c = { .file = name, .errs = errs, .errs_at_start = errs->n };
	yaml_parser_t parser;
	yaml_document_t doc, extra;
	yaml_node_t *root;

	memset(out, 0, sizeof(*out));
	if (!yaml_parser_initialize(&parser))
		return -ENOMEM;
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &doc)) {
		yaml_problem(&c, &parser);
		yaml_parser_delete(&parser);
		return -EINVAL;
	}
	c.doc = &doc;
	root = yaml_document_get_root_node(&doc);
	if (root)
		parse_top(&c, root, builtin, out);
	/* one document per file */
	if (root && yaml_parser_load(&parser, &extra)) {
		if (yaml_document_get_root_node(&extra))
			vg_rule_error_add(errs, name, (int)extra.start_mark.line + 1, 1, "",
					  "more than one YAML document; put all rules in one");
		yaml_document_delete(&extra);
	} else if (root) {
		yaml_problem(&c, &parser);
	}
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	sort_errors(errs, c.errs_at_start);
	return errs->n > c.errs_at_start ? -EINVAL : 0;
}
