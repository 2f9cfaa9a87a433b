/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Detection rules: the YAML format (docs/rules.md), validation with
 * file:line:field errors, compilation of the cheap predicates into the kernel
 * tables (include/vigil/abi.h, "rules in the kernel"), and the user-space half
 * of matching (argv patterns, ancestry, exceptions, rate limits).
 *
 * Contract between src/rules (owner), src/detect (consumer) and the daemon.
 */
#ifndef VG_RULES_H
#define VG_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "state/maps.h"
#include "vigil/abi.h"

enum vg_severity { VG_SEV_INFO, VG_SEV_LOW, VG_SEV_MEDIUM, VG_SEV_HIGH, VG_SEV_CRITICAL };

/* One problem in a rule file. line/column are 1-based; 0 when not applicable. */
struct vg_rule_error {
	char file[256];
	int line, column;
	char field[128]; /* dotted path of the offending field, e.g. "rules[3].match.file.path" */
	char msg[256];
};

struct vg_rule_errors {
	struct vg_rule_error *v;
	size_t n, cap;
};
void vg_rule_errors_free(struct vg_rule_errors *e);
/* "file:line:col: field: msg" one per line. */
void vg_rule_errors_print(const struct vg_rule_errors *e, FILE *out);

/* A rule as users wrote it (after defaults), read-only for consumers. */
struct vg_rule {
	char *id, *title, *description;
	enum vg_severity severity;
	char *tactic, *technique;           /* "TA0002", "T1059.004" */
	const char *tactic_name, *technique_name; /* from the embedded MITRE table */
	char **tags;
	size_t ntags;
	enum vg_rule_kind kind;             /* exec, file or syscall */
	bool enabled;
	char *source;                       /* "builtin" or the file it came from */
	int source_line;
	unsigned bit;                       /* its (first) bit in the kernel tables of its
					     * kind; VG_RULE_NOBIT when disabled. A rule
					     * whose selector mixes shapes (exact paths,
					     * prefixes, basenames, globs) owns one bit per
					     * shape: see vg_rules_candidates() */
	void *priv;                         /* compiled matcher, owned by src/rules */
};
#define VG_RULE_NOBIT ((unsigned)-1)

struct vg_rules; /* a loaded, compiled rule set */

/*
 * Load the embedded defaults, then every *.yaml in dir (sorted; NULL: none),
 * where a rule with an existing id replaces it and `disable: [ids]` turns
 * defaults off. Returns NULL and fills errs when anything is invalid: a
 * rule set is all good or not used at all.
 */
struct vg_rules *vg_rules_load(const char *dir, struct vg_rule_errors *errs);
/* Parse and validate files alone (`vigil rules check`); 0 if all are valid. */
int vg_rules_check_files(char *const *paths, size_t n, struct vg_rule_errors *errs);
/* The same, and *nrules (may be NULL) gets how many rules the files hold. The
 * files are also checked merged over the defaults, as the daemon loads them
 * (`disable` ids must exist, the kernel's bit budget must hold). */
int vg_rules_check(char *const *paths, size_t n, struct vg_rule_errors *errs, size_t *nrules);
void vg_rules_free(struct vg_rules *r);

size_t vg_rules_count(const struct vg_rules *r);
const struct vg_rule *vg_rules_at(const struct vg_rules *r, size_t i);
const struct vg_rule *vg_rules_find(const struct vg_rules *r, const char *id);
/* The rule behind bit `bit` of kind `kind` (NULL if none). Several bits may
 * lead to the same rule: evaluate each rule once per alert. */
const struct vg_rule *vg_rules_by_bit(const struct vg_rules *r, enum vg_rule_kind kind,
				      unsigned bit);
/* The distinct rules behind the set bits of an alert, in bit order; returns
 * how many were written to out (at most max). */
size_t vg_rules_candidates(const struct vg_rules *r, enum vg_rule_kind kind,
			   const struct vg_rbits *bits, const struct vg_rule **out, size_t max);
bool vg_rule_owns_bit(const struct vg_rule *r, unsigned bit);
/* Syscall numbers some enabled rule needs hooked (for attaching only those). */
size_t vg_rules_syscalls(const struct vg_rules *r, uint32_t *nrs, size_t max);

/*
 * Write the kernel tables of generation `gen` (0/1) into the maps, then make
 * it the active one and clear the other. The previous generation's rule set
 * must stay alive until alerts tagged with it are drained.
 */
struct vg_rule_maps {
	int prefix;  /* vg_rule_prefix: LPM trie vg_lpm_key -> vg_rbits */
	int names;   /* vg_rule_names: hash vg_rule_key -> vg_rbits */
	int sets;    /* vg_rule_sets: array VG_RULESET_SLOT(gen, kind) -> vg_ruleset */
	int gen;     /* vg_rule_gen: array[1] -> __u32 active generation */
};
int vg_rules_install(const struct vg_rules *r, const struct vg_rule_maps *m, uint8_t gen,
		     char *why, size_t whylen);

/*
 * Everything user space knows when it finishes a candidate. Strings are
 * NUL-terminated; argv is `argc` strings. ancestry[0] is the parent, up to
 * the last known ancestor (exited ones included).
 */
struct vg_match_proc {
	const struct vg_proc *rec;
	const char *exe;
	const char *const *argv;
	size_t argc;
};

struct vg_match {
	enum vg_rule_kind kind;
	struct vg_match_proc self;
	const struct vg_match_proc *ancestry;
	size_t nancestry;
	const char *cgroup;     /* cgroup v2 path */
	const char *container;  /* container id, NULL on the host */
	/* file */
	const char *path, *path2;
	uint32_t actions, file_flags, mode;
	/* syscall */
	uint32_t nr;
	int32_t ret;
	uint64_t args[6];
	const char *str;        /* string argument (path, module name...) */
	const struct vg_proc *target;
	const char *target_exe;
	uint64_t now_ns;        /* for rate limits */
	/* environment (env_present), "NAME=value" strings; NULL: read
	 * /proc/PID/environ while the process is alive */
	const char *const *env;
	size_t nenv;
	/* exec: the conditions the kernel saw (1 << enum vg_exec_cond; exec
	 * alerts carry them); with conds_known false (unit tests, replays) they
	 * are trusted as the kernel's (a candidate met them) */
	bool conds_known;
	uint32_t conds;
	/* exec: calls keep on each process record vigil holds (alive or
	 * exited) but self's, and pred on those keep returned true for (with
	 * their strings), until pred returns true; true if one did.
	 * stdout_pipe_to/stdin_pipe_from find the other end of a pipeline with
	 * it. NULL: not available (tests, replays). */
	bool (*procs)(void *ctx, const struct vg_match *m,
		      bool (*keep)(void *arg, const struct vg_proc *rec),
		      bool (*pred)(void *arg, const struct vg_match_proc *p), void *arg);
	void *procs_ctx;
	/* set to true by stdout_pipe_to/stdin_pipe_from when no process on the
	 * other end of the pipe matched yet (it may not have exec'd): "no" may
	 * turn "yes", judge again later. NULL: the answer is final. */
	bool *undecided;
};

/* Does rule r (a kernel candidate) match? Checks everything the kernel
 * couldn't: globs, argv patterns, ancestry, exceptions. No rate limiting. */
bool vg_rule_matches(const struct vg_rule *r, const struct vg_match *m);
/* Rate limit: true if a finding may be emitted now (and counts it). */
bool vg_rule_rate_ok(const struct vg_rule *r, const struct vg_match *m);
/* The same; when it returns true, *suppressed (may be NULL) gets how many
 * findings of this rule and key were held back since the last one let through
 * (put it in the finding). */
bool vg_rule_rate_check(const struct vg_rule *r, const struct vg_match *m, uint64_t *suppressed);
/* Findings of r held back by its rate limit since the set was loaded. */
uint64_t vg_rule_suppressed(const struct vg_rule *r);

const char *vg_severity_name(enum vg_severity s); /* "info" ... "critical" */
const char *vg_rule_kind_name(enum vg_rule_kind k); /* "file", "exec", "syscall" */
/* MITRE ATT&CK names: NULL for unknown ids. */
const char *vg_mitre_tactic_name(const char *id);
const char *vg_mitre_technique_name(const char *id);

/* x86_64 syscall table (src/rules/syscalls.c), the one list of names. */
int vg_syscall_nr(const char *name);     /* -1 if unknown */
const char *vg_syscall_name(uint32_t nr); /* NULL if not in the table */

#endif /* VG_RULES_H */
