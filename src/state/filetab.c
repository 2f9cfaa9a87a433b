// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "state/filetab.h"

#define BATCH 4096

static const char *const fact_names[32] = {
	[0] = "read",	     [1] = "write",	 [2] = "create",     [3] = "truncate",
	[4] = "unlink",	     [5] = "rename_from", [6] = "rename_to", [7] = "chmod",
	[8] = "chown",	     [9] = "link",	 [10] = "symlink",   [11] = "exec",
	[12] = "mmap_exec", [13] = "setid",	 [14] = "utimes",    [15] = "xattr_caps",
	[16] = "memfd",	     [30] = "failed",
};

const char *vg_fact_name(unsigned bit)
{
	return bit < 32 ? fact_names[bit] : NULL;
}

int vg_fact_parse(const char *list, uint32_t *mask, char *bad, size_t badlen)
{
	char *copy = strdup(list), *save = NULL, *w;
	int err = 0;

	if (!copy)
		return -ENOMEM;
	*mask = 0;
	for (w = strtok_r(copy, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
		unsigned b;

		if (!strcmp(w, "writes")) {
			*mask |= VG_FA_WRITES;
			continue;
		}
		if (!strcmp(w, "any")) {
			*mask |= ~0u;
			continue;
		}
		for (b = 0; b < 32; b++)
			if (fact_names[b] && !strcmp(w, fact_names[b]))
				break;
		if (b == 32) {
			if (bad)
				snprintf(bad, badlen, "%s", w);
			err = -EINVAL;
			break;
		}
		*mask |= 1u << b;
	}
	if (!err && !*mask) {
		if (bad)
			snprintf(bad, badlen, "%s", list);
		err = -EINVAL;
	}
	free(copy);
	return err;
}

static int append(struct vg_filetab *t, size_t *cap, const struct vg_file_key *k,
		  const struct vg_file *v, size_t n)
{
	if (t->n + n > *cap) {
		size_t ncap = *cap ? *cap * 2 : 4096;
		struct vg_file_rec *r;

		while (ncap < t->n + n)
			ncap *= 2;
		r = realloc(t->recs, ncap * sizeof(*r));
		if (!r)
			return -ENOMEM;
		t->recs = r;
		*cap = ncap;
	}
	for (size_t i = 0; i < n; i++) {
		t->recs[t->n + i].key = k[i];
		t->recs[t->n + i].val = v[i];
	}
	t->n += n;
	return 0;
}

/* Batched read; key by key where batch operations are missing. */
int vg_filetab_load(struct vg_filetab *t, int fd)
{
	struct vg_file_key *keys = malloc(BATCH * sizeof(*keys));
	struct vg_file *vals = malloc(BATCH * sizeof(*vals));
	struct vg_file_key k, next;
	uint64_t token = 0;
	bool first = true;
	size_t cap = 0;
	int err = 0;

	memset(t, 0, sizeof(*t));
	if (!keys || !vals) {
		err = -ENOMEM;
		goto out;
	}
	for (;;) {
		uint32_t count = BATCH;

		err = bpf_map_lookup_batch(fd, first ? NULL : &token, &token, keys, vals, &count,
					   NULL);
		first = false;
		if (count && append(t, &cap, keys, vals, count)) {
			err = -ENOMEM;
			goto out;
		}
		if (err == -ENOENT) {
			err = 0;
			goto out;
		}
		if (err == -EINVAL || err == -ENOTSUP || err == -EOPNOTSUPP || err == -ENOSPC)
			break;
		if (err)
			goto out;
	}
	t->n = 0;
	err = 0;
	if (bpf_map_get_next_key(fd, NULL, &next))
		goto out;
	do {
		k = next;
		if (bpf_map_lookup_elem(fd, &k, vals) == 0 && append(t, &cap, &k, vals, 1)) {
			err = -ENOMEM;
			goto out;
		}
	} while (bpf_map_get_next_key(fd, &k, &next) == 0);
out:
	free(keys);
	free(vals);
	if (err)
		vg_filetab_free(t);
	return err;
}

void vg_filetab_add_pending(struct vg_filetab *t, int hot_fd)
{
	int ncpu = libbpf_num_possible_cpus();
	struct vg_file_hot *hot;
	uint32_t zero = 0;
	int n = 0;

	if (hot_fd < 0 || ncpu <= 0 || !t->n)
		return;
	hot = calloc(ncpu, sizeof(*hot));
	if (!hot || bpf_map_lookup_elem(hot_fd, &zero, hot)) {
		free(hot);
		return;
	}
	for (int c = 0; c < ncpu; c++) /* keep the slots with something pending */
		if (hot[c].pending)
			hot[n++] = hot[c];
	for (size_t i = 0; i < t->n && n; i++) {
		struct vg_file *v = &t->recs[i].val;

		for (int c = 0; c < n; c++) {
			if (memcmp(&hot[c].key, &t->recs[i].key, sizeof(hot[c].key)))
				continue;
			v->count += hot[c].pending;
			if (hot[c].last_ns > v->last_ns)
				v->last_ns = hot[c].last_ns;
		}
	}
	free(hot);
}

void vg_filetab_free(struct vg_filetab *t)
{
	free(t->recs);
	t->recs = NULL;
	t->n = 0;
}
