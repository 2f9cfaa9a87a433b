// SPDX-License-Identifier: GPL-2.0
/*
 * The rule compiler: which kernel bits a rule gets, what goes into the LPM
 * trie and the exact-value hash, the need_* masks, prefix closure, scan_all,
 * the bit budget. Pure: the tables are checked in memory. The map-writing
 * layer is exercised on real maps when the test runs as root.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <cmocka.h>

#include "rules_test_util.h"

static struct vg_rule_errors errs;

static struct vg_rules *load(const char *yaml)
{
	struct vg_rules *r;

	vg_rule_errors_free(&errs);
	r = vg_rules_from_text("t.yaml", yaml, &errs);
	if (!r)
		vg_rule_errors_print(&errs, stderr);
	assert_non_null(r);
	return r;
}

#define RULE(id, mitre, body)                                                                      \
	"  - id: " id "\n    title: t\n    mitre: {" mitre "}\n    severity: high\n" body
#define FILE_M "tactic: TA0003, technique: T1053.003"
#define EXEC_M "tactic: TA0002, technique: T1059"
#define SYS_M "tactic: TA0005, technique: T1055.008"

static struct vg_rbits bit(unsigned b)
{
	struct vg_rbits x = {};

	x.w[b / 64] = 1ULL << (b % 64);
	return x;
}

static struct vg_rbits bits2(unsigned a, unsigned b)
{
	struct vg_rbits x = bit(a), y = bit(b);

	x.w[0] |= y.w[0];
	x.w[1] |= y.w[1];
	return x;
}

#define assert_rbits_equal(a, b)                                                                   \
	do {                                                                                       \
		struct vg_rbits _a = (a), _b = (b);                                                \
		if (memcmp(&_a, &_b, sizeof(_a)))                                                  \
			fail_msg("bits %016llx%016llx != %016llx%016llx",                          \
				 (unsigned long long)_a.w[1], (unsigned long long)_a.w[0],         \
				 (unsigned long long)_b.w[1], (unsigned long long)_b.w[0]);        \
	} while (0)

static const struct vg_lpm_entry *lpm(const struct vg_rule_tables *t, uint8_t gen, uint8_t kind,
				      const char *prefix)
{
	for (size_t i = 0; i < t->nlpm; i++) {
		const struct vg_lpm_key *k = &t->lpm[i].key;

		if (k->gen == gen && k->kind == kind && k->prefixlen == 16 + 8 * strlen(prefix) &&
		    !memcmp(k->data, prefix, strlen(prefix)))
			return &t->lpm[i];
	}
	return NULL;
}

static void test_shapes_and_bits(void **state)
{
	/* one rule mixing every shape: exact, prefix, basename, glob (prefix+base), and
	 * a second rule after it */
	struct vg_rules *r =
		load("rules:\n" RULE("mixed", FILE_M,
				     "    match:\n"
				     "      file:\n"
				     "        path:\n"
				     "          exact: [/etc/crontab]\n"
				     "          prefix: [/etc/cron.d/]\n"
				     "          basename: [.bashrc]\n"
				     "          glob: ['/home/*/.ssh/authorized_keys', '/var/spool/cron/*']\n"
				     "        actions: [write, create]\n")
			     RULE("next", FILE_M,
				  "    match: {file: {path: {prefix: [/etc/]}, actions: [unlink]}}\n"));
	const struct vg_rule *mixed = vg_rules_find(r, "mixed"), *next = vg_rules_find(r, "next");
	const struct vg_rule *cand[8];
	struct vg_rule_tables t;
	struct vg_rbits all4 = {};
	const struct vg_lpm_entry *e;
	const struct vg_rbits *x;

	/* PATH, PREFIX, BASE, PREFIX_BASE: four bits 0..3; "next" gets bit 4 */
	assert_int_equal(mixed->bit, 0);
	assert_int_equal(next->bit, 4);
	for (unsigned b = 0; b < 4; b++) {
		assert_ptr_equal(vg_rules_by_bit(r, VG_RK_FILE, b), mixed);
		assert_true(vg_rule_owns_bit(mixed, b));
		all4.w[0] |= 1ULL << b;
	}
	assert_ptr_equal(vg_rules_by_bit(r, VG_RK_FILE, 4), next);
	assert_null(vg_rules_by_bit(r, VG_RK_FILE, 5));
	assert_null(vg_rules_by_bit(r, VG_RK_EXEC, 0));
	/* an alert naming several bits of one rule gives the rule once */
	{
		struct vg_rbits c = { .w = { 0x1b } };

		assert_int_equal(vg_rules_candidates(r, VG_RK_FILE, &c, cand, 8), 2);
		assert_ptr_equal(cand[0], mixed);
		assert_ptr_equal(cand[1], next);
	}

	assert_int_equal(vg_rules_compile(r, 1, &t), 0);
	assert_rbits_equal(t.sets[VG_RK_FILE].all, ((struct vg_rbits){ .w = { 0x1f } }));
	assert_int_equal(t.sets[VG_RK_FILE].nrules, 5);
	assert_rbits_equal(t.sets[VG_RK_FILE].need_path, bit(0));
	assert_rbits_equal(t.sets[VG_RK_FILE].need_prefix, ((struct vg_rbits){ .w = { 0x1a } }));
	assert_rbits_equal(t.sets[VG_RK_FILE].need_base, bits2(2, 3));
	/* actions: every bit of the rule */
	assert_rbits_equal(t.sets[VG_RK_FILE].act[1], all4); /* VG_FA_WRITE */
	assert_rbits_equal(t.sets[VG_RK_FILE].act[2], all4); /* VG_FA_CREATE */
	assert_rbits_equal(t.sets[VG_RK_FILE].act[4], bit(4)); /* VG_FA_UNLINK */
	assert_rbits_equal(t.sets[VG_RK_FILE].act[0], ((struct vg_rbits){}));

	/* exact path: the string id the kernel gives the path (NUL included) */
	x = t_names(&t, 1, VG_RK_FILE, VG_RW_PATH, vg_str_id("/etc/crontab", 13));
	assert_non_null(x);
	assert_rbits_equal(*x, bit(0));
	/* basenames: FNV-1a of the last component; the glob's literal base shares bit 3 */
	x = t_names(&t, 1, VG_RK_FILE, VG_RW_BASE, vg_name_hash(".bashrc", 7));
	assert_rbits_equal(*x, bit(2));
	x = t_names(&t, 1, VG_RK_FILE, VG_RW_BASE, vg_name_hash("authorized_keys", 15));
	assert_rbits_equal(*x, bit(3));
	assert_int_equal(vg_name_hash("", 0), VG_NAME_HASH_INIT);
	/* the generation is in every key */
	assert_null(t_names(&t, 0, VG_RK_FILE, VG_RW_BASE, vg_name_hash(".bashrc", 7)));

	/* prefixes, with the closure: /etc/cron.d/ also holds /etc/'s rules */
	e = lpm(&t, 1, VG_RK_FILE, "/etc/");
	assert_non_null(e);
	assert_rbits_equal(e->bits, bit(4));
	e = lpm(&t, 1, VG_RK_FILE, "/etc/cron.d/");
	assert_non_null(e);
	assert_rbits_equal(e->bits, bits2(1, 4));
	e = lpm(&t, 1, VG_RK_FILE, "/home/"); /* glob literal prefix */
	assert_rbits_equal(e->bits, bit(3));
	e = lpm(&t, 1, VG_RK_FILE, "/var/spool/cron/"); /* glob, no literal base: PREFIX */
	assert_rbits_equal(e->bits, bit(1));
	assert_int_equal(e->key.prefixlen, 16 + 8 * 16);
	assert_int_equal(e->key.gen, 1);
	assert_int_equal(e->key.kind, VG_RK_FILE);
	assert_int_equal(t.nlpm, 4);
	vg_rule_tables_free(&t);
	vg_rules_free(r);
}

/* Closure across a chain and no mixing of kinds. */
static void test_prefix_closure(void **state)
{
	struct vg_rules *r = load(
		"rules:\n" RULE("a", FILE_M, "    match: {file: {path: {prefix: [/a/]}, actions: [read]}}\n")
			RULE("ab", FILE_M,
			     "    match: {file: {path: {prefix: [/a/b/]}, actions: [read]}}\n")
				RULE("abc", FILE_M, "    match: {file: {path: {prefix: [/a/b/c/]}, "
						    "actions: [read]}}\n")
					RULE("x", FILE_M, "    match: {file: {path: {prefix: [/a/x/]}, "
							  "actions: [read]}}\n")
						RULE("e", EXEC_M, "    match: {exec: {exe: {prefix: "
								  "[/a/b/]}}}\n"));
	struct vg_rule_tables t;

	assert_int_equal(vg_rules_compile(r, 0, &t), 0);
	assert_rbits_equal(lpm(&t, 0, VG_RK_FILE, "/a/")->bits, bit(0));
	assert_rbits_equal(lpm(&t, 0, VG_RK_FILE, "/a/b/")->bits, bits2(0, 1));
	assert_rbits_equal(lpm(&t, 0, VG_RK_FILE, "/a/b/c/")->bits,
			   ((struct vg_rbits){ .w = { 0x7 } }));
	assert_rbits_equal(lpm(&t, 0, VG_RK_FILE, "/a/x/")->bits, bits2(0, 3));
	/* exec has its own numbering and its own trie entries */
	assert_rbits_equal(lpm(&t, 0, VG_RK_EXEC, "/a/b/")->bits, bit(0));
	/* the kernel's longest-prefix view */
	assert_rbits_equal(*t_lpm(&t, 0, VG_RK_FILE, "/a/b/c/d/file"),
			   ((struct vg_rbits){ .w = { 0x7 } }));
	assert_null(t_lpm(&t, 0, VG_RK_FILE, "/b/file"));
	vg_rule_tables_free(&t);
	vg_rules_free(r);
}

static void test_exec_predicates(void **state)
{
	struct vg_rules *r = load(
		"rules:\n" RULE("py-sh", EXEC_M,
				"    match:\n"
				"      exec:\n"
				"        exe: {basename: [sh, bash]}\n"
				"        parent: {basename: [python3], glob: ['/opt/*/perl']}\n"
				"        uid: {not: 0}\n")
			RULE("argv-only", EXEC_M,
			     "    match: {exec: {argv: {contains: ['stratum+tcp://']}}}\n")
				RULE("memfd", EXEC_M,
				     "    match: {exec: {conditions: [memfd, stdio_socket], uid: 0}}\n"
				     "    except:\n"
				     "      - exe: {path: [/usr/bin/runc]}\n"
				     "      - exe: {basename: [crun]}\n")
					RULE("pglob", EXEC_M,
					     "    match: {exec: {exe: {basename: [sh]}, parent: "
					     "{prefix: [/opt/]}}}\n"));
	struct vg_rule_tables t;
	const struct vg_ruleset *s;

	assert_int_equal(vg_rules_compile(r, 0, &t), 0);
	s = &t.sets[VG_RK_EXEC];
	/* bits: py-sh 0, argv-only 1, memfd 2, pglob 3 */
	assert_rbits_equal(s->need_base, bits2(0, 3));
	assert_non_null(t_names(&t, 0, VG_RK_EXEC, VG_RW_BASE, vg_name_hash("bash", 4)));
	/* parent basenames: listed and the glob's literal one */
	assert_rbits_equal(s->need_parent, bit(0));
	assert_rbits_equal(*t_names(&t, 0, VG_RK_EXEC, VG_RW_PARENT_BASE, vg_name_hash("python3", 7)),
			   bit(0));
	assert_rbits_equal(*t_names(&t, 0, VG_RK_EXEC, VG_RW_PARENT_BASE, vg_name_hash("perl", 4)),
			   bit(0));
	/* a parent given by prefix can't be checked in the kernel: no need_parent for pglob */
	assert_false(t_rbit(&s->need_parent, 3));
	assert_rbits_equal(s->need_nonroot, bit(0));
	assert_rbits_equal(s->need_root, bit(2));
	assert_rbits_equal(s->need_cond[VG_XC_MEMFD], bit(2));
	assert_rbits_equal(s->need_cond[VG_XC_STDIO_SOCK], bit(2));
	assert_rbits_equal(s->need_cond[VG_XC_GAINED_ROOT], ((struct vg_rbits){}));
	/* the exact-path exception is in the kernel; the basename one is not */
	assert_rbits_equal(*t_names(&t, 0, VG_RK_EXEC, VG_RW_EXE_EXCEPT,
				    vg_str_id("/usr/bin/runc", 14)),
			   bit(2));
	assert_int_equal(t.nnames, 5);
	/* argv-only rule: every exec must be seen */
	assert_int_equal(s->scan_all, 1);
	vg_rule_tables_free(&t);
	vg_rules_free(r);

	/* without it, no scan_all */
	r = load("rules:\n" RULE("b", EXEC_M, "    match: {exec: {exe: {basename: [sh]}}}\n"));
	assert_int_equal(vg_rules_compile(r, 0, &t), 0);
	assert_int_equal(t.sets[VG_RK_EXEC].scan_all, 0);
	vg_rule_tables_free(&t);
	vg_rules_free(r);

	/* a glob with no literal prefix or basename is no kernel predicate either */
	r = load("rules:\n" RULE("h", EXEC_M, "    match: {exec: {exe: {glob: ['**/.*/**']}}}\n"));
	assert_int_equal(vg_rules_compile(r, 0, &t), 0);
	assert_int_equal(t.sets[VG_RK_EXEC].scan_all, 1);
	assert_int_equal(t.nlpm, 0);
	vg_rule_tables_free(&t);
	vg_rules_free(r);
}

static void test_file_predicates(void **state)
{
	struct vg_rules *r = load(
		"rules:\n" RULE("only", FILE_M,
				"    match: {file: {path: {prefix: [/etc/]}, actions: [read], "
				"exe: {path: [/usr/bin/cat]}}}\n"
				"    except: [{uid: 0}]\n")
			RULE("suffix", FILE_M,
			     "    match: {file: {path: {suffix: [/.ssh/authorized_keys, .pem]}, "
			     "actions: [read]}}\n")
				RULE("everything", FILE_M,
				     "    match: {file: {path: {prefix: [/]}, actions: [setid]}}\n"));
	struct vg_rule_tables t;
	const struct vg_ruleset *s;

	assert_int_equal(vg_rules_compile(r, 0, &t), 0);
	s = &t.sets[VG_RK_FILE];
	assert_rbits_equal(s->need_only, bit(0));
	assert_rbits_equal(*t_names(&t, 0, VG_RK_FILE, VG_RW_EXE_ONLY, vg_str_id("/usr/bin/cat", 13)),
			   bit(0));
	/* except uid 0 = the rule needs a non-root process */
	assert_rbits_equal(s->need_nonroot, bit(0));
	/* suffix "/.ssh/authorized_keys" -> basename; ".pem" has none: the rule
	 * has a NONE shape, so it needs one bit and no predicate */
	assert_int_equal(vg_rules_find(r, "suffix")->bit, 1);
	assert_int_equal(vg_rules_find(r, "everything")->bit, 2);
	assert_false(t_rbit(&s->need_base, 1));
	assert_false(t_rbit(&s->need_prefix, 2));
	assert_rbits_equal(s->act[13], bit(2)); /* VG_FA_SETID */
	vg_rule_tables_free(&t);
	vg_rules_free(r);
}

static void test_syscalls(void **state)
{
	struct vg_rules *r = load(
		"rules:\n" RULE("pt", SYS_M,
				"    match: {syscall: {name: [ptrace, process_vm_writev], request: "
				"[PTRACE_POKETEXT]}}\n")
			RULE("bpf", "tactic: TA0005, technique: T1014",
			     "    match: {syscall: {name: [bpf, ptrace], cmd: [BPF_PROG_LOAD]}}\n"
			     "    except: {exe: {path: [/usr/sbin/bpftool]}}\n"));
	struct vg_rule_tables t;
	uint32_t nrs[8];
	size_t n;

	assert_int_equal(vg_rules_compile(r, 0, &t), 0);
	assert_rbits_equal(*t_names(&t, 0, VG_RK_SYSCALL, VG_RW_SYSCALL, 101), bits2(0, 1));
	assert_rbits_equal(*t_names(&t, 0, VG_RK_SYSCALL, VG_RW_SYSCALL, 311), bit(0));
	assert_rbits_equal(*t_names(&t, 0, VG_RK_SYSCALL, VG_RW_SYSCALL, 321), bit(1));
	/* argument conditions: (nr, argument, value) -> the rules that need them */
	assert_rbits_equal(t.sets[VG_RK_SYSCALL].need_arg, bits2(0, 1));
	assert_int_equal(t.sets[VG_RK_SYSCALL].arg_idx, 1u << 0);
	assert_rbits_equal(*t_names_aux(&t, 0, VG_ARG_AUX(101, 0), 4), bit(0)); /* POKETEXT */
	assert_rbits_equal(*t_names_aux(&t, 0, VG_ARG_AUX(311, 0), 4), bit(0));
	assert_rbits_equal(*t_names_aux(&t, 0, VG_ARG_AUX(321, 0), 5), bit(1)); /* PROG_LOAD */
	assert_rbits_equal(*t_names_aux(&t, 0, VG_ARG_AUX(101, 0), 5), bit(1));
	assert_null(t_names_aux(&t, 0, VG_ARG_AUX(321, 0), 1)); /* MAP_LOOKUP_ELEM */
	assert_null(t_names_aux(&t, 0, VG_ARG_AUX(321, 1), 5));
	assert_rbits_equal(*t_names(&t, 0, VG_RK_SYSCALL, VG_RW_EXE_EXCEPT,
				    vg_str_id("/usr/sbin/bpftool", 18)),
			   bit(1));
	n = vg_rules_syscalls(r, nrs, 8);
	assert_int_equal(n, 3);
	assert_int_equal(nrs[0], 101);
	assert_int_equal(nrs[1], 311);
	assert_int_equal(nrs[2], 321);
	vg_rule_tables_free(&t);
	vg_rules_free(r);
}

static void test_disabled_rules(void **state)
{
	struct vg_rules *r = load(
		"rules:\n" RULE("off", FILE_M,
				"    enabled: false\n"
				"    match: {file: {path: [/etc/a], actions: [read]}}\n")
			RULE("on", FILE_M, "    match: {file: {path: [/etc/b], actions: [read]}}\n"));
	struct vg_rule_tables t;

	assert_int_equal(vg_rules_find(r, "off")->bit, VG_RULE_NOBIT);
	assert_int_equal(vg_rules_find(r, "on")->bit, 0);
	assert_int_equal(vg_rules_compile(r, 0, &t), 0);
	assert_int_equal(t.nnames, 1);
	assert_int_equal(t.sets[VG_RK_FILE].nrules, 1);
	assert_int_equal(t.sets[VG_RK_EXEC].nrules, 0);
	vg_rule_tables_free(&t);
	vg_rules_free(r);
}

/* 128 bits per kind: the 129th is an error naming the rule. */
static void test_budget(void **state)
{
	size_t cap = 200 * 200;
	char *y = malloc(cap);
	size_t off = snprintf(y, cap, "rules:\n");
	struct vg_rules *r;

	for (int i = 0; i < VG_RULES_MAX + 1; i++)
		off += snprintf(y + off, cap - off,
				"  - id: r%d\n    title: t\n    mitre: {" FILE_M "}\n"
				"    severity: low\n    match: {file: {path: [/x%d], actions: [read]}}\n",
				i, i);
	vg_rule_errors_free(&errs);
	r = vg_rules_from_text("big.yaml", y, &errs);
	assert_null(r);
	assert_int_equal(errs.n, 1);
	assert_string_equal(errs.v[0].field, "r128");
	assert_int_equal(errs.v[0].line, 2 + 5 * 128);
	assert_non_null(strstr(errs.v[0].msg, "too many file rules"));
	free(y);
}

/* vg_rules_install on real maps (root): gen written, flipped, the other cleared. */
static void test_install_maps(void **state)
{
	struct vg_rules *r = load(
		"rules:\n" RULE("a", FILE_M,
				"    match: {file: {path: {prefix: [/etc/cron.d/], exact: [/etc/crontab]}, "
				"actions: [write]}}\n"));
	LIBBPF_OPTS(bpf_map_create_opts, lo, .map_flags = BPF_F_NO_PREALLOC);
	struct vg_rule_maps m;
	struct vg_lpm_key k = {}, next;
	struct vg_rule_key nk, nnext;
	struct vg_ruleset rs;
	char why[256] = "";
	__u32 zero = 0, g, slot;
	int n0 = 0, n1 = 0;

	m.prefix = bpf_map_create(BPF_MAP_TYPE_LPM_TRIE, "t_prefix", sizeof(struct vg_lpm_key),
				  sizeof(struct vg_rbits), 1024, &lo);
	if (m.prefix < 0) {
		vg_rules_free(r);
		skip(); /* not root, or no BPF here */
	}
	m.names = bpf_map_create(BPF_MAP_TYPE_HASH, "t_names", sizeof(struct vg_rule_key),
				 sizeof(struct vg_rbits), 1024, NULL);
	m.sets = bpf_map_create(BPF_MAP_TYPE_ARRAY, "t_sets", 4, sizeof(struct vg_ruleset),
				2 * VG_RK_MAX, NULL);
	m.gen = bpf_map_create(BPF_MAP_TYPE_ARRAY, "t_gen", 4, 4, 1, NULL);
	assert_true(m.names >= 0 && m.sets >= 0 && m.gen >= 0);

	assert_int_equal(vg_rules_install(r, &m, 0, why, sizeof(why)), 0);
	assert_int_equal(bpf_map_lookup_elem(m.gen, &zero, &g), 0);
	assert_int_equal(g, 0);
	assert_int_equal(vg_rules_install(r, &m, 1, why, sizeof(why)), 0);
	assert_int_equal(bpf_map_lookup_elem(m.gen, &zero, &g), 0);
	assert_int_equal(g, 1);
	/* only generation 1 is left, in both hash and trie */
	while (!bpf_map_get_next_key(m.prefix, n0 + n1 ? &k : NULL, &next)) {
		*(next.gen ? &n1 : &n0) += 1;
		k = next;
	}
	assert_int_equal(n0, 0);
	assert_int_equal(n1, 1);
	n0 = n1 = 0;
	while (!bpf_map_get_next_key(m.names, n0 + n1 ? &nk : NULL, &nnext)) {
		*(nnext.gen ? &n1 : &n0) += 1;
		nk = nnext;
	}
	assert_int_equal(n0, 0);
	assert_int_equal(n1, 1);
	slot = VG_RULESET_SLOT(0, VG_RK_FILE);
	assert_int_equal(bpf_map_lookup_elem(m.sets, &slot, &rs), 0);
	assert_int_equal(rs.nrules, 0);
	slot = VG_RULESET_SLOT(1, VG_RK_FILE);
	assert_int_equal(bpf_map_lookup_elem(m.sets, &slot, &rs), 0);
	assert_int_equal(rs.nrules, 2);
	/* an LPM lookup the way the kernel does it */
	k = (struct vg_lpm_key){ .prefixlen = 16 + 8 * 16, .gen = 1, .kind = VG_RK_FILE };
	memcpy(k.data, "/etc/cron.d/job1", 16);
	{
		struct vg_rbits v;

		assert_int_equal(bpf_map_lookup_elem(m.prefix, &k, &v), 0);
		assert_rbits_equal(v, bit(1));
	}
	/* reinstalling the same generation replaces, never accumulates */
	assert_int_equal(vg_rules_install(r, &m, 1, why, sizeof(why)), 0);
	assert_int_equal(vg_rules_install(r, &m, 5, why, sizeof(why)), -EINVAL);
	close(m.prefix);
	close(m.names);
	close(m.sets);
	close(m.gen);
	vg_rules_free(r);
}

static int teardown(void **state)
{
	vg_rule_errors_free(&errs);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_shapes_and_bits, teardown),
		cmocka_unit_test_teardown(test_prefix_closure, teardown),
		cmocka_unit_test_teardown(test_exec_predicates, teardown),
		cmocka_unit_test_teardown(test_file_predicates, teardown),
		cmocka_unit_test_teardown(test_syscalls, teardown),
		cmocka_unit_test_teardown(test_disabled_rules, teardown),
		cmocka_unit_test_teardown(test_budget, teardown),
		cmocka_unit_test_teardown(test_install_maps, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
