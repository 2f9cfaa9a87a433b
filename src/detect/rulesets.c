// SPDX-License-Identifier: GPL-2.0
/*
 * Rule sets over the daemon's life. The kernel holds two generations of rule
 * tables; alerts carry the generation they were evaluated with. A reload
 * fills the idle generation and flips to it; the set of the generation it
 * replaces stays alive (and set in src/detect) until the next reload, after
 * the ring buffer has been drained, so an alert is always finished with the
 * rules that raised it.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include "detect/rulesets.h"
#include "util/log.h"
#include "util/timefmt.h"

struct vg_rulesets {
	struct vg_detect *det;
	struct vg_rule_maps maps;
	char dir[PATH_MAX];
	void (*drain)(void *);
	void *drain_arg;
	struct vg_rules *sets[2]; /* by generation */
	int gen;                  /* active generation, -1 before the first install */
	int ino_fd, ino_wd;
	pthread_mutex_t lock;     /* st is read by the API thread */
	struct vg_rules_status st;
};

static bool dir_exists(const char *p)
{
	struct stat s;

	return !stat(p, &s) && S_ISDIR(s.st_mode);
}

static void watch(struct vg_rulesets *rs)
{
	if (rs->ino_fd < 0 || rs->ino_wd >= 0 || !dir_exists(rs->dir))
		return;
	rs->ino_wd = inotify_add_watch(rs->ino_fd, rs->dir,
				       IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE |
				       IN_CREATE | IN_DELETE_SELF | IN_MOVE_SELF);
	if (rs->ino_wd < 0)
		vg_warn("cannot watch %s for changes (%s): reload rules with SIGHUP", rs->dir,
			strerror(errno));
}

struct vg_rulesets *vg_rulesets_new(struct vg_detect *det, const struct vg_rule_maps *maps,
				    const char *dir, void (*drain)(void *), void *arg)
{
	struct vg_rulesets *rs = calloc(1, sizeof(*rs));

	if (!rs)
		return NULL;
	rs->det = det;
	rs->maps = *maps;
	snprintf(rs->dir, sizeof(rs->dir), "%s", dir ? dir : VG_RULES_DIR);
	rs->drain = drain;
	rs->drain_arg = arg;
	rs->gen = -1;
	rs->ino_wd = -1;
	rs->ino_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	pthread_mutex_init(&rs->lock, NULL);
	snprintf(rs->st.dir, sizeof(rs->st.dir), "%s", rs->dir);
	return rs;
}

void vg_rulesets_free(struct vg_rulesets *rs)
{
	if (!rs)
		return;
	for (int g = 0; g < 2; g++) {
		vg_detect_set_rules(rs->det, g, NULL);
		vg_rules_free(rs->sets[g]);
	}
	if (rs->ino_fd >= 0)
		close(rs->ino_fd);
	pthread_mutex_destroy(&rs->lock);
	free(rs);
}

struct tally {
	size_t total, enabled, builtin, from_dir;
};

static struct tally count(const struct vg_rules *r)
{
	struct tally t = { .total = vg_rules_count(r) };

	for (size_t i = 0; i < t.total; i++) {
		const struct vg_rule *x = vg_rules_at(r, i);

		if (!x->enabled)
			continue;
		t.enabled++;
		if (x->source && !strcmp(x->source, "builtin"))
			t.builtin++;
		else
			t.from_dir++;
	}
	return t;
}

/* "loaded 63 rules (60 builtin, 3 from /etc/vigil/rules.d)"; note: why the directory
 * gave nothing ("no such directory", "invalid, ignored"), or NULL. */
static void describe(const struct vg_rulesets *rs, const struct tally *t, const char *note,
		     char *buf, size_t len)
{
	size_t off = snprintf(buf, len, "loaded %zu rules (%zu builtin, %zu from %s%s%s)",
			      t->enabled, t->builtin, t->from_dir, rs->dir, note ? ": " : "",
			      note ? note : "");

	if (t->total > t->enabled && off < len)
		snprintf(buf + off, len - off, ", %zu disabled", t->total - t->enabled);
}

/* Drain, install r as the idle generation, flip. On success rs owns r. */
static int install(struct vg_rulesets *rs, struct vg_rules *r, char *why, size_t whylen)
{
	int gen = rs->gen < 0 ? 0 : !rs->gen;
	struct vg_rules *old;
	int err;

	/* Alerts of the generation about to be overwritten finish with its rules first. */
	if (rs->drain)
		rs->drain(rs->drain_arg);
	err = vg_rules_install(r, &rs->maps, gen, why, whylen);
	if (err)
		return err;
	old = rs->sets[gen];
	rs->sets[gen] = r;
	vg_detect_set_rules(rs->det, gen, r);
	vg_rules_free(old);
	rs->gen = gen;
	return 0;
}

static void record(struct vg_rulesets *rs, bool ok, const struct tally *t, const char *result,
		   bool reload)
{
	uint64_t now = vg_now_real_ns();

	pthread_mutex_lock(&rs->lock);
	if (reload) {
		rs->st.reloads++;
		if (!ok)
			rs->st.reload_failures++;
	}
	rs->st.last_reload_real_ns = now;
	rs->st.last_ok = ok;
	snprintf(rs->st.last_result, sizeof(rs->st.last_result), "%s", result);
	if (ok) {
		rs->st.installed = true;
		rs->st.total = t->total;
		rs->st.enabled = t->enabled;
		rs->st.builtin = t->builtin;
		rs->st.from_dir = t->from_dir;
		rs->st.generation = rs->gen;
		rs->st.loaded_real_ns = now;
	}
	rs->st.watching = rs->ino_wd >= 0;
	pthread_mutex_unlock(&rs->lock);
}

int vg_rulesets_start(struct vg_rulesets *rs)
{
	struct vg_rule_errors errs = {};
	bool have_dir = dir_exists(rs->dir);
	struct vg_rules *r = vg_rules_load(have_dir ? rs->dir : NULL, &errs);
	char why[512] = "", msg[768];
	const char *note = NULL;
	struct tally t;
	int err;

	if (!r) {
		vg_rule_errors_print(&errs, stderr);
		vg_err("THE RULES IN %s ARE INVALID (%zu error%s above): running with the embedded "
		       "default rules ONLY. Fix the files, then save them or send SIGHUP to load them.",
		       rs->dir, errs.n, errs.n == 1 ? "" : "s");
		vg_rule_errors_free(&errs);
		note = "invalid, ignored";
		pthread_mutex_lock(&rs->lock);
		rs->st.defaults_only = true;
		pthread_mutex_unlock(&rs->lock);
		r = vg_rules_load(NULL, &errs);
		if (!r) {
			vg_rule_errors_print(&errs, stderr);
			vg_err("the embedded default rules are invalid: NO DETECTIONS");
			vg_rule_errors_free(&errs);
			record(rs, false, NULL, "embedded default rules invalid", false);
			return -EINVAL;
		}
	}
	vg_rule_errors_free(&errs);
	t = count(r);
	err = install(rs, r, why, sizeof(why));
	if (err) {
		vg_err("installing the rules into the kernel failed: %s: NO DETECTIONS", why);
		vg_rules_free(r);
		snprintf(msg, sizeof(msg), "install failed: %s", why);
		record(rs, false, NULL, msg, false);
		return err;
	}
	watch(rs);
	describe(rs, &t, note ? note : have_dir ? NULL : "no such directory", msg, sizeof(msg));
	vg_info("%s", msg);
	record(rs, true, &t, msg, false);
	return 0;
}

int vg_rulesets_reload(struct vg_rulesets *rs, const char *cause)
{
	struct vg_rule_errors errs = {};
	bool have_dir = dir_exists(rs->dir);
	struct vg_rules *r;
	char why[512] = "", msg[768];
	struct tally t;
	int err;

	vg_detect_refresh_host(rs->det);
	r = vg_rules_load(have_dir ? rs->dir : NULL, &errs);
	if (!r) {
		vg_rule_errors_print(&errs, stderr);
		snprintf(msg, sizeof(msg), "rejected: %zu error%s, first: %s:%d: %s: %s", errs.n,
			 errs.n == 1 ? "" : "s", errs.n ? errs.v[0].file : "?",
			 errs.n ? errs.v[0].line : 0, errs.n ? errs.v[0].field : "?",
			 errs.n ? errs.v[0].msg : "?");
		vg_err("%s: rule reload rejected (%zu error%s above); the previous rule set stays "
		       "in force", cause, errs.n, errs.n == 1 ? "" : "s");
		vg_rule_errors_free(&errs);
		record(rs, false, NULL, msg, true);
		return -EINVAL;
	}
	vg_rule_errors_free(&errs);
	t = count(r);
	err = install(rs, r, why, sizeof(why));
	if (err) {
		vg_rules_free(r);
		snprintf(msg, sizeof(msg), "install failed: %s", why);
		vg_err("%s: installing the new rules failed (%s); the previous rule set stays in "
		       "force", cause, why);
		record(rs, false, NULL, msg, true);
		return err;
	}
	watch(rs);
	describe(rs, &t, have_dir ? NULL : "no such directory", msg, sizeof(msg));
	vg_info("%s: rules reloaded: %s; generation %d", cause, msg, rs->gen);
	pthread_mutex_lock(&rs->lock);
	rs->st.defaults_only = false;
	pthread_mutex_unlock(&rs->lock);
	record(rs, true, &t, msg, true);
	return 0;
}

int vg_rulesets_watch_fd(const struct vg_rulesets *rs)
{
	return rs->ino_fd;
}

static bool is_rule_file(const char *name)
{
	size_t n = strlen(name);

	if (name[0] == '.')
		return false; /* editors' temporaries */
	return (n > 5 && !strcmp(name + n - 5, ".yaml")) || (n > 4 && !strcmp(name + n - 4, ".yml"));
}

bool vg_rulesets_on_inotify(struct vg_rulesets *rs)
{
	char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
	bool relevant = false;
	ssize_t n;

	while ((n = read(rs->ino_fd, buf, sizeof(buf))) > 0) {
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const struct inotify_event *)p;

			if (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED)) {
				/* The directory itself went away: a reload sees that; re-watch later. */
				if (ev->mask & IN_IGNORED)
					rs->ino_wd = -1;
				relevant = true;
			} else if (ev->len && is_rule_file(ev->name)) {
				relevant = true;
			}
			p += sizeof(*ev) + ev->len;
		}
	}
	return relevant;
}

void vg_rulesets_status(struct vg_rulesets *rs, struct vg_rules_status *st)
{
	pthread_mutex_lock(&rs->lock);
	*st = rs->st;
	pthread_mutex_unlock(&rs->lock);
}
