// SPDX-License-Identifier: GPL-2.0
/*
 * Rate limits and thresholds: a fixed window per (rule, key), the key chosen
 * by `per` (process, exe, ancestry, rule, object, stdin). State lives in one bounded
 * table per rule set (VG_RATE_SLOTS slots, VG_RATE_PROBE-way probing): when a
 * probe window is full, an expired slot is reused first, else the least
 * recently used one (counted in rate_evictions: that key may alert early).
 * Nothing held back is lost silently: every suppressed finding is counted per
 * rule, and the next finding let through for the key carries the count.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "rules/rules_int.h"
#include "util/timefmt.h"

static uint64_t mix(uint64_t h, uint64_t v)
{
	/* splitmix64 finaliser over h ^ v */
	uint64_t z = h ^ (v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2));

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t mix_str(uint64_t h, const char *s)
{
	uint64_t f = VG_NAME_HASH_INIT;

	for (; s && *s; s++)
		f = VG_NAME_HASH_STEP(f, *s);
	return mix(h, f);
}

static uint64_t mix_proc(uint64_t h, const struct vg_match_proc *p)
{
	if (p->rec)
		return mix(mix(h, p->rec->key.tgid), p->rec->key.start_ns);
	return mix_str(h, p->exe);
}

/*
 * The process's standard input as /proc names it ("socket:[N]", "pipe:[N]", "/dev/pts/3"):
 * the processes sharing one are a session — a reverse shell and every command run from it
 * inherit its socket, pty or pipe. false when it can't be read (the process is gone).
 */
static bool stdin_name(const struct vg_match_proc *p, char *buf, size_t len)
{
	char path[64];
	ssize_t n;

	if (!p->rec || !p->rec->key.tgid)
		return false;
	snprintf(path, sizeof(path), "/proc/%u/fd/0", p->rec->key.tgid);
	n = readlink(path, buf, len - 1);
	if (n <= 0)
		return false;
	buf[n] = 0;
	return true;
}

static uint64_t rate_key(const struct vg_rule *r, enum vg_rate_per per, uint64_t salt,
			 const struct vg_match *m)
{
	uint64_t h = mix_str(salt, r->id);

	switch (per) {
	case VG_PER_PROCESS:
		h = mix_proc(h, &m->self);
		break;
	case VG_PER_EXE:
		h = mix_str(h, m->self.exe);
		break;
	case VG_PER_ANCESTRY:
		h = mix_str(h, m->self.exe);
		for (size_t i = 0; m->ancestry && i < m->nancestry && i < 32; i++)
			h = mix_str(h, m->ancestry[i].exe);
		break;
	case VG_PER_RULE:
		break;
	case VG_PER_STDIN: {
		char in[256];

		/* (a process already gone counts alone) */
		h = stdin_name(&m->self, in, sizeof(in)) ? mix_str(h, in) : mix_proc(h, &m->self);
		break;
	}
	case VG_PER_OBJECT:
		h = mix_proc(h, &m->self);
		switch (m->kind) {
		case VG_RK_FILE:
			h = mix_str(h, m->path);
			break;
		case VG_RK_EXEC:
			h = mix_str(h, m->self.exe);
			break;
		case VG_RK_SYSCALL:
			h = mix(mix(mix(h, m->nr), m->args[0]), m->args[1]);
			h = mix_str(h, m->str);
			if (m->target)
				h = mix(h, m->target->key.tgid);
			break;
		default:
			break;
		}
		break;
	}
	return h ? h : 1;
}

/* Find or claim the slot of key (lock held). */
static struct vg_rate_slot *slot_of(struct vg_rules *set, uint64_t key, uint64_t window,
				    uint64_t now)
{
	struct vg_rate_slot *empty = NULL, *lru = NULL, *victim;
	size_t base = key % VG_RATE_SLOTS;

	for (size_t i = 0; i < VG_RATE_PROBE; i++) {
		struct vg_rate_slot *s = &set->rate[(base + i) % VG_RATE_SLOTS];

		if (s->key == key)
			return s;
		if (!s->key) {
			if (!empty)
				empty = s;
		} else if (!lru || s->last_ns < lru->last_ns) {
			lru = s;
		}
	}
	victim = empty ? empty : lru;
	/* the least recently used slot is usually long expired; if not, its key
	 * loses its history early (counted) */
	if (!empty && now - victim->start_ns < window)
		set->rate_evictions++;
	*victim = (struct vg_rate_slot){ .key = key, .start_ns = now, .last_ns = now };
	return victim;
}

static uint64_t now_of(const struct vg_match *m)
{
	return m->now_ns ? m->now_ns : vg_now_boot_ns();
}

bool vg_rule_rate_check(const struct vg_rule *r, const struct vg_match *m, uint64_t *suppressed)
{
	struct vg_rule_spec *s = r ? r->priv : NULL;
	struct vg_rules *set = s ? s->set : NULL;
	uint64_t now = now_of(m);
	struct vg_rate_slot *sl;
	bool ok = true;

	if (suppressed)
		*suppressed = 0;
	if (!s || !set || !set->rate)
		return true;
	if (!s->threshold.count && !s->rate.count)
		return true;
	pthread_mutex_lock(&set->rate_lock);
	if (s->threshold.count) {
		/* a burst: N matches within the window for the key, then findings flow */
		uint64_t key = rate_key(r, s->threshold.per, 0x7468726573686f6cULL, m);

		sl = slot_of(set, key, s->threshold.window_ns, now);
		if (now - sl->start_ns >= s->threshold.window_ns) {
			sl->start_ns = now;
			sl->count = 0;
		}
		sl->last_ns = now;
		if (sl->count < UINT32_MAX)
			sl->count++;
		ok = sl->count >= s->threshold.count;
	}
	if (ok && s->rate.count) {
		uint64_t key = rate_key(r, s->rate.per, 0x72617465ULL, m);

		sl = slot_of(set, key, s->rate.window_ns, now);
		if (now - sl->start_ns >= s->rate.window_ns) {
			sl->start_ns = now;
			sl->count = 0;
		}
		sl->last_ns = now;
		if (sl->count < s->rate.count) {
			sl->count++;
			if (suppressed)
				*suppressed = sl->suppressed;
			sl->suppressed = 0;
		} else {
			if (sl->suppressed < UINT32_MAX)
				sl->suppressed++;
			s->suppressed++;
			ok = false;
		}
	}
	pthread_mutex_unlock(&set->rate_lock);
	return ok;
}

bool vg_rule_rate_ok(const struct vg_rule *r, const struct vg_match *m)
{
	return vg_rule_rate_check(r, m, NULL);
}

uint64_t vg_rule_suppressed(const struct vg_rule *r)
{
	const struct vg_rule_spec *s = r ? r->priv : NULL;
	uint64_t n;

	if (!s || !s->set)
		return 0;
	pthread_mutex_lock(&s->set->rate_lock);
	n = s->suppressed;
	pthread_mutex_unlock(&s->set->rate_lock);
	return n;
}
