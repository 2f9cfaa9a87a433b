// SPDX-License-Identifier: GPL-2.0
/*
 * DNS wire parsing (declared and documented in lib/dns.bpf.h): global
 * functions over the per-CPU work area, verified once whoever calls them.
 * Every loop is a bpf_loop() with a fixed bound; every packet index is masked
 * into the VG_DNS_WIN window and compared with the message length first.
 */
#include "lib/common.bpf.h"
#include "lib/net.bpf.h"
#include "lib/dns.bpf.h"

#define WIN_MASK (VG_DNS_WIN - 1)
#define NAME_MASK (VG_DNS_NAME_BUF - 1)
/* Bytes a name can take, pointers followed: 253 chars + 127 length bytes + the hops. */
#define NAME_STEPS 400

static __always_inline __u32 rd8(struct vg_dns_work *w, __u32 pos)
{
	return w->pkt[vg_idx(pos, WIN_MASK)];
}

static __always_inline __u32 rd16(struct vg_dns_work *w, __u32 pos)
{
	return rd8(w, pos) << 8 | rd8(w, pos + 1);
}

struct name_ctx {
	struct vg_dns_work *w;
	__u32 which;
	__u32 pos;   /* next byte to read */
	__u32 o;     /* chars written */
	__u32 left;  /* chars left in the current label */
	__u32 end;   /* offset past the name where it was (0: no pointer taken yet) */
	__u32 run;   /* where the current run of labels began: pointers must go below it */
	__u32 hops;
	int ret;     /* 0 while going, else the result */
};

static __always_inline void name_put(struct name_ctx *c, __u32 ch)
{
	struct vg_dns_work *w = c->w;
	__u32 i = vg_idx(c->o, NAME_MASK);

	if (c->which == VG_DNSB_NAME)
		w->name[i] = ch;
	else if (c->which == VG_DNSB_OWNER)
		w->ans.owner[i] = ch;
	else
		w->ans.target[i] = ch;
}

static long name_step(__u32 i, struct name_ctx *c)
{
	struct vg_dns_work *w = c->w;
	__u32 ch, ptr;

	if (c->pos >= w->len) {
		c->ret = -VG_DNSE_TRUNC;
		return 1;
	}
	ch = rd8(w, c->pos);
	if (c->left) {
		if (c->o >= VG_DNS_NAME_LEN) {
			c->ret = -VG_DNSE_NAME_LONG;
			return 1;
		}
		if (ch >= 'A' && ch <= 'Z')
			ch += 'a' - 'A';
		name_put(c, ch);
		c->o++;
		c->pos++;
		c->left--;
		return 0;
	}
	if (ch == 0) {
		name_put(c, 0);
		c->ret = c->end ? c->end : c->pos + 1;
		return 1;
	}
	if ((ch & 0xc0) == 0xc0) {
		if (c->pos + 1 >= w->len) {
			c->ret = -VG_DNSE_TRUNC;
			return 1;
		}
		ptr = (ch & 0x3f) << 8 | rd8(w, c->pos + 1);
		if (!c->end)
			c->end = c->pos + 2;
		if (ptr >= c->run || ++c->hops > VG_DNS_HOPS) {
			c->ret = -VG_DNSE_PTR_LOOP;
			return 1;
		}
		c->pos = ptr;
		c->run = ptr;
		return 0;
	}
	if (ch & 0xc0) { /* 0x40, 0x80: extended/reserved label types */
		c->ret = -VG_DNSE_MALFORMED;
		return 1;
	}
	if (c->o) {
		if (c->o >= VG_DNS_NAME_LEN) {
			c->ret = -VG_DNSE_NAME_LONG;
			return 1;
		}
		name_put(c, '.');
		c->o++;
	}
	c->left = ch;
	c->pos++;
	return 0;
}

__noinline int vg_dns_name(__u32 off, __u32 which)
{
	struct name_ctx c = {};
	struct vg_dns_work *w = vg_dns_work();

	if (!w)
		return -VG_DNSE_MALFORMED;
	c.w = w;
	c.which = which;
	c.pos = off;
	c.run = off;
	bpf_loop(NAME_STEPS, name_step, &c, 0);
	if (c.ret == 0)
		c.ret = -VG_DNSE_NAME_LONG; /* ran out of steps: more label bytes than a name holds */
	if (c.ret > 0) {
		__u32 o = c.o > VG_DNS_NAME_LEN ? VG_DNS_NAME_LEN : c.o;

		if (which == VG_DNSB_NAME)
			w->name_len = o;
		else if (which == VG_DNSB_OWNER)
			w->ans.owner_len = o;
		else
			w->ans.target_len = o;
	}
	return c.ret;
}

struct suffix_ctx {
	struct vg_dns_work *w;
	__u64 h;
};

/* Step i reads byte len-1-i: the domain hash runs last to first. */
static long suffix_step(__u32 i, struct suffix_ctx *c)
{
	struct vg_dns_work *w = c->w;
	__u32 at, n;

	if (i >= w->name_len)
		return 1;
	at = w->name_len - 1 - i;
	c->h = VG_NAME_HASH_STEP(c->h, w->name[vg_idx(at, NAME_MASK)]);
	if (at == 0) {
		w->hash = c->h;
		return 1;
	}
	if (w->name[vg_idx(at - 1, NAME_MASK)] == '.') {
		n = w->nsuffix;
		if (n < VG_DNS_SUFFIX_MAX) {
			w->suffix_hash[vg_idx(n, VG_DNS_SUFFIX_MAX - 1)] = c->h;
			w->suffix_off[vg_idx(n, VG_DNS_SUFFIX_MAX - 1)] = at;
			w->nsuffix = n + 1;
		}
	}
	return 0;
}

__noinline int vg_dns_suffixes(void)
{
	struct suffix_ctx c = { .h = VG_NAME_HASH_INIT };
	struct vg_dns_work *w = vg_dns_work();

	if (!w)
		return -VG_DNSE_MALFORMED;
	c.w = w;
	w->nsuffix = 0;
	w->hash = VG_NAME_HASH_INIT; /* the root: no bytes */
	bpf_loop(VG_DNS_NAME_BUF, suffix_step, &c, 0);
	return 0;
}

__noinline int vg_dns_load(struct __sk_buff *skb, __u32 off, __u32 len)
{
	struct vg_dns_work *w = vg_dns_work();
	__u32 full, n;
	int r;

	if (!w)
		return -VG_DNSE_MALFORMED;
	w->len = 0;
	w->name_len = 0;
	w->name[0] = 0;
	if (skb->len <= off + 12)
		return -VG_DNSE_TRUNC;
	full = skb->len - off;
	n = full; /* what the skb holds of it */
	if (len && len < full)
		n = len;
	if (len)
		full = len;
	n = vg_idx(n > VG_DNS_WIN ? VG_DNS_WIN : n, 2 * VG_DNS_WIN - 1);
	if (n < 12 || n > VG_DNS_WIN)
		return -VG_DNSE_TRUNC;
	if (bpf_skb_load_bytes(skb, off, w->pkt, n))
		return -VG_DNSE_TRUNC;
	w->full_len = full;
	w->len = n;
	w->id = rd16(w, 0);
	w->flags = rd16(w, 2);
	w->qdcount = rd16(w, 4);
	w->ancount = rd16(w, 6);
	w->response = w->flags >> 15;
	w->rcode = w->flags & 0xf;
	w->an_done = 0;
	w->pos = 12;
	if (w->qdcount != 1 || (w->flags >> 11 & 0xf) > 2 /* opcode: QUERY, IQUERY, STATUS */)
		return -VG_DNSE_MALFORMED;
	r = vg_dns_name(12, VG_DNSB_NAME);
	if (r < 0)
		return r;
	if ((__u32)r + 4 > w->len)
		return -VG_DNSE_TRUNC;
	w->qtype = rd16(w, r);
	w->qclass = rd16(w, r + 2);
	w->pos = r + 4;
	return vg_dns_suffixes();
}

__noinline int vg_dns_answer(void)
{
	struct vg_dns_work *w = vg_dns_work();
	__u32 pos, rd, rdlen;
	int r;

	if (!w || w->an_done >= w->ancount || w->an_done >= VG_DNS_ANS_MAX)
		return 0;
	r = vg_dns_name(w->pos, VG_DNSB_OWNER);
	if (r < 0)
		return r;
	pos = r;
	if (pos + 10 > w->len)
		return -VG_DNSE_TRUNC;
	w->ans.type = rd16(w, pos);
	w->ans.class = rd16(w, pos + 2);
	w->ans.ttl = rd16(w, pos + 4) << 16 | rd16(w, pos + 6);
	rdlen = rd16(w, pos + 8);
	rd = pos + 10;
	if (rd + rdlen > w->len)
		return -VG_DNSE_TRUNC;
	w->ans.target_len = 0;
	w->ans.target[0] = 0;
	if (w->ans.type == VG_DNS_T_A) {
		if (rdlen != 4)
			return -VG_DNSE_MALFORMED;
		vg_ip_v4(&w->ans.addr, 0);
		for (int i = 0; i < 4; i++)
			((__u8 *)&w->ans.addr.w[3])[i] = rd8(w, rd + i);
	} else if (w->ans.type == VG_DNS_T_AAAA) {
		if (rdlen != 16)
			return -VG_DNSE_MALFORMED;
		for (int i = 0; i < 16; i++)
			((__u8 *)w->ans.addr.w)[i] = rd8(w, rd + i);
	} else if (w->ans.type == VG_DNS_T_CNAME) {
		r = vg_dns_name(rd, VG_DNSB_TARGET);
		if (r < 0)
			return r;
	}
	w->pos = rd + rdlen;
	w->an_done++;
	return 1;
}
