// SPDX-License-Identifier: GPL-2.0
/*
 * The daemon's side of the network state: `vigil status` numbers, and
 * retention — a flow or DNS question lives while its process's record lives;
 * a finished flow (TCP closed or refused, UDP idle) of a live process, entries
 * with no process record (sockets older than vigil, kernel control sockets)
 * and DNS answers past their TTL age out after the retention window.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "daemon/daemon.h"
#include "net/maptab.h"
#include "net/net.h"
#include "state/proctab.h"
#include "util/timefmt.h"

/* The TCP connections' slots: in use (open, or closed and kept), open, and their number. */
static void conns_status(struct json_object *o, const struct vg_maps *m)
{
	uint32_t n = 0, used = 0, open = 0;
	struct vg_conn *c = vg_conns_map(m->conns, &n);

	for (uint32_t i = 0; c && i < n; i++) {
		uint64_t st = VG_CONN_STATE(__atomic_load_n(&c[i].claim, __ATOMIC_RELAXED));

		used += st != VG_CONN_FREE;
		open += st == VG_CONN_OPEN;
	}
	vg_conns_unmap(c, n);
	json_object_object_add(o, "connections", c ? json_object_new_int64(used) : NULL);
	json_object_object_add(o, "connections_open", c ? json_object_new_int64(open) : NULL);
	json_object_object_add(o, "connections_max", c ? json_object_new_int64(n) : NULL);
}

struct json_object *vg_net_status_json(struct vg_daemon *d)
{
	const struct vg_maps *m = &d->sensor.maps;
	struct vigil_bpf_maps_view {
		const char *key;
		int fd;
	} tabs[] = {
		{ "flows", m->flows }, { "dns_questions", m->dnsq },
		{ "dns_answers", m->dnsa },
	};
	struct json_object *o = json_object_new_object();
	struct json_object *c = json_object_new_object();

	json_object_object_add(o, "cgroup_root", d->sensor.cgroot[0] ?
			       json_object_new_string(d->sensor.cgroot) : NULL);
	for (size_t i = 0; i < sizeof(tabs) / sizeof(tabs[0]); i++) {
		struct bpf_map_info info = {};
		uint32_t len = sizeof(info);
		char k[64];

		json_object_object_add(o, tabs[i].key, json_object_new_int64(
			tabs[i].fd >= 0 ? vg_map_count(tabs[i].fd) : 0));
		snprintf(k, sizeof(k), "%s_max", tabs[i].key);
		if (tabs[i].fd >= 0 && bpf_obj_get_info_by_fd(tabs[i].fd, &info, &len) == 0)
			json_object_object_add(o, k, json_object_new_int64(info.max_entries));
		else
			json_object_object_add(o, k, NULL);
	}
	conns_status(o, m);
	for (int s = 0; s < VG_NS_MAX; s++)
		json_object_object_add(c, vg_net_stat_name(s), json_object_new_uint64(
			vg_net_stat_get(m, s)));
	json_object_object_add(o, "counters", c);
	return o;
}

static void ids_add(uint64_t **ids, size_t *n, size_t *cap, uint64_t id)
{
	if (!id)
		return;
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 1024;
		uint64_t *p = realloc(*ids, nc * sizeof(*p));

		if (!p)
			return;
		*ids = p;
		*cap = nc;
	}
	(*ids)[(*n)++] = id;
}

/* Does the owner still have a record? Unowned entries go by age instead. */
static bool keep(const struct vg_maps *m, const struct vg_proctab *t, const struct vg_proc_key *k,
		 uint64_t last_ns, uint64_t now, uint64_t retention)
{
	struct vg_proc p;

	if (k->start_ns == 0)
		return last_ns + retention > now;
	return vg_proctab_get(t, k) || bpf_map_lookup_elem(m->procs, k, &p) == 0;
}

/* A flow's row leaves: finished (closed TCP, idle UDP: `finished`) past the retention
 * window even for a live process, or its owner's record is gone. */
static bool flow_gone(const struct vg_maps *m, const struct vg_proctab *t, const struct vg_flow *v,
		      bool finished, uint64_t now, uint64_t retention)
{
	return (finished && v->last_ns + retention <= now) ||
	       !keep(m, t, &v->proc, v->last_ns, now, retention);
}

static uint64_t delete_all(int fd, const void *keys, size_t ksz, size_t n)
{
	uint64_t freed = 0;

	for (size_t i = 0; i < n; i++)
		freed += bpf_map_delete_elem(fd, (const char *)keys + i * ksz) == 0;
	return freed;
}

uint64_t *vg_net_gc(struct vg_daemon *d, const struct vg_proctab *t, size_t *nids)
{
	const struct vg_maps *m = &d->sensor.maps;
	uint64_t now = vg_now_boot_ns(), retention = d->sensor.cfg.retention_ns;
	uint64_t *ids = NULL, created, evicted, freed, kept;
	struct vg_conn *conns;
	uint32_t nconns;
	size_t cap = 0, ngone;
	struct vg_maptab mt;
	char *gone;

	*nids = 0;
	/* flows; created is read before the copy, so a flow made meanwhile can only make the
	 * count of those the LRU pushed out lag, never run ahead (as for file entries) */
	created = vg_net_stat_get(m, VG_NS_FLOW_NEW);
	if (vg_maptab_load(&mt, m->flows, sizeof(struct vg_flow_key), sizeof(struct vg_flow)) == 0) {
		gone = malloc((mt.n ? mt.n : 1) * mt.ksz);
		ngone = 0;
		for (size_t i = 0; gone && i < mt.n; i++) {
			const struct vg_flow *v = VG_MAPTAB_VAL(&mt, i);

			const struct vg_flow_key *k = VG_MAPTAB_KEY(&mt, i);

			if (flow_gone(m, t, v, k->proto != 6 || v->state != VG_FS_OPEN, now,
				      retention))
				memcpy(gone + ngone++ * mt.ksz, k, mt.ksz);
		}
		freed = delete_all(m->flows, gone, mt.ksz, ngone);
		vg_net_ustat_add(m, VG_NS_FLOW_EVICT, freed);
		evicted = vg_net_stat_get(m, VG_NS_FLOW_EVICT);
		kept = mt.n - freed;
		if (created > kept + evicted) /* pushed out by the LRU when the table was full */
			vg_net_ustat_add(m, VG_NS_FLOW_EVICT, created - kept - evicted);
		free(gone);
		vg_maptab_free(&mt);
	}
	/* TCP connections' slots: the same rule; a slot is given back (free) unless a connection
	 * took or gave it back meanwhile (compare-and-exchange on its claim) */
	freed = 0;
	conns = vg_conns_map(m->conns, &nconns);
	for (uint32_t i = 0; conns && i < nconns; i++) {
		uint64_t claim = __atomic_load_n(&conns[i].claim, __ATOMIC_ACQUIRE);
		const struct vg_flow *v = &conns[i].f;

		/* free, or just taken and its row not written yet (its cookie comes last) */
		if (VG_CONN_STATE(claim) == VG_CONN_FREE ||
		    __atomic_load_n(&v->wire.cookie, __ATOMIC_ACQUIRE) != VG_CONN_COOKIE(claim))
			continue;
		if (flow_gone(m, t, v, VG_CONN_STATE(claim) == VG_CONN_DONE, now, retention) &&
		    __atomic_compare_exchange_n(&conns[i].claim, &claim, VG_CONN_FREE, false,
						__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
			freed++;
	}
	vg_conns_unmap(conns, nconns);
	vg_net_ustat_add(m, VG_NS_FLOW_EVICT, freed);
	/* DNS questions: with their process; their names stay interned meanwhile */
	if (vg_maptab_load(&mt, m->dnsq, sizeof(struct vg_dnsq_key), sizeof(struct vg_dnsq)) == 0) {
		gone = malloc((mt.n ? mt.n : 1) * mt.ksz);
		ngone = 0;
		for (size_t i = 0; gone && i < mt.n; i++) {
			const struct vg_dnsq_key *k = VG_MAPTAB_KEY(&mt, i);
			const struct vg_dnsq *v = VG_MAPTAB_VAL(&mt, i);

			if (!keep(m, t, &k->proc, v->last_ns, now, retention))
				memcpy(gone + ngone++ * mt.ksz, k, mt.ksz);
			else
				ids_add(&ids, nids, &cap, v->name);
		}
		vg_net_ustat_add(m, VG_NS_DNS_EVICT, delete_all(m->dnsq, gone, mt.ksz, ngone));
		free(gone);
		vg_maptab_free(&mt);
	}
	/* DNS answers: the retention window past their TTL */
	if (vg_maptab_load(&mt, m->dnsa, sizeof(struct vg_dnsa_key), sizeof(struct vg_dnsa)) == 0) {
		gone = malloc((mt.n ? mt.n : 1) * mt.ksz);
		ngone = 0;
		for (size_t i = 0; gone && i < mt.n; i++) {
			const struct vg_dnsa *v = VG_MAPTAB_VAL(&mt, i);

			if (v->expires_ns + retention <= now) {
				memcpy(gone + ngone++ * mt.ksz, VG_MAPTAB_KEY(&mt, i), mt.ksz);
				continue;
			}
			ids_add(&ids, nids, &cap, v->name);
			ids_add(&ids, nids, &cap, v->chain);
		}
		vg_net_ustat_add(m, VG_NS_DNS_EVICT, delete_all(m->dnsa, gone, mt.ksz, ngone));
		free(gone);
		vg_maptab_free(&mt);
	}
	return ids;
}
