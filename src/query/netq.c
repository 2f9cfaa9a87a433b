// SPDX-License-Identifier: GPL-2.0
/* Process selection, lineage and the DNS answer table for the network queries. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "net/maptab.h"
#include "query/netq.h"
#include "query/select.h"
#include "util/timefmt.h"

int vg_netsel_parse(struct vg_query_ctx *q, struct json_object *req, struct vg_netsel *s,
		    char *err, size_t errlen)
{
	int64_t since = 0;

	memset(s, 0, sizeof(*s));
	s->exe = vg_qarg_str(req, "exe");
	s->domain = vg_qarg_str(req, "domain");
	if (s->domain && *s->domain == '.')
		s->domain++;
	if (vg_qarg_int(req, "since_ns", &since) && since > 0)
		s->since_ns = since;
	return vg_keyset_select(q, req, &s->procs, err, errlen);
}

void vg_netsel_free(struct vg_netsel *s)
{
	vg_keyset_free(&s->procs);
}

bool vg_netsel_proc(struct vg_query_ctx *q, const struct vg_netsel *s,
		    const struct vg_proc_key *k)
{
	if (!vg_keyset_has(&s->procs, k))
		return false;
	if (s->exe) {
		const struct vg_proc *p = vg_proctab_get(&q->tab, k);

		if (!p || !vg_qmatch_name(s->exe, vg_strcache_get(q->strs, p->exe, NULL, NULL)))
			return false;
	}
	return true;
}

bool vg_netsel_domain(const struct vg_netsel *s, const char *name)
{
	size_t dl, nl;

	if (!s->domain)
		return true;
	if (!name)
		return false;
	dl = strlen(s->domain);
	nl = strlen(name);
	if (nl == dl)
		return strcasecmp(name, s->domain) == 0;
	return nl > dl && name[nl - dl - 1] == '.' && strcasecmp(name + nl - dl, s->domain) == 0;
}

size_t vg_lineage(struct vg_query_ctx *q, const struct vg_proc_key *k,
		  struct vg_proc_key out[VG_LINEAGE_MAX])
{
	struct vg_proc_key rev[VG_LINEAGE_MAX];
	const struct vg_proc *p = vg_proctab_get(&q->tab, k);
	size_t n = 0;

	rev[n++] = *k;
	while (p && n < VG_LINEAGE_MAX) {
		p = vg_proctab_parent(&q->tab, p);
		if (!p)
			break;
		rev[n++] = p->key;
	}
	for (size_t i = 0; i < n; i++)
		out[i] = rev[n - 1 - i];
	return n;
}

int vg_lineage_cmp(const struct vg_proc_key *a, size_t na, const struct vg_proc_key *b,
		   size_t nb)
{
	for (size_t i = 0; i < na && i < nb; i++) {
		if (a[i].start_ns != b[i].start_ns)
			return a[i].start_ns < b[i].start_ns ? -1 : 1;
		if (a[i].tgid != b[i].tgid)
			return a[i].tgid < b[i].tgid ? -1 : 1;
	}
	return na < nb ? -1 : na > nb;
}

struct json_object *vg_time_json(const struct vg_query_ctx *q, uint64_t boot_ns)
{
	char buf[VG_RFC3339_LEN];

	if (!boot_ns)
		return NULL;
	return json_object_new_string(vg_rfc3339(boot_ns + q->boot_off, buf, sizeof(buf)));
}

struct json_object *vg_netproc_json(struct vg_query_ctx *q, const struct vg_proc_key *k)
{
	const struct vg_proc *p = vg_proctab_get(&q->tab, k);
	struct json_object *o = json_object_new_object();
	const char *exe = p ? vg_strcache_get(q->strs, p->exe, NULL, NULL) : NULL;
	char id[48], comm[VG_COMM_LEN + 1];

	vg_proc_id(k, id, sizeof(id));
	json_object_object_add(o, "id", k->tgid ? json_object_new_string(id) : NULL);
	json_object_object_add(o, "pid", json_object_new_int64(k->tgid));
	json_object_object_add(o, "ppid", p ? json_object_new_int64(p->ppid) : NULL);
	json_object_object_add(o, "exe", exe ? json_object_new_string(exe) : NULL);
	if (p) {
		memcpy(comm, p->comm, VG_COMM_LEN);
		comm[VG_COMM_LEN] = 0;
	}
	json_object_object_add(o, "comm", p ? json_object_new_string(comm) : NULL);
	json_object_object_add(o, "exited",
			       p ? json_object_new_boolean(!!(p->flags & VG_PF_EXITED)) : NULL);
	return o;
}

struct json_object *vg_lineage_json(const struct vg_proc_key *lin, size_t n)
{
	struct json_object *a = json_object_new_array();
	char id[48];

	for (size_t i = 0; i + 1 < n; i++) {
		vg_proc_id(&lin[i], id, sizeof(id));
		json_object_array_add(a, json_object_new_string(id));
	}
	return a;
}

static int ip_cmp(const struct vg_ip *a, const struct vg_ip *b)
{
	return memcmp(a, b, sizeof(*a));
}

static int dnsa_cmp(const void *a, const void *b)
{
	const struct vg_dnsa_rec *x = a, *y = b;
	int c = ip_cmp(&x->key.addr, &y->key.addr);

	if (c)
		return c;
	return x->val.first_ns < y->val.first_ns ? -1 : x->val.first_ns > y->val.first_ns;
}

int vg_dnsa_tab_load(struct vg_dnsa_tab *t, const struct vg_maps *m)
{
	struct vg_maptab mt;
	int err;

	memset(t, 0, sizeof(*t));
	err = vg_maptab_load(&mt, m->dnsa, sizeof(struct vg_dnsa_key), sizeof(struct vg_dnsa));
	if (err)
		return err;
	t->recs = calloc(mt.n ? mt.n : 1, sizeof(*t->recs));
	if (!t->recs) {
		vg_maptab_free(&mt);
		return -ENOMEM;
	}
	for (size_t i = 0; i < mt.n; i++) {
		memcpy(&t->recs[i].key, VG_MAPTAB_KEY(&mt, i), sizeof(struct vg_dnsa_key));
		memcpy(&t->recs[i].val, VG_MAPTAB_VAL(&mt, i), sizeof(struct vg_dnsa));
	}
	t->n = mt.n;
	vg_maptab_free(&mt);
	qsort(t->recs, t->n, sizeof(*t->recs), dnsa_cmp);
	return 0;
}

void vg_dnsa_tab_free(struct vg_dnsa_tab *t)
{
	free(t->recs);
	memset(t, 0, sizeof(*t));
}

const struct vg_dnsa_rec *vg_dnsa_tab_find(const struct vg_dnsa_tab *t, const struct vg_ip *addr,
					   size_t *count)
{
	size_t lo = 0, hi = t->n, n = 0;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (ip_cmp(&t->recs[mid].key.addr, addr) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	while (lo + n < t->n && !ip_cmp(&t->recs[lo + n].key.addr, addr))
		n++;
	*count = n;
	return n ? &t->recs[lo] : NULL;
}
