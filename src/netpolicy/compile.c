// SPDX-License-Identifier: GPL-2.0
/*
 * A policy -> the kernel maps of one generation:
 *   prefixes: LPM trie, v6 (v4-mapped) prefix -> up to VG_NP_CAND entry ids,
 *             best first: the prefix's own entries, then those of every
 *             shorter prefix holding it (the trie answers with the longest
 *             prefix only, so its value must carry the fall-backs);
 *   names:    hash, domain hash -> entry ids (VG_NP_SUB: subdomains only);
 *   entries:  hash, id -> struct vg_np_entry.
 * Maps are created to the policy's size (BPF_F_NO_PREALLOC: memory follows
 * the entries) and swapped in whole by the daemon (netpolicy.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "netpolicy/internal.h"

static const struct vg_np_policy *sort_pol; /* qsort has no context argument */

static int pfx_cmp(const void *a, const void *b)
{
	const struct vg_np_prefix *x = a, *y = b;
	int c;

	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	c = memcmp(x->addr, y->addr, 16);
	if (c)
		return c;
	return x->ent < y->ent ? -1 : x->ent > y->ent;
}

static uint32_t rank_of(const struct vg_np_policy *p, uint32_t id)
{
	id &= ~VG_NP_SUB;
	return id && id <= p->nents ? p->ents[id - 1].k.rank : 0;
}

/* Best first; equal ranks: deny first (the rank's low bit), then id for a stable order. */
static int id_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	uint32_t rx = rank_of(sort_pol, x), ry = rank_of(sort_pol, y);

	if (rx != ry)
		return rx > ry ? -1 : 1;
	return x < y ? -1 : x > y;
}

static int dom_cmp(const void *a, const void *b)
{
	const struct vg_np_dom *x = a, *y = b;

	if (x->hash != y->hash)
		return x->hash < y->hash ? -1 : 1;
	return x->ent < y->ent ? -1 : x->ent > y->ent;
}

static bool ingress_of(const struct vg_np_policy *p, uint32_t id)
{
	return p->ents[(id & ~VG_NP_SUB) - 1].k.flags & VG_NPE_INGRESS;
}

/* Does an entry apply to everything (no scope, port or protocol)? Then none after it of its
 * direction (egress, ingress: the kernel passes the other's over) matters. */
static bool unconditional(const struct vg_np_policy *p, uint32_t id)
{
	const struct vg_np_entry *e = &p->ents[(id & ~VG_NP_SUB) - 1].k;

	/* a RuntimePolicy entry holds for its target only (and may only report) */
	return !e->proto && !e->port_hi && e->uid == (uint32_t)-1 && !e->cgroup_id && !e->exe &&
	       !e->pol;
}

/* ---- unique prefixes, found by (len, masked address) ---- */

struct upfx {
	uint8_t addr[16];
	uint8_t len;
	size_t first, n; /* its entries: sorted pfx[first .. first+n) */
};

struct ptab {
	struct upfx *u;
	size_t nu;
	size_t *slot; /* open addressing: index + 1 into u, 0 empty */
	size_t mask;
};

static uint64_t pfx_hash(const uint8_t a[16], uint8_t len)
{
	uint64_t x, y;

	memcpy(&x, a, 8);
	memcpy(&y, a + 8, 8);
	x = (x ^ (y * 0x9e3779b97f4a7c15ULL) ^ len) * 0xff51afd7ed558ccdULL;
	return x ^ (x >> 33);
}

static const struct upfx *ptab_find(const struct ptab *t, const uint8_t a[16], uint8_t len)
{
	for (size_t i = pfx_hash(a, len) & t->mask;; i = (i + 1) & t->mask) {
		size_t s = t->slot[i];

		if (!s)
			return NULL;
		if (t->u[s - 1].len == len && !memcmp(t->u[s - 1].addr, a, 16))
			return &t->u[s - 1];
	}
}

static void mask_to(uint8_t out[16], const uint8_t in[16], unsigned len)
{
	for (unsigned i = 0; i < 16; i++) {
		unsigned bits = len > i * 8 ? len - i * 8 : 0;

		out[i] = bits >= 8 ? in[i] : bits ? in[i] & (uint8_t)(0xff << (8 - bits)) : 0;
	}
}

static size_t fdinfo_memlock(int fd)
{
	char path[64], line[256];
	unsigned long long v = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "memlock: %llu", &v) == 1)
			break;
	fclose(f);
	return v;
}

static int map_new(enum bpf_map_type type, const char *name, uint32_t ks, uint32_t vs, size_t n)
{
	LIBBPF_OPTS(bpf_map_create_opts, o, .map_flags = BPF_F_NO_PREALLOC);
	int fd = bpf_map_create(type, name, ks, vs, n ? n : 1, &o);

	return fd < 0 ? -errno : fd;
}

/* Batched updates where the map type has them, one by one otherwise. */
static int fill(int fd, const void *keys, size_t ks, const void *vals, size_t vs, size_t n)
{
	LIBBPF_OPTS(bpf_map_batch_opts, o);
	size_t done = 0;

	while (done < n) {
		uint32_t cnt = n - done > 16384 ? 16384 : n - done;

		if (bpf_map_update_batch(fd, (const char *)keys + done * ks,
					 (const char *)vals + done * vs, &cnt, &o)) {
			if (errno != EINVAL && errno != 524 /* ENOTSUPP */ && errno != EOPNOTSUPP)
				return -errno;
			break; /* no batch op for this type */
		}
		done += cnt;
	}
	for (; done < n; done++)
		if (bpf_map_update_elem(fd, (const char *)keys + done * ks,
					(const char *)vals + done * vs, BPF_ANY))
			return -errno;
	return 0;
}

void vg_np_kmaps_close(struct vg_np_kmaps *k)
{
	int *fds[] = { &k->lpm, &k->dom, &k->ent };

	for (size_t i = 0; i < 3; i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
}

static int build_prefixes(struct vg_np_policy *p, struct vg_np_kmaps *k, char *why, size_t whylen)
{
	struct ptab t = {};
	bool lens[129] = { false };
	struct vg_np_lpm_key *keys = NULL;
	struct vg_np_cands *vals = NULL;
	size_t cap;
	int err = -ENOMEM;

	qsort(p->pfx, p->npfx, sizeof(*p->pfx), pfx_cmp);
	t.u = calloc(p->npfx ? p->npfx : 1, sizeof(*t.u));
	for (cap = 16; cap < p->npfx * 2; cap *= 2)
		;
	t.slot = calloc(cap, sizeof(*t.slot));
	t.mask = cap - 1;
	if (!t.u || !t.slot)
		goto out;
	for (size_t i = 0; i < p->npfx; i++) {
		struct vg_np_prefix *x = &p->pfx[i];

		if (t.nu && t.u[t.nu - 1].len == x->len && !memcmp(t.u[t.nu - 1].addr, x->addr, 16)) {
			t.u[t.nu - 1].n++;
			continue;
		}
		memcpy(t.u[t.nu].addr, x->addr, 16);
		t.u[t.nu].len = x->len;
		t.u[t.nu].first = i;
		t.u[t.nu].n = 1;
		lens[x->len] = true;
		t.nu++;
	}
	for (size_t i = 0; i < t.nu; i++) {
		size_t s = pfx_hash(t.u[i].addr, t.u[i].len) & t.mask;

		while (t.slot[s])
			s = (s + 1) & t.mask;
		t.slot[s] = i + 1;
	}
	keys = calloc(t.nu ? t.nu : 1, sizeof(*keys));
	vals = calloc(t.nu ? t.nu : 1, sizeof(*vals));
	if (!keys || !vals)
		goto out;
	for (size_t i = 0; i < t.nu; i++) {
		const struct upfx *u = &t.u[i];
		uint32_t ids[VG_NP_CAND * 4];
		size_t n = 0, kept = 0;
		/* per direction (0 egress, 1 ingress): an entry that always applies was met; a
		 * policy without ingress entries has none to look for */
		bool done[2] = { false, p->ningress == 0 };

		for (size_t j = 0; j < u->n && n < sizeof(ids) / sizeof(ids[0]); j++) {
			ids[n++] = p->pfx[u->first + j].ent;
			done[ingress_of(p, ids[n - 1])] |= unconditional(p, ids[n - 1]);
		}
		/* the fall-backs: entries of shorter prefixes holding this one */
		for (int len = u->len - 1; !(done[0] && done[1]) && len >= 0; len--) {
			uint8_t m[16];
			const struct upfx *c;

			if (!lens[len])
				continue;
			mask_to(m, u->addr, len);
			c = ptab_find(&t, m, len);
			for (size_t j = 0; c && j < c->n && n < sizeof(ids) / sizeof(ids[0]); j++) {
				ids[n++] = p->pfx[c->first + j].ent;
				done[ingress_of(p, ids[n - 1])] |= unconditional(p, ids[n - 1]);
			}
		}
		sort_pol = p;
		qsort(ids, n, sizeof(ids[0]), id_cmp);
		/* nothing of a direction after an entry of it that always applies can be reached */
		done[0] = done[1] = false;
		for (size_t j = 0; j < n; j++) {
			bool in = ingress_of(p, ids[j]);

			if (done[in])
				continue;
			ids[kept++] = ids[j];
			done[in] = unconditional(p, ids[j]);
		}
		n = kept;
		if (n > VG_NP_CAND) {
			k->truncated++;
			n = VG_NP_CAND;
		}
		keys[i].prefixlen = u->len;
		memcpy(keys[i].addr, u->addr, 16);
		vals[i].n = n;
		memcpy(vals[i].id, ids, n * sizeof(ids[0]));
	}
	k->lpm = map_new(BPF_MAP_TYPE_LPM_TRIE, "vg_np_lpm_in", sizeof(*keys), sizeof(*vals), t.nu);
	if (k->lpm < 0) {
		err = k->lpm;
		snprintf(why, whylen, "creating the prefix trie (%zu prefixes): %s", t.nu,
			 strerror(-err));
		goto out;
	}
	err = fill(k->lpm, keys, sizeof(*keys), vals, sizeof(*vals), t.nu);
	if (err)
		snprintf(why, whylen, "filling the prefix trie: %s", strerror(-err));
	k->nprefixes = t.nu;
out:
	free(keys);
	free(vals);
	free(t.u);
	free(t.slot);
	return err;
}

static int build_names(struct vg_np_policy *p, struct vg_np_kmaps *k, char *why, size_t whylen)
{
	uint64_t *keys = calloc(p->ndoms ? p->ndoms : 1, sizeof(*keys));
	struct vg_np_cands *vals = calloc(p->ndoms ? p->ndoms : 1, sizeof(*vals));
	size_t nu = 0;
	int err = -ENOMEM;

	if (!keys || !vals)
		goto out;
	qsort(p->doms, p->ndoms, sizeof(*p->doms), dom_cmp);
	for (size_t i = 0; i < p->ndoms;) {
		uint32_t ids[VG_NP_CAND * 4];
		size_t n = 0, j = i;

		for (; j < p->ndoms && p->doms[j].hash == p->doms[i].hash; j++)
			if (n < sizeof(ids) / sizeof(ids[0]) &&
			    (!n || ids[n - 1] != p->doms[j].ent))
				ids[n++] = p->doms[j].ent;
		sort_pol = p;
		qsort(ids, n, sizeof(ids[0]), id_cmp);
		if (n > VG_NP_CAND) {
			k->truncated++;
			n = VG_NP_CAND;
		}
		keys[nu] = p->doms[i].hash;
		vals[nu].n = n;
		memcpy(vals[nu].id, ids, n * sizeof(ids[0]));
		nu++;
		i = j;
	}
	k->dom = map_new(BPF_MAP_TYPE_HASH, "vg_np_dom_in", sizeof(*keys), sizeof(*vals), nu);
	if (k->dom < 0) {
		err = k->dom;
		snprintf(why, whylen, "creating the name table (%zu names): %s", nu, strerror(-err));
		goto out;
	}
	err = fill(k->dom, keys, sizeof(*keys), vals, sizeof(*vals), nu);
	if (err)
		snprintf(why, whylen, "filling the name table: %s", strerror(-err));
	k->nnames = nu;
out:
	free(keys);
	free(vals);
	return err;
}

static int build_entries(struct vg_np_policy *p, struct vg_np_kmaps *k, char *why, size_t whylen)
{
	uint32_t *keys = calloc(p->nents ? p->nents : 1, sizeof(*keys));
	struct vg_np_entry *vals = calloc(p->nents ? p->nents : 1, sizeof(*vals));
	int err = -ENOMEM;

	if (!keys || !vals)
		goto out;
	for (size_t i = 0; i < p->nents; i++) {
		keys[i] = i + 1;
		vals[i] = p->ents[i].k;
	}
	k->ent = map_new(BPF_MAP_TYPE_HASH, "vg_np_ent_in", sizeof(*keys), sizeof(*vals), p->nents);
	if (k->ent < 0) {
		err = k->ent;
		snprintf(why, whylen, "creating the entry table: %s", strerror(-err));
		goto out;
	}
	err = fill(k->ent, keys, sizeof(*keys), vals, sizeof(*vals), p->nents);
	if (err)
		snprintf(why, whylen, "filling the entry table: %s", strerror(-err));
out:
	free(keys);
	free(vals);
	return err;
}

int vg_np_compile(struct vg_np_policy *p, struct vg_np_kmaps *k, char *why, size_t whylen)
{
	int err;

	memset(k, 0, sizeof(*k));
	k->lpm = k->dom = k->ent = -1;
	err = build_prefixes(p, k, why, whylen);
	if (!err)
		err = build_names(p, k, why, whylen);
	if (!err)
		err = build_entries(p, k, why, whylen);
	if (err) {
		vg_np_kmaps_close(k);
		return err;
	}
	k->mem_lpm = fdinfo_memlock(k->lpm);
	k->mem_dom = fdinfo_memlock(k->dom);
	k->mem_ent = fdinfo_memlock(k->ent);
	return 0;
}
