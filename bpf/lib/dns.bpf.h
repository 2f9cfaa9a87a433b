/* SPDX-License-Identifier: GPL-2.0 */
/*
 * DNS wire parsing for cgroup skb programs, reusable: vigil's DNS state
 * (netskb.bpf.c) and the network policy call the same functions.
 *
 * Usage, on a cgroup_skb hook (IP header at offset 0), for a UDP packet to or
 * from port 53 with the DNS message at offset `off` (IP header + 8):
 *
 *	struct vg_dns_work *w = vg_dns_work();
 *	int err = vg_dns_load(skb, off, 0);       // copy + header + question
 *	if (err) { vg_dns_count_err(err); ... }   // counted per reason, skip
 *	// w->name / w->name_len / w->qtype / w->hash, w->suffix_hash[], w->response
 *	while ((err = vg_dns_answer()) > 0) {     // A, AAAA, CNAME; others skipped
 *		// w->ans.type, w->ans.ttl, w->ans.addr (A/AAAA),
 *		// w->ans.owner (name the record is for), w->ans.target (CNAME)
 *	}
 *	if (err < 0) vg_dns_count_err(err);
 *
 * The message is copied into a per-CPU work area (at most VG_DNS_WIN bytes)
 * and parsed from there: every index is masked into the window, every loop is
 * a bpf_loop() with a fixed bound, compression pointers must point strictly
 * backwards from where the current run of labels began (so no loop can form)
 * and are followed at most VG_DNS_HOPS times. Names are normalised (lowercase,
 * dotted, no trailing dot) and hashed with the domain hash documented in
 * include/vigil/abi.h (FNV-1a 64 over the bytes last to first).
 *
 * The functions are global (verified once, not per caller) and defined in
 * bpf/dns.bpf.c; they use only the per-CPU work map, so any cgroup_skb program
 * may call them.
 */
#ifndef VG_DNS_BPF_H
#define VG_DNS_BPF_H

#include "lib/common.bpf.h"
#include "lib/net.bpf.h"

#define VG_DNS_WIN 512  /* bytes of a message parsed (power of two: indexes are masked) */
#define VG_DNS_HOPS 8   /* compression pointers followed per name */
#define VG_DNS_ANS_MAX 16 /* answer records read per response */
#define VG_DNS_PORT 53

#define VG_DNS_T_A 1
#define VG_DNS_T_CNAME 5
#define VG_DNS_T_AAAA 28

/* Why a message (or the rest of it) was skipped: negated as return values. */
enum vg_dns_err {
	VG_DNSE_MALFORMED = 1, /* header/counts/label type/class nonsense */
	VG_DNSE_TRUNC = 2,     /* ends inside a name or record */
	VG_DNSE_PTR_LOOP = 3,  /* compression pointer not strictly backwards, or too many hops */
	VG_DNSE_NAME_LONG = 4, /* name longer than VG_DNS_NAME_LEN */
};

struct vg_dns_work {
	__u8 pkt[VG_DNS_WIN];
	__u32 len;       /* bytes of the message in pkt */
	__u32 full_len;  /* length of the whole message (> len: larger than the window) */
	__u16 id, flags; /* header */
	__u16 qdcount, ancount;
	__u32 pos;       /* next record to read */
	__u32 an_done;   /* answer records read so far */
	__u8 response;   /* QR bit */
	__u8 rcode;      /* flags & 0xf */
	__u16 qtype, qclass;
	__u16 _pad;
	/* the question */
	char name[VG_DNS_NAME_BUF];
	__u32 name_len;
	__u32 nsuffix;   /* entries in suffix_hash */
	__u64 hash;      /* domain hash of the whole name */
	/* domain hashes of the name's proper suffixes, shortest first ("com",
	 * "example.com", ...), at most VG_DNS_SUFFIX_MAX; suffix_off[i] is where
	 * that suffix starts in name */
	__u64 suffix_hash[VG_DNS_SUFFIX_MAX];
	__u16 suffix_off[VG_DNS_SUFFIX_MAX];
	/* the current answer record */
	struct {
		__u16 type, class;
		__u32 ttl;
		struct vg_ip addr;  /* A (v4-mapped) or AAAA */
		char owner[VG_DNS_NAME_BUF];
		__u32 owner_len;
		char target[VG_DNS_NAME_BUF]; /* CNAME target */
		__u32 target_len;
	} ans;
};

/* Per-CPU work area (defined in maps.bpf.c). */
VG_MAP struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vg_dns_work);
} vg_dns_work_map SEC(".maps");

static __always_inline struct vg_dns_work *vg_dns_work(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&vg_dns_work_map, &zero);
}

/* Which buffer vg_dns_name() writes. */
enum vg_dns_buf { VG_DNSB_NAME = 0, VG_DNSB_OWNER = 1, VG_DNSB_TARGET = 2 };

/*
 * Copy the message at `off` of the skb into the work area, parse the header
 * and the (single) question into w->name, w->qtype, w->hash and the suffix
 * hashes; w->pos is then the first answer. len: the message's length (DNS over
 * TCP: its length prefix; the skb may hold only its start), 0: to the end of the
 * skb. 0 or -enum vg_dns_err.
 */
int vg_dns_load(struct __sk_buff *skb, __u32 off, __u32 len);

/* Read the name at offset off of the message into buffer `which`; returns the
 * offset just past it (where it was, not where pointers led), or -vg_dns_err. */
int vg_dns_name(__u32 off, __u32 which);

/* The domain hash of w->name and its suffixes (done by vg_dns_load). 0 or <0. */
int vg_dns_suffixes(void);

/* Next answer record into w->ans: 1, 0 when no answer is left, or -vg_dns_err.
 * Records of other types are read past (w->ans.type tells). */
int vg_dns_answer(void);

/* Count an error in the network counters (one per reason). */
static __always_inline void vg_dns_count_err(int err)
{
	switch (-err) {
	case VG_DNSE_TRUNC:
		vg_net_count(VG_NS_DNS_TRUNCATED);
		break;
	case VG_DNSE_PTR_LOOP:
		vg_net_count(VG_NS_DNS_PTR_LOOP);
		break;
	case VG_DNSE_NAME_LONG:
		vg_net_count(VG_NS_DNS_NAME_LONG);
		break;
	default:
		vg_net_count(VG_NS_DNS_MALFORMED);
	}
}

#endif /* VG_DNS_BPF_H */
