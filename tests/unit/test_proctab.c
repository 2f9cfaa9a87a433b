// SPDX-License-Identifier: GPL-2.0
/*
 * src/state/proctab: the indexed copy of the process table that queries walk.
 * Built here from records in memory (vg_proctab_from); reading the BPF map
 * (vg_proctab_load) is tests/integration's. A process is (tgid, start): the
 * scenarios are PID reuse, /proc start times at tick resolution, and odd
 * lineage a snapshot can leave.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "state/proctab.h"

#define MS 1000000ULL
#define SEC 1000000000ULL
#define SLACK (20 * MS) /* /proc start times: 10 ms ticks plus rounding */

static struct vg_proc proc(uint32_t tgid, uint64_t start, uint32_t ptgid, uint64_t pstart,
			   const char *comm)
{
	struct vg_proc p = {
		.key = { .tgid = tgid, .start_ns = start },
		.parent = { .tgid = ptgid, .start_ns = pstart },
		.ppid = ptgid,
	};

	snprintf(p.comm, sizeof(p.comm), "%s", comm);
	return p;
}

static const struct vg_proc *get(const struct vg_proctab *t, uint32_t tgid, uint64_t start)
{
	struct vg_proc_key k = { .tgid = tgid, .start_ns = start };

	return vg_proctab_get(t, &k);
}

/* A record is named by its comm in failures: "got sh, want bash" reads better than pointers. */
#define assert_proc(got, want_comm)                                                                \
	do {                                                                                       \
		const struct vg_proc *g_ = (got);                                                  \
		assert_string_equal(g_ ? g_->comm : "(null)", want_comm);                          \
	} while (0)

struct kids {
	const struct vg_proc *p[64];
	size_t n;
};

static void collect(const struct vg_proc *c, void *arg)
{
	struct kids *k = arg;

	assert_true(k->n < 64);
	k->p[k->n++] = c;
}

/* The children of p, as "comm comm comm" in the order given. */
static char *children_text(const struct vg_proctab *t, const struct vg_proc *p, size_t *ret)
{
	static char buf[1024];
	struct kids k = { .n = 0 };
	size_t off = 0;

	*ret = vg_proctab_children(t, p, collect, &k);
	buf[0] = 0;
	for (size_t i = 0; i < k.n; i++)
		off += snprintf(buf + off, sizeof(buf) - off, "%s%s", i ? " " : "", k.p[i]->comm);
	return buf;
}

#define assert_children(t, p, want_text, want_n)                                                   \
	do {                                                                                       \
		size_t n_;                                                                         \
		assert_string_equal(children_text(t, p, &n_), want_text);                          \
		assert_int_equal(n_, want_n);                                                      \
	} while (0)

/* Process 100 ran sh and exited; its pid was reused for bash, still alive. */
static void test_pid_reuse_get_by_exact_key(void **state)
{
	struct vg_proc recs[] = {
		proc(100, 1 * SEC, 1, 0, "sh"),
		proc(100, 50 * SEC, 1, 0, "bash"),
		proc(200, 10 * SEC, 1, 0, "other"),
	};
	struct vg_proctab t;

	recs[0].flags = VG_PF_EXITED;
	assert_int_equal(vg_proctab_from(&t, recs, 3), 0);
	assert_proc(get(&t, 100, 1 * SEC), "sh");
	assert_proc(get(&t, 100, 50 * SEC), "bash");
	assert_proc(get(&t, 200, 10 * SEC), "other");
	/* Exact means exact: no nearest start, no other pid. */
	assert_null(get(&t, 100, 50 * SEC + 1));
	assert_null(get(&t, 100, 50 * SEC - 1));
	assert_null(get(&t, 100, 10 * SEC));
	assert_null(get(&t, 101, 50 * SEC));
	vg_proctab_free(&t);
}

static void test_pid_reuse_by_pid_is_newest(void **state)
{
	/* Newest in every position of the input: order must not matter. */
	static const uint64_t starts[][3] = {
		{ 50, 1, 20 }, { 1, 50, 20 }, { 1, 20, 50 }, { 20, 1, 50 },
	};

	for (size_t i = 0; i < sizeof(starts) / sizeof(starts[0]); i++) {
		struct vg_proc recs[4];
		struct vg_proctab t;

		for (int j = 0; j < 3; j++)
			recs[j] = proc(100, starts[i][j] * SEC, 1, 0,
				       starts[i][j] == 50 ? "newest" : "older");
		recs[3] = proc(7, 99 * SEC, 1, 0, "unrelated");
		assert_int_equal(vg_proctab_from(&t, recs, 4), 0);
		assert_proc(vg_proctab_by_pid(&t, 100), "newest");
		vg_proctab_free(&t);
	}
}

static void test_by_pid_includes_exited_and_misses_unknown(void **state)
{
	struct vg_proc recs[] = {
		proc(100, 1 * SEC, 1, 0, "alive-old"),
		proc(100, 9 * SEC, 1, 0, "exited-new"),
	};
	struct vg_proctab t;

	recs[1].flags = VG_PF_EXITED;
	assert_int_equal(vg_proctab_from(&t, recs, 2), 0);
	assert_proc(vg_proctab_by_pid(&t, 100), "exited-new");
	assert_null(vg_proctab_by_pid(&t, 101));
	assert_null(vg_proctab_by_pid(&t, 0));
	vg_proctab_free(&t);
}

/* The table owns its records: the caller's array can go away. */
static void test_from_copies_records(void **state)
{
	struct vg_proc recs[] = { proc(100, 1 * SEC, 1, 0, "sh") };
	struct vg_proctab t;

	assert_int_equal(vg_proctab_from(&t, recs, 1), 0);
	memset(recs, 0, sizeof(recs));
	assert_proc(get(&t, 100, 1 * SEC), "sh");
	assert_proc(vg_proctab_by_pid(&t, 100), "sh");
	vg_proctab_free(&t);
}

static void test_empty_table(void **state)
{
	struct vg_proc orphan = proc(5, 1 * SEC, 1, 0, "x");
	struct vg_proctab t;

	assert_int_equal(vg_proctab_from(&t, NULL, 0), 0);
	assert_int_equal(t.n, 0);
	assert_null(get(&t, 5, 1 * SEC));
	assert_null(vg_proctab_by_pid(&t, 5));
	assert_null(vg_proctab_parent(&t, &orphan));
	assert_children(&t, &orphan, "", 0);
	vg_proctab_free(&t);
}

/* A child forked by the sh that had pid 100 is not bash's child, and the other way round. */
static void test_parent_exact_across_pid_reuse(void **state)
{
	struct vg_proc recs[] = {
		proc(100, 1 * SEC, 1, 0, "sh"),
		proc(100, 50 * SEC, 1, 0, "bash"),
		proc(300, 2 * SEC, 100, 1 * SEC, "child-of-sh"),
		proc(400, 60 * SEC, 100, 50 * SEC, "child-of-bash"),
	};
	struct vg_proctab t;

	assert_int_equal(vg_proctab_from(&t, recs, 4), 0);
	assert_proc(vg_proctab_parent(&t, get(&t, 300, 2 * SEC)), "sh");
	assert_proc(vg_proctab_parent(&t, get(&t, 400, 60 * SEC)), "bash");
	assert_children(&t, get(&t, 100, 1 * SEC), "child-of-sh", 1);
	assert_children(&t, get(&t, 100, 50 * SEC), "child-of-bash", 1);
	vg_proctab_free(&t);
}

static void test_parent_unknown_or_none(void **state)
{
	struct vg_proc recs[] = {
		proc(1, 1 * SEC, 0, 0, "init"),             /* no parent: swapper */
		proc(500, 9 * SEC, 450, 8 * SEC, "orphan"), /* parent aged out */
		proc(450, 3 * SEC, 1, 1 * SEC, "pid450-earlier"),
	};
	struct vg_proctab t;

	assert_int_equal(vg_proctab_from(&t, recs, 3), 0);
	assert_null(vg_proctab_parent(&t, get(&t, 1, 1 * SEC)));
	/* Same pid, other start, no APPROX flag: a different process, not the parent. */
	assert_null(vg_proctab_parent(&t, get(&t, 500, 9 * SEC)));
	vg_proctab_free(&t);
}

/*
 * Snapshot records have /proc start times (tick resolution): the parent key a
 * child holds may be off by up to SLACK from the parent's own key.
 */
static void test_parent_approx_start_within_slack(void **state)
{
	static const struct {
		int64_t off;
		bool found;
	} cases[] = {
		{ 0, true },		 { 10 * MS, true },   { -10 * MS, true },
		{ SLACK, true },	 { -(int64_t)SLACK, true },
		{ SLACK + 1, false }, { -(int64_t)SLACK - 1, false },
		{ 500 * MS, false },
	};
	const uint64_t pstart = 100 * SEC;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct vg_proc recs[] = {
			proc(100, pstart, 1, 0, "parent"),
			proc(200, 200 * SEC, 100, pstart + cases[i].off, "child"),
		};
		const struct vg_proc *got;
		struct vg_proctab t;

		recs[1].flags = VG_PF_APPROX_START | VG_PF_FROM_SNAPSHOT;
		assert_int_equal(vg_proctab_from(&t, recs, 2), 0);
		got = vg_proctab_parent(&t, get(&t, 200, 200 * SEC));
		if (!!got != cases[i].found)
			fail_msg("parent key off by %lld ns: got %s, want %s",
				 (long long)cases[i].off, got ? got->comm : "none",
				 cases[i].found ? "parent" : "none");
		vg_proctab_free(&t);
	}
}

/* The flag may be on either side: a snapshot parent, an exact (hook-made) child. */
static void test_parent_approx_flag_on_parent(void **state)
{
	struct vg_proc recs[] = {
		proc(100, 100 * SEC, 1, 0, "parent"),
		proc(200, 200 * SEC, 100, 100 * SEC + 7 * MS, "child"),
	};
	struct vg_proctab t;

	recs[0].flags = VG_PF_APPROX_START;
	assert_int_equal(vg_proctab_from(&t, recs, 2), 0);
	assert_proc(vg_proctab_parent(&t, get(&t, 200, 200 * SEC)), "parent");
	vg_proctab_free(&t);
}

/* Without APPROX_START on either side even 1 ns off is another process. */
static void test_parent_inexact_without_approx_flag(void **state)
{
	struct vg_proc recs[] = {
		proc(100, 100 * SEC, 1, 0, "parent"),
		proc(200, 200 * SEC, 100, 100 * SEC + 1, "child"),
	};
	struct vg_proctab t;

	assert_int_equal(vg_proctab_from(&t, recs, 2), 0);
	assert_null(vg_proctab_parent(&t, get(&t, 200, 200 * SEC)));
	vg_proctab_free(&t);
}

/* PID reused quickly: of two incarnations, the approximate match is the one within slack. */
static void test_parent_approx_picks_the_incarnation_within_slack(void **state)
{
	struct vg_proc recs[] = {
		proc(100, 10 * SEC, 1, 0, "first"),
		proc(100, 10 * SEC + 300 * MS, 1, 0, "second"),
		proc(200, 20 * SEC, 100, 10 * SEC + 310 * MS, "child"),
	};
	struct vg_proctab t;

	recs[2].flags = VG_PF_APPROX_START;
	assert_int_equal(vg_proctab_from(&t, recs, 3), 0);
	assert_proc(vg_proctab_parent(&t, get(&t, 200, 20 * SEC)), "second");
	vg_proctab_free(&t);
}

/*
 * All children, none of anyone else's, in key order (pid, then start) however
 * the map happened to hand them over.
 */
static void test_children_complete_and_sorted(void **state)
{
	struct vg_proc recs[] = {
		proc(4000, 13 * SEC, 100, 10 * SEC, "c3"),
		proc(999, 1 * SEC, 1, 0, "unrelated"),
		proc(101, 11 * SEC, 100, 10 * SEC, "c1"),
		proc(4001, 14 * SEC, 4000, 13 * SEC, "grandchild"),
		proc(100, 10 * SEC, 1, 0, "parent"),
		proc(150, 12 * SEC, 100, 10 * SEC, "c2"),
		proc(100, 1 * SEC, 1, 0, "parent-old"),
		proc(90, 2 * SEC, 100, 1 * SEC, "old-child"),
		proc(160, 12 * SEC, 100, 10 * SEC + 1, "near-miss"),
		proc(4100, 15 * SEC, 100, 10 * SEC, "c4"),
	};
	struct vg_proctab t;

	assert_int_equal(vg_proctab_from(&t, recs, sizeof(recs) / sizeof(recs[0])), 0);
	assert_children(&t, get(&t, 100, 10 * SEC), "c1 c2 c3 c4", 4);
	assert_children(&t, get(&t, 4000, 13 * SEC), "grandchild", 1);
	assert_children(&t, get(&t, 100, 1 * SEC), "old-child", 1);
	vg_proctab_free(&t);
}

static void test_children_none(void **state)
{
	struct vg_proc recs[] = {
		proc(100, 10 * SEC, 1, 0, "parent"),
		proc(101, 11 * SEC, 100, 10 * SEC, "leaf"),
	};
	struct vg_proctab t;

	assert_int_equal(vg_proctab_from(&t, recs, 2), 0);
	assert_children(&t, get(&t, 101, 11 * SEC), "", 0);
	vg_proctab_free(&t);
}

/* Bad data can make a record its own parent; a tree walk must not recurse into it. */
static void test_own_parent_not_own_child(void **state)
{
	struct vg_proc recs[] = {
		proc(1, 5 * SEC, 1, 5 * SEC, "selfish"),
		proc(2, 6 * SEC, 1, 5 * SEC, "kid"),
	};
	struct vg_proctab t;

	assert_int_equal(vg_proctab_from(&t, recs, 2), 0);
	assert_children(&t, get(&t, 1, 5 * SEC), "kid", 1);
	vg_proctab_free(&t);
}

/* ... nor an ancestry walk: `query ancestry` follows parent() until NULL. */
static void test_own_parent_not_own_parent(void **state)
{
	struct vg_proc recs[] = { proc(1, 5 * SEC, 1, 5 * SEC, "selfish") };
	struct vg_proctab t;

	assert_int_equal(vg_proctab_from(&t, recs, 1), 0);
	assert_null(vg_proctab_parent(&t, get(&t, 1, 5 * SEC)));
	vg_proctab_free(&t);
}

/*
 * parent() and children() must agree: if parent(c) is p, c is among p's
 * children. Real case: the parent was recorded exactly by a hook, the child by
 * the /proc snapshot (APPROX_START, parent start at tick resolution).
 */
static void test_children_agree_with_parent_for_approx_starts(void **state)
{
	struct vg_proc recs[] = {
		proc(100, 10 * SEC + 3 * MS, 1, 0, "parent"),
		proc(200, 11 * SEC, 100, 10 * SEC, "snap-child"),
		proc(201, 12 * SEC, 100, 10 * SEC + 3 * MS, "hook-child"),
	};
	struct vg_proctab t;

	recs[1].flags = VG_PF_APPROX_START | VG_PF_FROM_SNAPSHOT;
	assert_int_equal(vg_proctab_from(&t, recs, 3), 0);
	assert_proc(vg_proctab_parent(&t, get(&t, 200, 11 * SEC)), "parent");
	assert_children(&t, get(&t, 100, 10 * SEC + 3 * MS), "snap-child hook-child", 2);
	vg_proctab_free(&t);
}

/* Many records, pids colliding, hash probing: every lookup against brute force. */
static void test_large_table_matches_brute_force(void **state)
{
	enum { N = 8000 };
	struct vg_proc *recs = calloc(N, sizeof(*recs));
	uint64_t x = 88172645463325252ULL;
	struct vg_proctab t;

	assert_non_null(recs);
	for (size_t i = 0; i < N; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		/* 800 pids for 8000 records: ~10 incarnations each; starts unique. */
		recs[i] = proc(1 + x % 800, (i + 1) * MS, 0, 0, "");
		snprintf(recs[i].comm, sizeof(recs[i].comm), "r%zu", i);
		if (i) {
			const struct vg_proc *pp = &recs[(x >> 20) % i];

			recs[i].parent = pp->key;
		}
	}
	assert_int_equal(vg_proctab_from(&t, recs, N), 0);
	for (size_t i = 0; i < N; i++) {
		struct kids k = { .n = 0 };
		const struct vg_proc *p = get(&t, recs[i].key.tgid, recs[i].key.start_ns);
		const struct vg_proc *newest = NULL;
		size_t want_kids = 0, got_kids;

		assert_proc(p, recs[i].comm);
		assert_proc(vg_proctab_parent(&t, p),
			    i ? get(&t, recs[i].parent.tgid, recs[i].parent.start_ns)->comm
			      : "(null)");
		for (size_t j = 0; j < N; j++) {
			if (j != i && !vg_key_cmp(&recs[j].parent, &recs[i].key))
				want_kids++;
			if (recs[j].key.tgid == recs[i].key.tgid &&
			    (!newest || recs[j].key.start_ns > newest->key.start_ns))
				newest = &recs[j];
		}
		if (want_kids > 64)
			continue;
		got_kids = vg_proctab_children(&t, p, collect, &k);
		assert_int_equal(got_kids, want_kids);
		assert_int_equal(k.n, want_kids);
		for (size_t c = 0; c < k.n; c++)
			assert_int_equal(vg_key_cmp(&k.p[c]->parent, &p->key), 0);
		assert_proc(vg_proctab_by_pid(&t, recs[i].key.tgid), newest->comm);
	}
	vg_proctab_free(&t);
	free(recs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pid_reuse_get_by_exact_key),
		cmocka_unit_test(test_pid_reuse_by_pid_is_newest),
		cmocka_unit_test(test_by_pid_includes_exited_and_misses_unknown),
		cmocka_unit_test(test_from_copies_records),
		cmocka_unit_test(test_empty_table),
		cmocka_unit_test(test_parent_exact_across_pid_reuse),
		cmocka_unit_test(test_parent_unknown_or_none),
		cmocka_unit_test(test_parent_approx_start_within_slack),
		cmocka_unit_test(test_parent_approx_flag_on_parent),
		cmocka_unit_test(test_parent_inexact_without_approx_flag),
		cmocka_unit_test(test_parent_approx_picks_the_incarnation_within_slack),
		cmocka_unit_test(test_children_complete_and_sorted),
		cmocka_unit_test(test_children_none),
		cmocka_unit_test(test_own_parent_not_own_child),
		cmocka_unit_test(test_own_parent_not_own_parent),
		cmocka_unit_test(test_children_agree_with_parent_for_approx_starts),
		cmocka_unit_test(test_large_table_matches_brute_force),
	};

	return cmocka_run_group_tests_name("proctab", tests, NULL, NULL);
}
