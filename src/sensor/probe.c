// SPDX-License-Identifier: GPL-2.0
/*
 * Kernel feature probing: every feature is tested by doing the thing —
 * loading a tiny program, creating a map or a link — never by reading a
 * kernel config or the LSM list alone, because policy makes them lie: a
 * kernel can list "bpf" as an active LSM and still refuse to load an LSM
 * program (EPERM), as the development machine does.
 *
 * Every program built here returns 0 (or 1 where 1 means "allow") and does
 * nothing else. Whatever is attached is detached again before the probe
 * returns; the only things that can outlive a run are the securityfs mount
 * needed to read the active LSM list (said so in the lsm_listed detail).
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <linux/bpf.h>
#include <linux/perf_event.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "sensor/probe.h"

#define SECURITYFS_DIR "/sys/kernel/security"
#define LSM_LIST_PATH SECURITYFS_DIR "/lsm"
#define KPROBE_PMU_TYPE "/sys/bus/event_source/devices/kprobe/type"
#define PROBE_PROG_NAME "vg_probe"
#define ENOTSUPP_KERNEL 524 /* kernel-internal ENOTSUPP, leaks out of bpf() */

/*
 * Instruction builders, as in the kernel's filter.h (which the uapi headers
 * don't ship). Only what the probe programs below need.
 */
#define BPF_MOV64_IMM(DST, IMM) \
	((struct bpf_insn){ .code = BPF_ALU64 | BPF_MOV | BPF_K, \
			    .dst_reg = DST, .imm = IMM })
#define BPF_MOV64_REG(DST, SRC) \
	((struct bpf_insn){ .code = BPF_ALU64 | BPF_MOV | BPF_X, \
			    .dst_reg = DST, .src_reg = SRC })
#define BPF_ALU64_IMM(OP, DST, IMM) \
	((struct bpf_insn){ .code = BPF_ALU64 | BPF_OP(OP) | BPF_K, \
			    .dst_reg = DST, .imm = IMM })
#define BPF_LDX_MEM(SIZE, DST, SRC, OFF) \
	((struct bpf_insn){ .code = BPF_LDX | BPF_SIZE(SIZE) | BPF_MEM, \
			    .dst_reg = DST, .src_reg = SRC, .off = OFF })
#define BPF_ST_MEM(SIZE, DST, OFF, IMM) \
	((struct bpf_insn){ .code = BPF_ST | BPF_SIZE(SIZE) | BPF_MEM, \
			    .dst_reg = DST, .off = OFF, .imm = IMM })
#define BPF_JMP_IMM(OP, DST, IMM, OFF) \
	((struct bpf_insn){ .code = BPF_JMP | BPF_OP(OP) | BPF_K, \
			    .dst_reg = DST, .off = OFF, .imm = IMM })
#define BPF_LD_MAP_FD(DST, MAP_FD) \
	((struct bpf_insn){ .code = BPF_LD | BPF_DW | BPF_IMM, .dst_reg = DST, \
			    .src_reg = BPF_PSEUDO_MAP_FD, .imm = MAP_FD }), \
	((struct bpf_insn){ .imm = 0 })
#define BPF_CALL_HELPER(FN) \
	((struct bpf_insn){ .code = BPF_JMP | BPF_CALL, .imm = FN })
#define BPF_EXIT_INSN() ((struct bpf_insn){ .code = BPF_JMP | BPF_EXIT })

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

struct probe_ctx {
	struct vg_probe *p;
	struct btf *vmlinux;	/* NULL when vmlinux BTF did not load */
	const char *cgroup2;	/* cgroup2 mount point, NULL if none */
};

struct prog_spec {
	enum bpf_prog_type type;
	enum bpf_attach_type attach;
	__u32 btf_id;
	__u32 flags;
	const struct bpf_insn *insns;
	size_t cnt;
};

/* Return 0 from a program: allow / do nothing. */
static const struct bpf_insn prog_ret0[] = {
	BPF_MOV64_IMM(BPF_REG_0, 0),
	BPF_EXIT_INSN(),
};

/* Return 1 from a cgroup program: allow the connect / pass the packet. */
static const struct bpf_insn prog_ret1[] = {
	BPF_MOV64_IMM(BPF_REG_0, 1),
	BPF_EXIT_INSN(),
};

static const char *const feat_names[VG_FEAT_MAX] = {
	[VG_FEAT_BTF]              = "btf",
	[VG_FEAT_TP_BTF]           = "tp_btf",
	[VG_FEAT_RINGBUF]          = "ringbuf",
	[VG_FEAT_ITER_TASK]        = "iter_task",
	[VG_FEAT_ITER_TASK_SLEEP]  = "iter_task_sleepable",
	[VG_FEAT_NOPREALLOC]       = "noprealloc",
	[VG_FEAT_CGROUP_V2]        = "cgroup_v2",
	[VG_FEAT_CGROUP_SOCK_ADDR] = "cgroup_sock_addr",
	[VG_FEAT_CGROUP_SKB]       = "cgroup_skb",
	[VG_FEAT_SEND_SIGNAL]      = "send_signal",
	[VG_FEAT_FENTRY]           = "fentry",
	[VG_FEAT_KPROBE]           = "kprobe",
	[VG_FEAT_LSM_LISTED]       = "lsm_listed",
	[VG_FEAT_LSM]              = "lsm",
	[VG_FEAT_BPF_STATS]        = "bpf_stats",
	[VG_FEAT_RDONLY_CAST]      = "rdonly_cast",
	[VG_FEAT_ITER_SOCK_FILE]   = "iter_sock_file",
	[VG_FEAT_CMPXCHG]          = "cmpxchg",
};

const char *vg_feat_name(enum vg_feat f)
{
	if ((unsigned int)f >= VG_FEAT_MAX)
		return "unknown";
	return feat_names[f];
}

const char *vg_tier_name(enum vg_tier t)
{
	switch (t) {
	case VG_TIER_LSM:
		return "lsm";
	case VG_TIER_SIGNAL:
		return "signal";
	case VG_TIER_OBSERVE:
		return "observe";
	}
	return "unknown";
}

bool vg_probe_has(const struct vg_probe *p, enum vg_feat f)
{
	return p && (unsigned int)f < VG_FEAT_MAX && p->f[f].ok;
}

/* ---- detail strings ---- */

static const char *errno_name(int err)
{
	static const struct {
		int err;
		const char *name;
	} names[] = {
		{ EPERM, "EPERM" },	{ ENOENT, "ENOENT" },
		{ ESRCH, "ESRCH" },	{ EIO, "EIO" },
		{ E2BIG, "E2BIG" },	{ EBADF, "EBADF" },
		{ ENOMEM, "ENOMEM" },	{ EACCES, "EACCES" },
		{ EFAULT, "EFAULT" },	{ EBUSY, "EBUSY" },
		{ EEXIST, "EEXIST" },	{ ENODEV, "ENODEV" },
		{ ENOTDIR, "ENOTDIR" },	{ EINVAL, "EINVAL" },
		{ ENOSPC, "ENOSPC" },	{ ENOSYS, "ENOSYS" },
		{ EOPNOTSUPP, "EOPNOTSUPP" },
		{ ENOTSUPP_KERNEL, "ENOTSUPP" },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(names); i++)
		if (names[i].err == err)
			return names[i].name;
	return NULL;
}

/* "Operation not permitted (EPERM)" for a positive or negative errno. */
static void errno_text(int err, char *buf, size_t len)
{
	const char *name;

	if (err < 0)
		err = -err;
	name = errno_name(err);
	if (err == ENOTSUPP_KERNEL)
		snprintf(buf, len, "Not supported (ENOTSUPP)");
	else if (name)
		snprintf(buf, len, "%s (%s)", strerror(err), name);
	else
		snprintf(buf, len, "%s", strerror(err));
}

__attribute__((format(printf, 3, 4)))
static void feat_set(struct vg_feature *f, bool ok, const char *fmt, ...)
{
	va_list ap;

	f->ok = ok;
	va_start(ap, fmt);
	vsnprintf(f->detail, sizeof(f->detail), fmt, ap);
	va_end(ap);
}

/* Record a failed step: "attach: Operation not permitted (EPERM)". */
static void feat_fail(struct vg_feature *f, const char *step, int err)
{
	char text[64];

	errno_text(err, text, sizeof(text));
	feat_set(f, false, "%s: %s", step, text);
}

/* Verifier statistics, printed after the error on newer kernels. */
static bool log_line_is_stats(const char *line)
{
	return !strncmp(line, "processed ", 10) ||
	       !strncmp(line, "verification time", 17) ||
	       !strncmp(line, "stack depth", 11);
}

/* The verifier's last word: the last line of its log that isn't statistics. */
static const char *log_last_line(char *log)
{
	char *end = log + strlen(log), *line;

	for (;;) {
		while (end > log && isspace((unsigned char)end[-1]))
			*--end = '\0';
		line = end;
		while (line > log && line[-1] != '\n')
			line--;
		if (!log_line_is_stats(line))
			return line;
		if (line == log)
			return "";
		end = line;
	}
}

/* ---- loading and attaching ---- */

static __u32 kernel_version_code(void)
{
	unsigned int major = 0, minor = 0, patch = 0;
	struct utsname u;

	if (uname(&u) || sscanf(u.release, "%u.%u.%u", &major, &minor, &patch) < 2)
		return 0;
	if (patch > 255)
		patch = 255;
	return (major << 16) | (minor << 8) | patch;
}

static int prog_load_opts(const struct prog_spec *s, char *log, size_t log_len)
{
	LIBBPF_OPTS(bpf_prog_load_opts, o,
		    .expected_attach_type = s->attach,
		    .attach_btf_id = s->btf_id,
		    .prog_flags = s->flags,
		    .kern_version = kernel_version_code(),
		    .log_buf = log,
		    .log_size = log_len,
		    .log_level = log ? 1 : 0);

	return bpf_prog_load(s->type, PROBE_PROG_NAME, "GPL", s->insns, s->cnt, &o);
}

/*
 * Load a probe program; on failure say why in f. The first try runs
 * without a verifier log so the errno reported is the kernel's real answer;
 * a second try only fetches the verifier's explanation.
 */
static int prog_load(const struct prog_spec *s, struct vg_feature *f)
{
	char log[4096] = "";
	char text[64];
	const char *why;
	int fd, err;

	fd = prog_load_opts(s, NULL, 0);
	if (fd >= 0)
		return fd;
	err = fd;
	fd = prog_load_opts(s, log, sizeof(log));
	if (fd >= 0)
		close(fd);
	errno_text(err, text, sizeof(text));
	why = log_last_line(log);
	if (*why)
		feat_set(f, false, "load: %s: %s", text, why);
	else
		feat_set(f, false, "load: %s", text);
	return err;
}

/* The BTF id of a vmlinux type; on failure say why in f. */
static int btf_id(const struct probe_ctx *c, const char *name, __u32 kind,
		  struct vg_feature *f)
{
	int id;

	if (!c->vmlinux) {
		feat_set(f, false, "needs vmlinux BTF");
		return -ENOENT;
	}
	id = btf__find_by_name_kind(c->vmlinux, name, kind);
	if (id < 0)
		feat_set(f, false, "%s not in vmlinux BTF", name);
	return id;
}

/* The first of names that vmlinux BTF has as a function, or NULL. */
static const char *btf_first_func(const struct probe_ctx *c,
				  const char *const *names, size_t n)
{
	size_t i;

	if (!c->vmlinux)
		return NULL;
	for (i = 0; i < n; i++)
		if (btf__find_by_name_kind(c->vmlinux, names[i], BTF_KIND_FUNC) > 0)
			return names[i];
	return NULL;
}

/*
 * Attach a BTF-typed program (tp_btf, fentry, lsm) the way every kernel
 * since 5.5 accepts, and detach it again at once.
 */
static int attach_btf_prog(int prog_fd, struct vg_feature *f)
{
	int link = bpf_raw_tracepoint_open(NULL, prog_fd);

	if (link < 0) {
		feat_fail(f, "attach", link);
		return link;
	}
	close(link);
	return 0;
}

/* Load a program that needs a vmlinux BTF target, attach, detach. */
static int load_attach_btf(const struct probe_ctx *c, struct prog_spec *s,
			   const char *target, __u32 kind, struct vg_feature *f)
{
	int id, fd, err;

	id = btf_id(c, target, kind, f);
	if (id < 0)
		return id;
	s->btf_id = id;
	fd = prog_load(s, f);
	if (fd < 0)
		return fd;
	err = attach_btf_prog(fd, f);
	close(fd);
	return err;
}

/* ---- the probes ---- */

static void probe_btf(struct probe_ctx *c, struct vg_feature *f)
{
	c->vmlinux = btf__load_vmlinux_btf();
	if (!c->vmlinux) {
		feat_fail(f, "load vmlinux BTF", errno ? errno : ENOENT);
		return;
	}
	feat_set(f, true, "vmlinux, %u types", btf__type_cnt(c->vmlinux) - 1);
}

static void probe_tp_btf(struct probe_ctx *c, struct vg_feature *f)
{
	struct prog_spec s = {
		.type = BPF_PROG_TYPE_TRACING,
		.attach = BPF_TRACE_RAW_TP,
		.insns = prog_ret0,
		.cnt = ARRAY_SIZE(prog_ret0),
	};

	if (load_attach_btf(c, &s, "btf_trace_sched_process_exec",
			    BTF_KIND_TYPEDEF, f) == 0)
		feat_set(f, true, "sched_process_exec attached and detached");
}

static void probe_ringbuf(struct probe_ctx *c, struct vg_feature *f)
{
	long page = sysconf(_SC_PAGESIZE);
	int fd;

	fd = bpf_map_create(BPF_MAP_TYPE_RINGBUF, "vg_probe_rb", 0, 0,
			    page > 0 ? page : 4096, NULL);
	if (fd < 0) {
		feat_fail(f, "map create", fd);
		return;
	}
	close(fd);
	feat_set(f, true, "map created");
}

/* Run an iterator link once over every task; the program prints nothing. */
static int iter_run(int link, struct vg_feature *f)
{
	char buf[64];
	ssize_t n;
	int fd;

	fd = bpf_iter_create(link);
	if (fd < 0) {
		feat_fail(f, "iter create", fd);
		return fd;
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		;
	if (n < 0) {
		n = -errno;
		feat_fail(f, "iter read", (int)n);
	}
	close(fd);
	return (int)n;
}

/* Load an iter/task program, create its link and run it once. */
static int iter_probe(const struct probe_ctx *c, const char *target, struct prog_spec *s,
		      struct vg_feature *f)
{
	int id, fd, link, err;

	id = btf_id(c, target, BTF_KIND_FUNC, f);
	if (id < 0)
		return id;
	s->btf_id = id;
	fd = prog_load(s, f);
	if (fd < 0)
		return fd;
	link = bpf_link_create(fd, 0, BPF_TRACE_ITER, NULL);
	if (link < 0) {
		feat_fail(f, "link create", link);
		err = link;
		goto out;
	}
	err = iter_run(link, f);
	close(link);
out:
	close(fd);
	return err;
}

static void probe_iter_task(struct probe_ctx *c, struct vg_feature *f)
{
	struct prog_spec s = {
		.type = BPF_PROG_TYPE_TRACING,
		.attach = BPF_TRACE_ITER,
		.insns = prog_ret0,
		.cnt = ARRAY_SIZE(prog_ret0),
	};

	if (iter_probe(c, "bpf_iter_task", &s, f) == 0)
		feat_set(f, true, "link created, ran over all tasks");
}

/*
 * iter.s/task reading 8 bytes of each task's user memory at address 0: the
 * helper fails (zeroing the buffer) but the verifier has to accept a
 * sleepable iterator calling it, which is the feature.
 */
static void probe_iter_task_sleep(struct probe_ctx *c, struct vg_feature *f)
{
	static const struct bpf_insn insns[] = {
		/* r6 = ctx->task (struct bpf_iter__task: meta, task) */
		BPF_LDX_MEM(BPF_DW, BPF_REG_6, BPF_REG_1, 8),
		BPF_JMP_IMM(BPF_JEQ, BPF_REG_6, 0, 7),
		BPF_MOV64_REG(BPF_REG_1, BPF_REG_10),
		BPF_ALU64_IMM(BPF_ADD, BPF_REG_1, -8),	/* dst */
		BPF_MOV64_IMM(BPF_REG_2, 8),		/* size */
		BPF_MOV64_IMM(BPF_REG_3, 0),		/* user_ptr */
		BPF_MOV64_REG(BPF_REG_4, BPF_REG_6),	/* tsk */
		BPF_MOV64_IMM(BPF_REG_5, 0),		/* flags */
		BPF_CALL_HELPER(BPF_FUNC_copy_from_user_task),
		BPF_MOV64_IMM(BPF_REG_0, 0),
		BPF_EXIT_INSN(),
	};
	struct prog_spec s = {
		.type = BPF_PROG_TYPE_TRACING,
		.attach = BPF_TRACE_ITER,
		.flags = BPF_F_SLEEPABLE,
		.insns = insns,
		.cnt = ARRAY_SIZE(insns),
	};

	if (iter_probe(c, "bpf_iter_task", &s, f) == 0)
		feat_set(f, true, "bpf_copy_from_user_task accepted, ran over all tasks");
}

/* A tp_btf program (attach target btf_id) looking up key 0 in map. */
static int lookup_prog_load(int btf_id, int map, struct vg_feature *f)
{
	const struct bpf_insn insns[] = {
		BPF_ST_MEM(BPF_W, BPF_REG_10, -4, 0),
		BPF_MOV64_REG(BPF_REG_2, BPF_REG_10),
		BPF_ALU64_IMM(BPF_ADD, BPF_REG_2, -4),
		BPF_LD_MAP_FD(BPF_REG_1, map),
		BPF_CALL_HELPER(BPF_FUNC_map_lookup_elem),
		BPF_MOV64_IMM(BPF_REG_0, 0),
		BPF_EXIT_INSN(),
	};
	struct prog_spec s = {
		.type = BPF_PROG_TYPE_TRACING,
		.attach = BPF_TRACE_RAW_TP,
		.btf_id = btf_id,
		.insns = insns,
		.cnt = ARRAY_SIZE(insns),
	};

	return prog_load(&s, f);
}

/*
 * A BPF_F_NO_PREALLOC hash used from a tracing program: loaded, not
 * attached. Older kernels refused run-time allocation in tracing context.
 */
static void probe_noprealloc(struct probe_ctx *c, struct vg_feature *f)
{
	LIBBPF_OPTS(bpf_map_create_opts, mo, .map_flags = BPF_F_NO_PREALLOC);
	int id, map, fd;

	id = btf_id(c, "btf_trace_sched_process_exec", BTF_KIND_TYPEDEF, f);
	if (id < 0)
		return;
	map = bpf_map_create(BPF_MAP_TYPE_HASH, "vg_probe_np", sizeof(__u32),
			     sizeof(__u64), 16, &mo);
	if (map < 0) {
		feat_fail(f, "map create", map);
		return;
	}
	fd = lookup_prog_load(id, map, f);
	if (fd >= 0) {
		close(fd);
		feat_set(f, true, "hash map looked up from a tp_btf program");
	}
	close(map);
}

static void probe_cgroup_v2(struct probe_ctx *c, struct vg_feature *f)
{
	const char *path = vg_cgroup2_mount();

	if (!path) {
		feat_set(f, false, "no cgroup2 mount in /proc/self/mountinfo");
		return;
	}
	c->cgroup2 = path;
	snprintf(c->p->cgroup2_path, sizeof(c->p->cgroup2_path), "%s", path);
	feat_set(f, true, "%s", path);
}

/* Load a cgroup program returning 1, link it at the cgroup2 root, unlink. */
static int cgroup_probe(const struct probe_ctx *c, enum bpf_prog_type type,
			enum bpf_attach_type attach, struct vg_feature *f)
{
	struct prog_spec s = {
		.type = type,
		.attach = attach,
		.insns = prog_ret1,
		.cnt = ARRAY_SIZE(prog_ret1),
	};
	int cg, fd, link, err = 0;

	if (!c->cgroup2) {
		feat_set(f, false, "needs a cgroup2 mount");
		return -ENOENT;
	}
	cg = open(c->cgroup2, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cg < 0) {
		err = -errno;
		feat_fail(f, "open cgroup2 root", err);
		return err;
	}
	fd = prog_load(&s, f);
	if (fd < 0) {
		err = fd;
		goto out;
	}
	link = bpf_link_create(fd, cg, attach, NULL);
	if (link < 0) {
		feat_fail(f, "attach", link);
		err = link;
	} else {
		close(link);
	}
	close(fd);
out:
	close(cg);
	return err;
}

static void probe_cgroup_sock_addr(struct probe_ctx *c, struct vg_feature *f)
{
	if (cgroup_probe(c, BPF_PROG_TYPE_CGROUP_SOCK_ADDR,
			 BPF_CGROUP_INET4_CONNECT, f) == 0)
		feat_set(f, true, "connect4 linked at the cgroup2 root and unlinked");
}

static void probe_cgroup_skb(struct probe_ctx *c, struct vg_feature *f)
{
	if (cgroup_probe(c, BPF_PROG_TYPE_CGROUP_SKB,
			 BPF_CGROUP_INET_EGRESS, f) == 0)
		feat_set(f, true, "egress linked at the cgroup2 root and unlinked");
}

/*
 * A tp_btf program calling bpf_send_signal(0). Loaded only, never attached:
 * accepting the helper is the feature, and signal 0 keeps it harmless even
 * if it ever were.
 */
static void probe_send_signal(struct probe_ctx *c, struct vg_feature *f)
{
	static const struct bpf_insn insns[] = {
		BPF_MOV64_IMM(BPF_REG_1, 0),
		BPF_CALL_HELPER(BPF_FUNC_send_signal),
		BPF_MOV64_IMM(BPF_REG_0, 0),
		BPF_EXIT_INSN(),
	};
	struct prog_spec s = {
		.type = BPF_PROG_TYPE_TRACING,
		.attach = BPF_TRACE_RAW_TP,
		.insns = insns,
		.cnt = ARRAY_SIZE(insns),
	};
	int id, fd;

	id = btf_id(c, "btf_trace_sched_process_exec", BTF_KIND_TYPEDEF, f);
	if (id < 0)
		return;
	s.btf_id = id;
	fd = prog_load(&s, f);
	if (fd < 0)
		return;
	close(fd);
	feat_set(f, true, "helper accepted in a tp_btf program (not attached)");
}

/* Stable, non-inlined functions to hang an fentry or a kprobe on. */
static const char *const probe_targets[] = {
	"do_unlinkat", "vfs_unlink", "security_file_open",
};

static void probe_fentry(struct probe_ctx *c, struct vg_feature *f)
{
	struct prog_spec s = {
		.type = BPF_PROG_TYPE_TRACING,
		.attach = BPF_TRACE_FENTRY,
		.insns = prog_ret0,
		.cnt = ARRAY_SIZE(prog_ret0),
	};
	const char *fn = btf_first_func(c, probe_targets, ARRAY_SIZE(probe_targets));

	if (!fn) {
		feat_set(f, false, c->vmlinux ? "no target function in vmlinux BTF"
					      : "needs vmlinux BTF");
		return;
	}
	if (load_attach_btf(c, &s, fn, BTF_KIND_FUNC, f) == 0)
		feat_set(f, true, "%s attached and detached", fn);
}

static int kprobe_pmu_type(void)
{
	FILE *fp = fopen(KPROBE_PMU_TYPE, "re");
	int type = -ENOENT;

	if (!fp)
		return -errno;
	if (fscanf(fp, "%d", &type) != 1)
		type = -EINVAL;
	fclose(fp);
	return type;
}

/* A kprobe perf event on fn (the kprobe PMU, kernels >= 4.17). */
static int kprobe_perf_open(const char *fn, struct vg_feature *f)
{
	struct perf_event_attr attr = { .size = sizeof(attr) };
	int type = kprobe_pmu_type();
	int pfd;

	if (type < 0) {
		feat_set(f, false, "no kprobe PMU");
		return type;
	}
	attr.type = type;
	attr.config1 = (__u64)(uintptr_t)fn;	/* kprobe_func */
	attr.config2 = 0;			/* offset */
	pfd = syscall(__NR_perf_event_open, &attr, -1, 0, -1, PERF_FLAG_FD_CLOEXEC);
	if (pfd < 0) {
		pfd = -errno;
		feat_fail(f, "perf_event_open", pfd);
	}
	return pfd;
}

/* Attach through a perf kprobe event: bpf_link, or the older ioctl. */
static int kprobe_attach_perf(int prog, const char *fn, struct vg_feature *f)
{
	int pfd, link, err = 0;

	pfd = kprobe_perf_open(fn, f);
	if (pfd < 0)
		return pfd;
	link = bpf_link_create(prog, pfd, BPF_PERF_EVENT, NULL);
	if (link >= 0) {
		close(link);
	} else if (ioctl(pfd, PERF_EVENT_IOC_SET_BPF, prog) < 0) {
		err = -errno;
		feat_fail(f, "attach", err);
	}
	close(pfd);	/* removes the kprobe and whatever hangs on it */
	return err;
}

/* Attach as a one-function kprobe.multi link (kernels >= 5.18 with fprobe). */
static int kprobe_attach_multi(int prog, const char *fn, struct vg_feature *f)
{
	LIBBPF_OPTS(bpf_link_create_opts, o);
	const char *syms[1] = { fn };
	int link;

	o.kprobe_multi.syms = syms;
	o.kprobe_multi.cnt = 1;
	link = bpf_link_create(prog, 0, BPF_TRACE_KPROBE_MULTI, &o);
	if (link < 0) {
		feat_fail(f, "attach", link);
		return link;
	}
	close(link);
	return 0;
}

/*
 * The other way in when a perf kprobe failed: a kprobe.multi program. On
 * failure f says why both ways failed.
 */
static int kprobe_try_multi(const char *fn, struct vg_feature *f)
{
	struct prog_spec s = {
		.type = BPF_PROG_TYPE_KPROBE,
		.attach = BPF_TRACE_KPROBE_MULTI,
		.insns = prog_ret0,
		.cnt = ARRAY_SIZE(prog_ret0),
	};
	char perf_why[sizeof(f->detail)], multi_why[sizeof(f->detail)];
	int fd, err;

	snprintf(perf_why, sizeof(perf_why), "%s", f->detail);
	fd = prog_load(&s, f);
	if (fd < 0) {
		err = fd;
	} else {
		err = kprobe_attach_multi(fd, fn, f);
		close(fd);
	}
	if (err) {
		snprintf(multi_why, sizeof(multi_why), "%s", f->detail);
		feat_set(f, false, "%.60s; kprobe_multi %.80s", perf_why, multi_why);
	}
	return err;
}

static void probe_kprobe(struct probe_ctx *c, struct vg_feature *f)
{
	struct prog_spec s = {
		.type = BPF_PROG_TYPE_KPROBE,
		.insns = prog_ret0,
		.cnt = ARRAY_SIZE(prog_ret0),
	};
	const char *fn = btf_first_func(c, probe_targets, ARRAY_SIZE(probe_targets));
	int fd, err;

	if (!fn)
		fn = probe_targets[0];
	fd = prog_load(&s, f);
	if (fd >= 0) {
		err = kprobe_attach_perf(fd, fn, f);
		close(fd);
	} else {
		err = fd;
	}
	if (err)
		err = kprobe_try_multi(fn, f);
	if (!err)
		feat_set(f, true, "%s attached and detached", fn);
}

static bool securityfs_mounted(void)
{
	struct stat st;

	return stat(LSM_LIST_PATH, &st) == 0;
}

/*
 * "lockdown,capability,bpf" from securityfs, mounting it if need be; on
 * failure *step names what failed.
 */
static int lsm_list_read(char *buf, size_t len, bool *mounted,
			 const char **step)
{
	FILE *fp;
	size_t n;

	*mounted = false;
	if (!securityfs_mounted()) {
		*step = "mount securityfs";
		if (mount("securityfs", SECURITYFS_DIR, "securityfs",
			  MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
			return -errno;
		*mounted = true;
	}
	*step = "read " LSM_LIST_PATH;
	fp = fopen(LSM_LIST_PATH, "re");
	if (!fp)
		return -errno;
	n = fread(buf, 1, len - 1, fp);
	fclose(fp);
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

static bool lsm_list_has(const char *list, const char *name)
{
	size_t n = strlen(name);
	const char *s;

	for (s = list; (s = strstr(s, name)); s += n)
		if ((s == list || s[-1] == ',') && (s[n] == ',' || s[n] == '\0'))
			return true;
	return false;
}

static void probe_lsm_listed(struct probe_ctx *c, struct vg_feature *f)
{
	const char *note = "", *step = "";
	char list[256];
	bool mounted;
	int err;

	err = lsm_list_read(list, sizeof(list), &mounted, &step);
	if (err) {
		feat_fail(f, step, err);
		return;
	}
	if (mounted)
		note = " (mounted securityfs at " SECURITYFS_DIR ")";
	if (lsm_list_has(list, "bpf"))
		feat_set(f, true, "%.100s%s", list, note);
	else
		feat_set(f, false, "not in " LSM_LIST_PATH ": %.80s%s", list, note);
}

/*
 * An LSM program on file_open returning 0 (allow), attached and detached.
 * The kernel lets it attach even when "bpf" is not an active LSM — it would
 * then never run — so the feature needs both.
 */
static void probe_lsm(struct probe_ctx *c, struct vg_feature *f)
{
	struct prog_spec s = {
		.type = BPF_PROG_TYPE_LSM,
		.attach = BPF_LSM_MAC,
		.insns = prog_ret0,
		.cnt = ARRAY_SIZE(prog_ret0),
	};

	if (load_attach_btf(c, &s, "bpf_lsm_file_open", BTF_KIND_FUNC, f))
		return;
	if (!c->p->f[VG_FEAT_LSM_LISTED].ok)
		feat_set(f, false, "file_open attaches, but \"bpf\" is not an active LSM");
	else
		feat_set(f, true, "file_open attached and detached");
}

static void probe_bpf_stats(struct probe_ctx *c, struct vg_feature *f)
{
	int fd = bpf_enable_stats(BPF_STATS_RUN_TIME);

	if (fd < 0) {
		feat_fail(f, "enable", fd);
		return;
	}
	close(fd);	/* stats stay on only while someone holds an fd */
	feat_set(f, true, "run-time stats can be enabled");
}

/*
 * bpf_rdonly_cast(NULL, id of struct file) in a tracepoint program: typed
 * reads through a pointer read from memory, the file hot path's way of
 * reading a struct file without a helper call per field (Linux >= 6.2).
 */
static void probe_rdonly_cast(struct probe_ctx *c, struct vg_feature *f)
{
	struct bpf_insn insns[] = {
		BPF_MOV64_IMM(BPF_REG_1, 0),
		BPF_MOV64_IMM(BPF_REG_2, 0), /* the type id, below */
		{ .code = BPF_JMP | BPF_CALL, .src_reg = BPF_PSEUDO_KFUNC_CALL },
		BPF_MOV64_IMM(BPF_REG_0, 0),
		BPF_EXIT_INSN(),
	};
	struct prog_spec s = {
		.type = BPF_PROG_TYPE_TRACEPOINT,
		.insns = insns,
		.cnt = ARRAY_SIZE(insns),
	};
	int fn, type, fd;

	fn = btf_id(c, "bpf_rdonly_cast", BTF_KIND_FUNC, f);
	type = fn < 0 ? fn : btf_id(c, "file", BTF_KIND_STRUCT, f);
	if (type < 0)
		return;
	insns[1].imm = type;
	insns[2].imm = fn;
	fd = prog_load(&s, f);
	if (fd < 0)
		return;
	close(fd);
	feat_set(f, true, "kfunc accepted in a tracepoint program");
}

/*
 * iter/task_file asking bpf_sock_from_file about each open file (Linux >= 5.11):
 * connected TCP sockets then count their packets in their own storage, and the
 * daemon adds them to the flow table by walking every process's sockets with
 * such an iterator (vg_flow_flush) before it reads the table.
 */
static void probe_iter_sock_file(struct probe_ctx *c, struct vg_feature *f)
{
	static const struct bpf_insn insns[] = {
		/* r1 = ctx->file (struct bpf_iter__task_file: meta, task, fd, file) */
		BPF_LDX_MEM(BPF_DW, BPF_REG_1, BPF_REG_1, 24),
		BPF_JMP_IMM(BPF_JEQ, BPF_REG_1, 0, 1),
		BPF_CALL_HELPER(BPF_FUNC_sock_from_file),
		BPF_MOV64_IMM(BPF_REG_0, 0),
		BPF_EXIT_INSN(),
	};
	struct prog_spec s = {
		.type = BPF_PROG_TYPE_TRACING,
		.attach = BPF_TRACE_ITER,
		.insns = insns,
		.cnt = ARRAY_SIZE(insns),
	};

	if (iter_probe(c, "bpf_iter_task_file", &s, f) == 0)
		feat_set(f, true, "bpf_sock_from_file accepted, ran over all open files");
}

/*
 * A 64-bit compare-and-exchange on the stack (BPF_ATOMIC, Linux >= 5.12): TCP connections
 * then take slots of vg_conns (net.bpf.c: vg_sock_state); without it the daemon loads the
 * variant whose connection rows go to the flow hash (vg_sock_state_hash).
 */
static void probe_cmpxchg(struct probe_ctx *c, struct vg_feature *f)
{
	static const struct bpf_insn insns[] = {
		BPF_ST_MEM(BPF_DW, BPF_REG_10, -8, 0),
		BPF_MOV64_REG(BPF_REG_1, BPF_REG_10),
		BPF_ALU64_IMM(BPF_ADD, BPF_REG_1, -8),
		BPF_MOV64_IMM(BPF_REG_0, 0), /* expected */
		BPF_MOV64_IMM(BPF_REG_2, 1), /* new */
		/* r0 = cmpxchg_64(r1 + 0, r0, r2) */
		{ .code = BPF_STX | BPF_DW | BPF_ATOMIC, .dst_reg = BPF_REG_1,
		  .src_reg = BPF_REG_2, .imm = BPF_CMPXCHG },
		BPF_MOV64_IMM(BPF_REG_0, 0),
		BPF_EXIT_INSN(),
	};
	struct prog_spec s = {
		.type = BPF_PROG_TYPE_SOCKET_FILTER,
		.insns = insns,
		.cnt = ARRAY_SIZE(insns),
	};
	int fd;

	(void)c;
	fd = prog_load(&s, f);
	if (fd < 0)
		return;
	close(fd);
	feat_set(f, true, "compare-and-exchange accepted");
}

/* In dependency order: BTF before its users, cgroup2 before cgroup programs. */
static const struct {
	enum vg_feat feat;
	void (*run)(struct probe_ctx *c, struct vg_feature *f);
} probes[] = {
	{ VG_FEAT_BTF,              probe_btf },
	{ VG_FEAT_TP_BTF,           probe_tp_btf },
	{ VG_FEAT_RINGBUF,          probe_ringbuf },
	{ VG_FEAT_ITER_TASK,        probe_iter_task },
	{ VG_FEAT_ITER_TASK_SLEEP,  probe_iter_task_sleep },
	{ VG_FEAT_NOPREALLOC,       probe_noprealloc },
	{ VG_FEAT_CGROUP_V2,        probe_cgroup_v2 },
	{ VG_FEAT_CGROUP_SOCK_ADDR, probe_cgroup_sock_addr },
	{ VG_FEAT_CGROUP_SKB,       probe_cgroup_skb },
	{ VG_FEAT_SEND_SIGNAL,      probe_send_signal },
	{ VG_FEAT_FENTRY,           probe_fentry },
	{ VG_FEAT_KPROBE,           probe_kprobe },
	{ VG_FEAT_LSM_LISTED,       probe_lsm_listed },
	{ VG_FEAT_LSM,              probe_lsm },
	{ VG_FEAT_BPF_STATS,        probe_bpf_stats },
	{ VG_FEAT_RDONLY_CAST,      probe_rdonly_cast },
	{ VG_FEAT_ITER_SOCK_FILE,   probe_iter_sock_file },
	{ VG_FEAT_CMPXCHG,          probe_cmpxchg },
};

/* ---- tier ---- */

/*
 * "attach: EPERM" out of "attach: Operation not permitted (EPERM)…"; the
 * detail itself when it is not of that shape.
 */
static void detail_short(const char *detail, char *buf, size_t len)
{
	const char *colon = strchr(detail, ':');
	const char *name = strstr(detail, "(E");
	const char *end = name ? strchr(name, ')') : NULL;

	if (colon && name && end && colon < name)
		snprintf(buf, len, "%.*s: %.*s", (int)(colon - detail), detail,
			 (int)(end - name - 1), name + 1);
	else
		snprintf(buf, len, "%s", detail);
}

/* Why BPF-LSM is not usable, in a few words. */
static void lsm_why_not(const struct vg_probe *p, char *buf, size_t len)
{
	const struct vg_feature *listed = &p->f[VG_FEAT_LSM_LISTED];
	const struct vg_feature *lsm = &p->f[VG_FEAT_LSM];
	char why[96];

	if (!lsm->ok && strncmp(lsm->detail, "file_open attaches", 18) != 0) {
		detail_short(lsm->detail, why, sizeof(why));
		if (listed->ok)
			snprintf(buf, len, "%s", why);
		else
			snprintf(buf, len, "%.60s; \"bpf\" not an active LSM", why);
	} else if (!listed->ok) {
		snprintf(buf, len, "\"bpf\" not an active LSM");
	} else {
		snprintf(buf, len, "unknown");
	}
}

/*
 * Pick the enforcement tier from the probe results. Not static: the unit
 * test drives it with hand-made results.
 */
void vg_probe_pick_tier(struct vg_probe *p)
{
	char lsm[100], why[100];

	if (p->f[VG_FEAT_LSM].ok) {
		p->tier = VG_TIER_LSM;
		snprintf(p->tier_reason, sizeof(p->tier_reason),
			 "BPF-LSM: deny with -EPERM before the operation");
		return;
	}
	lsm_why_not(p, lsm, sizeof(lsm));
	if (p->f[VG_FEAT_TP_BTF].ok && p->f[VG_FEAT_SEND_SIGNAL].ok) {
		p->tier = VG_TIER_SIGNAL;
		snprintf(p->tier_reason, sizeof(p->tier_reason),
			 "BPF-LSM unavailable (%s); tracepoints + bpf_send_signal",
			 lsm);
		return;
	}
	p->tier = VG_TIER_OBSERVE;
	if (!p->f[VG_FEAT_TP_BTF].ok) {
		detail_short(p->f[VG_FEAT_TP_BTF].detail, why, sizeof(why));
		snprintf(p->tier_reason, sizeof(p->tier_reason),
			 "no BPF-LSM (%.50s), no tp_btf (%.50s): observe only",
			 lsm, why);
	} else {
		detail_short(p->f[VG_FEAT_SEND_SIGNAL].detail, why, sizeof(why));
		snprintf(p->tier_reason, sizeof(p->tier_reason),
			 "no BPF-LSM (%.50s), no bpf_send_signal (%.50s): observe only",
			 lsm, why);
	}
}

/* ---- cgroup2 mount ---- */

/* Undo mountinfo's octal escapes ("\040" for a space) in place. */
static void mountinfo_unescape(char *s)
{
	char *out = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' &&
		    s[2] >= '0' && s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
			*out++ = (char)((s[1] - '0') << 6 | (s[2] - '0') << 3 |
					(s[3] - '0'));
			s += 3;
		} else {
			*out++ = *s;
		}
	}
	*out = '\0';
}

/*
 * The first cgroup2 mount point in a mountinfo stream, into buf.
 * Returns 0, -ENOENT when there is none, -ENAMETOOLONG. Not static: the unit
 * test feeds it mountinfo text.
 */
int vg_cgroup2_from_mountinfo(FILE *fp, char *buf, size_t len)
{
	char *line = NULL, *sep, mnt[PATH_MAX], fstype[64];
	size_t cap = 0;
	int err = -ENOENT;

	while (getline(&line, &cap, fp) > 0) {
		/* id parent maj:min root mountpoint opts [optional…] - fstype src */
		sep = strstr(line, " - ");
		if (!sep || sscanf(sep + 3, "%63s", fstype) != 1 ||
		    strcmp(fstype, "cgroup2") != 0)
			continue;
		if (sscanf(line, "%*s %*s %*s %*s %4095s", mnt) != 1)
			continue;
		mountinfo_unescape(mnt);
		err = strlen(mnt) < len ? 0 : -ENAMETOOLONG;
		if (!err)
			strcpy(buf, mnt);
		break;
	}
	free(line);
	return err;
}

const char *vg_cgroup2_mount(void)
{
	static char path[PATH_MAX];
	FILE *fp;
	int err;

	if (path[0])
		return path;
	/* Only a found mount is cached: one could appear later. */
	fp = fopen("/proc/self/mountinfo", "re");
	if (!fp)
		return NULL;
	err = vg_cgroup2_from_mountinfo(fp, path, sizeof(path));
	fclose(fp);
	if (err) {
		path[0] = '\0';
		return NULL;
	}
	return path;
}

/* ---- running ---- */

static int quiet_print(enum libbpf_print_level level, const char *fmt,
		       va_list ap)
{
	return 0;
}

static void probe_init(struct vg_probe *p)
{
	struct utsname u;
	int i;

	memset(p, 0, sizeof(*p));
	if (uname(&u) == 0)
		snprintf(p->kernel, sizeof(p->kernel), "%s", u.release);
	for (i = 0; i < VG_FEAT_MAX; i++)
		snprintf(p->f[i].detail, sizeof(p->f[i].detail), "not probed");
	p->tier = VG_TIER_OBSERVE;
}

int vg_probe_run(struct vg_probe *p)
{
	struct probe_ctx c = { .p = p };
	libbpf_print_fn_t old;
	size_t i;

	probe_init(p);
	if (geteuid() != 0) {
		snprintf(p->tier_reason, sizeof(p->tier_reason),
			 "probing loads BPF programs and needs root: run as root (sudo vigil probe)");
		return -EPERM;
	}
	old = libbpf_set_print(quiet_print);
	for (i = 0; i < ARRAY_SIZE(probes); i++) {
		errno = 0;
		probes[i].run(&c, &p->f[probes[i].feat]);
	}
	libbpf_set_print(old);
	btf__free(c.vmlinux);
	vg_probe_pick_tier(p);
	return 0;
}

/* ---- output ---- */

void vg_probe_print(const struct vg_probe *p, FILE *out)
{
	int i;

	fprintf(out, "%-22s %-4s %s\n", "FEATURE", "OK", "DETAIL");
	for (i = 0; i < VG_FEAT_MAX; i++)
		fprintf(out, "%-22s %-4s %s\n", vg_feat_name(i),
			p->f[i].ok ? "yes" : "no", p->f[i].detail);
	fprintf(out, "\nkernel: %s\n", p->kernel[0] ? p->kernel : "unknown");
	fprintf(out, "cgroup v2: %s\n",
		p->cgroup2_path[0] ? p->cgroup2_path : "not mounted");
	fprintf(out, "enforcement tier: %s — %s\n", vg_tier_name(p->tier),
		p->tier_reason);
}

static struct json_object *feature_json(const struct vg_feature *f)
{
	struct json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	json_object_object_add(o, "ok", json_object_new_boolean(f->ok));
	json_object_object_add(o, "detail", json_object_new_string(f->detail));
	return o;
}

struct json_object *vg_probe_json(const struct vg_probe *p)
{
	struct json_object *o = json_object_new_object();
	struct json_object *feats = json_object_new_object();
	int i;

	if (!o || !feats) {
		json_object_put(o);
		json_object_put(feats);
		return NULL;
	}
	for (i = 0; i < VG_FEAT_MAX; i++)
		json_object_object_add(feats, vg_feat_name(i), feature_json(&p->f[i]));
	json_object_object_add(o, "kernel", json_object_new_string(p->kernel));
	json_object_object_add(o, "cgroup2", p->cgroup2_path[0] ?
			       json_object_new_string(p->cgroup2_path) : NULL);
	json_object_object_add(o, "features", feats);
	json_object_object_add(o, "tier",
			       json_object_new_string(vg_tier_name(p->tier)));
	json_object_object_add(o, "tier_reason",
			       json_object_new_string(p->tier_reason));
	return o;
}
