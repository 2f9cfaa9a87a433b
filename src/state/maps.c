// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "state/maps.h"
#include "util/timefmt.h"

void vg_maps_init(struct vg_maps *m)
{
	memset(m, 0xff, sizeof(*m));
}

uint64_t vg_stat_get(const struct vg_maps *m, enum vg_stat s)
{
	int ncpu = libbpf_num_possible_cpus();
	uint32_t k = s;
	uint64_t sum = 0, u = 0;
	uint64_t *v;

	if (ncpu <= 0)
		return 0;
	v = calloc(ncpu, sizeof(*v));
	if (v && bpf_map_lookup_elem(m->stats, &k, v) == 0)
		for (int i = 0; i < ncpu; i++)
			sum += v[i];
	free(v);
	if (m->ustats >= 0 && bpf_map_lookup_elem(m->ustats, &k, &u) == 0)
		sum += u;
	return sum;
}

/* Only the daemon writes vg_ustats, from one thread, so read-modify-write is safe. */
void vg_ustat_add(const struct vg_maps *m, enum vg_stat s, uint64_t n)
{
	uint32_t k = s;
	uint64_t v = 0;

	if (m->ustats < 0 || !n)
		return;
	bpf_map_lookup_elem(m->ustats, &k, &v);
	v += n;
	bpf_map_update_elem(m->ustats, &k, &v, BPF_ANY);
}

void vg_gauges_get(const struct vg_maps *m, int64_t *procs, int64_t *exited)
{
	struct vg_gauges g[VG_GAUGE_SLOTS] = {};

	for (uint32_t k = 0; k < VG_GAUGE_SLOTS; k++)
		bpf_map_lookup_elem(m->gauge, &k, &g[k]);
	*procs = g[VG_GAUGE_KERNEL].procs + g[VG_GAUGE_USER].procs;
	*exited = g[VG_GAUGE_KERNEL].exited + g[VG_GAUGE_USER].exited;
}

void vg_gauges_add_user(const struct vg_maps *m, int64_t procs, int64_t exited)
{
	uint32_t k = VG_GAUGE_USER;
	struct vg_gauges g = {};

	bpf_map_lookup_elem(m->gauge, &k, &g);
	g.procs += procs;
	g.exited += exited;
	bpf_map_update_elem(m->gauge, &k, &g, BPF_ANY);
}

/*
 * Count by batched lookups: a syscall per 4096 entries instead of one per key
 * (a 140k-entry file table took 0.7 s key by key). -1 when the map type has
 * no batch operations.
 */
static long count_batched(int fd, const struct bpf_map_info *info)
{
	enum { BATCH_N = 4096 };
	uint32_t vsize = info->value_size;
	void *keys, *vals;
	void *token;
	bool first = true;
	long n = 0;
	int err = 0;

	if (info->type == BPF_MAP_TYPE_PERCPU_HASH || info->type == BPF_MAP_TYPE_LRU_PERCPU_HASH)
		vsize = ((vsize + 7) & ~7u) * libbpf_num_possible_cpus();
	/* The cursor: a bucket index (u32) for hashes, a key for arrays. */
	token = calloc(1, info->key_size + 8);
	keys = malloc((size_t)BATCH_N * info->key_size);
	vals = malloc((size_t)BATCH_N * vsize);
	while (token && keys && vals) {
		uint32_t count = BATCH_N;

		err = bpf_map_lookup_batch(fd, first ? NULL : token, token, keys, vals, &count, NULL);
		first = false;
		n += count;
		if (err)
			break;
	}
	free(keys);
	free(vals);
	free(token);
	if (!token || !keys || !vals)
		return -1;
	return err && errno != ENOENT ? -1 : n;
}

long vg_map_count(int fd)
{
	struct bpf_map_info info = {};
	uint32_t len = sizeof(info);
	char *key, *next;
	long n = 0;

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	key = calloc(2, info.key_size ? info.key_size : 1);
	if (!key)
		return -ENOMEM;
	next = key + info.key_size;
	n = count_batched(fd, &info);
	if (n >= 0) {
		free(key);
		return n;
	}
	n = 0;
	if (bpf_map_get_next_key(fd, NULL, next) == 0) {
		do {
			n++;
			memcpy(key, next, info.key_size);
		} while (bpf_map_get_next_key(fd, key, next) == 0);
	}
	free(key);
	return n;
}

uint64_t vg_meta_boot_offset(const struct vg_maps *m)
{
	struct vg_meta meta;
	uint32_t zero = 0;

	if (m->meta >= 0 && bpf_map_lookup_elem(m->meta, &zero, &meta) == 0 && meta.boot_ns)
		return meta.boot_ns;
	return vg_boot_offset_ns();
}

void vg_meta_sync_clock(const struct vg_maps *m)
{
	struct vg_meta meta;
	uint32_t zero = 0;
	uint64_t live = vg_boot_offset_ns();

	if (bpf_map_lookup_elem(m->meta, &zero, &meta))
		return;
	if (meta.boot_ns && llabs((long long)(live - meta.boot_ns)) <= 1000000LL)
		return;
	meta.boot_ns = live;
	bpf_map_update_elem(m->meta, &zero, &meta, BPF_ANY);
}
