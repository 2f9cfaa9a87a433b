/* SPDX-License-Identifier: GPL-2.0 */
/*
 * src/rules internals: the parsed form of a rule (what vg_rule.priv points
 * to), shared by the parser, the compiler, the matcher and the rate limiter.
 * Not part of the module's contract (that is rules.h); unit tests include it.
 */
#ifndef VG_RULES_INT_H
#define VG_RULES_INT_H

#include <pthread.h>
#include <regex.h>
#include <stdbool.h>
#include <stdint.h>
#include "rules/rules.h"

/* A list of strings (NULL when empty). */
struct vg_strv {
	char **v;
	size_t n;
};

/* argv patterns: each non-empty list must have one hit (lists are ANDed). */
struct vg_argv_sel {
	struct vg_strv contains;     /* substring of the command line (args joined by ' ') */
	struct vg_strv regex_src;    /* POSIX ERE over the command line */
	regex_t *regex;              /* compiled, regex_src.n of them */
	struct vg_strv any_arg_glob; /* one of argv[1..] matches the glob */
	bool set;
};

/* A set of paths: any of the entries matches. Used for executables and files. */
struct vg_path_sel {
	struct vg_strv exact, prefix, basename, glob, suffix;
	bool set;
};

/* A process: its executable (path selector), its command line, kernel thread. */
struct vg_proc_sel {
	struct vg_path_sel exe;
	struct vg_argv_sel argv;
	int kthread;       /* -1 any, 0 must not be, 1 must be a kernel thread */
	unsigned max_depth; /* ancestor: how far up (0 = the whole known chain) */
	bool set;
};

/* uid: equal to / not equal to one of the values. */
struct vg_uid_sel {
	uint32_t *v;
	size_t n;
	bool negate;
	bool set;
};

/* Relation of the process an operation names (ptrace target, /proc/<pid>/...). */
enum vg_relation {
	VG_REL_SELF = 1 << 0,
	VG_REL_CHILD = 1 << 1,      /* direct child */
	VG_REL_DESCENDANT = 1 << 2, /* grandchild or deeper */
	VG_REL_OTHER = 1 << 3,
};

/* File types, checked with lstat() when the rule is evaluated. */
enum vg_ftype {
	VG_FT_FILE = 1 << 0,
	VG_FT_DIR = 1 << 1,
	VG_FT_SYMLINK = 1 << 2,
	VG_FT_OTHER = 1 << 3,
};

enum vg_arg_op { VG_ARG_IN, VG_ARG_NOT_IN, VG_ARG_MASK };
struct vg_arg_cond {
	unsigned arg; /* 0..5 */
	enum vg_arg_op op;
	uint64_t *v;
	size_t n;
};

/* One `except` entry: every key given must hold (AND); entries are ORed. */
struct vg_except {
	struct vg_path_sel exe;
	struct vg_argv_sel argv;
	struct vg_proc_sel parent, ancestor;
	struct vg_path_sel path;
	struct vg_uid_sel uid;
	struct vg_strv env_present;
	int container; /* -1 not given, 1 in a container, 0 on the host */
	int line;
};

enum vg_rate_per { VG_PER_PROCESS, VG_PER_EXE, VG_PER_ANCESTRY, VG_PER_RULE, VG_PER_OBJECT,
		   VG_PER_STDIN };

struct vg_rate {
	enum vg_rate_per per;
	uint32_t count;     /* 0: no limit */
	uint64_t window_ns;
};

/* The parsed, validated rule behind vg_rule.priv. */
struct vg_rule_spec {
	/* exec */
	struct vg_path_sel exe;      /* exec: the new executable; file/syscall: limit to */
	struct vg_argv_sel argv;
	struct vg_proc_sel parent, ancestor;
	struct vg_proc_sel pipe_to;  /* exec: stdout is a pipe read by a process like this */
	struct vg_proc_sel pipe_from; /* exec: stdin is a pipe written by a process like this */
	uint32_t conds;              /* exec: 1 << enum vg_exec_cond */
	struct vg_strv env_present;
	/* file */
	struct vg_path_sel path;
	uint32_t actions;            /* enum vg_fact */
	uint32_t mode_bits;          /* any of these mode bits set (S_ISUID, S_ISGID...) */
	uint32_t types;              /* enum vg_ftype mask the object must be (0 = any) */
	bool own_exe;                /* the file is the process's own executable */
	bool include_failed;
	/* syscall */
	uint32_t *nrs;
	size_t nnrs;
	struct vg_arg_cond *args;
	size_t nargs;
	bool host_ns;                /* setns: moved into a host namespace its parent is not in */
	/* file and syscall: the process the operation names */
	uint32_t relation;           /* enum vg_relation mask, 0 = any */
	/* all */
	struct vg_uid_sel uid;
	struct vg_except *except;
	size_t nexcept;
	struct vg_rate rate;
	struct vg_rate threshold;    /* count 0: none */
	struct vg_rbits bits;        /* every kernel bit this rule owns */
	struct vg_rules *set;        /* back pointer: rate-limit table */
	uint64_t suppressed;         /* findings held back by the rate limit, total */
};

/* Rate-limit table, bounded: one per loaded rule set. */
#define VG_RATE_SLOTS 8192
#define VG_RATE_PROBE 8
struct vg_rate_slot {
	uint64_t key;     /* 0: free */
	uint64_t start_ns; /* window start */
	uint64_t last_ns;
	uint32_t count;
	uint32_t suppressed; /* since the last finding let through */
};

struct vg_rules {
	struct vg_rule *rules; /* sorted by kind, then load order */
	size_t n;
	struct vg_rule *by_bit[VG_RK_MAX][VG_RULES_MAX];
	unsigned nbits[VG_RK_MAX];
	pthread_mutex_t rate_lock;
	struct vg_rate_slot *rate;
	uint64_t rate_evictions;
};



/* ---- parse.c ---- */
/* One file's rules, before merging. */
struct vg_rule_file {
	struct vg_rule *rules;
	size_t n;
	struct vg_strv disable;
	int *disable_line, *disable_col;
};
/* Parse one YAML document from text; errors appended. 0 if valid. */
int vg_rule_file_parse(const char *name, const char *text, size_t len, bool builtin,
		       struct vg_rule_file *out, struct vg_rule_errors *errs);
void vg_rule_file_free(struct vg_rule_file *f);
void vg_rule_clear(struct vg_rule *r); /* frees what a rule owns */

void vg_rule_error_add(struct vg_rule_errors *e, const char *file, int line, int col,
		       const char *field, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));

/* ---- rules.c ---- */
void vg_strv_free(struct vg_strv *v);
/* A set from one YAML text alone, without the defaults (tests, tools). */
struct vg_rules *vg_rules_from_text(const char *name, const char *text,
				    struct vg_rule_errors *errs);

/* ---- builtin.c ---- */
struct vg_builtin_file {
	const char *name; /* rules/default/x.yaml */
	const char *text;
};
extern const struct vg_builtin_file vg_builtin_rules[];
extern const size_t vg_builtin_nrules;

/* ---- compile.c ---- */
/* Assign kernel bits to the enabled rules of every kind (-E2BIG with errs). */
int vg_rules_assign_bits(struct vg_rules *r, struct vg_rule_errors *errs);

struct vg_lpm_entry {
	struct vg_lpm_key key;
	struct vg_rbits bits;
};
struct vg_name_entry {
	struct vg_rule_key key;
	struct vg_rbits bits;
};
/* The kernel tables of one generation, in memory (pure: no kernel needed). */
struct vg_rule_tables {
	struct vg_lpm_entry *lpm;
	size_t nlpm;
	struct vg_name_entry *names;
	size_t nnames;
	struct vg_ruleset sets[VG_RK_MAX];
};
int vg_rules_compile(const struct vg_rules *r, uint8_t gen, struct vg_rule_tables *t);
void vg_rule_tables_free(struct vg_rule_tables *t);
/* FNV-1a of one path component, as the kernel computes VG_RW_BASE values. */
uint64_t vg_name_hash(const char *s, size_t len);
/* Shape of a glob: its literal prefix and, when the last component is literal,
 * that basename (NULL otherwise). Caller frees both. */
void vg_glob_split(const char *glob, char **prefix, char **base);

/* ---- glob.c ---- */
/* Path glob: '*' and '?' stay inside one component, '**' spans components,
 * [...] classes, '\' escapes. */
bool vg_glob_match(const char *pat, const char *s);
bool vg_glob_has_meta(const char *s);

/* ---- match.c ---- */
bool vg_path_sel_match(const struct vg_path_sel *s, const char *path);
const char *vg_basename(const char *path);

/* ---- mitre.c ---- */
/* Tactic ids a technique belongs to, "TA0003,TA0004" (NULL if unknown). */
const char *vg_mitre_technique_tactics(const char *id);

/* ---- syscalls.c ---- */
/* Named argument values: "request" (ptrace), "family" (socket), "cmd" (bpf).
 * Returns the argument index the name applies to, -1 if unknown key. */
int vg_syscall_named_arg(const char *key, const char *value, uint64_t *out, int *found);
const char *vg_syscall_named_arg_syscall(const char *key); /* "ptrace" for "request" */
size_t vg_syscall_table(const char *const **names, const uint32_t **nrs);

#endif
