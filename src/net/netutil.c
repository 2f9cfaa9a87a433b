// SPDX-License-Identifier: GPL-2.0
/* Network counters, the domain hash and address formatting. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "net/maptab.h"
#include "net/net.h"

uint64_t vg_net_stat_get(const struct vg_maps *m, enum vg_net_stat st)
{
	int ncpu = libbpf_num_possible_cpus();
	uint32_t k = st;
	uint64_t sum = 0, u = 0, *v;

	if (ncpu <= 0 || m->net_stats < 0)
		return 0;
	v = calloc(ncpu, sizeof(*v));
	if (v && bpf_map_lookup_elem(m->net_stats, &k, v) == 0)
		for (int i = 0; i < ncpu; i++)
			sum += v[i];
	free(v);
	if (m->net_ustats >= 0 && bpf_map_lookup_elem(m->net_ustats, &k, &u) == 0)
		sum += u;
	return sum;
}

void vg_net_ustat_add(const struct vg_maps *m, enum vg_net_stat st, uint64_t n)
{
	uint32_t k = st;
	uint64_t v = 0;

	if (m->net_ustats < 0 || !n)
		return;
	bpf_map_lookup_elem(m->net_ustats, &k, &v);
	v += n;
	bpf_map_update_elem(m->net_ustats, &k, &v, BPF_ANY);
}

const char *vg_net_stat_name(enum vg_net_stat st)
{
	static const char *const names[VG_NS_MAX] = {
		[VG_NS_SOCK_NEW] = "sockets_recorded",
		[VG_NS_SOCK_INSERT_FAIL] = "socket_owner_alloc_failed",
		[VG_NS_SOCK_NO_OWNER] = "socket_owner_by_tgid_only",
		[VG_NS_SOCK_UNKNOWN] = "flows_of_unknown_socket",
		[VG_NS_FLOW_NEW] = "flows_created",
		[VG_NS_FLOW_INSERT_FAIL] = "flow_insert_failures",
		[VG_NS_FLOW_EVICT] = "flows_evicted",
		[VG_NS_PKT_SHORT] = "packets_too_short",
		[VG_NS_PKT_OTHER] = "packets_not_tcp_udp",
		[VG_NS_DNS_QUERY] = "dns_queries",
		[VG_NS_DNS_RESPONSE] = "dns_responses",
		[VG_NS_DNS_MALFORMED] = "dns_malformed",
		[VG_NS_DNS_TRUNCATED] = "dns_truncated",
		[VG_NS_DNS_PTR_LOOP] = "dns_pointer_loop",
		[VG_NS_DNS_NAME_LONG] = "dns_name_too_long",
		[VG_NS_DNS_BIG] = "dns_larger_than_window",
		[VG_NS_DNS_Q_INSERT_FAIL] = "dns_question_table_full",
		[VG_NS_DNS_A_INSERT_FAIL] = "dns_answer_table_full",
		[VG_NS_DNS_TCP] = "dns_tcp_not_parsed",
		[VG_NS_DNS_STR_FAIL] = "dns_name_not_interned",
		[VG_NS_DNS_EVICT] = "dns_entries_evicted",
		[VG_NS_SHAPE_DUE] = "shape_walks_asked",
		[VG_NS_SHAPE_NO_ROW] = "shape_counts_lost",
		[VG_NS_SHAPE_REPEAT] = "shape_repeats_skipped",
		[VG_NS_CONN_REUSED] = "connections_overwritten",
		[VG_NS_CONN_FULL] = "connection_slots_full",
	};

	return st < VG_NS_MAX && names[st] ? names[st] : "?";
}

uint64_t vg_dns_hash(const char *name, size_t len)
{
	uint64_t h = VG_NAME_HASH_INIT;

	while (len--)
		h = VG_NAME_HASH_STEP(h, name[len]);
	return h;
}

static bool v4mapped(const struct vg_ip *a)
{
	return a->w[0] == 0 && a->w[1] == 0 && a->w[2] == htonl(0xffff);
}

void vg_ip_str(const struct vg_ip *a, char *buf, size_t len)
{
	if (v4mapped(a))
		inet_ntop(AF_INET, &a->w[3], buf, len);
	else
		inet_ntop(AF_INET6, a->w, buf, len);
}

int vg_ip_parse(const char *s, struct vg_ip *a)
{
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, s, &a->w[3]) == 1) {
		a->w[2] = htonl(0xffff);
		return 0;
	}
	return inet_pton(AF_INET6, s, a->w) == 1 ? 0 : -EINVAL;
}

void vg_flows_wire(struct vg_maptab *t)
{
	for (size_t i = 0; i < t->n; i++) {
		struct vg_flow_key *k = VG_MAPTAB_KEY(t, i);
		const struct vg_flow *v = VG_MAPTAB_VAL(t, i);

		if (!k->family && v->wire.family)
			*k = v->wire;
	}
}

struct vg_conn *vg_conns_map(int fd, uint32_t *n)
{
	struct bpf_map_info info = {};
	uint32_t len = sizeof(info);
	void *p;

	*n = 0;
	if (fd < 0) {
		errno = EBADF;
		return NULL;
	}
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return NULL;
	if (info.value_size != sizeof(struct vg_conn) || !info.max_entries) {
		errno = EPROTO;
		return NULL;
	}
	p = mmap(NULL, (size_t)info.max_entries * sizeof(struct vg_conn), PROT_READ | PROT_WRITE,
		 MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return NULL;
	*n = info.max_entries;
	return p;
}

void vg_conns_unmap(struct vg_conn *c, uint32_t n)
{
	if (c)
		munmap(c, (size_t)n * sizeof(*c));
}

/* Room for n more entries in a table copy. */
static int maptab_grow(struct vg_maptab *t, size_t more)
{
	void *k = realloc(t->keys, (t->n + more ? t->n + more : 1) * t->ksz);
	void *v;

	if (!k)
		return -ENOMEM;
	t->keys = k;
	v = realloc(t->vals, (t->n + more ? t->n + more : 1) * t->vsz);
	if (!v)
		return -ENOMEM;
	t->vals = v;
	return 0;
}

int vg_flows_load(struct vg_maptab *t, int flows_fd, int conns_fd)
{
	struct vg_conn *c = NULL;
	uint32_t n = 0;
	int err;

	err = vg_maptab_load(t, flows_fd, sizeof(struct vg_flow_key), sizeof(struct vg_flow));
	if (err)
		return err;
	if (conns_fd >= 0) {
		c = vg_conns_map(conns_fd, &n);
		if (!c || maptab_grow(t, n)) {
			err = c ? -ENOMEM : -errno;
			vg_conns_unmap(c, n);
			vg_maptab_free(t);
			return err;
		}
	}
	for (uint32_t i = 0; i < n; i++) {
		struct vg_flow_key *k = VG_MAPTAB_KEY(t, t->n);
		uint64_t claim = __atomic_load_n(&c[i].claim, __ATOMIC_ACQUIRE);

		if (VG_CONN_STATE(claim) == VG_CONN_FREE)
			continue;
		memcpy(VG_MAPTAB_VAL(t, t->n), &c[i].f, sizeof(struct vg_flow));
		/* taken by another connection while copied, or just taken and its row not written
		 * yet (its cookie comes last): that one's row, next time */
		if (__atomic_load_n(&c[i].claim, __ATOMIC_ACQUIRE) != claim ||
		    ((struct vg_flow *)VG_MAPTAB_VAL(t, t->n))->wire.cookie != VG_CONN_COOKIE(claim))
			continue;
		memset(k, 0, sizeof(*k));
		k->cookie = VG_CONN_COOKIE(claim);
		k->proto = 6;
		t->n++;
	}
	vg_conns_unmap(c, n);
	vg_flows_wire(t);
	return 0;
}

int vg_flows_flush(const struct vg_maps *m)
{
	char buf[64];
	ssize_t n;
	int fd;

	if (m->flow_flush < 0)
		return 0; /* no iterator: sockets count in the table itself */
	fd = bpf_iter_create(m->flow_flush);
	if (fd < 0)
		return -errno;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		; /* it writes nothing: reading runs it */
	close(fd);
	return n < 0 ? -errno : 0;
}
