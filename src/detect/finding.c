// SPDX-License-Identifier: GPL-2.0
/*
 * A finding as one line: JSON (schema in docs/findings.md) or human text.
 * Rendered by hand into a reused buffer, splicing the cached JSON of the
 * process records and of the rule, so a burst from one process costs a copy
 * of its ancestry per finding, not a rebuild.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "detect/internal.h"
#include "query/query.h"
#include "state/filetab.h"
#include "util/timefmt.h"

#define VG_STR_(x) #x
#define VG_STR(x) VG_STR_(x)

/* ---- buffer ---- */

static void reserve(struct vg_sbuf *b, size_t n)
{
	size_t cap;
	char *p;

	if (b->len + n + 1 <= b->cap)
		return;
	cap = b->cap ? b->cap : 4096;
	while (cap < b->len + n + 1)
		cap *= 2;
	p = realloc(b->p, cap);
	if (!p)
		abort(); /* out of memory rendering a line: nothing sane left to do */
	b->p = p;
	b->cap = cap;
}

void vg_sbuf_put(struct vg_sbuf *b, const char *s, size_t n)
{
	reserve(b, n);
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = 0;
}

void vg_sbuf_puts(struct vg_sbuf *b, const char *s)
{
	vg_sbuf_put(b, s, strlen(s));
}

void vg_sbuf_printf(struct vg_sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	reserve(b, 128);
	va_start(ap, fmt);
	n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= b->cap - b->len) { /* didn't fit: once more with room */
		reserve(b, n);
		va_start(ap, fmt);
		vsnprintf(b->p + b->len, n + 1, fmt, ap);
		va_end(ap);
	}
	b->len += n;
}

/* Decimal, without printf (findings are rendered in a hot loop). */
void vg_sbuf_u64(struct vg_sbuf *b, uint64_t v)
{
	char tmp[24];
	int i = sizeof(tmp);

	do {
		tmp[--i] = '0' + v % 10;
		v /= 10;
	} while (v);
	vg_sbuf_put(b, tmp + i, sizeof(tmp) - i);
}

void vg_sbuf_free(struct vg_sbuf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

/* Length of the valid UTF-8 sequence at s (RFC 3629: no overlongs, no surrogates), 0 if invalid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	unsigned c = s[0];
	size_t need;
	unsigned cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		need = 2, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		need = 3, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		need = 4, cp = c & 0x07;
	else
		return 0;
	if (n < need)
		return 0;
	for (size_t i = 1; i < need; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((need == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (need == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return need;
}

void vg_sbuf_put_utf8(struct vg_sbuf *b, const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, run = 0;

	while (i < n) {
		size_t l = u[i] < 0x80 ? 1 : utf8_len(u + i, n - i);

		if (l) {
			i += l;
			continue;
		}
		vg_sbuf_put(b, s + run, i - run);
		vg_sbuf_put(b, "\\ufffd", 6);
		run = ++i;
	}
	vg_sbuf_put(b, s + run, n - run);
}

void vg_sbuf_json_str(struct vg_sbuf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, run = 0;

	if (!s) {
		vg_sbuf_put(b, "null", 4);
		return;
	}
	reserve(b, n + 2);
	b->p[b->len++] = '"';
	while (i < n) {
		unsigned c = u[i];
		char esc[8];
		size_t el = 0, l = 1;

		if (c == '"' || c == '\\') {
			esc[0] = '\\', esc[1] = c, el = 2;
		} else if (c < 0x20) {
			switch (c) {
			case '\n': memcpy(esc, "\\n", 2), el = 2; break;
			case '\t': memcpy(esc, "\\t", 2), el = 2; break;
			case '\r': memcpy(esc, "\\r", 2), el = 2; break;
			default:
				memcpy(esc, "\\u00", 4);
				esc[4] = hex[c >> 4], esc[5] = hex[c & 15], el = 6;
			}
		} else if (c >= 0x80) {
			l = utf8_len(u + i, n - i);
			if (!l)
				memcpy(esc, "\\ufffd", 6), el = 6, l = 1;
		}
		if (el) {
			vg_sbuf_put(b, s + run, i - run);
			vg_sbuf_put(b, esc, el);
			run = i + l;
		}
		i += l;
	}
	vg_sbuf_put(b, s + run, n - run);
	vg_sbuf_put(b, "\"", 1);
}

void vg_sbuf_json_cstr(struct vg_sbuf *b, const char *s)
{
	vg_sbuf_json_str(b, s, s ? strlen(s) : 0);
}

/* ---- names ---- */

static const char *const fflag_names[32] = { "unresolved", "truncated", "deleted" };
static const char *const pflag_names[32] = {
	"exited", "from_snapshot", "execed", "truncated_argv", "truncated_exe", "exit_unseen",
	"approx_start", "exe_deleted", "string_lost", "kthread", "parent_unknown",
	"net_quarantine", "frozen", "stdio_seen",
};

const char *vg_file_flag_name(unsigned bit)
{
	return bit < 32 ? fflag_names[bit] : NULL;
}

const char *vg_proc_flag_name(unsigned bit)
{
	return bit < 32 ? pflag_names[bit] : NULL;
}

/* ["name", ...] of the set bits; unnamed bits as "bit<N>" so nothing is hidden. */
static void bits_json(struct vg_sbuf *b, uint32_t v, const char *(*name)(unsigned))
{
	bool first = true;

	vg_sbuf_put(b, "[", 1);
	for (unsigned i = 0; i < 32; i++) {
		const char *n;

		if (!(v & (1U << i)))
			continue;
		if (!first)
			vg_sbuf_put(b, ",", 1);
		first = false;
		n = name(i);
		vg_sbuf_put(b, "\"", 1);
		if (n) {
			vg_sbuf_puts(b, n);
		} else {
			vg_sbuf_puts(b, "bit");
			vg_sbuf_u64(b, i);
		}
		vg_sbuf_put(b, "\"", 1);
	}
	vg_sbuf_put(b, "]", 1);
}

static void bits_text(struct vg_sbuf *b, uint32_t v, const char *(*name)(unsigned))
{
	bool first = true;

	for (unsigned i = 0; i < 32; i++) {
		const char *n;

		if (!(v & (1U << i)))
			continue;
		n = name(i);
		vg_sbuf_printf(b, first ? "%s" : ",%s", n ? n : "?");
		first = false;
	}
}

/* ---- finding id ---- */

static uint64_t mix(uint64_t h, uint64_t v)
{
	h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

void vg_finding_id(const char *rule_id, const struct vg_alert *a, char out[33])
{
	uint64_t w[16] = { a->proc.tgid, a->proc.start_ns, a->hdr.time_ns, a->kind };
	uint64_t h1 = 0x6a09e667f3bcc908ULL, h2 = 0xbb67ae8584caa73bULL;
	size_t n = 4;

	for (const unsigned char *s = (const unsigned char *)rule_id; *s; s++) {
		h1 = mix(h1, *s);
		h2 = mix(h2, *s ^ 0xa5);
	}
	switch (a->kind) {
	case VG_RK_FILE:
		w[n++] = a->file.path;
		w[n++] = a->file.path2;
		w[n++] = a->file.actions;
		w[n++] = a->file.ino;
		break;
	case VG_RK_EXEC:
		w[n++] = a->exec.exe;
		w[n++] = a->exec.argv;
		break;
	default:
		w[n++] = a->sys.nr;
		w[n++] = (uint32_t)a->sys.ret;
		for (int i = 0; i < 6; i++)
			w[n++] = a->sys.args[i];
		w[n++] = a->sys.str;
		w[n++] = a->sys.target.tgid ^ a->sys.target.start_ns;
	}
	for (size_t i = 0; i < n; i++) {
		h1 = mix(h1, w[i]);
		h2 = mix(h2, w[i] ^ (i * 0x100000001b3ULL));
	}
	for (int i = 0; i < 16; i++) {
		out[i] = "0123456789abcdef"[(h1 >> (60 - 4 * i)) & 15];
		out[16 + i] = "0123456789abcdef"[(h2 >> (60 - 4 * i)) & 15];
	}
	out[32] = 0;
}

/* ---- rule ---- */

void vg_rule_render_json(const struct vg_rule *r, struct vg_sbuf *b)
{
	vg_sbuf_puts(b, "{\"id\":");
	vg_sbuf_json_cstr(b, r->id);
	vg_sbuf_puts(b, ",\"title\":");
	vg_sbuf_json_cstr(b, r->title);
	vg_sbuf_puts(b, ",\"severity\":");
	vg_sbuf_json_cstr(b, vg_severity_name(r->severity));
	vg_sbuf_puts(b, ",\"mitre\":{\"tactic\":{\"id\":");
	vg_sbuf_json_cstr(b, r->tactic);
	vg_sbuf_puts(b, ",\"name\":");
	vg_sbuf_json_cstr(b, r->tactic_name);
	vg_sbuf_puts(b, "},\"technique\":{\"id\":");
	vg_sbuf_json_cstr(b, r->technique);
	vg_sbuf_puts(b, ",\"name\":");
	vg_sbuf_json_cstr(b, r->technique_name);
	vg_sbuf_puts(b, "}},\"tags\":[");
	for (size_t i = 0; i < r->ntags; i++) {
		if (i)
			vg_sbuf_put(b, ",", 1);
		vg_sbuf_json_cstr(b, r->tags[i]);
	}
	vg_sbuf_puts(b, "],\"source\":");
	vg_sbuf_json_cstr(b, r->source);
	vg_sbuf_put(b, "}", 1);
}

/* RFC 3339 with ns, as vg_rfc3339() writes it, with the date part cached per second. */
void vg_sbuf_time(struct vg_sbuf *b, uint64_t real_ns)
{
	static __thread uint64_t sec = UINT64_MAX;
	static __thread char base[VG_RFC3339_LEN];
	static __thread size_t blen;
	uint64_t ns = real_ns % 1000000000ULL;
	char frac[11];

	if (real_ns / 1000000000ULL != sec) {
		sec = real_ns / 1000000000ULL;
		vg_rfc3339(sec * 1000000000ULL, base, sizeof(base));
		blen = strlen(base) - 11; /* without ".000000000Z" */
	}
	vg_sbuf_put(b, base, blen);
	for (int i = 9; i >= 1; i--, ns /= 10)
		frac[i] = '0' + ns % 10;
	frac[0] = '.';
	frac[10] = 'Z';
	vg_sbuf_put(b, frac, 11);
}

/* ---- JSON ---- */

static void proc_ref_json(struct vg_detect *d, struct vg_sbuf *b, struct vg_pent *e)
{
	size_t len;
	const char *j;

	if (!e) {
		vg_sbuf_put(b, "null", 4);
		return;
	}
	j = vg_detect_pent_json(d, e, &len);
	vg_sbuf_put(b, j, len);
}

static void gap_json(struct vg_sbuf *b, const struct vg_proc_key *k)
{
	char id[48];

	vg_proc_id(k, id, sizeof(id));
	vg_sbuf_printf(b, "{\"id\":\"%s\",\"pid\":%u,\"missing\":true}", id, k->tgid);
}

static void argv_json(struct vg_sbuf *b, const char *const *argv, size_t argc)
{
	vg_sbuf_put(b, "[", 1);
	for (size_t i = 0; i < argc; i++) {
		if (i)
			vg_sbuf_put(b, ",", 1);
		vg_sbuf_json_cstr(b, argv[i]);
	}
	vg_sbuf_put(b, "]", 1);
}

static void file_json(struct vg_sbuf *b, const struct vg_fctx *f)
{
	const struct vg_alert *a = f->a;

	vg_sbuf_puts(b, "{\"path\":");
	vg_sbuf_json_cstr(b, f->path);
	vg_sbuf_puts(b, ",\"path2\":");
	vg_sbuf_json_cstr(b, f->path2);
	vg_sbuf_puts(b, ",\"actions\":");
	bits_json(b, a->file.actions, vg_fact_name);
	vg_sbuf_puts(b, ",\"flags\":");
	bits_json(b, a->file.flags, vg_file_flag_name);
	if (a->file.mode || (a->file.actions & (VG_FA_CHMOD | VG_FA_SETID | VG_FA_CREATE)))
		vg_sbuf_printf(b, ",\"mode\":\"%04o\"", a->file.mode & 07777);
	else
		vg_sbuf_puts(b, ",\"mode\":null");
	if (a->file.dev) { /* the kernel's dev_t: major << 20 | minor, as `query files` prints it */
		vg_sbuf_puts(b, ",\"inode\":");
		vg_sbuf_u64(b, a->file.ino);
		vg_sbuf_puts(b, ",\"dev\":\"");
		vg_sbuf_u64(b, a->file.dev >> 20);
		vg_sbuf_put(b, ":", 1);
		vg_sbuf_u64(b, a->file.dev & 0xfffff);
		vg_sbuf_puts(b, "\"}");
	}
	else
		vg_sbuf_puts(b, ",\"inode\":null,\"dev\":null}");
}

static void exec_json(struct vg_sbuf *b, const struct vg_fctx *f)
{
	vg_sbuf_puts(b, "{\"exe\":");
	vg_sbuf_json_cstr(b, f->exe);
	vg_sbuf_puts(b, ",\"argv\":");
	argv_json(b, f->argv, f->argc);
	vg_sbuf_puts(b, ",\"parent\":");
	vg_sbuf_json_cstr(b, f->parent_exe);
	vg_sbuf_puts(b, ",\"flags\":");
	bits_json(b, f->a->exec.flags, vg_proc_flag_name);
	vg_sbuf_put(b, "}", 1);
}

static void syscall_json(struct vg_detect *d, struct vg_sbuf *b, const struct vg_fctx *f)
{
	const struct vg_alert *a = f->a;
	char nb[32];

	vg_sbuf_printf(b, "{\"name\":\"%s\",\"nr\":%u,\"args\":[",
		       vg_detect_syscall_name(a->sys.nr, nb, sizeof(nb)), a->sys.nr);
	for (int i = 0; i < 6; i++)
		vg_sbuf_printf(b, i ? ",%llu" : "%llu", (unsigned long long)a->sys.args[i]);
	vg_sbuf_printf(b, "],\"ret\":%d,\"str\":", a->sys.ret);
	vg_sbuf_json_cstr(b, f->str);
	vg_sbuf_puts(b, ",\"target\":");
	if (f->target) {
		proc_ref_json(d, b, f->target);
	} else if (a->sys.target.tgid) {
		gap_json(b, &a->sys.target);
	} else {
		vg_sbuf_put(b, "null", 4);
	}
	vg_sbuf_put(b, "}", 1);
}

static void container_json(struct vg_sbuf *b, const struct vg_pent *self)
{
	if (!self->in_container) {
		vg_sbuf_put(b, "null", 4);
		return;
	}
	vg_sbuf_puts(b, "{\"cgroup\":");
	vg_sbuf_json_cstr(b, self->cgroup);
	vg_sbuf_printf(b, ",\"id\":\"%s\",\"runtime\":\"%s\",\"pod_uid\":", self->ct.id,
		       self->ct.runtime);
	vg_sbuf_json_cstr(b, self->ct.pod_uid[0] ? self->ct.pod_uid : NULL);
	vg_sbuf_put(b, "}", 1);
}

void vg_finding_render_json(struct vg_detect *d, const struct vg_rule *r, const struct vg_fctx *f,
			    struct vg_sbuf *b)
{
	const struct vg_alert *a = f->a;
	char id[33];
	const char *s;
	size_t len;

	vg_finding_id(r->id, a, id);
	vg_sbuf_puts(b, "{\"schema\":" VG_STR(VG_FINDING_SCHEMA) ",\"time\":\"");
	vg_sbuf_time(b, f->time_real);
	vg_sbuf_puts(b, "\",\"id\":\"");
	vg_sbuf_put(b, id, 32);
	vg_sbuf_puts(b, "\",\"rule\":");
	if (r->priv && !f->ext) {
		s = vg_detect_rule_json(d, r, a->gen, &len);
		vg_sbuf_put(b, s, len);
	} else {
		vg_rule_render_json(r, b); /* a policy or network rule: not in the detection cache */
	}
	vg_sbuf_puts(b, f->ext ? ",\"kind\":\"network\",\"process\":" :
			a->kind == VG_RK_FILE ? ",\"kind\":\"file\",\"process\":" :
			a->kind == VG_RK_EXEC ? ",\"kind\":\"exec\",\"process\":" :
			",\"kind\":\"syscall\",\"process\":");
	proc_ref_json(d, b, f->self);
	vg_sbuf_puts(b, ",\"ancestry\":[");
	for (size_t i = 0; i < f->nchain; i++) {
		if (i)
			vg_sbuf_put(b, ",", 1);
		proc_ref_json(d, b, f->chain[i]);
	}
	if (f->gap) {
		if (f->nchain)
			vg_sbuf_put(b, ",", 1);
		gap_json(b, &f->gap_key);
	}
	vg_sbuf_puts(b, "],\"file\":");
	if (a->kind == VG_RK_FILE)
		file_json(b, f);
	else
		vg_sbuf_put(b, "null", 4);
	vg_sbuf_puts(b, ",\"exec\":");
	if (a->kind == VG_RK_EXEC)
		exec_json(b, f);
	else
		vg_sbuf_put(b, "null", 4);
	vg_sbuf_puts(b, ",\"syscall\":");
	if (a->kind == VG_RK_SYSCALL && !f->ext)
		syscall_json(d, b, f);
	else
		vg_sbuf_put(b, "null", 4);
	vg_sbuf_puts(b, ",\"network\":");
	if (f->ext && f->ext->network_json)
		vg_sbuf_puts(b, f->ext->network_json);
	else
		vg_sbuf_put(b, "null", 4);
	vg_sbuf_puts(b, ",\"container\":");
	container_json(b, f->self);
	vg_sbuf_puts(b, ",\"host\":");
	s = vg_detect_host_json(d, &len);
	vg_sbuf_put(b, s, len);
	vg_sbuf_puts(b, ",\"suppressed\":");
	vg_sbuf_u64(b, f->suppressed);
	if (!f->act) {
		vg_sbuf_puts(b, ",\"action\":\"alert\",\"enforced_by\":null}");
		return;
	}
	/* enforcement (src/policy): what was done, by what, with which guarantee */
	vg_sbuf_puts(b, ",\"action\":");
	vg_sbuf_json_cstr(b, f->act->action);
	vg_sbuf_puts(b, ",\"enforced_by\":");
	vg_sbuf_json_cstr(b, f->act->audit ? NULL : f->act->enforced_by);
	vg_sbuf_puts(b, ",\"enforcement\":{\"policy\":");
	vg_sbuf_json_cstr(b, f->act->policy);
	vg_sbuf_puts(b, ",\"guarantee\":");
	vg_sbuf_json_cstr(b, f->act->guarantee);
	vg_sbuf_puts(b, f->act->audit ? ",\"audit\":true" : ",\"audit\":false");
	if (f->act->extra_json)
		vg_sbuf_puts(b, f->act->extra_json);
	vg_sbuf_puts(b, "}}");
}

/* ---- text ---- */

/* Printable text: control bytes as '?', so one finding stays one line. */
static void text_put(struct vg_sbuf *b, const char *s)
{
	size_t start;

	if (!s) {
		vg_sbuf_put(b, "-", 1);
		return;
	}
	start = b->len;
	vg_sbuf_puts(b, s);
	for (size_t i = start; i < b->len; i++)
		if ((unsigned char)b->p[i] < 0x20 || b->p[i] == 0x7f)
			b->p[i] = '?';
}

static const char *base(const char *p)
{
	const char *s = p ? strrchr(p, '/') : NULL;

	return s ? s + 1 : p;
}

static void proc_short(struct vg_sbuf *b, const struct vg_pent *e)
{
	const char *n = base(e->exe);
	char comm[VG_COMM_LEN + 1];

	if (!n || !*n) {
		memcpy(comm, e->rec.comm, VG_COMM_LEN);
		comm[VG_COMM_LEN] = 0;
		n = comm[0] ? comm : "?";
	}
	text_put(b, n);
	vg_sbuf_printf(b, "(%u)", e->key.tgid);
}

void vg_finding_render_text(struct vg_detect *d, const struct vg_rule *r, const struct vg_fctx *f,
			    struct vg_sbuf *b)
{
	const struct vg_alert *a = f->a;
	char sev[16], nb[32];
	size_t i;

	snprintf(sev, sizeof(sev), "%s", vg_severity_name(r->severity));
	for (i = 0; sev[i]; i++)
		sev[i] = sev[i] >= 'a' && sev[i] <= 'z' ? sev[i] - 32 : sev[i];
	vg_sbuf_time(b, f->time_real);
	vg_sbuf_printf(b, " %-8s %s \"", sev, r->id);
	text_put(b, r->title);
	vg_sbuf_printf(b, "\" pid=%u uid=%u exe=", a->proc.tgid, a->uid);
	text_put(b, f->self->exe);
	vg_sbuf_puts(b, " \u2192 ");
	switch (f->ext ? -1 : a->kind) {
	case -1:
		vg_sbuf_puts(b, "network ");
		text_put(b, f->ext->text);
		if (f->act && f->act->action)
			vg_sbuf_printf(b, " [%s]", f->act->action);
		break;
	case VG_RK_FILE:
		vg_sbuf_puts(b, "file ");
		text_put(b, f->path);
		if (f->path2) {
			vg_sbuf_puts(b, " \u2192 ");
			text_put(b, f->path2);
		}
		vg_sbuf_puts(b, " [");
		bits_text(b, a->file.actions, vg_fact_name);
		vg_sbuf_puts(b, "]");
		break;
	case VG_RK_EXEC:
		vg_sbuf_puts(b, "exec ");
		text_put(b, f->exe);
		for (i = 0; i < f->argc && i < 16; i++) {
			vg_sbuf_put(b, i ? " " : " [", i ? 1 : 2);
			text_put(b, f->argv[i]);
		}
		vg_sbuf_puts(b, f->argc > 16 ? " ...]" : f->argc ? "]" : "");
		break;
	default:
		vg_sbuf_printf(b, "syscall %s = %d", vg_detect_syscall_name(a->sys.nr, nb, sizeof(nb)),
			       a->sys.ret);
		if (f->str) {
			vg_sbuf_puts(b, " ");
			text_put(b, f->str);
		}
		if (a->sys.target.tgid)
			vg_sbuf_printf(b, " target=%u", a->sys.target.tgid);
	}
	vg_sbuf_puts(b, " | ");
	proc_short(b, f->self);
	for (i = 0; i < f->nchain; i++) {
		vg_sbuf_puts(b, " < ");
		proc_short(b, f->chain[i]);
	}
	if (f->gap)
		vg_sbuf_printf(b, " < ?(%u)", f->gap_key.tgid);
	if (f->self->in_container)
		vg_sbuf_printf(b, " container=%.12s(%s)", f->self->ct.id, f->self->ct.runtime);
	if (f->act)
		vg_sbuf_printf(b, " action=%s%s by=%s", f->act->action, f->act->audit ? "(audit)" : "",
			       f->act->enforced_by && !f->act->audit ? f->act->enforced_by : "-");
}
