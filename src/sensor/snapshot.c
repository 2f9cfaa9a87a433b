// SPDX-License-Identifier: GPL-2.0
/*
 * Start-up snapshot and reconciliation. Runs after the hooks are attached:
 * every process alive now is either seen by the snapshot or by a hook.
 *   - iter mode: the BPF task iterator records unknown processes exactly;
 *   - proc mode (kernels without sleepable iterators): read /proc, start
 *     times have tick resolution (records flagged APPROX_START).
 * Then records an earlier daemon left "alive" whose process is gone are
 * closed as EXIT_UNSEEN, and stale live-index entries are dropped.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "vigil.skel.h"
#include "sensor/probe.h"
#include "sensor/sensor.h"
#include "sensor/snapshot.h"
#include "state/proctab.h"
#include "state/strings.h"
#include "util/log.h"
#include "util/timefmt.h"

struct alive {
	struct vg_proc_key *k;
	size_t n, cap;
	uint64_t slack_ns; /* tolerance on start times (proc mode) */
};

static int alive_add(struct alive *a, const struct vg_proc_key *k)
{
	if (a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 1024;
		struct vg_proc_key *n = realloc(a->k, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		a->k = n;
		a->cap = cap;
	}
	a->k[a->n++] = *k;
	return 0;
}

static int cmp_key(const void *a, const void *b)
{
	return vg_key_cmp(a, b);
}

static bool alive_has(const struct alive *a, const struct vg_proc_key *k)
{
	size_t lo = 0, hi = a->n;

	while (lo < hi) { /* first entry with tgid >= k->tgid */
		size_t mid = (lo + hi) / 2;

		if (a->k[mid].tgid < k->tgid)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < a->n && a->k[lo].tgid == k->tgid; lo++) {
		uint64_t d = a->k[lo].start_ns > k->start_ns ? a->k[lo].start_ns - k->start_ns
							     : k->start_ns - a->k[lo].start_ns;
		if (d <= a->slack_ns)
			return true;
	}
	return false;
}

/* Run the task iterator over every task, or over one process (pid != 0). */
static int snap_iter(struct vg_sensor *s, struct alive *a, uint32_t pid, char *why, size_t whylen)
{
	DECLARE_LIBBPF_OPTS(bpf_iter_attach_opts, opts);
	union bpf_iter_link_info linfo = { .task.pid = pid };
	struct bpf_link *link;
	static char buf[64 * 1024];
	struct vg_proc_key k;
	int fd, err = 0;
	ssize_t n;

	if (pid) {
		opts.link_info = &linfo;
		opts.link_info_len = sizeof(linfo);
	}
	link = bpf_program__attach_iter(s->skel->progs.vg_snapshot, pid ? &opts : NULL);
	if (!link) {
		err = -errno;
		snprintf(why, whylen, "task iterator: %s", strerror(-err));
		return err;
	}
	fd = bpf_iter_create(bpf_link__fd(link));
	if (fd < 0) {
		err = -errno;
		snprintf(why, whylen, "task iterator: %s", strerror(-err));
		goto out;
	}
	/* Large reads: the iterator emits one key per process. */
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		for (ssize_t off = 0; off + (ssize_t)sizeof(k) <= n && !err; off += sizeof(k)) {
			memcpy(&k, buf + off, sizeof(k));
			err = alive_add(a, &k);
		}
	if (n < 0) {
		err = -errno;
		snprintf(why, whylen, "reading the task iterator: %s", strerror(-err));
	}
	close(fd);
out:
	bpf_link__destroy(link);
	return err;
}

static bool alive_has_pid(const struct alive *a, uint32_t pid)
{
	for (size_t i = 0; i < a->n; i++)
		if (a->k[i].tgid == pid)
			return true;
	return false;
}

/* ---- /proc fallback ---- */

static ssize_t read_file(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n, tot = 0;

	if (fd < 0)
		return -errno;
	while (tot < (ssize_t)len && (n = read(fd, buf + tot, len - tot)) > 0)
		tot += n;
	close(fd);
	return tot;
}

/* pid's starttime (ticks), ppid, kernel flags and comm from /proc/pid/stat. */
static int proc_stat(uint32_t pid, uint64_t *start, uint32_t *ppid, uint32_t *kflags,
		     char *comm)
{
	char path[64], buf[1024], *rp, *lp;
	unsigned long long st = 0;
	unsigned int pp = 0, fl = 0;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%u/stat", pid);
	n = read_file(path, buf, sizeof(buf) - 1);
	if (n <= 0)
		return -ENOENT;
	buf[n] = 0;
	lp = strchr(buf, '(');
	rp = strrchr(buf, ')');
	if (!lp || !rp)
		return -EINVAL;
	if (comm)
		snprintf(comm, VG_COMM_LEN, "%.*s", (int)(rp - lp - 1), lp + 1);
	/* after ")": state ppid pgrp session tty tpgid flags ... (19 fields) starttime */
	if (sscanf(rp + 2, "%*c %u %*d %*d %*d %*d %u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d "
			   "%*d %*d %llu",
		   &pp, &fl, &st) != 3)
		return -EINVAL;
	*start = st;
	*ppid = pp;
	if (kflags)
		*kflags = fl;
	return 0;
}

static void proc_ids(uint32_t pid, struct vg_proc *p)
{
	char path[64], buf[4096], *l;
	unsigned a, b;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%u/status", pid);
	n = read_file(path, buf, sizeof(buf) - 1);
	if (n <= 0)
		return;
	buf[n] = 0;
	if ((l = strstr(buf, "\nUid:")) && sscanf(l + 5, "%u %u", &a, &b) == 2)
		p->uid = a, p->euid = b;
	if ((l = strstr(buf, "\nGid:")) && sscanf(l + 5, "%u %u", &a, &b) == 2)
		p->gid = a, p->egid = b;
	snprintf(path, sizeof(path), "/proc/%u/loginuid", pid);
	n = read_file(path, buf, 31);
	p->auid = n > 0 ? (buf[n] = 0, (uint32_t)strtoul(buf, NULL, 10)) : (uint32_t)-1;
}

static void proc_ns(uint32_t pid, struct vg_proc *p)
{
	static const char *const names[] = { "mnt", "pid", "net", "uts", "ipc", "user", "cgroup" };
	uint32_t *dst[] = { &p->ns_mnt, &p->ns_pid, &p->ns_net, &p->ns_uts,
			    &p->ns_ipc, &p->ns_user, &p->ns_cgroup };
	char path[64];
	struct stat st;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "/proc/%u/ns/%s", pid, names[i]);
		if (stat(path, &st) == 0)
			*dst[i] = st.st_ino;
	}
}

static void proc_cgroup(const struct vg_maps *m, uint32_t pid, struct vg_proc *p)
{
	const char *mnt = vg_cgroup2_mount();
	char path[4096], buf[4096], *l, *nl;
	struct stat st;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%u/cgroup", pid);
	n = read_file(path, buf, sizeof(buf) - 1);
	if (n <= 0)
		return;
	buf[n] = 0;
	l = strstr(buf, "0::");
	if (!l || (l != buf && l[-1] != '\n'))
		return;
	l += 3;
	if ((nl = strchr(l, '\n')))
		*nl = 0;
	p->cgroup = vg_str_intern(m, l, strlen(l) + 1, false);
	if (mnt) {
		snprintf(path, sizeof(path), "%s%s", mnt, l);
		if (stat(path, &st) == 0)
			p->cgroup_id = st.st_ino;
	}
}

static void proc_exe_argv(const struct vg_sensor *s, uint32_t pid, struct vg_proc *p)
{
	char path[64], buf[VG_STR_MAX + 16];
	ssize_t n;
	uint32_t max = s->cfg.argv_max < VG_STR_MAX ? s->cfg.argv_max : VG_STR_MAX;

	snprintf(path, sizeof(path), "/proc/%u/exe", pid);
	n = readlink(path, buf, VG_STR_MAX - 1);
	if (n > 0) {
		buf[n] = 0;
		if (n > 10 && strcmp(buf + n - 10, " (deleted)") == 0) {
			buf[n -= 10] = 0;
			p->flags |= VG_PF_EXE_DELETED;
		}
		p->exe = vg_str_intern(&s->maps, buf, n + 1, false);
	}
	snprintf(path, sizeof(path), "/proc/%u/cmdline", pid);
	n = read_file(path, buf, max + 1);
	if (n > 0) {
		if ((uint32_t)n > max) {
			n = max;
			p->flags |= VG_PF_TRUNC_ARGV;
			vg_ustat_add(&s->maps, VG_ST_TRUNC_ARGV, 1);
		}
		buf[n - 1] = 0;
		p->argv = vg_str_intern(&s->maps, buf, n, p->flags & VG_PF_TRUNC_ARGV);
		for (ssize_t i = 0; i < n; i++)
			p->argc += buf[i] == 0;
	}
}

/* Record one process from /proc (start time at tick resolution). */
static void proc_record(struct vg_sensor *s, struct alive *a, uint32_t pid, uint64_t tick)
{
	struct vg_proc p = {};
	uint64_t st, pst;
	uint32_t ppid, kfl, pppid;

	if (proc_stat(pid, &st, &ppid, &kfl, p.comm))
		return;
	p.key.tgid = pid;
	p.key.start_ns = st * tick;
	alive_add(a, &p.key);
	if (ppid && proc_stat(ppid, &pst, &pppid, NULL, NULL) == 0) {
		p.parent.tgid = ppid;
		p.parent.start_ns = pst * tick;
		p.ppid = ppid;
	}
	p.flags = VG_PF_FROM_SNAPSHOT | VG_PF_APPROX_START;
	if (kfl & 0x00200000)
		p.flags |= VG_PF_KTHREAD;
	proc_ids(pid, &p);
	proc_ns(pid, &p);
	proc_cgroup(&s->maps, pid, &p);
	proc_exe_argv(s, pid, &p);
	if (bpf_map_update_elem(s->maps.live, &pid, &p.key, BPF_NOEXIST))
		return; /* a hook already knows this process, exactly */
	if (bpf_map_update_elem(s->maps.procs, &p.key, &p, BPF_NOEXIST) == 0) {
		vg_gauges_add_user(&s->maps, 1, 0);
		vg_ustat_add(&s->maps, VG_ST_SNAPSHOT, 1);
	} else if (errno != EEXIST) {
		vg_ustat_add(&s->maps, VG_ST_PROC_INSERT_FAIL, 1);
	}
}

static uint64_t clock_tick_ns(void)
{
	long hz = sysconf(_SC_CLK_TCK);

	return 1000000000ULL / (hz > 0 ? hz : 100);
}

static int snap_proc(struct vg_sensor *s, struct alive *a)
{
	uint64_t tick = clock_tick_ns();
	DIR *d = opendir("/proc");
	struct dirent *e;

	if (!d)
		return -errno;
	a->slack_ns = tick + 1000000ULL;
	while ((e = readdir(d))) {
		uint32_t pid = strtoul(e->d_name, NULL, 10);

		if (pid)
			proc_record(s, a, pid, tick);
	}
	closedir(d);
	return 0;
}

/*
 * The task walk can miss processes: on Linux 6.18 it never visits pid 1,
 * not even when asked for that pid alone. Every process /proc lists that the
 * walk didn't see is walked on its own, and failing that read from /proc.
 */
static void snap_iter_missed(struct vg_sensor *s, struct alive *a)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	char why[256];

	if (!d)
		return;
	while ((e = readdir(d))) {
		uint32_t pid = strtoul(e->d_name, NULL, 10);

		if (!pid || alive_has_pid(a, pid))
			continue;
		s->snap_missed++;
		if (snap_iter(s, a, pid, why, sizeof(why)) == 0 && alive_has_pid(a, pid))
			continue;
		proc_record(s, a, pid, clock_tick_ns());
	}
	closedir(d);
}

/* ---- reconciliation ---- */

static void reconcile(struct vg_sensor *s, const struct alive *a)
{
	struct vg_proctab t;
	uint64_t now = vg_now_boot_ns();
	uint32_t pid, next, *gone = NULL;
	size_t ngone = 0;
	struct vg_proc_key lk;

	if (vg_proctab_load(&t, &s->maps))
		return;
	for (size_t i = 0; i < t.n; i++) {
		struct vg_proc p = t.recs[i];

		if (p.flags & VG_PF_EXITED || p.key.start_ns >= s->start_boot_ns ||
		    alive_has(a, &p.key))
			continue;
		/* Alive in the table, gone from the system: it exited while no daemon ran. */
		p.flags |= VG_PF_EXITED | VG_PF_EXIT_UNSEEN;
		p.exit_ns = now;
		if (bpf_map_update_elem(s->maps.procs, &p.key, &p, BPF_EXIST))
			continue;
		if (bpf_map_update_elem(s->maps.exitq, NULL, &p.key, BPF_ANY))
			vg_ustat_add(&s->maps, VG_ST_EXITQ_FULL, 1);
		vg_gauges_add_user(&s->maps, 0, 1);
		vg_ustat_add(&s->maps, VG_ST_EXIT_UNSEEN, 1);
		s->snap_unseen++;
	}
	vg_proctab_free(&t);

	/*
	 * Live-index entries of processes that are gone. Deleted after the walk:
	 * a hash map's next key after a deleted key is its first key again, so
	 * deleting while walking restarts the walk each time (seconds, here).
	 */
	if (bpf_map_get_next_key(s->maps.live, NULL, &next))
		return;
	do {
		pid = next;
		if (bpf_map_lookup_elem(s->maps.live, &pid, &lk) == 0 &&
		    lk.start_ns < s->start_boot_ns && !alive_has(a, &lk)) {
			uint32_t *more = realloc(gone, (ngone + 1) * sizeof(*gone));

			if (!more)
				break;
			gone = more;
			gone[ngone++] = pid;
		}
	} while (bpf_map_get_next_key(s->maps.live, &pid, &next) == 0);
	for (size_t i = 0; i < ngone; i++)
		bpf_map_delete_elem(s->maps.live, &gone[i]);
	free(gone);
}

int vg_snapshot_take(struct vg_sensor *s, char *why, size_t whylen)
{
	struct alive a = {};
	int err;

	if (s->snap_mode == VG_SNAP_ITER) {
		uint64_t before = vg_stat_get(&s->maps, VG_ST_SNAPSHOT);

		err = snap_iter(s, &a, 0, why, whylen);
		if (!err)
			snap_iter_missed(s, &a);
		s->snap_new = vg_stat_get(&s->maps, VG_ST_SNAPSHOT) - before;
		if (err) {
			vg_warn("%s: falling back to /proc", why);
			a.n = 0;
			s->snap_mode = VG_SNAP_PROC;
		}
	}
	if (s->snap_mode == VG_SNAP_PROC) {
		err = snap_proc(s, &a);
		if (err) {
			snprintf(why, whylen, "reading /proc: %s", strerror(-err));
			free(a.k);
			return err;
		}
	}
	qsort(a.k, a.n, sizeof(*a.k), cmp_key);
	s->snap_alive = a.n;
	reconcile(s, &a);
	free(a.k);
	return 0;
}
