// SPDX-License-Identifier: GPL-2.0
/*
 * The pure parts of src/sensor/probe.c: tier selection from probe results,
 * finding the cgroup2 mount in mountinfo text, names, and the JSON / table
 * shapes. The probes themselves need root and a kernel: tests/integration.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <cmocka.h>

#include "sensor/probe.h"

static void set(struct vg_probe *p, enum vg_feat f, bool ok, const char *detail)
{
	p->f[f].ok = ok;
	snprintf(p->f[f].detail, sizeof(p->f[f].detail), "%s", detail);
}

/* What this development machine shows: tracepoints yes, BPF-LSM refused. */
static void machine_like_this(struct vg_probe *p)
{
	int i;

	memset(p, 0, sizeof(*p));
	for (i = 0; i < VG_FEAT_MAX; i++)
		set(p, i, true, "ok");
	set(p, VG_FEAT_FENTRY, false, "load: Operation not permitted (EPERM)");
	set(p, VG_FEAT_KPROBE, false, "no kprobe PMU");
	set(p, VG_FEAT_LSM, false, "load: Operation not permitted (EPERM)");
}

static void test_tier_lsm_when_lsm_works(void **state)
{
	struct vg_probe p;

	machine_like_this(&p);
	set(&p, VG_FEAT_LSM, true, "file_open attached and detached");
	vg_probe_pick_tier(&p);
	assert_int_equal(p.tier, VG_TIER_LSM);
	assert_string_equal(vg_tier_name(p.tier), "lsm");
}

static void test_tier_signal_names_the_lsm_failure(void **state)
{
	struct vg_probe p;

	machine_like_this(&p);
	vg_probe_pick_tier(&p);
	assert_int_equal(p.tier, VG_TIER_SIGNAL);
	assert_string_equal(p.tier_reason,
			    "BPF-LSM unavailable (load: EPERM); tracepoints + bpf_send_signal");
}

static void test_tier_signal_when_bpf_lsm_not_active(void **state)
{
	struct vg_probe p;

	machine_like_this(&p);
	set(&p, VG_FEAT_LSM_LISTED, false,
	    "not in /sys/kernel/security/lsm: lockdown,capability,apparmor");
	set(&p, VG_FEAT_LSM, false,
	    "file_open attaches, but \"bpf\" is not an active LSM");
	vg_probe_pick_tier(&p);
	assert_int_equal(p.tier, VG_TIER_SIGNAL);
	assert_non_null(strstr(p.tier_reason, "\"bpf\" not an active LSM"));
}

static void test_tier_observe_without_send_signal(void **state)
{
	struct vg_probe p;

	machine_like_this(&p);
	set(&p, VG_FEAT_SEND_SIGNAL, false, "load: Invalid argument (EINVAL): unknown func");
	vg_probe_pick_tier(&p);
	assert_int_equal(p.tier, VG_TIER_OBSERVE);
	assert_non_null(strstr(p.tier_reason, "no bpf_send_signal (load: EINVAL)"));
}

static void test_tier_observe_without_tp_btf(void **state)
{
	struct vg_probe p;

	machine_like_this(&p);
	set(&p, VG_FEAT_TP_BTF, false, "needs vmlinux BTF");
	vg_probe_pick_tier(&p);
	assert_int_equal(p.tier, VG_TIER_OBSERVE);
	assert_non_null(strstr(p.tier_reason, "no tp_btf (needs vmlinux BTF)"));
}

static int mountinfo(const char *text, char *buf, size_t len)
{
	FILE *fp = fmemopen((void *)text, strlen(text), "r");
	int err;

	assert_non_null(fp);
	err = vg_cgroup2_from_mountinfo(fp, buf, len);
	fclose(fp);
	return err;
}

static void test_cgroup2_hybrid(void **state)
{
	const char *text =
		"31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
		"32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
		"41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";
	char path[256];

	assert_int_equal(mountinfo(text, path, sizeof(path)), 0);
	assert_string_equal(path, "/sys/fs/cgroup/unified");
}

static void test_cgroup2_unified_with_optional_fields(void **state)
{
	const char *text =
		"25 30 0:23 / /sys rw,nosuid shared:7 - sysfs sysfs rw\n"
		"28 25 0:26 / /sys/fs/cgroup rw,nosuid,nodev shared:9 master:1 - cgroup2 cgroup2 rw,nsdelegate\n";
	char path[256];

	assert_int_equal(mountinfo(text, path, sizeof(path)), 0);
	assert_string_equal(path, "/sys/fs/cgroup");
}

static void test_cgroup2_escaped_path(void **state)
{
	const char *text = "50 1 0:40 / /mnt/cg\\0402 rw - cgroup2 none rw\n";
	char path[256];

	assert_int_equal(mountinfo(text, path, sizeof(path)), 0);
	assert_string_equal(path, "/mnt/cg 2");
}

static void test_cgroup2_absent(void **state)
{
	const char *text =
		"32 31 0:29 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu\n"
		"33 31 0:30 / /cgroup2-lookalike rw - tmpfs cgroup2 rw\n";
	char path[256];

	assert_int_equal(mountinfo(text, path, sizeof(path)), -ENOENT);
}

static void test_cgroup2_too_long(void **state)
{
	const char *text = "41 31 0:38 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n";
	char path[8];

	assert_int_equal(mountinfo(text, path, sizeof(path)), -ENAMETOOLONG);
}

static void test_names_are_stable_and_unique(void **state)
{
	int i, j;

	assert_string_equal(vg_feat_name(VG_FEAT_TP_BTF), "tp_btf");
	assert_string_equal(vg_feat_name(VG_FEAT_ITER_TASK_SLEEP), "iter_task_sleepable");
	assert_string_equal(vg_feat_name(VG_FEAT_MAX), "unknown");
	for (i = 0; i < VG_FEAT_MAX; i++) {
		assert_non_null(vg_feat_name(i));
		for (j = 0; j < i; j++)
			assert_string_not_equal(vg_feat_name(i), vg_feat_name(j));
	}
	assert_string_equal(vg_tier_name(VG_TIER_SIGNAL), "signal");
	assert_string_equal(vg_tier_name(VG_TIER_OBSERVE), "observe");
}

static void test_has_checks_bounds(void **state)
{
	struct vg_probe p;

	machine_like_this(&p);
	assert_true(vg_probe_has(&p, VG_FEAT_TP_BTF));
	assert_false(vg_probe_has(&p, VG_FEAT_LSM));
	assert_false(vg_probe_has(&p, VG_FEAT_MAX));
	assert_false(vg_probe_has(NULL, VG_FEAT_TP_BTF));
}

static void test_json_shape(void **state)
{
	struct json_object *o, *v, *feats, *f;
	struct vg_probe p;

	machine_like_this(&p);
	snprintf(p.kernel, sizeof(p.kernel), "6.18.0-test");
	vg_probe_pick_tier(&p);
	o = vg_probe_json(&p);
	assert_non_null(o);
	assert_true(json_object_object_get_ex(o, "kernel", &v));
	assert_string_equal(json_object_get_string(v), "6.18.0-test");
	assert_true(json_object_object_get_ex(o, "cgroup2", &v));
	assert_null(v); /* no cgroup2 path: JSON null */
	assert_true(json_object_object_get_ex(o, "tier", &v));
	assert_string_equal(json_object_get_string(v), "signal");
	assert_true(json_object_object_get_ex(o, "features", &feats));
	assert_int_equal(json_object_object_length(feats), VG_FEAT_MAX);
	assert_true(json_object_object_get_ex(feats, "lsm", &f));
	assert_true(json_object_object_get_ex(f, "ok", &v));
	assert_false(json_object_get_boolean(v));
	assert_true(json_object_object_get_ex(f, "detail", &v));
	assert_string_equal(json_object_get_string(v),
			    "load: Operation not permitted (EPERM)");
	json_object_put(o);

	snprintf(p.cgroup2_path, sizeof(p.cgroup2_path), "/sys/fs/cgroup");
	o = vg_probe_json(&p);
	assert_true(json_object_object_get_ex(o, "cgroup2", &v));
	assert_string_equal(json_object_get_string(v), "/sys/fs/cgroup");
	json_object_put(o);
}

static void test_print_table(void **state)
{
	struct vg_probe p;
	char *text = NULL;
	size_t len = 0;
	FILE *out;

	machine_like_this(&p);
	snprintf(p.kernel, sizeof(p.kernel), "6.18.0-test");
	snprintf(p.cgroup2_path, sizeof(p.cgroup2_path), "/sys/fs/cgroup/unified");
	vg_probe_pick_tier(&p);
	out = open_memstream(&text, &len);
	assert_non_null(out);
	vg_probe_print(&p, out);
	fclose(out);
	assert_non_null(strstr(text, "\nfentry                 no   load: Operation not permitted (EPERM)\n"));
	assert_non_null(strstr(text, "\ntp_btf                 yes  ok\n"));
	assert_non_null(strstr(text, "\nkernel: 6.18.0-test\n"));
	assert_non_null(strstr(text, "\ncgroup v2: /sys/fs/cgroup/unified\n"));
	assert_non_null(strstr(text, "\nenforcement tier: signal — BPF-LSM unavailable"));
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tier_lsm_when_lsm_works),
		cmocka_unit_test(test_tier_signal_names_the_lsm_failure),
		cmocka_unit_test(test_tier_signal_when_bpf_lsm_not_active),
		cmocka_unit_test(test_tier_observe_without_send_signal),
		cmocka_unit_test(test_tier_observe_without_tp_btf),
		cmocka_unit_test(test_cgroup2_hybrid),
		cmocka_unit_test(test_cgroup2_unified_with_optional_fields),
		cmocka_unit_test(test_cgroup2_escaped_path),
		cmocka_unit_test(test_cgroup2_absent),
		cmocka_unit_test(test_cgroup2_too_long),
		cmocka_unit_test(test_names_are_stable_and_unique),
		cmocka_unit_test(test_has_checks_bounds),
		cmocka_unit_test(test_json_shape),
		cmocka_unit_test(test_print_table),
	};

	return cmocka_run_group_tests_name("probe", tests, NULL, NULL);
}
