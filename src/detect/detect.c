// SPDX-License-Identifier: GPL-2.0
/*
 * Alert -> finding. Per alert: one map lookup for the process's current
 * record, its ancestry from a small cache of recently seen processes (each
 * record re-read at most every PCACHE_TTL_NS, its strings and JSON re-built
 * only when the record changed), the object's strings from a string cache.
 * Nothing here copies the process table.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/utsname.h>
#include <bpf/bpf.h>
#include <json-c/json.h>
#include "detect/internal.h"
#include "query/query.h"
#include "state/strings.h"
#include "util/log.h"
#include "util/timefmt.h"

#define PCACHE_CAP 8192         /* slots; flushed (between alerts) past half full */
#define PCACHE_TTL_NS 100000000ULL /* a cached ancestor is re-read after 100 ms ... */
#define SELF_TTL_NS 1000000ULL     /* ... the acting process after 1 ms (bursts) */
#define STRCACHE_ALERTS 8192    /* the string cache is dropped every N alerts ... */
#define STRCACHE_AGE_NS 30000000000ULL /* ... or 30 s, so it stays small */
#define CHAIN_MAX 1024          /* ancestry depth bound (cycles, corrupt records) */
#define TICK_SLACK_NS 20000000ULL /* /proc start times: 10 ms ticks, plus rounding */
#define DEFER_CAP 64            /* candidates waiting for a pipeline's other end ... */
#define DEFER_NS 500000000ULL   /* ... to exec, judged again after this long */

#define BUMP(x, n) __atomic_fetch_add(&(x), (n), __ATOMIC_RELAXED)

struct vg_detect {
	const struct vg_maps *maps;
	struct vg_output *out;
	const struct vg_rules *rules[2];
	struct {
		char *s;
		size_t len;
	} rule_json[2][VG_RK_MAX][VG_RULES_MAX];
	struct vg_strcache *strs;
	uint64_t strs_born_ns, strs_alerts;
	uint64_t boot_off, boot_off_read_ns;
	struct vg_pent *pc;   /* PCACHE_CAP slots, open addressing */
	size_t pc_n;
	struct vg_pent **chain;
	struct vg_match_proc *mchain;
	struct vg_sbuf line;
	char *host_json;
	size_t host_len;
	/* the current alert's exec argv (exec alerts name their own argv id) */
	char *xargv_buf;
	const char **xargv;
	size_t xargc;
	struct vg_detect_counters c;
	uint32_t self_tgid;
	/* per rule, by [generation][kind][first bit]; ids change only under lock */
	struct rule_stat {
		char id[96];
		uint64_t cand, found, nomatch, limited;
	} (*rstat)[VG_RK_MAX][VG_RULES_MAX];
	pthread_mutex_t lock;
	vg_detect_hook hook; /* policies acting on findings */
	void *hook_ctx;
	const char **hook_anc;
	/* candidates judged again later (stdout_pipe_to/stdin_pipe_from undecided) */
	struct deferred {
		struct vg_alert a;
		const struct vg_rules *rs; /* the set r belongs to (settled before it goes) */
		const struct vg_rule *r;
		uint64_t due;
	} *defer;
	size_t ndefer;
};

/* ---- process cache ---- */

static size_t key_hash(const struct vg_proc_key *k)
{
	uint64_t h = k->start_ns * 0x9e3779b97f4a7c15ULL ^ k->tgid;

	h ^= h >> 31;
	return h * 0xbf58476d1ce4e5b9ULL >> 40;
}

static void pent_clear_derived(struct vg_pent *e)
{
	free(e->exe);
	free(e->argv_buf);
	free(e->argv);
	free(e->cgroup);
	free(e->json);
	e->exe = e->argv_buf = e->cgroup = e->json = NULL;
	e->argv = NULL;
	e->argc = 0;
	e->json_len = 0;
	e->in_container = false;
}

static void pcache_flush(struct vg_detect *d)
{
	for (size_t i = 0; i < PCACHE_CAP; i++)
		if (d->pc[i].used)
			pent_clear_derived(&d->pc[i]);
	memset(d->pc, 0, PCACHE_CAP * sizeof(*d->pc));
	d->pc_n = 0;
}

/* Split NUL-separated words into a vector (pointers into buf). */
static size_t split_argv(const char *buf, uint32_t len, const char ***out)
{
	size_t n = 0, cap = 0;
	const char **v = NULL;

	for (uint32_t off = 0; buf && off < len;) {
		size_t w = strnlen(buf + off, len - off);

		if (w == 0 && off + 1 >= len)
			break;
		if (n == cap) {
			const char **nv = realloc(v, (cap = cap ? cap * 2 : 8) * sizeof(*v));

			if (!nv)
				break;
			v = nv;
		}
		v[n++] = buf + off;
		off += w + 1;
	}
	*out = v;
	return n;
}

static char *dup_len(const char *s, uint32_t len)
{
	char *p;

	if (!s)
		return NULL;
	p = malloc(len + 1);
	if (p) {
		memcpy(p, s, len);
		p[len] = 0;
	}
	return p;
}

static void pent_derive(struct vg_detect *d, struct vg_pent *e)
{
	uint32_t len = 0;
	const char *s;

	pent_clear_derived(e);
	if (e->missing)
		return;
	s = vg_strcache_get(d->strs, e->rec.exe, &len, NULL);
	e->exe = s ? strdup(s) : NULL;
	s = vg_strcache_get(d->strs, e->rec.argv, &len, NULL);
	if (s) {
		e->argv_buf = dup_len(s, len);
		e->argc = split_argv(e->argv_buf, len, &e->argv);
	}
	s = vg_strcache_get(d->strs, e->rec.cgroup, NULL, NULL);
	e->cgroup = s ? strdup(s) : NULL;
	e->in_container = vg_container_from_cgroup(e->cgroup, &e->ct);
}

/*
 * The cached entry for key k, re-read from vg_procs when older than ttl.
 * Returns NULL only when the cache can't hold it.
 */
static struct vg_pent *pcache_get(struct vg_detect *d, const struct vg_proc_key *k, uint64_t ttl,
				  uint64_t now)
{
	size_t i = key_hash(k) & (PCACHE_CAP - 1);
	struct vg_pent *e;
	struct vg_proc rec;
	bool missing;

	while (d->pc[i].used && vg_key_cmp(&d->pc[i].key, k))
		i = (i + 1) & (PCACHE_CAP - 1);
	e = &d->pc[i];
	if (e->used && now - e->fetched_ns < ttl)
		return e;
	if (!e->used) {
		if (d->pc_n + 1 >= PCACHE_CAP)
			return NULL; /* cannot happen between flushes; be safe anyway */
		memset(e, 0, sizeof(*e));
		e->used = true;
		e->key = *k;
		e->missing = true; /* forces derive below */
		d->pc_n++;
	}
	missing = bpf_map_lookup_elem(d->maps->procs, k, &rec) != 0;
	e->fetched_ns = now;
	if (missing) {
		if (!e->missing) {
			/* Aged out since: keep what we knew, it is still the best answer. */
			return e;
		}
		if (e->rec.key.tgid == 0)
			e->rec.key = *k;
		return e;
	}
	if (!e->missing && !memcmp(&rec, &e->rec, sizeof(rec)))
		return e;
	e->rec = rec;
	e->missing = false;
	pent_derive(d, e);
	return e;
}

/* A parent made from /proc may sit a tick away from the key its child holds. */
static struct vg_pent *pcache_parent(struct vg_detect *d, struct vg_pent *c, uint64_t now)
{
	const struct vg_proc_key *pk = &c->rec.parent;
	struct vg_proc_key live;
	struct vg_pent *p;
	uint32_t tgid = pk->tgid;

	if (!pk->tgid || !vg_key_cmp(pk, &c->key))
		return NULL;
	p = pcache_get(d, pk, PCACHE_TTL_NS, now);
	if (!p || !p->missing)
		return p;
	if (bpf_map_lookup_elem(d->maps->live, &tgid, &live) || live.tgid != tgid ||
	    !vg_key_cmp(&live, &c->key))
		return p;
	if (live.start_ns + TICK_SLACK_NS < pk->start_ns || pk->start_ns + TICK_SLACK_NS < live.start_ns)
		return p;
	{
		struct vg_pent *q = pcache_get(d, &live, PCACHE_TTL_NS, now);

		if (q && !q->missing && ((q->rec.flags | c->rec.flags) & VG_PF_APPROX_START))
			return q;
	}
	return p;
}

const char *vg_detect_pent_json(struct vg_detect *d, struct vg_pent *e, size_t *len)
{
	struct vg_query_ctx q = { .maps = d->maps, .boot_off = d->boot_off, .strs = d->strs };
	struct json_object *o;
	struct vg_sbuf b = {};
	const char *s;

	if (e->json) {
		*len = e->json_len;
		return e->json;
	}
	o = vg_proc_json(&q, &e->rec);
	if (e->missing)
		json_object_object_add(o, "missing", json_object_new_boolean(true));
	s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	vg_sbuf_put_utf8(&b, s, strlen(s)); /* paths and argv are bytes, JSON is UTF-8 */
	json_object_put(o);
	e->json = b.p;
	e->json_len = b.len;
	*len = b.len;
	return e->json;
}

/* ---- rules, host ---- */

const char *vg_detect_rule_json(struct vg_detect *d, const struct vg_rule *r, uint8_t gen,
				size_t *len)
{
	typeof(d->rule_json[0][0][0]) *c = &d->rule_json[gen & 1][r->kind][r->bit % VG_RULES_MAX];
	struct vg_sbuf b = {};

	if (!c->s) {
		vg_rule_render_json(r, &b);
		c->s = b.p;
		c->len = b.len;
	}
	*len = c->len;
	return c->s;
}

static void settle(struct vg_detect *d, const struct vg_rules *only);

void vg_detect_set_rules(struct vg_detect *d, uint8_t gen, const struct vg_rules *r)
{
	gen &= 1;
	if (d->rules[gen] && d->rules[gen] != r)
		settle(d, d->rules[gen]); /* its rules go with it: judge what waits now */
	for (int k = 0; k < VG_RK_MAX; k++)
		for (int b = 0; b < VG_RULES_MAX; b++) {
			free(d->rule_json[gen][k][b].s);
			d->rule_json[gen][k][b].s = NULL;
		}
	d->rules[gen] = r;
	pthread_mutex_lock(&d->lock);
	memset(d->rstat[gen], 0, sizeof(d->rstat[gen]));
	for (size_t i = 0; r && i < vg_rules_count(r); i++) {
		const struct vg_rule *x = vg_rules_at(r, i);

		if (x->enabled && x->bit < VG_RULES_MAX && (unsigned)x->kind < VG_RK_MAX)
			snprintf(d->rstat[gen][x->kind][x->bit].id, sizeof(d->rstat[0][0][0].id), "%s",
				 x->id);
	}
	pthread_mutex_unlock(&d->lock);
}

static struct rule_stat *rule_stat(struct vg_detect *d, const struct vg_alert *a,
				   const struct vg_rule *r)
{
	return &d->rstat[a->gen & 1][r->kind % VG_RK_MAX][r->bit % VG_RULES_MAX];
}

size_t vg_detect_rule_activity(struct vg_detect *d, struct vg_rule_activity *out, size_t max)
{
	size_t n = 0;

	pthread_mutex_lock(&d->lock);
	for (int g = 0; g < 2; g++)
		for (int k = 0; k < VG_RK_MAX; k++)
			for (int b = 0; b < VG_RULES_MAX; b++) {
				const struct rule_stat *s = &d->rstat[g][k][b];
				uint64_t cand = __atomic_load_n(&s->cand, __ATOMIC_RELAXED);
				struct vg_rule_activity *o = NULL;

				if (!s->id[0] || !cand)
					continue;
				for (size_t i = 0; i < n && !o; i++)
					if (!strcmp(out[i].id, s->id))
						o = &out[i];
				if (!o) {
					if (n == max)
						continue;
					o = &out[n++];
					memset(o, 0, sizeof(*o));
					snprintf(o->id, sizeof(o->id), "%s", s->id);
				}
				o->candidates += cand;
				o->findings += __atomic_load_n(&s->found, __ATOMIC_RELAXED);
				o->not_matched += __atomic_load_n(&s->nomatch, __ATOMIC_RELAXED);
				o->rate_limited += __atomic_load_n(&s->limited, __ATOMIC_RELAXED);
			}
	pthread_mutex_unlock(&d->lock);
	for (size_t i = 1; i < n; i++) /* busiest first; n is small */
		for (size_t j = i; j > 0 && out[j].candidates > out[j - 1].candidates; j--) {
			struct vg_rule_activity t = out[j];

			out[j] = out[j - 1];
			out[j - 1] = t;
		}
	return n;
}

void vg_detect_refresh_host(struct vg_detect *d)
{
	struct utsname u = {};
	char boot_id[64] = "";
	struct vg_sbuf b = {};
	FILE *f = fopen("/proc/sys/kernel/random/boot_id", "r");

	if (f) {
		if (fgets(boot_id, sizeof(boot_id), f))
			boot_id[strcspn(boot_id, "\n")] = 0;
		fclose(f);
	}
	uname(&u);
	vg_sbuf_puts(&b, "{\"hostname\":");
	vg_sbuf_json_cstr(&b, u.nodename);
	vg_sbuf_puts(&b, ",\"kernel\":");
	vg_sbuf_json_cstr(&b, u.release);
	vg_sbuf_puts(&b, ",\"boot_id\":");
	vg_sbuf_json_cstr(&b, boot_id[0] ? boot_id : NULL);
	vg_sbuf_put(&b, "}", 1);
	free(d->host_json);
	d->host_json = b.p;
	d->host_len = b.len;
}

const char *vg_detect_host_json(struct vg_detect *d, size_t *len)
{
	*len = d->host_len;
	return d->host_json;
}

/* ---- life ---- */

struct vg_detect *vg_detect_new(const struct vg_maps *m, struct vg_output *out)
{
	struct vg_detect *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->maps = m;
	d->out = out;
	d->self_tgid = getpid();
	pthread_mutex_init(&d->lock, NULL);
	d->rstat = calloc(2, sizeof(*d->rstat));
	d->pc = calloc(PCACHE_CAP, sizeof(*d->pc));
	d->chain = calloc(CHAIN_MAX, sizeof(*d->chain));
	d->mchain = calloc(CHAIN_MAX, sizeof(*d->mchain));
	d->strs = vg_strcache_new(m);
	d->defer = calloc(DEFER_CAP, sizeof(*d->defer));
	if (!d->pc || !d->chain || !d->mchain || !d->strs || !d->rstat || !d->defer) {
		vg_detect_free(d);
		return NULL;
	}
	d->strs_born_ns = vg_now_boot_ns();
	d->boot_off = vg_meta_boot_offset(m);
	d->boot_off_read_ns = d->strs_born_ns;
	vg_detect_refresh_host(d);
	return d;
}

void vg_detect_free(struct vg_detect *d)
{
	if (!d)
		return;
	if (d->ndefer) /* only a fully built detector keeps any */
		settle(d, NULL);
	if (d->pc)
		pcache_flush(d);
	free(d->pc);
	free(d->chain);
	free(d->mchain);
	vg_strcache_free(d->strs);
	vg_detect_set_rules(d, 0, NULL);
	vg_detect_set_rules(d, 1, NULL);
	vg_sbuf_free(&d->line);
	free(d->host_json);
	free(d->xargv_buf);
	free(d->xargv);
	free(d->rstat);
	free(d->hook_anc);
	free(d->defer);
	pthread_mutex_destroy(&d->lock);
	free(d);
}

/* Between alerts: bound the caches, follow a wall-clock step. */
static void housekeep(struct vg_detect *d, uint64_t now)
{
	if (d->pc_n >= PCACHE_CAP / 2)
		pcache_flush(d);
	if (++d->strs_alerts >= STRCACHE_ALERTS || now - d->strs_born_ns >= STRCACHE_AGE_NS) {
		struct vg_strcache *s = vg_strcache_new(d->maps);

		if (s) {
			vg_strcache_free(d->strs);
			d->strs = s;
		}
		d->strs_alerts = 0;
		d->strs_born_ns = now;
	}
	if (now - d->boot_off_read_ns >= 1000000000ULL) {
		uint64_t off = vg_meta_boot_offset(d->maps);

		d->boot_off_read_ns = now;
		if (off != d->boot_off) {
			d->boot_off = off;
			pcache_flush(d); /* cached JSON holds wall-clock times */
		}
	}
}

static const char *str_get(struct vg_detect *d, uint64_t id, uint32_t *len)
{
	return id ? vg_strcache_get(d->strs, id, len, NULL) : NULL;
}

/*
 * The command line of a process whose argv the kernel could not intern
 * (string table full), from /proc while it runs — the same process if its
 * exe is the one the exec alert named. NULL otherwise (counted as lost).
 */
static char *argv_from_proc(uint32_t pid, const char *exe, uint32_t *len)
{
	char path[64], link[4096];
	char *buf;
	ssize_t n;
	int fd;

	if (!exe)
		return NULL;
	snprintf(path, sizeof(path), "/proc/%u/exe", pid);
	n = readlink(path, link, sizeof(link) - 1);
	if (n <= 0)
		return NULL;
	link[n] = 0;
	if (strcmp(link, exe))
		return NULL;
	snprintf(path, sizeof(path), "/proc/%u/cmdline", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	buf = malloc(VG_STR_MAX + 1);
	n = buf ? read(fd, buf, VG_STR_MAX) : -1;
	close(fd);
	if (n <= 0) {
		free(buf);
		return NULL;
	}
	buf[n] = 0;
	*len = n;
	return buf;
}

/*
 * The processes vigil holds, for the rules' stdout_pipe_to/stdin_pipe_from (the
 * other end of a pipeline, alive or exited): a walk of the process table, only
 * when such a rule's other conditions already hold. keep filters on the raw
 * record; only the records it keeps have their strings looked up.
 */
static bool procs_any(void *ctx, const struct vg_match *m,
		      bool (*keep)(void *arg, const struct vg_proc *rec),
		      bool (*pred)(void *arg, const struct vg_match_proc *p), void *arg)
{
	struct vg_detect *d = ctx;
	const struct vg_proc *self = m->self.rec;
	struct vg_proc_key k, next;
	struct vg_proc rec;
	bool hit = false, first = true;

	if (!self)
		return false;
	while (!hit && !bpf_map_get_next_key(d->maps->procs, first ? NULL : &k, &next)) {
		const char *exe, *av;
		const char *argv[64];
		char *copy = NULL;
		uint32_t len = 0;
		size_t argc = 0;

		first = false;
		k = next;
		if (bpf_map_lookup_elem(d->maps->procs, &k, &rec) || !vg_key_cmp(&rec.key, &self->key) ||
		    !keep(arg, &rec))
			continue;
		exe = str_get(d, rec.exe, NULL);
		av = str_get(d, rec.argv, &len);
		if (av && len && (copy = dup_len(av, len)))
			for (uint32_t off = 0; off < len && argc < 64; off += strlen(copy + off) + 1)
				argv[argc++] = copy + off;
		{
			char *exe_copy = exe ? strdup(exe) : NULL;
			struct vg_match_proc p = { .rec = &rec, .exe = exe_copy, .argv = argv,
						   .argc = argc };

			hit = pred(arg, &p);
			free(exe_copy);
		}
		free(copy);
	}
	return hit;
}

/* Everything the rule and the finding need, from current state. */
static void enrich(struct vg_detect *d, const struct vg_alert *a, struct vg_fctx *f,
		   struct vg_match *m, uint64_t now)
{
	struct vg_pent *e, *p;
	uint32_t len = 0;

	memset(f, 0, sizeof(*f));
	memset(m, 0, sizeof(*m));
	f->a = a;
	f->chain = d->chain;
	f->time_real = a->hdr.time_ns + d->boot_off;
	e = pcache_get(d, &a->proc, SELF_TTL_NS, now);
	f->self = e;
	if (e->missing) {
		BUMP(d->c.proc_missing, 1);
		e->rec.uid = e->rec.euid = a->uid;
	}
	/* ancestry: parent first, to the oldest ancestor vigil holds */
	for (p = e; f->nchain < CHAIN_MAX;) {
		struct vg_pent *up = pcache_parent(d, p, now);

		if (!up)
			break;
		if (up->missing) {
			f->gap = true;
			f->gap_key = up->key;
			break;
		}
		f->chain[f->nchain++] = up;
		p = up;
	}
	for (size_t i = 0; i < f->nchain; i++) {
		struct vg_pent *c = f->chain[i];

		d->mchain[i] = (struct vg_match_proc){ .rec = &c->rec, .exe = c->exe,
						       .argv = c->argv, .argc = c->argc };
	}
	m->kind = a->kind;
	m->self = (struct vg_match_proc){ .rec = &e->rec, .exe = e->exe, .argv = e->argv,
					  .argc = e->argc };
	m->ancestry = d->mchain;
	m->nancestry = f->nchain;
	m->cgroup = e->cgroup;
	m->container = e->in_container ? e->ct.id : NULL;
	m->now_ns = a->hdr.time_ns;
	m->procs = procs_any;
	m->procs_ctx = d;

	switch (a->kind) {
	case VG_RK_FILE:
		f->path = m->path = str_get(d, a->file.path, NULL);
		f->path2 = m->path2 = str_get(d, a->file.path2, NULL);
		if (!f->path)
			BUMP(d->c.object_lost, 1);
		m->actions = a->file.actions;
		m->file_flags = a->file.flags;
		m->mode = a->file.mode;
		break;
	case VG_RK_EXEC: {
		/* The exec as it happened: the record may have moved on since. */
		const char *s = str_get(d, a->exec.argv, &len);

		f->exe = str_get(d, a->exec.exe, NULL);
		if (!f->exe)
			BUMP(d->c.object_lost, 1);
		f->parent_exe = str_get(d, a->exec.parent_exe, NULL);
		free(d->xargv_buf);
		free(d->xargv);
		d->xargv_buf = s ? dup_len(s, len) : NULL;
		if (!s && (d->xargv_buf = argv_from_proc(a->proc.tgid, f->exe, &len)))
			BUMP(d->c.argv_from_proc, 1);
		else if (!s)
			BUMP(d->c.object_lost, 1);
		d->xargv = NULL;
		d->xargc = d->xargv_buf ? split_argv(d->xargv_buf, len, &d->xargv) : 0;
		f->argv = d->xargv;
		f->argc = d->xargc;
		if (f->exe)
			m->self.exe = f->exe;
		if (d->xargv_buf) {
			m->self.argv = d->xargv;
			m->self.argc = d->xargc;
		}
		m->conds_known = true;
		m->conds = a->exec.conds;
		break;
	}
	default:
		f->str = m->str = str_get(d, a->sys.str, NULL);
		m->nr = a->sys.nr;
		m->ret = a->sys.ret;
		memcpy(m->args, a->sys.args, sizeof(m->args));
		if (a->sys.target.tgid) {
			struct vg_pent *t = pcache_get(d, &a->sys.target, SELF_TTL_NS, now);

			if (t && !t->missing) {
				f->target = t;
				m->target = &t->rec;
				m->target_exe = t->exe;
			}
		}
	}
}

static void emit(struct vg_detect *d, const struct vg_rule *r, const struct vg_fctx *f)
{
	d->line.len = 0;
	if (d->out->format == VG_OUT_TEXT)
		vg_finding_render_text(d, r, f, &d->line);
	else
		vg_finding_render_json(d, r, f, &d->line);
	vg_output_write(d->out, d->line.p, d->line.len);
	if (f->ext)
		BUMP(d->c.network_findings, 1);
	else
		BUMP(d->c.findings, 1);
}

void vg_detect_set_hook(struct vg_detect *d, vg_detect_hook fn, void *ctx)
{
	d->hook = fn;
	d->hook_ctx = ctx;
}

/* Policies that act on this finding (kill, freeze, quarantine...): fill f->act. */
static void run_hook(struct vg_detect *d, const struct vg_rule *r, struct vg_fctx *f,
		     struct vg_detect_action *act)
{
	struct vg_detect_hit h = { .rule = r };

	f->act = NULL;
	if (!d->hook || !f->self || f->self->missing)
		return;
	if (!d->hook_anc)
		d->hook_anc = calloc(CHAIN_MAX, sizeof(*d->hook_anc));
	if (!d->hook_anc)
		return;
	for (size_t i = 0; i < f->nchain; i++)
		d->hook_anc[i] = f->chain[i]->exe;
	h.proc = &f->self->rec;
	h.exe = f->exe && f->a->kind == VG_RK_EXEC ? f->exe : f->self->exe;
	h.cgroup = f->self->cgroup;
	h.container = f->self->in_container ? f->self->ct.id : NULL;
	h.ancestor_exes = d->hook_anc;
	h.nancestors = f->nchain;
	memset(act, 0, sizeof(*act));
	if (d->hook(d->hook_ctx, &h, act))
		f->act = act;
}

void vg_detect_enforced(struct vg_detect *d, const struct vg_alert *a, const struct vg_rule *r,
			const struct vg_detect_action *act)
{
	struct vg_match m;
	struct vg_fctx f;
	uint64_t now = vg_now_boot_ns();

	housekeep(d, now);
	enrich(d, a, &f, &m, now);
	f.act = act;
	d->line.len = 0;
	if (d->out->format == VG_OUT_TEXT)
		vg_finding_render_text(d, r, &f, &d->line);
	else
		vg_finding_render_json(d, r, &f, &d->line);
	vg_output_write(d->out, d->line.p, d->line.len);
	BUMP(d->c.policy_findings, 1);
}

/* Keep candidate (a, r) to be judged again at `due`; false if the queue is full. */
static bool defer(struct vg_detect *d, const struct vg_alert *a, const struct vg_rule *r,
		  uint64_t now)
{
	struct deferred *e;

	if (d->ndefer >= DEFER_CAP) {
		BUMP(d->c.deferred_full, 1);
		return false;
	}
	e = &d->defer[d->ndefer++];
	e->a = *a;
	e->rs = d->rules[a->gen & 1];
	e->r = r;
	e->due = now + DEFER_NS;
	BUMP(d->c.deferred, 1);
	BUMP(d->c.deferred_pending, 1);
	return true;
}

/*
 * One candidate: the user-space half of rule r, its rate limit, the policies
 * acting on it, the finding. With may_defer, a "no" that may still turn "yes"
 * (a pipeline's other end not exec'd yet) is kept to be judged again.
 */
static void judge(struct vg_detect *d, const struct vg_alert *a, const struct vg_rule *r,
		  struct vg_match *m, struct vg_fctx *f, bool may_defer, uint64_t now)
{
	struct rule_stat *st = rule_stat(d, a, r);
	struct vg_detect_action act;
	bool undecided = false;

	m->undecided = may_defer ? &undecided : NULL;
	if (!vg_rule_matches(r, m)) {
		if (undecided && defer(d, a, r, now))
			return;
		BUMP(d->c.not_matched, 1);
		BUMP(st->nomatch, 1);
		return;
	}
	if (!vg_rule_rate_check(r, m, &f->suppressed)) {
		BUMP(d->c.rate_limited, 1);
		BUMP(st->limited, 1);
		return;
	}
	run_hook(d, r, f, &act);
	emit(d, r, f);
	f->act = NULL;
	BUMP(st->found, 1);
}

/* Judge the deferred candidates that are due (all of them with `only` or at
 * exit: those of set `only`, NULL: every one), for the last time. */
static void settle_some(struct vg_detect *d, const struct vg_rules *only, bool all)
{
	uint64_t now = vg_now_boot_ns();

	for (size_t i = 0; i < d->ndefer;) {
		struct deferred e = d->defer[i];
		struct vg_match m;
		struct vg_fctx f;

		if ((only && e.rs != only) || (!all && e.due > now)) {
			i++;
			continue;
		}
		d->defer[i] = d->defer[--d->ndefer];
		BUMP(d->c.deferred_pending, -1);
		housekeep(d, now);
		enrich(d, &e.a, &f, &m, now);
		judge(d, &e.a, e.r, &m, &f, false, now);
	}
}

static void settle(struct vg_detect *d, const struct vg_rules *only)
{
	settle_some(d, only, true);
}

void vg_detect_due(struct vg_detect *d)
{
	if (d->ndefer)
		settle_some(d, NULL, false);
}

void vg_detect_alert(struct vg_detect *d, const void *data, size_t len)
{
	const struct vg_alert *a = data;
	const struct vg_rule *cand[VG_RULES_MAX];
	const struct vg_rules *rs;
	struct vg_match m;
	struct vg_fctx f;
	uint64_t now, nbits = 0, stale = 0;
	size_t n;

	if (len < sizeof(*a) || a->kind >= VG_RK_MAX) {
		BUMP(d->c.malformed, 1);
		return;
	}
	BUMP(d->c.alerts, 1);
	if (a->proc.tgid == d->self_tgid) {
		/* Handling an alert reads maps (bpf() calls): finishing alerts about
		 * ourselves would feed on itself. */
		BUMP(d->c.self, 1);
		return;
	}
	now = vg_now_boot_ns();
	housekeep(d, now);
	rs = d->rules[a->gen & 1];
	for (unsigned w = 0; w < VG_RULES_MAX / 64; w++) {
		nbits += __builtin_popcountll(a->rules.w[w]);
		for (uint64_t bits = a->rules.w[w]; rs && bits; bits &= bits - 1)
			if (!vg_rules_by_bit(rs, a->kind, w * 64 + __builtin_ctzll(bits)))
				stale++;
	}
	/* A rule may own several bits (one per selector shape): evaluated once. */
	n = rs ? vg_rules_candidates(rs, a->kind, &a->rules, cand, VG_RULES_MAX) : 0;
	if (!rs)
		stale = nbits;
	BUMP(d->c.candidates, n + stale);
	BUMP(d->c.stale, stale);
	if (n)
		enrich(d, a, &f, &m, now);
	for (size_t i = 0; i < n; i++) {
		BUMP(rule_stat(d, a, cand[i])->cand, 1);
		judge(d, a, cand[i], &m, &f, true, now);
	}
}

/* ---- findings from outside the rule engine (src/netpolicy) ---- */

void vg_detect_emit_ext(struct vg_detect *d, const struct vg_ext_finding *x)
{
	struct vg_alert a = {};
	struct vg_match m;
	struct vg_fctx f;
	uint64_t now = vg_now_boot_ns();

	a.hdr.type = VG_MSG_ALERT;
	a.hdr.time_ns = x->time_ns;
	a.proc = x->proc;
	a.uid = x->uid;
	a.kind = VG_RK_SYSCALL; /* no object of the rule kinds: sys stays empty */
	memcpy(a.sys.args, x->id_parts, sizeof(a.sys.args));
	housekeep(d, now);
	enrich(d, &a, &f, &m, now);
	f.ext = x;
	f.act = x->act;
	f.suppressed = x->suppressed;
	emit(d, x->rule, &f);
}

void vg_detect_account(struct vg_detect *d, uint64_t cpu_ns)
{
	BUMP(d->c.busy_ns, cpu_ns);
}

void vg_detect_malformed(struct vg_detect *d)
{
	BUMP(d->c.malformed, 1);
}

void vg_detect_flush(struct vg_detect *d)
{
	vg_output_flush(d->out);
}

void vg_detect_counters(const struct vg_detect *d, struct vg_detect_counters *c)
{
	const uint64_t *src = (const uint64_t *)&d->c;
	uint64_t *dst = (uint64_t *)c;

	for (size_t i = 0; i < sizeof(*c) / sizeof(uint64_t); i++)
		dst[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
}
