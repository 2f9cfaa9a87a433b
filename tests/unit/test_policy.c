// SPDX-License-Identifier: GPL-2.0
/*
 * Runtime policies, the pure parts: parsing with file:line:field errors, the
 * set checks (bits, tiers, safety), the kernel tables the compiler writes, and
 * the user-space matching of detection-triggered rules.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "netpolicy/netpolicy.h"
#include "policy/policy.h"
#include "state/strings.h"

static struct vg_rule_errors errs;

#define HEAD(name) "apiVersion: vigil.dev/v1\nkind: RuntimePolicy\nmetadata:\n  name: " name "\n"

static const char *example =
	HEAD("block-proc-mem-read")
	"spec:\n"
	"  target:\n"
	"    processName: python3\n"
	"  rules:\n"
	"    - action: block\n"
	"      syscalls: [process_vm_readv, ptrace]\n"
	"      message: \"Blocked python3 from reading another process memory\"\n";

static int parse(const char *text, struct vg_policies *set)
{
	vg_rule_errors_free(&errs);
	return vg_policy_parse_text("p.yaml", text, strlen(text), set, &errs);
}

static int finish(struct vg_policies *set, bool lsm, bool off)
{
	struct vg_pol_env env = { .lsm = lsm, .enforce_off = off, .cgroup2 = "" };

	return vg_policies_finish(set, &env, &errs);
}

/* Is there an error at line `line` whose field contains `field` and message `msg`? */
static bool has_error(int line, const char *field, const char *msg)
{
	for (size_t i = 0; i < errs.n; i++)
		if ((!line || errs.v[i].line == line) && strstr(errs.v[i].field, field) &&
		    strstr(errs.v[i].msg, msg))
			return true;
	vg_rule_errors_print(&errs, stderr);
	return false;
}

static const uint64_t *name_of(const struct vg_pol_tables *t, uint8_t what, uint32_t aux,
			       uint64_t value)
{
	for (size_t i = 0; i < t->nnames; i++)
		if (t->names[i].key.what == what && t->names[i].key.aux == aux &&
		    t->names[i].key.value == value)
			return &t->names[i].rules;
	return NULL;
}

static uint64_t comm_hash(const char *s)
{
	uint64_t h = VG_NAME_HASH_INIT;

	for (; *s; s++)
		h = VG_NAME_HASH_STEP(h, *s);
	return h;
}

static void test_issue_example(void **state)
{
	struct vg_policies set = {};
	struct vg_pol_tables t;
	const uint64_t *m;

	assert_int_equal(parse(example, &set), 0);
	assert_int_equal(finish(&set, false, false), 0);
	assert_int_equal(set.n, 1);
	assert_string_equal(set.v[0].name, "block-proc-mem-read");
	assert_int_equal(set.v[0].nrules, 1);
	assert_int_equal(set.v[0].rules[0].action, VG_PA_BLOCK);
	assert_int_equal(set.v[0].rules[0].nnrs, 2);
	assert_int_equal(set.v[0].rules[0].bit, 0);
	assert_int_equal(set.v[0].rules[0].by, VG_EB_SIGNAL);
	assert_string_equal(set.v[0].rules[0].finding_id, "policy/block-proc-mem-read/0");
	assert_int_equal(vg_policies_compile(&set, 1, "", &t), 0);
	assert_int_equal(t.set.all, 1);
	assert_int_equal(t.set.block, 1);
	assert_int_equal(t.set.kill | t.set.stop | t.set.lsm | t.set.audit, 0);
	assert_int_equal(t.set.need[VG_PW_COMM], 1);
	assert_int_equal(t.set.need[VG_PW_EXE] | t.set.need[VG_PW_UID], 0);
	m = name_of(&t, VG_PW_COMM, 0, comm_hash("python3"));
	assert_non_null(m);
	assert_int_equal(*m, 1);
	assert_non_null(name_of(&t, VG_PW_SYSCALL, 0, 310));
	assert_non_null(name_of(&t, VG_PW_SYSCALL, 0, 101));
	assert_null(name_of(&t, VG_PW_SYSCALL, 0, 311));
	for (size_t i = 0; i < t.nnames; i++)
		assert_int_equal(t.names[i].key.gen, 1);
	vg_pol_tables_free(&t);
	/* on a BPF-LSM kernel the same rule is an EPERM from ptrace_access_check */
	assert_int_equal(finish(&set, true, false), 0);
	assert_int_equal(set.v[0].rules[0].by, VG_EB_LSM);
	assert_non_null(strstr(set.v[0].rules[0].how, "EPERM"));
	vg_policies_free(&set);
}

static void test_errors_name_line_and_field(void **state)
{
	struct vg_policies set = {};

	assert_int_not_equal(parse(HEAD("x")
				   "spec:\n"
				   "  target: {processName: foo}\n"        /* 6 */
				   "  rules:\n"
				   "    - action: explode\n"                /* 7 */
				   "      syscalls: [ptrace, nosuchcall]\n" /* 8 */
				   "    - action: kill\n"                   /* 9 */
				   "      exec: [/tmp/*.sh]\n"              /* 10 */
				   "    - action: kill\n"                   /* 11 */
				   "      exec: [/a]\n"
				   "      syscalls: [ptrace]\n"
				   "    - action: block\n"                  /* 14 */
				   "      detections: [TA0040]\n"
				   "    - action: alert\n"                  /* 16 */
				   "      syscalls: [socket]\n"
				   "      family: [AF_PACKET]\n"
				   "      cmd: [BPF_PROG_LOAD]\n"           /* 19 */
				   "    - action: kill\n"                   /* 20 */
				   "      network: quarantine\n"            /* 21 */
				   "      syscalls: [kill]\n",
				   &set),
			 0);
	assert_true(has_error(8, "spec.rules[0].action", "explode"));
	assert_true(has_error(9, "spec.rules[0].syscalls", "nosuchcall"));
	assert_true(has_error(11, "spec.rules[1].exec", "not enforceable"));
	assert_true(has_error(12, "spec.rules[2]", "one trigger per rule"));
	assert_true(has_error(15, "spec.rules[3].action", "network: quarantine"));
	assert_true(has_error(20, "spec.rules[4].cmd", "one argument condition"));
	assert_true(has_error(22, "spec.rules[5].network", "triggered by detections"));
	vg_policies_free(&set);

	assert_int_not_equal(parse(HEAD("y") "spec:\n  target: {}\n  rules: []\n", &set), 0);
	assert_true(has_error(6, "spec.target", "no target"));
	assert_true(has_error(0, "spec.rules", "non-empty"));
	vg_policies_free(&set);

	assert_int_not_equal(parse("apiVersion: v2\nkind: Policy\nspec: {}\n", &set), 0);
	assert_true(has_error(1, "apiVersion", "vigil.dev/v1"));
	assert_true(has_error(2, "kind", "RuntimePolicy"));
	assert_true(has_error(0, "metadata.name", "missing"));
	vg_policies_free(&set);
}

static void test_safety_and_set_checks(void **state)
{
	struct vg_policies set = {};

	/* init, systemd and vigil are never targets */
	assert_int_equal(parse(HEAD("a") "spec:\n  target: {processName: [systemd]}\n  rules:\n"
			       "    - {action: kill, syscalls: [kill]}\n", &set), 0);
	assert_int_not_equal(finish(&set, false, false), 0);
	assert_true(has_error(6, "spec.target", "pid 1"));
	vg_policies_free(&set);
	assert_int_equal(parse(HEAD("b") "spec:\n  target: {processName: vigil}\n  rules:\n"
			       "    - {action: kill, syscalls: [kill]}\n", &set), 0);
	assert_int_not_equal(finish(&set, false, false), 0);
	assert_true(has_error(6, "spec.target", "itself"));
	vg_policies_free(&set);
	/* all + kill of something every program does; audit mode is allowed */
	assert_int_equal(parse(HEAD("c") "spec:\n  target: {all: true}\n  rules:\n"
			       "    - {action: kill, syscalls: [mmap]}\n"
			       "    - {action: block, exec: [/**]}\n", &set), 0);
	assert_int_not_equal(finish(&set, false, false), 0);
	assert_true(has_error(8, "spec.rules", "stops the machine"));
	assert_true(has_error(9, "spec.rules", "stops the machine"));
	vg_policies_free(&set);
	assert_int_equal(parse(HEAD("d") "spec:\n  mode: audit\n  target: {all: true}\n  rules:\n"
			       "    - {action: kill, syscalls: [mmap]}\n", &set), 0);
	assert_int_equal(finish(&set, false, false), 0);
	assert_non_null(strstr(set.v[0].rules[0].how, "mode: audit"));
	vg_policies_free(&set);
	/* names are unique across files */
	assert_int_equal(parse(example, &set), 0);
	assert_int_equal(parse(example, &set), 0);
	assert_int_not_equal(finish(&set, false, false), 0);
	assert_true(has_error(0, "metadata.name", "already defined"));
	vg_policies_free(&set);
}

static void test_tables_prefixes_args_and_actions(void **state)
{
	struct vg_policies set = {};
	struct vg_pol_tables t;

	assert_int_equal(parse(HEAD("p")
			       "spec:\n"
			       "  target:\n"
			       "    exe: [/opt/app/bin/server, /srv/**]\n"
			       "    uid: [1000]\n"
			       "  rules:\n"
			       "    - {action: kill, exec: [/tmp/**, /tmp/x/**, /usr/bin/nc]}\n"
			       "    - {action: freeze, syscalls: [bpf], cmd: [BPF_PROG_LOAD]}\n"
			       "    - {action: block, files: [/root/.ssh/**], access: [read, unlink, chmod]}\n"
			       "---\n" HEAD("q")
			       "spec:\n  mode: audit\n  target: {cgroup: [/system.slice/docker-]}\n"
			       "  rules:\n    - {action: kill, syscalls: [ptrace]}\n"
			       "    - {action: freeze, detections: [TA0040]}\n",
			       &set),
			 0);
	assert_int_equal(finish(&set, false, false), 0);
	assert_int_equal(set.nbits, 4); /* detection rules take no kernel bit */
	assert_int_equal(set.v[1].rules[1].bit, VG_RULE_NOBIT);
	assert_int_equal(vg_policies_compile(&set, 0, "", &t), 0);
	assert_int_equal(t.set.all, 0xf);
	assert_int_equal(t.set.kill, 1 | 8);
	assert_int_equal(t.set.stop, 2);
	assert_int_equal(t.set.block, 4);
	assert_int_equal(t.set.audit, 8);
	assert_int_equal(t.set.need[VG_PW_EXE], 7);
	assert_int_equal(t.set.need_exe_prefix, 7);
	assert_int_equal(t.set.need[VG_PW_UID], 7);
	assert_int_equal(t.set.need[VG_PW_CGROUP], 8);
	assert_int_equal(t.set.exec_prefix, 1);
	assert_int_equal(t.set.file_read, 4);
	assert_int_equal(t.set.file_write, 0);
	assert_int_equal(t.set.file_unlink, 4);
	assert_int_equal(t.set.file_chmod, 4);
	assert_int_equal(t.set.file_rename, 0);
	/* no BPF-LSM here: the unlink/chmod part says it is not enforced */
	assert_non_null(strstr(set.v[0].rules[2].how, "needs BPF-LSM"));
	assert_int_equal(t.set.file_prefix, 4);
	assert_int_equal(t.set.need_arg, 2);
	assert_int_equal(t.set.arg_idx, 1);
	assert_non_null(name_of(&t, VG_PW_SYSARG, VG_ARG_AUX(321, 0), 5));
	assert_null(name_of(&t, VG_PW_SYSARG, VG_ARG_AUX(321, 0), 1));
	assert_non_null(name_of(&t, VG_PW_EXEC, 0, vg_str_id("/usr/bin/nc", 12)));
	assert_non_null(name_of(&t, VG_PW_EXE, 0, vg_str_id("/opt/app/bin/server", 20)));
	assert_non_null(name_of(&t, VG_PW_UID, 0, 1000));
	/* LPM: "/tmp/x/" holds the rules of "/tmp/" too (longest match wins) */
	for (size_t i = 0; i < t.nlpm; i++) {
		const struct vg_lpm_key *k = &t.lpm[i].key;

		if (k->kind == VG_PL_EXEC && k->prefixlen == 16 + 8 * 7)
			assert_memory_equal(k->data, "/tmp/x/", 7);
		if (k->kind == VG_PL_CGROUP)
			assert_int_equal(t.lpm[i].rules, 8);
		if (k->kind == VG_PL_EXE)
			assert_int_equal(t.lpm[i].rules, 7);
	}
	assert_int_equal(t.nlpm, 2 /* exec */ + 1 /* exe */ + 1 /* file */ + 1 /* cgroup */);
	vg_pol_tables_free(&t);
	vg_policies_free(&set);
	/* --enforce=off: everything is audit */
	assert_int_equal(parse(example, &set), 0);
	assert_int_equal(finish(&set, false, true), 0);
	assert_int_equal(vg_policies_compile(&set, 0, "", &t), 0);
	assert_int_equal(t.set.audit, 1);
	assert_non_null(strstr(set.v[0].rules[0].how, "--enforce=off"));
	vg_pol_tables_free(&t);
	vg_policies_free(&set);
}

static void test_user_space_matching(void **state)
{
	struct vg_policies set = {};
	const char *anc[] = { "/usr/bin/bash", "/usr/sbin/sshd" };
	struct vg_pol_proc p = { .pid = 4242, .euid = 1000, .comm = "xmrig", .exe = "/srv/a/xmrig",
				 .cgroup = "/system.slice/docker-ab.scope", .ancestor_exes = anc,
				 .nancestors = 2 };
	struct vg_rule r = { .id = "crypto-miner-args", .tactic = "TA0040",
			     .technique = "T1496.001" };
	struct vg_pol_target t;

	assert_int_equal(parse(HEAD("m") "spec:\n  target:\n    exe: [/srv/**]\n"
			       "    ancestor: [/usr/sbin/sshd]\n    uid: [1000]\n"
			       "    cgroup: [/system.slice/docker-]\n  rules:\n"
			       "    - {action: freeze, detections: [T1496]}\n"
			       "    - {action: kill, detections: [crypto-miner-args]}\n"
			       "    - {action: alert, detections: [TA0011]}\n", &set), 0);
	assert_int_equal(finish(&set, false, false), 0);
	t = set.v[0].target;
	assert_true(vg_pol_target_matches(&t, &p));
	assert_true(vg_pol_detection_matches(&set.v[0].rules[0], &r)); /* sub-technique */
	assert_true(vg_pol_detection_matches(&set.v[0].rules[1], &r)); /* rule id */
	assert_false(vg_pol_detection_matches(&set.v[0].rules[2], &r));
	p.euid = 0;
	assert_false(vg_pol_target_matches(&t, &p));
	p.euid = 1000;
	p.nancestors = 1;
	assert_false(vg_pol_target_matches(&t, &p));
	p.nancestors = 2;
	p.exe = "/srvx/xmrig";
	assert_false(vg_pol_target_matches(&t, &p));
	p.exe = "/srv/a/xmrig";
	p.pid = 1;
	assert_false(vg_pol_target_matches(&t, &p)); /* never pid 1 */
	vg_policies_free(&set);
}

/* network: the network-policy file's entries (its parser), a kernel bit for the
 * target, the cgroup tier; merged entries carry the bit, the flags and a scoped rank. */
static void test_network_rules(void **state)
{
	static const char *text =
		HEAD("curl-no-metadata")
		"spec:\n"
		"  target: {processName: curl}\n"
		"  rules:\n"
		"    - action: kill\n"
		"      network:\n"
		"        deny:\n"
		"          - cidr: 169.254.169.254/32\n"
		"          - domain: \"*.example-c2.test\"\n"
		"          - ports: [4444]\n"
		"        allow:\n"
		"          - ip: 169.254.169.254\n"
		"            ports: [53]\n"
		"      message: \"curl may not reach cloud metadata\"\n";
	struct vg_policies set = {};
	struct vg_np_policy *dst = vg_np_policy_new();
	struct vg_np_polref ref = { .policy = "curl-no-metadata", .rule_id = "policy/x/0",
				    .action = "kill" };
	const struct vg_pol_rule *r;

	(void)state;
	assert_int_equal(parse(text, &set), 0);
	assert_int_equal(finish(&set, false, false), 0);
	r = &set.v[0].rules[0];
	assert_int_equal(r->trigger, VG_PT_NETWORK);
	assert_int_equal(r->bit, 0);
	assert_int_equal(set.nbits, 1);
	assert_int_equal(r->by, VG_EB_SIGNAL);
	assert_non_null(strstr(r->how, "SIGKILL at the syscall's exit"));
	assert_int_equal(r->net->nents, 4);
	assert_string_equal(r->net->ents[0].what, "169.254.169.254/32");
	assert_string_equal(r->net->ents[2].what, "any port 4444");
	assert_string_equal(r->net->ents[3].list, "allow");
	/* merged after an existing entry: ids, prefixes and names move along */
	dst->nents = 0;
	assert_int_equal(vg_np_policy_merge(dst, r->net, 5, VG_NPE_KILL, &ref), 0);
	assert_int_equal(vg_np_policy_merge(dst, r->net, 6, VG_NPE_AUDIT, &ref), 0);
	assert_int_equal(dst->nents, 8);
	assert_int_equal(dst->npolrefs, 2);
	assert_int_equal(dst->ents[4].k.pol, 7);
	assert_int_equal(dst->ents[4].k.flags, VG_NPE_AUDIT | VG_NPE_POL);
	assert_int_equal(dst->ents[0].k.flags, VG_NPE_KILL | VG_NPE_POL);
	assert_int_equal(dst->ents[4].polref, 2);
	assert_true(dst->ents[0].k.rank & VG_NP_TIE_SCOPED);
	assert_int_equal(dst->ents[0].k.rank >> 4, 128); /* a v4 /32 */
	assert_int_equal(dst->npfx, 2 * r->net->npfx);
	assert_int_equal(dst->pfx[r->net->npfx].ent, r->net->pfx[0].ent + 4);
	assert_int_equal(dst->doms[1].ent & ~VG_NP_SUB, (r->net->doms[0].ent & ~VG_NP_SUB) + 4);
	assert_true(dst->doms[1].ent & VG_NP_SUB); /* "*.": subdomains only */
	assert_string_equal(dst->polrefs[1].rule.id, "policy/x/0");
	vg_np_policy_free(dst);
	vg_policies_free(&set);

	/* errors: the network policy's messages, at the rule's field path */
	assert_int_not_equal(parse(HEAD("bad") "spec:\n  target: {processName: curl}\n  rules:\n"
				   "    - action: block\n      network:\n        deny:\n"
				   "          - cidr: 10.1.2.3/8\n"
				   "          - domain: \"x..y\"\n"
				   "        permit: []\n"
				   "    - action: block\n      network: {}\n"
				   "    - action: block\n      network: cut\n", &set), 0);
	assert_true(has_error(11, "spec.rules[0].network.deny[0].cidr", "host bits set"));
	assert_true(has_error(12, "spec.rules[0].network.deny[1].domain", "empty label"));
	assert_true(has_error(13, "spec.rules[0].network", "unknown field \"permit\""));
	assert_true(has_error(15, "spec.rules[1].network", "no entries"));
	assert_true(has_error(17, "spec.rules[2].network", "expected {deny"));
	vg_policies_free(&set);

	/* safety: kill every process on any connection */
	assert_int_equal(parse(HEAD("wide") "spec:\n  target: {all: true}\n  rules:\n"
			       "    - action: kill\n      network: {deny: [{cidr: 0.0.0.0/0}]}\n", &set), 0);
	assert_int_not_equal(finish(&set, false, false), 0);
	assert_true(has_error(8, "spec.rules", "any connection"));
	vg_policies_free(&set);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_issue_example),
		cmocka_unit_test(test_errors_name_line_and_field),
		cmocka_unit_test(test_safety_and_set_checks),
		cmocka_unit_test(test_tables_prefixes_args_and_actions),
		cmocka_unit_test(test_user_space_matching),
		cmocka_unit_test(test_network_rules),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	vg_rule_errors_free(&errs);
	return rc;
}
