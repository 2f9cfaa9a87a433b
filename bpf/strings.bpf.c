// SPDX-License-Identifier: GPL-2.0
/*
 * Interned strings: a path or argv block is stored once under a 64-bit id
 * (hash + size class) so a thousand runs of the same command cost one copy.
 */
#include "lib/common.bpf.h"
#include "lib/strings.bpf.h"

/*
 * Hash the first `len` bytes of the scratch string, 8 at a time; bytes past
 * len are ignored. Global, so each of the loop's 512 exits ends right here
 * instead of carrying the caller's remaining code through the verifier.
 */
__noinline __u64 vg_hash_scratch(__u32 len)
{
	struct vg_scratch *sc = vg_scratch();
	struct vg_str_4096 *s;
	__u64 h = VG_HASH_INIT(len);

	if (!sc || len > VG_STR_MAX)
		return 0;
	s = &sc->str;
	for (__u32 i = 0; i < VG_STR_MAX / 8; i++) {
		__u32 off = i * 8;
		__u64 w;

		if (off >= len)
			break;
		w = *(__u64 *)&s->data[vg_idx(off, VG_STR_MAX - 8)];
		if (len - off < 8)
			w &= (1ULL << ((len - off) * 8)) - 1; /* little endian: low bytes first */
		VG_HASH_STEP(h, w);
	}
	return VG_HASH_FINAL(h);
}

__noinline __u64 vg_intern_scratch(void)
{
	struct vg_scratch *sc = vg_scratch();
	struct vg_str_hdr *hit;
	__u64 id, now;
	__u32 len;
	void *map;
	int cls, err;

	if (!sc)
		return 0;
	len = sc->str.h.len;
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
	id = VG_STR_ID(vg_hash_scratch(len), cls);
	now = bpf_ktime_get_boot_ns();
	hit = bpf_map_lookup_elem(map, &id);
	if (hit) {
		hit->last_used_ns = now;
		return id;
	}
	sc->str.h.last_used_ns = now;
	err = bpf_map_update_elem(map, &id, &sc->str, BPF_NOEXIST);
	if (err && err != -17 /* EEXIST: another CPU won the race */) {
		vg_count(VG_ST_STR_INSERT_FAIL);
		return 0;
	}
	return id;
}
