// SPDX-License-Identifier: GPL-2.0
/*
 * Policies in the daemon (engine.h). The kernel enforces (enforce.bpf.c,
 * lsm.bpf.c); this side installs the tables, hooks the syscalls, writes the
 * findings, and takes the actions that follow a detection — those are
 * asynchronous by nature (the detection is a finding about something that has
 * happened) and every finding says so.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "detect/detect.h"
#include "netpolicy/netpolicy.h"
#include "policy/engine.h"
#include "policy/policy.h"
#include "sensor/sensor.h"
#include "util/log.h"

#define MAX_HOOKS 64
#define PROTECT_MAX 64

struct sys_hook {
	char name[32];
	struct bpf_link *link;
};

struct vg_enforce {
	struct vg_sensor *s;
	struct vg_detect *det;
	struct vg_enforce_opts o;
	char dir[PATH_MAX];
	char cgroup2[PATH_MAX];
	int fd_names, fd_prefix, fd_sets, fd_protect;
	struct bpf_program *sys_prog, *open_prog;
	struct bpf_link *open_links[8]; /* vg_enf_open on the open family's exits */
	size_t nopen;
	struct sys_hook hooks[MAX_HOOKS];
	size_t nhooks;
	struct bpf_link *lsm_links[16];
	size_t nlsm;
	struct vg_policies *gens[2];
	struct vg_pol_tables tabs[2];
	uint8_t gen; /* active */
	uint64_t dir_sig;
	pthread_mutex_t lock;
	/* counters (status) */
	uint64_t enforced, audited, on_detection, stale, reloads, reload_failures;
	char last_error[512];
	/* the finding being written */
	char extra[4096];
};

static const char *hook_name(unsigned h)
{
	static const char *const n[] = { "sys_enter", "exec", "lsm:bprm_check_security",
					 "lsm:ptrace_access_check", "lsm:file_open", "lsm:bpf",
					 "lsm", "open_exit", "lsm:sb_mount", "lsm:task_kill",
					 "lsm:task_fix_setuid", "lsm:capset", "lsm:kernel_read_file",
					 "lsm:path" };

	return h < sizeof(n) / sizeof(n[0]) ? n[h] : "?";
}

/* ---- the directory, and its signature (a change triggers a reload) ---- */

static uint64_t dir_signature(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	uint64_t h = 1469598103934665603ULL;

	if (!d)
		return 0;
	while ((e = readdir(d))) {
		char path[PATH_MAX];
		struct stat st;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (stat(path, &st))
			continue;
		for (const char *c = e->d_name; *c; c++)
			h = (h ^ (unsigned char)*c) * 1099511628211ULL;
		h ^= (uint64_t)st.st_mtim.tv_sec * 1000000007ULL + st.st_mtim.tv_nsec + st.st_size;
		h *= 1099511628211ULL;
	}
	closedir(d);
	return h;
}

/* ---- kernel tables ---- */

static void tables_delete(struct vg_enforce *e, struct vg_pol_tables *t)
{
	for (size_t i = 0; i < t->nnames; i++)
		bpf_map_delete_elem(e->fd_names, &t->names[i].key);
	for (size_t i = 0; i < t->nlpm; i++)
		bpf_map_delete_elem(e->fd_prefix, &t->lpm[i].key);
	vg_pol_tables_free(t);
}

static int tables_write(struct vg_enforce *e, const struct vg_pol_tables *t, uint8_t gen)
{
	uint32_t slot = gen;

	for (size_t i = 0; i < t->nnames; i++)
		if (bpf_map_update_elem(e->fd_names, &t->names[i].key, &t->names[i].rules, BPF_ANY))
			return -errno;
	for (size_t i = 0; i < t->nlpm; i++)
		if (bpf_map_update_elem(e->fd_prefix, &t->lpm[i].key, &t->lpm[i].rules, BPF_ANY))
			return -errno;
	if (bpf_map_update_elem(e->fd_sets, &slot, &t->set, BPF_ANY))
		return -errno;
	return 0;
}

static void flip(struct vg_enforce *e, uint8_t gen)
{
	struct vg_pol_set g = { .nrules = gen };
	uint32_t slot = VG_POL_GEN_SLOT;

	bpf_map_update_elem(e->fd_sets, &slot, &g, BPF_ANY);
}

/* ---- sys_enter hooks ---- */

static void sync_hooks(struct vg_enforce *e, const struct vg_policies *set)
{
	const char *names[MAX_HOOKS];
	size_t n = vg_policies_syscalls(set, names, MAX_HOOKS), kept = 0;

	if (!e->sys_prog)
		return;
	for (size_t i = 0; i < e->nhooks; i++) {
		bool want = false;

		for (size_t j = 0; j < n && !want; j++)
			want = !strcmp(names[j], e->hooks[i].name);
		if (want)
			e->hooks[kept++] = e->hooks[i];
		else
			bpf_link__destroy(e->hooks[i].link);
	}
	e->nhooks = kept;
	for (size_t j = 0; j < n && e->nhooks < MAX_HOOKS; j++) {
		bool have = false;
		struct bpf_link *l;
		char tp[64];

		for (size_t i = 0; i < e->nhooks && !have; i++)
			have = !strcmp(names[j], e->hooks[i].name);
		if (have)
			continue;
		snprintf(tp, sizeof(tp), "sys_enter_%s", vg_sensor_tracepoint_of(names[j]));
		l = bpf_program__attach_tracepoint(e->sys_prog, "syscalls", tp);
		if (!l) {
			vg_warn("policies: cannot hook syscalls:%s (%s): rules on %s are not enforced",
				tp, strerror(errno), names[j]);
			continue;
		}
		snprintf(e->hooks[e->nhooks].name, sizeof(e->hooks[0].name), "%s", names[j]);
		e->hooks[e->nhooks++].link = l;
	}
}

/* File rules on the signal tier: vg_enf_open at the exit of every open syscall,
 * attached only while some rule needs it. */
static void sync_open_hooks(struct vg_enforce *e, const struct vg_policies *set)
{
	static const char *const calls[] = { "open", "openat", "openat2", "creat",
					     "open_by_handle_at" };
	bool want = vg_policies_want_open_hook(set);

	if (!e->open_prog || want == (e->nopen > 0))
		return;
	for (size_t i = 0; i < e->nopen; i++)
		bpf_link__destroy(e->open_links[i]);
	e->nopen = 0;
	for (size_t i = 0; want && i < sizeof(calls) / sizeof(calls[0]); i++) {
		char tp[64];
		struct bpf_link *l;

		snprintf(tp, sizeof(tp), "sys_exit_%s", calls[i]);
		l = bpf_program__attach_tracepoint(e->open_prog, "syscalls", tp);
		if (!l) {
			vg_warn("policies: cannot hook syscalls:%s (%s): file rules miss it", tp,
				strerror(errno));
			continue;
		}
		e->open_links[e->nopen++] = l;
	}
}

/* ---- load / reload ---- */

static struct vg_policies *load_set(struct vg_enforce *e, struct vg_rule_errors *errs)
{
	struct vg_policies *set = calloc(1, sizeof(*set));
	struct vg_pol_env env = { .lsm = e->o.lsm, .enforce_off = e->o.enforce_off,
				  .cgroup2 = e->cgroup2 };

	if (!set)
		return NULL;
	if (vg_policies_load_dir(e->dir, set, errs) || vg_policies_finish(set, &env, errs)) {
		vg_policies_free(set);
		free(set);
		return NULL;
	}
	return set;
}

static int install(struct vg_enforce *e, struct vg_policies *set)
{
	uint8_t gen = e->gen ^ 1;
	struct vg_pol_tables t;
	int err;

	err = vg_policies_compile(set, gen, e->cgroup2, &t);
	if (err)
		return err;
	tables_delete(e, &e->tabs[gen]); /* what the idle generation held */
	err = tables_write(e, &t, gen);
	if (err) {
		tables_delete(e, &t);
		return err;
	}
	sync_hooks(e, set);
	sync_open_hooks(e, set);
	pthread_mutex_lock(&e->lock);
	flip(e, gen);
	e->tabs[gen] = t;
	if (e->gens[gen]) {
		vg_policies_free(e->gens[gen]);
		free(e->gens[gen]);
	}
	e->gens[gen] = set;
	e->gen = gen;
	pthread_mutex_unlock(&e->lock);
	return 0;
}

/* The network rules go to the network policy, which merges them with its files'
 * entries into its maps (the policy files are read again: one syntax, one
 * compiler, one precedence). Their entries name this generation's bits. */
static void push_network(struct vg_enforce *e, const struct vg_policies *set, uint8_t gen)
{
	struct vg_np_extra x[VG_POL_RULES_MAX];
	size_t n = 0;

	if (!e->o.np)
		return;
	for (unsigned bit = 0; bit < set->nbits; bit++) {
		const struct vg_pol_rule *r = set->by_bit[bit];
		const struct vg_policy *p = set->policy_of_bit[bit];
		bool audit = p->audit || set->enforce_off;

		if (!r || r->trigger != VG_PT_NETWORK || !r->net)
			continue;
		x[n] = (struct vg_np_extra){
			.net = r->net, .bit = bit,
			.flags = (audit || r->action == VG_PA_ALERT ? VG_NPE_AUDIT : 0) |
				 (r->action == VG_PA_KILL ? VG_NPE_KILL : 0) |
				 (r->action == VG_PA_FREEZE ? VG_NPE_STOP : 0),
			.ref = { .policy = p->name, .rule_id = (char *)r->finding_id,
				 .message = r->message, .how = (char *)r->how, .source = p->file,
				 .action = vg_pol_action_name(r->action),
				 .enforced_by = vg_enforcer_name(r->by), .audit = audit,
				 .rule = r->finding },
		};
		n++;
	}
	vg_netpolicy_set_runtime(e->o.np, x, n, gen);
}

static void announce(struct vg_enforce *e, const struct vg_policies *set)
{
	size_t nrules = 0;

	for (size_t i = 0; i < set->n; i++)
		nrules += set->v[i].nrules;
	vg_info("policies: %zu from %s (%zu rules, %u in the kernel, %zu syscalls hooked at "
		"entry%s)%s", set->n, e->dir, nrules, set->nbits, e->nhooks,
		e->o.lsm ? ", BPF-LSM hooks" : "", e->o.enforce_off ? " — --enforce=off: every "
		"action is reported only" : "");
}

void vg_enforce_reload(struct vg_enforce *e, const char *why)
{
	struct vg_rule_errors errs = {};
	struct vg_policies *set;
	int err;

	e->dir_sig = dir_signature(e->dir);
	set = load_set(e, &errs);
	if (!set) {
		char *buf = NULL;
		size_t len = 0;
		FILE *m = open_memstream(&buf, &len);

		if (m) {
			vg_rule_errors_print(&errs, m);
			fclose(m);
		}
		vg_err("policies (%s): invalid, keeping the %s set:\n%s", why,
		       e->gens[e->gen] ? "previous" : "empty", buf ? buf : "");
		pthread_mutex_lock(&e->lock);
		snprintf(e->last_error, sizeof(e->last_error), "%s", buf ? buf : "invalid");
		e->reload_failures++;
		pthread_mutex_unlock(&e->lock);
		free(buf);
		vg_rule_errors_free(&errs);
		return;
	}
	vg_rule_errors_free(&errs);
	err = install(e, set);
	if (err) {
		vg_err("policies (%s): writing the kernel tables failed (%s): keeping the "
		       "previous set", why, strerror(-err));
		vg_policies_free(set);
		free(set);
		pthread_mutex_lock(&e->lock);
		e->reload_failures++;
		pthread_mutex_unlock(&e->lock);
		return;
	}
	pthread_mutex_lock(&e->lock);
	e->reloads++;
	e->last_error[0] = 0;
	pthread_mutex_unlock(&e->lock);
	push_network(e, set, e->gen);
	announce(e, set);
}

void vg_enforce_poll(struct vg_enforce *e)
{
	if (e && dir_signature(e->dir) != e->dir_sig)
		vg_enforce_reload(e, "policy files changed");
}

/* ---- process state the daemon changes ---- */

static bool proc_key_of(struct vg_enforce *e, uint32_t pid, struct vg_proc_key *k)
{
	return bpf_map_lookup_elem(e->s->maps.live, &pid, k) == 0;
}

static void proc_flags(struct vg_enforce *e, const struct vg_proc_key *k, uint32_t set,
		       uint32_t clear)
{
	struct vg_proc p;

	if (bpf_map_lookup_elem(e->s->maps.procs, k, &p))
		return;
	p.flags = (p.flags | set) & ~clear;
	bpf_map_update_elem(e->s->maps.procs, k, &p, BPF_EXIST);
}

/* Never: pid 1, vigil, its ancestors, kernel threads. */
static bool may_act(struct vg_enforce *e, uint32_t pid)
{
	uint32_t v;
	struct vg_proc_key k;
	struct vg_proc p;

	if (pid <= 1 || pid == (uint32_t)getpid())
		return false;
	if (bpf_map_lookup_elem(e->fd_protect, &pid, &v) == 0)
		return false;
	if (proc_key_of(e, pid, &k) && bpf_map_lookup_elem(e->s->maps.procs, &k, &p) == 0 &&
	    (p.flags & VG_PF_KTHREAD))
		return false;
	return true;
}

/* The cgroup v2 path of a live process ("" if unknown). */
static void proc_cgroup(uint32_t pid, char *buf, size_t len)
{
	char path[64], line[PATH_MAX];
	FILE *f;

	buf[0] = 0;
	snprintf(path, sizeof(path), "/proc/%u/cgroup", pid);
	f = fopen(path, "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "0::", 3)) {
			line[strcspn(line, "\n")] = 0;
			snprintf(buf, len, "%s", line + 3);
		}
	fclose(f);
}

static int write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, s, strlen(s));
	close(fd);
	return n < 0 ? -errno : 0;
}

/* Freeze (or thaw) a cgroup: v2 cgroup.freeze, else the v1 freezer. */
static int cgroup_freeze(const char *cgroup2, const char *cg, bool on, const char **how)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s%s/cgroup.freeze", cgroup2, cg);
	if (cgroup2[0] && write_file(path, on ? "1" : "0") == 0) {
		*how = "cgroup";
		return 0;
	}
	snprintf(path, sizeof(path), "/sys/fs/cgroup/freezer%s/freezer.state", cg);
	if (write_file(path, on ? "FROZEN" : "THAWED") == 0) {
		*how = "freezer";
		return 0;
	}
	return -errno;
}

/* The frozen process, for the finding: its state and open files. */
static size_t frozen_json(uint32_t pid, char *out, size_t len)
{
	char path[64], line[256], state[64] = "";
	size_t n = 0;
	DIR *d;
	FILE *f;

	/* SIGSTOP is delivered on the way back to user space: give it a moment (500 ms at
	 * most, on a loaded machine). */
	for (int i = 0; i < 100; i++) {
		snprintf(path, sizeof(path), "/proc/%u/status", pid);
		f = fopen(path, "r");
		if (!f)
			break;
		while (fgets(line, sizeof(line), f))
			if (!strncmp(line, "State:", 6)) {
				line[strcspn(line, "\n")] = 0;
				snprintf(state, sizeof(state), "%s", line + 6 + strspn(line + 6, " \t"));
			}
		fclose(f);
		if (state[0] == 'T' || state[0] == 't')
			break;
		usleep(5000);
	}
	n += snprintf(out + n, len - n, ",\"process_state\":\"%s\",\"open_files\":[", state);
	snprintf(path, sizeof(path), "/proc/%u/fd", pid);
	d = opendir(path);
	if (d) {
		struct dirent *e;
		int k = 0;

		while ((e = readdir(d)) && k < 32 && n + 600 < len) {
			char fp[400], target[256];
			ssize_t l;

			if (e->d_name[0] == '.')
				continue;
			snprintf(fp, sizeof(fp), "%s/%s", path, e->d_name);
			l = readlink(fp, target, sizeof(target) - 1);
			if (l <= 0)
				continue;
			target[l] = 0;
			for (char *c = target; *c; c++)
				if (*c == '"' || *c == '\\' || (unsigned char)*c < 0x20)
					*c = '?';
			n += snprintf(out + n, len - n, "%s{\"fd\":%s,\"target\":\"%s\"}", k ? "," : "",
				      e->d_name, target);
			k++;
		}
		closedir(d);
	}
	n += snprintf(out + n, len - n, "]");
	return n;
}

/* A frozen process's container is frozen too (its cgroup). Returns the cgroup path in cg. */
static const char *freeze_container(struct vg_enforce *e, uint32_t pid, char *cg, size_t len)
{
	struct vg_container ct;
	const char *how = NULL;

	proc_cgroup(pid, cg, len);
	if (!cg[0] || !vg_container_from_cgroup(cg, &ct))
		return NULL;
	if (cgroup_freeze(e->cgroup2, cg, true, &how))
		return NULL;
	return how;
}

/* ---- kernel enforcement -> finding ---- */

void vg_enforce_msg(struct vg_enforce *e, const void *data, size_t len)
{
	const struct vg_enforce_msg *m = data;
	static const char *const by_names[] = { NULL, "lsm", "signal", "cgroup", "freezer" };
	struct vg_detect_action act = {};
	struct vg_policies *set;
	struct vg_pol_rule *r;
	size_t n;

	if (len < sizeof(*m))
		return;
	pthread_mutex_lock(&e->lock);
	set = e->gens[m->a.gen & 1];
	r = set && m->rule < VG_POL_RULES_MAX ? set->by_bit[m->rule] : NULL;
	if (!r) {
		e->stale++;
		pthread_mutex_unlock(&e->lock);
		return;
	}
	if (m->audit)
		e->audited++;
	else
		e->enforced++;
	pthread_mutex_unlock(&e->lock);
	act.action = vg_pol_action_name(m->action);
	act.enforced_by = m->by < 5 ? by_names[m->by] : NULL;
	act.policy = set->policy_of_bit[m->rule]->name;
	act.guarantee = r->how;
	act.audit = m->audit;
	n = snprintf(e->extra, sizeof(e->extra), ",\"rule\":\"%s\",\"hook\":\"%s\",\"message\":",
		     r->finding_id, hook_name(m->hook));
	if (r->message) {
		e->extra[n++] = '"';
		for (const char *c = r->message; *c && n + 8 < sizeof(e->extra) / 2; c++)
			e->extra[n++] = (*c == '"' || *c == '\\' || (unsigned char)*c < 0x20) ? '?' : *c;
		e->extra[n++] = '"';
		e->extra[n] = 0;
	} else {
		n += snprintf(e->extra + n, sizeof(e->extra) - n, "null");
	}
	n += snprintf(e->extra + n, sizeof(e->extra) - n, ",\"kernel_ns\":%llu",
		      (unsigned long long)(m->a.hdr.time_ns - m->enter_ns));
	if (m->action == VG_PA_FREEZE && !m->audit) {
		char cg[PATH_MAX];
		const char *how;

		/* stopped first (its state says so), then its container's cgroup frozen: a
		 * task the cgroup freezer holds shows as sleeping and never takes the stop */
		n += frozen_json(m->a.proc.tgid, e->extra + n, sizeof(e->extra) - n);
		how = freeze_container(e, m->a.proc.tgid, cg, sizeof(cg));
		if (how)
			n += snprintf(e->extra + n, sizeof(e->extra) - n,
				      ",\"cgroup_frozen\":\"%s\",\"cgroup_by\":\"%s\"", cg, how);
	}
	act.extra_json = e->extra;
	vg_detect_enforced(e->det, &m->a, &r->finding, &act);
}

/* A network rule's freeze (the kernel stops the process at its syscall's exit): as
 * the kernel tier's freeze findings, its state and files, then its container frozen. */
static size_t net_freeze(void *ctx, uint32_t pid, char *out, size_t len)
{
	struct vg_enforce *e = ctx;
	char cg[PATH_MAX];
	const char *how;
	size_t n;

	if (!may_act(e, pid))
		return 0;
	n = frozen_json(pid, out, len);
	how = freeze_container(e, pid, cg, sizeof(cg));
	if (how && n < len)
		n += snprintf(out + n, len - n, ",\"cgroup_frozen\":\"%s\",\"cgroup_by\":\"%s\"",
			      cg, how);
	return n;
}

/* ---- detections -> actions ---- */

static int strength(const struct vg_pol_rule *r)
{
	switch (r->action) {
	case VG_PA_KILL: return 4;
	case VG_PA_FREEZE: return 3;
	case VG_PA_BLOCK: return 2; /* quarantine */
	default: return 1;
	}
}

/* Mark one process quarantined. Counted first: the count arms the kernel's
 * per-packet quarantine check (vg_quarantine_any) before the flag is there. */
static void quarantine_one(struct vg_enforce *e, const struct vg_proc_key *k)
{
	vg_ustat_add(&e->s->maps, VG_ST_NET_QUARANTINED, 1);
	proc_flags(e, k, VG_PF_NET_QUARANTINE, 0);
}

/* Quarantine a process and its live descendants (the kernel makes new children
 * inherit the flag at fork). Returns how many records were marked. */
static unsigned quarantine_tree(struct vg_enforce *e, const struct vg_proc_key *root)
{
	struct vg_proc_key k, next, *prev = NULL;
	unsigned n = 0;

	quarantine_one(e, root);
	n++;
	while (bpf_map_get_next_key(e->s->maps.procs, prev, &next) == 0) {
		struct vg_proc p, q;
		struct vg_proc_key up;

		k = next;
		prev = &k;
		if (bpf_map_lookup_elem(e->s->maps.procs, &k, &p) || (p.flags & VG_PF_EXITED))
			continue;
		up = p.parent;
		for (int depth = 0; depth < 64 && up.tgid; depth++) {
			if (up.tgid == root->tgid && up.start_ns == root->start_ns) {
				quarantine_one(e, &k);
				n++;
				break;
			}
			if (bpf_map_lookup_elem(e->s->maps.procs, &up, &q))
				break;
			up = q.parent;
		}
	}
	return n;
}

static bool on_finding(void *ctx, const struct vg_detect_hit *h, struct vg_detect_action *act)
{
	struct vg_enforce *e = ctx;
	struct vg_policies *set = e->gens[e->gen];
	const struct vg_pol_rule *best = NULL;
	const struct vg_policy *bp = NULL;
	struct vg_pol_proc pp = {
		.pid = h->proc->key.tgid, .euid = h->proc->euid, .comm = h->proc->comm,
		.exe = h->exe, .cgroup = h->cgroup, .container = h->container,
		.ancestor_exes = h->ancestor_exes, .nancestors = h->nancestors,
	};
	char comm[VG_COMM_LEN + 1];
	size_t n;

	if (!set)
		return false;
	memcpy(comm, h->proc->comm, VG_COMM_LEN);
	comm[VG_COMM_LEN] = 0;
	pp.comm = comm;
	for (size_t i = 0; i < set->n; i++) {
		const struct vg_policy *p = &set->v[i];

		for (size_t j = 0; j < p->nrules; j++) {
			const struct vg_pol_rule *r = &p->rules[j];

			if (r->trigger != VG_PT_DETECTIONS || !vg_pol_detection_matches(r, h->rule) ||
			    (best && strength(r) <= strength(best)) ||
			    !vg_pol_target_matches(&p->target, &pp))
				continue;
			best = r;
			bp = p;
		}
	}
	if (!best)
		return false;
	act->policy = bp->name;
	act->guarantee = best->how;
	act->audit = bp->audit || set->enforce_off;
	act->action = best->quarantine ? "quarantine" : vg_pol_action_name(best->action);
	n = snprintf(e->extra, sizeof(e->extra), ",\"rule\":\"%s\",\"hook\":\"detection\"",
		     best->finding_id);
	if (!act->audit && best->action != VG_PA_ALERT && !may_act(e, pp.pid)) {
		snprintf(e->extra + n, sizeof(e->extra) - n, ",\"refused\":\"protected process "
			 "(pid 1, vigil, its ancestors, a kernel thread)\"");
		act->audit = true;
		act->extra_json = e->extra;
		return true;
	}
	if (!act->audit) {
		switch (best->action) {
		case VG_PA_KILL:
			if (kill(pp.pid, SIGKILL) == 0)
				act->enforced_by = "signal";
			break;
		case VG_PA_FREEZE: {
			char cg[PATH_MAX];
			const char *how;

			if (kill(pp.pid, SIGSTOP))
				break;
			act->enforced_by = "signal";
			proc_flags(e, &h->proc->key, VG_PF_FROZEN, 0);
			n += frozen_json(pp.pid, e->extra + n, sizeof(e->extra) - n);
			how = freeze_container(e, pp.pid, cg, sizeof(cg));
			if (how) {
				act->enforced_by = how;
				n += snprintf(e->extra + n, sizeof(e->extra) - n,
					      ",\"cgroup_frozen\":\"%s\",\"cgroup_by\":\"%s\"", cg, how);
			}
			break;
		}
		case VG_PA_BLOCK:
			if (best->quarantine) {
				unsigned q = quarantine_tree(e, &h->proc->key);

				act->enforced_by = "cgroup";
				n += snprintf(e->extra + n, sizeof(e->extra) - n,
					      ",\"quarantined_processes\":%u", q);
			}
			break;
		default:
			break;
		}
	}
	pthread_mutex_lock(&e->lock);
	e->on_detection++;
	pthread_mutex_unlock(&e->lock);
	act->extra_json = e->extra;
	return true;
}

/* ---- unfreeze ---- */

static int unfreeze(struct vg_enforce *e, const char *what, const char *cgroup2, char *msg,
		    size_t len)
{
	char *end;
	long pid = strtol(what, &end, 10);
	const char *how = NULL;

	if (*what && !*end) {
		struct vg_proc_key k;

		if (pid <= 0 || kill(pid, SIGCONT)) {
			snprintf(msg, len, "pid %ld: %s", pid, pid <= 0 ? "not a pid" : strerror(errno));
			return -ESRCH;
		}
		if (e && proc_key_of(e, pid, &k))
			proc_flags(e, &k, 0, VG_PF_FROZEN);
		snprintf(msg, len, "pid %ld resumed (SIGCONT)", pid);
		return 0;
	}
	if (what[0] != '/') {
		snprintf(msg, len, "expected a pid or a cgroup path (/...), got '%s'", what);
		return -EINVAL;
	}
	if (cgroup_freeze(cgroup2, what, false, &how)) {
		snprintf(msg, len, "cgroup %s: cannot thaw (%s)", what, strerror(errno));
		return -ENOENT;
	}
	{
		char path[PATH_MAX], line[32];
		unsigned cont = 0;
		FILE *f;

		snprintf(path, sizeof(path), "%s%s/cgroup.procs", cgroup2, what);
		f = fopen(path, "r");
		while (f && fgets(line, sizeof(line), f)) {
			long p = strtol(line, NULL, 10);
			struct vg_proc_key k;

			if (p > 1 && kill(p, SIGCONT) == 0) {
				cont++;
				if (e && proc_key_of(e, p, &k))
					proc_flags(e, &k, 0, VG_PF_FROZEN);
			}
		}
		if (f)
			fclose(f);
		snprintf(msg, len, "cgroup %s thawed (%s), %u processes resumed", what, how, cont);
	}
	return 0;
}

int vg_enforce_unfreeze(struct vg_enforce *e, const char *what, char *msg, size_t len)
{
	return unfreeze(e, what, e->cgroup2, msg, len);
}

int vg_unfreeze_direct(const char *what, const char *cgroup2, char *msg, size_t len)
{
	return unfreeze(NULL, what, cgroup2 ? cgroup2 : "", msg, len);
}

/* ---- lifecycle ---- */

static int map_fd(struct bpf_object *obj, const char *name)
{
	struct bpf_map *m = bpf_object__find_map_by_name(obj, name);

	return m ? bpf_map__fd(m) : -1;
}

static void attach_lsm(struct vg_enforce *e, struct bpf_object *obj)
{
	struct bpf_program *p;

	bpf_object__for_each_program(p, obj) {
		const char *sec = bpf_program__section_name(p);
		struct bpf_link *l;

		if (strncmp(sec, "lsm/", 4) || !bpf_program__autoload(p) || e->nlsm >= 16)
			continue;
		l = bpf_program__attach(p);
		if (!l) {
			vg_warn("policies: attaching %s failed (%s): its denials fall back to signals",
				sec, strerror(errno));
			e->o.lsm = false;
			continue;
		}
		e->lsm_links[e->nlsm++] = l;
	}
}

struct vg_enforce *vg_enforce_new(struct vg_sensor *s, struct vg_detect *det,
				  const struct vg_enforce_opts *o)
{
	struct vg_enforce *e = calloc(1, sizeof(*e));
	struct bpf_object *obj = vg_sensor_object(s);
	uint32_t pids[PROTECT_MAX], one = 1;
	size_t np;

	if (!e)
		return NULL;
	e->s = s;
	e->det = det;
	e->o = *o;
	snprintf(e->dir, sizeof(e->dir), "%s", o->dir ? o->dir : VG_POLICIES_DIR);
	snprintf(e->cgroup2, sizeof(e->cgroup2), "%s", o->cgroup2 ? o->cgroup2 : "");
	pthread_mutex_init(&e->lock, NULL);
	e->fd_names = map_fd(obj, "vg_pol_names");
	e->fd_prefix = map_fd(obj, "vg_pol_prefix");
	e->fd_sets = map_fd(obj, "vg_pol_sets");
	e->fd_protect = map_fd(obj, "vg_pol_protect");
	e->sys_prog = bpf_object__find_program_by_name(obj, "vg_enf_sys");
	e->open_prog = bpf_object__find_program_by_name(obj, "vg_enf_open");
	if (e->fd_names < 0 || e->fd_prefix < 0 || e->fd_sets < 0 || e->fd_protect < 0) {
		vg_err("this build has no policy tables: NO ENFORCEMENT");
		free(e);
		return NULL;
	}
	np = vg_pol_protected_pids(pids, PROTECT_MAX);
	for (size_t i = 0; i < np; i++)
		bpf_map_update_elem(e->fd_protect, &pids[i], &one, BPF_ANY);
	if (e->o.lsm)
		attach_lsm(e, obj);
	flip(e, 0);
	e->gen = 0;
	vg_enforce_reload(e, "start");
	if (det)
		vg_detect_set_hook(det, on_finding, e);
	if (e->o.np)
		vg_netpolicy_set_freeze_hook(e->o.np, net_freeze, e);
	return e;
}

void vg_enforce_free(struct vg_enforce *e)
{
	if (!e)
		return;
	if (e->det)
		vg_detect_set_hook(e->det, NULL, NULL);
	if (e->o.np)
		vg_netpolicy_set_freeze_hook(e->o.np, NULL, NULL);
	for (size_t i = 0; i < e->nhooks; i++)
		bpf_link__destroy(e->hooks[i].link);
	for (size_t i = 0; i < e->nlsm; i++)
		bpf_link__destroy(e->lsm_links[i]);
	for (size_t i = 0; i < e->nopen; i++)
		bpf_link__destroy(e->open_links[i]);
	for (int g = 0; g < 2; g++) {
		vg_pol_tables_free(&e->tabs[g]);
		if (e->gens[g]) {
			vg_policies_free(e->gens[g]);
			free(e->gens[g]);
		}
	}
	pthread_mutex_destroy(&e->lock);
	free(e);
}

struct json_object *vg_enforce_json(struct vg_enforce *e)
{
	struct json_object *o = json_object_new_object();
	struct vg_policies *set;

	pthread_mutex_lock(&e->lock);
	set = e->gens[e->gen];
	json_object_object_add(o, "dir", json_object_new_string(e->dir));
	json_object_object_add(o, "enforce", json_object_new_string(e->o.enforce_off ? "off" : "on"));
	json_object_object_add(o, "tier", json_object_new_string(e->o.lsm ? "lsm" : "signal"));
	json_object_object_add(o, "policies", set ? vg_policies_json(set) : json_object_new_array());
	json_object_object_add(o, "kernel_rules", json_object_new_int64(set ? set->nbits : 0));
	json_object_object_add(o, "syscalls_hooked", json_object_new_int64(e->nhooks));
	json_object_object_add(o, "open_hooks", json_object_new_int64(e->nopen));
	json_object_object_add(o, "enforced", json_object_new_int64(e->enforced));
	json_object_object_add(o, "audited", json_object_new_int64(e->audited));
	json_object_object_add(o, "on_detection", json_object_new_int64(e->on_detection));
	json_object_object_add(o, "stale", json_object_new_int64(e->stale));
	json_object_object_add(o, "reloads", json_object_new_int64(e->reloads));
	json_object_object_add(o, "reload_failures", json_object_new_int64(e->reload_failures));
	json_object_object_add(o, "last_error", e->last_error[0] ?
				   json_object_new_string(e->last_error) : NULL);
	pthread_mutex_unlock(&e->lock);
	return o;
}
