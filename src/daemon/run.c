// SPDX-License-Identifier: GPL-2.0
/*
 * The daemon. The main thread owns the sensor, housekeeping, the rules and
 * the ring buffer; a second thread serves the local API so a slow query never
 * delays alerts. User space wakes only for messages (the kernel submits
 * alerts without a wake-up until the buffer is half full, so the buffer is
 * also polled every 100 ms), queries, rule reloads and the GC timer.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/utsname.h>
#include <bpf/libbpf.h>
#include "api/api.h"
#include "policy/engine.h"
#include "policy/policy.h"
#include "daemon/daemon.h"
#include "query/query.h"
#include "util/log.h"
#include "util/timefmt.h"

#define STRING_GC_EVERY 30 /* GC ticks between string collections */
#define RB_POLL_NS 100000000ULL  /* the ring buffer is read at least this often */
#define RB_BATCH 4096            /* messages per read before other events get a turn */
#define RELOAD_DEBOUNCE_NS 300000000ULL /* rule files settle this long before a reload */

void vg_run_opts_defaults(struct vg_run_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->rules_dir = VG_RULES_DIR;
	o->output = "stdout";
	o->format = VG_OUT_JSON;
	o->output_max_size = VG_OUT_MAX_SIZE_DEFAULT;
	o->output_keep = VG_OUT_KEEP_DEFAULT;
	o->policies_dir = VG_POLICIES_DIR;
}

struct api_thread {
	pthread_t tid;
	int lfd;
	int stop[2]; /* pipe: write to stop */
	struct vg_daemon *d;
};

static struct json_object *handle(void *ctx, struct json_object *req, char *err, size_t errlen)
{
	struct vg_daemon *d = ctx;
	struct vg_query_ctx q;
	struct json_object *cmd, *res;
	const char *c;

	if (!json_object_object_get_ex(req, "cmd", &cmd)) {
		snprintf(err, errlen, "request has no cmd");
		return NULL;
	}
	c = json_object_get_string(cmd);
	if (!strcmp(c, "ping"))
		return json_object_new_string("pong");
	if (!strcmp(c, "status"))
		return vg_status_json(d);
	/* runtime policies */
	if (!strcmp(c, "policies")) {
		if (!d->enf) {
			snprintf(err, errlen, "enforcement is not running in this daemon");
			return NULL;
		}
		return vg_enforce_json(d->enf);
	}
	if (!strcmp(c, "unfreeze")) {
		struct json_object *w;
		char msg[256];

		if (!d->enf || !json_object_object_get_ex(req, "target", &w)) {
			snprintf(err, errlen, "unfreeze needs a target (and enforcement running)");
			return NULL;
		}
		if (vg_enforce_unfreeze(d->enf, json_object_get_string(w), msg, sizeof(msg))) {
			snprintf(err, errlen, "%s", msg);
			return NULL;
		}
		return json_object_new_string(msg);
	}
	if (vg_query_ctx_open(&q, &d->sensor.maps)) {
		snprintf(err, errlen, "reading the process table failed");
		return NULL;
	}
	res = vg_query_run(&q, req, err, errlen);
	vg_query_ctx_close(&q);
	return res;
}

static void *api_main(void *arg)
{
	struct api_thread *a = arg;
	struct pollfd p[2] = { { .fd = a->lfd, .events = POLLIN }, { .fd = a->stop[0], .events = POLLIN } };

	for (;;) {
		if (poll(p, 2, -1) < 0 && errno != EINTR)
			break;
		if (p[1].revents)
			break;
		if (p[0].revents & POLLIN)
			vg_api_serve_one(a->lfd, handle, a->d);
	}
	return NULL;
}

/* ---- ring buffer: alerts, and --trace lines ---- */

static void trace_line(struct vg_daemon *d, const struct vg_msg_proc *m)
{
	const struct vg_msg_hdr *h = &m->hdr;
	char exe[VG_STR_MAX], argv[VG_STR_MAX], when[VG_RFC3339_LEN];
	int n;

	exe[0] = argv[0] = 0;
	vg_str_read(&d->sensor.maps, m->proc.exe, exe, sizeof(exe), NULL);
	n = vg_str_read(&d->sensor.maps, m->proc.argv, argv, sizeof(argv), NULL);
	for (int i = 0; i + 1 < n; i++)
		if (!argv[i])
			argv[i] = ' ';
	vg_rfc3339(h->time_ns + vg_meta_boot_offset(&d->sensor.maps), when, sizeof(when));
	if (h->type == VG_MSG_EXEC)
		printf("%s EXEC pid=%u ppid=%u uid=%u comm=%.16s exe=%s argv=[%s]\n", when,
		       m->proc.key.tgid, m->proc.ppid, m->proc.uid, m->proc.comm, exe, argv);
	else
		printf("%s EXIT pid=%u ppid=%u comm=%.16s exe=%s status=%d lived=%.3fms\n", when,
		       m->proc.key.tgid, m->proc.ppid, m->proc.comm, exe, m->proc.exit_code,
		       (m->proc.exit_ns - m->proc.key.start_ns) / 1e6);
	d->trace_lines++;
}

static int on_event(void *ctx, void *data, size_t len)
{
	struct vg_daemon *d = ctx;
	const struct vg_msg_hdr *h = data;

	if (len < sizeof(*h)) {
		vg_detect_malformed(d->det);
	} else if (h->type == VG_MSG_ALERT) {
		vg_detect_alert(d->det, data, len);
	} else if (h->type == VG_MSG_ENFORCE) {
		if (d->enf)
			vg_enforce_msg(d->enf, data, len);
	} else if (h->type == VG_MSG_NET) {
		if (d->np)
			vg_netpolicy_msg(d->np, data, len);
	} else if (h->type == VG_MSG_EXEC || h->type == VG_MSG_EXIT) {
		if (len >= sizeof(struct vg_msg_proc) && d->sensor.cfg.trace)
			trace_line(d, data);
	} else {
		vg_detect_malformed(d->det);
	}
	/* Stop after a batch so signals, reloads and the GC get a turn in a storm. */
	return ++d->rb_batch >= RB_BATCH ? -EAGAIN : 0;
}

static uint64_t thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* Read one batch; true if more messages are waiting. */
static bool rb_read(struct vg_daemon *d)
{
	uint64_t t0 = thread_cpu_ns();
	int n;

	if (!d->rb)
		return false;
	d->rb_batch = 0;
	n = ring_buffer__consume(d->rb);
	vg_detect_due(d->det); /* candidates kept for a pipeline's other end */
	vg_detect_flush(d->det);
	if (n)
		vg_detect_account(d->det, thread_cpu_ns() - t0);
	if (d->sensor.cfg.trace)
		fflush(stdout);
	return n == -EAGAIN;
}

/* What is already in the buffer (before a rule generation is replaced, at exit).
 * Bounded: the buffer holds far fewer messages, and a storm must not pin us here. */
static void rb_drain(void *arg)
{
	struct vg_daemon *d = arg;

	for (int i = 0; i < 64 && rb_read(d); i++)
		;
}

/* The rule tables' map fds, from the loaded object (the sensor doesn't export them). */
static int rule_maps(const struct vg_sensor *s, struct vg_rule_maps *m)
{
	static const char *const names[] = { "vg_rule_prefix", "vg_rule_names", "vg_rule_sets",
					     "vg_rule_gen" };
	int *fds[] = { &m->prefix, &m->names, &m->sets, &m->gen };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		struct bpf_map *map = bpf_object__find_map_by_name(vg_sensor_object(s), names[i]);

		*fds[i] = map ? bpf_map__fd(map) : -1;
		if (*fds[i] < 0)
			return -ENOENT;
	}
	return 0;
}

/* ---- start-up ---- */

static int preflight(void)
{
	if (geteuid() != 0) {
		vg_err("vigil run needs root (it loads BPF programs): run it with sudo");
		return -EPERM;
	}
	if (access("/sys/kernel/btf/vmlinux", R_OK)) {
		vg_err("this kernel has no BTF (/sys/kernel/btf/vmlinux is missing): vigil needs "
		       "Linux >= 5.8 built with CONFIG_DEBUG_INFO_BTF=y");
		return -ENOTSUP;
	}
	return 0;
}

/* One daemon per state directory: a second would double-count every event. */
static int take_lock(const struct vg_config *cfg)
{
	char path[512];
	int fd;

	mkdir("/run/vigil", 0700);
	snprintf(path, sizeof(path), "%s.lock", cfg->socket_path);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX | LOCK_NB)) {
		close(fd);
		return -EBUSY;
	}
	return fd;
}

static void announce(struct vg_daemon *d)
{
	struct vg_sensor *s = &d->sensor;
	int64_t n, exited;
	char dur[32];

	vg_info("vigil %s on Linux %s", VIGIL_VERSION, d->probe.kernel);
	vg_info("enforcement tier: %s — %s", vg_tier_name(d->probe.tier), d->probe.tier_reason);
	vg_gauges_get(&s->maps, &n, &exited);
	if (s->state_reused)
		vg_info("state %s: reused from the previous daemon (%lld processes, %lld exited)",
			s->cfg.state_dir, (long long)n, (long long)exited);
	else
		vg_info("state %s: new%s%s", s->cfg.state_dir, s->state_reset ? " — discarded: " : "",
			s->state_reset ? s->reset_reason : "");
	vg_info("loaded lifecycle hooks (tp_btf sched_process_fork/exec/exit); retention %s, "
		"table %u processes, argv %u B", vg_fmt_duration(s->cfg.retention_ns, dur, sizeof(dur)),
		s->cfg.max_procs, s->cfg.argv_max);
	vg_info("snapshot (%s): %llu running processes, %llu recorded now (%llu missed by the full "
		"walk, walked one by one)", s->snap_mode == VG_SNAP_ITER ? "task iterator" : "/proc",
		(unsigned long long)s->snap_alive, (unsigned long long)s->snap_new,
		(unsigned long long)s->snap_missed);
	if (s->snap_unseen)
		vg_info("%llu processes exited while no daemon ran (marked exit_unseen)",
			(unsigned long long)s->snap_unseen);
	vg_info("loaded in %.0f ms; API on %s", d->load_ns / 1e6, s->cfg.socket_path);
	vg_info("ready — findings (%s) go to %s", vg_output_format_name(d->out.format),
		d->out.path ? d->out.path : "stdout");
}

static int timer_set(int fd, uint64_t ns, bool periodic)
{
	struct itimerspec its = {};

	its.it_value.tv_sec = ns / 1000000000ULL;
	its.it_value.tv_nsec = ns % 1000000000ULL;
	if (periodic)
		its.it_interval = its.it_value;
	return timerfd_settime(fd, 0, &its, NULL) ? -errno : 0;
}

struct loop_fds {
	int sig, gc, poll, debounce, inotify;
};

static int make_fds(const struct vg_config *cfg, struct loop_fds *f)
{
	sigset_t mask;

	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &mask, NULL); /* before any thread starts */
	f->sig = signalfd(-1, &mask, SFD_CLOEXEC);
	f->gc = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	f->poll = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	f->debounce = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	f->inotify = -1;
	if (f->sig < 0 || f->gc < 0 || f->poll < 0 || f->debounce < 0)
		return -errno;
	if (timer_set(f->poll, RB_POLL_NS, true))
		return -errno;
	return timer_set(f->gc, cfg->gc_interval_ns, true);
}

static void close_fds(struct loop_fds *f)
{
	int *v[] = { &f->sig, &f->gc, &f->poll, &f->debounce };

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		if (*v[i] >= 0)
			close(*v[i]);
}

static void drain_timer(int fd)
{
	uint64_t exp;

	if (read(fd, &exp, sizeof(exp)) < 0)
		return;
}

/* true: stop the daemon. */
static bool on_signal(struct vg_daemon *d, int sfd)
{
	struct signalfd_siginfo si;

	if (read(sfd, &si, sizeof(si)) != sizeof(si))
		return false;
	if (si.ssi_signo == SIGHUP) {
		if (d->rules)
			vg_rulesets_reload(d->rules, "SIGHUP");
		if (d->enf)
			vg_enforce_reload(d->enf, "SIGHUP");
		if (d->np)
			vg_netpolicy_reload(d->np, "SIGHUP");
		return false;
	}
	vg_info("%s: shutting down", strsignal(si.ssi_signo));
	return true;
}

static int loop(struct vg_daemon *d, struct loop_fds *f)
{
	struct epoll_event ev, evs[8];
	int ep = epoll_create1(EPOLL_CLOEXEC);
	int rbfd = d->rb ? ring_buffer__epoll_fd(d->rb) : -1;
	int np_ino = d->np ? vg_netpolicy_watch_fd(d->np) : -1;
	int np_timer = d->np ? vg_netpolicy_timer_fd(d->np) : -1;
	int fds[] = { f->sig, f->gc, f->poll, f->debounce, f->inotify, rbfd, np_ino, np_timer };
	uint64_t ticks = 0;
	bool more = false;

	if (ep < 0)
		return -errno;
	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		if (fds[i] < 0)
			continue;
		ev.events = EPOLLIN;
		ev.data.fd = fds[i];
		epoll_ctl(ep, EPOLL_CTL_ADD, fds[i], &ev);
	}
	for (;;) {
		int n = epoll_wait(ep, evs, 8, more ? 0 : -1);
		bool read_rb = more;

		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;

			if (fd == f->sig) {
				if (on_signal(d, fd)) {
					close(ep);
					return 0;
				}
			} else if (fd == f->gc) {
				drain_timer(fd);
				ticks++;
				vg_gc_run(d, ticks % STRING_GC_EVERY == 0);
				if (d->np)
					vg_netpolicy_tick(d->np);
				vg_enforce_poll(d->enf); /* policy files changed? */
				if (ticks % STRING_GC_EVERY == 0)
					vg_meta_sync_clock(&d->sensor.maps);
			} else if (fd == f->poll) {
				drain_timer(fd);
				read_rb = true;
			} else if (fd == f->inotify) {
				/* Editors write in several steps: reload once they are done. */
				if (vg_rulesets_on_inotify(d->rules))
					timer_set(f->debounce, RELOAD_DEBOUNCE_NS, false);
			} else if (fd == f->debounce) {
				drain_timer(fd);
				vg_rulesets_reload(d->rules, "rule files changed");
			} else if (fd == rbfd) {
				read_rb = true;
			} else if (fd == np_ino) {
				vg_netpolicy_on_inotify(d->np); /* arms np_timer (debounce) */
			} else if (fd == np_timer) {
				vg_netpolicy_on_timer(d->np);
			}
		}
		more = read_rb && rb_read(d);
	}
}

static int open_output(struct vg_daemon *d)
{
	char why[512] = "";
	int err;

	d->out.format = d->opts.format;
	d->out.max_size = d->opts.output_max_size;
	d->out.keep = d->opts.output_keep;
	err = vg_output_parse(&d->out, d->opts.output);
	if (err) {
		vg_err("--output %s: expected stdout or file:PATH", d->opts.output);
		return err;
	}
	err = vg_output_open(&d->out, why, sizeof(why));
	if (err)
		vg_err("%s", why);
	return err;
}

/* Ring buffer, detection, rules. Detection problems are loud but not fatal:
 * process state alone is still worth having. */
static int start_detection(struct vg_daemon *d)
{
	struct vg_rule_maps rm;

	d->rb = ring_buffer__new(vg_sensor_events_fd(&d->sensor), on_event, d, NULL);
	if (!d->rb) {
		vg_err("cannot open the alert ring buffer (%s): NO DETECTIONS", strerror(errno));
		return 0;
	}
	d->det = vg_detect_new(&d->sensor.maps, &d->out);
	if (!d->det)
		return -ENOMEM;
	d->alerts_base = vg_stat_get(&d->sensor.maps, VG_ST_ALERTS);
	d->drops_base = vg_stat_get(&d->sensor.maps, VG_ST_ALERT_DROP);
	if (rule_maps(&d->sensor, &rm)) {
		vg_err("this build has no kernel rule tables: NO DETECTIONS");
		return 0;
	}
	d->rules = vg_rulesets_new(d->det, &rm, d->opts.rules_dir, rb_drain, d);
	if (!d->rules)
		return -ENOMEM;
	vg_rulesets_start(d->rules);
	/* network policy: its hooks are attached whether or not a policy exists
	 * (process network quarantine needs them) */
	d->np = vg_netpolicy_new(vg_sensor_object(&d->sensor), &d->sensor.maps, d->det,
				 d->opts.network_policy, rb_drain, d);
	if (!d->np)
		return -ENOMEM;
	if (vg_netpolicy_start(d->np) && d->opts.network_policy)
		return -ENOENT; /* a policy was asked for and can't be enforced */
	return 0;
}

int vg_daemon_main(const struct vg_config *cfg, const struct vg_run_opts *opts)
{
	static struct vg_daemon d;
	struct vg_config run_cfg = *cfg;
	struct api_thread api = { .lfd = -1, .stop = { -1, -1 }, .d = &d };
	struct loop_fds fds = { -1, -1, -1, -1, -1 };
	char why[512] = "";
	int err, lock;
	uint64_t t0;

	d.opts = *opts;
	err = preflight();
	if (err)
		return 1;
	lock = take_lock(cfg);
	if (lock < 0) {
		vg_err("another vigil daemon holds %s.lock: stop it first", cfg->socket_path);
		return 1;
	}
	/* A findings reader that goes away must not take the sensor with it: EPIPE is
	 * counted as an output error instead. */
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOFBF, 1 << 16); /* whole batches of findings; flushed per batch */
	if (open_output(&d))
		return 1;
	vg_log_libbpf();
	d.started_real_ns = vg_now_real_ns();
	t0 = vg_now_boot_ns();
	vg_probe_run(&d.probe);
	err = make_fds(cfg, &fds);
	if (err) {
		vg_err("setting up signals and timers: %s", strerror(-err));
		return 1;
	}
	if (!vg_probe_has(&d.probe, VG_FEAT_ITER_TASK_SLEEP)) {
		/* Sleepable task iterators need Linux >= 5.18: snapshot from /proc. */
		vg_info("sleepable task iterator unavailable: start-up snapshot from /proc");
		run_cfg.force_proc_snapshot = true;
	}
	run_cfg.lsm = vg_probe_has(&d.probe, VG_FEAT_LSM); /* enforcement: BPF-LSM programs */
	run_cfg.rdonly_cast = vg_probe_has(&d.probe, VG_FEAT_RDONLY_CAST);
	run_cfg.sock_acct = vg_probe_has(&d.probe, VG_FEAT_ITER_SOCK_FILE);
	run_cfg.conn_slots = vg_probe_has(&d.probe, VG_FEAT_CMPXCHG) && !run_cfg.no_conn_slots;
	err = vg_sensor_start(&d.sensor, &run_cfg, why, sizeof(why));
	if (err) {
		vg_err("%s", why);
		return 1;
	}
	d.load_ns = vg_now_boot_ns() - t0;
	err = start_detection(&d);
	if (err) {
		vg_err("starting detection: %s", strerror(-err));
		goto out_sensor;
	}
	if (d.det) {
		struct vg_enforce_opts eo = { .dir = opts->policies_dir, .enforce_off = opts->enforce_off,
					      .lsm = run_cfg.lsm, .cgroup2 = vg_cgroup2_mount(),
					      .np = d.np };

		d.enf = vg_enforce_new(&d.sensor, d.det, &eo);
	}
	fds.inotify = d.rules ? vg_rulesets_watch_fd(d.rules) : -1;
	api.lfd = vg_api_listen(cfg->socket_path, why, sizeof(why));
	if (api.lfd < 0 || pipe2(api.stop, O_CLOEXEC) ||
	    pthread_create(&api.tid, NULL, api_main, &api)) {
		vg_err("%s", why[0] ? why : "starting the API thread failed");
		err = -1;
		goto out_sensor;
	}
	announce(&d);

	err = loop(&d, &fds);

	if (write(api.stop[1], "x", 1) == 1)
		pthread_join(api.tid, NULL);
	close(api.lfd);
	unlink(cfg->socket_path);
	rb_drain(&d);
out_sensor:
	ring_buffer__free(d.rb);
	vg_enforce_free(d.enf);
	vg_rulesets_free(d.rules);
	vg_netpolicy_free(d.np);
	vg_detect_free(d.det);
	vg_output_close(&d.out);
	close_fds(&fds);
	vg_sensor_stop(&d.sensor);
	close(lock);
	vg_info("stopped; state kept in %s", cfg->state_dir);
	return err ? 1 : 0;
}
