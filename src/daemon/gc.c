// SPDX-License-Identifier: GPL-2.0
/*
 * Retention: exited processes leave the table in exit order once older than
 * the retention window — except those whose descendants are still in the
 * table, so no lineage vigil holds is ever cut by ageing (only by pressure,
 * which the kernel does and counts). File entries leave with their process.
 * Strings no record or file entry uses are collected.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include "daemon/daemon.h"
#include "net/net.h"
#include "state/filetab.h"
#include "state/proctab.h"
#include "util/log.h"
#include "util/timefmt.h"

#define GC_MAX_PER_RUN 200000
/* File entries are swept at most this often (a full table takes ~0.1 s to scan). */
#define FILE_GC_EVERY_NS 2000000000ULL
#define STR_GC_MARGIN_NS 10000000000ULL /* strings used in the last 10 s are kept */

static bool expired(const struct vg_proc *p, uint64_t now, uint64_t retention)
{
	return (p->flags & VG_PF_EXITED) && p->exit_ns + retention <= now;
}

enum evict_result { EVICTED, KEPT_REQUEUED, NOT_DUE };

/* Remove one aged-out record, unless descendants keep it (then it goes to the back). */
static enum evict_result evict(struct vg_daemon *d, const struct vg_proctab *t,
			       const struct vg_proc_key *k, uint64_t now)
{
	const struct vg_maps *m = &d->sensor.maps;
	const struct vg_proc *p = vg_proctab_get(t, k);
	struct vg_proc cur;

	if (bpf_map_lookup_elem(m->procs, k, &cur))
		return EVICTED; /* gone already (pressure eviction): drop the queue entry */
	if (!expired(&cur, now, d->sensor.cfg.retention_ns))
		return NOT_DUE;
	if (p && vg_proctab_children(t, p, NULL, NULL)) {
		bpf_map_update_elem(m->exitq, NULL, k, BPF_ANY); /* back of the line */
		d->requeued++;
		return KEPT_REQUEUED;
	}
	if (bpf_map_delete_elem(m->procs, k) == 0) {
		vg_gauges_add_user(m, -1, -1);
		vg_ustat_add(m, VG_ST_EVICT_RETENTION, 1);
	}
	return EVICTED;
}

static size_t gc_procs(struct vg_daemon *d, struct vg_proctab *t, bool *loaded)
{
	size_t evicted = 0;
	const struct vg_maps *m = &d->sensor.maps;
	uint64_t now = vg_now_boot_ns(), retention = d->sensor.cfg.retention_ns;
	struct vg_proc_key head, got, first_kept = {};
	struct vg_proc p;

	for (int i = 0; i < GC_MAX_PER_RUN; i++) {
		enum evict_result r;

		if (bpf_map_lookup_elem(m->exitq, NULL, &head)) /* peek */
			break;
		if (first_kept.tgid && vg_key_cmp(&head, &first_kept) == 0)
			break; /* went round: everything due now is held by descendants */
		if (bpf_map_lookup_elem(m->procs, &head, &p) == 0 && !expired(&p, now, retention))
			break; /* the oldest exit is still within retention */
		if (!*loaded) {
			if (vg_proctab_load(t, m))
				return evicted;
			*loaded = true;
		}
		if (bpf_map_lookup_and_delete_elem(m->exitq, NULL, &got))
			break;
		/* The kernel may have popped the head meanwhile (pressure): handle what we got. */
		r = evict(d, t, &got, now);
		if (r == NOT_DUE) {
			bpf_map_update_elem(m->exitq, NULL, &got, BPF_ANY);
			break;
		}
		if (r == KEPT_REQUEUED && !first_kept.tgid)
			first_kept = got;
		if (r == EVICTED)
			evicted++;
	}
	return evicted;
}

/* ---- file entries ---- */

/* Delete keys in batches (one syscall per 4096), key by key where batches fail. */
static uint64_t delete_keys(int fd, struct vg_file_key *keys, size_t n)
{
	uint64_t freed = 0;

	for (size_t off = 0; off < n;) {
		uint32_t count = n - off > 4096 ? 4096 : n - off;
		uint32_t want = count;

		if (bpf_map_delete_batch(fd, keys + off, &count, NULL) == 0 || count) {
			/* count: how many went before an error (a key the LRU already dropped) */
			freed += count;
			off += count;
			if (count == want)
				continue;
		}
		if (off < n) {
			freed += bpf_map_delete_elem(fd, keys + off) == 0;
			off++;
		}
	}
	return freed;
}

/*
 * Drop the file entries of processes no longer in the table (aged out, or
 * evicted for room by the kernel). The paths of the entries that stay are
 * returned (ids, *nids) for the string collector. A process absent from the
 * copy t is looked up again before its entries go: it may have started after
 * the copy was taken.
 *
 * VG_ST_FILE_EVICT counts every entry that left: those removed here, exactly,
 * and those the kernel's LRU pushed out to make room, which nothing else can
 * see: created - present - counted so far. (Created is read before the table
 * is copied, so an entry created meanwhile can only make that count lag until
 * a quieter moment, never run ahead.)
 */
static uint64_t *gc_files(struct vg_daemon *d, const struct vg_proctab *t, size_t *nids)
{
	const struct vg_maps *m = &d->sensor.maps;
	struct vg_proc_key last_gone = {}, last_kept = {};
	uint64_t created = vg_stat_get(m, VG_ST_FILE_NEW);
	uint64_t *ids, kept = 0, freed = 0, evicted;
	struct vg_file_key *gone_keys;
	struct vg_filetab ft;
	struct vg_proc p;
	size_t ngone = 0;

	*nids = 0;
	if (m->files < 0 || vg_filetab_load(&ft, m->files))
		return NULL;
	ids = malloc((ft.n ? ft.n : 1) * sizeof(*ids));
	gone_keys = malloc((ft.n ? ft.n : 1) * sizeof(*gone_keys));
	for (size_t i = 0; i < ft.n; i++) {
		const struct vg_file_rec *r = &ft.recs[i];
		bool gone;

		if (vg_proctab_get(t, &r->key.proc) || !vg_key_cmp(&r->key.proc, &last_kept)) {
			gone = false;
		} else if (last_gone.tgid && !vg_key_cmp(&r->key.proc, &last_gone)) {
			gone = true;
		} else {
			gone = bpf_map_lookup_elem(m->procs, &r->key.proc, &p) != 0;
			*(gone ? &last_gone : &last_kept) = r->key.proc;
		}
		if (gone && gone_keys) {
			gone_keys[ngone++] = r->key;
			continue;
		}
		kept++;
		if (ids)
			ids[(*nids)++] = r->val.path;
	}
	freed = delete_keys(m->files, gone_keys, ngone);
	free(gone_keys);
	vg_ustat_add(m, VG_ST_FILE_EVICT, freed);
	evicted = vg_stat_get(m, VG_ST_FILE_EVICT);
	if (created > kept + evicted)
		vg_ustat_add(m, VG_ST_FILE_EVICT, created - kept - evicted);
	vg_filetab_free(&ft);
	return ids;
}

/* ---- strings ---- */

struct idset {
	uint64_t *v;
	size_t cap;
};

static void idset_add(struct idset *s, uint64_t id)
{
	size_t i;

	if (!id)
		return;
	for (i = (id * 0x9e3779b97f4a7c15ULL) & (s->cap - 1); s->v[i] && s->v[i] != id;
	     i = (i + 1) & (s->cap - 1))
		;
	s->v[i] = id;
}

static bool idset_has(const struct idset *s, uint64_t id)
{
	size_t i;

	for (i = (id * 0x9e3779b97f4a7c15ULL) & (s->cap - 1); s->v[i]; i = (i + 1) & (s->cap - 1))
		if (s->v[i] == id)
			return true;
	return false;
}

static void gc_strings(struct vg_daemon *d, const struct vg_proctab *t, const uint64_t *file_ids,
		       size_t nfile_ids)
{
	const struct vg_maps *m = &d->sensor.maps;
	uint64_t cutoff = vg_now_boot_ns() - STR_GC_MARGIN_NS;
	struct idset used = { .cap = 1024 };
	uint64_t key, next, cg, freed = 0;
	struct vg_str_4096 *val = malloc(sizeof(*val));

	while (used.cap < (t->n * 4 + nfile_ids + 16384) * 2)
		used.cap *= 2;
	used.v = calloc(used.cap, sizeof(uint64_t));
	if (!used.v || !val)
		goto out;
	for (size_t i = 0; i < t->n; i++) {
		idset_add(&used, t->recs[i].exe);
		idset_add(&used, t->recs[i].prev_exe);
		idset_add(&used, t->recs[i].argv);
		idset_add(&used, t->recs[i].cgroup);
	}
	for (size_t i = 0; i < nfile_ids; i++)
		idset_add(&used, file_ids[i]);
	if (bpf_map_get_next_key(m->cgpaths, NULL, &next) == 0) {
		do {
			key = next;
			if (bpf_map_lookup_elem(m->cgpaths, &key, &cg) == 0)
				idset_add(&used, cg);
		} while (bpf_map_get_next_key(m->cgpaths, &key, &next) == 0);
	}
	for (int c = 0; c < 3; c++) {
		bool more = bpf_map_get_next_key(m->strs[c], NULL, &next) == 0;

		while (more) {
			key = next;
			more = bpf_map_get_next_key(m->strs[c], &key, &next) == 0;
			if (idset_has(&used, key) || bpf_map_lookup_elem(m->strs[c], &key, val))
				continue;
			/* Recently interned strings may belong to a record not yet visible. */
			if (val->h.last_used_ns < cutoff && bpf_map_delete_elem(m->strs[c], &key) == 0)
				freed++;
		}
	}
	vg_ustat_add(m, VG_ST_STR_EVICT, freed);
	d->str_gc_runs++;
out:
	free(val);
	free(used.v);
}

/* Flows and DNS entries of processes gone (src/net/state.c); their string ids appended. */
static uint64_t *add_net_ids(struct vg_daemon *d, const struct vg_proctab *t, uint64_t *ids,
			     size_t *n)
{
	size_t nn = 0;
	uint64_t *net = vg_net_gc(d, t, &nn), *all;

	if (!nn || !ids) { /* no file ids: no string collection this time anyway */
		free(net);
		return ids;
	}
	all = realloc(ids, (*n + nn) * sizeof(*all));
	if (!all) {
		free(net);
		free(ids);
		*n = 0;
		return NULL; /* no string collection this time rather than losing names */
	}
	memcpy(all + *n, net, nn * sizeof(*all));
	*n += nn;
	free(net);
	return all;
}

void vg_gc_run(struct vg_daemon *d, bool strings)
{
	static uint64_t last_file_gc_ns; /* one daemon per process */
	struct vg_proctab t = {};
	bool loaded = false;
	uint64_t *file_ids = NULL;
	size_t nfile_ids = 0;
	size_t evicted;

	evicted = gc_procs(d, &t, &loaded);
	/*
	 * File entries follow their processes: at once when this run aged some
	 * out, and with every string collection (processes the kernel evicted
	 * for room, and the path ids the collector must keep).
	 */
	if ((evicted && vg_now_boot_ns() - last_file_gc_ns >= FILE_GC_EVERY_NS) || strings) {
		last_file_gc_ns = vg_now_boot_ns();
		if (!loaded && vg_proctab_load(&t, &d->sensor.maps) == 0)
			loaded = true;
		if (loaded)
			file_ids = gc_files(d, &t, &nfile_ids);
		if (loaded) /* network: flows and DNS leave with their process */
			file_ids = add_net_ids(d, &t, file_ids, &nfile_ids);
	}
	if (strings && loaded && (file_ids || d->sensor.maps.files < 0))
		gc_strings(d, &t, file_ids, nfile_ids);
	free(file_ids);
	if (loaded)
		vg_proctab_free(&t);
	d->gc_runs++;
	d->gc_last_ns = vg_now_boot_ns();
}
