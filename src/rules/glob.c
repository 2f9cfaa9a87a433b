// SPDX-License-Identifier: GPL-2.0
/*
 * Path globs for rules. Unlike fnmatch(3), a star also matches names that
 * start with a dot (a rule on /tmp/<star> must see /tmp/.x), and a double
 * star crosses directories: /home/<star><star>/.ssh/id_rsa matches
 * /home/a/.ssh/id_rsa and /home/a/b/.ssh/id_rsa; a double star alone matches
 * everything. {a,b,c} is one of the alternatives (not nested). Written out in
 * docs/rules.md.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "rules/rules_int.h"

bool vg_glob_has_meta(const char *s)
{
	for (; *s; s++)
		if (*s == '*' || *s == '?' || *s == '[' || *s == '{' || *s == '\\')
			return true;
	return false;
}

/* [...] at *pp (just past '['); advances *pp past ']'. -1: malformed (treat '[' literally). */
static int class_match(const char **pp, char c)
{
	const char *p = *pp;
	bool neg = false, hit = false;

	if (*p == '!' || *p == '^') {
		neg = true;
		p++;
	}
	if (*p == ']') { /* a leading ']' is literal */
		hit = c == ']';
		p++;
	}
	while (*p && *p != ']') {
		char lo = *p, hi = lo;

		if (p[1] == '-' && p[2] && p[2] != ']') {
			hi = p[2];
			p += 2;
		}
		if (c >= lo && c <= hi)
			hit = true;
		p++;
	}
	if (*p != ']')
		return -1;
	*pp = p + 1;
	return hit != neg;
}

static bool match_from(const char *p, const char *s, int depth)
{
	if (depth > 64) /* patterns are short; this only stops pathological ones */
		return false;
	for (;;) {
		switch (*p) {
		case 0:
			return *s == 0;
		case '*':
			if (p[1] == '*') {
				const char *rest = p + 2;

				/* "**" then "/": zero or more whole components */
				if (*rest == '/') {
					if (match_from(rest + 1, s, depth + 1))
						return true;
					for (const char *t = s; *t; t++)
						if (*t == '/' && match_from(rest + 1, t + 1, depth + 1))
							return true;
					return false;
				}
				for (const char *t = s;; t++) {
					if (match_from(rest, t, depth + 1))
						return true;
					if (!*t)
						return false;
				}
			}
			for (const char *t = s;; t++) {
				if (match_from(p + 1, t, depth + 1))
					return true;
				if (!*t || *t == '/')
					return false;
			}
		case '?':
			if (!*s || *s == '/')
				return false;
			p++, s++;
			break;
		case '[': {
			const char *q = p + 1;
			int r;

			if (!*s || *s == '/')
				return false;
			r = class_match(&q, *s);
			if (r < 0) { /* no closing ']': a literal '[' */
				if (*s != '[')
					return false;
				p++, s++;
				break;
			}
			if (!r)
				return false;
			p = q, s++;
			break;
		}
		case '{': {
			const char *close = strchr(p, '}'), *alt = p + 1;
			char buf[1024];

			if (!close) /* no closing brace: a literal '{' */
				goto literal;
			/* try each alternative followed by the rest of the pattern */
			while (alt <= close) {
				const char *end = alt;
				size_t a, r = strlen(close + 1);

				while (end < close && *end != ',')
					end++;
				a = end - alt;
				if (a + r + 1 <= sizeof(buf)) {
					memcpy(buf, alt, a);
					memcpy(buf + a, close + 1, r + 1);
					if (match_from(buf, s, depth + 1))
						return true;
				}
				alt = end + 1;
			}
			return false;
		}
		case '\\':
			if (p[1])
				p++;
			/* fall through */
		literal:
		default:
			if (*p != *s)
				return false;
			p++, s++;
		}
	}
}

bool vg_glob_match(const char *pat, const char *s)
{
	if (!pat || !s)
		return false;
	return match_from(pat, s, 0);
}

/* Literal text of a glob up to its first wildcard, escapes removed. */
void vg_glob_split(const char *glob, char **prefix, char **base)
{
	size_t n = strlen(glob);
	char *pre = malloc(n + 1), *b = NULL;
	const char *last = strrchr(glob, '/');
	size_t k = 0;

	for (const char *p = glob; *p; p++) {
		if (*p == '*' || *p == '?' || *p == '[' || *p == '{')
			break;
		if (*p == '\\' && p[1])
			p++;
		pre[k++] = *p;
	}
	pre[k] = 0;
	last = last ? last + 1 : glob;
	if (*last && !strpbrk(last, "*?[{")) {
		b = malloc(strlen(last) + 1);
		k = 0;
		for (const char *p = last; *p; p++) {
			if (*p == '\\' && p[1])
				p++;
			b[k++] = *p;
		}
		b[k] = 0;
	}
	*prefix = pre;
	*base = b;
}
