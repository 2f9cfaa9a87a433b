// SPDX-License-Identifier: GPL-2.0
/*
 * Network policy, pure parts: names and addresses, the domain hash the kernel folds
 * label by label (abi.h vg_dom_*), policy files -> entries and their ranks (the
 * precedence in docs/network-policy.md), and errors with file:line:field.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "netpolicy/netpolicy.h"

static void test_domain_norm(void **st)
{
	char out[256];
	const char *why;
	bool wild;

	assert_true(vg_np_domain_norm("*.Example.COM.", out, sizeof(out), &wild, &why));
	assert_string_equal(out, "example.com");
	assert_true(wild);
	assert_true(vg_np_domain_norm("a-b_c.test", out, sizeof(out), &wild, &why));
	assert_false(wild);
	assert_false(vg_np_domain_norm("bad..x", out, sizeof(out), &wild, &why));
	assert_string_equal(why, "empty label");
	assert_false(vg_np_domain_norm("a.*.x", out, sizeof(out), &wild, &why));
	assert_false(vg_np_domain_norm("sp ace.x", out, sizeof(out), &wild, &why));
	assert_false(vg_np_domain_norm("", out, sizeof(out), &wild, &why));
}

static void test_cidr_parse(void **st)
{
	uint8_t a[16], len;
	const char *why;
	char txt[64];

	assert_true(vg_np_cidr_parse("10.1.0.0/16", a, &len, &why));
	assert_int_equal(len, 96 + 16);
	vg_np_addr_str(a, txt, sizeof(txt));
	assert_string_equal(txt, "10.1.0.0");
	assert_true(vg_np_cidr_parse("fd00:ec2::254", a, &len, &why));
	assert_int_equal(len, 128);
	assert_false(vg_np_cidr_parse("10.1.2.3/8", a, &len, &why)); /* host bits */
	assert_string_equal(why, "host bits set after the prefix length");
	assert_false(vg_np_cidr_parse("10.0.0.300/24", a, &len, &why));
	assert_false(vg_np_cidr_parse("10.0.0.0/33", a, &len, &why));
}

/* What the kernel computes: each label hashed alone, folded from the right. */
static void test_domain_hash_folds_labels_from_the_right(void **st)
{
	uint8_t com[64] = "com", ex[64] = "EXAMPLE", a[64] = "a";
	uint64_t h = VG_DOM_INIT;
	unsigned labels;

	h = vg_dom_fold(h, vg_dom_label_hash(com, 3));
	assert_int_equal(vg_np_domain_hash("com", &labels), h);
	assert_int_equal(labels, 1);
	h = vg_dom_fold(h, vg_dom_label_hash(ex, 7)); /* lowercased by the hash */
	assert_int_equal(vg_np_domain_hash("example.com", &labels), h);
	h = vg_dom_fold(h, vg_dom_label_hash(a, 1));
	assert_int_equal(vg_np_domain_hash("a.example.com", &labels), h);
	assert_int_equal(labels, 3);
	assert_int_not_equal(vg_np_domain_hash("example.com", NULL),
			     vg_np_domain_hash("com.example", NULL));
	/* the 8-bytes-at-a-time lowercasing leaves non-letters alone */
	assert_int_equal(vg_dom_lower8(0x5b5a41403f2d5f30ULL), 0x5b7a61403f2d5f30ULL);
}

static char *write_tmp(const char *text)
{
	static char path[64];
	FILE *f;
	int fd;

	snprintf(path, sizeof(path), "/tmp/vg-np-unit-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	fputs(text, f);
	fclose(f);
	return path;
}

static const struct vg_np_ent *by_what(const struct vg_np_policy *p, const char *list,
				      const char *what)
{
	for (size_t i = 0; i < p->nents; i++)
		if (p->ents[i].what && !strcmp(p->ents[i].what, what) &&
		    !strcmp(p->ents[i].list, list))
			return &p->ents[i];
	fail_msg("no entry %s", what);
	return NULL;
}

static void test_ranks_follow_the_documented_precedence(void **st)
{
	char *path = write_tmp("mode: audit\n"
			       "default: {egress: deny}\n"
			       "deny:\n"
			       "  - cidr: 10.0.0.0/8\n"
			       "  - cidr: 10.1.2.0/24\n"
			       "    ports: [443, \"8000-8100\"]\n"
			       "  - domain: [\"*.example.com\", api.example.com]\n"
			       "allow:\n"
			       "  - cidr: 10.1.2.0/24\n"
			       "    exe: /usr/bin/curl\n"
			       "  - cidr: 10.0.0.0/8\n");
	struct vg_rule_errors errs = {};
	struct vg_np_policy *p = vg_np_policy_load(&path, 1, &errs);
	const struct vg_np_ent *d8, *a8, *d24, *a24, *sfx, *exact;

	unlink(path);
	assert_non_null(p);
	assert_int_equal(p->mode, VG_NP_AUDIT);
	assert_int_equal(p->def_egress, VG_NP_DENY);
	assert_int_equal(p->nents, 7); /* the /24 deny has two port ranges */
	d8 = by_what(p, "deny", "10.0.0.0/8");
	a8 = by_what(p, "allow", "10.0.0.0/8");
	d24 = by_what(p, "deny", "10.1.2.0/24 port 443");
	a24 = by_what(p, "allow", "10.1.2.0/24 exe=/usr/bin/curl");
	sfx = by_what(p, "deny", "*.example.com");
	exact = by_what(p, "deny", "api.example.com");
	/* longer prefix first; at equal prefix: scoped, then port-limited; deny wins a tie */
	assert_true(d24->k.rank > d8->k.rank);
	assert_true(a24->k.rank > d24->k.rank);
	assert_true(d8->k.rank > a8->k.rank);
	assert_int_equal(d8->k.rank >> 4, a8->k.rank >> 4);
	assert_true(exact->k.rank > sfx->k.rank);
	assert_int_equal(by_what(p, "deny", "10.1.2.0/24 ports 8000-8100")->k.port_hi, 8100);
	assert_string_equal(a24->list, "allow");
	vg_np_policy_free(p);
	vg_rule_errors_free(&errs);
}

static void test_ingress_entries(void **st)
{
	char *path = write_tmp("default: {egress: allow, ingress: deny}\n"
			       "deny:\n"
			       "  - cidr: 10.0.0.0/8\n"
			       "ingress:\n"
			       "  deny:\n"
			       "    - cidr: 0.0.0.0/0\n"
			       "      ports: [22]\n"
			       "  allow:\n"
			       "    - cidr: 10.0.0.0/8\n"
			       "      ports: [22]\n"
			       "      exe: /usr/sbin/sshd\n");
	struct vg_rule_errors errs = {};
	struct vg_np_policy *p = vg_np_policy_load(&path, 1, &errs);
	const struct vg_np_ent *eg, *d, *a;

	unlink(path);
	assert_non_null(p);
	assert_int_equal(p->def_egress, VG_NP_ALLOW);
	assert_int_equal(p->def_ingress, VG_NP_DENY);
	assert_int_equal(p->nents, 3);
	assert_int_equal(p->ningress, 2);
	eg = by_what(p, "deny", "10.0.0.0/8");
	d = by_what(p, "ingress.deny", "inbound from 0.0.0.0/0 port 22");
	a = by_what(p, "ingress.allow", "inbound from 10.0.0.0/8 port 22 exe=/usr/sbin/sshd");
	assert_false(eg->k.flags & VG_NPE_INGRESS);
	assert_true(d->k.flags & VG_NPE_INGRESS);
	assert_true(a->k.flags & VG_NPE_INGRESS);
	/* the same precedence as egress: the longer prefix wins */
	assert_true(a->k.rank > d->k.rank);
	assert_int_equal(d->k.port_lo, 22);
	vg_np_policy_free(p);
	vg_rule_errors_free(&errs);
}

static void test_errors_name_file_line_and_field(void **st)
{
	char *path = write_tmp("mode: enforce\n"
			       "deny:\n"
			       "  - cidr: 10.0.0.300/8\n"
			       "  - domain: \"bad..x\"\n"
			       "    colour: red\n"
			       "  - ports: [70000]\n"
			       "blocklists: [/nonexistent/list.txt]\n");
	struct vg_rule_errors errs = {};
	struct vg_np_policy *p = vg_np_policy_load(&path, 1, &errs);

	unlink(path);
	assert_null(p);
	assert_int_equal(errs.n, 5);
	assert_int_equal(errs.v[0].line, 3);
	assert_string_equal(errs.v[0].field, "deny[0].cidr");
	assert_int_equal(errs.v[1].line, 4);
	assert_string_equal(errs.v[1].field, "deny[1].domain");
	assert_int_equal(errs.v[2].line, 5);
	assert_string_equal(errs.v[2].field, "deny[1].colour");
	assert_string_equal(errs.v[3].field, "deny[2].ports");
	assert_string_equal(errs.v[4].field, "blocklists[0]");
	vg_rule_errors_free(&errs);
}

static void test_blocklist_path_too_long_is_an_error(void **st)
{
	char yaml[8192], *path;
	struct vg_rule_errors errs = {};
	struct vg_np_policy *p;
	int n = snprintf(yaml, sizeof(yaml), "mode: enforce\nblocklists:\n  - ");

	memset(yaml + n, 'a', 5000);
	strcpy(yaml + n + 5000, ".txt\n");
	path = write_tmp(yaml);
	p = vg_np_policy_load(&path, 1, &errs);
	unlink(path);
	assert_null(p);
	assert_int_equal(errs.n, 1);
	assert_int_equal(errs.v[0].line, 3);
	assert_string_equal(errs.v[0].field, "blocklists[0]");
	assert_non_null(strstr(errs.v[0].msg, "too long"));
	vg_rule_errors_free(&errs);
}

static void test_blocklist_lines(void **st)
{
	char bl[64], *path, text[256];
	struct vg_rule_errors errs = {};
	struct vg_np_policy *p;
	FILE *f;
	int fd;

	snprintf(bl, sizeof(bl), "/tmp/vg-np-bl-XXXXXX");
	fd = mkstemp(bl);
	f = fdopen(fd, "w");
	fputs("# comment\n\nevil.example  # trailing comment\n0.0.0.0 ads.example\n"
	      "192.0.2.0/24\n2001:db8::1\n", f);
	fclose(f);
	snprintf(text, sizeof(text), "blocklists:\n  - path: %s\n    category: mining\n", bl);
	path = write_tmp(text);
	p = vg_np_policy_load(&path, 1, &errs);
	unlink(path);
	unlink(bl);
	assert_non_null(p);
	assert_int_equal(p->blocklist_entries, 4);
	assert_int_equal(p->npfx, 2);
	assert_int_equal(p->ndoms, 4); /* each name: itself and its subdomains */
	assert_int_equal(p->ents[0].category, VG_NPC_MINING);
	vg_np_policy_free(p);
	vg_rule_errors_free(&errs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_domain_norm),
		cmocka_unit_test(test_cidr_parse),
		cmocka_unit_test(test_domain_hash_folds_labels_from_the_right),
		cmocka_unit_test(test_ranks_follow_the_documented_precedence),
		cmocka_unit_test(test_ingress_entries),
		cmocka_unit_test(test_errors_name_file_line_and_field),
		cmocka_unit_test(test_blocklist_path_too_long_is_an_error),
		cmocka_unit_test(test_blocklist_lines),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
