/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Reading rule files with libyaml's document API: every node keeps its line
 * and column, so every getter reports a problem where it is, with the dotted
 * field path ("rules[2].match.file.actions"), and goes on (all problems are
 * collected, the caller decides at the end). Internal to src/rules.
 */
#ifndef VG_RULES_YAML_H
#define VG_RULES_YAML_H

#include <stdbool.h>
#include <stdint.h>
#include <yaml.h>
#include "rules/rules_int.h"

#define Y_FIELD_MAX 128
#define Y_LINE(n) ((int)(n)->start_mark.line + 1)
#define Y_COL(n) ((int)(n)->start_mark.column + 1)

struct y_ctx {
	const char *file;
	yaml_document_t *doc;
	struct vg_rule_errors *errs;
	size_t errs_at_start;
};

/* Report a problem at node n (NULL: no position). */
void y_err(struct y_ctx *c, const yaml_node_t *n, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

yaml_node_t *y_node(struct y_ctx *c, int i);
const char *y_kind(const yaml_node_t *n);   /* "a scalar", "a list", "a mapping" */
const char *y_str(const yaml_node_t *n);    /* a scalar's text, NULL otherwise */
bool y_is_null(const yaml_node_t *n);       /* "key:" with no value, ~, null */
/* out = field + "." + key (cut at Y_FIELD_MAX) */
void y_field(char *out, const char *field, const char *key);

bool y_want_map(struct y_ctx *c, yaml_node_t *n, const char *field);
/* Report unknown and repeated keys of mapping n; returns how many were unknown. */
int y_check_keys(struct y_ctx *c, yaml_node_t *n, const char *field, const char *const *allowed);
yaml_node_t *y_get(struct y_ctx *c, yaml_node_t *n, const char *key);      /* value or NULL */
yaml_node_t *y_key_node(struct y_ctx *c, yaml_node_t *n, const char *key); /* key node, or n */

/* Typed getters: 0, or -EINVAL after reporting the problem. */
int y_get_str(struct y_ctx *c, yaml_node_t *n, const char *field, char **out);
/* A list of strings (a single scalar is a one-item list); check validates
 * each item where it is. */
typedef bool (*y_item_check)(struct y_ctx *c, yaml_node_t *item, const char *field);
int y_get_strv(struct y_ctx *c, yaml_node_t *n, const char *field, struct vg_strv *out,
	       y_item_check check);
int y_strv_push(struct vg_strv *v, const char *s);
int y_get_bool(struct y_ctx *c, yaml_node_t *n, const char *field, bool *out);
int y_parse_u64(const char *s, uint64_t *v); /* decimal or 0x, no sign */
int y_get_uint(struct y_ctx *c, yaml_node_t *n, const char *field, uint64_t max, uint64_t *out);
int y_get_duration(struct y_ctx *c, yaml_node_t *n, const char *field, uint64_t *ns);
/* One word of names (NULL-terminated); *out its index. what: "action"... */
int y_get_enum(struct y_ctx *c, yaml_node_t *n, const char *field, const char *what,
	       const char *const *names, int *out);
/* A list of words (or one); *mask |= bits[i] for each. */
int y_get_enum_mask(struct y_ctx *c, yaml_node_t *n, const char *field, const char *what,
		    const char *const *names, const uint32_t *bits, uint32_t *mask);

#endif
