// SPDX-License-Identifier: GPL-2.0
/*
 * Load vigil's programs and state. Order matters and is the point:
 *   1. check the pinned state of an earlier daemon (reuse it, or discard it
 *      if its layout is incompatible — reported, never crashed on);
 *   2. load (maps are reused from the pins, new ones pinned);
 *   3. attach the lifecycle hooks;
 *   4. only then snapshot running processes, so there is no blind window.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "vigil.skel.h"
#include "sensor/links.h"
#include "sensor/sensor.h"
#include "sensor/snapshot.h"
#include "net/net.h"
#include "util/log.h"
#include "util/timefmt.h"

#define BPF_FS_MAGIC 0xcafe4a11
#define TRACEFS_MAGIC 0x74726163
#define TRACEFS "/sys/kernel/tracing"

void vg_config_defaults(struct vg_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->retention_ns = 15ULL * 60 * 1000000000ULL;
	cfg->gc_interval_ns = 1000000000ULL;
	cfg->max_procs = VG_PROCS_DEFAULT;
	cfg->max_strs = VG_STRS_DEFAULT;
	cfg->argv_max = VG_ARGV_DEFAULT;
	cfg->max_flows = VG_FLOWS_DEFAULT;
	cfg->state_dir = VG_STATE_DIR;
	cfg->socket_path = VG_SOCKET_PATH;
}

/* bpffs is not mounted on a fresh machine: mount it where pins are expected. */
static int ensure_bpffs(const char *state_dir)
{
	struct statfs st;

	if (statfs("/sys/fs/bpf", &st) == 0 && st.f_type == BPF_FS_MAGIC)
		goto mkdir;
	mkdir("/sys/fs/bpf", 0700);
	if (mount("bpf", "/sys/fs/bpf", "bpf", 0, "mode=0700"))
		return -errno;
	vg_info("mounted bpffs at /sys/fs/bpf (it was not mounted)");
mkdir:
	if (mkdir(state_dir, 0700) && errno != EEXIST)
		return -errno;
	return 0;
}

/*
 * Syscall tracepoints are attached by id, which only tracefs tells: a fresh
 * machine doesn't mount it. libbpf looks in /sys/kernel/debug/tracing when
 * that exists (debugfs mounted), else in /sys/kernel/tracing.
 */
#define DEBUGFS_TRACING "/sys/kernel/debug/tracing"

/* Where libbpf will look (its rule: the debugfs path if it exists). */
static const char *tracefs_root(void)
{
	return access(DEBUGFS_TRACING, F_OK) == 0 ? DEBUGFS_TRACING : TRACEFS;
}

static int ensure_tracefs(void)
{
	struct statfs st;

	if (access(DEBUGFS_TRACING "/events", F_OK) == 0 ||
	    (statfs(TRACEFS, &st) == 0 && st.f_type == TRACEFS_MAGIC))
		return 0;
	if (mount("tracefs", TRACEFS, "tracefs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL))
		return -errno;
	vg_info("mounted tracefs at " TRACEFS " (it was not mounted)");
	return 0;
}

/* Does this kernel have the syscall tracepoint? (asking first keeps libbpf quiet) */
static bool tracepoint_exists(const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/events/syscalls/%s", tracefs_root(), name);
	return access(path, F_OK) == 0;
}

/* Remove every pin in the state directory (an incompatible earlier layout). */
static void state_discard(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d)))
		if (strncmp(e->d_name, "vg_", 3) == 0)
			unlinkat(dirfd(d), e->d_name, 0);
	closedir(d);
}

/*
 * Compare the pinned maps with this build's. Type, key/value size and flags
 * must match; a different size is adopted from the pin (with a warning) so a
 * changed --max-procs doesn't cost the history.
 */
static int state_check(struct vg_sensor *s, char *why, size_t whylen)
{
	struct bpf_object *obj = s->skel->obj;
	struct bpf_map *map;
	bool any = false;

	bpf_object__for_each_map(map, obj) {
		struct bpf_map_info info = {};
		uint32_t len = sizeof(info);
		const char *pin = bpf_map__pin_path(map);
		int fd;

		if (!pin)
			continue;
		fd = bpf_obj_get(pin);
		if (fd < 0)
			continue;
		any = true;
		if (bpf_obj_get_info_by_fd(fd, &info, &len)) {
			close(fd);
			continue;
		}
		close(fd);
		if (info.type != bpf_map__type(map) || info.key_size != bpf_map__key_size(map) ||
		    info.value_size != bpf_map__value_size(map) ||
		    info.map_flags != bpf_map__map_flags(map)) {
			snprintf(why, whylen, "pinned map %s has another layout", bpf_map__name(map));
			return -EPROTO;
		}
		/* An array indexed by an enum (counters) grows with the enum: a
		 * smaller pinned one would drop the new counters silently. */
		if (info.max_entries != bpf_map__max_entries(map) &&
		    map != s->skel->maps.vg_conns && /* sized by --max-flows, not by an enum */
		    (info.type == BPF_MAP_TYPE_ARRAY || info.type == BPF_MAP_TYPE_PERCPU_ARRAY)) {
			snprintf(why, whylen, "pinned map %s has %u entries, this vigil uses %u",
				 bpf_map__name(map), info.max_entries, bpf_map__max_entries(map));
			return -EPROTO;
		}
		if (info.max_entries != bpf_map__max_entries(map)) {
			vg_warn("%s: pinned with %u entries, keeping that (restart with --reset-state "
				"to apply %u)", bpf_map__name(map), info.max_entries,
				bpf_map__max_entries(map));
			bpf_map__set_max_entries(map, info.max_entries);
		}
	}
	if (any) {
		char path[512];
		struct vg_meta meta = {};
		uint32_t zero = 0;
		int fd;

		snprintf(path, sizeof(path), "%s/vg_meta", s->cfg.state_dir);
		fd = bpf_obj_get(path);
		if (fd < 0 || bpf_map_lookup_elem(fd, &zero, &meta)) {
			snprintf(why, whylen, "pinned state has no readable vg_meta");
			if (fd >= 0)
				close(fd);
			return -EPROTO;
		}
		close(fd);
		if (meta.magic != VG_ABI_MAGIC || meta.abi_version != VG_ABI_VERSION ||
		    meta.proc_size != sizeof(struct vg_proc) || meta.str_max != VG_STR_MAX) {
			snprintf(why, whylen, "pinned state is layout v%u (record %u B), this vigil uses v%u "
				 "(record %zu B)", meta.abi_version, meta.proc_size, VG_ABI_VERSION,
				 sizeof(struct vg_proc));
			return -EPROTO;
		}
		s->state_reused = true;
	}
	return 0;
}

static void maps_from_skel(struct vg_sensor *s)
{
	struct vigil_bpf *k = s->skel;
	struct vg_maps *m = &s->maps;

	m->procs = bpf_map__fd(k->maps.vg_procs);
	m->exitq = bpf_map__fd(k->maps.vg_exitq);
	m->live = bpf_map__fd(k->maps.vg_live);
	m->cgpaths = bpf_map__fd(k->maps.vg_cgpaths);
	m->stats = bpf_map__fd(k->maps.vg_stats);
	m->ustats = bpf_map__fd(k->maps.vg_ustats);
	m->gauge = bpf_map__fd(k->maps.vg_gauge);
	m->meta = bpf_map__fd(k->maps.vg_meta);
	m->strs[0] = bpf_map__fd(k->maps.vg_strs_s);
	m->strs[1] = bpf_map__fd(k->maps.vg_strs_m);
	m->strs[2] = bpf_map__fd(k->maps.vg_strs_l);
	m->files = bpf_map__fd(k->maps.vg_files);
	m->file_hot = bpf_map__fd(k->maps.vg_file_hot);
	m->socks = bpf_map__fd(k->maps.vg_socks);
	m->flows = bpf_map__fd(k->maps.vg_flows);
	m->conns = bpf_map__fd(k->maps.vg_conns);
	m->dnsq = bpf_map__fd(k->maps.vg_dnsq);
	m->dnsa = bpf_map__fd(k->maps.vg_dnsa);
	m->net_stats = bpf_map__fd(k->maps.vg_net_stats);
	m->net_ustats = bpf_map__fd(k->maps.vg_net_ustats);
}

static void meta_init(struct vg_sensor *s)
{
	struct vg_meta meta = {};
	uint32_t zero = 0;

	if (bpf_map_lookup_elem(s->maps.meta, &zero, &meta) == 0 && meta.magic == VG_ABI_MAGIC)
		return;
	meta.magic = VG_ABI_MAGIC;
	meta.abi_version = VG_ABI_VERSION;
	meta.proc_size = sizeof(struct vg_proc);
	meta.str_max = VG_STR_MAX;
	meta.created_ns = vg_now_real_ns();
	meta.boot_ns = vg_boot_offset_ns();
	bpf_map_update_elem(s->maps.meta, &zero, &meta, BPF_ANY);
}

/* The least power of two >= n (connection slots are indexed by cookie & (length - 1)). */
static uint32_t pow2_at_least(uint32_t n)
{
	uint32_t p = 64;

	while (p < n && p < (1u << 30))
		p <<= 1;
	return p;
}

static int skel_open(struct vg_sensor *s, bool with_snapshot)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .pin_root_path = s->cfg.state_dir);
	const struct vg_config *c = &s->cfg;
	struct vigil_bpf *k;
	uint32_t procs_high;

	k = vigil_bpf__open_opts(&opts);
	if (!k)
		return -errno;
	s->skel = k;
	procs_high = c->max_procs - c->max_procs / 16;
	k->rodata->vg_argv_max = c->argv_max;
	k->rodata->vg_procs_high = procs_high;
	k->rodata->vg_trace = c->trace;
	k->rodata->vg_self_tgid = getpid();
	k->rodata->vg_have_rdonly_cast = c->rdonly_cast;
	k->rodata->vg_sock_acct = c->sock_acct;
	bpf_program__set_autoload(k->progs.vg_flow_flush, c->sock_acct && c->conn_slots);
	bpf_program__set_autoload(k->progs.vg_flow_flush_hash, c->sock_acct && !c->conn_slots);
	bpf_program__set_autoload(k->progs.vg_sock_state, c->conn_slots);
	bpf_program__set_autoload(k->progs.vg_sock_state_hash, !c->conn_slots);
	k->rodata->vg_skb_current =
		libbpf_probe_bpf_helper(BPF_PROG_TYPE_CGROUP_SKB, BPF_FUNC_get_current_pid_tgid,
					NULL) == 1;
	bpf_map__set_max_entries(k->maps.vg_procs, c->max_procs);
	bpf_map__set_max_entries(k->maps.vg_exitq, c->max_procs);
	bpf_map__set_max_entries(k->maps.vg_live, c->max_procs);
	/* Short strings are mostly file paths: one per file entry can be live, so
	 * the short class gets room for four times as many; medium ones are mostly
	 * command lines (a compiler's), one per process record, and the process
	 * table is as large as a class: twice that (memory follows use). */
	bpf_map__set_max_entries(k->maps.vg_strs_s, c->max_strs * 4);
	bpf_map__set_max_entries(k->maps.vg_strs_m, c->max_strs * 2);
	bpf_map__set_max_entries(k->maps.vg_strs_l, c->max_strs);
	bpf_map__set_max_entries(k->maps.vg_flows, c->max_flows);
	/* without slots (no compare-and-exchange) nothing takes one: one slot, never used */
	bpf_map__set_max_entries(k->maps.vg_conns, c->conn_slots ? pow2_at_least(c->max_flows) : 1);
	bpf_program__set_autoload(k->progs.vg_snapshot, with_snapshot);
	/* BPF-LSM programs (lsm.bpf.c) load only where the probe saw LSM work:
	 * elsewhere the kernel refuses them and the whole load would fail. */
	{
		struct bpf_program *prog;

		bpf_object__for_each_program(prog, k->obj)
			if (!strncmp(bpf_program__section_name(prog), "lsm/", 4))
				bpf_program__set_autoload(prog, c->lsm);
	}
	return 0;
}

/* The eviction threshold and the connection slots' mask must follow the table sizes
 * actually in use (maybe pinned). */
static void fix_table_sizes(struct vg_sensor *s)
{
	uint32_t max = bpf_map__max_entries(s->skel->maps.vg_procs);

	s->skel->rodata->vg_procs_high = max - max / 16;
	s->cfg.max_procs = max;
	s->skel->rodata->vg_conns_mask = bpf_map__max_entries(s->skel->maps.vg_conns) - 1;
}

static int load(struct vg_sensor *s, char *why, size_t whylen)
{
	bool with_snapshot = !s->cfg.force_proc_snapshot;
	int err;

again:
	err = skel_open(s, with_snapshot);
	if (err) {
		snprintf(why, whylen, "opening the embedded BPF object: %s", strerror(-err));
		return err;
	}
	err = state_check(s, why, whylen);
	if (err == -EPROTO) {
		snprintf(s->reset_reason, sizeof(s->reset_reason), "%s", why);
		vg_warn("%s: discarding it and starting a fresh state", why);
		state_discard(s->cfg.state_dir);
		s->state_reset = true;
		s->state_reused = false;
		vigil_bpf__destroy(s->skel);
		s->skel = NULL;
		goto again;
	}
	if (s->cfg.reset_state && s->state_reused) {
		state_discard(s->cfg.state_dir);
		s->state_reused = false;
		vigil_bpf__destroy(s->skel);
		s->skel = NULL;
		s->cfg.reset_state = false;
		goto again;
	}
	fix_table_sizes(s);
	err = vigil_bpf__load(s->skel);
	if (err) {
		snprintf(why, whylen, "loading BPF programs: %s (run with VIGIL_DEBUG=1 for the "
			 "verifier log)", strerror(-err));
		return err;
	}
	s->snap_mode = with_snapshot ? VG_SNAP_ITER : VG_SNAP_PROC;
	maps_from_skel(s);
	meta_init(s);
	vg_meta_sync_clock(&s->maps);
	if (s->state_reset)
		vg_ustat_add(&s->maps, VG_ST_STATE_RESET, 1);
	return 0;
}

/*
 * The file-activity tracepoints, by program: each program handles every
 * syscall of its shape (the number is in the record). Marked optional ('?'):
 * syscalls younger than the oldest kernel vigil supports; missing, they are
 * skipped.
 */
struct tp_set {
	const char *prog;
	const char *const *calls;
};

static const char *const file_open_calls[] = {
	"open", "openat", "openat2", "creat", "open_by_handle_at", "memfd_create", NULL
};
static const char *const file_mmap_calls[] = { "mmap", NULL };
static const char *const file_op_calls[] = {
	"unlink", "unlinkat", "rmdir", "rename", "renameat", "renameat2", "chmod", "fchmod",
	"fchmodat", "?fchmodat2", "chown", "fchown", "lchown", "fchownat", "truncate",
	"ftruncate", "link", "linkat", "symlink", "symlinkat", "utime", "utimes", "futimesat",
	"utimensat", "mknod", "mknodat", "setxattr", "lsetxattr", "fsetxattr", "?setxattrat", NULL
};
static const struct tp_set tp_sets[] = {
	{ "vg_file_open", file_open_calls },
	{ "vg_file_mmap", file_mmap_calls },
	{ "vg_file_op", file_op_calls },
};

/*
 * Syscall rules (vg_sys) until the daemon says which syscalls its rules name
 * (vg_sensor_hook_syscalls): every syscall a rule can ask the kernel about
 * the process it names, and the ones the default rules use.
 */
static const char *const sys_default[] = {
	"ptrace", "process_vm_readv", "process_vm_writev", "init_module", "finit_module",
	"delete_module", "bpf", "setuid", "setgid", "setreuid", "setregid", "setresuid",
	"setresgid", "setfsuid", "setfsgid", "capset", "unshare", "setns", "mount", "umount2",
	"kill", "tkill", "tgkill", "pidfd_open", "memfd_create", "pivot_root", "chroot", "keyctl",
	"personality", "socket",
};

/* A syscall's tracepoint is named for its kernel function, not always the syscall. */
const char *vg_sensor_tracepoint_of(const char *name)
{
	static const char *const alias[][2] = {
		{ "umount2", "umount" }, { "stat", "newstat" }, { "fstat", "newfstat" },
		{ "lstat", "newlstat" }, { "uname", "newuname" }, { "sendfile", "sendfile64" },
	};

	for (size_t i = 0; i < sizeof(alias) / sizeof(alias[0]); i++)
		if (!strcmp(name, alias[i][0]))
			return alias[i][1];
	return name;
}

static void note(char *buf, size_t len, const char *word)
{
	size_t n = strlen(buf);

	if (n + 2 < len)
		snprintf(buf + n, len - n, "%s%s", n ? " " : "", word);
}

static int attach_file_hooks(struct vg_sensor *s, char *why, size_t whylen)
{
	size_t cap = 0;
	char missing[160] = "";

	for (size_t i = 0; i < sizeof(tp_sets) / sizeof(tp_sets[0]); i++)
		for (const char *const *c = tp_sets[i].calls; *c; c++)
			cap++;
	s->tp_links = calloc(cap, sizeof(*s->tp_links));
	if (!s->tp_links)
		return -ENOMEM;
	for (size_t i = 0; i < sizeof(tp_sets) / sizeof(tp_sets[0]); i++) {
		struct bpf_program *prog =
			bpf_object__find_program_by_name(s->skel->obj, tp_sets[i].prog);

		for (const char *const *c = tp_sets[i].calls; prog && *c; c++) {
			bool optional = **c == '?';
			const char *name = *c + optional;
			char tp[64];
			struct bpf_link *l;

			snprintf(tp, sizeof(tp), "sys_exit_%s", name);
			if (optional && !tracepoint_exists(tp)) {
				note(missing, sizeof(missing), name);
				continue;
			}
			l = bpf_program__attach_tracepoint(prog, "syscalls", tp);
			if (l) {
				s->tp_links[s->ntp_links++] = l;
				continue;
			}
			snprintf(why, whylen, "attaching %s to syscalls:%s: %s%s", tp_sets[i].prog, tp,
				 strerror(errno), errno == ENOENT ? " (is tracefs mounted? "
				 "CONFIG_FTRACE_SYSCALLS?)" : "");
			return -errno;
		}
	}
	if (missing[0])
		vg_info("file activity: syscalls this kernel doesn't have, not hooked: %s", missing);
	return 0;
}

int vg_sensor_hook_syscalls(struct vg_sensor *s, const char *const *names, size_t n, char *why,
			    size_t whylen)
{
	struct bpf_program *prog = s->skel ? s->skel->progs.vg_sys : NULL;
	struct vg_sys_hook *hooks;
	size_t kept = 0;
	char missing[256] = "";
	int err = 0;

	if (why && whylen)
		why[0] = 0;
	if (!prog)
		return -EINVAL;
	/* Unhook what is no longer named. */
	for (size_t i = 0; i < s->nsys_hooks; i++) {
		bool wanted = false;

		for (size_t j = 0; j < n && !wanted; j++)
			wanted = !strcmp(s->sys_hooks[i].name, names[j]);
		if (wanted)
			s->sys_hooks[kept++] = s->sys_hooks[i];
		else
			bpf_link__destroy(s->sys_hooks[i].link);
	}
	s->nsys_hooks = kept;
	hooks = realloc(s->sys_hooks, (kept + n + 1) * sizeof(*hooks));
	if (!hooks)
		return -ENOMEM;
	s->sys_hooks = hooks;
	/* Hook what is newly named; a syscall this kernel lacks is noted and skipped. */
	for (size_t j = 0; j < n; j++) {
		char tp[64];
		bool have = false;
		struct bpf_link *l;

		for (size_t i = 0; i < s->nsys_hooks && !have; i++)
			have = !strcmp(s->sys_hooks[i].name, names[j]);
		if (have || strlen(names[j]) >= sizeof(hooks->name))
			continue;
		snprintf(tp, sizeof(tp), "sys_exit_%s", vg_sensor_tracepoint_of(names[j]));
		if (!tracepoint_exists(tp)) {
			note(missing, sizeof(missing), names[j]);
			continue;
		}
		l = bpf_program__attach_tracepoint(prog, "syscalls", tp);
		if (!l) {
			err = -errno;
			if (why)
				snprintf(why, whylen, "attaching vg_sys to syscalls:%s: %s", tp,
					 strerror(-err));
			break;
		}
		snprintf(s->sys_hooks[s->nsys_hooks].name, sizeof(hooks->name), "%s", names[j]);
		s->sys_hooks[s->nsys_hooks++].link = l;
	}
	if (missing[0])
		vg_info("syscall rules: syscalls this kernel doesn't have, not hooked: %s", missing);
	return err;
}

static int attach(struct vg_sensor *s, char *why, size_t whylen)
{
	struct bpf_program *progs[] = { s->skel->progs.vg_fork, s->skel->progs.vg_exec,
					s->skel->progs.vg_exit };
	struct bpf_link **links[] = { &s->skel->links.vg_fork, &s->skel->links.vg_exec,
				      &s->skel->links.vg_exit };

	int err;

	for (size_t i = 0; i < sizeof(progs) / sizeof(progs[0]); i++) {
		*links[i] = bpf_program__attach(progs[i]);
		if (!*links[i]) {
			err = -errno;
			snprintf(why, whylen, "attaching %s: %s", bpf_program__name(progs[i]),
				 strerror(-err));
			return err;
		}
	}
	err = ensure_tracefs();
	if (err) {
		snprintf(why, whylen, "mounting tracefs at " TRACEFS " (syscall tracepoints need "
			 "it): %s", strerror(-err));
		return err;
	}
	err = attach_file_hooks(s, why, whylen);
	if (err)
		return err;
	err = vg_net_attach(s, why, whylen);
	if (err)
		return err;
	return vg_sensor_hook_syscalls(s, sys_default, sizeof(sys_default) / sizeof(sys_default[0]),
				       why, whylen);
}

int vg_sensor_start(struct vg_sensor *s, const struct vg_config *cfg, char *why, size_t whylen)
{
	int err;

	memset(s, 0, sizeof(*s));
	s->cfg = *cfg;
	s->stats_fd = -1;
	vg_maps_init(&s->maps);

	err = ensure_bpffs(cfg->state_dir);
	if (err) {
		snprintf(why, whylen, "preparing %s on bpffs: %s", cfg->state_dir, strerror(-err));
		return err;
	}
	err = load(s, why, whylen);
	if (err)
		goto fail;
	/* Run-time stats cost every BPF program on the machine two clock reads per run
	 * (~2 % of an open storm here): only when asked for. */
	if (cfg->bpf_stats)
		s->stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
	err = attach(s, why, whylen);
	if (err)
		goto fail;
	s->start_boot_ns = vg_now_boot_ns();
	err = vg_snapshot_take(s, why, whylen);
	if (err)
		goto fail;
	return 0;
fail:
	vg_sensor_stop(s);
	return err;
}

void vg_sensor_stop(struct vg_sensor *s)
{
	struct bpf_link **all;
	size_t n = 0;

	/* Links go, programs detach; the pinned maps (the history) stay. */
	vg_net_detach(s);
	all = calloc(s->ntp_links + s->nsys_hooks + 1, sizeof(*all));
	for (size_t i = 0; i < s->ntp_links; i++) {
		if (all)
			all[n++] = s->tp_links[i];
		else
			bpf_link__destroy(s->tp_links[i]);
	}
	for (size_t i = 0; i < s->nsys_hooks; i++) {
		if (all)
			all[n++] = s->sys_hooks[i].link;
		else
			bpf_link__destroy(s->sys_hooks[i].link);
	}
	vg_links_destroy(all, n);
	free(all);
	free(s->tp_links);
	s->tp_links = NULL;
	s->ntp_links = 0;
	free(s->sys_hooks);
	s->sys_hooks = NULL;
	s->nsys_hooks = 0;
	if (s->skel)
		vigil_bpf__destroy(s->skel);
	s->skel = NULL;
	if (s->stats_fd >= 0)
		close(s->stats_fd);
	s->stats_fd = -1;
	vg_maps_init(&s->maps);
}

int vg_sensor_events_fd(const struct vg_sensor *s)
{
	return bpf_map__fd(s->skel->maps.vg_events);
}

struct bpf_object *vg_sensor_object(const struct vg_sensor *s)
{
	return s->skel->obj;
}
