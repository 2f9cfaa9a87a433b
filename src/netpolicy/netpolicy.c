// SPDX-License-Identifier: GPL-2.0
/*
 * The network policy over the daemon's life: attach the programs at the
 * cgroup v2 root (found in /proc/self/mountinfo), load the policy files,
 * compile them into the idle generation, flip, and free the replaced one once
 * the ring buffer is drained. A policy that doesn't load (bad file, map
 * creation failed) leaves the one in force untouched; the error is on stderr
 * and in `vigil status`. Messages from the kernel become findings.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <libpsl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "detect/detect.h"
#include "net/maptab.h"
#include "net/net.h"
#include "netpolicy/internal.h"
#include "state/maps.h"
#include "state/strings.h"
#include "util/log.h"
#include "util/timefmt.h"

#define DEBOUNCE_NS 300000000ULL

/* The per-packet part (quarantine, DNS names) runs inside netskb's cgroup_skb
 * programs, attached with the network observation (src/net/attach.c). */
static const char *const prog_names[] = { "vg_np_connect4", "vg_np_connect6", "vg_np_sendmsg4",
					  "vg_np_sendmsg6" };
#define NPROGS (sizeof(prog_names) / sizeof(prog_names[0]))

/* The findings' rules: documented in docs/network-policy.md ("Findings"). */
enum np_rule { R_DENY, R_C2, R_MINING, R_DYNDNS, R_QUARANTINE, R_METADATA, R_STRATUM,
	       R_STRATUM_DATA, R_DNS_TUNNEL, R_PORTSCAN, R_DNS_MANY, R_LISTEN, R_INGRESS, R_MAX };
static const struct {
	const char *id, *title, *tactic, *technique;
	enum vg_severity sev;
} rule_defs[R_MAX] = {
	[R_DENY] = { "net-policy-deny", "Network policy: destination denied", "TA0011", "T1071",
		     VG_SEV_MEDIUM },
	[R_INGRESS] = { "net-policy-ingress-deny",
			"Network policy: inbound connection or datagram denied", "TA0008", "T1021",
			VG_SEV_MEDIUM },
	[R_C2] = { "net-blocklist", "Connection to or DNS lookup of a blocklisted destination",
		   "TA0011", "T1071", VG_SEV_HIGH },
	[R_MINING] = { "net-mining-pool", "Connection to or DNS lookup of a crypto-mining pool",
		       "TA0040", "T1496", VG_SEV_HIGH },
	[R_DYNDNS] = { "net-dyndns", "Connection to or DNS lookup of a dynamic-DNS domain",
		       "TA0011", "T1568", VG_SEV_MEDIUM },
	[R_QUARANTINE] = { "net-quarantine", "Network access by a quarantined process", "TA0011",
			   NULL, VG_SEV_HIGH },
	[R_METADATA] = { "net-cloud-metadata",
			 "Cloud metadata endpoint contacted by an unexpected process", "TA0006",
			 "T1552.005", VG_SEV_HIGH },
	[R_STRATUM] = { "net-stratum-port", "Connection to a mining-pool (stratum) port", "TA0040",
			"T1496", VG_SEV_MEDIUM },
	[R_STRATUM_DATA] = { "net-stratum-protocol",
			     "Mining-pool (stratum) protocol spoken over a TCP connection", "TA0040",
			     "T1496", VG_SEV_HIGH },
	[R_DNS_TUNNEL] = { "net-dns-tunnel-shape",
			   "DNS query shaped like tunnelling (long or high-entropy label)", "TA0010",
			   "T1048", VG_SEV_MEDIUM },
	[R_DNS_MANY] = { "net-dns-many-subdomains",
			 "Many unique subdomains of one domain asked (DNS tunnelling shape)", "TA0010",
			 "T1048", VG_SEV_MEDIUM },
	[R_LISTEN] = { "net-listen-unexpected",
		       "New listening socket by an unexpected process (shell, netcat, temporary "
		       "or deleted executable)", "TA0011", "T1571", VG_SEV_HIGH },
	[R_PORTSCAN] = { "net-port-scan",
			 "Port scan shape: one process or a loop of them, many destinations, mostly "
			 "refused",
			 "TA0007", "T1046", VG_SEV_MEDIUM },
};

/* Port scan shape, judged over the flow table (net-state's vg_flows: per process and
 * destination, TCP state): in the last VG_SCAN_WINDOW_NS at least VG_SCAN_MIN_DESTS
 * distinct (address, port) connected to, probed from a raw socket or sent a datagram
 * (scan_counts), VG_SCAN_REFUSED_PCT percent refused, probed (a probe's answer goes to no
 * socket) or unanswered, by one process or spread over the processes one started
 * (scan_groups). Once per process. The table is walked only when the kernel found the shape
 * due (abi.h: vg_shape: enough refusals, probes and new datagram destinations by one
 * process, or by the processes below one), at most every SCAN_EVERY_NS. */
#define SCAN_EVERY_NS 2000000000ULL
#define SCAN_WINDOW_NS VG_SCAN_WINDOW_NS
#define SCAN_MIN_DESTS VG_SCAN_MIN_DESTS
#define SCAN_REFUSED_PCT VG_SCAN_REFUSED_PCT
#define SCAN_PROCS 256
#define TUNNEL_REPEAT_NS 60000000000ULL /* tunnel_due */
/* Many unique subdomains: in the last MANY_WINDOW_NS one process asked at least
 * MANY_MIN distinct names (any qtype) under one parent domain (parent_domain), read
 * from net-state's question table (vg_dnsq) when the kernel found it due (enough
 * distinct names asked by one process), at most every MANY_EVERY_NS. */
#define MANY_EVERY_NS 5000000000ULL
#define MANY_WINDOW_NS VG_MANY_WINDOW_NS
#define MANY_MIN VG_MANY_MIN

/* Processes expected to ask the cloud metadata endpoint (executable basenames). */
static const char *const metadata_clients[] = {
	"google_guest_agent", "google_metadata_script_runner", "google_osconfig_agent",
	"gce_workload_cert_refresh", "amazon-ssm-agent", "ssm-agent-worker", "ec2-instance-connect",
	"cloud-init", "waagent", "WALinuxAgent", "kubelet", "aws-node", "ecs-agent", NULL
};

struct vg_netpolicy {
	struct bpf_object *obj;
	const struct vg_maps *maps;
	struct vg_detect *det;
	char file_given[PATH_MAX];
	void (*drain)(void *);
	void *drain_arg;
	int outer[3];  /* vg_np_lpm, vg_np_dom, vg_np_ent */
	int conf_fd, state_fd, stats_fd, learned_fd;
	struct bpf_link *links[NPROGS];
	struct bpf_link *tp_link; /* listen()'s exit tracepoint */
	struct bpf_link *exit_links[4]; /* RuntimePolicy kill/freeze: connect/send* exits */
	/* RuntimePolicy network rules (src/policy), merged at every load */
	struct vg_np_extra *extra;
	size_t nextra;
	unsigned pol_gen;
	uint64_t pol_mask;
	vg_np_freeze_fn freeze_fn;
	void *freeze_ctx;
	char cgroot[PATH_MAX];
	struct vg_np_policy *pol[2];
	struct vg_np_kmaps km[2];
	int gen;       /* active generation, -1: no policy installed */
	uint64_t fp;   /* fingerprint of the policy files last loaded (a file event with no change
			* — the one behind a SIGHUP already handled — doesn't reload 1M entries again) */
	int ino_fd, timer_fd;
	struct vg_rule rules[R_MAX];
	char *tags[1];
	pthread_mutex_t lock; /* the status fields below are read by the API thread */
	struct {
		uint64_t reloads, failures, loaded_real_ns, last_real_ns;
		uint64_t parse_ns, compile_ns;
		bool last_ok;
		char last[768];
		uint64_t findings, messages, unknown;
		uint64_t watch_expected; /* detection candidates judged benign (expected process, shape) */
		uint64_t scans;          /* table scans for the port scan / many-subdomains shapes */
		uint64_t due_unread;     /* ticks vg_net_due could not be read: walked anyway */
		uint64_t scan_skipped;   /* ... entries not judged: group table full, table unreadable */
		uint64_t repeats;        /* tunnelling findings held back (tunnel_due) */
	} st;
	uint64_t scan_last_ns, many_last_ns;
	uint64_t due_seen[VG_SHAPE_MAX]; /* vg_net_due's stamps already walked for */
	struct { struct vg_proc_key key; uint64_t parent; } many_seen[SCAN_PROCS];
	unsigned nmany;
	struct vg_proc_key scanned[SCAN_PROCS]; /* processes already reported (ring) */
	unsigned nscanned;
	struct { /* tunnelling findings made last, by process and parent domain (ring) */
		struct vg_proc_key key;
		uint64_t parent, last_ns, held;
	} tun_seen[SCAN_PROCS];
	unsigned ntun;
};

static int map_fd(struct bpf_object *obj, const char *name)
{
	struct bpf_map *m = bpf_object__find_map_by_name(obj, name);

	return m ? bpf_map__fd(m) : -1;
}

static void rules_init(struct vg_netpolicy *np)
{
	np->tags[0] = "network";
	for (int i = 0; i < R_MAX; i++) {
		struct vg_rule *r = &np->rules[i];

		r->id = (char *)rule_defs[i].id;
		r->title = (char *)rule_defs[i].title;
		r->severity = rule_defs[i].sev;
		r->tactic = (char *)rule_defs[i].tactic;
		r->technique = (char *)rule_defs[i].technique;
		r->tactic_name = vg_mitre_tactic_name(r->tactic);
		r->technique_name = r->technique ? vg_mitre_technique_name(r->technique) : NULL;
		r->tags = np->tags;
		r->ntags = 1;
		r->enabled = true;
		r->source = "builtin";
		r->bit = VG_RULE_NOBIT;
	}
}

struct vg_netpolicy *vg_netpolicy_new(struct bpf_object *obj, const struct vg_maps *maps,
				      struct vg_detect *det, const char *file_given,
				      void (*drain)(void *), void *arg)
{
	struct vg_netpolicy *np = calloc(1, sizeof(*np));
	static const char *const outer[] = { "vg_np_lpm", "vg_np_dom", "vg_np_ent" };

	if (!np)
		return NULL;
	np->obj = obj;
	np->maps = maps;
	np->det = det;
	np->drain = drain;
	np->drain_arg = arg;
	np->gen = -1;
	np->ino_fd = np->timer_fd = -1;
	np->km[0].lpm = np->km[0].dom = np->km[0].ent = -1;
	np->km[1] = np->km[0];
	if (file_given)
		snprintf(np->file_given, sizeof(np->file_given), "%s", file_given);
	for (int i = 0; i < 3; i++)
		np->outer[i] = map_fd(obj, outer[i]);
	np->conf_fd = map_fd(obj, "vg_np_conf");
	np->state_fd = map_fd(obj, "vg_np_state");
	np->stats_fd = map_fd(obj, "vg_np_stats");
	np->learned_fd = map_fd(obj, "vg_np_learned");
	pthread_mutex_init(&np->lock, NULL);
	rules_init(np);
	return np;
}

void vg_netpolicy_free(struct vg_netpolicy *np)
{
	if (!np)
		return;
	for (size_t i = 0; i < NPROGS; i++)
		bpf_link__destroy(np->links[i]);
	bpf_link__destroy(np->tp_link);
	for (size_t i = 0; i < 4; i++)
		bpf_link__destroy(np->exit_links[i]);
	free(np->extra);
	for (int g = 0; g < 2; g++) {
		vg_np_kmaps_close(&np->km[g]);
		vg_np_policy_free(np->pol[g]);
	}
	if (np->ino_fd >= 0)
		close(np->ino_fd);
	if (np->timer_fd >= 0)
		close(np->timer_fd);
	pthread_mutex_destroy(&np->lock);
	free(np);
}

/* ---- files ---- */

static bool exists(const char *p)
{
	return access(p, F_OK) == 0;
}

/* The policy files in order; *n 0 if there are none. The caller frees. */
static char **policy_files(const struct vg_netpolicy *np, size_t *n)
{
	char **v = calloc(65, sizeof(*v));
	glob_t g = {};

	*n = 0;
	if (!v)
		return NULL;
	if (np->file_given[0]) {
		v[(*n)++] = strdup(np->file_given);
		return v;
	}
	if (exists(VG_NP_FILE))
		v[(*n)++] = strdup(VG_NP_FILE);
	if (glob(VG_NP_DIR "/*.yaml", 0, NULL, &g) == 0) {
		for (size_t i = 0; i < g.gl_pathc && *n < 64; i++)
			v[(*n)++] = strdup(g.gl_pathv[i]);
		globfree(&g);
	}
	return v;
}

static uint64_t files_fingerprint(char **v, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < n; i++) {
		struct stat st = {};
		uint64_t w[4];

		stat(v[i], &st);
		w[0] = st.st_ino;
		w[1] = st.st_size;
		w[2] = st.st_mtim.tv_sec;
		w[3] = st.st_mtim.tv_nsec;
		for (const char *c = v[i]; *c; c++)
			h = (h ^ (uint8_t)*c) * 0x100000001b3ULL;
		for (int j = 0; j < 4; j++)
			h = (h ^ w[j]) * 0x9e3779b97f4a7c15ULL;
	}
	return h ? h : 1;
}

static void strv_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void watch(struct vg_netpolicy *np)
{
	char dir[PATH_MAX], *slash;
	uint32_t mask = IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_CREATE;

	np->ino_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	np->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (np->ino_fd < 0)
		return;
	if (np->file_given[0]) {
		/* the directory: editors and config managers replace files by rename */
		snprintf(dir, sizeof(dir), "%s", np->file_given);
		slash = strrchr(dir, '/');
		if (slash)
			*slash = 0;
		else
			snprintf(dir, sizeof(dir), ".");
		inotify_add_watch(np->ino_fd, dir, mask);
		return;
	}
	if (exists("/etc/vigil"))
		inotify_add_watch(np->ino_fd, "/etc/vigil", mask);
	if (exists(VG_NP_DIR))
		inotify_add_watch(np->ino_fd, VG_NP_DIR, mask);
}

/* ---- kernel ---- */

static int attach(struct vg_netpolicy *np)
{
	const char *root = NULL;
	char line[1024];
	FILE *f = fopen("/proc/self/mountinfo", "r");
	int fd, err = 0;

	while (f && fgets(line, sizeof(line), f)) {
		char *sep = strstr(line, " - ");

		if (sep && !strncmp(sep + 3, "cgroup2 ", 8) &&
		    sscanf(line, "%*s %*s %*s %*s %4095s", np->cgroot) == 1) {
			root = np->cgroot;
			break;
		}
	}
	if (f)
		fclose(f);
	if (!root) {
		vg_err("network policy: cgroup v2 is not mounted — no network enforcement");
		return -ENOENT;
	}
	fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		vg_err("network policy: opening %s: %s", root, strerror(-err));
		return err;
	}
	for (size_t i = 0; i < NPROGS; i++) {
		struct bpf_program *p = bpf_object__find_program_by_name(np->obj, prog_names[i]);

		/* a link: always multi, it coexists with other programs at the root */
		np->links[i] = p ? bpf_program__attach_cgroup(p, fd) : NULL;
		if (!np->links[i]) {
			err = -errno;
			vg_err("network policy: attaching %s at %s: %s — no network enforcement",
			       prog_names[i], root, strerror(-err));
			break;
		}
	}
	close(fd);
	/* listen(): a built-in detection's candidates (syscall tracepoints) */
	if (!err) {
		struct bpf_program *p = bpf_object__find_program_by_name(np->obj,
									 "vg_np_listen_exit");

		np->tp_link = p ? bpf_program__attach(p) : NULL;
		if (!np->tp_link)
			vg_warn("network detections: attaching vg_np_listen_exit: %s — no "
				"new-listener detection", strerror(errno));
	}
	return err;
}

static int install(struct vg_netpolicy *np, int gen, struct vg_np_policy *p,
		   struct vg_np_kmaps *k)
{
	struct vg_np_conf conf = { .loaded = 1, .mode = p->mode, .def_egress = p->def_egress,
				   .def_ingress = p->def_ingress, .entries = p->nents,
				   .pol_gen = np->pol_gen, .pol_mask = p->npolrefs ? np->pol_mask : 0 };
	/* inbound packets call the decision only when this policy has one to take */
	struct vg_np_state st = { .gen = gen,
				  .ingress = p->ningress || p->def_ingress == VG_NP_DENY };
	uint32_t key = gen, zero = 0;
	int fds[3] = { k->lpm, k->dom, k->ent };

	for (int i = 0; i < 3; i++)
		if (bpf_map_update_elem(np->outer[i], &key, &fds[i], BPF_ANY))
			return -errno;
	if (bpf_map_update_elem(np->conf_fd, &key, &conf, BPF_ANY))
		return -errno;
	/* the flip: from here on the kernel decides with generation gen */
	if (bpf_map_update_elem(np->state_fd, &zero, &st, BPF_ANY))
		return -errno;
	return 0;
}

/* Clear generation gen's slot of every learned address (it will be reused). */
static void learned_clear(struct vg_netpolicy *np, int gen)
{
	struct vg_np_lpm_key key, next;
	struct vg_np_learned l;
	void *prev = NULL;

	while (bpf_map_get_next_key(np->learned_fd, prev, &next) == 0) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(np->learned_fd, &key, &l) || !l.verdict[gen & 1])
			continue;
		l.verdict[gen & 1] = VG_NP_NONE;
		l.entry[gen & 1] = 0;
		if (l.verdict[!(gen & 1)])
			bpf_map_update_elem(np->learned_fd, &key, &l, BPF_EXIST);
		else
			bpf_map_delete_elem(np->learned_fd, &key);
	}
}

/* Forget generation gen in the kernel (its maps are freed with the last reference). */
static void retire(struct vg_netpolicy *np, int gen)
{
	struct vg_np_conf off = {};
	uint32_t key = gen;

	bpf_map_update_elem(np->conf_fd, &key, &off, BPF_ANY);
	for (int i = 0; i < 3; i++)
		bpf_map_delete_elem(np->outer[i], &key);
	vg_np_kmaps_close(&np->km[gen]);
	learned_clear(np, gen);
}

static void set_result(struct vg_netpolicy *np, bool ok, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void set_result(struct vg_netpolicy *np, bool ok, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&np->lock);
	np->st.last_ok = ok;
	np->st.last_real_ns = vg_now_real_ns();
	if (!ok)
		np->st.failures++;
	va_start(ap, fmt);
	vsnprintf(np->st.last, sizeof(np->st.last), fmt, ap);
	va_end(ap);
	pthread_mutex_unlock(&np->lock);
}

/* ---- names already resolved (net-state's answer table) ---- */

/* The best entry a name matches (any scope: the kernel checks the scope at
 * connect), 0 if none; *hash gets the matched suffix's hash. */
static uint32_t name_decide(const struct vg_np_policy *p, const char *name, uint64_t *hash)
{
	uint64_t hs[128];
	unsigned n = 0, best_rank = 0;
	uint32_t best = 0;
	const char *end = name + strlen(name);

	/* suffix hashes from the rightmost label, as the kernel folds them */
	for (uint64_t h = VG_DOM_INIT; end > name && n < 128;) {
		const char *start = end;
		uint8_t buf[64] = { 0 };

		while (start > name && start[-1] != '.')
			start--;
		memcpy(buf, start, end - start > 63 ? 63 : end - start);
		h = vg_dom_fold(h, vg_dom_label_hash(buf, end - start));
		hs[n++] = h;
		end = start > name ? start - 1 : name;
	}
	for (unsigned k = 0; k < n && k < VG_NP_LABELS; k++) {
		size_t lo = 0, hi = p->ndoms;

		while (lo < hi) { /* p->doms is sorted by hash (compile) */
			size_t mid = (lo + hi) / 2;

			if (p->doms[mid].hash < hs[k])
				lo = mid + 1;
			else
				hi = mid;
		}
		for (size_t i = lo; i < p->ndoms && p->doms[i].hash == hs[k]; i++) {
			uint32_t raw = p->doms[i].ent, id = raw & ~VG_NP_SUB;
			bool sub = raw & VG_NP_SUB;
			const struct vg_np_entry *e = &p->ents[id - 1].k;

			if (sub == (k == n - 1))
				continue; /* exact entries match the whole name, sub ones a parent */
			if (!best || e->rank > best_rank ||
			    (e->rank == best_rank && e->verdict == VG_NP_DENY)) {
				best = id;
				best_rank = e->rank;
				*hash = hs[k];
			}
		}
	}
	return best;
}

/*
 * Addresses resolved before this policy (the answer table, vg_dnsa): those
 * whose question name or CNAME chain an entry matches are learned now, as if
 * their answer had just arrived — a name denied after it was resolved is cut
 * at once. Returns how many were learned.
 */
static size_t learn_resolved(struct vg_netpolicy *np, int gen, const struct vg_np_policy *p)
{
	int fd = map_fd(np->obj, "vg_dnsa");
	struct vg_dnsa_key key, next;
	struct vg_dnsa val;
	uint64_t now = vg_now_boot_ns();
	size_t n = 0;
	void *prev = NULL;

	if (fd < 0 || !p->ndoms)
		return 0;
	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		char names[2048], *tok, *save = NULL;
		uint64_t hash = 0;
		uint32_t best = 0;

		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &val) || val.expires_ns <= now)
			continue;
		names[0] = 0;
		if (val.chain && vg_str_read(np->maps, val.chain, names, sizeof(names), NULL) < 0)
			names[0] = 0;
		if (!names[0] && vg_str_read(np->maps, val.name, names, sizeof(names), NULL) < 0)
			continue;
		for (tok = strtok_r(names, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
			uint64_t h = 0;
			uint32_t id = name_decide(p, tok, &h);
			const struct vg_np_entry *e = id ? &p->ents[id - 1].k : NULL;

			if (e && (!best || e->rank > p->ents[best - 1].k.rank ||
				  (e->rank == p->ents[best - 1].k.rank && e->verdict == VG_NP_DENY))) {
				best = id;
				hash = h;
			}
		}
		if (best) {
			struct vg_np_lpm_key lk = {};
			struct vg_np_learned l = {};

			memcpy(lk.addr, key.addr.w, 16);
			bpf_map_lookup_elem(np->learned_fd, &lk, &l); /* keep the active slot */
			if (val.expires_ns > l.expire_ns)
				l.expire_ns = val.expires_ns;
			l.name_hash = hash;
			l.entry[gen & 1] = best;
			l.verdict[gen & 1] = p->ents[best - 1].k.verdict;
			if (bpf_map_update_elem(np->learned_fd, &lk, &l, BPF_ANY) == 0)
				n++;
		}
	}
	return n;
}

/* The RuntimePolicy network rules, appended after the files' entries. */
static int merge_runtime(struct vg_netpolicy *np, struct vg_np_policy *p)
{
	for (size_t i = 0; i < np->nextra; i++) {
		const struct vg_np_extra *x = &np->extra[i];
		int err = vg_np_policy_merge(p, x->net, x->bit, x->flags, &x->ref);

		if (err) {
			vg_err("network policy: merging %s: %s", x->ref.rule_id, strerror(-err));
			return err;
		}
	}
	for (size_t i = 0; i < p->npolrefs; i++) {
		p->polrefs[i].rule.tags = np->tags;
		p->polrefs[i].rule.ntags = 1;
	}
	return 0;
}

/* SIGKILL/SIGSTOP of RuntimePolicy network rules: taken at the exits of the
 * syscalls that reach the connect/sendmsg hooks, attached only while such a
 * rule is in force (every connect/send would pay a lookup otherwise). */
static void sync_exit_hooks(struct vg_netpolicy *np)
{
	static const char *const calls[] = { "sys_exit_connect", "sys_exit_sendto",
					     "sys_exit_sendmsg", "sys_exit_sendmmsg" };
	const struct vg_np_policy *p = np->gen >= 0 ? np->pol[np->gen] : NULL;
	struct bpf_program *prog = bpf_object__find_program_by_name(np->obj, "vg_np_pol_exit");
	bool want = false;

	for (size_t i = 0; p && i < p->nents && !want; i++)
		want = (p->ents[i].k.flags & (VG_NPE_KILL | VG_NPE_STOP)) &&
		       !(p->ents[i].k.flags & VG_NPE_AUDIT);
	if (!prog || want == (np->exit_links[0] != NULL))
		return;
	for (size_t i = 0; i < 4; i++) {
		bpf_link__destroy(np->exit_links[i]);
		np->exit_links[i] = NULL;
	}
	for (size_t i = 0; want && i < 4; i++) {
		np->exit_links[i] = bpf_program__attach_tracepoint(prog, "syscalls", calls[i]);
		if (!np->exit_links[i]) {
			vg_err("policies: attaching syscalls:%s: %s — network kill/freeze rules refuse "
			       "the call but don't signal", calls[i], strerror(errno));
			break;
		}
	}
}

static int load(struct vg_netpolicy *np, const char *why)
{
	struct vg_rule_errors errs = {};
	struct vg_np_policy *p;
	struct vg_np_kmaps k;
	char msg[1024] = "";
	size_t n;
	char **files = policy_files(np, &n);
	int gen = np->gen < 0 ? 0 : !np->gen;
	uint64_t fp;
	uint64_t t0, t1;
	int err;

	if (!files)
		return -ENOMEM;
	fp = files_fingerprint(files, n);
	if (!strcmp(why, "policy file changed") && fp == np->fp) {
		strv_free(files, n);
		return 0; /* already loaded as it is (a SIGHUP came first) */
	}
	if (!n && !np->nextra) {
		strv_free(files, n);
		if (np->gen >= 0) {
			/* the files are gone: no policy any more */
			struct vg_np_state st = { .gen = gen };
			uint32_t zero = 0, key = gen;
			struct vg_np_conf off = {};

			bpf_map_update_elem(np->conf_fd, &key, &off, BPF_ANY);
			bpf_map_update_elem(np->state_fd, &zero, &st, BPF_ANY);
			if (np->drain)
				np->drain(np->drain_arg);
			retire(np, !gen);
			np->gen = -1;
			vg_info("network policy removed (%s: no policy files)", why);
			set_result(np, true, "no policy files: none in force");
		}
		return 0;
	}
	p = n ? vg_np_policy_load(files, n, &errs) : vg_np_policy_new();
	strv_free(files, n);
	if (p && !n)
		p->files = strdup("(RuntimePolicy network rules only)");
	if (p && merge_runtime(np, p)) {
		vg_np_policy_free(p);
		p = NULL;
	}
	if (!p) {
		np->fp = fp; /* the same bad files: reported once */
		vg_err("network policy (%s): not loaded, %s", why,
		       np->gen >= 0 ? "the previous policy stays in force" : "no policy in force");
		vg_rule_errors_print(&errs, stderr);
		if (errs.n) {
			const struct vg_rule_error *e = &errs.v[0];

			snprintf(msg, sizeof(msg), "%s:%d:%d: %s%s%s (%zu error%s)", e->file, e->line,
				 e->column, e->field, e->field[0] ? ": " : "", e->msg, errs.n,
				 errs.n > 1 ? "s" : "");
		}
		set_result(np, false, "rejected: %s", msg[0] ? msg : "out of memory");
		vg_rule_errors_free(&errs);
		return -EINVAL;
	}
	t0 = vg_now_boot_ns();
	err = vg_np_compile(p, &k, msg, sizeof(msg));
	t1 = vg_now_boot_ns();
	if (!err) {
		/* before the flip: the new generation's learned addresses are ready with it */
		size_t learned = learn_resolved(np, gen, p);

		if (learned)
			vg_info("network policy: %zu addresses resolved earlier match its names: "
				"learned", learned);
		err = install(np, gen, p, &k);
	}
	if (err) {
		vg_err("network policy (%s): not installed: %s%s", why, msg[0] ? msg : strerror(-err),
		       np->gen >= 0 ? "; the previous policy stays in force" : "");
		set_result(np, false, "rejected: %s", msg[0] ? msg : strerror(-err));
		vg_np_kmaps_close(&k);
		vg_np_policy_free(p);
		return err;
	}
	/* in force: let messages of the old generation be read, then retire it */
	if (np->gen >= 0 && np->drain)
		np->drain(np->drain_arg);
	if (np->gen >= 0)
		retire(np, np->gen);
	vg_np_policy_free(np->pol[gen]);
	np->pol[gen] = p;
	np->km[gen] = k;
	np->gen = gen;
	np->fp = fp;
	sync_exit_hooks(np);
	if (k.truncated)
		vg_warn("network policy: %zu prefixes/names have more than %d entries: the "
			"lowest-ranked are ignored", k.truncated, VG_NP_CAND);
	pthread_mutex_lock(&np->lock);
	np->st.loaded_real_ns = vg_now_real_ns();
	np->st.parse_ns = p->parse_ns;
	np->st.compile_ns = t1 - t0;
	pthread_mutex_unlock(&np->lock);
	set_result(np, true, "loaded %s: %s, default egress %s, ingress %s, %zu entries (%zu "
		   "ingress), %zu prefixes, %zu names, %zu blocklist lines, %zu RuntimePolicy "
		   "network rules in %.0f ms", p->files,
		   p->mode == VG_NP_ENFORCE ? "enforce" : "audit",
		   p->def_egress == VG_NP_DENY ? "deny" : "allow",
		   p->def_ingress == VG_NP_DENY ? "deny" : "allow", p->nents, p->ningress,
		   k.nprefixes, k.nnames,
		   p->blocklist_entries, p->npolrefs, (p->parse_ns + (t1 - t0)) / 1e6);
	vg_info("network policy (%s): %s", why, np->st.last);
	return 0;
}

int vg_netpolicy_start(struct vg_netpolicy *np)
{
	for (int i = 0; i < 3; i++)
		if (np->outer[i] < 0 || np->conf_fd < 0 || np->state_fd < 0) {
			vg_err("this build has no network policy maps: no network enforcement");
			return -ENOENT;
		}
	if (attach(np))
		return -ENOENT;
	vg_info("network hooks attached at the cgroup v2 root %s (connect4/6, sendmsg4/6, "
		"cgroup_skb egress/ingress)", np->cgroot);
	watch(np);
	if (np->file_given[0] && !exists(np->file_given)) {
		vg_err("--network-policy %s: %s", np->file_given, strerror(ENOENT));
		return -ENOENT;
	}
	load(np, "start");
	return 0;
}

int vg_netpolicy_set_runtime(struct vg_netpolicy *np, const struct vg_np_extra *x, size_t n,
			     unsigned pol_gen)
{
	struct vg_np_extra *copy = n ? calloc(n, sizeof(*copy)) : NULL;
	struct vg_np_extra *old = np->extra;
	size_t nold = np->nextra;
	uint64_t mask = 0;
	int err;

	if (n && !copy)
		return -ENOMEM;
	if (!n && !nold)
		return 0; /* nothing before, nothing now: the policy files' maps stay as they are */
	for (size_t i = 0; i < n; i++) {
		copy[i] = x[i];
		mask |= 1ULL << (x[i].bit & 63);
	}
	np->extra = copy;
	np->nextra = n;
	np->pol_gen = pol_gen;
	np->pol_mask = mask;
	err = load(np, "RuntimePolicy network rules changed");
	/* On failure the kernel keeps the previous merge; the new rules are kept for
	 * the next load (the old ones point into a policy set about to be freed). */
	if (err)
		vg_err("network policy: the RuntimePolicy network rules are not in force yet "
		       "(the merge failed: see above); they are merged at the next load");
	free(old);
	return err;
}

void vg_netpolicy_set_freeze_hook(struct vg_netpolicy *np, vg_np_freeze_fn fn, void *ctx)
{
	np->freeze_fn = fn;
	np->freeze_ctx = ctx;
}

int vg_netpolicy_reload(struct vg_netpolicy *np, const char *why)
{
	pthread_mutex_lock(&np->lock);
	np->st.reloads++;
	pthread_mutex_unlock(&np->lock);
	return load(np, why);
}

int vg_netpolicy_watch_fd(const struct vg_netpolicy *np)
{
	return np->ino_fd;
}

int vg_netpolicy_timer_fd(const struct vg_netpolicy *np)
{
	return np->timer_fd;
}

static bool relevant(const struct vg_netpolicy *np, const char *name)
{
	size_t n = strlen(name);
	const char *base;

	if (np->file_given[0]) {
		base = strrchr(np->file_given, '/');
		return !strcmp(name, base ? base + 1 : np->file_given);
	}
	return !strcmp(name, "network.yaml") || !strcmp(name, "network.d") ||
	       (n > 5 && !strcmp(name + n - 5, ".yaml") && name[0] != '.');
}

bool vg_netpolicy_on_inotify(struct vg_netpolicy *np)
{
	char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
	bool hit = false;
	ssize_t n;

	while ((n = read(np->ino_fd, buf, sizeof(buf))) > 0)
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const struct inotify_event *)p;

			if (ev->len && relevant(np, ev->name))
				hit = true;
			p += sizeof(*ev) + ev->len;
		}
	if (hit && np->timer_fd >= 0) {
		/* editors write in several steps: reload once they are done */
		struct itimerspec its = { .it_value = { 0, DEBOUNCE_NS } };

		timerfd_settime(np->timer_fd, 0, &its, NULL);
	}
	return hit;
}

void vg_netpolicy_on_timer(struct vg_netpolicy *np)
{
	uint64_t exp;

	if (read(np->timer_fd, &exp, sizeof(exp)) == sizeof(exp))
		vg_netpolicy_reload(np, "policy file changed");
}

/* ---- messages -> findings ---- */

static const char *hook_name(unsigned h)
{
	static const char *const n[] = { "?", "connect4", "connect6", "sendmsg4", "sendmsg6",
					 "dns_query", "dns_answer", "egress", "listen", "ingress", "raw",
					 "tcp_data" };

	return h < sizeof(n) / sizeof(n[0]) ? n[h] : "?";
}

static const char *reason_name(unsigned r)
{
	static const char *const n[] = { "?", "entry", "default", "learned", "quarantine" };

	return r < sizeof(n) / sizeof(n[0]) ? n[r] : "?";
}

/* Wire-format name -> dotted text (labels are copied as they are, JSON escapes later). */
static void wire_name(const uint8_t *w, size_t len, char *out, size_t outlen)
{
	size_t i = 0, o = 0;

	out[0] = 0;
	while (i < len && w[i] && o + 1 < outlen) {
		size_t l = w[i++];

		if (l > 63 || i + l > len)
			break;
		if (o && o + 1 < outlen)
			out[o++] = '.';
		for (size_t j = 0; j < l && o + 1 < outlen; j++) {
			char c = w[i + j];

			out[o++] = c >= 'A' && c <= 'Z' ? c + 32 : c;
		}
		i += l;
	}
	out[o] = 0;
}

static const char *guarantee(const struct vg_np_msg *m)
{
	if (m->reason == VG_NPR_QUARANTINE)
		return "process network-quarantined: refused in the kernel (cgroup hook) before "
		       "anything was sent";
	if (!m->blocked)
		return "audit mode: reported only, the traffic was allowed";
	switch (m->hook) {
	case VG_NPH_DNS_QUERY:
		return "query dropped in the kernel (cgroup_skb egress) before it left the host: "
		       "the resolver never saw it";
	case VG_NPH_DNS_ANSWER:
		return "the answer's addresses are refused in the kernel (connect/sendmsg) from its "
		       "arrival for its TTL";
	case VG_NPH_INGRESS:
		return "dropped in the kernel (cgroup_skb ingress) on arrival: the socket never "
		       "saw it (a connection: its SYN, so it was never made)";
	case VG_NPH_RAW:
		return "a raw socket's packet, dropped in the kernel (cgroup_skb egress) before it "
		       "left: the sender got EPERM";
	default:
		return "refused in the kernel (cgroup connect/sendmsg hook) before any packet was "
		       "sent: the caller got EPERM";
	}
}

static void json_str(char *out, size_t len, const char *s)
{
	struct vg_sbuf b = { 0 };

	/* the findings' escaper: a name's bytes that are not UTF-8 (a tunnel's binary labels,
	 * iodine's raw encoding) become U+FFFD; json-c's passes them through, making a line
	 * that is not JSON */
	vg_sbuf_json_cstr(&b, s);
	snprintf(out, len, "%.*s", (int)b.len, b.p ? b.p : "\"\"");
	vg_sbuf_free(&b);
}

/* log2 without libm (the static binary doesn't link it for one call). */
static double lg2(double x)
{
	double y, y2, t, sum = 0;
	int e = 0;

	while (x < 1) {
		x *= 2;
		e--;
	}
	while (x >= 2) {
		x /= 2;
		e++;
	}
	/* ln x = 2 atanh((x-1)/(x+1)), x in [1, 2) */
	y = (x - 1) / (x + 1);
	y2 = y * y;
	t = y;
	for (int k = 1; k < 40; k += 2) {
		sum += t / k;
		t *= y2;
	}
	return e + 2 * sum / 0.6931471805599453;
}

/* Shannon entropy of s in bits per character. */
static double entropy(const char *s, size_t n)
{
	unsigned cnt[256] = { 0 };
	double h = 0;

	for (size_t i = 0; i < n; i++)
		cnt[(uint8_t)s[i]]++;
	for (int c = 0; c < 256; c++)
		if (cnt[c]) {
			double p = (double)cnt[c] / n;

			h -= p * lg2(p);
		}
	return h;
}

/* The executable's basename of a process (from the process table), "" if unknown. */
static void proc_exe_base(struct vg_netpolicy *np, const struct vg_proc_key *k, char *out,
			  size_t len)
{
	struct vg_proc rec;
	char exe[VG_STR_MAX];
	const char *b;

	out[0] = 0;
	if (!k->tgid || bpf_map_lookup_elem(np->maps->procs, k, &rec) ||
	    vg_str_read(np->maps, rec.exe, exe, sizeof(exe), NULL) < 0)
		return;
	b = strrchr(exe, '/');
	snprintf(out, len, "%.255s", b ? b + 1 : exe);
}

/* A built-in detection's candidate: judge it; NULL rule: benign. *why: the evidence. */

/*
 * The domain a name's owner registered, by the Public Suffix List (libpsl's built-in copy,
 * Debian's): example.co.uk for a.b.example.co.uk, and bucket.s3.amazonaws.com or
 * d111.cloudfront.net for themselves — the names under a public suffix of two labels, or a
 * cloud's or CDN's shared one, are each their owner's, not many subdomains of one parent (a
 * mail server's lookups of senders' .co.uk domains; a crawler's of CDN hosts). A tunnel's
 * names stay under its registered domain (evil.co.uk). A name the list has no answer for
 * (a suffix itself, or not UTF-8), or longer than a DNS name's 253 bytes of text, falls
 * back to its last two labels. A pointer into name.
 */
static const char *parent_domain(const char *name)
{
	const psl_ctx_t *psl = psl_builtin(); /* static data: no allocation */
	size_t n = strlen(name);
	const char *par = name + n, *r;
	char low[256];
	int dots = 0;

	if (psl && n < sizeof(low)) {
		for (size_t i = 0; i <= n; i++) /* the list wants lower case */
			low[i] = (char)tolower((unsigned char)name[i]);
		r = psl_registrable_domain(psl, low);
		if (r)
			return name + (r - low);
	}
	while (par > name && dots < 2)
		if (*--par == '.' && ++dots == 2)
			par++;
	return par;
}

/*
 * A tunnelling shape's finding for the same process and parent domain as one less than
 * TUNNEL_REPEAT_NS before is held back: a tunnel asks a name per packet, and the kernel's
 * limit (one candidate a second per process and parent) would still make one finding a
 * second for as long as it runs. The next one after the interval carries what was held
 * (suppressed); all are counted (detection_repeats_suppressed). true: emit (*held: to add).
 */
static bool tunnel_due(struct vg_netpolicy *np, const struct vg_np_msg *m, const char *name,
		       uint64_t *held)
{
	uint64_t ph = vg_np_domain_hash(parent_domain(name), NULL);
	unsigned i, n = np->ntun < SCAN_PROCS ? np->ntun : SCAN_PROCS;

	*held = 0;
	for (i = 0; i < n; i++)
		if (np->tun_seen[i].parent == ph &&
		    !memcmp(&np->tun_seen[i].key, &m->proc, sizeof(m->proc)))
			break;
	if (i < n && m->hdr.time_ns - np->tun_seen[i].last_ns < TUNNEL_REPEAT_NS) {
		np->tun_seen[i].held += 1 + m->suppressed;
		__atomic_fetch_add(&np->st.repeats, 1, __ATOMIC_RELAXED);
		return false;
	}
	if (i == n)
		i = np->ntun++ % SCAN_PROCS;
	else
		*held = np->tun_seen[i].held;
	np->tun_seen[i].key = m->proc;
	np->tun_seen[i].parent = ph;
	np->tun_seen[i].last_ns = m->hdr.time_ns;
	np->tun_seen[i].held = 0;
	return true;
}

static const struct vg_rule *watch_judge(struct vg_netpolicy *np, const struct vg_np_msg *m,
					 const char *name, char *why, size_t whylen)
{
	char exe[256];

	why[0] = 0;
	switch (m->entry) {
	case VG_NPW_METADATA:
		proc_exe_base(np, &m->proc, exe, sizeof(exe));
		for (const char *const *c = metadata_clients; *c; c++)
			if (!strcmp(exe, *c))
				return NULL;
		snprintf(why, whylen, "%s is not a cloud agent", exe[0] ? exe : "an unknown process");
		return &np->rules[R_METADATA];
	case VG_NPW_LISTEN: {
		static const char *const tmpdirs[] = { "/tmp/", "/var/tmp/", "/dev/shm/", "/run/user/",
						       NULL };
		static const char *const odd[] = { "sh", "bash", "dash", "zsh", "ksh", "nc", "ncat",
						   "netcat", "nc.openbsd", "nc.traditional", "socat",
						   NULL };
		struct vg_proc rec;
		char path[VG_STR_MAX] = "";
		const char *b;

		if (!m->proc.tgid || bpf_map_lookup_elem(np->maps->procs, &m->proc, &rec))
			return NULL;
		vg_str_read(np->maps, rec.exe, path, sizeof(path), NULL);
		b = strrchr(path, '/');
		b = b ? b + 1 : path;
		if (rec.flags & VG_PF_EXE_DELETED) {
			snprintf(why, whylen, "port %u: the executable is deleted or anonymous (%.200s)",
				 m->port, path);
			return &np->rules[R_LISTEN];
		}
		for (const char *const *d = tmpdirs; *d; d++)
			if (!strncmp(path, *d, strlen(*d))) {
				snprintf(why, whylen, "port %u: the executable is under %s (%.200s)",
					 m->port, *d, path);
				return &np->rules[R_LISTEN];
			}
		for (const char *const *o = odd; *o; o++)
			if (!strcmp(b, *o)) {
				snprintf(why, whylen, "port %u: %s listening (a bind shell's shape)",
					 m->port, b);
				return &np->rules[R_LISTEN];
			}
		return NULL;
	}
	case VG_NPW_STRATUM:
		snprintf(why, whylen, "TCP port %u: a stratum (mining pool) port", m->port);
		return &np->rules[R_STRATUM];
	case VG_NPW_STRATUM_DATA: /* the method, as text (the kernel checked its shape) */
		snprintf(why, whylen, "first data on TCP port %u: a JSON-RPC call of method \"%.*s%s\"",
			 m->port, (int)(m->name_len < VG_NPW_METHOD_MAX ? m->name_len : VG_NPW_METHOD_MAX),
			 (const char *)m->name, m->name_len >= VG_NPW_METHOD_MAX ? "...(cut)" : "");
		for (char *c = why; *c; c++)
			if ((unsigned char)*c < 0x20 || *c == '\\')
				*c = '?';
		return &np->rules[R_STRATUM_DATA];
	case VG_NPW_DNS_SHAPE: {
		const char *lab = name, *best = name;
		size_t bl = 0, n = strlen(name);
		double h;

		for (const char *p = name;; p++)
			if (!*p || *p == '.') {
				if ((size_t)(p - lab) > bl) {
					bl = p - lab;
					best = lab;
				}
				if (!*p)
					break;
				lab = p + 1;
			}
		h = entropy(best, bl);
		if (bl >= 40 || (bl >= VG_NPW_LABEL_MIN && h >= 3.5) || n >= 150) {
			snprintf(why, whylen, "longest label %zu bytes, %.2f bits/char; name %zu bytes",
				 bl, h, n);
			return &np->rules[R_DNS_TUNNEL];
		}
		return NULL;
	}
	default:
		return NULL;
	}
}

static void watch_msg(struct vg_netpolicy *np, const struct vg_np_msg *m, const char *addr,
		      const char *name)
{
	struct vg_ext_finding x = {};
	const struct vg_rule *r;
	char why[256], jwhy[600], jname[700], jaddr[80], net[2048], text[1024], port[16] = "null";
	uint64_t held = 0;

	r = watch_judge(np, m, name, why, sizeof(why));
	if (!r) {
		__atomic_fetch_add(&np->st.watch_expected, 1, __ATOMIC_RELAXED);
		return;
	}
	if (r == &np->rules[R_DNS_TUNNEL] && !tunnel_due(np, m, name, &held))
		return;
	json_str(jwhy, sizeof(jwhy), why);
	json_str(jname, sizeof(jname), name);
	json_str(jaddr, sizeof(jaddr), addr);
	if (m->port)
		snprintf(port, sizeof(port), "%u", m->port);
	snprintf(net, sizeof(net),
		 "{\"direction\":\"egress\",\"hook\":\"%s\",\"protocol\":\"%s\",\"family\":%u,"
		 "\"address\":%s,\"port\":%s,\"domain\":%s,\"blocked\":false,\"policy\":null,"
		 "\"detection\":%s}",
		 hook_name(m->hook), m->proto == 6 ? "tcp" : m->proto == 17 ? "udp" : "other",
		 m->family, addr[0] ? jaddr : "null", port, name[0] ? jname : "null", jwhy);
	snprintf(text, sizeof(text), "%s %s%s%s%s%s (%s)", hook_name(m->hook), addr,
		 addr[0] && name[0] ? " " : "", name, m->port ? ":" : "", m->port ? port : "", why);
	x.rule = r;
	x.proc = m->proc;
	x.uid = m->uid;
	x.time_ns = m->hdr.time_ns;
	memcpy(&x.id_parts[0], m->addr, 16);
	x.id_parts[2] = m->port | (uint64_t)m->hook << 16 | (uint64_t)m->entry << 32 | 1ULL << 63;
	x.id_parts[3] = m->name_hash;
	x.network_json = net;
	x.text = text;
	x.suppressed = m->suppressed + held;
	vg_detect_emit_ext(np->det, &x);
	__atomic_fetch_add(&np->st.findings, 1, __ATOMIC_RELAXED);
}

void vg_netpolicy_msg(struct vg_netpolicy *np, const void *data, size_t len)
{
	const struct vg_np_msg *m = data;
	const struct vg_np_policy *p;
	const struct vg_np_ent *e = NULL;
	const struct vg_np_polref *pr = NULL;
	struct vg_ext_finding x = {};
	struct vg_detect_action act = {};
	char addr[64] = "", name[300] = "", jname[700], jmatch[700], jsrc[600], jaddr[80];
	char jpol[300] = "null", extra[4096];
	char net[4096], text[1024], entry[64] = "null", port[16] = "null";
	const char *proto;
	enum np_rule rule = R_DENY;

	if (len < sizeof(*m)) {
		vg_detect_malformed(np->det);
		return;
	}
	__atomic_fetch_add(&np->st.messages, 1, __ATOMIC_RELAXED);
	if (m->reason == VG_NPR_WATCH) {
		if (m->hook != VG_NPH_DNS_QUERY)
			vg_np_addr_str(m->addr, addr, sizeof(addr));
		if (m->name_len && m->entry != VG_NPW_STRATUM_DATA) /* that one's is text */
			wire_name(m->name, m->name_len < VG_NP_NAME ? m->name_len : VG_NP_NAME, name,
				  sizeof(name));
		watch_msg(np, m, addr, name);
		return;
	}
	p = np->pol[m->gen & 1];
	if (m->entry && p && m->entry <= p->nents)
		e = &p->ents[m->entry - 1];
	else if (m->entry)
		__atomic_fetch_add(&np->st.unknown, 1, __ATOMIC_RELAXED);
	if (e && e->polref && e->polref <= p->npolrefs)
		pr = &p->polrefs[e->polref - 1];
	if (pr)
		json_str(jpol, sizeof(jpol), pr->policy ? pr->policy : "");
	if (m->reason == VG_NPR_QUARANTINE)
		rule = R_QUARANTINE;
	else if (e && e->category == VG_NPC_MINING)
		rule = R_MINING;
	else if (e && e->category == VG_NPC_DYNDNS)
		rule = R_DYNDNS;
	else if (e && e->category == VG_NPC_C2)
		rule = R_C2;
	else if (m->hook == VG_NPH_INGRESS)
		rule = R_INGRESS;
	if (m->hook != VG_NPH_DNS_QUERY)
		vg_np_addr_str(m->addr, addr, sizeof(addr));
	if (m->name_len)
		wire_name(m->name, m->name_len < VG_NP_NAME ? m->name_len : VG_NP_NAME, name,
			  sizeof(name));
	if (!name[0] && m->name_hash && p)
		for (size_t i = 0; i < p->ndom_names; i++)
			if (p->dom_name_hash[i] == m->name_hash) {
				snprintf(name, sizeof(name), "%s", p->dom_names[i]);
				break;
			}
	json_str(jname, sizeof(jname), name);
	json_str(jaddr, sizeof(jaddr), addr);
	json_str(jmatch, sizeof(jmatch), e ? (e->what ? e->what : e->source) : "");
	json_str(jsrc, sizeof(jsrc), e ? e->source : "");
	if (e)
		snprintf(entry, sizeof(entry), "\"%s[%zu]\"", e->list, e->index);
	proto = m->proto == 6 ? "tcp" : m->proto == 17 ? "udp" : "other";
	if (m->port)
		snprintf(port, sizeof(port), "%u", m->port);
	snprintf(net, sizeof(net),
		 "{\"direction\":\"%s\",\"hook\":\"%s\",\"protocol\":\"%s\",\"family\":%u,"
		 "\"address\":%s,\"port\":%s,\"domain\":%s,\"blocked\":%s,"
		 "\"policy\":{\"mode\":\"%s\",\"reason\":\"%s\",\"entry\":%s,\"match\":%s,"
		 "\"source\":%s,\"runtime_policy\":%s},\"guarantee\":\"%s\"}",
		 m->hook == VG_NPH_INGRESS ? "ingress" : "egress", hook_name(m->hook), proto,
		 m->family, addr[0] ? jaddr : "null", port,
		 name[0] ? jname : "null", m->blocked ? "true" : "false",
		 pr ? (pr->audit ? "audit" : "enforce") :
		 !p ? "enforce" : p->mode == VG_NP_ENFORCE ? "enforce" : "audit",
		 reason_name(m->reason), entry, e ? jmatch : "null", e ? jsrc : "null", jpol,
		 guarantee(m));
	if (m->hook == VG_NPH_INGRESS)
		snprintf(text, sizeof(text), "inbound %s from %s to local port %s (%s%s%s)", proto,
			 addr, port, reason_name(m->reason), e ? " " : "",
			 e ? (e->what ? e->what : e->source) : "");
	else
		snprintf(text, sizeof(text), "%s %s%s%s%s%s (%s%s%s)", hook_name(m->hook), addr,
			 name[0] && addr[0] ? " " : "", name, m->port ? ":" : "",
			 m->port ? port : "", reason_name(m->reason), e ? " " : "",
			 e ? (e->what ? e->what : e->source) : "");
	x.rule = &np->rules[rule];
	x.proc = m->proc;
	x.uid = m->uid;
	x.time_ns = m->hdr.time_ns;
	memcpy(&x.id_parts[0], m->addr, 16);
	x.id_parts[2] = m->port | (uint64_t)m->hook << 16 | (uint64_t)m->entry << 32;
	x.id_parts[3] = m->name_hash;
	x.network_json = net;
	x.text = text;
	act.action = m->blocked ? "block" : "alert";
	act.enforced_by = "cgroup";
	act.audit = !m->blocked;
	act.policy = m->reason == VG_NPR_QUARANTINE ? "network-quarantine" : "network-policy";
	act.guarantee = guarantee(m);
	if (pr) {
		/* a RuntimePolicy rule's: the envelope of the other policy findings */
		char jmsg[600] = "null", jid[400];
		size_t n;

		if (pr->message)
			json_str(jmsg, sizeof(jmsg), pr->message);
		json_str(jid, sizeof(jid), pr->rule_id ? pr->rule_id : "");
		x.rule = &pr->rule;
		act.action = pr->action;
		act.audit = pr->audit;
		act.enforced_by = m->blocked ? pr->enforced_by : NULL;
		act.policy = pr->policy;
		act.guarantee = pr->how;
		if (m->hook == VG_NPH_DNS_QUERY) {
			/* a name's query is dropped: a block whatever the rule's action (no
			 * signal from the packet path; kill/freeze act at a connect) */
			act.action = "block";
			act.enforced_by = "cgroup";
			act.guarantee = guarantee(m);
		}
		n = snprintf(extra, sizeof(extra), ",\"rule\":%s,\"hook\":\"%s\",\"message\":%s",
			     jid, hook_name(m->hook), jmsg);
		if (m->blocked && (e->k.flags & VG_NPE_STOP) && m->hook != VG_NPH_DNS_QUERY &&
		    np->freeze_fn && m->proc.tgid && n < sizeof(extra))
			np->freeze_fn(np->freeze_ctx, m->proc.tgid, extra + n, sizeof(extra) - n);
		act.extra_json = extra;
	}
	x.act = &act;
	x.suppressed = m->suppressed;
	vg_detect_emit_ext(np->det, &x);
	__atomic_fetch_add(&np->st.findings, 1, __ATOMIC_RELAXED);
}

/* ---- port scan shape (over the flow table, when due) ---- */

struct scan_proc {
	struct vg_proc_key key;
	uint32_t dests, refused, raw; /* raw: probes a raw socket sent (their answers are not seen) */
	uint32_t udp, unanswered;     /* datagrams sent to a destination; of them, never answered */
	uint32_t procs;               /* a group's: the processes whose destinations these are */
	uint32_t most;                /* a group's: the most destinations one of them reached */
	uint64_t last_ns;
	uint8_t addr[16];
	uint16_t port;
	bool last_udp; /* the last destination: UDP (a raw socket's probe, or a datagram) */
	bool skip;     /* a group whose child's group is a scan too: that one is reported */
	/* the process and its ancestors as at fork, to VG_SCAN_ANCESTORS generations (tgid 0:
	 * none; not init's) */
	struct vg_proc_key anc[VG_SCAN_ANCESTORS + 1];
};

/* A group address (IPv4 224.0.0.0 and up: multicast, reserved, broadcast; IPv6 ff00::/8): a
 * datagram to one is answered, if at all, from the members' own addresses — another flow.
 * The kernel's count leaves them out alike (lib/net.bpf.h: vg_ip_group). */
static bool group_addr(const struct vg_ip *a)
{
	const uint8_t *b = (const uint8_t *)a->w;
	static const uint8_t v4mapped[12] = { [10] = 0xff, [11] = 0xff };

	return memcmp(b, v4mapped, 12) == 0 ? b[12] >= 224 : b[0] == 0xff;
}

/*
 * A flow the port scan shape counts, and how: a TCP connection the process made (refused or
 * not), a raw socket's probe (TCP or UDP: what it sent; a sniffer's rows only received), or a
 * datagram the process sent on an ordinary UDP socket (unanswered when nothing came back on
 * its flow — an ICMP error, a closed port's answer, reaches the socket as an error, not
 * data) — not a DNS query, nor to a group address, nor a route probe (a traceroute's low
 * TTL: VG_FF_TTL_LOW), which is answered by a router's ICMP error too.
 */
static bool scan_counts(const struct vg_flow_key *k, const struct vg_flow *v)
{
	if (v->init == VG_FI_RAW)
		return v->tx_pkts != 0;
	if (k->proto == 6)
		return v->init == VG_FI_CONNECT;
	return k->proto == 17 && (v->init == VG_FI_SEND || v->init == VG_FI_CONNECT) &&
	       v->tx_pkts && !(v->flags & VG_FF_TTL_LOW) && k->rport != 53 &&
	       !group_addr(&k->raddr);
}

static bool reported(struct vg_netpolicy *np, const struct vg_proc_key *k)
{
	for (unsigned i = 0; i < SCAN_PROCS && i < np->nscanned; i++)
		if (!memcmp(&np->scanned[i], k, sizeof(*k)))
			return true;
	return false;
}

/*
 * Whether a shape's table is to be walked now: the kernel stamped the shape due since the
 * last walk (vg_net_due), and the last walk is at least `every` old. A stamp that comes
 * while the walk waits keeps it asked for, and so does a walk whose table could not be
 * read (the caller forgets the stamp). vg_net_due unreadable: walk every `every`
 * (counted).
 */
static bool shape_due(struct vg_netpolicy *np, enum vg_shape shape, uint64_t now,
		      uint64_t *last_ns, uint64_t every)
{
	uint32_t k = shape;
	uint64_t stamp;

	if (now - *last_ns < every)
		return false;
	if (bpf_map_lookup_elem(map_fd(np->obj, "vg_net_due"), &k, &stamp)) {
		__atomic_fetch_add(&np->st.due_unread, 1, __ATOMIC_RELAXED);
		stamp = now; /* walk as if due */
	} else if (stamp == np->due_seen[shape]) {
		return false;
	}
	np->due_seen[shape] = stamp;
	*last_ns = now;
	return true;
}

/* ---- many unique subdomains (over the question table, when due) ---- */

struct many_grp {
	struct vg_proc_key key;
	uint64_t parent; /* hash of parent_domain() */
	uint32_t names;
	uint64_t last_ns;
	char parent_name[300], example[300]; /* as long as a name read (name[] below) */
};

/* A shape walk's point-in-time copy of its table (err: the load's result): counted; false
 * (counted too) when it could not be read. */
static bool scan_loaded(struct vg_netpolicy *np, int err)
{
	__atomic_fetch_add(&np->st.scans, 1, __ATOMIC_RELAXED);
	if (err == 0)
		return true;
	__atomic_fetch_add(&np->st.scan_skipped, 1, __ATOMIC_RELAXED);
	return false;
}

/* A question in the window, by (process, name): its qtypes are one name. */
struct many_q {
	struct vg_proc_key proc;
	uint64_t name_hash;
	size_t i; /* its entry in the table copy */
};

static int many_q_cmp(const void *a, const void *b)
{
	const struct many_q *x = a, *y = b;
	int c = memcmp(&x->proc, &y->proc, sizeof(x->proc));

	return c ? c : (x->name_hash > y->name_hash) - (x->name_hash < y->name_hash);
}

static void dns_many_tick(struct vg_netpolicy *np, uint64_t now)
{
	const struct vg_dnsq_key *keys;
	const struct vg_dnsq *vals;
	struct vg_maptab t;
	struct many_grp *g;
	struct many_q *qs;
	size_t ng = 0, cap = 1024, nq = 0;

	if (!shape_due(np, VG_SHAPE_MANY, now, &np->many_last_ns, MANY_EVERY_NS))
		return;
	g = calloc(cap, sizeof(*g));
	if (!g || !scan_loaded(np, vg_maptab_load(&t, map_fd(np->obj, "vg_dnsq"),
						  sizeof(struct vg_dnsq_key), sizeof(struct vg_dnsq)))) {
		np->due_seen[VG_SHAPE_MANY] = 0; /* not walked: still asked for */
		free(g);
		return;
	}
	keys = t.keys;
	vals = t.vals;
	/* a name asked with several qtypes (A and AAAA; a tunnel's TXT, MX, CNAME, NULL) is one
	 * name: the questions in the window, sorted by process and name */
	qs = calloc(t.n ? t.n : 1, sizeof(*qs));
	for (size_t i = 0; qs && i < t.n; i++)
		if (now - vals[i].last_ns <= MANY_WINDOW_NS && keys[i].proc.tgid)
			qs[nq++] = (struct many_q){ keys[i].proc, keys[i].name_hash, i };
	if (!qs)
		__atomic_fetch_add(&np->st.scan_skipped, t.n, __ATOMIC_RELAXED);
	else
		qsort(qs, nq, sizeof(*qs), many_q_cmp);
	for (size_t q = 0; q < nq; q++) {
		size_t i = qs[q].i;
		char name[300];
		const char *par;
		uint64_t ph;
		size_t j;

		if (q && !many_q_cmp(&qs[q - 1], &qs[q]))
			continue; /* the same name, another qtype */
		if (vg_str_read(np->maps, vals[i].name, name, sizeof(name), NULL) < 0)
			continue;
		par = parent_domain(name);
		if (par == name)
			continue; /* the parent itself, or a one-label name */
		ph = vg_np_domain_hash(par, NULL);
		for (j = 0; j < ng && (g[j].parent != ph ||
				       memcmp(&g[j].key, &keys[i].proc, sizeof(g[j].key)));
		     j++)
			;
		if (j == ng) {
			if (ng == cap) {
				__atomic_fetch_add(&np->st.scan_skipped, 1, __ATOMIC_RELAXED);
				continue;
			}
			memset(&g[ng], 0, sizeof(g[ng]));
			g[ng].key = keys[i].proc;
			g[ng].parent = ph;
			snprintf(g[ng].parent_name, sizeof(g[ng].parent_name), "%s", par);
			ng++;
		}
		g[j].names++;
		if (vals[i].last_ns >= g[j].last_ns) {
			g[j].last_ns = vals[i].last_ns;
			snprintf(g[j].example, sizeof(g[j].example), "%s", name);
		}
	}
	free(qs);
	vg_maptab_free(&t);
	for (size_t j = 0; j < ng; j++) {
		struct vg_ext_finding x = {};
		char net[2048], text[1400], jpar[600], jex[600];
		bool seen = false;

		if (g[j].names < MANY_MIN)
			continue;
		for (unsigned i = 0; i < SCAN_PROCS && i < np->nmany && !seen; i++)
			seen = np->many_seen[i].parent == g[j].parent &&
			       !memcmp(&np->many_seen[i].key, &g[j].key, sizeof(g[j].key));
		if (seen)
			continue;
		np->many_seen[np->nmany % SCAN_PROCS].key = g[j].key;
		np->many_seen[np->nmany++ % SCAN_PROCS].parent = g[j].parent;
		json_str(jpar, sizeof(jpar), g[j].parent_name);
		json_str(jex, sizeof(jex), g[j].example);
		snprintf(net, sizeof(net),
			 "{\"direction\":\"egress\",\"hook\":\"dns\",\"protocol\":\"udp\","
			 "\"family\":null,\"address\":null,\"port\":53,\"domain\":%s,\"blocked\":false,"
			 "\"policy\":null,\"detection\":\"%u distinct names under %s in %llu s\","
			 "\"parent_domain\":%s,\"names\":%u}",
			 jex, g[j].names, g[j].parent_name,
			 (unsigned long long)(MANY_WINDOW_NS / 1000000000ULL), jpar, g[j].names);
		snprintf(text, sizeof(text), "%u distinct names under %s (e.g. %s)", g[j].names,
			 g[j].parent_name, g[j].example);
		x.rule = &np->rules[R_DNS_MANY];
		x.proc = g[j].key;
		x.time_ns = g[j].last_ns;
		x.id_parts[0] = g[j].parent;
		x.id_parts[1] = g[j].names;
		x.network_json = net;
		x.text = text;
		vg_detect_emit_ext(np->det, &x);
		__atomic_fetch_add(&np->st.findings, 1, __ATOMIC_RELAXED);
	}
	free(g);
}

/* One destination of one process in a scan walk: its flows (one per socket) merged. */
struct scan_dest {
	struct vg_proc_key proc;
	struct vg_ip addr;
	uint16_t port;
	uint8_t proto;
	uint8_t kind;   /* SD_TCP, SD_RAW, SD_UDP */
	bool failed;    /* every flow to it refused, probed (raw) or unanswered */
	uint64_t last_ns;
};
enum { SD_TCP, SD_RAW, SD_UDP };

static int scan_dest_cmp(const void *a, const void *b)
{
	const struct scan_dest *x = a, *y = b;
	int c = memcmp(&x->proc, &y->proc, sizeof(x->proc));

	if (!c)
		c = (int)x->proto - (int)y->proto;
	if (!c)
		c = memcmp(&x->addr, &y->addr, sizeof(x->addr));
	if (!c)
		c = (int)x->port - (int)y->port;
	return c;
}

/*
 * Merge a sorted array of destinations (by process, then destination) in place — one entry
 * per process and destination: failed if every flow to it did, a raw probe's if any was —
 * and count them per process into sp (in the same order). Returns the entries left.
 */
static size_t scan_merge(struct scan_dest *sd, size_t nsd, struct scan_proc *sp, size_t *nsp)
{
	size_t n = 0;

	*nsp = 0;
	for (size_t i = 0; i < nsd;) {
		struct scan_dest d = sd[i];
		struct scan_proc *p;

		for (i++; i < nsd && !scan_dest_cmp(&sd[i], &d); i++) {
			d.failed = d.failed && sd[i].failed;
			if (sd[i].kind == SD_RAW)
				d.kind = SD_RAW;
			if (sd[i].last_ns > d.last_ns)
				d.last_ns = sd[i].last_ns;
		}
		sd[n++] = d;
		if (!*nsp || memcmp(&sp[*nsp - 1].key, &d.proc, sizeof(d.proc)))
			sp[(*nsp)++].key = d.proc;
		p = &sp[*nsp - 1];
		p->dests++;
		p->refused += d.kind == SD_TCP && d.failed;
		p->raw += d.kind == SD_RAW;
		p->udp += d.kind == SD_UDP;
		p->unanswered += d.kind == SD_UDP && d.failed;
		if (d.last_ns >= p->last_ns) {
			p->last_ns = d.last_ns;
			memcpy(p->addr, d.addr.w, 16);
			p->port = d.port;
			p->last_udp = d.proto == 17;
		}
	}
	return n;
}

/* A process's parent as at fork (vg_procs), if it has a record and is not init's or
 * kthreadd's (whose children are unrelated services); the kernel counts the same. */
static bool scan_parent(int procs_fd, const struct vg_proc_key *k, struct vg_proc_key *parent)
{
	struct vg_proc rec;

	memset(parent, 0, sizeof(*parent));
	if (procs_fd < 0 || bpf_map_lookup_elem(procs_fd, k, &rec) || rec.parent.tgid <= 2)
		return false;
	*parent = rec.parent;
	return true;
}

static int scan_proc_cmp(const void *a, const void *b)
{
	return memcmp(&((const struct scan_proc *)a)->key, &((const struct scan_proc *)b)->key,
		      sizeof(struct vg_proc_key));
}

/* The shape: enough destinations, mostly failed (a probe counts as unanswered: its answer
 * goes to no socket); a group's spread over processes none of which reached it alone. */
static bool scan_shape(const struct scan_proc *p, bool group)
{
	if (p->dests < SCAN_MIN_DESTS ||
	    (p->refused + p->raw + p->unanswered) * 100 < p->dests * SCAN_REFUSED_PCT)
		return false;
	return !group || (p->procs > 1 && p->most < SCAN_MIN_DESTS);
}

static void scan_report(struct vg_netpolicy *np, struct scan_proc *p, bool group)
{
	struct vg_ext_finding x = {};
	char net[1024], text[320], addr[64], by[64] = "";

	np->scanned[np->nscanned++ % SCAN_PROCS] = p->key;
	vg_np_addr_str(p->addr, addr, sizeof(addr));
	if (group)
		snprintf(by, sizeof(by), " by %u processes it started", p->procs);
	snprintf(net, sizeof(net),
		 "{\"direction\":\"egress\",\"hook\":\"flows\",\"protocol\":\"%s\","
		 "\"family\":%u,\"address\":\"%s\",\"port\":%u,\"domain\":null,"
		 "\"blocked\":false,\"policy\":null,\"detection\":\"%u destinations in "
		 "%llu s%s: %u TCP connections refused, %u raw-socket probes, %u UDP datagrams "
		 "unanswered\",\"connections\":%u,\"refused\":%u,\"raw_probes\":%u,"
		 "\"udp_datagrams\":%u,\"udp_unanswered\":%u,\"processes\":%u}",
		 p->last_udp ? "udp" : "tcp", strchr(addr, ':') ? 6 : 4, addr, p->port, p->dests,
		 (unsigned long long)(SCAN_WINDOW_NS / 1000000000ULL), by, p->refused, p->raw,
		 p->unanswered, p->dests - p->raw - p->udp, p->refused, p->raw, p->udp,
		 p->unanswered, group ? p->procs : 1);
	snprintf(text, sizeof(text),
		 "%u destinations%s: %u TCP connections, %u refused, %u raw-socket probes, "
		 "%u UDP datagrams, %u unanswered (last %s:%u)",
		 p->dests, by, p->dests - p->raw - p->udp, p->refused, p->raw, p->udp,
		 p->unanswered, addr, p->port);
	x.rule = &np->rules[R_PORTSCAN];
	x.proc = p->key;
	x.time_ns = p->last_ns;
	x.id_parts[0] = p->dests;
	x.id_parts[1] = group ? p->procs : 1;
	x.network_json = net;
	x.text = text;
	vg_detect_emit_ext(np->det, &x);
	__atomic_fetch_add(&np->st.findings, 1, __ATOMIC_RELAXED);
}

/*
 * A scan spread over processes: a shell loop running a subshell, `nc -z` or `timeout bash
 * -c` per port, where no process reaches the shape alone. Each process's destinations are
 * counted again for each of its ancestors as at fork, to VG_SCAN_ANCESTORS (3) generations
 * (a group: a process and the processes it started, to three generations), merged by
 * destination — children retrying one port, a wait-for-port loop, are one destination. A
 * group is the shape when it is (scan_shape) with more than one process in it and none
 * that reached the destinations alone (that one is judged alone); of a group and its
 * parent's, both the shape, the nearer one (the loop's shell) is reported.
 */
static void scan_groups(struct vg_netpolicy *np, const struct scan_dest *sd, size_t nsd,
			struct scan_proc *sp, size_t nsp)
{
	int procs_fd = map_fd(np->obj, "vg_procs");
	struct scan_dest *gd = calloc(nsd * (VG_SCAN_ANCESTORS + 1) + 1, sizeof(*gd));
	struct scan_proc *g = NULL;
	size_t ngd = 0, ng = 0, j = 0;

	if (!gd)
		goto out;
	for (size_t i = 0; i < nsp; i++) {
		struct scan_proc *p = &sp[i];

		p->anc[0] = p->key;
		for (int a = 1; a <= VG_SCAN_ANCESTORS; a++)
			if (!p->anc[a - 1].tgid || !scan_parent(procs_fd, &p->anc[a - 1], &p->anc[a]))
				break;
	}
	/* sd and sp are in the same order (by process) */
	for (size_t i = 0; i < nsd; i++) {
		while (j < nsp && memcmp(&sp[j].key, &sd[i].proc, sizeof(sd[i].proc)))
			j++;
		if (j == nsp)
			break;
		for (int a = 0; a <= VG_SCAN_ANCESTORS && sp[j].anc[a].tgid; a++) {
			gd[ngd] = sd[i];
			gd[ngd++].proc = sp[j].anc[a];
		}
	}
	qsort(gd, ngd, sizeof(*gd), scan_dest_cmp);
	g = calloc(ngd + 1, sizeof(*g));
	if (!g)
		goto out;
	scan_merge(gd, ngd, g, &ng);
	for (size_t i = 0; i < nsp; i++) {
		for (int a = 0; a <= VG_SCAN_ANCESTORS && sp[i].anc[a].tgid; a++) {
			struct scan_proc key = { .key = sp[i].anc[a] }, *e;

			e = bsearch(&key, g, ng, sizeof(*g), scan_proc_cmp);
			if (!e)
				continue;
			e->procs++;
			if (sp[i].dests > e->most)
				e->most = sp[i].dests;
		}
	}
	/* the nearer group of two: its parent's is not reported */
	for (size_t i = 0; i < ng; i++) {
		struct scan_proc key = {}, *e;

		if (!scan_shape(&g[i], true) || !scan_parent(procs_fd, &g[i].key, &key.key))
			continue;
		e = bsearch(&key, g, ng, sizeof(*g), scan_proc_cmp);
		if (e)
			e->skip = true;
	}
	for (size_t i = 0; i < ng; i++)
		if (!g[i].skip && scan_shape(&g[i], true) && !reported(np, &g[i].key))
			scan_report(np, &g[i], true);
out:
	if (!gd || !g)
		__atomic_fetch_add(&np->st.scan_skipped, nsd, __ATOMIC_RELAXED);
	free(gd);
	free(g);
}

void vg_netpolicy_tick(struct vg_netpolicy *np)
{
	uint64_t now = vg_now_boot_ns();
	struct vg_maptab t;
	struct scan_proc *sp;
	struct scan_dest *sd;
	size_t nsp = 0, nsd = 0;

	dns_many_tick(np, now);
	if (!shape_due(np, VG_SHAPE_SCAN, now, &np->scan_last_ns, SCAN_EVERY_NS))
		return;
	/* the flow hash and the TCP connections' slots */
	if (!scan_loaded(np, vg_flows_load(&t, map_fd(np->obj, "vg_flows"),
					   map_fd(np->obj, "vg_conns")))) {
		np->due_seen[VG_SHAPE_SCAN] = 0; /* not walked: still asked for */
		return;
	}
	/* the flows that count (scan_counts), one per socket: merged below by destination, so
	 * that a client retrying one port (a service waiting for its database) is one
	 * destination, refused if every try was; a process has at most one entry per
	 * destination */
	sd = calloc(t.n ? t.n : 1, sizeof(*sd));
	sp = calloc(t.n ? t.n : 1, sizeof(*sp));
	if (!sd || !sp) {
		__atomic_fetch_add(&np->st.scan_skipped, t.n, __ATOMIC_RELAXED);
		vg_maptab_free(&t);
		free(sd);
		free(sp);
		return;
	}
	for (size_t i = 0; i < t.n; i++) {
		const struct vg_flow_key *k = VG_MAPTAB_KEY(&t, i);
		const struct vg_flow *v = VG_MAPTAB_VAL(&t, i);
		struct scan_dest *d = &sd[nsd];

		if (!v->proc.tgid || now - v->last_ns > SCAN_WINDOW_NS)
			continue;
		/* a raw socket gets a copy of every packet of its protocol the host receives:
		 * only what it sent is a probe (TCP or UDP; a sniffer's rows are all inbound) */
		if (!scan_counts(k, v))
			continue;
		d->proc = v->proc;
		d->addr = k->raddr;
		d->port = k->rport;
		d->proto = k->proto;
		d->kind = v->init == VG_FI_RAW ? SD_RAW : k->proto == 17 ? SD_UDP : SD_TCP;
		/* a probe is counted as unanswered: its answer goes to no socket */
		d->failed = d->kind == SD_RAW ? true :
			    d->kind == SD_UDP ? v->rx_pkts == 0 : v->state == VG_FS_REFUSED;
		d->last_ns = v->last_ns;
		nsd++;
	}
	vg_maptab_free(&t);
	/* by process, then destination: one pass merges both */
	qsort(sd, nsd, sizeof(*sd), scan_dest_cmp);
	nsd = scan_merge(sd, nsd, sp, &nsp);
	for (size_t j = 0; j < nsp; j++)
		if (scan_shape(&sp[j], false) && !reported(np, &sp[j].key))
			scan_report(np, &sp[j], false);
	scan_groups(np, sd, nsd, sp, nsp);
	free(sd);
	free(sp);
}

/* ---- status ---- */

static const char *const np_stat_names[VG_NPS_MAX] = {
	[VG_NPS_CHECKED] = "decisions",
	[VG_NPS_ALLOWED] = "allowed",
	[VG_NPS_DENIED] = "denied",
	[VG_NPS_AUDITED] = "audited",
	[VG_NPS_DNS_QUERIES] = "dns_queries",
	[VG_NPS_DNS_DROPPED] = "dns_dropped",
	[VG_NPS_DNS_AUDITED] = "dns_audited",
	[VG_NPS_DNS_ANSWERS] = "dns_answers",
	[VG_NPS_DNS_MALFORMED] = "dns_malformed",
	[VG_NPS_DNS_DEEP] = "dns_names_too_deep",
	[VG_NPS_LEARNED] = "learned",
	[VG_NPS_LEARNED_FAIL] = "learned_failures",
	[VG_NPS_LEARNED_HITS] = "learned_hits",
	[VG_NPS_QUARANTINE] = "quarantine_refused",
	[VG_NPS_MSG] = "messages",
	[VG_NPS_MSG_SUPPRESSED] = "messages_suppressed",
	[VG_NPS_MSG_DROP] = "messages_dropped",
	[VG_NPS_NO_PROC] = "no_process_record",
	[VG_NPS_WATCH] = "detection_candidates",
	[VG_NPS_POL_SIGNALS] = "policy_signals",
	[VG_NPS_POL_STALE] = "policy_signals_stale",
	[VG_NPS_IN_CHECKED] = "inbound_decisions",
	[VG_NPS_IN_DENIED] = "inbound_denied",
	[VG_NPS_IN_AUDITED] = "inbound_audited",
};

static uint64_t np_stat(struct vg_netpolicy *np, uint32_t k)
{
	int ncpu = libbpf_num_possible_cpus();
	uint64_t v[ncpu > 0 ? ncpu : 1], sum = 0;

	if (ncpu <= 0 || bpf_map_lookup_elem(np->stats_fd, &k, v))
		return 0;
	for (int i = 0; i < ncpu; i++)
		sum += v[i];
	return sum;
}

static struct json_object *time_or_null(uint64_t real_ns)
{
	char buf[VG_RFC3339_LEN];

	return real_ns ? json_object_new_string(vg_rfc3339(real_ns, buf, sizeof(buf))) : NULL;
}

struct json_object *vg_netpolicy_status(struct vg_netpolicy *np)
{
	struct json_object *o = json_object_new_object(), *c = json_object_new_object();
	struct json_object *mem = json_object_new_object(), *last = json_object_new_object();
	const struct vg_np_policy *p;
	const struct vg_np_kmaps *k;
	int gen;

	pthread_mutex_lock(&np->lock);
	gen = np->gen;
	p = gen >= 0 ? np->pol[gen] : NULL;
	k = gen >= 0 ? &np->km[gen] : NULL;
	json_object_object_add(o, "attached", json_object_new_boolean(np->links[NPROGS - 1] != NULL));
	json_object_object_add(o, "cgroup_root", np->cgroot[0] ? json_object_new_string(np->cgroot)
							     : NULL);
	json_object_object_add(o, "installed", json_object_new_boolean(p != NULL));
	json_object_object_add(o, "files", p ? json_object_new_string(p->files) : NULL);
	json_object_object_add(o, "mode", p ? json_object_new_string(p->mode == VG_NP_ENFORCE ?
								     "enforce" : "audit") : NULL);
	json_object_object_add(o, "default_egress",
			       p ? json_object_new_string(p->def_egress == VG_NP_DENY ? "deny"
										     : "allow")
				 : NULL);
	json_object_object_add(o, "default_ingress",
			       p ? json_object_new_string(p->def_ingress == VG_NP_DENY ? "deny"
										      : "allow")
				 : NULL);
	json_object_object_add(o, "ingress_entries", json_object_new_int64(p ? p->ningress : 0));
	json_object_object_add(o, "generation", p ? json_object_new_int(gen) : NULL);
	json_object_object_add(o, "entries", json_object_new_int64(p ? p->nents : 0));
	json_object_object_add(o, "prefixes", json_object_new_int64(k ? k->nprefixes : 0));
	json_object_object_add(o, "names", json_object_new_int64(k ? k->nnames : 0));
	json_object_object_add(o, "blocklists", json_object_new_int64(p ? p->nblocklists : 0));
	{
		/* RuntimePolicy network rules merged in (docs/policies.md) */
		struct json_object *rr = json_object_new_array();

		for (size_t i = 0; p && i < p->npolrefs; i++)
			json_object_array_add(rr, json_object_new_string(p->polrefs[i].rule_id ?
									 p->polrefs[i].rule_id : "?"));
		json_object_object_add(o, "runtime_policy_rules", rr);
	}
	json_object_object_add(o, "blocklist_entries",
			       json_object_new_int64(p ? p->blocklist_entries : 0));
	json_object_object_add(o, "truncated_candidates", json_object_new_int64(k ? k->truncated : 0));
	json_object_object_add(o, "loaded_at", time_or_null(np->st.loaded_real_ns));
	json_object_object_add(o, "load_ms", json_object_new_double(
						    (np->st.parse_ns + np->st.compile_ns) / 1e6));
	json_object_object_add(o, "parse_ms", json_object_new_double(np->st.parse_ns / 1e6));
	json_object_object_add(o, "compile_ms", json_object_new_double(np->st.compile_ns / 1e6));
	json_object_object_add(mem, "prefixes", json_object_new_int64(k ? k->mem_lpm : 0));
	json_object_object_add(mem, "names", json_object_new_int64(k ? k->mem_dom : 0));
	json_object_object_add(mem, "entries", json_object_new_int64(k ? k->mem_ent : 0));
	json_object_object_add(mem, "total", json_object_new_int64(k ? k->mem_lpm + k->mem_dom +
									  k->mem_ent : 0));
	json_object_object_add(o, "kernel_memory_bytes", mem);
	json_object_object_add(o, "reloads", json_object_new_uint64(np->st.reloads));
	json_object_object_add(o, "reload_failures", json_object_new_uint64(np->st.failures));
	json_object_object_add(last, "time", time_or_null(np->st.last_real_ns));
	json_object_object_add(last, "ok", json_object_new_boolean(np->st.last_ok));
	json_object_object_add(last, "result", json_object_new_string(np->st.last));
	json_object_object_add(o, "last_load", last);
	json_object_object_add(o, "findings", json_object_new_uint64(np->st.findings));
	json_object_object_add(o, "messages_read", json_object_new_uint64(np->st.messages));
	json_object_object_add(o, "messages_stale_generation", json_object_new_uint64(np->st.unknown));
	json_object_object_add(o, "detection_candidates_benign",
			       json_object_new_uint64(np->st.watch_expected));
	json_object_object_add(o, "detection_repeats_suppressed",
			       json_object_new_uint64(np->st.repeats));
	json_object_object_add(o, "shape_scans", json_object_new_uint64(np->st.scans));
	json_object_object_add(o, "shape_due_unread", json_object_new_uint64(np->st.due_unread));
	json_object_object_add(o, "shape_scan_entries_skipped",
			       json_object_new_uint64(np->st.scan_skipped));
	pthread_mutex_unlock(&np->lock);
	for (uint32_t i = 0; i < VG_NPS_MAX; i++)
		json_object_object_add(c, np_stat_names[i], json_object_new_uint64(np_stat(np, i)));
	json_object_object_add(o, "counters", c);
	return o;
}
