// SPDX-License-Identifier: GPL-2.0
/*
 * vg_str_id: user space must name a string exactly as the kernel does
 * (bpf/strings.bpf.c str_hash, class in the top two bits via VG_STR_ID), or a
 * string interned by the daemon is never found by a BPF program and the other
 * way round. The vg_strcache_* functions need map fds: tests/integration.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <cmocka.h>

#include "state/strings.h"

/* Fixed seed: a failure reproduces. xorshift64*, not rand(): same stream everywhere. */
static uint64_t rng_state = 0x2545f4914f6cdd1dULL;

static uint64_t rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}

static void fill_random(unsigned char *buf, size_t len)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = rng();
}

/*
 * The kernel's algorithm, transcribed from bpf/strings.bpf.c and
 * vg_intern_scratch(), written without looking at src/state/strings.c:
 * read whole 8-byte words from a VG_STR_MAX buffer at (off & (VG_STR_MAX - 8)),
 * little endian; mask the last word to the bytes below len; class by len.
 */
static uint64_t bpf_str_id(const unsigned char data[VG_STR_MAX], uint32_t len)
{
	uint64_t h = VG_HASH_INIT(len);
	int cls;

	for (uint32_t i = 0; i < VG_STR_MAX / 8; i++) {
		uint32_t off = i * 8;
		const unsigned char *b;
		uint64_t w = 0;

		if (off >= len)
			break;
		b = &data[off & (VG_STR_MAX - 8)];
		for (int k = 7; k >= 0; k--) /* little endian, whatever the host */
			w = w << 8 | b[k];
		if (len - off < 8)
			w &= (1ULL << ((len - off) * 8)) - 1;
		VG_HASH_STEP(h, w);
	}
	h = VG_HASH_FINAL(h);
	if (len <= VG_STR_CLASS_S)
		cls = 0;
	else if (len <= VG_STR_CLASS_M)
		cls = 1;
	else
		cls = 2;
	return VG_STR_ID(h, cls);
}

static void assert_id_eq(uint64_t got, uint64_t want, const char *what, uint32_t len)
{
	if (got != want)
		fail_msg("%s (len %u): got %#018llx, want %#018llx", what, len,
			 (unsigned long long)got, (unsigned long long)want);
}

static void test_matches_kernel_algorithm_on_random_strings(void **state)
{
	unsigned char *buf = malloc(VG_STR_MAX);

	assert_non_null(buf);
	for (int i = 0; i < 20000; i++) {
		/* Every length 1..4096 once, then random ones. */
		uint32_t len = i < VG_STR_MAX ? (uint32_t)i + 1 : 1 + rng() % VG_STR_MAX;

		fill_random(buf, VG_STR_MAX); /* junk past len, as in the scratch buffer */
		assert_id_eq(vg_str_id(buf, len), bpf_str_id(buf, len), "vg_str_id vs BPF", len);
	}
	free(buf);
}

#define STR(s) { s, sizeof(s) } /* length incl. the final NUL, inner NULs kept */

static void test_matches_kernel_algorithm_on_text(void **state)
{
	static const struct {
		const char *s;
		uint32_t len;
	} cases[] = {
		STR("/usr/bin/bash"),
		STR("/"),
		STR(""),
		STR("/usr/lib/systemd/systemd"),
		STR("/home/user/.local/bin/some-tool-with-a-long-name"),
		STR("sh\0-c\0curl http://example.com | sh"), /* argv block */
	};
	unsigned char buf[VG_STR_MAX];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(buf, 0xa5, sizeof(buf));
		memcpy(buf, cases[i].s, cases[i].len);
		assert_id_eq(vg_str_id(cases[i].s, cases[i].len), bpf_str_id(buf, cases[i].len),
			     cases[i].s, cases[i].len);
	}
}

/*
 * Pinned values, computed by a separate (Python) transcription of the
 * algorithm. Ids are stored in pinned maps that outlive a daemon: if these
 * change, VG_ABI_VERSION must change with them.
 */
static void test_ids_are_stable_abi(void **state)
{
	unsigned char big[4024] = { 0 };
	char a200[201];

	assert_id_eq(vg_str_id("/usr/bin/bash", 14), 0x10a2171f07f59741ULL, "/usr/bin/bash", 14);
	assert_id_eq(vg_str_id("", 1), 0x1a8419103ebe48e4ULL, "empty string", 1);
	memset(a200, 'a', 200);
	a200[200] = 0;
	assert_id_eq(vg_str_id(a200, 201), 0x6203c0631d98fdd0ULL, "200 x 'a'", 201);
	for (int i = 0; i < 1024; i++)
		big[i] = i & 0xff;
	assert_id_eq(vg_str_id(big, sizeof(big)), 0xaa71facb65e7174dULL, "0..255 x4, zeros",
		     sizeof(big));
}

static void test_class_in_top_two_bits(void **state)
{
	static const struct {
		uint32_t len;
		unsigned cls;
	} cases[] = {
		{ 1, 0 },   { 8, 0 },   { 127, 0 },  { 128, 0 },  { 129, 1 },
		{ 300, 1 }, { 512, 1 }, { 513, 2 },  { 4095, 2 }, { 4096, 2 },
	};
	unsigned char buf[VG_STR_MAX];

	for (int round = 0; round < 50; round++) {
		fill_random(buf, sizeof(buf));
		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			uint64_t id = vg_str_id(buf, cases[i].len);

			if (VG_STR_CLASS_OF(id) != cases[i].cls)
				fail_msg("len %u: class %u (id %#llx), want %u", cases[i].len,
					 VG_STR_CLASS_OF(id), (unsigned long long)id, cases[i].cls);
		}
	}
}

static void test_bytes_past_len_do_not_matter(void **state)
{
	unsigned char a[VG_STR_MAX], b[VG_STR_MAX];
	/* Word-aligned and mid-word ends, in each class. */
	static const uint32_t lens[] = { 1, 6, 7, 8, 9, 13, 16, 127, 128, 129, 500, 513, 4000 };

	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		uint32_t len = lens[i];

		fill_random(a, sizeof(a));
		memcpy(b, a, len);
		fill_random(b + len, sizeof(b) - len);
		b[len] = a[len] ^ 0xff; /* the very next byte surely differs */
		assert_id_eq(vg_str_id(b, len), vg_str_id(a, len), "same prefix, other tail", len);
	}
}

/* Reads stop at len: a string that ends at an unmapped page is fine. */
static void test_never_reads_past_len(void **state)
{
	long pg = sysconf(_SC_PAGESIZE);
	unsigned char *map = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	unsigned char ref[VG_STR_MAX] = { 0 };

	assert_true(map != MAP_FAILED);
	assert_int_equal(mprotect(map + pg, pg, PROT_NONE), 0);
	for (uint32_t len = 1; len <= 64 && len <= (uint32_t)pg; len++) {
		unsigned char *s = map + pg - len;

		fill_random(s, len);
		memcpy(ref, s, len);
		assert_id_eq(vg_str_id(s, len), bpf_str_id(ref, len), "string at page end", len);
	}
	munmap(map, 2 * pg);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void test_different_strings_differ(void **state)
{
	enum { N = 100000 };
	uint64_t *ids = malloc(N * sizeof(*ids));
	unsigned char base[VG_STR_MAX], s[VG_STR_MAX];
	uint64_t id0;

	assert_non_null(ids);
	/* Distinct random strings (i in the first 4 bytes), lengths 4..64: distinct ids. */
	for (int i = 0; i < N; i++) {
		uint32_t len = 4 + rng() % 61;

		fill_random(s, len);
		memcpy(s, &i, 4);
		ids[i] = vg_str_id(s, len);
	}
	qsort(ids, N, sizeof(*ids), cmp_u64);
	for (int i = 1; i < N; i++)
		if (ids[i] == ids[i - 1])
			fail_msg("two of %d random strings share id %#llx", N,
				 (unsigned long long)ids[i]);
	free(ids);

	/* One flipped bit anywhere, first and last byte included, changes the id. */
	fill_random(base, sizeof(base));
	id0 = vg_str_id(base, VG_STR_MAX);
	for (uint32_t pos = 0; pos < VG_STR_MAX; pos += (pos < 16 || pos > VG_STR_MAX - 16) ? 1 : 37) {
		memcpy(s, base, sizeof(s));
		s[pos] ^= 1 << (pos % 8);
		if (vg_str_id(s, VG_STR_MAX) == id0)
			fail_msg("flipping bit %u of byte %u keeps id %#llx", pos % 8, pos,
				 (unsigned long long)id0);
	}

	/* Same bytes, different length (the trailing NUL counts): different ids. */
	assert_true(vg_str_id("abc\0\0\0\0\0\0", 4) != vg_str_id("abc\0\0\0\0\0\0", 5));
	assert_true(vg_str_id("abc\0\0\0\0\0\0", 8) != vg_str_id("abc\0\0\0\0\0\0", 9));
}

/* 0 means "no string" everywhere (records, vg_str_read, vg_strcache_get). */
static void test_zero_is_never_an_id(void **state)
{
	/* A word that zeroes the running hash: VG_HASH_FINAL must turn it into 1. */
	uint64_t w = VG_HASH_INIT(8);
	unsigned char b[8];

	for (int k = 0; k < 8; k++)
		b[k] = w >> (8 * k);
	if (vg_str_id(b, 8) == 0)
		fail_msg("a string whose hash is 0 got id 0 (VG_HASH_FINAL missing?)");
	/*
	 * VG_HASH_FINAL runs before VG_STR_ID clears the top two bits for the
	 * class: a hash of exactly 1 << 62, 2 << 62 or 3 << 62 in class 0 gives
	 * id 0, in BPF and here alike. Such strings are easy to build offline;
	 * these are legal file names (brute force over "/t" + 6 chars, solving
	 * for the second word), hash 0xc000000000000000.
	 */
	if (vg_str_id("/ti4yytf9td5v_o", 16) == 0)
		fail_msg("vg_str_id(\"/ti4yytf9td5v_o\", 16) = 0: the path would lose its name");
	if (vg_str_id("/t9cp02g-_htbts", 16) == 0)
		fail_msg("vg_str_id(\"/t9cp02g-_htbts\", 16) = 0: the path would lose its name");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_matches_kernel_algorithm_on_random_strings),
		cmocka_unit_test(test_matches_kernel_algorithm_on_text),
		cmocka_unit_test(test_ids_are_stable_abi),
		cmocka_unit_test(test_class_in_top_two_bits),
		cmocka_unit_test(test_bytes_past_len_do_not_matter),
		cmocka_unit_test(test_never_reads_past_len),
		cmocka_unit_test(test_different_strings_differ),
		cmocka_unit_test(test_zero_is_never_an_id),
	};

	return cmocka_run_group_tests_name("strings", tests, NULL, NULL);
}
