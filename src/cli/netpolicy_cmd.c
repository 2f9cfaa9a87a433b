// SPDX-License-Identifier: GPL-2.0
/* `vigil netpolicy check FILE...`, and the network policy block of `vigil status`. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <json-c/json.h>
#include "cli/cli.h"
#include "netpolicy/netpolicy.h"

static void help(void)
{
	puts("usage: vigil netpolicy check [--json] FILE...\n"
	     "\n"
	     "Validate network policy files as the daemon would load them (in order, the first\n"
	     "sets mode and default), blocklists included. Problems are printed as\n"
	     "FILE:LINE:COLUMN: FIELD: MESSAGE; the exit code is 1 if there is any.\n"
	     "Format: docs/network-policy.md.\n"
	     "\n"
	     "examples:\n"
	     "  vigil netpolicy check /etc/vigil/network.yaml\n"
	     "  vigil netpolicy check deploy/network-policy.example.yaml --json\n"
	     "\n"
	     "exit codes: 0 valid, 1 invalid, 2 usage error");
}

int vg_cmd_netpolicy(int argc, char **argv)
{
	static const struct option opts[] = { { "json", no_argument, 0, 'j' },
					      { "help", no_argument, 0, 'h' },
					      { 0 } };
	struct vg_rule_errors errs = {};
	struct vg_np_policy *p;
	bool json = false;
	int c;

	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		help();
		return argc < 2 ? VG_EXIT_USAGE : 0;
	}
	if (strcmp(argv[1], "check")) {
		fprintf(stderr, "vigil netpolicy: unknown subcommand '%s' (check)\n", argv[1]);
		return VG_EXIT_USAGE;
	}
	argc--;
	argv++;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'j') {
			json = true;
		} else if (c == 'h') {
			help();
			return 0;
		} else {
			return VG_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "vigil netpolicy check: no files given\n");
		return VG_EXIT_USAGE;
	}
	p = vg_np_policy_load(argv + optind, argc - optind, &errs);
	if (json) {
		struct json_object *o = json_object_new_object(), *a = json_object_new_array();

		for (size_t i = 0; i < errs.n; i++) {
			struct json_object *e = json_object_new_object();

			json_object_object_add(e, "file", json_object_new_string(errs.v[i].file));
			json_object_object_add(e, "line", json_object_new_int(errs.v[i].line));
			json_object_object_add(e, "column", json_object_new_int(errs.v[i].column));
			json_object_object_add(e, "field", json_object_new_string(errs.v[i].field));
			json_object_object_add(e, "message", json_object_new_string(errs.v[i].msg));
			json_object_array_add(a, e);
		}
		json_object_object_add(o, "valid", json_object_new_boolean(p != NULL));
		json_object_object_add(o, "errors", a);
		if (p) {
			json_object_object_add(o, "mode", json_object_new_string(
						      p->mode == VG_NP_ENFORCE ? "enforce" : "audit"));
			json_object_object_add(o, "default_egress", json_object_new_string(
						      p->def_egress == VG_NP_DENY ? "deny" : "allow"));
			json_object_object_add(o, "default_ingress", json_object_new_string(
						      p->def_ingress == VG_NP_DENY ? "deny" : "allow"));
			json_object_object_add(o, "entries", json_object_new_int64(p->nents));
			json_object_object_add(o, "ingress_entries", json_object_new_int64(p->ningress));
			json_object_object_add(o, "blocklist_entries",
					       json_object_new_int64(p->blocklist_entries));
		}
		puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY));
		json_object_put(o);
	} else if (p) {
		printf("ok: %s — %s, default egress %s, ingress %s, %zu entries (%zu ingress), "
		       "%zu blocklist lines\n", p->files,
		       p->mode == VG_NP_ENFORCE ? "enforce" : "audit",
		       p->def_egress == VG_NP_DENY ? "deny" : "allow",
		       p->def_ingress == VG_NP_DENY ? "deny" : "allow", p->nents, p->ningress,
		       p->blocklist_entries);
	} else {
		vg_rule_errors_print(&errs, stderr);
	}
	vg_rule_errors_free(&errs);
	if (!p)
		return VG_EXIT_FAIL;
	vg_np_policy_free(p);
	return 0;
}

static const char *js(struct json_object *o, const char *k)
{
	struct json_object *v = json_object_object_get(o, k);

	return v ? json_object_get_string(v) : "-";
}

void vg_netpolicy_render_status(struct json_object *np)
{
	struct json_object *mem, *last, *c;

	if (!np)
		return;
	mem = json_object_object_get(np, "kernel_memory_bytes");
	last = json_object_object_get(np, "last_load");
	c = json_object_object_get(np, "counters");
	printf("\nnetwork policy:\n");
	printf("  hooks: %s at %s\n",
	       json_object_get_boolean(json_object_object_get(np, "attached")) ? "attached"
									      : "NOT ATTACHED",
	       js(np, "cgroup_root"));
	if (json_object_get_boolean(json_object_object_get(np, "installed")))
		printf("  policy: %s — %s, default egress %s, ingress %s, %s entries (%s ingress), %s "
		       "prefixes, %s names, %s blocklist lines; loaded in %.0f ms; kernel memory %s "
		       "bytes\n",
		       js(np, "files"), js(np, "mode"), js(np, "default_egress"),
		       js(np, "default_ingress"), js(np, "entries"), js(np, "ingress_entries"),
		       js(np, "prefixes"), js(np, "names"), js(np, "blocklist_entries"),
		       json_object_get_double(json_object_object_get(np, "load_ms")),
		       js(mem, "total"));
	else
		printf("  policy: none in force\n");
	printf("  last load: %s %s — %s (%s reloads, %s rejected)\n", js(last, "time"),
	       json_object_get_boolean(json_object_object_get(last, "ok")) ? "ok" : "FAILED",
	       js(last, "result"), js(np, "reloads"), js(np, "reload_failures"));
	json_object_object_foreach(c, k, v)
		printf("  %-26s %s\n", k, json_object_get_string(v));
}
