// SPDX-License-Identifier: GPL-2.0
/*
 * The daemon. The main thread owns the sensor, housekeeping and the ring
 * buffer; a second thread serves the local API so a slow query never delays
 * alerts. User space wakes only for messages, queries and the GC timer.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
#include "daemon/daemon.h"
#include "query/query.h"
#include "util/log.h"
#include "util/timefmt.h"

#define STRING_GC_EVERY 30 /* GC ticks between string collections */

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

/* ---- --trace: one line per exec/exit ---- */

static int on_event(void *ctx, void *data, size_t len)
{
	struct vg_daemon *d = ctx;
	const struct vg_msg_hdr *h = data;
	const struct vg_msg_proc *m = data;
	char exe[VG_STR_MAX], argv[VG_STR_MAX], when[VG_RFC3339_LEN];
	int n;

	if (len < sizeof(*h) || (h->type != VG_MSG_EXEC && h->type != VG_MSG_EXIT) ||
	    len < sizeof(*m))
		return 0;
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
	vg_info("ready — findings go to stdout (no detection rules are loaded yet)");
}

static int make_fds(const struct vg_config *cfg, int *sfd, int *tfd)
{
	struct itimerspec its = {};
	sigset_t mask;

	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &mask, NULL); /* before any thread starts */
	*sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	*tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	if (*sfd < 0 || *tfd < 0)
		return -errno;
	its.it_interval.tv_sec = cfg->gc_interval_ns / 1000000000ULL;
	its.it_interval.tv_nsec = cfg->gc_interval_ns % 1000000000ULL;
	its.it_value = its.it_interval;
	return timerfd_settime(*tfd, 0, &its, NULL) ? -errno : 0;
}

static int loop(struct vg_daemon *d, int sfd, int tfd, struct ring_buffer *rb)
{
	struct epoll_event ev, evs[4];
	int ep = epoll_create1(EPOLL_CLOEXEC);
	uint64_t ticks = 0;

	ev.events = EPOLLIN;
	ev.data.fd = sfd;
	epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &ev);
	ev.data.fd = tfd;
	epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &ev);
	if (rb) {
		ev.data.fd = ring_buffer__epoll_fd(rb);
		epoll_ctl(ep, EPOLL_CTL_ADD, ev.data.fd, &ev);
	}
	for (;;) {
		int n = epoll_wait(ep, evs, 4, -1);

		for (int i = 0; i < n; i++) {
			if (evs[i].data.fd == sfd) {
				struct signalfd_siginfo si;

				if (read(sfd, &si, sizeof(si)) != sizeof(si))
					continue;
				if (si.ssi_signo == SIGHUP) {
					vg_info("SIGHUP: nothing to reload yet");
					continue;
				}
				vg_info("%s: shutting down", strsignal(si.ssi_signo));
				close(ep);
				return 0;
			} else if (evs[i].data.fd == tfd) {
				uint64_t exp;

				if (read(tfd, &exp, sizeof(exp)) < 0)
					continue;
				ticks++;
				vg_gc_run(d, ticks % STRING_GC_EVERY == 0);
				if (ticks % STRING_GC_EVERY == 0)
					vg_meta_sync_clock(&d->sensor.maps);
			} else if (rb) {
				ring_buffer__consume(rb);
				fflush(stdout);
			}
		}
	}
}

int vg_daemon_main(const struct vg_config *cfg)
{
	static struct vg_daemon d;
	struct vg_config run_cfg = *cfg;
	struct api_thread api = { .lfd = -1, .stop = { -1, -1 }, .d = &d };
	struct ring_buffer *rb = NULL;
	char why[512] = "";
	int err, lock, sfd = -1, tfd = -1;
	uint64_t t0;

	err = preflight();
	if (err)
		return 1;
	lock = take_lock(cfg);
	if (lock < 0) {
		vg_err("another vigil daemon holds %s.lock: stop it first", cfg->socket_path);
		return 1;
	}
	vg_log_libbpf();
	d.started_real_ns = vg_now_real_ns();
	t0 = vg_now_boot_ns();
	vg_probe_run(&d.probe);
	err = make_fds(cfg, &sfd, &tfd);
	if (err) {
		vg_err("setting up signals and timers: %s", strerror(-err));
		return 1;
	}
	if (!vg_probe_has(&d.probe, VG_FEAT_ITER_TASK_SLEEP)) {
		/* Sleepable task iterators need Linux >= 5.18: snapshot from /proc. */
		vg_info("sleepable task iterator unavailable: start-up snapshot from /proc");
		run_cfg.force_proc_snapshot = true;
	}
	err = vg_sensor_start(&d.sensor, &run_cfg, why, sizeof(why));
	if (err) {
		vg_err("%s", why);
		return 1;
	}
	d.load_ns = vg_now_boot_ns() - t0;
	api.lfd = vg_api_listen(cfg->socket_path, why, sizeof(why));
	if (api.lfd < 0 || pipe2(api.stop, O_CLOEXEC) ||
	    pthread_create(&api.tid, NULL, api_main, &api)) {
		vg_err("%s", why[0] ? why : "starting the API thread failed");
		err = -1;
		goto out_sensor;
	}
	if (cfg->trace) {
		rb = ring_buffer__new(vg_sensor_events_fd(&d.sensor), on_event, &d, NULL);
		if (!rb)
			vg_warn("--trace: cannot open the ring buffer: %s", strerror(errno));
	}
	announce(&d);
	setvbuf(stdout, NULL, _IOLBF, 0);

	err = loop(&d, sfd, tfd, rb);

	if (write(api.stop[1], "x", 1) == 1)
		pthread_join(api.tid, NULL);
	close(api.lfd);
	unlink(cfg->socket_path);
	ring_buffer__free(rb);
out_sensor:
	vg_sensor_stop(&d.sensor);
	close(lock);
	vg_info("stopped; state kept in %s", cfg->state_dir);
	return err ? 1 : 0;
}
