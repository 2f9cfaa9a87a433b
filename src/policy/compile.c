// SPDX-License-Identifier: GPL-2.0
/*
 * Policies -> kernel tables (include/vigil/abi.h, "enforcement"), the checks
 * that need the whole set and the machine (safety, bit budget, cgroups), and
 * the choice of each rule's enforcement tier on this kernel. Pure but for the
 * machine checks (/proc, the cgroup2 mount).
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "netpolicy/netpolicy.h"
#include "policy/policy.h"
#include "rules/yaml.h"
#include "state/strings.h"

const char *vg_pol_action_name(enum vg_pol_action a)
{
	static const char *const n[] = { "alert", "block", "kill", "freeze", "quarantine" };

	return (unsigned)a < 5 ? n[a] : "?";
}

const char *vg_enforcer_name(enum vg_enforcer e)
{
	static const char *const n[] = { NULL, "lsm", "signal", "cgroup", "freezer" };

	return (unsigned)e < 5 ? n[e] : NULL;
}

static void pol_rule_free(struct vg_pol_rule *r)
{
	vg_strv_free(&r->sysnames);
	vg_strv_free(&r->exec);
	vg_strv_free(&r->files);
	vg_strv_free(&r->detections);
	free(r->nrs);
	free(r->argv);
	free(r->message);
	free(r->finding.tags);
	vg_np_policy_free(r->net);
}

void vg_policies_free(struct vg_policies *set)
{
	for (size_t i = 0; i < set->n; i++) {
		struct vg_policy *p = &set->v[i];

		for (size_t j = 0; j < p->nrules; j++)
			pol_rule_free(&p->rules[j]);
		free(p->rules);
		free(p->name);
		free(p->file);
		vg_strv_free(&p->target.names);
		vg_strv_free(&p->target.exe);
		vg_strv_free(&p->target.ancestors);
		vg_strv_free(&p->target.cgroups);
		vg_strv_free(&p->target.containers);
		free(p->target.uids);
	}
	free(set->v);
	memset(set, 0, sizeof(*set));
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int vg_policies_load_dir(const char *dir, struct vg_policies *set, struct vg_rule_errors *errs)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names = NULL;
	size_t n = 0;
	int rc = 0;

	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((e = readdir(d))) {
		size_t l = strlen(e->d_name);

		if (e->d_name[0] == '.' || l < 6 ||
		    (strcmp(e->d_name + l - 5, ".yaml") && strcmp(e->d_name + l - 4, ".yml")))
			continue;
		names = realloc(names, (n + 1) * sizeof(*names));
		if (asprintf(&names[n], "%s/%s", dir, e->d_name) < 0)
			break;
		n++;
	}
	closedir(d);
	qsort(names, n, sizeof(*names), cmp_str);
	for (size_t i = 0; i < n; i++) {
		if (vg_policy_parse_file(names[i], set, errs))
			rc = -EINVAL;
		free(names[i]);
	}
	free(names);
	return rc;
}

/* ---- the machine ---- */

static void read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");

	buf[0] = 0;
	if (!f)
		return;
	if (fgets(buf, len, f))
		buf[strcspn(buf, "\n")] = 0;
	fclose(f);
}

static void read_exe(const char *path, char *buf, size_t len)
{
	ssize_t n = readlink(path, buf, len - 1);

	buf[n > 0 ? n : 0] = 0;
}

size_t vg_pol_protected_pids(uint32_t *out, size_t max)
{
	char path[64], line[512];
	uint32_t pid = getppid();
	size_t n = 0;

	/* our parent, its parent, ... up to pid 1 */
	while (pid > 1 && n < max) {
		char *p;

		out[n++] = pid;
		snprintf(path, sizeof(path), "/proc/%u/stat", pid);
		read_line(path, line, sizeof(line));
		p = strrchr(line, ')');
		if (!p || sscanf(p + 2, "%*c %u", &pid) != 1)
			break;
	}
	return n;
}

/* Is path covered by target exe entry e (exact, or a prefix: "dir/", "dir/" + "**")? */
static bool path_covered(const char *e, const char *path)
{
	size_t l = strlen(e);

	if (l >= 3 && !strcmp(e + l - 3, "/**"))
		return !strncmp(path, e, l - 2);
	if (l && e[l - 1] == '/')
		return !strncmp(path, e, l);
	return !strcmp(e, path);
}

static const char *const essential[] = {
	"read", "write", "openat", "open", "close", "mmap", "execve", "clone", "clone3", "fork",
	"vfork", "exit", "exit_group", "brk", "fstat", "newfstatat", "rt_sigreturn", "futex",
	"wait4", "ioctl", "getpid", NULL
};

/* Would this rule hit everything a machine needs to run? */
static bool everything(const struct vg_pol_rule *r)
{
	for (size_t i = 0; i < r->exec.n; i++)
		if (!strcmp(r->exec.v[i], "/") || !strcmp(r->exec.v[i], "/**"))
			return true;
	for (size_t i = 0; i < r->files.n; i++)
		if (!strcmp(r->files.v[i], "/") || !strcmp(r->files.v[i], "/**") ||
		    !strncmp(r->files.v[i], "/lib", 4) || !strncmp(r->files.v[i], "/usr/lib", 8) ||
		    !strncmp(r->files.v[i], "/etc/ld.so", 10))
			return true;
	/* network: an entry for every destination on every port (kill/freeze on any
	 * connect: nothing that talks survives) */
	for (size_t i = 0; r->trigger == VG_PT_NETWORK && r->net && i < r->net->npfx; i++) {
		static const uint8_t v4[12] = { [10] = 0xff, [11] = 0xff };
		const struct vg_np_prefix *x = &r->net->pfx[i];
		const struct vg_np_ent *e = &r->net->ents[x->ent - 1];

		if ((x->len == 0 || (x->len == 96 && !memcmp(x->addr, v4, 12))) &&
		    !strcmp(e->list, "deny") && !e->k.port_hi && r->action != VG_PA_BLOCK &&
		    r->action != VG_PA_ALERT)
			return true;
	}
	if (r->arg >= 0)
		return false;
	for (size_t i = 0; i < r->sysnames.n; i++)
		for (int k = 0; essential[k]; k++)
			if (!strcmp(r->sysnames.v[i], essential[k]))
				return true;
	return false;
}

/* The protected processes this target names (pid 1, vigil): an error message, or NULL. */
static const char *unsafe_target(const struct vg_pol_target *t, char *why, size_t len)
{
	char comm1[64], exe1[512], self[512];

	read_line("/proc/1/comm", comm1, sizeof(comm1));
	read_exe("/proc/1/exe", exe1, sizeof(exe1));
	read_exe("/proc/self/exe", self, sizeof(self));
	for (size_t i = 0; i < t->names.n; i++) {
		const char *n = t->names.v[i];

		if (!strcmp(n, "init") || !strcmp(n, "systemd") ||
		    (comm1[0] && !strncmp(n, comm1, VG_COMM_LEN - 1))) {
			snprintf(why, len, "processName \"%s\" is pid 1 (init): vigil never acts on "
				 "pid 1, and a policy that targets it is refused", n);
			return why;
		}
		if (!strcmp(n, "vigil")) {
			snprintf(why, len, "processName \"vigil\": vigil never acts on itself");
			return why;
		}
	}
	for (size_t i = 0; i < t->exe.n; i++) {
		if (exe1[0] && path_covered(t->exe.v[i], exe1)) {
			snprintf(why, len, "exe \"%s\" covers pid 1's executable (%s): vigil never "
				 "acts on pid 1, and a policy that targets it is refused",
				 t->exe.v[i], exe1);
			return why;
		}
		if (self[0] && path_covered(t->exe.v[i], self)) {
			snprintf(why, len, "exe \"%s\" covers vigil itself (%s)", t->exe.v[i], self);
			return why;
		}
	}
	for (size_t i = 0; i < t->ancestors.n; i++)
		if (exe1[0] && !strcmp(t->ancestors.v[i], exe1)) {
			snprintf(why, len, "ancestor \"%s\" is pid 1: every process descends from it "
				 "(say all: true if that is really meant)", exe1);
			return why;
		}
	return NULL;
}

/* Resolve a container id to its cgroup path under the cgroup2 mount (depth-first,
 * bounded). */
static bool find_container(const char *root, const char *rel, const char *id, int depth,
			   char *out, size_t len)
{
	char path[PATH_MAX];
	struct dirent *e;
	bool found = false;
	DIR *d;

	snprintf(path, sizeof(path), "%s%s", root, rel);
	d = opendir(path);
	if (!d)
		return false;
	while (!found && (e = readdir(d))) {
		char sub[PATH_MAX];

		if (e->d_type != DT_DIR || e->d_name[0] == '.')
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", rel, e->d_name);
		if (strstr(e->d_name, id)) {
			snprintf(out, len, "%s", sub);
			found = true;
		} else if (depth < 6) {
			found = find_container(root, sub, id, depth + 1, out, len);
		}
	}
	closedir(d);
	return found;
}

/* The LSM hook a syscall's rules are enforced at (NULL: none). ptrace_access_check
 * sees no arguments (it is also reached from /proc/PID/mem): only whole-syscall rules. */
static const char *lsm_hook_of(uint32_t nr, bool has_arg)
{
	switch (nr) {
	case 101: case 310: case 311: return has_arg ? NULL : "ptrace_access_check";
	case 321: return "bpf";
	case 165: return "sb_mount";
	case 62: case 200: case 234: return "task_kill";
	case 105: case 113: case 117: case 122: return "task_fix_setuid";
	case 126: return "capset";
	case 175: return "kernel_load_data";
	case 313: return "kernel_read_file";
	default: return NULL;
	}
}

#define OPEN_HOW "SIGKILL when the open returns: the file was opened (O_CREAT/O_TRUNC took " \
		 "effect), the process never uses the descriptor"

static void set_how_one(struct vg_pol_rule *r, const struct vg_policies *set,
			const struct vg_policy *p, const struct vg_pol_env *env);

/* unlink/rename/chmod are enforced by BPF-LSM path hooks only: say so where there are none. */
static void set_how(struct vg_pol_rule *r, const struct vg_policies *set, const struct vg_policy *p,
		    const struct vg_pol_env *env)
{
	size_t n;

	set_how_one(r, set, p, env);
	if (r->trigger != VG_PT_FILES || !(r->access & VG_PACC_PATH) || env->lsm ||
	    r->action == VG_PA_ALERT)
		return;
	if (!(r->access & (VG_PACC_READ | VG_PACC_WRITE))) {
		r->by = VG_EB_NONE;
		snprintf(r->how, sizeof(r->how), "not enforced on this kernel: unlink/rename/chmod "
			 "rules need BPF-LSM (path hooks)");
		return;
	}
	n = strlen(r->how);
	snprintf(r->how + n, sizeof(r->how) - n, "; unlink/rename/chmod not enforced here (needs "
		 "BPF-LSM)");
}

static void set_how_one(struct vg_pol_rule *r, const struct vg_policies *set,
			const struct vg_policy *p, const struct vg_pol_env *env)
{
	bool audit = p->audit || set->enforce_off;
	const char *pre = audit ? (set->enforce_off ? "reported only (--enforce=off); would be: "
						     : "reported only (mode: audit); would be: ")
				: "";
	const char *hook = NULL;
	bool lsm_sys = env->lsm && r->trigger == VG_PT_SYSCALLS && r->nnrs;

	/* every syscall of the rule must reach one of the LSM programs (lsm.bpf.c) */
	for (size_t i = 0; lsm_sys && i < r->nnrs; i++) {
		const char *h = lsm_hook_of(r->nrs[i], r->arg >= 0);

		lsm_sys = h != NULL;
		hook = h;
	}
	r->by = VG_EB_NONE;
	if (r->trigger == VG_PT_NETWORK) {
		switch (r->action) {
		case VG_PA_ALERT:
			snprintf(r->how, sizeof(r->how), "reported by the kernel (cgroup connect/sendmsg "
				 "hook), nothing refused");
			return;
		case VG_PA_BLOCK:
			r->by = VG_EB_CGROUP;
			snprintf(r->how, sizeof(r->how), "%srefused in the kernel (cgroup connect/sendmsg "
				 "hook) before any packet was sent: the caller got EPERM", pre);
			return;
		default:
			r->by = VG_EB_SIGNAL;
			snprintf(r->how, sizeof(r->how), "%srefused in the kernel (cgroup connect/sendmsg "
				 "hook, nothing sent), then %s at the syscall's exit: the process never "
				 "returns to user space from it", pre,
				 r->action == VG_PA_KILL ? "SIGKILL" : "SIGSTOP");
			return;
		}
	}
	switch (r->action) {
	case VG_PA_ALERT:
		snprintf(r->how, sizeof(r->how), "%s", r->trigger == VG_PT_DETECTIONS ?
			 "reported with the finding" : "reported by the kernel hook, nothing stopped");
		return;
	case VG_PA_BLOCK:
		if (r->quarantine) {
			r->by = VG_EB_CGROUP;
			snprintf(r->how, sizeof(r->how), "%snetwork cut for the process tree after the "
				 "finding (cgroup connect/sendmsg/egress: EPERM)", pre);
		} else if (((r->trigger == VG_PT_EXEC || r->trigger == VG_PT_FILES) && env->lsm) ||
			   lsm_sys) {
			r->by = VG_EB_LSM;
			snprintf(r->how, sizeof(r->how), "%sdenied with EPERM before the operation "
				 "(BPF-LSM %s); the caller keeps running", pre,
				 r->trigger == VG_PT_EXEC ? "bprm_check_security" :
				 r->trigger == VG_PT_FILES ? (r->access & VG_PACC_PATH ?
							      "file_open/path hooks" : "file_open") :
				 hook);
		} else {
			r->by = VG_EB_SIGNAL;
			snprintf(r->how, sizeof(r->how), "%s%s", pre, r->trigger == VG_PT_EXEC ?
				 "SIGKILL at exec: the new program never runs an instruction" :
				 r->trigger == VG_PT_FILES ? OPEN_HOW :
				 "SIGKILL at syscall entry: the call may run, its result never "
				 "reaches the process");
		}
		return;
	case VG_PA_KILL:
		r->by = VG_EB_SIGNAL;
		snprintf(r->how, sizeof(r->how), "%s%s", pre,
			 r->trigger == VG_PT_EXEC ? "SIGKILL at exec: the new program never runs "
						    "an instruction" :
			 r->trigger == VG_PT_SYSCALLS ? "SIGKILL at syscall entry: the call may run, "
							"its result never reaches the process" :
			 r->trigger == VG_PT_FILES ? OPEN_HOW :
			 "SIGKILL from the daemon after the finding (the operation has happened)");
		return;
	case VG_PA_FREEZE:
		r->by = VG_EB_SIGNAL;
		snprintf(r->how, sizeof(r->how), "%s%s, then its container's cgroup frozen", pre,
			 r->trigger == VG_PT_DETECTIONS ?
			 "SIGSTOP from the daemon after the finding" :
			 "SIGSTOP from the kernel at the operation (stopped before user space runs "
			 "again)");
		return;
	default:
		return;
	}
}

static void synth_finding_rule(struct vg_pol_rule *r, const struct vg_policy *p, size_t idx)
{
	snprintf(r->finding_id, sizeof(r->finding_id), "policy/%s/%zu", p->name ? p->name : "?",
		 idx);
	memset(&r->finding, 0, sizeof(r->finding));
	r->finding.id = r->finding_id;
	r->finding.title = r->message ? r->message : r->finding_id;
	r->finding.severity = r->action == VG_PA_ALERT ? VG_SEV_MEDIUM : VG_SEV_HIGH;
	r->finding.kind = r->trigger == VG_PT_EXEC ? VG_RK_EXEC :
			  r->trigger == VG_PT_FILES ? VG_RK_FILE : VG_RK_SYSCALL;
	r->finding.enabled = true;
	r->finding.source = p->file;
	r->finding.source_line = r->line;
	r->finding.tags = calloc(1, sizeof(char *));
	if (r->finding.tags) {
		r->finding.tags[0] = "policy";
		r->finding.ntags = 1;
	}
	r->finding.bit = r->bit;
}

int vg_policies_finish(struct vg_policies *set, const struct vg_pol_env *env,
		       struct vg_rule_errors *errs)
{
	size_t before = errs->n;
	unsigned bit = 0;
	char why[1024];

	set->lsm = env->lsm;
	set->enforce_off = env->enforce_off;
	set->nbits = 0;
	memset(set->by_bit, 0, sizeof(set->by_bit));
	for (size_t i = 0; i < set->n; i++) {
		struct vg_policy *p = &set->v[i];

		for (size_t j = 0; j < i; j++)
			if (p->name && set->v[j].name && !strcmp(p->name, set->v[j].name))
				vg_rule_error_add(errs, p->file, p->line, 0, "metadata.name",
						  "policy \"%s\" already defined in %s:%d", p->name,
						  set->v[j].file, set->v[j].line);
		if (unsafe_target(&p->target, why, sizeof(why)))
			vg_rule_error_add(errs, p->file, p->target.line, 0, "spec.target", "%s", why);
		for (size_t k = 0; k < p->target.cgroups.n; k++)
			if (!strcmp(p->target.cgroups.v[k], "/"))
				p->target.all = true; /* for the "everything" check */
		for (size_t k = 0; k < p->target.containers.n; k++) {
			char rel[PATH_MAX];

			if (!env->cgroup2 || !env->cgroup2[0] ||
			    strlen(p->target.containers.v[k]) < 12 ||
			    !find_container(env->cgroup2, "", p->target.containers.v[k], 0, rel,
					    sizeof(rel)))
				vg_rule_error_add(errs, p->file, p->target.line, 0,
						  "spec.target.containerId",
						  "container \"%s\": no cgroup found for it (at least 12 "
						  "characters of a running container's id)",
						  p->target.containers.v[k]);
			else
				y_strv_push(&p->target.cgroups, rel);
		}
		for (size_t j = 0; j < p->nrules; j++) {
			struct vg_pol_rule *r = &p->rules[j];
			bool wide = p->target.all || (p->target.nuids == 1 && !p->target.uids[0] &&
						      !p->target.names.n && !p->target.exe.n &&
						      !p->target.ancestors.n && !p->target.cgroups.n);

			if (wide && r->action != VG_PA_ALERT && !p->audit && everything(r))
				vg_rule_error_add(errs, p->file, r->line, 0, "spec.rules",
						  "%s of every process on %s: that stops the machine "
						  "(narrow the target or the trigger)",
						  vg_pol_action_name(r->action),
						  r->exec.n ? "every exec" :
						  r->trigger == VG_PT_NETWORK ? "any connection" :
						  "a syscall every program makes");
			r->bit = VG_RULE_NOBIT;
			/* network rules take a bit too: it is their target, which the network
			 * policy's connect/sendmsg hooks ask about */
			if (r->trigger == VG_PT_SYSCALLS || r->trigger == VG_PT_EXEC ||
			    r->trigger == VG_PT_FILES || r->trigger == VG_PT_NETWORK) {
				if (bit >= VG_POL_RULES_MAX) {
					vg_rule_error_add(errs, p->file, r->line, 0, "spec.rules",
							  "more than %d kernel policy rules in all "
							  "policies", VG_POL_RULES_MAX);
				} else {
					r->bit = bit;
					set->by_bit[bit] = r;
					set->policy_of_bit[bit] = p;
					bit++;
				}
			}
			set_how(r, set, p, env);
			synth_finding_rule(r, p, j);
		}
	}
	set->nbits = bit;
	return errs->n > before ? -EINVAL : 0;
}

/* ---- kernel tables ---- */

struct builder {
	struct vg_pol_tables *t;
	uint8_t gen;
	size_t ncap, lcap;
};

static void name_add(struct builder *b, uint8_t what, uint32_t aux, uint64_t value, uint64_t rules)
{
	struct vg_pol_key k = { .gen = b->gen, .what = what, .aux = aux, .value = value };

	for (size_t i = 0; i < b->t->nnames; i++)
		if (!memcmp(&b->t->names[i].key, &k, sizeof(k))) {
			b->t->names[i].rules |= rules;
			return;
		}
	if (b->t->nnames == b->ncap) {
		size_t cap = b->ncap ? b->ncap * 2 : 32;
		struct vg_pol_name_entry *v = realloc(b->t->names, cap * sizeof(*v));

		if (!v)
			return;
		b->t->names = v;
		b->ncap = cap;
	}
	b->t->names[b->t->nnames++] = (struct vg_pol_name_entry){ .key = k, .rules = rules };
}

static void lpm_add(struct builder *b, uint8_t kind, const char *prefix, uint64_t rules)
{
	struct vg_lpm_key k = { .gen = b->gen, .kind = kind };
	size_t len = strlen(prefix);

	if (len > VG_LPM_MAX)
		len = VG_LPM_MAX;
	k.prefixlen = 16 + 8 * len;
	memcpy(k.data, prefix, len);
	for (size_t i = 0; i < b->t->nlpm; i++)
		if (!memcmp(&b->t->lpm[i].key, &k, sizeof(k))) {
			b->t->lpm[i].rules |= rules;
			return;
		}
	if (b->t->nlpm == b->lcap) {
		size_t cap = b->lcap ? b->lcap * 2 : 16;
		struct vg_pol_lpm_entry *v = realloc(b->t->lpm, cap * sizeof(*v));

		if (!v)
			return;
		b->t->lpm = v;
		b->lcap = cap;
	}
	b->t->lpm[b->t->nlpm++] = (struct vg_pol_lpm_entry){ .key = k, .rules = rules };
}

/* "dir/" + "**" and "dir/" are prefixes (returned without the stars); else NULL. */
static char *prefix_of(const char *p)
{
	size_t l = strlen(p);

	if (l >= 3 && !strcmp(p + l - 3, "/**"))
		return strndup(p, l - 2);
	if (l && p[l - 1] == '/')
		return strdup(p);
	return NULL;
}

static uint64_t str_id(const char *s)
{
	return vg_str_id(s, strlen(s) + 1);
}

static uint64_t comm_hash(const char *s)
{
	uint64_t h = VG_NAME_HASH_INIT;

	for (size_t i = 0; s[i] && i < VG_COMM_LEN - 1; i++)
		h = VG_NAME_HASH_STEP(h, s[i]);
	return h;
}

int vg_policies_compile(const struct vg_policies *set, uint8_t gen, const char *cgroup2,
			    struct vg_pol_tables *t)
{
	struct builder b = { .t = t, .gen = gen };
	struct vg_pol_set *s = &t->set;

	memset(t, 0, sizeof(*t));
	if (gen > 1)
		return -EINVAL;
	for (unsigned bit = 0; bit < set->nbits; bit++) {
		const struct vg_pol_rule *r = set->by_bit[bit];
		const struct vg_policy *p = set->policy_of_bit[bit];
		const struct vg_pol_target *tg = &p->target;
		uint64_t m = 1ULL << bit;

		if (!r)
			continue;
		s->all |= m;
		/* target */
		for (size_t i = 0; i < tg->names.n; i++)
			name_add(&b, VG_PW_COMM, 0, comm_hash(tg->names.v[i]), m);
		if (tg->names.n)
			s->need[VG_PW_COMM] |= m;
		for (size_t i = 0; i < tg->exe.n; i++) {
			char *pre = prefix_of(tg->exe.v[i]);

			if (pre) {
				lpm_add(&b, VG_PL_EXE, pre, m);
				s->need_exe_prefix |= m;
				free(pre);
			} else {
				name_add(&b, VG_PW_EXE, 0, str_id(tg->exe.v[i]), m);
			}
		}
		if (tg->exe.n)
			s->need[VG_PW_EXE] |= m;
		for (size_t i = 0; i < tg->ancestors.n; i++)
			name_add(&b, VG_PW_ANCESTOR, 0, str_id(tg->ancestors.v[i]), m);
		if (tg->ancestors.n)
			s->need[VG_PW_ANCESTOR] |= m;
		for (size_t i = 0; i < tg->nuids; i++)
			name_add(&b, VG_PW_UID, 0, tg->uids[i], m);
		if (tg->nuids)
			s->need[VG_PW_UID] |= m;
		for (size_t i = 0; i < tg->cgroups.n; i++)
			lpm_add(&b, VG_PL_CGROUP, tg->cgroups.v[i], m);
		if (tg->cgroups.n)
			s->need[VG_PW_CGROUP] |= m;
		/* trigger */
		if (r->trigger == VG_PT_SYSCALLS) {
			for (size_t i = 0; i < r->nnrs; i++) {
				name_add(&b, VG_PW_SYSCALL, 0, r->nrs[i], m);
				for (size_t j = 0; r->arg >= 0 && j < r->nargv; j++)
					name_add(&b, VG_PW_SYSARG, VG_ARG_AUX(r->nrs[i], r->arg),
						 r->argv[j], m);
			}
			if (r->arg >= 0) {
				s->need_arg |= m;
				s->arg_idx |= 1u << r->arg;
			}
		} else if (r->trigger == VG_PT_FILES) {
			for (size_t i = 0; i < r->files.n; i++) {
				char *pre = prefix_of(r->files.v[i]);

				if (pre) {
					lpm_add(&b, VG_PL_FILE, pre, m);
					s->file_prefix |= m;
					free(pre);
				} else {
					name_add(&b, VG_PW_FILE, 0, str_id(r->files.v[i]), m);
				}
			}
			if (r->access & VG_PACC_READ)
				s->file_read |= m;
			if (r->access & VG_PACC_WRITE)
				s->file_write |= m;
			if (r->access & VG_PACC_UNLINK)
				s->file_unlink |= m;
			if (r->access & VG_PACC_RENAME)
				s->file_rename |= m;
			if (r->access & VG_PACC_CHMOD)
				s->file_chmod |= m;
		} else if (r->trigger == VG_PT_EXEC) {
			for (size_t i = 0; i < r->exec.n; i++) {
				char *pre = prefix_of(r->exec.v[i]);

				if (pre) {
					lpm_add(&b, VG_PL_EXEC, pre, m);
					s->exec_prefix |= m;
					free(pre);
				} else {
					name_add(&b, VG_PW_EXEC, 0, str_id(r->exec.v[i]), m);
				}
			}
		}
		/* action */
		if (r->action == VG_PA_KILL)
			s->kill |= m;
		else if (r->action == VG_PA_BLOCK)
			s->block |= m;
		else if (r->action == VG_PA_FREEZE)
			s->stop |= m;
		if (r->by == VG_EB_LSM)
			s->lsm |= m;
		if (p->audit || set->enforce_off)
			s->audit |= m;
	}
	/* a prefix's value holds the rules of the shorter prefixes too (longest match wins) */
	for (size_t i = 0; i < t->nlpm; i++)
		for (size_t j = 0; j < t->nlpm; j++) {
			struct vg_lpm_key *a = &t->lpm[i].key, *q = &t->lpm[j].key;

			if (i != j && a->kind == q->kind && q->prefixlen < a->prefixlen &&
			    !memcmp(a->data, q->data, (q->prefixlen - 16) / 8))
				t->lpm[i].rules |= t->lpm[j].rules;
		}
	s->nrules = set->nbits;
	return 0;
}

void vg_pol_tables_free(struct vg_pol_tables *t)
{
	free(t->names);
	free(t->lpm);
	memset(t, 0, sizeof(*t));
}

size_t vg_policies_syscalls(const struct vg_policies *set, const char **names, size_t max)
{
	size_t n = 0;

	for (unsigned bit = 0; bit < set->nbits; bit++) {
		const struct vg_pol_rule *r = set->by_bit[bit];

		for (size_t i = 0; r && r->trigger == VG_PT_SYSCALLS && i < r->sysnames.n; i++) {
			bool have = false;

			for (size_t j = 0; j < n && !have; j++)
				have = !strcmp(names[j], r->sysnames.v[i]);
			if (!have && n < max)
				names[n++] = r->sysnames.v[i];
		}
	}
	return n;
}

bool vg_policies_want_open_hook(const struct vg_policies *set)
{
	for (unsigned bit = 0; bit < set->nbits; bit++) {
		const struct vg_pol_rule *r = set->by_bit[bit];

		if (r && r->trigger == VG_PT_FILES && (r->access & (VG_PACC_READ | VG_PACC_WRITE)) &&
		    !(r->by == VG_EB_LSM &&
							!set->policy_of_bit[bit]->audit &&
							!set->enforce_off))
			return true;
	}
	return false;
}

/* ---- user-space matching (detection-triggered rules) ---- */

bool vg_pol_target_matches(const struct vg_pol_target *t, const struct vg_pol_proc *p)
{
	bool ok;

	if (p->pid <= 1)
		return false;
	if (t->all)
		return true;
	if (t->names.n) {
		ok = false;
		for (size_t i = 0; i < t->names.n && !ok; i++)
			ok = p->comm && !strncmp(t->names.v[i], p->comm, VG_COMM_LEN - 1);
		if (!ok)
			return false;
	}
	if (t->exe.n) {
		ok = false;
		for (size_t i = 0; i < t->exe.n && !ok; i++)
			ok = p->exe && path_covered(t->exe.v[i], p->exe);
		if (!ok)
			return false;
	}
	if (t->ancestors.n) {
		ok = false;
		for (size_t i = 0; i < t->ancestors.n && !ok; i++)
			for (size_t j = 0; j < p->nancestors && !ok; j++)
				ok = p->ancestor_exes[j] && !strcmp(t->ancestors.v[i], p->ancestor_exes[j]);
		if (!ok)
			return false;
	}
	if (t->nuids) {
		ok = false;
		for (size_t i = 0; i < t->nuids && !ok; i++)
			ok = t->uids[i] == p->euid;
		if (!ok)
			return false;
	}
	if (t->cgroups.n) {
		ok = false;
		for (size_t i = 0; i < t->cgroups.n && !ok; i++) {
			size_t l = strlen(t->cgroups.v[i]);

			ok = p->cgroup && !strncmp(p->cgroup, t->cgroups.v[i], l);
		}
		if (!ok)
			return false;
	}
	return true;
}

bool vg_pol_detection_matches(const struct vg_pol_rule *pr, const struct vg_rule *r)
{
	for (size_t i = 0; i < pr->detections.n; i++) {
		const char *d = pr->detections.v[i];

		if (!strcmp(d, r->id) || (r->tactic && !strcmp(d, r->tactic)) ||
		    (r->technique && (!strcmp(d, r->technique) ||
				      (!strncmp(r->technique, d, strlen(d)) &&
				       r->technique[strlen(d)] == '.'))))
			return true;
	}
	return false;
}

/* ---- listing ---- */

static struct json_object *strv_json(const struct vg_strv *v)
{
	struct json_object *a = json_object_new_array();

	for (size_t i = 0; i < v->n; i++)
		json_object_array_add(a, json_object_new_string(v->v[i]));
	return a;
}

/* A network rule's entries as written: {"deny": ["10.0.0.0/8 port 22", ...], "allow": [...]} */
static struct json_object *net_json(const struct vg_np_policy *net)
{
	struct json_object *o = json_object_new_object(), *deny = json_object_new_array(),
			   *allow = json_object_new_array();

	for (size_t i = 0; net && i < net->nents; i++)
		json_object_array_add(!strcmp(net->ents[i].list, "deny") ? deny : allow,
				      json_object_new_string(net->ents[i].what ? net->ents[i].what
									       : "?"));
	json_object_object_add(o, "deny", deny);
	json_object_object_add(o, "allow", allow);
	return o;
}

struct json_object *vg_policies_json(const struct vg_policies *set)
{
	struct json_object *arr = json_object_new_array();

	for (size_t i = 0; i < set->n; i++) {
		const struct vg_policy *p = &set->v[i];
		struct json_object *o = json_object_new_object(), *t = json_object_new_object(),
				   *rules = json_object_new_array(), *uids = json_object_new_array();

		json_object_object_add(o, "name", json_object_new_string(p->name ? p->name : ""));
		json_object_object_add(o, "file", json_object_new_string(p->file ? p->file : ""));
		json_object_object_add(o, "mode", json_object_new_string(
						  set->enforce_off ? "off" : p->audit ? "audit" : "enforce"));
		if (p->target.all)
			json_object_object_add(t, "all", json_object_new_boolean(1));
		if (p->target.names.n)
			json_object_object_add(t, "processName", strv_json(&p->target.names));
		if (p->target.exe.n)
			json_object_object_add(t, "exe", strv_json(&p->target.exe));
		if (p->target.ancestors.n)
			json_object_object_add(t, "ancestor", strv_json(&p->target.ancestors));
		if (p->target.cgroups.n)
			json_object_object_add(t, "cgroup", strv_json(&p->target.cgroups));
		if (p->target.containers.n)
			json_object_object_add(t, "containerId", strv_json(&p->target.containers));
		for (size_t k = 0; k < p->target.nuids; k++)
			json_object_array_add(uids, json_object_new_int64(p->target.uids[k]));
		if (p->target.nuids)
			json_object_object_add(t, "uid", uids);
		else
			json_object_put(uids);
		json_object_object_add(o, "target", t);
		for (size_t j = 0; j < p->nrules; j++) {
			const struct vg_pol_rule *r = &p->rules[j];
			struct json_object *ro = json_object_new_object();
			const char *by = vg_enforcer_name(r->by);

			json_object_object_add(ro, "id", json_object_new_string(r->finding_id));
			json_object_object_add(ro, "action", json_object_new_string(
							     r->quarantine ? "quarantine" :
							     vg_pol_action_name(r->action)));
			if (r->trigger == VG_PT_SYSCALLS)
				json_object_object_add(ro, "syscalls", strv_json(&r->sysnames));
			else if (r->trigger == VG_PT_EXEC)
				json_object_object_add(ro, "exec", strv_json(&r->exec));
			else if (r->trigger == VG_PT_FILES)
				json_object_object_add(ro, "files", strv_json(&r->files));
			else if (r->trigger == VG_PT_DETECTIONS)
				json_object_object_add(ro, "detections", strv_json(&r->detections));
			else if (r->trigger == VG_PT_NETWORK)
				json_object_object_add(ro, "network", net_json(r->net));
			json_object_object_add(ro, "enforced_by", by ? json_object_new_string(by) : NULL);
			json_object_object_add(ro, "how", json_object_new_string(r->how));
			json_object_object_add(ro, "message", r->message ?
						   json_object_new_string(r->message) : NULL);
			json_object_array_add(rules, ro);
		}
		json_object_object_add(o, "rules", rules);
		json_object_array_add(arr, o);
	}
	return arr;
}

void vg_policies_print(const struct vg_policies *set, FILE *out)
{
	if (!set->n)
		fprintf(out, "no policies\n");
	for (size_t i = 0; i < set->n; i++) {
		const struct vg_policy *p = &set->v[i];

		fprintf(out, "%s (%s, %s)\n", p->name, set->enforce_off ? "enforce=off" :
			p->audit ? "audit" : "enforce", p->file);
		for (size_t j = 0; j < p->nrules; j++) {
			const struct vg_pol_rule *r = &p->rules[j];
			const char *by = vg_enforcer_name(r->by);
			const struct vg_strv *w = r->trigger == VG_PT_SYSCALLS ? &r->sysnames :
						  r->trigger == VG_PT_EXEC ? &r->exec :
						  r->trigger == VG_PT_FILES ? &r->files : &r->detections;

			fprintf(out, "  %-10s %s [", r->quarantine ? "quarantine" :
				vg_pol_action_name(r->action),
				r->trigger == VG_PT_SYSCALLS ? "syscalls" :
				r->trigger == VG_PT_EXEC ? "exec" :
				r->trigger == VG_PT_FILES ? "files" :
				r->trigger == VG_PT_NETWORK ? "network" : "detections");
			if (r->trigger == VG_PT_NETWORK)
				for (size_t k = 0; r->net && k < r->net->nents; k++)
					fprintf(out, "%s%s %s", k ? ", " : "", r->net->ents[k].list,
						r->net->ents[k].what ? r->net->ents[k].what : "?");
			else
				for (size_t k = 0; k < w->n; k++)
					fprintf(out, "%s%s", k ? ", " : "", w->v[k]);
			fprintf(out, "] -> %s: %s\n", by ? by : "none", r->how);
		}
	}
}
