// SPDX-License-Identifier: GPL-2.0
/* vigil: runtime security sensor. Dispatch to a subcommand. */
#include <stdio.h>
#include <string.h>
#include "cli/cli.h"

static void help(void)
{
	puts("vigil " VIGIL_VERSION " — runtime security sensor (eBPF)\n"
	     "\n"
	     "usage: vigil <command> [options]\n"
	     "\n"
	     "  run                        start the sensor in the foreground (root)\n"
	     "  query procs|ancestry|tree|files|flows|dns\n"
	     "                             ask the kernel's state, exited processes included\n"
	     "  rules list|check           the detection rules in force; validate rule files\n"
	     "  policy list|check          runtime policies (block/kill/freeze) and their tier\n"
	     "  unfreeze PID|CGROUP        resume what a freeze policy stopped\n"
	     "  netpolicy check FILE...    validate network policy files (and their blocklists)\n"
	     "  status                     counters, table fill, drops, per-program cost\n"
	     "  probe                      what this kernel offers and the enforcement tier\n"
	     "  version                    print the version\n"
	     "\n"
	     "examples:\n"
	     "  sudo vigil run --trace\n"
	     "  sudo vigil query procs --exe true --exited\n"
	     "  sudo vigil query ancestry 4242 --json\n"
	     "  sudo vigil query files --pid 4242 --tree\n"
	     "  sudo vigil query flows --pid 4242 --tree --since 5m\n"
	     "  vigil rules check /etc/vigil/rules.d/*.yaml\n"
	     "  vigil policy check /etc/vigil/policies.d/*.yaml\n"
	     "  vigil netpolicy check /etc/vigil/network.yaml\n"
	     "  sudo vigil probe\n"
	     "\n"
	     "'vigil <command> --help' for a command's options. Every table command takes --json.\n"
	     "exit codes: 0 ok, 1 failed, 2 usage error, 3 daemon not reachable");
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(int, char **);
	} cmds[] = {
		{ "run", vg_cmd_run },
		{ "query", vg_cmd_query },
		{ "status", vg_cmd_status },
		{ "probe", vg_cmd_probe },
		{ "rules", vg_cmd_rules },
		{ "policy", vg_cmd_policy },
		{ "unfreeze", vg_cmd_unfreeze },
		{ "netpolicy", vg_cmd_netpolicy },
	};

	if (argc < 2 || !strcmp(argv[1], "help") || !strcmp(argv[1], "--help") ||
	    !strcmp(argv[1], "-h")) {
		help();
		return argc < 2 ? VG_EXIT_USAGE : 0;
	}
	if (!strcmp(argv[1], "version") || !strcmp(argv[1], "--version")) {
		puts("vigil " VIGIL_VERSION);
		return 0;
	}
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(argv[1], cmds[i].name))
			return cmds[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "vigil: unknown command '%s'\nTry 'vigil --help'.\n", argv[1]);
	return VG_EXIT_USAGE;
}
