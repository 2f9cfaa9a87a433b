// SPDX-License-Identifier: GPL-2.0
/*
 * Network helpers shared with the kernel and the network policy: the domain
 * hash (abi.h: FNV-1a 64 over the name's bytes last to first, so the running
 * hash at each '.' is a suffix's hash — what bpf/dns.bpf.c vg_dns_suffixes()
 * computes), and address text <-> vg_ip (IPv4 stored v4-mapped).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include "net/net.h"

/* The kernel's walk (dns.bpf.c suffix_step): backwards, a hash at each label start. */
static size_t kernel_suffixes(const char *name, uint64_t *out, uint64_t *full)
{
	size_t len = strlen(name), n = 0;
	uint64_t h = VG_NAME_HASH_INIT;

	*full = h;
	for (size_t i = 0; i < len; i++) {
		size_t at = len - 1 - i;

		h = VG_NAME_HASH_STEP(h, name[at]);
		if (at == 0)
			*full = h;
		else if (name[at - 1] == '.' && n < VG_DNS_SUFFIX_MAX)
			out[n++] = h;
	}
	return n;
}

static void test_suffix_hashes_are_the_hashes_of_the_suffixes(void **state)
{
	uint64_t s[VG_DNS_SUFFIX_MAX], full;
	size_t n = kernel_suffixes("a.b.example.com", s, &full);

	assert_int_equal(n, 3);
	assert_true(s[0] == vg_dns_hash("com", 3));
	assert_true(s[1] == vg_dns_hash("example.com", 11));
	assert_true(s[2] == vg_dns_hash("b.example.com", 13));
	assert_true(full == vg_dns_hash("a.b.example.com", 15));
}

static void test_hash_is_fnv1a_reversed(void **state)
{
	/* FNV-1a 64 of "moc" (the bytes of "com" last to first), computed by hand */
	uint64_t h = 0xcbf29ce484222325ULL;
	const char *rev = "moc";

	for (const char *p = rev; *p; p++)
		h = (h ^ (uint8_t)*p) * 0x100000001b3ULL;
	assert_true(vg_dns_hash("com", 3) == h);
	assert_true(vg_dns_hash("", 0) == VG_NAME_HASH_INIT); /* the root */
	assert_true(vg_dns_hash("example.com", 11) != vg_dns_hash("example.co", 10));
	/* not the forward (basename) hash: a suffix walk needs the reverse */
	assert_true(vg_dns_hash("ab", 2) != vg_dns_hash("ba", 2));
}

static void test_ip_text_round_trip(void **state)
{
	static const char *const ok[] = { "10.213.5.2", "127.0.0.1", "0.0.0.0", "fd77:5::2",
					  "::1", "2001:db8::ff00:42:8329" };
	struct vg_ip a;
	char buf[64];

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_int_equal(vg_ip_parse(ok[i], &a), 0);
		vg_ip_str(&a, buf, sizeof(buf));
		assert_string_equal(buf, ok[i]);
	}
	assert_int_equal(vg_ip_parse("10.0.0.1", &a), 0);
	assert_true(a.w[0] == 0 && a.w[1] == 0 && a.w[2] == htonl(0xffff) && a.w[3] == htonl(0x0a000001));
	/* a v4-mapped v6 address is the IPv4 address */
	assert_int_equal(vg_ip_parse("::ffff:10.0.0.1", &a), 0);
	vg_ip_str(&a, buf, sizeof(buf));
	assert_string_equal(buf, "10.0.0.1");
	assert_int_not_equal(vg_ip_parse("10.0.0.256", &a), 0);
	assert_int_not_equal(vg_ip_parse("example.com", &a), 0);
}

static void test_every_counter_has_a_name(void **state)
{
	for (int s = 0; s < VG_NS_MAX; s++)
		assert_string_not_equal(vg_net_stat_name(s), "?");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_suffix_hashes_are_the_hashes_of_the_suffixes),
		cmocka_unit_test(test_hash_is_fnv1a_reversed),
		cmocka_unit_test(test_ip_text_round_trip),
		cmocka_unit_test(test_every_counter_has_a_name),
	};

	return cmocka_run_group_tests_name("net", tests, NULL, NULL);
}
