/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Interned strings: a path or argv block is stored once under a 64-bit id
 * (hash + size class) so a thousand runs of the same command cost one copy.
 */
#ifndef VG_STRINGS_BPF_H
#define VG_STRINGS_BPF_H

#include "lib/common.bpf.h"

#define VG_HASH_MUL 0x9e3779b97f4a7c15ULL

/* Hash the first `len` bytes of s->data, 8 at a time; bytes past len are ignored. */
static __always_inline __u64 vg_str_hash(struct vg_str_4096 *s, __u32 len)
{
	__u64 h = 0xcbf29ce484222325ULL ^ len;

	for (__u32 i = 0; i < VG_STR_MAX / 8; i++) {
		__u32 off = i * 8;
		__u64 w;

		if (off >= len)
			break;
		w = *(__u64 *)&s->data[off & (VG_STR_MAX - 8)];
		if (len - off < 8)
			w &= (1ULL << ((len - off) * 8)) - 1; /* little endian: low bytes first */
		h ^= w;
		h *= VG_HASH_MUL;
		h ^= h >> 32;
	}
	return h ? h : 1; /* 0 means "no string" */
}

/*
 * Store s (s->h.len bytes of data, NUL included) and return its id, or 0 if
 * the table is full (counted). Concurrent interning of the same string is fine.
 */
static __noinline __u64 vg_intern(struct vg_str_4096 *s)
{
	__u32 len = s->h.len;
	__u64 now = bpf_ktime_get_boot_ns();
	struct vg_str_hdr *hit;
	__u64 id;
	void *map;
	int cls, err;

	if (len == 0 || len > VG_STR_MAX)
		return 0;
	if (len <= VG_STR_CLASS_S) {
		cls = 0;
		map = &vg_strs_s;
	} else if (len <= VG_STR_CLASS_M) {
		cls = 1;
		map = &vg_strs_m;
	} else {
		cls = 2;
		map = &vg_strs_l;
	}
	id = VG_STR_ID(vg_str_hash(s, len), cls);
	hit = bpf_map_lookup_elem(map, &id);
	if (hit) {
		hit->last_used_ns = now;
		return id;
	}
	s->h.last_used_ns = now;
	err = bpf_map_update_elem(map, &id, s, BPF_NOEXIST);
	if (err && err != -17 /* EEXIST: another CPU won the race */) {
		vg_count(VG_ST_STR_INSERT_FAIL);
		return 0;
	}
	return id;
}

#endif /* VG_STRINGS_BPF_H */
