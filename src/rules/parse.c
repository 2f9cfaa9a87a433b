// SPDX-License-Identifier: GPL-2.0
/*
 * Rule files: the schema. A YAML document (yaml.h keeps every node's line and
 * column) -> validated struct vg_rule. Every problem is reported, not just the
 * first, as file:line:column: dotted.field.path: message. The format is
 * documented in docs/rules.md; keep the two in step.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "rules/yaml.h"

/* ---------------- item checks ---------------- */

static bool chk_abs(struct y_ctx *c, yaml_node_t *it, const char *field)
{
	if (y_str(it)[0] == '/')
		return true;
	y_err(c, it, field, "\"%s\" is not an absolute path (paths are the kernel's resolved ones)",
	     y_str(it));
	return false;
}

static bool chk_name(struct y_ctx *c, yaml_node_t *it, const char *field)
{
	const char *s = y_str(it);

	if (*s && !strchr(s, '/'))
		return true;
	y_err(c, it, field, "\"%s\" is not a file name (no '/')", s);
	return false;
}

static bool chk_glob(struct y_ctx *c, yaml_node_t *it, const char *field)
{
	const char *s = y_str(it);

	if (*s == '/' || !strncmp(s, "**", 2))
		return true;
	y_err(c, it, field, "glob \"%s\" must be absolute or start with \"**\"", s);
	return false;
}

static bool chk_nonempty(struct y_ctx *c, yaml_node_t *it, const char *field)
{
	if (*y_str(it))
		return true;
	y_err(c, it, field, "empty string");
	return false;
}

static bool chk_env(struct y_ctx *c, yaml_node_t *it, const char *field)
{
	const char *s = y_str(it);
	bool ok = *s && !isdigit((unsigned char)*s);

	for (const char *p = s; *p; p++)
		ok &= isalnum((unsigned char)*p) || *p == '_';
	if (!ok)
		y_err(c, it, field, "\"%s\" is not an environment variable name", s);
	return ok;
}

/* ---------------- selectors ---------------- */

/* A path selector: a mapping of kinds, or a list (a scalar) of globs. */
static int parse_path_sel(struct y_ctx *c, yaml_node_t *n, const char *field, bool file,
			  struct vg_path_sel *s)
{
	static const char *const exe_keys[] = { "path", "prefix", "basename", "glob", NULL };
	static const char *const file_keys[] = { "exact", "prefix", "glob", "basename", "suffix",
						 NULL };
	const char *const *keys = file ? file_keys : exe_keys;
	char f[Y_FIELD_MAX];
	int bad = 0;

	s->set = true;
	if (n->type != YAML_MAPPING_NODE) {
		bad = y_get_strv(c, n, field, &s->glob, chk_glob);
		if (!bad && !s->glob.n) {
			y_err(c, n, field, "empty list");
			bad = 1;
		}
		return bad ? -EINVAL : 0;
	}
	if (y_check_keys(c, n, field, keys))
		bad = 1; /* "no paths given" would only repeat it */
	for (int i = 0; keys[i]; i++) {
		yaml_node_t *v = y_get(c, n, keys[i]);
		struct vg_strv *dst;
		y_item_check chk;

		if (!v)
			continue;
		y_field(f, field, keys[i]);
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
		if (y_get_strv(c, v, f, dst, chk))
			bad = 1;
	}
	if (!bad && !s->exact.n && !s->prefix.n && !s->basename.n && !s->glob.n && !s->suffix.n) {
		y_err(c, n, field, "no paths given (one of %s)",
		     file ? "exact, prefix, glob, basename, suffix" : "path, prefix, basename, glob");
		bad = 1;
	}
	return bad ? -EINVAL : 0;
}

static int compile_regex(struct y_ctx *c, yaml_node_t *n, const char *field, const char *src,
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
	y_err(c, n, field, "invalid regex \"%s\": %s", src, msg);
	return -EINVAL;
}

static int parse_argv_sel(struct y_ctx *c, yaml_node_t *n, const char *field, struct vg_argv_sel *a)
{
	static const char *const keys[] = { "contains", "regex", "any_arg_glob", NULL };
	char f[Y_FIELD_MAX];
	yaml_node_t *v;
	bool *ok;
	int bad = 0;

	if (!y_want_map(c, n, field))
		return -EINVAL;
	y_check_keys(c, n, field, keys);
	a->set = true;
	if ((v = y_get(c, n, "contains"))) {
		y_field(f, field, "contains");
		bad |= !!y_get_strv(c, v, f, &a->contains, chk_nonempty);
	}
	if ((v = y_get(c, n, "any_arg_glob"))) {
		y_field(f, field, "any_arg_glob");
		bad |= !!y_get_strv(c, v, f, &a->any_arg_glob, chk_nonempty);
	}
	if ((v = y_get(c, n, "regex")) && y_get_strv(c, v, (y_field(f, field, "regex"), f),
						  &a->regex_src, NULL)) {
		bad = 1;
	} else if (v) {
		a->regex = calloc(a->regex_src.n ? a->regex_src.n : 1, sizeof(regex_t));
		ok = calloc(a->regex_src.n ? a->regex_src.n : 1, sizeof(bool));
		/* report each bad pattern at its own line */
		for (size_t k = 0; k < a->regex_src.n; k++) {
			yaml_node_t *it = v->type == YAML_SEQUENCE_NODE
						  ? y_node(c, v->data.sequence.items.start[k])
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
		y_err(c, n, field, "no pattern given (contains, regex or any_arg_glob)");
		bad = 1;
	}
	return bad ? -EINVAL : 0;
}

static int parse_proc_sel(struct y_ctx *c, yaml_node_t *n, const char *field, bool ancestor,
			  struct vg_proc_sel *p)
{
	static const char *const keys[] = { "path",   "prefix",  "basename", "glob",
					    "argv",   "kthread", NULL };
	static const char *const akeys[] = { "path",	"prefix",  "basename",	"glob",
					     "argv",	"kthread", "max_depth", NULL };
	static const char *const exe_keys[] = { "path", "prefix", "basename", "glob" };
	char f[Y_FIELD_MAX];
	yaml_node_t *v;
	int bad = 0;

	p->kthread = -1;
	p->set = true;
	if (n->type != YAML_MAPPING_NODE) { /* a list of globs: shorthand for {glob: [...]} */
		return parse_path_sel(c, n, field, false, &p->exe);
	}
	y_check_keys(c, n, field, ancestor ? akeys : keys);
	for (size_t i = 0; i < 4; i++)
		if (y_get(c, n, exe_keys[i])) {
			/* exe part: reuse the path selector on a filtered view */
			yaml_node_t *val = y_get(c, n, exe_keys[i]);
			struct vg_strv *dst = i == 0   ? &p->exe.exact
					      : i == 1 ? &p->exe.prefix
					      : i == 2 ? &p->exe.basename
						       : &p->exe.glob;
			y_item_check chk = i == 2 ? chk_name : i == 3 ? chk_glob : chk_abs;

			y_field(f, field, exe_keys[i]);
			bad |= !!y_get_strv(c, val, f, dst, chk);
			p->exe.set = true;
		}
	if ((v = y_get(c, n, "argv"))) {
		y_field(f, field, "argv");
		bad |= !!parse_argv_sel(c, v, f, &p->argv);
	}
	if ((v = y_get(c, n, "kthread"))) {
		bool b;

		y_field(f, field, "kthread");
		if (y_get_bool(c, v, f, &b))
			bad = 1;
		else
			p->kthread = b;
	}
	if (ancestor && (v = y_get(c, n, "max_depth"))) {
		uint64_t d;

		y_field(f, field, "max_depth");
		if (y_get_uint(c, v, f, 64, &d))
			bad = 1;
		else
			p->max_depth = d;
	}
	if (!bad && !p->exe.set && !p->argv.set && p->kthread < 0) {
		y_err(c, n, field, "no condition given (path, prefix, basename, glob, argv, kthread)");
		bad = 1;
	}
	return bad ? -EINVAL : 0;
}

static int parse_uid(struct y_ctx *c, yaml_node_t *n, const char *field, struct vg_uid_sel *u)
{
	char f[Y_FIELD_MAX];
	uint64_t v;
	int bad = 0;

	u->set = true;
	if (n->type == YAML_MAPPING_NODE) {
		static const char *const keys[] = { "not", NULL };
		yaml_node_t *x = y_get(c, n, "not");

		y_check_keys(c, n, field, keys);
		if (!x) {
			y_err(c, n, field, "expected a uid, a list of uids or {not: uid}");
			return -EINVAL;
		}
		y_field(f, field, "not");
		if (x->type == YAML_MAPPING_NODE) {
			y_err(c, x, f, "expected a uid or a list of uids");
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
		if (y_get_uint(c, n, field, UINT32_MAX - 1, &v))
			return -EINVAL;
		u->v = malloc(sizeof(*u->v));
		u->v[0] = v;
		u->n = 1;
		return 0;
	}
	if (n->type != YAML_SEQUENCE_NODE) {
		y_err(c, n, field, "expected a uid, a list of uids or {not: uid}, found %s",
		     y_kind(n));
		return -EINVAL;
	}
	for (yaml_node_item_t *i = n->data.sequence.items.start; i < n->data.sequence.items.top; i++) {
		if (y_get_uint(c, y_node(c, *i), field, UINT32_MAX - 1, &v)) {
			bad = 1;
			continue;
		}
		u->v = realloc(u->v, (u->n + 1) * sizeof(*u->v));
		u->v[u->n++] = v;
	}
	if (!bad && !u->n) {
		y_err(c, n, field, "empty list");
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

static int parse_exec(struct y_ctx *c, yaml_node_t *n, const char *field, struct vg_rule_spec *s)
{
	static const char *const keys[] = { "exe", "argv", "parent", "ancestor", "uid",
					    "conditions", "env_present", "stdout_pipe_to",
					    "stdin_pipe_from", NULL };
	static const char *const conds[] = { "memfd", "stdio_socket", "gained_root", NULL };
	static const uint32_t cbits[] = { 1 << VG_XC_MEMFD, 1 << VG_XC_STDIO_SOCK,
					  1 << VG_XC_GAINED_ROOT };
	char f[Y_FIELD_MAX];
	yaml_node_t *v;
	int bad = 0;

	if (!y_want_map(c, n, field))
		return -EINVAL;
	y_check_keys(c, n, field, keys);
	if ((v = y_get(c, n, "exe"))) {
		y_field(f, field, "exe");
		bad |= !!parse_path_sel(c, v, f, false, &s->exe);
	}
	if ((v = y_get(c, n, "argv"))) {
		y_field(f, field, "argv");
		bad |= !!parse_argv_sel(c, v, f, &s->argv);
	}
	if ((v = y_get(c, n, "parent"))) {
		y_field(f, field, "parent");
		bad |= !!parse_proc_sel(c, v, f, false, &s->parent);
	}
	if ((v = y_get(c, n, "ancestor"))) {
		y_field(f, field, "ancestor");
		bad |= !!parse_proc_sel(c, v, f, true, &s->ancestor);
	}
	if ((v = y_get(c, n, "stdout_pipe_to"))) {
		y_field(f, field, "stdout_pipe_to");
		bad |= !!parse_proc_sel(c, v, f, false, &s->pipe_to);
	}
	if ((v = y_get(c, n, "stdin_pipe_from"))) {
		y_field(f, field, "stdin_pipe_from");
		bad |= !!parse_proc_sel(c, v, f, false, &s->pipe_from);
	}
	if ((v = y_get(c, n, "uid"))) {
		y_field(f, field, "uid");
		bad |= !!parse_uid(c, v, f, &s->uid);
	}
	if ((v = y_get(c, n, "conditions"))) {
		y_field(f, field, "conditions");
		bad |= !!y_get_enum_mask(c, v, f, "condition", conds, cbits, &s->conds);
	}
	if ((v = y_get(c, n, "env_present"))) {
		y_field(f, field, "env_present");
		bad |= !!y_get_strv(c, v, f, &s->env_present, chk_env);
	}
	if (!bad && n->data.mapping.pairs.top == n->data.mapping.pairs.start) {
		y_err(c, n, field, "empty: an exec rule needs at least one condition");
		bad = 1;
	}
	return bad ? -EINVAL : 0;
}

static int parse_target(struct y_ctx *c, yaml_node_t *n, const char *field, uint32_t *rel)
{
	return y_get_enum_mask(c, n, field, "relation", relation_names, relation_bits, rel);
}

static int parse_file(struct y_ctx *c, yaml_node_t *n, const char *field, struct vg_rule_spec *s)
{
	static const char *const keys[] = { "path",   "actions", "uid",	    "exe",
					    "env_present", "mode", "type", "own_exe",
					    "target", "include_failed", NULL };
	static const char *const modes[] = { "setuid", "setgid", "sticky", NULL };
	static const uint32_t mbits[] = { 04000, 02000, 01000 };
	static const char *const types[] = { "file", "dir", "symlink", "other", NULL };
	static const uint32_t tbits[] = { VG_FT_FILE, VG_FT_DIR, VG_FT_SYMLINK, VG_FT_OTHER };
	char f[Y_FIELD_MAX];
	yaml_node_t *v;
	int bad = 0;

	if (!y_want_map(c, n, field))
		return -EINVAL;
	y_check_keys(c, n, field, keys);
	if ((v = y_get(c, n, "path"))) {
		y_field(f, field, "path");
		bad |= !!parse_path_sel(c, v, f, true, &s->path);
	} else {
		y_err(c, n, field, "missing \"path\"");
		bad = 1;
	}
	if ((v = y_get(c, n, "actions"))) {
		y_field(f, field, "actions");
		bad |= !!y_get_enum_mask(c, v, f, "action", action_names, action_bits, &s->actions);
	} else {
		y_err(c, n, field, "missing \"actions\"");
		bad = 1;
	}
	if ((v = y_get(c, n, "uid"))) {
		y_field(f, field, "uid");
		bad |= !!parse_uid(c, v, f, &s->uid);
	}
	if ((v = y_get(c, n, "exe"))) {
		y_field(f, field, "exe");
		bad |= !!parse_path_sel(c, v, f, false, &s->exe);
	}
	if ((v = y_get(c, n, "env_present"))) {
		y_field(f, field, "env_present");
		bad |= !!y_get_strv(c, v, f, &s->env_present, chk_env);
	}
	if ((v = y_get(c, n, "mode"))) {
		y_field(f, field, "mode");
		bad |= !!y_get_enum_mask(c, v, f, "mode bit", modes, mbits, &s->mode_bits);
	}
	if ((v = y_get(c, n, "type"))) {
		y_field(f, field, "type");
		bad |= !!y_get_enum_mask(c, v, f, "file type", types, tbits, &s->types);
	}
	if ((v = y_get(c, n, "own_exe"))) {
		y_field(f, field, "own_exe");
		bad |= !!y_get_bool(c, v, f, &s->own_exe);
	}
	if ((v = y_get(c, n, "target"))) {
		y_field(f, field, "target");
		bad |= !!parse_target(c, v, f, &s->relation);
	}
	if ((v = y_get(c, n, "include_failed"))) {
		y_field(f, field, "include_failed");
		bad |= !!y_get_bool(c, v, f, &s->include_failed);
	}
	return bad ? -EINVAL : 0;
}

static int push_values(struct y_ctx *c, yaml_node_t *n, const char *field, const char *named,
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
			items[i] = y_node(c, n->data.sequence.items.start[i]);
		if (!count) {
			y_err(c, n, field, "empty list");
			bad = 1;
		}
	} else if (n->type != YAML_SCALAR_NODE) {
		y_err(c, n, field, "expected a value or a list of values, found %s", y_kind(n));
		return -EINVAL;
	}
	for (size_t i = 0; i < count; i++) {
		const char *s = y_str(items[i]);
		uint64_t x;
		int found = 0;

		if (!s) {
			y_err(c, items[i], field, "expected a value, found %s", y_kind(items[i]));
			bad = 1;
			continue;
		}
		if (named)
			vg_syscall_named_arg(named, s, &x, &found);
		else
			found = !y_parse_u64(s, &x);
		if (!found) {
			y_err(c, items[i], field, "unknown %s \"%s\"",
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

static int parse_args(struct y_ctx *c, yaml_node_t *n, const char *field, struct vg_rule_spec *s)
{
	static const char *const keys[] = { "arg", "in", "not_in", "mask", NULL };
	int bad = 0;

	if (n->type != YAML_SEQUENCE_NODE) {
		y_err(c, n, field, "expected a list of {arg: N, in: [...]}, found %s", y_kind(n));
		return -EINVAL;
	}
	for (yaml_node_item_t *i = n->data.sequence.items.start; i < n->data.sequence.items.top; i++) {
		yaml_node_t *it = y_node(c, *i), *a, *v;
		char f[Y_FIELD_MAX], g[Y_FIELD_MAX];
		uint64_t idx;
		int ops = 0;

		if (snprintf(f, sizeof(f), "%s[%d]", field,
			     (int)(i - n->data.sequence.items.start)) >= (int)sizeof(f))
			f[sizeof(f) - 1] = 0;
		if (!y_want_map(c, it, f)) {
			bad = 1;
			continue;
		}
		y_check_keys(c, it, f, keys);
		y_field(g, f, "arg");
		if (!(a = y_get(c, it, "arg"))) {
			y_err(c, it, f, "missing \"arg\" (0-5)");
			bad = 1;
			continue;
		}
		if (y_get_uint(c, a, g, 5, &idx)) {
			bad = 1;
			continue;
		}
		for (int k = 1; keys[k]; k++) {
			uint64_t *vals = NULL;
			size_t nv = 0;

			if (!(v = y_get(c, it, keys[k])))
				continue;
			ops++;
			y_field(g, f, keys[k]);
			if (push_values(c, v, g, NULL, &vals, &nv)) {
				bad = 1;
				free(vals);
				continue;
			}
			add_arg_cond(s, idx, k == 1 ? VG_ARG_IN : k == 2 ? VG_ARG_NOT_IN : VG_ARG_MASK,
				     vals, nv);
		}
		if (!ops) {
			y_err(c, it, f, "no condition (in, not_in or mask)");
			bad = 1;
		}
	}
	return bad ? -EINVAL : 0;
}

static int parse_syscall(struct y_ctx *c, yaml_node_t *n, const char *field,
			 struct vg_rule_spec *s)
{
	static const char *const keys[] = { "name", "args", "request", "family", "cmd",
					    "uid",  "exe",  "target",  "host_namespace", "path", NULL };
	static const char *const named[] = { "request", "family", "cmd", NULL };
	struct vg_strv names = {};
	char f[Y_FIELD_MAX];
	yaml_node_t *v;
	int bad = 0;

	if (!y_want_map(c, n, field))
		return -EINVAL;
	y_check_keys(c, n, field, keys);
	if (!(v = y_get(c, n, "name"))) {
		y_err(c, n, field, "missing \"name\" (the syscalls, e.g. [ptrace])");
		bad = 1;
	} else {
		y_field(f, field, "name");
		if (y_get_strv(c, v, f, &names, NULL))
			bad = 1;
		else if (!names.n) {
			y_err(c, v, f, "empty list");
			bad = 1;
		}
		/* check each name at its own position */
		for (size_t i = 0; i < names.n; i++) {
			yaml_node_t *it = v->type == YAML_SEQUENCE_NODE
						  ? y_node(c, v->data.sequence.items.start[i])
						  : v;
			int nr = vg_syscall_nr(names.v[i]);

			if (nr < 0) {
				y_err(c, it, f, "unknown syscall \"%s\" (x86_64 names, e.g. ptrace, "
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

		if (!(v = y_get(c, n, named[k])))
			continue;
		y_field(f, field, named[k]);
		for (size_t i = 0; i < names.n; i++)
			applies |= !strcmp(names.v[i], sc);
		if (names.n && !applies) {
			y_err(c, y_key_node(c, n, named[k]), f,
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
	if ((v = y_get(c, n, "args"))) {
		y_field(f, field, "args");
		bad |= !!parse_args(c, v, f, s);
	}
	if ((v = y_get(c, n, "uid"))) {
		y_field(f, field, "uid");
		bad |= !!parse_uid(c, v, f, &s->uid);
	}
	if ((v = y_get(c, n, "exe"))) {
		y_field(f, field, "exe");
		bad |= !!parse_path_sel(c, v, f, false, &s->exe);
	}
	if ((v = y_get(c, n, "target"))) {
		y_field(f, field, "target");
		bad |= !!parse_target(c, v, f, &s->relation);
	}
	if ((v = y_get(c, n, "path"))) {
		y_field(f, field, "path");
		bad |= !!parse_path_sel(c, v, f, true, &s->path);
	}
	if ((v = y_get(c, n, "host_namespace"))) {
		bool setns = false;

		y_field(f, field, "host_namespace");
		for (size_t i = 0; i < names.n; i++)
			setns |= !strcmp(names.v[i], "setns");
		if (y_get_bool(c, v, f, &s->host_ns))
			bad = 1;
		else if (names.n && (!setns || names.n != 1)) {
			y_err(c, y_key_node(c, n, "host_namespace"), f,
			     "\"host_namespace\" applies to setns only: name must be [setns]");
			bad = 1;
		}
	}
	vg_strv_free(&names);
	return bad ? -EINVAL : 0;
}

static int parse_match(struct y_ctx *c, yaml_node_t *n, const char *field, struct vg_rule *r,
		       struct vg_rule_spec *s)
{
	static const char *const keys[] = { "exec", "file", "syscall", NULL };
	char f[Y_FIELD_MAX];
	int found = 0, bad = 0;

	if (!y_want_map(c, n, field))
		return -EINVAL;
	y_check_keys(c, n, field, keys);
	for (int k = 0; keys[k]; k++) {
		yaml_node_t *v = y_get(c, n, keys[k]);

		if (!v)
			continue;
		if (found++) {
			y_err(c, y_key_node(c, n, keys[k]), field,
			     "give exactly one of exec, file, syscall (found more)");
			return -EINVAL;
		}
		y_field(f, field, keys[k]);
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
		y_err(c, n, field, "give exactly one of exec, file, syscall");
		return -EINVAL;
	}
	return bad ? -EINVAL : 0;
}

/* ---------------- except, rate limit ---------------- */

static int parse_except_entry(struct y_ctx *c, yaml_node_t *n, const char *field,
			      struct vg_except *x)
{
	static const char *const keys[] = { "exe",  "argv",	 "parent",    "ancestor", "path",
					    "uid",  "container", "env_present", NULL };
	char f[Y_FIELD_MAX];
	yaml_node_t *v;
	int bad = 0;

	x->container = -1;
	x->line = Y_LINE(n);
	if (!y_want_map(c, n, field))
		return -EINVAL;
	y_check_keys(c, n, field, keys);
	if ((v = y_get(c, n, "exe"))) {
		y_field(f, field, "exe");
		bad |= !!parse_path_sel(c, v, f, false, &x->exe);
	}
	if ((v = y_get(c, n, "argv"))) {
		y_field(f, field, "argv");
		bad |= !!parse_argv_sel(c, v, f, &x->argv);
	}
	if ((v = y_get(c, n, "parent"))) {
		y_field(f, field, "parent");
		bad |= !!parse_proc_sel(c, v, f, false, &x->parent);
	}
	if ((v = y_get(c, n, "ancestor"))) {
		y_field(f, field, "ancestor");
		bad |= !!parse_proc_sel(c, v, f, true, &x->ancestor);
	}
	if ((v = y_get(c, n, "path"))) {
		y_field(f, field, "path");
		bad |= !!parse_path_sel(c, v, f, true, &x->path);
	}
	if ((v = y_get(c, n, "uid"))) {
		y_field(f, field, "uid");
		bad |= !!parse_uid(c, v, f, &x->uid);
	}
	if ((v = y_get(c, n, "container"))) {
		bool b;

		y_field(f, field, "container");
		if (y_get_bool(c, v, f, &b))
			bad = 1;
		else
			x->container = b;
	}
	if ((v = y_get(c, n, "env_present"))) {
		y_field(f, field, "env_present");
		bad |= !!y_get_strv(c, v, f, &x->env_present, chk_env);
	}
	if (!bad && n->data.mapping.pairs.top == n->data.mapping.pairs.start) {
		y_err(c, n, field, "empty exception");
		bad = 1;
	}
	return bad ? -EINVAL : 0;
}

/* Entries of an except list; an item that is itself a list is spliced in, so
 * a YAML anchor of common exceptions can be reused: except: [*pkg, {...}]. */
static void collect_except(struct y_ctx *c, yaml_node_t *n, int depth, yaml_node_t ***v,
			   size_t *k)
{
	for (yaml_node_item_t *i = n->data.sequence.items.start; i < n->data.sequence.items.top; i++) {
		yaml_node_t *it = y_node(c, *i);

		if (it->type == YAML_SEQUENCE_NODE && depth < 4) {
			collect_except(c, it, depth + 1, v, k);
			continue;
		}
		*v = realloc(*v, (*k + 1) * sizeof(**v));
		(*v)[(*k)++] = it;
	}
}

static int parse_except(struct y_ctx *c, yaml_node_t *n, const char *field, struct vg_rule_spec *s)
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
		y_err(c, n, field, "expected a list of exceptions, found %s", y_kind(n));
		return -EINVAL;
	}
	collect_except(c, n, 0, &items, &k);
	s->nexcept = k;
	s->except = calloc(k ? k : 1, sizeof(*s->except));
	for (size_t i = 0; i < k; i++) {
		char f[Y_FIELD_MAX];

		if (snprintf(f, sizeof(f), "%s[%zu]", field, i) >= (int)sizeof(f))
			f[sizeof(f) - 1] = 0;
		bad |= !!parse_except_entry(c, items[i], f, &s->except[i]);
	}
	free(items);
	return bad ? -EINVAL : 0;
}

static const char *const per_names[] = { "process", "exe", "ancestry", "rule", "object", "stdin",
					  NULL };

static int parse_rate(struct y_ctx *c, yaml_node_t *n, const char *field, bool threshold,
		      struct vg_rate *rate)
{
	static const char *const keys[] = { "per", "count", "window", NULL };
	char f[Y_FIELD_MAX];
	yaml_node_t *v;
	uint64_t x;
	int bad = 0, k;

	if (!threshold && y_str(n)) {
		bool b;

		/* rate_limit: false turns limiting off */
		if (!y_get_bool(c, n, field, &b) && !b) {
			rate->count = 0;
			return 0;
		}
		if (b)
			y_err(c, n, field, "expected false or {per, count, window}");
		return -EINVAL;
	}
	if (!y_want_map(c, n, field))
		return -EINVAL;
	y_check_keys(c, n, field, keys);
	if ((v = y_get(c, n, "per"))) {
		y_field(f, field, "per");
		if (y_get_enum(c, v, f, "key", per_names, &k))
			bad = 1;
		else
			rate->per = k;
	}
	if ((v = y_get(c, n, "count"))) {
		y_field(f, field, "count");
		if (y_get_uint(c, v, f, 1000000, &x))
			bad = 1;
		else if (threshold && x < 2) {
			y_err(c, v, f, "a threshold needs a count of 2 or more");
			bad = 1;
		} else
			rate->count = x;
	} else if (threshold) {
		y_err(c, n, field, "missing \"count\"");
		bad = 1;
	}
	if ((v = y_get(c, n, "window"))) {
		y_field(f, field, "window");
		if (y_get_duration(c, v, f, &x))
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

static int parse_mitre(struct y_ctx *c, yaml_node_t *n, const char *field, struct vg_rule *r)
{
	static const char *const keys[] = { "tactic", "technique", NULL };
	yaml_node_t *t = y_get(c, n, "tactic"), *q = y_get(c, n, "technique");
	char f[Y_FIELD_MAX];
	int bad = 0;

	if (!y_want_map(c, n, field))
		return -EINVAL;
	y_check_keys(c, n, field, keys);
	if (!t || !q) {
		y_err(c, n, field, "missing \"%s\"", !t ? "tactic" : "technique");
		return -EINVAL;
	}
	y_field(f, field, "tactic");
	if (y_get_str(c, t, f, &r->tactic))
		bad = 1;
	else if (!valid_tactic(r->tactic)) {
		y_err(c, t, f, "\"%s\" is not a tactic id (TAnnnn, e.g. TA0002)", r->tactic);
		bad = 1;
	} else if (!(r->tactic_name = vg_mitre_tactic_name(r->tactic))) {
		y_err(c, t, f, "unknown MITRE ATT&CK tactic \"%s\"", r->tactic);
		bad = 1;
	}
	y_field(f, field, "technique");
	if (y_get_str(c, q, f, &r->technique))
		bad = 1;
	else if (!valid_technique(r->technique)) {
		y_err(c, q, f, "\"%s\" is not a technique id (Tnnnn or Tnnnn.nnn, e.g. T1059.004)",
		     r->technique);
		bad = 1;
	} else if (!(r->technique_name = vg_mitre_technique_name(r->technique))) {
		y_err(c, q, f, "unknown MITRE ATT&CK technique \"%s\" (not in vigil's table; see "
			      "docs/rules.md)", r->technique);
		bad = 1;
	} else if (r->tactic_name) {
		const char *tl = vg_mitre_technique_tactics(r->technique);

		if (tl && !strstr(tl, r->tactic)) {
			y_err(c, q, f, "technique %s (%s) is not part of tactic %s (%s); it belongs to %s",
			     r->technique, r->technique_name, r->tactic, r->tactic_name, tl);
			bad = 1;
		}
	}
	return bad ? -EINVAL : 0;
}

static int parse_rule(struct y_ctx *c, yaml_node_t *n, const char *field, bool builtin,
		      struct vg_rule *r)
{
	static const char *const keys[] = { "id",    "title",  "description", "mitre",
					    "severity", "tags", "enabled",	"match",
					    "except", "rate_limit", "threshold", NULL };
	static const char *const sev[] = { "info", "low", "medium", "high", "critical", NULL };
	static const char *const required[] = { "id", "title", "mitre", "severity", "match", NULL };
	struct vg_rule_spec *s = calloc(1, sizeof(*s));
	char f[Y_FIELD_MAX];
	yaml_node_t *v;
	int bad = 0, k;

	r->priv = s;
	r->enabled = true;
	r->bit = VG_RULE_NOBIT;
	r->source = strdup(builtin ? "builtin" : c->file);
	r->source_line = Y_LINE(n);
	s->rate = (struct vg_rate){ .per = VG_PER_PROCESS, .count = 1, .window_ns = 60000000000ULL };
	s->threshold = (struct vg_rate){ .per = VG_PER_PROCESS, .window_ns = 60000000000ULL };
	s->parent.kthread = s->ancestor.kthread = s->pipe_to.kthread = s->pipe_from.kthread = -1;
	if (!y_want_map(c, n, field))
		return -EINVAL;
	y_check_keys(c, n, field, keys);
	for (int i = 0; required[i]; i++)
		if (!y_get(c, n, required[i])) {
			y_err(c, n, field, "missing required field \"%s\"", required[i]);
			bad = 1;
		}
	if ((v = y_get(c, n, "id"))) {
		y_field(f, field, "id");
		if (y_get_str(c, v, f, &r->id))
			bad = 1;
		else if (!valid_id(r->id)) {
			y_err(c, v, f, "\"%s\" is not a valid id (lowercase letters, digits and '-', "
				      "at most 64)", r->id);
			bad = 1;
		}
	}
	if ((v = y_get(c, n, "title"))) {
		y_field(f, field, "title");
		bad |= !!y_get_str(c, v, f, &r->title);
	}
	if ((v = y_get(c, n, "description"))) {
		y_field(f, field, "description");
		bad |= !!y_get_str(c, v, f, &r->description);
	}
	/* folded block scalars (>) end in a newline */
	for (char *t = r->description; t && *t && isspace((unsigned char)t[strlen(t) - 1]);)
		t[strlen(t) - 1] = 0;
	for (char *t = r->title; t && *t && isspace((unsigned char)t[strlen(t) - 1]);)
		t[strlen(t) - 1] = 0;
	if (!r->description)
		r->description = strdup("");
	if ((v = y_get(c, n, "mitre"))) {
		y_field(f, field, "mitre");
		bad |= !!parse_mitre(c, v, f, r);
	}
	if ((v = y_get(c, n, "severity"))) {
		y_field(f, field, "severity");
		if (y_get_enum(c, v, f, "severity", sev, &k))
			bad = 1;
		else
			r->severity = k;
	}
	if ((v = y_get(c, n, "tags"))) {
		struct vg_strv t = {};

		y_field(f, field, "tags");
		bad |= !!y_get_strv(c, v, f, &t, chk_nonempty);
		r->tags = t.v;
		r->ntags = t.n;
	}
	if ((v = y_get(c, n, "enabled"))) {
		y_field(f, field, "enabled");
		bad |= !!y_get_bool(c, v, f, &r->enabled);
	}
	if ((v = y_get(c, n, "match"))) {
		y_field(f, field, "match");
		bad |= !!parse_match(c, v, f, r, s);
	}
	if ((v = y_get(c, n, "except"))) {
		y_field(f, field, "except");
		bad |= !!parse_except(c, v, f, s);
	}
	if ((v = y_get(c, n, "rate_limit"))) {
		y_field(f, field, "rate_limit");
		bad |= !!parse_rate(c, v, f, false, &s->rate);
	}
	if ((v = y_get(c, n, "threshold"))) {
		y_field(f, field, "threshold");
		bad |= !!parse_rate(c, v, f, true, &s->threshold);
	}
	return bad ? -EINVAL : 0;
}

/* ---------------- file ---------------- */

static void yaml_problem(struct y_ctx *c, yaml_parser_t *p)
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

static void parse_top(struct y_ctx *c, yaml_node_t *root, bool builtin, struct vg_rule_file *out)
{
	static const char *const keys[] = { "rules", "disable", NULL };
	yaml_node_t *rules, *dis;

	if (y_is_null(root))
		return;
	if (!y_want_map(c, root, "")) {
		return;
	}
	y_check_keys(c, root, "", keys);
	if ((dis = y_get(c, root, "disable"))) {
		if (y_get_strv(c, dis, "disable", &out->disable, NULL) == 0) {
			size_t n = out->disable.n;

			out->disable_line = calloc(n ? n : 1, sizeof(int));
			out->disable_col = calloc(n ? n : 1, sizeof(int));
			for (size_t i = 0; i < n; i++) {
				yaml_node_t *it = dis->type == YAML_SEQUENCE_NODE
							  ? y_node(c, dis->data.sequence.items.start[i])
							  : dis;

				out->disable_line[i] = Y_LINE(it);
				out->disable_col[i] = Y_COL(it);
			}
		}
	}
	rules = y_get(c, root, "rules");
	if (!rules || y_is_null(rules))
		return;
	if (rules->type != YAML_SEQUENCE_NODE) {
		y_err(c, rules, "rules", "expected a list of rules, found %s", y_kind(rules));
		return;
	}
	out->n = rules->data.sequence.items.top - rules->data.sequence.items.start;
	out->rules = calloc(out->n ? out->n : 1, sizeof(*out->rules));
	for (size_t i = 0; i < out->n; i++) {
		yaml_node_t *rn = y_node(c, rules->data.sequence.items.start[i]);
		struct vg_rule *r = &out->rules[i];
		char f[Y_FIELD_MAX];

		snprintf(f, sizeof(f), "rules[%zu]", i);
		parse_rule(c, rn, f, builtin, r);
		if (!r->id)
			continue;
		for (size_t j = 0; j < i; j++)
			if (out->rules[j].id && !strcmp(out->rules[j].id, r->id)) {
				snprintf(f, sizeof(f), "rules[%zu].id", i);
				y_err(c, y_get(c, rn, "id"), f,
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
	struct y_ctx c = { .file = name, .errs = errs, .errs_at_start = errs->n };
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
