/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Runtime policies (docs/policies.md): YAML `kind: RuntimePolicy` files with a
 * target and rules that alert, block, kill or freeze, compiled into the
 * kernel's policy tables (include/vigil/abi.h, "enforcement"), enforced by the
 * best tier this kernel offers (BPF-LSM, else signals from syscall
 * tracepoints), and by the daemon for rules triggered by detections.
 *
 * Contract between src/policy (owner), the daemon (src/daemon) and the CLI.
 */
#ifndef VG_POLICY_H
#define VG_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <json-c/json.h>
#include "rules/rules.h"
#include "rules/rules_int.h" /* struct vg_strv */
#include "vigil/abi.h"

#define VG_POLICIES_DIR "/etc/vigil/policies.d"

/* Who a policy applies to. Every given field must hold (AND); within a field
 * any value (OR). `all` alone: every process (the protected ones excepted). */
struct vg_pol_target {
	struct vg_strv names;      /* processName: comm, compared on 15 bytes */
	struct vg_strv exe;        /* exact paths, or prefixes (ending in a slash or a slash and two stars) */
	struct vg_strv ancestors;  /* exact exe paths of an ancestor */
	struct vg_strv cgroups;    /* cgroup v2 path prefixes ("/system.slice/docker-") */
	struct vg_strv containers; /* container ids (resolved to their cgroup at load) */
	uint32_t *uids;
	size_t nuids;
	bool all;
	int line;
};

enum vg_pol_access { VG_PACC_READ = 1, VG_PACC_WRITE = 2, VG_PACC_UNLINK = 4, VG_PACC_RENAME = 8,
		     VG_PACC_CHMOD = 16 };
#define VG_PACC_PATH (VG_PACC_UNLINK | VG_PACC_RENAME | VG_PACC_CHMOD) /* BPF-LSM only */

enum vg_pol_trigger { VG_PT_SYSCALLS, VG_PT_EXEC, VG_PT_DETECTIONS, VG_PT_FILES, VG_PT_NETWORK,
		      VG_PT_NONE };

struct vg_np_policy;

struct vg_pol_rule {
	enum vg_pol_action action;
	enum vg_pol_trigger trigger;
	char *message;
	int line;
	/* syscalls */
	struct vg_strv sysnames;
	uint32_t *nrs;
	size_t nnrs;
	int arg;            /* argument index of the condition, -1: none */
	uint64_t *argv;     /* its values (any) */
	size_t nargv;
	/* exec: exact paths and prefixes */
	struct vg_strv exec;
	/* files: exact paths and prefixes, and the accesses: VG_PACC_* */
	struct vg_strv files;
	uint32_t access;
	/* detections: rule ids, tactics (TA0040) or techniques (T1496) */
	struct vg_strv detections;
	bool quarantine;    /* network: quarantine (the process tree's network is cut) */
	/* network: {deny: [...], allow: [...]}: network-policy entries (src/netpolicy),
	 * merged into the network policy's maps, scoped to the target */
	struct vg_np_policy *net;
	/* filled at compile time */
	unsigned bit;       /* kernel bit, VG_RULE_NOBIT for detection rules */
	enum vg_enforcer by;        /* what enforces it on this kernel */
	char how[256];              /* ... and the guarantee, one phrase */
	struct vg_rule finding;     /* what findings of this rule show as "rule" */
	char finding_id[160];
};

struct vg_policy {
	char *name, *file;
	int line;
	bool audit;                /* mode: audit: report what would be done, do nothing */
	struct vg_pol_target target;
	struct vg_pol_rule *rules;
	size_t nrules;
};

struct vg_policies {
	struct vg_policy *v;
	size_t n;
	unsigned nbits;
	struct vg_pol_rule *by_bit[VG_POL_RULES_MAX];
	struct vg_policy *policy_of_bit[VG_POL_RULES_MAX];
	bool enforce_off;          /* --enforce=off: every action reported only */
	bool lsm;                  /* the LSM programs are loaded (probe said BPF-LSM works) */
};

/* What the kernel offers, for choosing each rule's tier. */
struct vg_pol_env {
	bool lsm;         /* BPF-LSM programs loaded */
	bool enforce_off;
	const char *cgroup2;  /* cgroup v2 mount ("" / NULL: none) */
};

/* Parse one file (appends its policies); problems as file:line:col: field: msg. */
int vg_policy_parse_file(const char *path, struct vg_policies *set, struct vg_rule_errors *errs);
int vg_policy_parse_text(const char *name, const char *text, size_t len, struct vg_policies *set,
			 struct vg_rule_errors *errs);
/* Every *.yaml in dir (sorted); a missing directory is an empty set. */
int vg_policies_load_dir(const char *dir, struct vg_policies *set, struct vg_rule_errors *errs);
/* Checks that need the machine and the whole set: names unique, the kernel's
 * bit budget, safety (pid 1, vigil and its ancestors, "everything"), cgroups
 * and containers that exist. Assigns bits and each rule's tier. */
int vg_policies_finish(struct vg_policies *set, const struct vg_pol_env *env,
		       struct vg_rule_errors *errs);
void vg_policies_free(struct vg_policies *set);

/* The kernel tables of one generation, in memory. */
struct vg_pol_name_entry {
	struct vg_pol_key key;
	uint64_t rules;
};
struct vg_pol_lpm_entry {
	struct vg_lpm_key key;
	uint64_t rules;
};
struct vg_pol_tables {
	struct vg_pol_name_entry *names;
	size_t nnames;
	struct vg_pol_lpm_entry *lpm;
	size_t nlpm;
	struct vg_pol_set set;
};
/* cgroup2: the cgroup v2 mount (cgroup targets are looked up there by inode). */
int vg_policies_compile(const struct vg_policies *set, uint8_t gen, const char *cgroup2,
			struct vg_pol_tables *t);
void vg_pol_tables_free(struct vg_pol_tables *t);
/* Syscall names the rules need hooked at sys_enter (pointers into set). */
size_t vg_policies_syscalls(const struct vg_policies *set, const char **names, size_t max);
/* Does some rule need the open-family exit hook (file rules the signal tier enforces)? */
bool vg_policies_want_open_hook(const struct vg_policies *set);

/* `vigil policy list`: one object per policy with each rule's tier. */
struct json_object *vg_policies_json(const struct vg_policies *set);
void vg_policies_print(const struct vg_policies *set, FILE *out);

const char *vg_pol_action_name(enum vg_pol_action a);
const char *vg_enforcer_name(enum vg_enforcer e);

/* Process-matching in user space (detection-triggered rules). */
struct vg_pol_proc {
	uint32_t pid, euid;
	const char *comm, *exe, *cgroup, *container;
	const char *const *ancestor_exes;
	size_t nancestors;
};
bool vg_pol_target_matches(const struct vg_pol_target *t, const struct vg_pol_proc *p);
/* Does a detection rule (id, tactic, technique) trigger rule pr? */
bool vg_pol_detection_matches(const struct vg_pol_rule *pr, const struct vg_rule *r);

/* Safety: tgids vigil must never act on besides pid 1 and itself: its ancestors. */
size_t vg_pol_protected_pids(uint32_t *out, size_t max);

#endif /* VG_POLICY_H */
