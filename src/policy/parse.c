// SPDX-License-Identifier: GPL-2.0
/*
 * RuntimePolicy YAML -> struct vg_policy, with the rules' line-aware YAML
 * helpers (src/rules/yaml.h): every problem is reported at its line:column
 * with the dotted field path, and parsing goes on so one run shows them all.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "netpolicy/netpolicy.h"
#include "policy/policy.h"
#include "rules/yaml.h"

static const char *const action_names[] = { "alert", "block", "kill", "freeze", NULL };

/* A path the kernel can match exactly or by prefix: absolute, no glob but a
 * trailing "**" after a slash (a prefix). */
static bool kernel_path(struct y_ctx *c, yaml_node_t *it, const char *field)
{
	const char *s = y_str(it);
	size_t n = s ? strlen(s) : 0;

	if (!s || s[0] != '/') {
		y_err(c, it, field, "expected an absolute path, found \"%s\"", s ? s : "");
		return false;
	}
	if (n > VG_LPM_MAX) {
		y_err(c, it, field, "longer than %d bytes: the kernel compares that much", VG_LPM_MAX);
		return false;
	}
	const char *meta = strpbrk(s, "*?[");

	if (meta && !(meta > s && meta[-1] == '/' && !strcmp(meta, "**"))) {
		y_err(c, it, field, "\"%s\": the kernel matches exact paths and prefixes "
		      "(\"/tmp/\" or \"/tmp/**\": anything under /tmp); other globs are not "
		      "enforceable", s);
		return false;
	}
	return true;
}

static bool abs_path(struct y_ctx *c, yaml_node_t *it, const char *field)
{
	const char *s = y_str(it);

	if (!s || s[0] != '/') {
		y_err(c, it, field, "expected an absolute path, found \"%s\"", s ? s : "");
		return false;
	}
	return true;
}

static int get_strv(struct y_ctx *c, yaml_node_t *n, const char *field, const char *key,
		    struct vg_strv *out, y_item_check check)
{
	char f[Y_FIELD_MAX];
	yaml_node_t *v = y_get(c, n, key);

	if (!v)
		return 0;
	y_field(f, field, key);
	if (y_get_strv(c, v, f, out, check))
		return -EINVAL;
	if (!out->n) {
		y_err(c, v, f, "empty list");
		return -EINVAL;
	}
	return 0;
}

static int parse_target(struct y_ctx *c, yaml_node_t *n, struct vg_pol_target *t)
{
	static const char *const keys[] = { "processName", "exe", "ancestor", "uid", "cgroup",
					    "containerId", "all", NULL };
	const char *field = "spec.target";
	yaml_node_t *v;
	int bad = 0;
	char f[Y_FIELD_MAX];

	t->line = Y_LINE(n);
	if (!y_want_map(c, n, field))
		return -EINVAL;
	bad |= y_check_keys(c, n, field, keys) > 0;
	bad |= !!get_strv(c, n, field, "processName", &t->names, NULL);
	bad |= !!get_strv(c, n, field, "exe", &t->exe, kernel_path);
	bad |= !!get_strv(c, n, field, "ancestor", &t->ancestors, abs_path);
	bad |= !!get_strv(c, n, field, "cgroup", &t->cgroups, abs_path);
	bad |= !!get_strv(c, n, field, "containerId", &t->containers, NULL);
	for (size_t i = 0; i < t->names.n; i++)
		if (!t->names.v[i][0]) {
			y_err(c, y_get(c, n, "processName"), "spec.target.processName", "empty name");
			bad = 1;
		}
	if ((v = y_get(c, n, "uid"))) {
		struct vg_strv u = {};

		y_field(f, field, "uid");
		if (y_get_strv(c, v, f, &u, NULL)) {
			bad = 1;
		} else {
			t->uids = calloc(u.n ? u.n : 1, sizeof(*t->uids));
			for (size_t i = 0; i < u.n; i++) {
				uint64_t x;

				if (y_parse_u64(u.v[i], &x) || x > UINT32_MAX) {
					y_err(c, v, f, "\"%s\" is not a uid (a number)", u.v[i]);
					bad = 1;
					continue;
				}
				t->uids[t->nuids++] = x;
			}
		}
		vg_strv_free(&u);
	}
	if ((v = y_get(c, n, "all"))) {
		y_field(f, field, "all");
		bad |= !!y_get_bool(c, v, f, &t->all);
	}
	if (!bad && !t->all && !t->names.n && !t->exe.n && !t->ancestors.n && !t->cgroups.n &&
	    !t->containers.n && !t->nuids) {
		y_err(c, n, field, "no target: give processName, exe, ancestor, uid, cgroup, "
		      "containerId, or all: true");
		bad = 1;
	}
	if (!bad && t->all && (t->names.n || t->exe.n || t->ancestors.n || t->cgroups.n ||
			       t->containers.n || t->nuids)) {
		y_err(c, n, field, "all: true with other fields: say one or the other");
		bad = 1;
	}
	return bad ? -EINVAL : 0;
}

/* One argument condition: request/family/cmd by name, or args: {arg: N, in: [...]}. */
static int parse_arg(struct y_ctx *c, yaml_node_t *n, const char *field, struct vg_pol_rule *r)
{
	static const char *const named[] = { "request", "family", "cmd", NULL };
	char f[Y_FIELD_MAX];
	yaml_node_t *v;
	int found = 0;

	for (int k = 0; named[k]; k++) {
		struct vg_strv vals = {};
		const char *sc = vg_syscall_named_arg_syscall(named[k]);

		if (!(v = y_get(c, n, named[k])))
			continue;
		y_field(f, field, named[k]);
		if (found++) {
			y_err(c, v, f, "one argument condition per rule (split it into two rules)");
			return -EINVAL;
		}
		if (r->sysnames.n != 1 || strcmp(r->sysnames.v[0], sc)) {
			y_err(c, y_key_node(c, n, named[k]), f,
			      "\"%s\" applies to syscalls: [%s] alone", named[k], sc);
			return -EINVAL;
		}
		if (y_get_strv(c, v, f, &vals, NULL))
			return -EINVAL;
		for (size_t i = 0; i < vals.n; i++) {
			uint64_t x;
			int ok = 0;

			r->arg = vg_syscall_named_arg(named[k], vals.v[i], &x, &ok);
			if (!ok) {
				y_err(c, v, f, "unknown %s \"%s\"", named[k], vals.v[i]);
				vg_strv_free(&vals);
				return -EINVAL;
			}
			r->argv = realloc(r->argv, (r->nargv + 1) * sizeof(*r->argv));
			r->argv[r->nargv++] = x;
		}
		vg_strv_free(&vals);
	}
	if ((v = y_get(c, n, "args"))) {
		static const char *const keys[] = { "arg", "in", NULL };
		struct vg_strv vals = {};
		yaml_node_t *a, *in;
		uint64_t idx;

		y_field(f, field, "args");
		if (found++) {
			y_err(c, v, f, "one argument condition per rule (split it into two rules)");
			return -EINVAL;
		}
		if (!y_want_map(c, v, f))
			return -EINVAL;
		y_check_keys(c, v, f, keys);
		a = y_get(c, v, "arg");
		in = y_get(c, v, "in");
		if (!a || !in) {
			y_err(c, v, f, "expected {arg: 0-5, in: [values]}");
			return -EINVAL;
		}
		if (y_get_uint(c, a, f, 5, &idx) || y_get_strv(c, in, f, &vals, NULL))
			return -EINVAL;
		r->arg = idx;
		for (size_t i = 0; i < vals.n; i++) {
			uint64_t x;

			if (y_parse_u64(vals.v[i], &x)) {
				y_err(c, in, f, "\"%s\" is not a number", vals.v[i]);
				vg_strv_free(&vals);
				return -EINVAL;
			}
			r->argv = realloc(r->argv, (r->nargv + 1) * sizeof(*r->argv));
			r->argv[r->nargv++] = x;
		}
		vg_strv_free(&vals);
	}
	return 0;
}

static int parse_rule(struct y_ctx *c, yaml_node_t *n, const char *field, struct vg_pol_rule *r)
{
	static const char *const keys[] = { "action", "syscalls", "exec", "files", "network",
					    "detections", "message", "request", "family", "cmd",
					    "args", "access", NULL };
	static const char *const triggers[] = { "syscalls", "exec", "detections", "files", NULL };
	static const char *const accesses[] = { "read", "write", "unlink", "rename", "chmod", NULL };
	static const uint32_t access_bits[] = { 1, 2, 4, 8, 16 };
	char f[Y_FIELD_MAX];
	yaml_node_t *v;
	int bad = 0, ntrig = 0, act = 0;

	r->line = Y_LINE(n);
	r->arg = -1;
	r->trigger = VG_PT_NONE;
	r->bit = VG_RULE_NOBIT;
	if (!y_want_map(c, n, field))
		return -EINVAL;
	bad |= y_check_keys(c, n, field, keys) > 0;
	if (!(v = y_get(c, n, "action"))) {
		y_err(c, n, field, "missing \"action\" (alert, block, kill or freeze)");
		bad = 1;
	} else {
		y_field(f, field, "action");
		if (y_get_enum(c, v, f, "action", action_names, &act))
			bad = 1;
		r->action = act;
	}
	for (int k = 0; triggers[k]; k++)
		if (y_get(c, n, triggers[k])) {
			ntrig++;
			r->trigger = k;
		}
	/* network: {deny, allow} is a trigger; network: quarantine goes with detections */
	if ((v = y_get(c, n, "network")) && v->type == YAML_MAPPING_NODE) {
		ntrig++;
		r->trigger = VG_PT_NETWORK;
	}
	bad |= !!get_strv(c, n, field, "files", &r->files, kernel_path);
	if ((v = y_get(c, n, "access"))) {
		y_field(f, field, "access");
		if (r->trigger != VG_PT_FILES) {
			y_err(c, y_key_node(c, n, "access"), f, "access goes with files");
			bad = 1;
		} else if (y_get_enum_mask(c, v, f, "access", accesses, access_bits, &r->access)) {
			bad = 1;
		}
	}
	if (r->trigger == VG_PT_FILES && !r->access)
		r->access = 3; /* read and write */
	if (ntrig != 1) {
		y_err(c, n, field, ntrig ? "one trigger per rule: syscalls, exec, files, network or "
				       "detections (split it into several rules)"
				     : "no trigger: give syscalls, exec, files, network or detections");
		bad = 1;
	}
	bad |= !!get_strv(c, n, field, "syscalls", &r->sysnames, NULL);
	for (size_t i = 0; i < r->sysnames.n; i++) {
		int nr = vg_syscall_nr(r->sysnames.v[i]);

		if (nr < 0) {
			y_field(f, field, "syscalls");
			y_err(c, y_get(c, n, "syscalls"), f, "unknown syscall \"%s\" (x86_64 names, "
			      "e.g. ptrace, process_vm_readv)", r->sysnames.v[i]);
			bad = 1;
			continue;
		}
		r->nrs = realloc(r->nrs, (r->nnrs + 1) * sizeof(*r->nrs));
		r->nrs[r->nnrs++] = nr;
	}
	if (r->trigger == VG_PT_SYSCALLS)
		bad |= !!parse_arg(c, n, field, r);
	else
		for (int k = 7; keys[k] && k < 11; k++)
			if ((v = y_get(c, n, keys[k]))) {
				y_field(f, field, keys[k]);
				y_err(c, y_key_node(c, n, keys[k]), f, "argument conditions go with "
				      "syscalls");
				bad = 1;
			}
	bad |= !!get_strv(c, n, field, "exec", &r->exec, kernel_path);
	bad |= !!get_strv(c, n, field, "detections", &r->detections, NULL);
	if ((v = y_get(c, n, "network")) && v->type == YAML_MAPPING_NODE) {
		y_field(f, field, "network");
		r->net = vg_np_policy_new();
		if (!r->net || vg_np_parse_rule_lists(c, v, f, r->net))
			bad = 1;
	} else if (v) {
		const char *s = y_str(v);

		y_field(f, field, "network");
		if (!s || strcmp(s, "quarantine")) {
			y_err(c, v, f, "expected {deny: [entries], allow: [entries]} (network-policy "
			      "entries: docs/network-policy.md) or \"quarantine\" (with detections)");
			bad = 1;
		} else if (r->trigger != VG_PT_DETECTIONS) {
			y_err(c, v, f, "network: quarantine is triggered by detections (give "
			      "detections: [rule ids or tactics])");
			bad = 1;
		} else {
			r->quarantine = true;
		}
	}
	if (!bad && r->trigger == VG_PT_DETECTIONS && r->action == VG_PA_BLOCK && !r->quarantine) {
		y_field(f, field, "action");
		y_err(c, y_get(c, n, "action"), f, "a detection has already happened: block only "
		      "means something with network: quarantine (else use kill or freeze)");
		bad = 1;
	}
	if ((v = y_get(c, n, "message"))) {
		y_field(f, field, "message");
		bad |= !!y_get_str(c, v, f, &r->message);
	}
	return bad ? -EINVAL : 0;
}

static void parse_doc(struct y_ctx *c, yaml_node_t *root, const char *file,
		      struct vg_policies *set)
{
	static const char *const keys[] = { "apiVersion", "kind", "metadata", "spec", NULL };
	static const char *const spec_keys[] = { "target", "rules", "mode", NULL };
	static const char *const modes[] = { "enforce", "audit", NULL };
	struct vg_policy p = { .line = Y_LINE(root) };
	yaml_node_t *v, *spec, *md, *rules;
	const char *s;
	int bad = 0, mode = 0;

	if (!y_want_map(c, root, ""))
		return;
	bad |= y_check_keys(c, root, "", keys) > 0;
	v = y_get(c, root, "apiVersion");
	if (!v || !(s = y_str(v)) || strcmp(s, "vigil.dev/v1")) {
		y_err(c, v ? v : root, "apiVersion", "expected vigil.dev/v1");
		bad = 1;
	}
	v = y_get(c, root, "kind");
	if (!v || !(s = y_str(v)) || strcmp(s, "RuntimePolicy")) {
		y_err(c, v ? v : root, "kind", "expected RuntimePolicy");
		bad = 1;
	}
	md = y_get(c, root, "metadata");
	if (!md || !y_want_map(c, md, "metadata") || !(v = y_get(c, md, "name")) ||
	    y_get_str(c, v, "metadata.name", &p.name) || !p.name[0]) {
		if (!md || !y_get(c, md, "name"))
			y_err(c, md ? md : root, "metadata.name", "missing: every policy has a name");
		bad = 1;
	}
	spec = y_get(c, root, "spec");
	if (!spec) {
		y_err(c, root, "spec", "missing (target and rules)");
		bad = 1;
		goto out;
	}
	if (!y_want_map(c, spec, "spec")) {
		bad = 1;
		goto out;
	}
	bad |= y_check_keys(c, spec, "spec", spec_keys) > 0;
	if ((v = y_get(c, spec, "mode"))) {
		bad |= !!y_get_enum(c, v, "spec.mode", "mode", modes, &mode);
		p.audit = mode == 1;
	}
	if (!(v = y_get(c, spec, "target"))) {
		y_err(c, spec, "spec.target", "missing: who the policy applies to");
		bad = 1;
	} else {
		bad |= !!parse_target(c, v, &p.target);
	}
	rules = y_get(c, spec, "rules");
	if (!rules || rules->type != YAML_SEQUENCE_NODE ||
	    rules->data.sequence.items.top == rules->data.sequence.items.start) {
		y_err(c, rules ? rules : spec, "spec.rules", "expected a non-empty list of rules");
		bad = 1;
		goto out;
	}
	p.nrules = rules->data.sequence.items.top - rules->data.sequence.items.start;
	p.rules = calloc(p.nrules, sizeof(*p.rules));
	for (size_t i = 0; i < p.nrules; i++) {
		char f[Y_FIELD_MAX];

		snprintf(f, sizeof(f), "spec.rules[%zu]", i);
		bad |= !!parse_rule(c, y_node(c, rules->data.sequence.items.start[i]), f,
				    &p.rules[i]);
	}
out:
	p.file = strdup(file);
	{
		struct vg_policy *nv = realloc(set->v, (set->n + 1) * sizeof(*nv));

		if (nv) {
			set->v = nv;
			set->v[set->n++] = p;
		}
	}
	(void)bad;
}

int vg_policy_parse_text(const char *name, const char *text, size_t len, struct vg_policies *set,
			 struct vg_rule_errors *errs)
{
	struct y_ctx c = { .file = name, .errs = errs, .errs_at_start = errs->n };
	yaml_parser_t parser;
	yaml_document_t doc;

	if (!yaml_parser_initialize(&parser))
		return -ENOMEM;
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	/* Several policies per file, as YAML documents separated by "---". */
	for (;;) {
		yaml_node_t *root;

		if (!yaml_parser_load(&parser, &doc)) {
			vg_rule_error_add(errs, name, (int)parser.problem_mark.line + 1,
					  (int)parser.problem_mark.column + 1, "", "YAML: %s",
					  parser.problem ? parser.problem : "syntax error");
			break;
		}
		root = yaml_document_get_root_node(&doc);
		if (!root) {
			yaml_document_delete(&doc);
			break;
		}
		c.doc = &doc;
		if (!y_is_null(root))
			parse_doc(&c, root, name, set);
		yaml_document_delete(&doc);
	}
	yaml_parser_delete(&parser);
	return errs->n > c.errs_at_start ? -EINVAL : 0;
}

int vg_policy_parse_file(const char *path, struct vg_policies *set, struct vg_rule_errors *errs)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int err;

	if (!f) {
		vg_rule_error_add(errs, path, 0, 0, "", "cannot read: %s", strerror(errno));
		return -errno;
	}
	for (;;) {
		size_t n;

		if (len + 4096 > cap) {
			char *nb = realloc(buf, cap = cap ? cap * 2 : 8192);

			if (!nb) {
				free(buf);
				fclose(f);
				return -ENOMEM;
			}
			buf = nb;
		}
		n = fread(buf + len, 1, cap - len, f);
		if (!n)
			break;
		len += n;
	}
	fclose(f);
	err = vg_policy_parse_text(path, buf ? buf : "", len, set, errs);
	free(buf);
	return err;
}
