// SPDX-License-Identifier: GPL-2.0
/*
 * The pure parts of detection: container ids from cgroup paths, JSON string
 * escaping (bytes that aren't UTF-8), finding ids, syscall names.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "detect/detect.h"
#include "util/timefmt.h"

#define ID64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void expect_container(const char *cg, const char *rt, const char *pod)
{
	struct vg_container c;

	if (!vg_container_from_cgroup(cg, &c))
		fail_msg("%s: no container found, want runtime %s", cg, rt);
	if (strcmp(c.id, ID64) || strcmp(c.runtime, rt) || strcmp(c.pod_uid, pod))
		fail_msg("%s: got id %s runtime %s pod '%s'; want runtime %s pod '%s'", cg, c.id,
			 c.runtime, c.pod_uid, rt, pod);
}

static void expect_host(const char *cg)
{
	struct vg_container c;

	if (vg_container_from_cgroup(cg, &c))
		fail_msg("%s: got container %s (%s), want none", cg ? cg : "(null)", c.id, c.runtime);
}

static void test_container_runtimes(void **state)
{
	expect_container("/system.slice/docker-" ID64 ".scope", "docker", "");
	expect_container("/docker/" ID64, "docker", "");
	expect_container("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod"
			 "1f2e3d4c_5b6a_4789_9abc_def012345678.slice/cri-containerd-" ID64 ".scope",
			 "containerd", "1f2e3d4c-5b6a-4789-9abc-def012345678");
	expect_container("/kubepods/besteffort/pod1f2e3d4c-5b6a-4789-9abc-def012345678/" ID64,
			 "kubernetes", "1f2e3d4c-5b6a-4789-9abc-def012345678");
	expect_container("/kubepods.slice/kubepods-pod1f2e3d4c_5b6a_4789_9abc_def012345678.slice/"
			 "crio-" ID64 ".scope", "cri-o", "1f2e3d4c-5b6a-4789-9abc-def012345678");
	expect_container("/machine.slice/libpod-" ID64 ".scope", "podman", "");
	expect_container("/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" ID64
			 ".scope/container", "podman", "");
	expect_container("/libpod_parent/libpod-" ID64, "podman", "");
	/* docker in docker: the innermost wins */
	expect_container("/docker/fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"
			 "/docker/" ID64, "docker", "");
}

static void test_container_host(void **state)
{
	expect_host("/");
	expect_host("");
	expect_host(NULL);
	expect_host("/system.slice/ssh.service");
	expect_host("/user.slice/user-0.slice/session-3.scope");
	expect_host("/machine.slice/libpod-conmon-" ID64 ".scope"); /* the runtime's monitor */
	expect_host("/system.slice/docker-" ID64 "0.scope");          /* 65 hex: not an id */
	expect_host("/system.slice/docker-0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef.scope");
}

static void expect_json(const char *in, size_t n, const char *want)
{
	struct vg_sbuf b = {};

	vg_sbuf_json_str(&b, in, n);
	if (strcmp(b.p, want))
		fail_msg("json of %zu bytes: got %s want %s", n, b.p, want);
	vg_sbuf_free(&b);
}

static void test_json_strings(void **state)
{
	expect_json("/usr/bin/ls", 11, "\"/usr/bin/ls\"");
	expect_json("a\"b\\c", 5, "\"a\\\"b\\\\c\"");
	expect_json("a\nb\tc\x01", 6, "\"a\\nb\\tc\\u0001\"");
	expect_json("caf\xc3\xa9", 5, "\"caf\xc3\xa9\"");             /* valid UTF-8 kept */
	expect_json("\xe2\x86\x92", 3, "\"\xe2\x86\x92\"");
	expect_json("\xf0\x9f\x98\x80", 4, "\"\xf0\x9f\x98\x80\"");
	expect_json("a\xffz", 3, "\"a\\ufffdz\"");                   /* invalid byte */
	expect_json("\xc3", 1, "\"\\ufffd\"");                       /* cut sequence */
	expect_json("\xc0\xaf", 2, "\"\\ufffd\\ufffd\"");             /* overlong '/' */
	expect_json("\xed\xa0\x80", 3, "\"\\ufffd\\ufffd\\ufffd\"");  /* surrogate */
	expect_json(NULL, 0, "null");
}

static void test_utf8_passthrough(void **state)
{
	struct vg_sbuf b = {};

	const char *in = "{\"exe\":\"/tmp/\xfe\"}";

	vg_sbuf_put_utf8(&b, in, strlen(in));
	assert_string_equal(b.p, "{\"exe\":\"/tmp/\\ufffd\"}");
	vg_sbuf_free(&b);
}

static void test_time_and_numbers(void **state)
{
	static const uint64_t t[] = { 1795653908172194784ULL, 1795653908999999999ULL,
				      1795653909000000000ULL, 1795653909000000001ULL, 0,
				      1795653908172194785ULL };
	struct vg_sbuf b = {};
	char want[VG_RFC3339_LEN];

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		b.len = 0;
		vg_sbuf_time(&b, t[i]);
		assert_string_equal(b.p, vg_rfc3339(t[i], want, sizeof(want)));
	}
	b.len = 0;
	vg_sbuf_u64(&b, 0);
	vg_sbuf_put(&b, " ", 1);
	vg_sbuf_u64(&b, UINT64_MAX);
	assert_string_equal(b.p, "0 18446744073709551615");
	b.len = 0;
	vg_sbuf_printf(&b, "%0300d|", 7); /* longer than the first try */
	assert_int_equal(b.len, 301);
	assert_int_equal(b.p[299], '7');
	vg_sbuf_free(&b);
}

static void test_finding_id(void **state)
{
	struct vg_alert a = { .hdr = { .type = VG_MSG_ALERT, .time_ns = 123456789 },
			      .proc = { .tgid = 42, .start_ns = 1000 }, .kind = VG_RK_FILE };
	char x[33], y[33], z[33];

	a.file.path = 0x1234;
	a.file.actions = VG_FA_READ;
	vg_finding_id("cred-shadow-read", &a, x);
	vg_finding_id("cred-shadow-read", &a, y);
	assert_int_equal(strlen(x), 32);
	assert_string_equal(x, y); /* stable */
	vg_finding_id("cred-shadow-read2", &a, z);
	assert_string_not_equal(x, z); /* rule */
	a.file.path = 0x1235;
	vg_finding_id("cred-shadow-read", &a, z);
	assert_string_not_equal(x, z); /* object */
	a.file.path = 0x1234;
	a.hdr.time_ns++;
	vg_finding_id("cred-shadow-read", &a, z);
	assert_string_not_equal(x, z); /* time */
	a.hdr.time_ns--;
	a.proc.start_ns++;
	vg_finding_id("cred-shadow-read", &a, z);
	assert_string_not_equal(x, z); /* process (pid reuse) */
}

static void test_syscall_names(void **state)
{
	char buf[32];

	assert_string_equal(vg_detect_syscall_name(257, buf, sizeof(buf)), "openat");
	assert_string_equal(vg_detect_syscall_name(101, buf, sizeof(buf)), "ptrace");
	assert_string_equal(vg_detect_syscall_name(313, buf, sizeof(buf)), "finit_module");
	assert_string_equal(vg_detect_syscall_name(100000, buf, sizeof(buf)), "syscall_100000");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_container_runtimes),
		cmocka_unit_test(test_container_host),
		cmocka_unit_test(test_json_strings),
		cmocka_unit_test(test_utf8_passthrough),
		cmocka_unit_test(test_time_and_numbers),
		cmocka_unit_test(test_finding_id),
		cmocka_unit_test(test_syscall_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
