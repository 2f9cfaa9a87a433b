// SPDX-License-Identifier: GPL-2.0
/* `vigil policy check|list` and `vigil unfreeze`. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#include "api/api.h"
#include "cli/cli.h"
#include "policy/engine.h"
#include "policy/policy.h"
#include "sensor/probe.h"
#include "sensor/sensor.h"
#include "util/log.h"

static void policy_help(void)
{
	puts("usage: vigil policy check FILE...\n"
	     "       vigil policy list [--policies DIR] [--local] [--json]\n"
	     "\n"
	     "check  validate RuntimePolicy files as the daemon loads them: syntax and\n"
	     "       fields, then safety (no policy may target pid 1 or vigil, or stop every\n"
	     "       process), cgroups and containers that exist, the kernel's budget of " "64\n"
	     "       policy rules. Errors: FILE:LINE:COLUMN: FIELD: MESSAGE.\n"
	     "list   the active policies and how each rule is enforced on this kernel\n"
	     "       (lsm: EPERM before the operation; signal: SIGKILL/SIGSTOP from the\n"
	     "       kernel; cgroup: the network policy's cgroup connect/sendmsg programs —\n"
	     "       network rules, EPERM —, or the process's cgroup; freezer). Asks the daemon;\n"
	     "       without one (or with --local) reads the directory and probes this kernel.\n"
	     "\n"
	     "options:\n"
	     "  --policies DIR  policy directory (default " VG_POLICIES_DIR ")\n"
	     "  --local         do not ask the daemon\n"
	     "  --json          JSON instead of text\n"
	     "\n"
	     "examples:\n"
	     "  vigil policy check deploy/policies/*.yaml\n"
	     "  sudo vigil policy list\n"
	     "  sudo vigil policy list --local --policies ./deploy/policies --json\n"
	     "\n"
	     "The format and each tier's guarantee: docs/policies.md.\n"
	     "exit codes: 0 ok, 1 invalid policies, 2 usage error");
}

static int usage(const char *what, const char *arg)
{
	fprintf(stderr, "vigil policy: %s%s%s%s\nTry 'vigil policy --help'.\n", what,
		arg ? " '" : "", arg ? arg : "", arg ? "'" : "");
	return VG_EXIT_USAGE;
}

/* The environment the daemon would have here: BPF-LSM if the probe finds it. */
static void local_env(struct vg_pol_env *env, struct vg_probe *p)
{
	memset(env, 0, sizeof(*env));
	if (vg_probe_run(p) == 0)
		env->lsm = vg_probe_has(p, VG_FEAT_LSM);
	env->cgroup2 = vg_cgroup2_mount();
}

static int policy_check(int argc, char **argv)
{
	struct vg_rule_errors errs = {};
	struct vg_policies set = {};
	struct vg_pol_env env;
	struct vg_probe p;
	int rc = 0;
	size_t nrules = 0;

	if (argc < 2)
		return usage("check: name at least one FILE", NULL);
	for (int i = 1; i < argc; i++) {
		if (argv[i][0] == '-')
			return usage("check: unknown option", argv[i]);
		if (vg_policy_parse_file(argv[i], &set, &errs))
			rc = -EINVAL;
	}
	local_env(&env, &p);
	if (!rc && vg_policies_finish(&set, &env, &errs))
		rc = -EINVAL;
	if (rc) {
		vg_rule_errors_print(&errs, stderr);
		fprintf(stderr, "%zu error%s\n", errs.n, errs.n == 1 ? "" : "s");
	} else {
		for (size_t i = 0; i < set.n; i++)
			nrules += set.v[i].nrules;
		printf("%d file%s OK: %zu polic%s, %zu rule%s (%u in the kernel)\n", argc - 1,
		       argc == 2 ? "" : "s", set.n, set.n == 1 ? "y" : "ies", nrules,
		       nrules == 1 ? "" : "s", set.nbits);
	}
	vg_rule_errors_free(&errs);
	vg_policies_free(&set);
	return rc ? VG_EXIT_FAIL : 0;
}

static void print_daemon(struct json_object *res)
{
	struct json_object *pols = json_object_object_get(res, "policies");
	size_t n = pols ? json_object_array_length(pols) : 0;

	printf("enforcement: %s, tier %s, %s; %lld enforced, %lld audited, %lld on detections\n",
	       json_object_get_string(json_object_object_get(res, "enforce")),
	       json_object_get_string(json_object_object_get(res, "tier")),
	       json_object_get_string(json_object_object_get(res, "dir")),
	       (long long)json_object_get_int64(json_object_object_get(res, "enforced")),
	       (long long)json_object_get_int64(json_object_object_get(res, "audited")),
	       (long long)json_object_get_int64(json_object_object_get(res, "on_detection")));
	if (!n)
		puts("no policies");
	for (size_t i = 0; i < n; i++) {
		struct json_object *p = json_object_array_get_idx(pols, i);
		struct json_object *rules = json_object_object_get(p, "rules");

		printf("%s (%s, %s)\n", json_object_get_string(json_object_object_get(p, "name")),
		       json_object_get_string(json_object_object_get(p, "mode")),
		       json_object_get_string(json_object_object_get(p, "file")));
		for (size_t j = 0; rules && j < json_object_array_length(rules); j++) {
			struct json_object *r = json_object_array_get_idx(rules, j), *by;

			by = json_object_object_get(r, "enforced_by");
			struct json_object *net = json_object_object_get(r, "network");

			printf("  %-10s -> %s: %s\n",
			       json_object_get_string(json_object_object_get(r, "action")),
			       by ? json_object_get_string(by) : "none",
			       json_object_get_string(json_object_object_get(r, "how")));
			for (int l = 0; net && l < 2; l++) {
				static const char *const lists[] = { "deny", "allow" };
				struct json_object *v = json_object_object_get(net, lists[l]);

				for (size_t k = 0; v && k < json_object_array_length(v); k++)
					printf("             network %s %s\n", lists[l],
					       json_object_get_string(json_object_array_get_idx(v, k)));
			}
		}
	}
}

static int policy_list(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "policies", required_argument, 0, 'p' },
		{ "local", no_argument, 0, 'l' },
		{ "json", no_argument, 0, 'j' },
		{ "help", no_argument, 0, 'h' },
		{ 0 }
	};
	const char *dir = VG_POLICIES_DIR, *sock = getenv("VIGIL_SOCKET");
	bool json = false, local = false, dir_given = false;
	struct vg_rule_errors errs = {};
	struct vg_policies set = {};
	struct vg_pol_env env;
	struct vg_probe p;
	int c, rc = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'p': dir = optarg; dir_given = true; break;
		case 'l': local = true; break;
		case 'j': json = true; break;
		case 'h': policy_help(); return 0;
		default: return usage("list: bad option", NULL);
		}
	}
	if (optind != argc)
		return usage("list: unexpected argument", argv[optind]);
	if (!local && !dir_given) {
		struct json_object *req = json_object_new_object(), *res = NULL;
		char err[256];

		json_object_object_add(req, "cmd", json_object_new_string("policies"));
		if (vg_api_call(sock && *sock ? sock : VG_SOCKET_PATH, req, &res, err,
				sizeof(err)) == 0) {
			json_object_put(req);
			if (json)
				puts(json_object_to_json_string_ext(res, JSON_C_TO_STRING_PRETTY |
								    JSON_C_TO_STRING_NOSLASHESCAPE));
			else
				print_daemon(res);
			json_object_put(res);
			return 0;
		}
		json_object_put(req);
	}
	local_env(&env, &p);
	if (vg_policies_load_dir(dir, &set, &errs) || vg_policies_finish(&set, &env, &errs)) {
		vg_rule_errors_print(&errs, stderr);
		rc = VG_EXIT_FAIL;
	} else if (json) {
		struct json_object *o = vg_policies_json(&set);

		puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
						    JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(o);
	} else {
		printf("(no daemon: %s on this kernel, tier %s)\n", dir, env.lsm ? "lsm" : "signal");
		vg_policies_print(&set, stdout);
	}
	vg_rule_errors_free(&errs);
	vg_policies_free(&set);
	return rc;
}

int vg_cmd_policy(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		policy_help();
		return argc < 2 ? VG_EXIT_USAGE : 0;
	}
	if (!strcmp(argv[1], "check"))
		return policy_check(argc - 1, argv + 1);
	if (!strcmp(argv[1], "list"))
		return policy_list(argc - 1, argv + 1);
	return usage("unknown subcommand (check, list):", argv[1]);
}

int vg_cmd_unfreeze(int argc, char **argv)
{
	struct json_object *req, *res = NULL;
	const char *sock = getenv("VIGIL_SOCKET");
	char err[256], msg[256];

	if (argc != 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		puts("usage: vigil unfreeze PID|CGROUP\n"
		     "\n"
		     "Resume what a freeze policy stopped: a process (SIGCONT) or a cgroup v2 path\n"
		     "(cgroup.freeze 0, or the v1 freezer; its processes get SIGCONT). Through the\n"
		     "daemon when it runs (it also clears the record's frozen flag), else directly.\n"
		     "\n"
		     "examples:\n"
		     "  sudo vigil unfreeze 4242\n"
		     "  sudo vigil unfreeze /system.slice/docker-3f2a....scope\n"
		     "exit codes: 0 resumed, 1 failed, 2 usage error");
		return argc == 2 ? 0 : VG_EXIT_USAGE;
	}
	req = json_object_new_object();
	json_object_object_add(req, "cmd", json_object_new_string("unfreeze"));
	json_object_object_add(req, "target", json_object_new_string(argv[1]));
	if (vg_api_call(sock && *sock ? sock : VG_SOCKET_PATH, req, &res, err, sizeof(err)) == 0) {
		json_object_put(req);
		puts(json_object_get_string(res));
		json_object_put(res);
		return 0;
	}
	json_object_put(req);
	if (vg_unfreeze_direct(argv[1], vg_cgroup2_mount(), msg, sizeof(msg))) {
		vg_err("%s", msg);
		return VG_EXIT_FAIL;
	}
	puts(msg);
	return 0;
}
