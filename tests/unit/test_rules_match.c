// SPDX-License-Identifier: GPL-2.0
/*
 * The user-space half of the rules: globs, argv patterns, parent and ancestor
 * conditions, exceptions (entries ANDed inside, ORed between), uid, container,
 * environment, the process an operation targets, and rate limits.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
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

#define EXEC_MITRE "tactic: TA0002, technique: T1059"

static bool matches(struct vg_rules *r, const char *id, const struct t_op *op)
{
	struct t_match t;
	bool ok = vg_rule_matches(vg_rules_find(r, id), t_match_build(&t, op));

	t_match_free(&t);
	return ok;
}

/* ---- globs ---- */

static void test_glob(void **state)
{
	static const struct {
		const char *pat, *s;
		bool want;
	} cases[] = {
		{ "/tmp/*", "/tmp/x", true },
		{ "/tmp/*", "/tmp/.hidden", true }, /* unlike fnmatch: dot files too */
		{ "/tmp/*", "/tmp/a/b", false },    /* '*' stays in one component */
		{ "/tmp/**", "/tmp/a/b", true },
		{ "/home/**/.ssh/id_rsa", "/home/u/.ssh/id_rsa", true },
		{ "/home/**/.ssh/id_rsa", "/home/u/deep/er/.ssh/id_rsa", true },
		{ "/home/**/.ssh/id_rsa", "/home/.ssh/id_rsa", true }, /* zero components */
		{ "/home/**/.ssh/id_rsa", "/home/u/.ssh/id_rsa.pub", false },
		{ "**/.aws/credentials", "/root/.aws/credentials", true },
		{ "**/.*/**", "/tmp/.x/miner", true },
		{ "**/.*/**", "/usr/bin/ls", false },
		{ "/proc/*/mem", "/proc/123/mem", true },
		{ "/proc/*/mem", "/proc/123/task/5/mem", false },
		{ "/etc/ssh/ssh_host_*_key", "/etc/ssh/ssh_host_rsa_key", true },
		{ "/etc/ssh/ssh_host_*_key", "/etc/ssh/ssh_host_rsa_key.pub", false },
		{ "/dev/sd[a-c]", "/dev/sdb", true },
		{ "/dev/sd[a-c]", "/dev/sdd", false },
		{ "/dev/sd[!a-c]", "/dev/sdd", true },
		{ "/x?y", "/x/y", false },
		{ "/home/*/.{cargo,rustup}/**", "/home/u/.cargo/bin/rustc", true },
		{ "/home/*/.{cargo,rustup}/**", "/home/u/.rustup/toolchains/x/bin/rustc", true },
		{ "/home/*/.{cargo,rustup}/**", "/home/u/.local/bin/x", false },
		{ "/a\\*b", "/a*b", true },
		{ "/a\\*b", "/axb", false },
		{ "/unclosed[", "/unclosed[", true },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (vg_glob_match(cases[i].pat, cases[i].s) != cases[i].want)
			fail_msg("glob %s vs %s: want %d", cases[i].pat, cases[i].s, cases[i].want);
}

static void test_glob_split(void **state)
{
	static const struct {
		const char *glob, *prefix, *base;
	} cases[] = {
		{ "/home/*/.ssh/authorized_keys", "/home/", "authorized_keys" },
		{ "/etc/ssh/ssh_host_*_key", "/etc/ssh/ssh_host_", NULL },
		{ "**/.aws/credentials", "", "credentials" },
		{ "/proc/*/mem", "/proc/", "mem" },
		{ "/tmp/*", "/tmp/", NULL },
		{ "/home/*/.{a,b}/x", "/home/", "x" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *p, *b;

		vg_glob_split(cases[i].glob, &p, &b);
		assert_string_equal(p, cases[i].prefix);
		if (cases[i].base)
			assert_string_equal(b, cases[i].base);
		else
			assert_null(b);
		free(p);
		free(b);
	}
}

/* ---- exec ---- */

static void test_exe_selectors(void **state)
{
	struct vg_rules *r = load("rules:\n" RULE("e", EXEC_MITRE,
						 "    match:\n"
						 "      exec:\n"
						 "        exe:\n"
						 "          path: [/usr/bin/nmap]\n"
						 "          prefix: [/dev/shm/]\n"
						 "          basename: [xmrig]\n"
						 "          glob: ['/tmp/*']\n"));
	static const struct {
		const char *exe;
		bool want;
	} cases[] = {
		{ "/usr/bin/nmap", true },	 { "/usr/local/bin/nmap", false },
		{ "/dev/shm/a/b", true },	 { "/dev/shmx", false },
		{ "/opt/x/xmrig", true },	 { "/opt/x/xmrig2", false },
		{ "/tmp/payload", true },	 { "/tmp/build/test", false },
		{ "/tmp/payload (deleted)", true }, /* an unlinked executable */
		{ "", false },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct t_op op = { .kind = VG_RK_EXEC, .self = { .exe = cases[i].exe } };

		if (matches(r, "e", &op) != cases[i].want)
			fail_msg("exe %s: want %d", cases[i].exe, cases[i].want);
	}
	vg_rules_free(r);
}

static void test_argv(void **state)
{
	struct vg_rules *r = load(
		"rules:\n" RULE("a", EXEC_MITRE,
				"    match:\n"
				"      exec:\n"
				"        argv:\n"
				"          contains: [passw, secret]\n"
				"          regex: ['(^| )-[a-zA-Z]*r[a-zA-Z]*( |$)', '(?i)^RG( |$)']\n"
				"          any_arg_glob: ['/etc*']\n"));
	static const struct {
		const char *argv;
		bool want;
	} cases[] = {
		{ "grep\t-r\tpassword\t/etc", true },
		{ "grep\t-ri\tsecret\t/etc/ssl", true },
		{ "rg\tpassw\t/etc", true },	   /* (?i) */
		{ "grep\t-r\tpassword\t.", false }, /* no arg matches the glob */
		{ "grep\tpassword\t/etc", false },  /* not recursive */
		{ "grep\t-r\ttodo\t/etc", false },  /* no keyword */
		{ NULL, false },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct t_op op = { .kind = VG_RK_EXEC,
				   .self = { .exe = "/usr/bin/grep", .argv = cases[i].argv } };

		if (matches(r, "a", &op) != cases[i].want)
			fail_msg("argv %s: want %d", cases[i].argv, cases[i].want);
	}
	vg_rules_free(r);
}

static void test_parent_ancestor(void **state)
{
	struct vg_rules *r = load(
		"rules:\n" RULE("p", EXEC_MITRE,
				"    match:\n"
				"      exec:\n"
				"        exe: {basename: [sh]}\n"
				"        parent: {basename: [python3], argv: {contains: [app.py]}}\n")
			RULE("anc", EXEC_MITRE,
			     "    match:\n"
			     "      exec:\n"
			     "        exe: {basename: [sh]}\n"
			     "        ancestor: {basename: [nginx], max_depth: 1}\n")
				RULE("anc2", EXEC_MITRE,
				     "    match:\n"
				     "      exec:\n"
				     "        exe: {basename: [sh]}\n"
				     "        ancestor: {glob: ['/usr/sbin/*']}\n")
					RULE("kt", EXEC_MITRE,
					     "    match:\n"
					     "      exec:\n"
					     "        exe: {basename: [modprobe]}\n"
					     "        parent: {kthread: true}\n"));
	struct t_op op = { .kind = VG_RK_EXEC,
			   .self = { .exe = "/usr/bin/sh", .argv = "sh" },
			   .parent = { .exe = "/usr/bin/python3", .argv = "python3\tapp.py" },
			   .grand = { .exe = "/usr/sbin/nginx", .argv = "nginx" } };

	assert_true(matches(r, "p", &op));
	op.parent.argv = "python3\tother.py";
	assert_false(matches(r, "p", &op));
	/* nginx is the grandparent: beyond max_depth 1 */
	assert_false(matches(r, "anc", &op));
	assert_true(matches(r, "anc2", &op));
	op.parent = (struct t_proc){ .exe = "/usr/sbin/nginx" };
	op.grand = (struct t_proc){};
	assert_true(matches(r, "anc", &op));
	/* no ancestry known: parent/ancestor conditions cannot hold */
	op.parent = (struct t_proc){};
	assert_false(matches(r, "anc2", &op));

	op.self.exe = "/usr/bin/kmod";
	op.self.argv = "/sbin/modprobe\t-q\t--\tbinfmt-464c";
	op.self.exe = "/usr/sbin/modprobe";
	op.parent = (struct t_proc){ .exe = "", .flags = VG_PF_KTHREAD };
	assert_true(matches(r, "kt", &op));
	op.parent = (struct t_proc){ .exe = "/usr/bin/bash" };
	assert_false(matches(r, "kt", &op));
	vg_rules_free(r);
}

static void test_uid_container(void **state)
{
	struct vg_rules *r = load(
		"rules:\n" RULE("root", EXEC_MITRE, "    match: {exec: {exe: {basename: [x]}, uid: 0}}\n")
			RULE("user", EXEC_MITRE,
			     "    match: {exec: {exe: {basename: [x]}, uid: {not: 0}}}\n")
				RULE("list", EXEC_MITRE,
				     "    match: {exec: {exe: {basename: [x]}, uid: [1000, 1001]}}\n")
					RULE("host", EXEC_MITRE,
					     "    match: {exec: {exe: {basename: [x]}}}\n"
					     "    except: {container: true}\n"));
	struct t_op op = { .kind = VG_RK_EXEC, .self = { .exe = "/bin/x" } };

	assert_true(matches(r, "root", &op));
	assert_false(matches(r, "user", &op));
	assert_false(matches(r, "list", &op));
	op.nonroot = true; /* euid 1000 */
	assert_false(matches(r, "root", &op));
	assert_true(matches(r, "user", &op));
	assert_true(matches(r, "list", &op));
	assert_true(matches(r, "host", &op));
	op.container = "0123456789ab";
	assert_false(matches(r, "host", &op));
	vg_rules_free(r);
}

/* except: keys of one entry are ANDed, entries are ORed */
static void test_except_semantics(void **state)
{
	struct vg_rules *r = load(
		"rules:\n" RULE("x", "tactic: TA0006, technique: T1003.008",
				"    match: {file: {path: [/etc/shadow], actions: [read]}}\n"
				"    except:\n"
				"      - exe: {basename: [sshd]}\n"
				"      - exe: {basename: [tar]}\n"
				"        ancestor: {basename: [borg]}\n"
				"      - argv: {regex: ['--allowed( |$)']}\n"
				"      - path: {glob: ['/etc/shadow']}\n"
				"        uid: 1000\n"));
	struct t_op op = { .kind = VG_RK_FILE,
			   .self = { .exe = "/usr/bin/tar", .argv = "tar\tczf\tx.tgz\t/etc" },
			   .parent = { .exe = "/usr/bin/bash" },
			   .path = "/etc/shadow",
			   .actions = VG_FA_READ };

	assert_true(matches(r, "x", &op));
	op.self.exe = "/usr/sbin/sshd";
	assert_false(matches(r, "x", &op)); /* entry 1 */
	op.self.exe = "/usr/bin/tar";
	op.parent.exe = "/usr/bin/borg";
	assert_false(matches(r, "x", &op)); /* entry 2: tar AND borg */
	op.self.exe = "/usr/bin/cat";
	assert_true(matches(r, "x", &op)); /* borg alone is not enough */
	op.self.argv = "cat\t--allowed";
	assert_false(matches(r, "x", &op)); /* entry 3 */
	op.self.argv = "cat";
	op.nonroot = true;
	assert_false(matches(r, "x", &op)); /* entry 4: path AND uid */
	vg_rules_free(r);
}

/* ---- file ---- */

static void test_file_details(void **state)
{
	char dir[] = "/tmp/vigil-match-XXXXXX", f[64];
	struct vg_rules *r = load(
		"rules:\n" RULE("w", "tactic: TA0003, technique: T1053.003",
				"    match: {file: {path: {prefix: [/etc/cron.d/], suffix: [.sh]}, "
				"actions: [write, create]}}\n")
			RULE("suid", "tactic: TA0004, technique: T1548.001",
			     "    match: {file: {path: {prefix: [/]}, actions: [setid], "
			     "mode: [setuid], type: [file]}}\n")
				RULE("fail", "tactic: TA0006, technique: T1003.008",
				     "    match: {file: {path: [/etc/shadow], actions: [read], "
				     "include_failed: true}}\n")
					RULE("self", "tactic: TA0005, technique: T1070.004",
					     "    match: {file: {path: {prefix: [/tmp/]}, actions: "
					     "[unlink], own_exe: true}}\n")
						RULE("only", "tactic: TA0005, technique: T1070.004",
						     "    match: {file: {path: [/x], actions: [read], "
						     "exe: {path: [/usr/bin/cat]}}}\n"));
	struct t_op op = { .kind = VG_RK_FILE, .self = { .exe = "/usr/bin/tee" },
			   .path = "/etc/cron.d/job", .actions = VG_FA_WRITE };

	assert_true(matches(r, "w", &op));
	op.path = "/var/tmp/job.sh"; /* suffix */
	assert_true(matches(r, "w", &op));
	op.actions = VG_FA_READ;
	assert_false(matches(r, "w", &op));
	op.actions = VG_FA_WRITE | VG_FA_FAILED; /* failed operations: not by default */
	assert_false(matches(r, "w", &op));

	op = (struct t_op){ .kind = VG_RK_FILE, .self = { .exe = "/usr/bin/cat" },
			    .path = "/etc/shadow", .actions = VG_FA_READ | VG_FA_FAILED };
	assert_true(matches(r, "fail", &op));
	assert_true(matches(r, "only", &(struct t_op){ .kind = VG_RK_FILE,
						      .self = { .exe = "/usr/bin/cat" },
						      .path = "/x", .actions = VG_FA_READ }));
	assert_false(matches(r, "only", &(struct t_op){ .kind = VG_RK_FILE,
						       .self = { .exe = "/usr/bin/less" },
						       .path = "/x", .actions = VG_FA_READ }));

	/* setuid on a file; on a directory it is not matched; a gone object passes */
	assert_non_null(mkdtemp(dir));
	snprintf(f, sizeof(f), "%s/f", dir);
	close(creat(f, 0755));
	op = (struct t_op){ .kind = VG_RK_FILE, .self = { .exe = "/usr/bin/chmod" }, .path = f,
			    .actions = VG_FA_SETID | VG_FA_CHMOD, .mode = 04755 };
	assert_true(matches(r, "suid", &op));
	op.mode = 02755;
	assert_false(matches(r, "suid", &op)); /* setgid only: the rule asks for setuid */
	op.mode = 04755;
	op.path = dir;
	assert_false(matches(r, "suid", &op));
	op.path = "/nonexistent/x";
	assert_true(matches(r, "suid", &op));
	unlink(f);
	rmdir(dir);

	/* own executable */
	op = (struct t_op){ .kind = VG_RK_FILE, .self = { .exe = "/tmp/dropper" },
			    .path = "/tmp/dropper", .actions = VG_FA_UNLINK };
	assert_true(matches(r, "self", &op));
	op.self.exe = "/tmp/dropper (deleted)";
	assert_true(matches(r, "self", &op));
	op.path = "/tmp/other";
	assert_false(matches(r, "self", &op));
	vg_rules_free(r);
}

static void test_env(void **state)
{
	struct vg_rules *r = load(
		"rules:\n" RULE("pre", "tactic: TA0005, technique: T1574.006",
				"    match: {file: {path: {prefix: [/tmp/]}, actions: [mmap_exec], "
				"env_present: [LD_PRELOAD]}}\n"
				"    except: {env_present: [VIGIL_TEST_OK]}\n"));
	struct t_op op = { .kind = VG_RK_FILE, .self = { .exe = "/usr/bin/ls" },
			   .path = "/tmp/x.so", .actions = VG_FA_MMAP_EXEC,
			   .env = "HOME=/root\tLD_PRELOAD=/tmp/x.so" };

	assert_true(matches(r, "pre", &op));
	op.env = "HOME=/root\tLD_PRELOAD_X=1";
	assert_false(matches(r, "pre", &op));
	op.env = "LD_PRELOAD=/tmp/x.so\tVIGIL_TEST_OK=1";
	assert_false(matches(r, "pre", &op));
	vg_rules_free(r);
}

/* ---- the process an operation names ---- */

static pid_t spawn_sleeper(void)
{
	pid_t p = fork();

	if (p == 0) {
		pause();
		_exit(0);
	}
	return p;
}

static void reap(pid_t p)
{
	kill(p, SIGKILL);
	waitpid(p, NULL, 0);
}

static void test_target_relation(void **state)
{
	struct vg_rules *r = load(
		"rules:\n" RULE("mem", "tactic: TA0006, technique: T1003.007",
				"    match: {file: {path: {glob: ['/proc/*/mem']}, actions: [read], "
				"target: [other]}}\n")
			RULE("pt", "tactic: TA0005, technique: T1055.008",
			     "    match: {syscall: {name: [ptrace], request: [PTRACE_POKEDATA], "
			     "target: [other]}}\n")
				RULE("kids", "tactic: TA0005, technique: T1055.008",
				     "    match: {syscall: {name: [ptrace], target: [child, "
				     "descendant]}}\n"));
	pid_t kid = spawn_sleeper();
	char path[64];
	struct t_op op = { .kind = VG_RK_FILE, .self = { .exe = "/usr/bin/python3" },
			   .actions = VG_FA_READ };
	struct vg_proc trec = { .key = { .tgid = 4242 } };

	op.path = "/proc/1/mem";
	assert_true(matches(r, "mem", &op)); /* pid 1 is nobody's child here */
	snprintf(path, sizeof(path), "/proc/%d/mem", kid);
	op.path = path;
	assert_false(matches(r, "mem", &op)); /* our own child */
	snprintf(path, sizeof(path), "/proc/%d/mem", getpid());
	assert_false(matches(r, "mem", &op)); /* ourselves */
	op.path = "/proc/self/maps";
	assert_false(matches(r, "mem", &op));

	/* syscalls: the target from the pipeline's record, else from the arguments */
	op = (struct t_op){ .kind = VG_RK_SYSCALL, .self = { .exe = "/usr/bin/gdb" }, .nr = 101,
			    .args = { 5 /* POKEDATA */, 1 } };
	assert_true(matches(r, "pt", &op));
	op.args[1] = kid;
	assert_false(matches(r, "pt", &op));
	assert_true(matches(r, "kids", &op));
	trec.ppid = getpid();
	op.target = &trec;
	op.args[1] = 1; /* the record wins over the argument */
	assert_false(matches(r, "pt", &op));
	trec.ppid = 77;
	assert_true(matches(r, "pt", &op));
	op.target = NULL;
	op.args[0] = 16; /* PTRACE_ATTACH: not in the rule's requests */
	op.args[1] = 1;
	assert_false(matches(r, "pt", &op));
	reap(kid);
	vg_rules_free(r);
}

static void test_syscall_args(void **state)
{
	struct vg_rules *r = load(
		"rules:\n" RULE("s", "tactic: TA0007, technique: T1040",
				"    match:\n"
				"      syscall:\n"
				"        name: [socket, socketpair]\n"
				"        args:\n"
				"          - {arg: 0, in: [17, 0x11]}\n"
				"          - {arg: 1, not_in: [2]}\n"
				"          - {arg: 2, mask: [0xff00]}\n"));
	struct t_op op = { .kind = VG_RK_SYSCALL, .self = { .exe = "/tmp/x" }, .nr = 41,
			   .args = { 17, 3, 0x0300 } };

	assert_true(matches(r, "s", &op));
	op.nr = 42;
	assert_false(matches(r, "s", &op));
	op.nr = 53;
	assert_true(matches(r, "s", &op));
	op.args[0] = 2;
	assert_false(matches(r, "s", &op));
	op.args[0] = 17;
	op.args[1] = 2;
	assert_false(matches(r, "s", &op));
	op.args[1] = 3;
	op.args[2] = 0x3;
	assert_false(matches(r, "s", &op));
	vg_rules_free(r);
}

/* stdio_socket: confirmed in user space only for TCP/UDP, not a unix socket */
static pid_t spawn_with_stdin(int fd)
{
	pid_t p = fork();

	if (p == 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		pause();
		_exit(0);
	}
	return p;
}

static void test_stdio_socket(void **state)
{
	struct vg_rules *r = load("rules:\n" RULE("rs", EXEC_MITRE,
						  "    match: {exec: {exe: {basename: [bash]}, "
						  "conditions: [stdio_socket]}}\n"));
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof(a);
	int l = socket(AF_INET, SOCK_STREAM, 0), c = socket(AF_INET, SOCK_STREAM, 0), sp[2];
	struct t_op op = { .kind = VG_RK_EXEC, .self = { .exe = "/usr/bin/bash", .argv = "bash\t-i" } };
	pid_t inet, unix_;

	assert_int_equal(bind(l, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(l, 1), 0);
	assert_int_equal(getsockname(l, (struct sockaddr *)&a, &al), 0);
	assert_int_equal(connect(c, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
	inet = spawn_with_stdin(c);
	unix_ = spawn_with_stdin(sp[0]);
	usleep(50000);

	op.self_pid = inet;
	assert_true(matches(r, "rs", &op));
	op.self_pid = unix_; /* journald's stream of every systemd service */
	assert_false(matches(r, "rs", &op));
	reap(inet);
	op.self_pid = inet; /* gone: can't be confirmed */
	assert_false(matches(r, "rs", &op));
	reap(unix_);
	close(l);
	close(c);
	close(sp[0]);
	close(sp[1]);
	vg_rules_free(r);
}

/* Exec conditions: trusted from the kernel unless the alert says which held;
 * memfd is also re-checked from the record and the path. */
static void test_exec_conditions(void **state)
{
	struct vg_rules *r = load(
		"rules:\n" RULE("root", EXEC_MITRE, "    match: {exec: {conditions: [gained_root]}}\n")
			RULE("mem", EXEC_MITRE, "    match: {exec: {conditions: [memfd]}}\n"));
	struct t_op op = { .kind = VG_RK_EXEC, .self = { .exe = "/tmp/x" } };

	assert_true(matches(r, "root", &op)); /* a kernel candidate, no detail */
	op.conds_known = true;
	assert_false(matches(r, "root", &op));
	op.conds = 1 << VG_XC_GAINED_ROOT;
	assert_true(matches(r, "root", &op));

	op = (struct t_op){ .kind = VG_RK_EXEC, .self = { .exe = "/usr/bin/ls" } };
	assert_false(matches(r, "mem", &op)); /* a file on disk is not fileless */
	op.self.exe = "/memfd:payload (deleted)";
	assert_true(matches(r, "mem", &op));
	op.self = (struct t_proc){ .exe = "/tmp/gone", .flags = VG_PF_EXE_DELETED };
	assert_true(matches(r, "mem", &op));
	op.conds_known = true; /* the kernel said it was not */
	assert_false(matches(r, "mem", &op));
	vg_rules_free(r);
}

/* ---- rate limits ---- */

static bool rate(struct vg_rules *r, const char *id, struct t_op *op, uint64_t now,
		 uint64_t *suppressed)
{
	struct t_match t;
	struct vg_match *m = t_match_build(&t, op);
	bool ok;

	m->now_ns = now;
	ok = vg_rule_rate_check(vg_rules_find(r, id), m, suppressed);
	t_match_free(&t);
	return ok;
}

#define SEC 1000000000ULL

static void test_rate_default(void **state)
{
	struct vg_rules *r = load("rules:\n" RULE("d", EXEC_MITRE,
						  "    match: {exec: {exe: {basename: [x]}}}\n"));
	struct t_op a = { .kind = VG_RK_EXEC, .self = { .exe = "/bin/x" }, .self_pid = 100 };
	struct t_op b = a;
	uint64_t sup = 99;

	b.self_pid = 101;
	/* 1 per process per 60 s */
	assert_true(rate(r, "d", &a, 10 * SEC, &sup));
	assert_int_equal(sup, 0);
	assert_false(rate(r, "d", &a, 11 * SEC, NULL));
	assert_false(rate(r, "d", &a, 69 * SEC, NULL));
	assert_true(rate(r, "d", &b, 12 * SEC, NULL)); /* another process */
	assert_true(rate(r, "d", &a, 70 * SEC, &sup)); /* next window, with the count */
	assert_int_equal(sup, 2);
	assert_int_equal(vg_rule_suppressed(vg_rules_find(r, "d")), 2);
	vg_rules_free(r);
}

static void test_rate_per(void **state)
{
	struct vg_rules *r = load(
		"rules:\n" RULE("exe", EXEC_MITRE,
				"    match: {exec: {exe: {basename: [x]}}}\n"
				"    rate_limit: {per: exe, count: 2, window: 10s}\n")
			RULE("rule", EXEC_MITRE,
			     "    match: {exec: {exe: {basename: [x]}}}\n"
			     "    rate_limit: {per: rule, count: 1, window: 1m}\n")
				RULE("anc", EXEC_MITRE,
				     "    match: {exec: {exe: {basename: [x]}}}\n"
				     "    rate_limit: {per: ancestry, count: 1, window: 1m}\n")
					RULE("off", EXEC_MITRE,
					     "    match: {exec: {exe: {basename: [x]}}}\n"
					     "    rate_limit: false\n"));
	struct t_op a = { .kind = VG_RK_EXEC, .self = { .exe = "/bin/x" }, .self_pid = 100,
			  .parent = { .exe = "/bin/bash" } };
	struct t_op b = a;

	b.self_pid = 200;
	assert_true(rate(r, "exe", &a, SEC, NULL));
	assert_true(rate(r, "exe", &b, SEC, NULL));  /* same exe, count 2 */
	assert_false(rate(r, "exe", &a, SEC, NULL));
	b.self.exe = "/opt/x";
	assert_true(rate(r, "exe", &b, SEC, NULL));  /* another exe */
	assert_true(rate(r, "exe", &a, 12 * SEC, NULL)); /* window over */

	assert_true(rate(r, "rule", &a, SEC, NULL));
	assert_false(rate(r, "rule", &b, SEC, NULL)); /* anyone: one per rule */

	b = a;
	b.self_pid = 300;
	assert_true(rate(r, "anc", &a, SEC, NULL));
	assert_false(rate(r, "anc", &b, SEC, NULL)); /* same chain of executables */
	b.parent.exe = "/usr/sbin/cron";
	assert_true(rate(r, "anc", &b, SEC, NULL));

	for (int i = 0; i < 100; i++)
		assert_true(rate(r, "off", &a, SEC, NULL));
	vg_rules_free(r);
}

/* A child that waits, its stdin ours or the read end of pipe p (ready: its stdin is set). */
static pid_t waiting_child(const int *p)
{
	int ready[2];
	pid_t c;
	char b;

	assert_int_equal(pipe(ready), 0);
	c = fork();
	assert_true(c >= 0);
	if (c == 0) {
		if (p)
			dup2(p[0], 0);
		(void)!write(ready[1], "x", 1);
		pause();
		_exit(0);
	}
	close(ready[1]);
	assert_int_equal(read(ready[0], &b, 1), 1);
	close(ready[0]);
	return c;
}

/* per: stdin — the processes sharing one standard input (a reverse shell's session: the
 * commands it runs inherit its socket) are one key; another stdin, another key; a process
 * gone counts alone. Real processes: the key is read from /proc/PID/fd/0. */
static void test_rate_per_stdin(void **state)
{
	struct vg_rules *r = load("rules:\n" RULE("in", EXEC_MITRE,
						  "    match: {exec: {exe: {basename: [x]}}}\n"
						  "    rate_limit: {per: stdin, count: 1, window: 1m}\n"));
	struct t_op a = { .kind = VG_RK_EXEC, .self = { .exe = "/bin/x" } };
	struct t_op b = a, c = a, gone = a;
	int p[2];
	pid_t same, other;

	assert_int_equal(pipe(p), 0);
	same = waiting_child(NULL);
	other = waiting_child(p);
	b.self_pid = same;
	c.self_pid = other;
	gone.self_pid = 0x7ffffff0; /* no such process */
	assert_true(rate(r, "in", &a, SEC, NULL));
	assert_false(rate(r, "in", &b, SEC, NULL)); /* our stdin: the same session */
	assert_true(rate(r, "in", &c, SEC, NULL));  /* a pipe: another */
	assert_false(rate(r, "in", &c, 2 * SEC, NULL));
	assert_true(rate(r, "in", &gone, SEC, NULL));
	assert_false(rate(r, "in", &gone, 2 * SEC, NULL));
	kill(same, SIGKILL);
	kill(other, SIGKILL);
	waitpid(same, NULL, 0);
	waitpid(other, NULL, 0);
	close(p[0]);
	close(p[1]);
	vg_rules_free(r);
}

static void test_threshold(void **state)
{
	struct vg_rules *r = load("rules:\n" RULE("burst", "tactic: TA0007, technique: T1082",
						  "    match: {file: {path: {prefix: [/proc/]}, "
						  "actions: [read]}}\n"
						  "    threshold: {count: 3, window: 10s}\n"));
	struct t_op op = { .kind = VG_RK_FILE, .self = { .exe = "/tmp/x" }, .self_pid = 100,
			   .path = "/proc/cpuinfo", .actions = VG_FA_READ };

	assert_false(rate(r, "burst", &op, 1 * SEC, NULL));
	assert_false(rate(r, "burst", &op, 2 * SEC, NULL));
	assert_true(rate(r, "burst", &op, 3 * SEC, NULL));  /* third within 10 s */
	assert_false(rate(r, "burst", &op, 4 * SEC, NULL)); /* then the rate limit */
	/* a slow trickle never reaches the threshold */
	op.self_pid = 101;
	assert_false(rate(r, "burst", &op, 1 * SEC, NULL));
	assert_false(rate(r, "burst", &op, 12 * SEC, NULL));
	assert_false(rate(r, "burst", &op, 24 * SEC, NULL));
	vg_rules_free(r);
}

/* Bounded memory: a million keys fit in the fixed table; evictions are counted. */
static void test_rate_bounded(void **state)
{
	struct vg_rules *r = load("rules:\n" RULE("b", EXEC_MITRE,
						  "    match: {exec: {exe: {basename: [x]}}}\n"));
	struct t_op op = { .kind = VG_RK_EXEC, .self = { .exe = "/bin/x" } };

	for (uint32_t pid = 1; pid <= 100000; pid++) {
		op.self_pid = pid;
		assert_true(rate(r, "b", &op, SEC, NULL));
	}
	assert_true(r->rate_evictions > 0);
	assert_true(r->rate_evictions <= 100000);
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
		cmocka_unit_test(test_glob),
		cmocka_unit_test(test_glob_split),
		cmocka_unit_test_teardown(test_exe_selectors, teardown),
		cmocka_unit_test_teardown(test_argv, teardown),
		cmocka_unit_test_teardown(test_parent_ancestor, teardown),
		cmocka_unit_test_teardown(test_uid_container, teardown),
		cmocka_unit_test_teardown(test_except_semantics, teardown),
		cmocka_unit_test_teardown(test_file_details, teardown),
		cmocka_unit_test_teardown(test_env, teardown),
		cmocka_unit_test_teardown(test_target_relation, teardown),
		cmocka_unit_test_teardown(test_syscall_args, teardown),
		cmocka_unit_test_teardown(test_stdio_socket, teardown),
		cmocka_unit_test_teardown(test_exec_conditions, teardown),
		cmocka_unit_test_teardown(test_rate_default, teardown),
		cmocka_unit_test_teardown(test_rate_per, teardown),
		cmocka_unit_test_teardown(test_rate_per_stdin, teardown),
		cmocka_unit_test_teardown(test_threshold, teardown),
		cmocka_unit_test_teardown(test_rate_bounded, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
