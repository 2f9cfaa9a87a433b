/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Network policy, user-space half: policy files (YAML, docs/network-policy.md)
 * and blocklists -> validated struct vg_np_policy -> kernel maps of one
 * generation (bpf/netpolicy.bpf.c) -> findings from its messages. The daemon's
 * side (load at start, reload on SIGHUP / file change keeping the last good
 * policy, status) is struct vg_netpolicy.
 */
#ifndef VG_NETPOLICY_H
#define VG_NETPOLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>
#include "vigil/abi.h"
#include "rules/rules.h"

#define VG_NP_FILE "/etc/vigil/network.yaml"
#define VG_NP_DIR "/etc/vigil/network.d"

/* What a blocklist is about: names the finding's rule (MITRE mapping). */
enum vg_np_category { VG_NPC_C2, VG_NPC_MINING, VG_NPC_DYNDNS, VG_NPC_MAX };

/* One entry of the kernel's table: a policy list item, or one (blocklist, specificity). */
struct vg_np_ent {
	struct vg_np_entry k;       /* what the kernel tests */
	const char *list;           /* "allow", "deny", "blocklist" */
	size_t index;               /* position in its list */
	char *source;               /* file:line */
	char *what;                 /* "10.1.0.0/16 tcp port 443 exe=/usr/bin/curl"; NULL: blocklist */
	char *exe_path, *cgroup_path;
	int category;               /* blocklists: enum vg_np_category; -1 otherwise */
	bool scoped;
	bool shared;                /* source belongs to another entry (same blocklist) */
	unsigned polref;            /* RuntimePolicy rule: 1 + index in polrefs; 0: none */
};

/* The RuntimePolicy rule entries came from (docs/policies.md): what its findings show. */
struct vg_np_polref {
	char *policy;        /* metadata.name */
	char *rule_id;       /* policy/<name>/<index> */
	char *message;       /* NULL: none */
	char *how;           /* the guarantee, one phrase */
	char *source;        /* the policy file */
	const char *action;  /* "block", "alert", "kill", "freeze" (static) */
	const char *enforced_by; /* "cgroup", "signal" (static) */
	bool audit;          /* mode: audit or --enforce=off: reported only */
	struct vg_rule rule; /* the findings' "rule" */
};

struct vg_np_prefix {
	uint8_t addr[16];
	uint8_t len;  /* bits of the v6 (or v4-mapped) address */
	uint32_t ent; /* entry id */
};

struct vg_np_dom {
	uint64_t hash; /* vg domain hash of the name (VG_DOM_*) */
	uint32_t ent;  /* entry id, | VG_NP_SUB for subdomains only */
};

struct vg_np_policy {
	char *files;            /* the files it came from, ", "-separated */
	int mode;               /* enum vg_np_mode */
	int def_egress;         /* enum vg_np_verdict */
	int def_ingress;        /* enum vg_np_verdict: inbound traffic no ingress entry matches */
	size_t ningress;        /* ingress entries (VG_NPE_INGRESS) */
	struct vg_np_ent *ents; /* id i+1 at index i (id 0: none) */
	size_t nents, capents;
	struct vg_np_prefix *pfx;
	size_t npfx, cappfx;
	struct vg_np_dom *doms;
	size_t ndoms, capdoms;
	char **dom_names;       /* explicit (policy) domains, for hash -> name in findings */
	uint64_t *dom_name_hash;
	size_t ndom_names;
	struct vg_np_polref *polrefs; /* RuntimePolicy rules merged in */
	size_t npolrefs;
	size_t blocklist_entries; /* lines loaded from blocklists */
	size_t nblocklists;
	uint64_t parse_ns;      /* time to read and validate */
};

/* Parse policy files (in order: one policy may span several, the first sets
 * mode/default); NULL with errs filled when anything is invalid. */
struct vg_np_policy *vg_np_policy_load(char *const *paths, size_t n, struct vg_rule_errors *errs);
struct vg_np_policy *vg_np_policy_new(void); /* empty: enforce, default allow */
void vg_np_policy_free(struct vg_np_policy *p);

/* ---- RuntimePolicy network rules (src/policy) ---- */
struct y_ctx;
struct yaml_node_s;
/* A rule's `network:` mapping, {deny: [...], allow: [...]}, whose items are the
 * network-policy file's allow/deny entries (same parser): into p. Errors as
 * file:line:column: FIELD.deny[i].cidr: ... 0 or -EINVAL. */
int vg_np_parse_rule_lists(struct y_ctx *c, struct yaml_node_s *n, const char *field,
			   struct vg_np_policy *p);
/* Append src's entries to dst as the entries of one RuntimePolicy rule: they
 * apply where kernel rule `bit`'s target holds (entry.pol), carry flags
 * (VG_NPE_*), rank as scoped, and findings show ref (copied). */
int vg_np_policy_merge(struct vg_np_policy *dst, const struct vg_np_policy *src, unsigned bit,
		       uint32_t flags, const struct vg_np_polref *ref);

/* What the policy engine hands the network policy after each (re)load. */
struct vg_np_extra {
	const struct vg_np_policy *net; /* the rule's entries */
	unsigned bit;                    /* its kernel bit (target) */
	uint32_t flags;                  /* VG_NPE_AUDIT/KILL/STOP */
	struct vg_np_polref ref;
};

/* ---- domain names (pure, unit-tested) ---- */
/* Normalise a domain ("*.Example.COM." -> "example.com", *wild = true); false if invalid. */
bool vg_np_domain_norm(const char *in, char *out, size_t outlen, bool *wild, const char **why);
/* Hash of a normalised name as the kernel computes it; *labels gets the label count. */
uint64_t vg_np_domain_hash(const char *name, unsigned *labels);
/* Parse "10.0.0.0/8", "10.1.2.3", "fd00::/8" to a v6 (v4-mapped) prefix. */
bool vg_np_cidr_parse(const char *s, uint8_t addr[16], uint8_t *len, const char **why);
/* Text of a v6 / v4-mapped address. */
void vg_np_addr_str(const uint8_t addr[16], char *out, size_t len);

/* ---- the daemon's side ---- */
struct vg_netpolicy;
struct vg_detect;
struct vg_maps;
struct bpf_object;

struct vg_netpolicy *vg_netpolicy_new(struct bpf_object *obj, const struct vg_maps *maps,
				      struct vg_detect *det, const char *file_given,
				      void (*drain)(void *), void *arg);
void vg_netpolicy_free(struct vg_netpolicy *np);
/* Attach the programs at the cgroup v2 root and load the policy (if any). */
int vg_netpolicy_start(struct vg_netpolicy *np);
int vg_netpolicy_reload(struct vg_netpolicy *np, const char *why);
/* inotify on the policy files' directories, and the debounce timer it arms:
 * the caller polls both and calls on_inotify / on_timer (which reloads). */
int vg_netpolicy_watch_fd(const struct vg_netpolicy *np);
int vg_netpolicy_timer_fd(const struct vg_netpolicy *np);
bool vg_netpolicy_on_inotify(struct vg_netpolicy *np);
void vg_netpolicy_on_timer(struct vg_netpolicy *np);
/* Periodic work (the daemon's GC tick): the port scan shape over the flow table. */
void vg_netpolicy_tick(struct vg_netpolicy *np);
/* A VG_MSG_NET message from the ring buffer. */
void vg_netpolicy_msg(struct vg_netpolicy *np, const void *data, size_t len);
struct json_object *vg_netpolicy_status(struct vg_netpolicy *np);
/* The RuntimePolicy network rules in force (their entries point into the policy
 * set, which outlives the next call), compiled against policy generation
 * pol_gen: merged with the policy files and installed now. The previous merge
 * stays in force if this one fails. */
int vg_netpolicy_set_runtime(struct vg_netpolicy *np, const struct vg_np_extra *x, size_t n,
			     unsigned pol_gen);
/* Called for a RuntimePolicy freeze that took effect (the process is being stopped at
 * its syscall's exit): the policy engine adds the process's state and open files and
 * freezes its container's cgroup; appends JSON members (",\"k\":v") to extra. */
typedef size_t (*vg_np_freeze_fn)(void *ctx, uint32_t pid, char *extra, size_t len);
void vg_netpolicy_set_freeze_hook(struct vg_netpolicy *np, vg_np_freeze_fn fn, void *ctx);

#endif
