// SPDX-License-Identifier: GPL-2.0
/*
 * The small layer that writes compiled tables into the kernel's maps:
 * fill generation `gen` (after clearing anything stale in it), flip
 * vg_rule_gen to it, then clear the other generation.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include "rules/rules_int.h"

/* Delete every key of generation `gen` from a hash/LPM map. gen_off: offset of
 * the gen byte in the key. Keys are collected first: deleting while walking
 * restarts the walk on some map types. */
static int clear_gen(int fd, size_t key_size, size_t gen_off, uint8_t gen)
{
	unsigned char *keys = NULL, *cur = NULL, next[sizeof(struct vg_lpm_key)];
	size_t n = 0, cap = 0;
	int err = 0;

	if (fd < 0 || key_size > sizeof(next))
		return -EINVAL;
	while (!bpf_map_get_next_key(fd, cur, next)) {
		if (next[gen_off] == gen) {
			if (n == cap) {
				unsigned char *nk;

				cap = cap ? cap * 2 : 256;
				nk = realloc(keys, cap * key_size);
				if (!nk) {
					err = -ENOMEM;
					break;
				}
				keys = nk;
			}
			memcpy(keys + n * key_size, next, key_size);
			n++;
		}
		if (!cur)
			cur = malloc(key_size);
		if (!cur) {
			err = -ENOMEM;
			break;
		}
		memcpy(cur, next, key_size);
	}
	for (size_t i = 0; i < n; i++)
		if (bpf_map_delete_elem(fd, keys + i * key_size) && errno != ENOENT && !err)
			err = -errno;
	free(keys);
	free(cur);
	return err;
}

static int clear_sets(int fd, uint8_t gen)
{
	struct vg_ruleset empty = {};

	for (int k = 0; k < VG_RK_MAX; k++) {
		__u32 slot = VG_RULESET_SLOT(gen, k);

		if (bpf_map_update_elem(fd, &slot, &empty, BPF_ANY))
			return -errno;
	}
	return 0;
}

int vg_rules_install(const struct vg_rules *r, const struct vg_rule_maps *m, uint8_t gen,
		     char *why, size_t whylen)
{
	struct vg_rule_tables t;
	uint8_t other = !gen;
	__u32 zero = 0, g = gen;
	int err;

	if (gen > 1 || !r || !m) {
		snprintf(why, whylen, "bad generation %u", gen);
		return -EINVAL;
	}
	err = vg_rules_compile(r, gen, &t);
	if (err) {
		snprintf(why, whylen, "compiling the rule tables: %s", strerror(-err));
		return err;
	}
	/* stale entries of this generation (an earlier install of it) */
	if ((err = clear_gen(m->prefix, sizeof(struct vg_lpm_key),
			     offsetof(struct vg_lpm_key, gen), gen)) ||
	    (err = clear_gen(m->names, sizeof(struct vg_rule_key), offsetof(struct vg_rule_key, gen),
			     gen))) {
		snprintf(why, whylen, "clearing generation %u: %s", gen, strerror(-err));
		goto out;
	}
	for (size_t i = 0; i < t.nlpm; i++)
		if (bpf_map_update_elem(m->prefix, &t.lpm[i].key, &t.lpm[i].bits, BPF_ANY)) {
			err = -errno;
			snprintf(why, whylen, "vg_rule_prefix: %zu of %zu entries written: %s", i,
				 t.nlpm, strerror(errno));
			goto out;
		}
	for (size_t i = 0; i < t.nnames; i++)
		if (bpf_map_update_elem(m->names, &t.names[i].key, &t.names[i].bits, BPF_ANY)) {
			err = -errno;
			snprintf(why, whylen, "vg_rule_names: %zu of %zu entries written: %s", i,
				 t.nnames, strerror(errno));
			goto out;
		}
	for (int k = 0; k < VG_RK_MAX; k++) {
		__u32 slot = VG_RULESET_SLOT(gen, k);

		if (bpf_map_update_elem(m->sets, &slot, &t.sets[k], BPF_ANY)) {
			err = -errno;
			snprintf(why, whylen, "vg_rule_sets: %s", strerror(errno));
			goto out;
		}
	}
	if (bpf_map_update_elem(m->gen, &zero, &g, BPF_ANY)) {
		err = -errno;
		snprintf(why, whylen, "vg_rule_gen: %s", strerror(errno));
		goto out;
	}
	/* the new generation is live; the old one goes */
	err = clear_sets(m->sets, other);
	if (!err)
		err = clear_gen(m->prefix, sizeof(struct vg_lpm_key),
				offsetof(struct vg_lpm_key, gen), other);
	if (!err)
		err = clear_gen(m->names, sizeof(struct vg_rule_key),
				offsetof(struct vg_rule_key, gen), other);
	if (err)
		snprintf(why, whylen, "generation %u is live, clearing %u failed: %s", gen, other,
			 strerror(-err));
out:
	vg_rule_tables_free(&t);
	return err;
}
