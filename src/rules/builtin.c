// SPDX-License-Identifier: GPL-2.0
/*
 * The default rules, embedded: the Makefile turns every YAML file of
 * rules/default/ into C string literals ($(BUILD)/rules_default.h). The binary never reads rules/.
 */
#include <stddef.h>
#include "rules/rules_int.h"

const struct vg_builtin_file vg_builtin_rules[] = {
#include "rules_default.h"
};

const size_t vg_builtin_nrules = sizeof(vg_builtin_rules) / sizeof(vg_builtin_rules[0]);
