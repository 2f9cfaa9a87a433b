// SPDX-License-Identifier: GPL-2.0
/*
 * `query flows`: what each process talked to, by address and by name, from
 * the kernel's flow table joined with the DNS answer table. One row per
 * (process, protocol, local address/port, remote address/port): the kernel's
 * per-socket entries of one process with the same addresses are merged (a
 * listener's handshake packets with its accepted socket, a reconnect from the
 * same port). Rows come grouped by process lineage (a depth-first order of
 * the process tree), exited processes included.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "net/maptab.h"
#include "net/net.h"
#include "query/netq.h"

struct row {
	struct vg_flow_key key; /* cookie: of the first entry merged */
	struct vg_flow val;
	uint32_t sockets;
	size_t nlin;
	struct vg_proc_key lin[VG_LINEAGE_MAX];
};

/* Identity of a row: process and addresses (not the socket). */
static int ident_cmp(const struct vg_flow_key *a, const struct vg_flow *av,
		     const struct vg_flow_key *b, const struct vg_flow *bv)
{
	int c = vg_key_cmp(&av->proc, &bv->proc);

	if (c)
		return c;
	if (a->proto != b->proto)
		return a->proto < b->proto ? -1 : 1;
	if ((c = memcmp(&a->raddr, &b->raddr, sizeof(a->raddr))))
		return c;
	if (a->rport != b->rport)
		return a->rport < b->rport ? -1 : 1;
	if ((c = memcmp(&a->laddr, &b->laddr, sizeof(a->laddr))))
		return c;
	if (a->lport != b->lport)
		return a->lport < b->lport ? -1 : 1;
	return 0;
}

struct ent {
	const struct vg_flow_key *k;
	const struct vg_flow *v;
};

static int ent_cmp(const void *a, const void *b)
{
	const struct ent *x = a, *y = b;
	int c = ident_cmp(x->k, x->v, y->k, y->v);

	if (c)
		return c;
	return x->v->first_ns < y->v->first_ns ? -1 : x->v->first_ns > y->v->first_ns;
}

static void merge(struct row *r, const struct vg_flow_key *k, const struct vg_flow *v)
{
	struct vg_flow *m = &r->val;

	if (!r->sockets++) {
		r->key = *k;
		*m = *v;
		return;
	}
	m->tx_bytes += v->tx_bytes;
	m->rx_bytes += v->rx_bytes;
	m->tx_pkts += v->tx_pkts;
	m->rx_pkts += v->rx_pkts;
	m->flags |= v->flags;
	if (v->first_ns < m->first_ns)
		m->first_ns = v->first_ns;
	if (v->last_ns >= m->last_ns) {
		m->last_ns = v->last_ns;
		m->state = v->state; /* the newest socket's */
	}
	/* an accepted socket's data is the connection; a listener's handshake says "accept" too */
	if (v->init == VG_FI_CONNECT || v->init == VG_FI_ACCEPT)
		m->init = v->init;
}

static int row_cmp(const void *a, const void *b)
{
	const struct row *x = a, *y = b;
	int c = vg_lineage_cmp(x->lin, x->nlin, y->lin, y->nlin);

	if (c)
		return c;
	return x->val.first_ns < y->val.first_ns ? -1 : x->val.first_ns > y->val.first_ns;
}

static const char *init_name(uint32_t i)
{
	static const char *const n[] = { "unknown", "connect", "accept", "send", "recv", "raw" };

	return i < sizeof(n) / sizeof(n[0]) ? n[i] : "unknown";
}

static const char *state_name(uint32_t s)
{
	static const char *const n[] = { "open", "closed", "refused" };

	return s < sizeof(n) / sizeof(n[0]) ? n[s] : "open";
}

static const char *proto_name(uint8_t p)
{
	return p == 6 ? "tcp" : p == 17 ? "udp" : "?";
}

/* Names the remote address was an answer for, learned before the flow's last packet (or
 * within a tick of it). */
static struct json_object *remote_names(struct vg_query_ctx *q, const struct vg_dnsa_tab *dt,
					const struct row *r, const struct vg_netsel *s,
					bool *domain_hit)
{
	struct json_object *a = json_object_new_array();
	const struct vg_dnsa_rec *d;
	size_t n;

	*domain_hit = false;
	d = vg_dnsa_tab_find(dt, &r->key.raddr, &n);
	for (size_t i = 0; i < n; i++) {
		const char *name, *chain;
		bool dup = false;

		/* kernel times are per-CPU tick times (vg_now_tick): an answer and a packet
		 * on two CPUs within one tick (10 ms at HZ=100) may be stamped either way */
		if (d[i].val.first_ns > r->val.last_ns + 10000000ULL)
			continue;
		name = vg_strcache_get(q->strs, d[i].val.name, NULL, NULL);
		if (!name)
			continue;
		for (size_t j = 0; j < json_object_array_length(a) && !dup; j++)
			dup = !strcmp(json_object_get_string(json_object_array_get_idx(a, j)), name);
		if (!dup)
			json_object_array_add(a, json_object_new_string(name));
		if (vg_netsel_domain(s, name))
			*domain_hit = true;
		/* a CNAME on the way counts for --domain too */
		chain = d[i].val.chain ? vg_strcache_get(q->strs, d[i].val.chain, NULL, NULL) : NULL;
		while (chain && !*domain_hit && s->domain) {
			const char *comma = strchr(chain, ',');
			char one[VG_DNS_NAME_BUF];
			size_t l = comma ? (size_t)(comma - chain) : strlen(chain);

			if (l < sizeof(one)) {
				memcpy(one, chain, l);
				one[l] = 0;
				*domain_hit = vg_netsel_domain(s, one);
			}
			chain = comma ? comma + 1 : NULL;
		}
	}
	return a;
}

static struct json_object *row_json(struct vg_query_ctx *q, const struct row *r,
				    struct json_object *names)
{
	struct json_object *o = json_object_new_object();
	char la[64], ra[64];

	static const struct vg_ip any;
	bool listen = r->key.proto == 6 && r->key.rport == 0 &&
		      !memcmp(&r->key.raddr, &any, sizeof(any));

	vg_ip_str(&r->key.laddr, la, sizeof(la));
	vg_ip_str(&r->key.raddr, ra, sizeof(ra));
	json_object_object_add(o, "process", vg_netproc_json(q, &r->val.proc));
	json_object_object_add(o, "lineage", vg_lineage_json(r->lin, r->nlin));
	json_object_object_add(o, "proto", json_object_new_string(proto_name(r->key.proto)));
	json_object_object_add(o, "ip_version", json_object_new_int(r->key.family));
	json_object_object_add(o, "local_addr", json_object_new_string(la));
	json_object_object_add(o, "local_port", json_object_new_int(r->key.lport));
	/* a listener's row: the handshakes of the connections it accepted, any remote */
	json_object_object_add(o, "remote_addr", listen ? NULL : json_object_new_string(ra));
	json_object_object_add(o, "remote_port", listen ? NULL : json_object_new_int(r->key.rport));
	json_object_object_add(o, "remote_names", names);
	json_object_object_add(o, "initiator", json_object_new_string(init_name(r->val.init)));
	json_object_object_add(o, "state", json_object_new_string(
		/* a listener's row made at listen() is marked closed when it closes */
		listen ? (r->val.state == VG_FS_CLOSED ? "closed" : "listen") :
		r->key.proto == 6 ? state_name(r->val.state) : "open"));
	json_object_object_add(o, "route_probe",
			       json_object_new_boolean(!!(r->val.flags & VG_FF_TTL_LOW)));
	json_object_object_add(o, "tx_bytes", json_object_new_uint64(r->val.tx_bytes));
	json_object_object_add(o, "rx_bytes", json_object_new_uint64(r->val.rx_bytes));
	json_object_object_add(o, "tx_packets", json_object_new_uint64(r->val.tx_pkts));
	json_object_object_add(o, "rx_packets", json_object_new_uint64(r->val.rx_pkts));
	json_object_object_add(o, "first_time", vg_time_json(q, r->val.first_ns));
	json_object_object_add(o, "last_time", vg_time_json(q, r->val.last_ns));
	json_object_object_add(o, "sockets", json_object_new_int(r->sockets));
	return o;
}

struct json_object *vg_query_flows(struct vg_query_ctx *q, struct json_object *req, char *err,
				   size_t errlen)
{
	struct json_object *out = NULL;
	struct vg_dnsa_tab dt = {};
	struct vg_netsel s;
	struct vg_maptab mt;
	struct ent *ents = NULL;
	struct row *rows = NULL;
	size_t ne = 0, nr = 0;
	int fl;

	if (vg_netsel_parse(q, req, &s, err, errlen))
		return NULL;
	/* open TCP connections' rows, brought up to date from their sockets */
	fl = vg_flows_flush(q->maps);
	if (fl < 0) {
		snprintf(err, errlen, "bringing open connections' rows up to date "
			 "(vg_flow_flush) failed: %s", strerror(-fl));
		goto out_sel;
	}
	if (vg_flows_load(&mt, q->maps->flows, q->maps->conns)) {
		snprintf(err, errlen, "reading the flow table failed");
		goto out_sel;
	}
	if (vg_dnsa_tab_load(&dt, q->maps)) {
		snprintf(err, errlen, "reading the DNS answer table failed");
		goto out_mt;
	}
	ents = malloc((mt.n ? mt.n : 1) * sizeof(*ents));
	rows = calloc(mt.n ? mt.n : 1, sizeof(*rows));
	if (!ents || !rows) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < mt.n; i++) {
		const struct vg_flow *v = VG_MAPTAB_VAL(&mt, i);

		if (!vg_netsel_proc(q, &s, &v->proc))
			continue;
		ents[ne].k = VG_MAPTAB_KEY(&mt, i);
		ents[ne++].v = v;
	}
	qsort(ents, ne, sizeof(*ents), ent_cmp);
	for (size_t i = 0; i < ne; i++) {
		if (nr && !ident_cmp(&rows[nr - 1].key, &rows[nr - 1].val, ents[i].k, ents[i].v)) {
			merge(&rows[nr - 1], ents[i].k, ents[i].v);
			continue;
		}
		merge(&rows[nr++], ents[i].k, ents[i].v);
	}
	for (size_t i = 0; i < nr; i++)
		rows[i].nlin = vg_lineage(q, &rows[i].val.proc, rows[i].lin);
	qsort(rows, nr, sizeof(*rows), row_cmp);
	out = json_object_new_array();
	for (size_t i = 0; i < nr; i++) {
		struct json_object *names;
		bool hit;

		if (s.since_ns && rows[i].val.last_ns + s.since_ns < q->now_boot)
			continue;
		names = remote_names(q, &dt, &rows[i], &s, &hit);
		if (s.domain && !hit) {
			json_object_put(names);
			continue;
		}
		json_object_array_add(out, row_json(q, &rows[i], names));
	}
out:
	free(ents);
	free(rows);
	vg_dnsa_tab_free(&dt);
out_mt:
	vg_maptab_free(&mt);
out_sel:
	vg_netsel_free(&s);
	return out;
}
