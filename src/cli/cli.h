/* SPDX-License-Identifier: GPL-2.0 */
#ifndef VG_CLI_H
#define VG_CLI_H

/* Exit codes, the same for every subcommand (documented in --help and README). */
enum {
	VG_EXIT_OK = 0,
	VG_EXIT_FAIL = 1,     /* the command ran and failed */
	VG_EXIT_USAGE = 2,    /* bad command line */
	VG_EXIT_NODAEMON = 3, /* the daemon is not reachable */
};

int vg_cmd_run(int argc, char **argv);
int vg_cmd_query(int argc, char **argv);
int vg_cmd_status(int argc, char **argv);
int vg_cmd_probe(int argc, char **argv);
int vg_cmd_rules(int argc, char **argv);
int vg_cmd_policy(int argc, char **argv);   /* policy_cmd.c */
int vg_cmd_unfreeze(int argc, char **argv);
int vg_cmd_netpolicy(int argc, char **argv);
struct json_object;
void vg_netpolicy_render_status(struct json_object *np); /* `vigil status` text */

#endif
