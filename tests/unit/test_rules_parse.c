// SPDX-License-Identifier: GPL-2.0
/*
 * Rule files: every mistake is reported with its file:line:column and the
 * dotted field path, all of them (not just the first), and a valid file gives
 * the rule it says.
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

#include "rules/rules_int.h"

static struct vg_rule_errors errs;

static struct vg_rules *load(const char *yaml)
{
	vg_rule_errors_free(&errs);
	return vg_rules_from_text("t.yaml", yaml, &errs);
}

static void dump_errors(void)
{
	vg_rule_errors_print(&errs, stderr);
}

/* The text must be rejected with (line, col, field, message containing msg). */
static void expect_error(const char *yaml, int line, int col, const char *field, const char *msg)
{
	struct vg_rules *r = load(yaml);

	if (r) {
		vg_rules_free(r);
		fail_msg("accepted, wanted %d:%d %s: %s", line, col, field, msg);
	}
	for (size_t i = 0; i < errs.n; i++) {
		const struct vg_rule_error *e = &errs.v[i];

		if (e->line == line && e->column == col && !strcmp(e->field, field) &&
		    strstr(e->msg, msg) && !strcmp(e->file, "t.yaml"))
			return;
	}
	dump_errors();
	fail_msg("no error t.yaml:%d:%d: %s: ...%s...", line, col, field, msg);
}

#define HEAD(id)                                                                                   \
	"  - id: " id "\n"                                                                         \
	"    title: t\n"                                                                           \
	"    mitre: {tactic: TA0002, technique: T1059.004}\n"                                      \
	"    severity: high\n"

/* ---- syntax ---- */

static void test_malformed_yaml(void **state)
{
	expect_error("rules:\n"
		     "  - id: a\n"
		     "   title: b\n",
		     3, 4, "", "invalid YAML");
	expect_error("rules: [\n", 2, 1, "", "invalid YAML");
	expect_error("rules:\n  - id: \"unterminated\n", 3, 1, "", "invalid YAML");
}

static void test_top_level(void **state)
{
	expect_error("- a\n- b\n", 1, 1, "", "expected a mapping, found a list");
	expect_error("rule: []\n", 1, 1, "rule", "unknown field \"rule\" (expected one of rules, disable)");
	expect_error("rules: {a: 1}\n", 1, 8, "rules", "expected a list of rules, found a mapping");
	/* an empty file and an empty list are fine */
	struct vg_rules *r = load("");

	assert_non_null(r);
	assert_int_equal(vg_rules_count(r), 0);
	vg_rules_free(r);
	r = load("rules: []\n");
	assert_non_null(r);
	vg_rules_free(r);
}

/* ---- fields ---- */

static void test_unknown_field(void **state)
{
	expect_error("rules:\n" HEAD("a") "    match:\n"
		     "      file:\n"
		     "        pth: {prefix: [/etc/]}\n"
		     "        actions: [read]\n",
		     8, 9, "rules[0].match.file.pth",
		     "unknown field \"pth\" (expected one of path, actions");
	expect_error("rules:\n" HEAD("a") "    severty: low\n"
		     "    match: {exec: {exe: {basename: [sh]}}}\n",
		     6, 5, "rules[0].severty", "unknown field \"severty\"");
	expect_error("rules:\n" HEAD("a") "    match: {exec: {exe: {basenames: [sh]}}}\n", 6, 26,
		     "rules[0].match.exec.exe.basenames", "unknown field");
}

/* The example of the issue, to the letter. */
static void test_unknown_action(void **state)
{
	const char *yaml = "rules:\n"
			   "  - id: first\n"
			   "    title: t\n"
			   "    mitre: {tactic: TA0002, technique: T1059.004}\n"
			   "    severity: high\n"
			   "    match: {exec: {exe: {basename: [sh]}}}\n"
			   "  - id: second\n"
			   "    title: t\n"
			   "    mitre: {tactic: TA0002, technique: T1059.004}\n"
			   "    severity: high\n"
			   "    match: {exec: {exe: {basename: [sh]}}}\n"
			   "  - id: third\n"
			   "    title: t\n"
			   "    mitre: {tactic: TA0003, technique: T1098.004}\n"
			   "    severity: high\n"
			   "    match:\n"
			   "      file:\n"
			   "        path: {basename: [authorized_keys]}\n"
			   "        actions: [read,\n"
			   "          wirte]\n";
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	expect_error(yaml, 20, 11, "rules[2].match.file.actions",
		     "unknown action \"wirte\" (expected one of read, write, create, truncate, unlink, "
		     "rename_from, rename_to, chmod, chown, link, symlink, exec, mmap_exec, setid, "
		     "utimes, xattr_caps, memfd)");
	f = open_memstream(&buf, &len);
	vg_rule_errors_print(&errs, f);
	fclose(f);
	assert_non_null(strstr(buf, "t.yaml:20:11: rules[2].match.file.actions: unknown action \"wirte\""));
	free(buf);
}

static void test_bad_regex(void **state)
{
	expect_error("rules:\n" HEAD("a") "    match:\n"
		     "      exec:\n"
		     "        argv:\n"
		     "          regex:\n"
		     "            - 'fine'\n"
		     "            - '(unclosed'\n",
		     11, 15, "rules[0].match.exec.argv.regex", "invalid regex \"(unclosed\"");
	expect_error("rules:\n" HEAD("a") "    match: {exec: {exe: {basename: [sh]}}}\n"
		     "    except:\n"
		     "      - parent: {argv: {regex: ['a{1']}}\n",
		     8, 33, "rules[0].except[0].parent.argv.regex", "invalid regex");
}

static void test_mitre(void **state)
{
	expect_error("rules:\n  - id: a\n    title: t\n"
		     "    mitre: {tactic: TA0099, technique: T1059}\n"
		     "    severity: low\n    match: {exec: {exe: {basename: [sh]}}}\n",
		     4, 21, "rules[0].mitre.tactic", "unknown MITRE ATT&CK tactic \"TA0099\"");
	expect_error("rules:\n  - id: a\n    title: t\n"
		     "    mitre: {tactic: TA0002, technique: T1999.123}\n"
		     "    severity: low\n    match: {exec: {exe: {basename: [sh]}}}\n",
		     4, 40, "rules[0].mitre.technique", "unknown MITRE ATT&CK technique \"T1999.123\"");
	expect_error("rules:\n  - id: a\n    title: t\n"
		     "    mitre: {tactic: TA0002, technique: t1059}\n"
		     "    severity: low\n    match: {exec: {exe: {basename: [sh]}}}\n",
		     4, 40, "rules[0].mitre.technique", "is not a technique id");
	/* a real technique under the wrong tactic */
	expect_error("rules:\n  - id: a\n    title: t\n"
		     "    mitre: {tactic: TA0006, technique: T1059.004}\n"
		     "    severity: low\n    match: {exec: {exe: {basename: [sh]}}}\n",
		     4, 40, "rules[0].mitre.technique",
		     "technique T1059.004 (Unix Shell) is not part of tactic TA0006 (Credential Access)");
	expect_error("rules:\n  - id: a\n    title: t\n"
		     "    mitre: {tactic: TA0002}\n"
		     "    severity: low\n    match: {exec: {exe: {basename: [sh]}}}\n",
		     4, 12, "rules[0].mitre", "missing \"technique\"");
}

static void test_duplicate_id(void **state)
{
	expect_error("rules:\n" HEAD("same") "    match: {exec: {exe: {basename: [sh]}}}\n"
		     HEAD("other") "    match: {exec: {exe: {basename: [sh]}}}\n"
		     HEAD("same") "    match: {exec: {exe: {basename: [sh]}}}\n",
		     12, 9, "rules[2].id", "duplicate rule id \"same\" (first at line 2)");
}

static void test_wrong_types(void **state)
{
	expect_error("rules:\n  - id: a\n    title: t\n"
		     "    mitre: {tactic: TA0002, technique: T1059}\n"
		     "    severity: [high]\n    match: {exec: {exe: {basename: [sh]}}}\n",
		     5, 15, "rules[0].severity", "expected severity");
	expect_error("rules:\n" HEAD("a") "    enabled: maybe\n"
		     "    match: {exec: {exe: {basename: [sh]}}}\n",
		     6, 14, "rules[0].enabled", "expected true or false, found \"maybe\"");
	expect_error("rules:\n" HEAD("a") "    tags: {a: b}\n"
		     "    match: {exec: {exe: {basename: [sh]}}}\n",
		     6, 11, "rules[0].tags", "expected a list of strings, found a mapping");
	expect_error("rules:\n" HEAD("a") "    match: {exec: {exe: {basename: [sh]}}}\n"
		     "    rate_limit: {count: lots}\n",
		     7, 25, "rules[0].rate_limit.count", "expected a number");
	expect_error("rules:\n" HEAD("a") "    match: {exec: {exe: {basename: [sh]}}}\n"
		     "    rate_limit: {window: 5 parsecs}\n",
		     7, 26, "rules[0].rate_limit.window", "expected a duration");
	expect_error("rules:\n" HEAD("a") "    match: {exec: {uid: {not: root}}}\n", 6, 31,
		     "rules[0].match.exec.uid.not", "expected a number");
	expect_error("rules:\n" HEAD("a") "    match: {exec: {exe: {path: [bin/sh]}}}\n", 6, 33,
		     "rules[0].match.exec.exe.path", "not an absolute path");
	expect_error("rules:\n" HEAD("Not_Valid") "    match: {exec: {exe: {basename: [sh]}}}\n", 2,
		     9, "rules[0].id", "not a valid id");
	expect_error("rules:\n" HEAD("a") "    title: again\n"
		     "    match: {exec: {exe: {basename: [sh]}}}\n",
		     6, 5, "rules[0].title", "given twice (first at line 3)");
}

static void test_unknown_words(void **state)
{
	expect_error("rules:\n" HEAD("a") "    match: {exec: {conditions: [memfd, stdin_socket]}}\n",
		     6, 40, "rules[0].match.exec.conditions", "unknown condition \"stdin_socket\"");
	expect_error("rules:\n" HEAD("a") "    match: {syscall: {name: [ptrace, ptrase]}}\n", 6,
		     38, "rules[0].match.syscall.name", "unknown syscall \"ptrase\"");
	expect_error("rules:\n" HEAD("a")
		     "    match: {syscall: {name: [ptrace], request: [PTRACE_POKE]}}\n",
		     6, 49, "rules[0].match.syscall.request", "unknown request \"PTRACE_POKE\"");
	expect_error("rules:\n" HEAD("a")
		     "    match: {syscall: {name: [kill], request: [PTRACE_ATTACH]}}\n",
		     6, 37, "rules[0].match.syscall.request", "applies to ptrace only");
	expect_error("rules:\n" HEAD("a") "    match: {file: {path: [/etc/x], actions: [read], "
		     "target: [sibling]}}\n",
		     6, 62, "rules[0].match.file.target", "unknown relation \"sibling\"");
	expect_error("rules:\n" HEAD("a") "    match: {exec: {exe: {basename: [sh]}}}\n"
		     "    rate_limit: {per: host}\n",
		     7, 23, "rules[0].rate_limit.per", "unknown key \"host\"");
}

static void test_structure(void **state)
{
	expect_error("rules:\n  - id: a\n    severity: low\n    match: {exec: {exe: {basename: [x]}}}\n",
		     2, 5, "rules[0]", "missing required field \"title\"");
	expect_error("rules:\n" HEAD("a") "    match: {exec: {exe: {basename: [sh]}}, file: "
		     "{path: [/x], actions: [read]}}\n",
		     6, 44, "rules[0].match", "exactly one of exec, file, syscall");
	expect_error("rules:\n" HEAD("a") "    match: {}\n", 6, 12, "rules[0].match",
		     "exactly one of exec, file, syscall");
	expect_error("rules:\n" HEAD("a") "    match: {exec: {}}\n", 6, 19, "rules[0].match.exec",
		     "empty");
	expect_error("rules:\n" HEAD("a") "    match: {file: {path: [/x]}}\n", 6, 19,
		     "rules[0].match.file", "missing \"actions\"");
	expect_error("rules:\n" HEAD("a") "    match: {exec: {exe: {basename: [sh]}}}\n"
		     "    except: [{}]\n",
		     7, 14, "rules[0].except[0]", "empty exception");
	expect_error("rules:\n" HEAD("a") "    match: {exec: {exe: {basename: [sh]}}}\n"
		     "    threshold: {count: 1}\n",
		     7, 24, "rules[0].threshold.count", "2 or more");
}

/* Every error is reported, in line order, not just the first. */
static void test_all_errors_collected(void **state)
{
	struct vg_rules *r = load("rules:\n"
				  "  - id: Bad\n"                                     /* 2 */
				  "    title: t\n"
				  "    mitre: {tactic: TA0002, technique: T1059}\n"
				  "    severity: extreme\n"                             /* 5 */
				  "    match: {exec: {argv: {regex: ['[']}}}\n"        /* 6 */
				  "  - id: ok\n"
				  "    title: t\n"
				  "    mitre: {tactic: TA0002, technique: T1059}\n"
				  "    severity: low\n"
				  "    match: {file: {path: [/x], actions: [opne]}}\n" /* 11 */);

	assert_null(r);
	if (errs.n != 4)
		dump_errors();
	assert_int_equal(errs.n, 4);
	assert_int_equal(errs.v[0].line, 2);
	assert_int_equal(errs.v[1].line, 5);
	assert_int_equal(errs.v[2].line, 6);
	assert_int_equal(errs.v[3].line, 11);
}

/* ---- valid files ---- */

static void test_valid_rule(void **state)
{
	struct vg_rules *r = load("rules:\n"
				  "  - id: sh-from-py\n"
				  "    title: Shell from python\n"
				  "    description: d\n"
				  "    mitre: {tactic: TA0002, technique: T1059.004}\n"
				  "    severity: critical\n"
				  "    tags: [shell, py]\n"
				  "    match:\n"
				  "      exec:\n"
				  "        exe: {basename: [sh, bash]}\n"
				  "        parent: {basename: [python3]}\n"
				  "  - id: off\n"
				  "    title: Off\n"
				  "    mitre: {tactic: TA0006, technique: T1003.008}\n"
				  "    severity: info\n"
				  "    enabled: false\n"
				  "    match: {file: {path: [/etc/shadow], actions: [read]}}\n"
				  "    rate_limit: {per: exe, count: 3, window: 5m}\n");
	const struct vg_rule *a, *b;
	const struct vg_rule_spec *s;

	if (!r)
		dump_errors();
	assert_non_null(r);
	assert_int_equal(vg_rules_count(r), 2);
	a = vg_rules_find(r, "sh-from-py");
	assert_non_null(a);
	assert_string_equal(a->title, "Shell from python");
	assert_int_equal(a->severity, VG_SEV_CRITICAL);
	assert_int_equal(a->kind, VG_RK_EXEC);
	assert_string_equal(a->tactic, "TA0002");
	assert_string_equal(a->tactic_name, "Execution");
	assert_string_equal(a->technique_name, "Unix Shell");
	assert_int_equal(a->ntags, 2);
	assert_string_equal(a->tags[1], "py");
	assert_true(a->enabled);
	assert_int_equal(a->source_line, 2);
	assert_string_equal(a->source, "t.yaml");
	assert_int_equal(a->bit, 0);
	s = a->priv;
	/* the default rate limit: 1 per process per rule per 60 s */
	assert_int_equal(s->rate.per, VG_PER_PROCESS);
	assert_int_equal(s->rate.count, 1);
	assert_int_equal(s->rate.window_ns, 60000000000ULL);

	b = vg_rules_find(r, "off");
	assert_false(b->enabled);
	assert_int_equal(b->bit, VG_RULE_NOBIT);
	assert_string_equal(b->technique_name, "/etc/passwd and /etc/shadow");
	s = b->priv;
	assert_int_equal(s->rate.per, VG_PER_EXE);
	assert_int_equal(s->rate.count, 3);
	assert_int_equal(s->rate.window_ns, 300000000000ULL);
	assert_null(vg_rules_by_bit(r, VG_RK_FILE, 0));
	vg_rules_free(r);
}

static void test_except_anchor_splice(void **state)
{
	struct vg_rules *r = load("rules:\n" HEAD("a") "    match: {exec: {exe: {basename: [sh]}}}\n"
				  "    except: &common\n"
				  "      - exe: {basename: [x]}\n"
				  "      - container: true\n" HEAD("b")
				  "    match: {exec: {exe: {basename: [sh]}}}\n"
				  "    except: [*common, {uid: 0}]\n");
	const struct vg_rule_spec *s;

	if (!r)
		dump_errors();
	assert_non_null(r);
	s = vg_rules_find(r, "b")->priv;
	assert_int_equal(s->nexcept, 3);
	assert_int_equal(s->except[1].container, 1);
	assert_true(s->except[2].uid.set);
	vg_rules_free(r);
}

static void test_disable(void **state)
{
	struct vg_rules *r = load("disable: [a]\nrules:\n" HEAD("a")
				  "    match: {exec: {exe: {basename: [sh]}}}\n");

	assert_non_null(r);
	assert_false(vg_rules_find(r, "a")->enabled);
	vg_rules_free(r);
	expect_error("disable: [a, nope]\nrules:\n" HEAD("a")
		     "    match: {exec: {exe: {basename: [sh]}}}\n",
		     1, 14, "disable", "no rule with id \"nope\"");
}

/* ---- files on disk: check, load with overrides ---- */

static char tmpdir[] = "/tmp/vigil-rules-test-XXXXXX";

static void write_file(const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_check_and_override(void **state)
{
	char good[256], bad[256], missing[256];
	char *paths[2];
	struct vg_rules *r;
	size_t n = 0;
	const struct vg_rule *x;

	assert_non_null(mkdtemp(tmpdir));
	write_file("10-mine.yaml",
		   "disable: [network-scanner]\n"
		   "rules:\n"
		   "  - id: shadow-file-read\n"
		   "    title: My shadow rule\n"
		   "    mitre: {tactic: TA0006, technique: T1003.008}\n"
		   "    severity: low\n"
		   "    match: {file: {path: [/etc/shadow], actions: [read]}}\n"
		   "  - id: my-extra\n"
		   "    title: Extra\n"
		   "    mitre: {tactic: TA0007, technique: T1082}\n"
		   "    severity: info\n"
		   "    match: {exec: {exe: {basename: [uname]}}}\n");
	write_file("20-bad.yml", "rules:\n  - id: x\n    title: [\n");
	write_file("notes.txt", "not a rule file\n");
	snprintf(good, sizeof(good), "%s/10-mine.yaml", tmpdir);
	snprintf(bad, sizeof(bad), "%s/20-bad.yml", tmpdir);
	snprintf(missing, sizeof(missing), "%s/none.yaml", tmpdir);

	vg_rule_errors_free(&errs);
	paths[0] = good;
	assert_int_equal(vg_rules_check(paths, 1, &errs, &n), 0);
	assert_int_equal(n, 2);
	paths[1] = bad;
	assert_int_not_equal(vg_rules_check(paths, 2, &errs, &n), 0);
	assert_string_equal(errs.v[0].file, bad);
	assert_int_equal(errs.v[0].line, 4);
	vg_rule_errors_free(&errs);
	paths[0] = missing;
	assert_int_not_equal(vg_rules_check_files(paths, 1, &errs), 0);
	assert_non_null(strstr(errs.v[0].msg, "cannot read"));

	/* the directory with the bad file: nothing is loaded */
	vg_rule_errors_free(&errs);
	assert_null(vg_rules_load(tmpdir, &errs));
	assert_true(errs.n > 0);
	unlink(bad);
	vg_rule_errors_free(&errs);
	r = vg_rules_load(tmpdir, &errs);
	if (!r)
		dump_errors();
	assert_non_null(r);
	x = vg_rules_find(r, "shadow-file-read");
	assert_string_equal(x->title, "My shadow rule");
	assert_string_equal(x->source, good);
	assert_int_equal(x->severity, VG_SEV_LOW);
	assert_false(vg_rules_find(r, "network-scanner")->enabled);
	assert_string_equal(vg_rules_find(r, "my-extra")->source, good);
	assert_string_equal(vg_rules_find(r, "reverse-shell")->source, "builtin");
	vg_rules_free(r);

	/* a missing directory is an empty one */
	vg_rule_errors_free(&errs);
	r = vg_rules_load("/nonexistent/vigil/rules.d", &errs);
	assert_non_null(r);
	vg_rules_free(r);

	unlink(good);
	snprintf(bad, sizeof(bad), "%s/notes.txt", tmpdir);
	unlink(bad);
	rmdir(tmpdir);
}

static int teardown(void **state)
{
	vg_rule_errors_free(&errs);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_malformed_yaml, teardown),
		cmocka_unit_test_teardown(test_top_level, teardown),
		cmocka_unit_test_teardown(test_unknown_field, teardown),
		cmocka_unit_test_teardown(test_unknown_action, teardown),
		cmocka_unit_test_teardown(test_bad_regex, teardown),
		cmocka_unit_test_teardown(test_mitre, teardown),
		cmocka_unit_test_teardown(test_duplicate_id, teardown),
		cmocka_unit_test_teardown(test_wrong_types, teardown),
		cmocka_unit_test_teardown(test_unknown_words, teardown),
		cmocka_unit_test_teardown(test_structure, teardown),
		cmocka_unit_test_teardown(test_all_errors_collected, teardown),
		cmocka_unit_test_teardown(test_valid_rule, teardown),
		cmocka_unit_test_teardown(test_except_anchor_splice, teardown),
		cmocka_unit_test_teardown(test_disable, teardown),
		cmocka_unit_test_teardown(test_check_and_override, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
