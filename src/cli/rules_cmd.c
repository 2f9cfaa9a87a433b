// SPDX-License-Identifier: GPL-2.0
/* `vigil rules list|check`: work on rule files directly, no daemon needed. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#include "cli/cli.h"
#include "cli/table.h"
#include "rules/rules.h"

#define VG_RULES_DIR "/etc/vigil/rules.d"


static void rules_help(void)
{
	puts("usage: vigil rules list  [--rules-dir DIR] [--json]\n"
	     "       vigil rules check FILE...\n"
	     "\n"
	     "list   the rule set the daemon would load: the embedded defaults, then every\n"
	     "       *.yaml in " VG_RULES_DIR " (or --rules-dir), where a rule with the\n"
	     "       same id replaces a default and `disable: [ids]` turns rules off.\n"
	     "check  validate rule files; every error is printed as\n"
	     "       FILE:LINE:COLUMN: FIELD: MESSAGE. The files are also checked merged\n"
	     "       over the defaults (disabled ids must exist, kernel table budget).\n"
	     "\n"
	     "options:\n"
	     "  --rules-dir DIR  read user rules from DIR instead of " VG_RULES_DIR "\n"
	     "  --no-user        list the embedded defaults only\n"
	     "  --json           a JSON array instead of a table\n"
	     "\n"
	     "examples:\n"
	     "  vigil rules list\n"
	     "  vigil rules list --json | jq '.[] | select(.severity == \"critical\") | .id'\n"
	     "  vigil rules check /etc/vigil/rules.d/*.yaml\n"
	     "  vigil rules check my-rules.yaml && sudo cp my-rules.yaml " VG_RULES_DIR "/\n"
	     "\n"
	     "The format is in docs/rules.md.\n"
	     "exit codes: 0 ok, 1 invalid rules, 2 usage error");
}

static int usage(const char *what, const char *arg)
{
	fprintf(stderr, "vigil rules: %s%s%s%s\nTry 'vigil rules --help'.\n", what,
		arg ? " '" : "", arg ? arg : "", arg ? "'" : "");
	return VG_EXIT_USAGE;
}

static struct json_object *rule_json(const struct vg_rule *r)
{
	struct json_object *o = json_object_new_object(), *m = json_object_new_object(),
			   *tags = json_object_new_array();

	json_object_object_add(o, "id", json_object_new_string(r->id));
	json_object_object_add(o, "title", json_object_new_string(r->title));
	json_object_object_add(o, "kind", json_object_new_string(vg_rule_kind_name(r->kind)));
	json_object_object_add(o, "severity", json_object_new_string(vg_severity_name(r->severity)));
	json_object_object_add(m, "tactic", json_object_new_string(r->tactic));
	json_object_object_add(m, "tactic_name", json_object_new_string(r->tactic_name));
	json_object_object_add(m, "technique", json_object_new_string(r->technique));
	json_object_object_add(m, "technique_name", json_object_new_string(r->technique_name));
	json_object_object_add(o, "mitre", m);
	json_object_object_add(o, "enabled", json_object_new_boolean(r->enabled));
	json_object_object_add(o, "source", json_object_new_string(r->source));
	if (strcmp(r->source, "builtin"))
		json_object_object_add(o, "source_line", json_object_new_int(r->source_line));
	for (size_t i = 0; i < r->ntags; i++)
		json_object_array_add(tags, json_object_new_string(r->tags[i]));
	json_object_object_add(o, "tags", tags);
	json_object_object_add(o, "description", json_object_new_string(r->description));
	return o;
}

static int rules_list(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "rules-dir", required_argument, NULL, 'd' },
		{ "no-user", no_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	const char *dir = VG_RULES_DIR;
	struct vg_rule_errors errs = {};
	struct vg_rules *set;
	bool json = false;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "d:njh", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			dir = optarg;
			break;
		case 'n':
			dir = NULL;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			rules_help();
			return VG_EXIT_OK;
		default:
			return usage("bad option", NULL);
		}
	}
	if (optind < argc)
		return usage("unexpected argument", argv[optind]);
	set = vg_rules_load(dir, &errs);
	if (!set) {
		vg_rule_errors_print(&errs, stderr);
		fprintf(stderr, "vigil rules: the rule set is invalid (%zu error%s)\n", errs.n,
			errs.n == 1 ? "" : "s");
		vg_rule_errors_free(&errs);
		return VG_EXIT_FAIL;
	}
	if (json) {
		struct json_object *arr = json_object_new_array();

		for (size_t i = 0; i < vg_rules_count(set); i++)
			json_object_array_add(arr, rule_json(vg_rules_at(set, i)));
		puts(json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PRETTY |
								 JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(arr);
	} else {
		static const char *const hdr[] = { "ID",	"KIND",	   "SEVERITY", "TACTIC",
						   "TECHNIQUE", "ENABLED", "SOURCE" };
		struct vg_table *t = vg_table_new(7, hdr);

		for (size_t i = 0; i < vg_rules_count(set); i++) {
			const struct vg_rule *r = vg_rules_at(set, i);
			char src[300];

			if (strcmp(r->source, "builtin"))
				snprintf(src, sizeof(src), "%s:%d", r->source, r->source_line);
			else
				snprintf(src, sizeof(src), "builtin");
			vg_table_row(t, (const char *const[]){ r->id, vg_rule_kind_name(r->kind),
							       vg_severity_name(r->severity),
							       r->tactic, r->technique,
							       r->enabled ? "yes" : "no", src });
		}
		vg_table_print(t, stdout);
		vg_table_free(t);
	}
	vg_rules_free(set);
	return VG_EXIT_OK;
}

static int rules_check(int argc, char **argv)
{
	struct vg_rule_errors errs = {};
	size_t n = 0;
	int rc;

	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		rules_help();
		return VG_EXIT_OK;
	}
	if (argc < 2)
		return usage("check: name at least one FILE", NULL);
	for (int i = 1; i < argc; i++)
		if (argv[i][0] == '-' && argv[i][1])
			return usage("check: unknown option", argv[i]);
	rc = vg_rules_check(argv + 1, argc - 1, &errs, &n);
	if (rc) {
		vg_rule_errors_print(&errs, stderr);
		fprintf(stderr, "%zu error%s\n", errs.n, errs.n == 1 ? "" : "s");
		vg_rule_errors_free(&errs);
		return VG_EXIT_FAIL;
	}
	printf("%zu rule%s OK\n", n, n == 1 ? "" : "s");
	return VG_EXIT_OK;
}

int vg_cmd_rules(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
	    !strcmp(argv[1], "help")) {
		rules_help();
		return argc < 2 ? VG_EXIT_USAGE : VG_EXIT_OK;
	}
	if (!strcmp(argv[1], "list"))
		return rules_list(argc - 1, argv + 1);
	if (!strcmp(argv[1], "check"))
		return rules_check(argc - 1, argv + 1);
	return usage("unknown subcommand (list, check):", argv[1]);
}
