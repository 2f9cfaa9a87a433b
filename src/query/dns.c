// SPDX-License-Identifier: GPL-2.0
/*
 * `query dns`: the names each process asked for (per qtype: how often, the
 * last response code, how many addresses), with the addresses the answer
 * table holds for the name (TTL, CNAME chain). Grouped by process lineage.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "net/maptab.h"
#include "net/net.h"
#include "query/netq.h"

struct qrow {
	struct vg_dnsq_key key;
	struct vg_dnsq val;
	size_t nlin;
	struct vg_proc_key lin[VG_LINEAGE_MAX];
};

static int qrow_cmp(const void *a, const void *b)
{
	const struct qrow *x = a, *y = b;
	int c = vg_lineage_cmp(x->lin, x->nlin, y->lin, y->nlin);

	if (c)
		return c;
	return x->val.first_ns < y->val.first_ns ? -1 : x->val.first_ns > y->val.first_ns;
}

static const char *qtype_name(uint16_t t, char *buf, size_t len)
{
	switch (t) {
	case 1: return "A";
	case 2: return "NS";
	case 5: return "CNAME";
	case 6: return "SOA";
	case 12: return "PTR";
	case 15: return "MX";
	case 16: return "TXT";
	case 28: return "AAAA";
	case 33: return "SRV";
	case 65: return "HTTPS";
	case 255: return "ANY";
	}
	snprintf(buf, len, "TYPE%u", t);
	return buf;
}

static const char *rcode_name(uint16_t r, char *buf, size_t len)
{
	static const char *const n[] = { "NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN",
					 "NOTIMP",  "REFUSED" };

	if (r < sizeof(n) / sizeof(n[0]))
		return n[r];
	snprintf(buf, len, "RCODE%u", r);
	return buf;
}

/* Addresses the answer table holds for this question name. */
static struct json_object *addresses(struct vg_query_ctx *q, const struct vg_dnsa_tab *dt,
				     uint64_t name_hash)
{
	struct json_object *a = json_object_new_array();

	for (size_t i = 0; i < dt->n; i++) {
		const struct vg_dnsa_rec *d = &dt->recs[i];
		struct json_object *o;
		const char *chain;
		char ip[64];

		if (d->key.name_hash != name_hash)
			continue;
		o = json_object_new_object();
		vg_ip_str(&d->key.addr, ip, sizeof(ip));
		chain = d->val.chain ? vg_strcache_get(q->strs, d->val.chain, NULL, NULL) : NULL;
		json_object_object_add(o, "addr", json_object_new_string(ip));
		json_object_object_add(o, "ttl", json_object_new_int64(d->val.ttl));
		json_object_object_add(o, "expires_time", vg_time_json(q, d->val.expires_ns));
		json_object_object_add(o, "cname_chain", chain ? json_object_new_string(chain) : NULL);
		json_object_object_add(o, "last_time", vg_time_json(q, d->val.last_ns));
		json_object_array_add(a, o);
	}
	return a;
}

struct json_object *vg_query_dns(struct vg_query_ctx *q, struct json_object *req, char *err,
				 size_t errlen)
{
	struct json_object *out = NULL;
	struct vg_dnsa_tab dt = {};
	struct vg_netsel s;
	struct vg_maptab mt;
	struct qrow *rows = NULL;
	size_t nr = 0;

	if (vg_netsel_parse(q, req, &s, err, errlen))
		return NULL;
	if (vg_maptab_load(&mt, q->maps->dnsq, sizeof(struct vg_dnsq_key), sizeof(struct vg_dnsq))) {
		snprintf(err, errlen, "reading the DNS question table failed");
		goto out_sel;
	}
	if (vg_dnsa_tab_load(&dt, q->maps)) {
		snprintf(err, errlen, "reading the DNS answer table failed");
		goto out_mt;
	}
	rows = calloc(mt.n ? mt.n : 1, sizeof(*rows));
	if (!rows) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < mt.n; i++) {
		const struct vg_dnsq_key *k = VG_MAPTAB_KEY(&mt, i);
		const struct vg_dnsq *v = VG_MAPTAB_VAL(&mt, i);

		if (!vg_netsel_proc(q, &s, &k->proc))
			continue;
		if (s.since_ns && v->last_ns + s.since_ns < q->now_boot)
			continue;
		if (s.domain && !vg_netsel_domain(&s, vg_strcache_get(q->strs, v->name, NULL, NULL)))
			continue;
		rows[nr].key = *k;
		rows[nr].val = *v;
		rows[nr].nlin = vg_lineage(q, &k->proc, rows[nr].lin);
		nr++;
	}
	qsort(rows, nr, sizeof(*rows), qrow_cmp);
	out = json_object_new_array();
	for (size_t i = 0; i < nr; i++) {
		const struct qrow *r = &rows[i];
		struct json_object *o = json_object_new_object();
		const char *name = vg_strcache_get(q->strs, r->val.name, NULL, NULL);
		char b1[16], b2[16];

		json_object_object_add(o, "process", vg_netproc_json(q, &r->key.proc));
		json_object_object_add(o, "lineage", vg_lineage_json(r->lin, r->nlin));
		json_object_object_add(o, "name", name ? json_object_new_string(name) : NULL);
		json_object_object_add(o, "qtype", json_object_new_string(
			qtype_name(r->key.qtype, b1, sizeof(b1))));
		json_object_object_add(o, "queries", json_object_new_int64(r->val.queries));
		json_object_object_add(o, "responses", json_object_new_int64(r->val.responses));
		json_object_object_add(o, "rcode", r->val.rcode == 0xffff ? NULL :
				       json_object_new_string(rcode_name(r->val.rcode, b2, sizeof(b2))));
		json_object_object_add(o, "answers", json_object_new_int64(r->val.answers));
		json_object_object_add(o, "addresses", addresses(q, &dt, r->key.name_hash));
		json_object_object_add(o, "first_time", vg_time_json(q, r->val.first_ns));
		json_object_object_add(o, "last_time", vg_time_json(q, r->val.last_ns));
		json_object_array_add(out, o);
	}
out:
	free(rows);
	vg_dnsa_tab_free(&dt);
out_mt:
	vg_maptab_free(&mt);
out_sel:
	vg_netsel_free(&s);
	return out;
}
