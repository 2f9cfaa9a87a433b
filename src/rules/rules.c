// SPDX-License-Identifier: GPL-2.0
/*
 * A rule set: the embedded defaults, then the user's files (sorted), where a
 * rule with an existing id replaces it and `disable: [ids]` turns rules off.
 * All or nothing: any error and no set is returned.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "rules/rules_int.h"


/* ---- freeing what a parsed rule owns ---- */

void vg_strv_free(struct vg_strv *v)
{
	for (size_t i = 0; i < v->n; i++)
		free(v->v[i]);
	free(v->v);
	v->v = NULL;
	v->n = 0;
}

static void path_sel_free(struct vg_path_sel *s)
{
	vg_strv_free(&s->exact);
	vg_strv_free(&s->prefix);
	vg_strv_free(&s->basename);
	vg_strv_free(&s->glob);
	vg_strv_free(&s->suffix);
}

static void argv_sel_free(struct vg_argv_sel *a)
{
	for (size_t i = 0; a->regex && i < a->regex_src.n; i++)
		regfree(&a->regex[i]);
	free(a->regex);
	a->regex = NULL;
	vg_strv_free(&a->contains);
	vg_strv_free(&a->regex_src);
	vg_strv_free(&a->any_arg_glob);
}

static void proc_sel_free(struct vg_proc_sel *p)
{
	path_sel_free(&p->exe);
	argv_sel_free(&p->argv);
}

static void spec_free(struct vg_rule_spec *s)
{
	if (!s)
		return;
	path_sel_free(&s->exe);
	argv_sel_free(&s->argv);
	proc_sel_free(&s->parent);
	proc_sel_free(&s->ancestor);
	proc_sel_free(&s->pipe_to);
	proc_sel_free(&s->pipe_from);
	vg_strv_free(&s->env_present);
	path_sel_free(&s->path);
	free(s->nrs);
	for (size_t i = 0; i < s->nargs; i++)
		free(s->args[i].v);
	free(s->args);
	free(s->uid.v);
	for (size_t i = 0; i < s->nexcept; i++) {
		struct vg_except *x = &s->except[i];

		path_sel_free(&x->exe);
		argv_sel_free(&x->argv);
		proc_sel_free(&x->parent);
		proc_sel_free(&x->ancestor);
		path_sel_free(&x->path);
		free(x->uid.v);
		vg_strv_free(&x->env_present);
	}
	free(s->except);
	free(s);
}

void vg_rule_clear(struct vg_rule *r)
{
	free(r->id);
	free(r->title);
	free(r->description);
	free(r->tactic);
	free(r->technique);
	for (size_t i = 0; i < r->ntags; i++)
		free(r->tags[i]);
	free(r->tags);
	free(r->source);
	spec_free(r->priv);
	memset(r, 0, sizeof(*r));
}

void vg_rule_file_free(struct vg_rule_file *f)
{
	for (size_t i = 0; i < f->n; i++)
		vg_rule_clear(&f->rules[i]);
	free(f->rules);
	vg_strv_free(&f->disable);
	free(f->disable_line);
	free(f->disable_col);
	memset(f, 0, sizeof(*f));
}

const char *vg_rule_kind_name(enum vg_rule_kind k)
{
	static const char *const names[] = { "file", "exec", "syscall" };

	return (unsigned)k < VG_RK_MAX ? names[k] : "?";
}

static int read_file(const char *path, char **text, size_t *len, struct vg_rule_errors *errs)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t n = 0, cap = 0;

	if (!f) {
		vg_rule_error_add(errs, path, 0, 0, "", "cannot read: %s", strerror(errno));
		return -errno;
	}
	for (;;) {
		size_t k;

		if (n + 4096 + 1 > cap) {
			char *nb;

			cap = cap ? cap * 2 : 16384;
			if (cap > (16u << 20)) {
				vg_rule_error_add(errs, path, 0, 0, "", "file larger than 16 MiB");
				free(buf);
				fclose(f);
				return -EFBIG;
			}
			nb = realloc(buf, cap);
			if (!nb) {
				free(buf);
				fclose(f);
				return -ENOMEM;
			}
			buf = nb;
		}
		k = fread(buf + n, 1, cap - n - 1, f);
		if (!k)
			break;
		n += k;
	}
	if (ferror(f)) {
		vg_rule_error_add(errs, path, 0, 0, "", "read error: %s", strerror(errno));
		free(buf);
		fclose(f);
		return -EIO;
	}
	fclose(f);
	if (!buf)
		buf = calloc(1, 1);
	buf[n] = 0;
	*text = buf;
	*len = n;
	return 0;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool yaml_name(const char *n)
{
	size_t k = strlen(n);

	return n[0] != '.' && ((k > 5 && !strcmp(n + k - 5, ".yaml")) ||
			       (k > 4 && !strcmp(n + k - 4, ".yml")));
}

/* *.yaml and *.yml in dir, sorted. A missing dir is an empty one. */
static int list_dir(const char *dir, char ***paths, size_t *n, struct vg_rule_errors *errs)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **v = NULL;
	size_t k = 0;

	*paths = NULL;
	*n = 0;
	if (!d) {
		if (errno == ENOENT)
			return 0;
		vg_rule_error_add(errs, dir, 0, 0, "", "cannot read the rules directory: %s",
				  strerror(errno));
		return -errno;
	}
	while ((e = readdir(d))) {
		char **nv;

		if (!yaml_name(e->d_name))
			continue;
		nv = realloc(v, (k + 1) * sizeof(*v));
		if (!nv)
			break;
		v = nv;
		if (asprintf(&v[k], "%s/%s", dir, e->d_name) < 0)
			break;
		k++;
	}
	closedir(d);
	qsort(v, k, sizeof(*v), name_cmp);
	*paths = v;
	*n = k;
	return 0;
}

/* ---- merging ---- */

struct merge {
	struct vg_rule *v;
	size_t n, cap;
};

static struct vg_rule *merge_find(struct merge *mg, const char *id)
{
	for (size_t i = 0; id && i < mg->n; i++)
		if (mg->v[i].id && !strcmp(mg->v[i].id, id))
			return &mg->v[i];
	return NULL;
}

/* Take the rules of f (f keeps empty husks). */
static int merge_file(struct merge *mg, struct vg_rule_file *f)
{
	for (size_t i = 0; i < f->n; i++) {
		struct vg_rule *old = merge_find(mg, f->rules[i].id);

		if (old) {
			vg_rule_clear(old);
			*old = f->rules[i];
		} else {
			if (mg->n == mg->cap) {
				size_t cap = mg->cap ? mg->cap * 2 : 64;
				struct vg_rule *nv = realloc(mg->v, cap * sizeof(*nv));

				if (!nv)
					return -ENOMEM;
				mg->v = nv;
				mg->cap = cap;
			}
			mg->v[mg->n++] = f->rules[i];
		}
		memset(&f->rules[i], 0, sizeof(f->rules[i]));
	}
	return 0;
}

static void apply_disables(struct merge *mg, const char *file, const struct vg_rule_file *f,
			   struct vg_rule_errors *errs)
{
	for (size_t i = 0; i < f->disable.n; i++) {
		struct vg_rule *r = merge_find(mg, f->disable.v[i]);

		if (r)
			r->enabled = false;
		else
			vg_rule_error_add(errs, file, f->disable_line[i], f->disable_col[i],
					  "disable", "no rule with id \"%s\"", f->disable.v[i]);
	}
}

static void merge_free(struct merge *mg)
{
	for (size_t i = 0; i < mg->n; i++)
		vg_rule_clear(&mg->v[i]);
	free(mg->v);
	memset(mg, 0, sizeof(*mg));
}

static struct vg_rules *set_from(struct merge *mg, struct vg_rule_errors *errs)
{
	struct vg_rules *set = calloc(1, sizeof(*set));

	if (!set) {
		merge_free(mg);
		return NULL;
	}
	set->rules = mg->v;
	set->n = mg->n;
	memset(mg, 0, sizeof(*mg));
	pthread_mutex_init(&set->rate_lock, NULL);
	for (size_t i = 0; i < set->n; i++)
		((struct vg_rule_spec *)set->rules[i].priv)->set = set;
	if (vg_rules_assign_bits(set, errs)) {
		vg_rules_free(set);
		return NULL;
	}
	set->rate = calloc(VG_RATE_SLOTS, sizeof(*set->rate));
	if (!set->rate) {
		vg_rules_free(set);
		return NULL;
	}
	return set;
}

/*
 * Parse the builtin files and `paths`, merge them in that order, apply every
 * file's `disable` once all rules are known. Errors go to errs.
 */
static struct vg_rules *load_all(char *const *paths, size_t n, struct vg_rule_errors *errs)
{
	struct vg_rule_file *files = calloc(n + 1, sizeof(*files));
	struct merge mg = {};
	size_t at = errs->n;
	struct vg_rules *set = NULL;

	if (!files)
		return NULL;
	for (size_t i = 0; i < vg_builtin_nrules; i++) {
		struct vg_rule_file f;

		vg_rule_file_parse(vg_builtin_rules[i].name, vg_builtin_rules[i].text,
				   strlen(vg_builtin_rules[i].text), true, &f, errs);
		merge_file(&mg, &f);
		vg_rule_file_free(&f);
	}
	for (size_t i = 0; i < n; i++) {
		char *text;
		size_t len;

		if (read_file(paths[i], &text, &len, errs))
			continue;
		vg_rule_file_parse(paths[i], text, len, false, &files[i], errs);
		free(text);
		merge_file(&mg, &files[i]);
	}
	for (size_t i = 0; i < n; i++)
		apply_disables(&mg, paths[i], &files[i], errs);
	for (size_t i = 0; i < n; i++)
		vg_rule_file_free(&files[i]);
	free(files);
	if (errs->n > at) {
		merge_free(&mg);
		return NULL;
	}
	set = set_from(&mg, errs);
	return set;
}

struct vg_rules *vg_rules_from_text(const char *name, const char *text,
				    struct vg_rule_errors *errs)
{
	struct vg_rule_file f;
	struct merge mg = {};
	size_t at = errs->n;

	vg_rule_file_parse(name, text, strlen(text), false, &f, errs);
	merge_file(&mg, &f);
	apply_disables(&mg, name, &f, errs);
	vg_rule_file_free(&f);
	if (errs->n > at) {
		merge_free(&mg);
		return NULL;
	}
	return set_from(&mg, errs);
}

struct vg_rules *vg_rules_load(const char *dir, struct vg_rule_errors *errs)
{
	char **paths = NULL;
	size_t n = 0;
	struct vg_rules *set;

	if (dir && list_dir(dir, &paths, &n, errs))
		return NULL;
	set = load_all(paths, n, errs);
	for (size_t i = 0; i < n; i++)
		free(paths[i]);
	free(paths);
	return set;
}

int vg_rules_check(char *const *paths, size_t n, struct vg_rule_errors *errs, size_t *nrules)
{
	size_t at = errs->n, count = 0;
	struct vg_rules *set;

	/* each file on its own (its rules counted), then all of them as the daemon
	 * would load them over the defaults (disable ids, the kernel's bit budget) */
	for (size_t i = 0; i < n; i++) {
		struct vg_rule_file f;
		char *text;
		size_t len;

		if (read_file(paths[i], &text, &len, errs))
			continue;
		vg_rule_file_parse(paths[i], text, len, false, &f, errs);
		free(text);
		count += f.n;
		vg_rule_file_free(&f);
	}
	if (errs->n > at)
		return -EINVAL;
	set = load_all(paths, n, errs);
	vg_rules_free(set);
	if (nrules)
		*nrules = count;
	return errs->n > at ? -EINVAL : 0;
}

int vg_rules_check_files(char *const *paths, size_t n, struct vg_rule_errors *errs)
{
	return vg_rules_check(paths, n, errs, NULL);
}

void vg_rules_free(struct vg_rules *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++)
		vg_rule_clear(&r->rules[i]);
	free(r->rules);
	free(r->rate);
	pthread_mutex_destroy(&r->rate_lock);
	free(r);
}

size_t vg_rules_count(const struct vg_rules *r)
{
	return r ? r->n : 0;
}

const struct vg_rule *vg_rules_at(const struct vg_rules *r, size_t i)
{
	return r && i < r->n ? &r->rules[i] : NULL;
}

const struct vg_rule *vg_rules_find(const struct vg_rules *r, const char *id)
{
	for (size_t i = 0; r && id && i < r->n; i++)
		if (!strcmp(r->rules[i].id, id))
			return &r->rules[i];
	return NULL;
}

const struct vg_rule *vg_rules_by_bit(const struct vg_rules *r, enum vg_rule_kind kind,
				      unsigned bit)
{
	if (!r || (unsigned)kind >= VG_RK_MAX || bit >= VG_RULES_MAX)
		return NULL;
	return r->by_bit[kind][bit];
}

size_t vg_rules_candidates(const struct vg_rules *r, enum vg_rule_kind kind,
			   const struct vg_rbits *bits, const struct vg_rule **out, size_t max)
{
	size_t n = 0;

	if (!r || !bits || (unsigned)kind >= VG_RK_MAX)
		return 0;
	for (unsigned b = 0; b < VG_RULES_MAX && n < max; b++) {
		const struct vg_rule *rule;
		bool seen = false;

		if (!(bits->w[b / 64] & (1ULL << (b % 64))))
			continue;
		rule = r->by_bit[kind][b];
		if (!rule)
			continue;
		for (size_t i = 0; i < n && !seen; i++)
			seen = out[i] == rule;
		if (!seen)
			out[n++] = rule;
	}
	return n;
}

bool vg_rule_owns_bit(const struct vg_rule *r, unsigned bit)
{
	const struct vg_rule_spec *s = r ? r->priv : NULL;

	return s && bit < VG_RULES_MAX && (s->bits.w[bit / 64] & (1ULL << (bit % 64)));
}

size_t vg_rules_syscalls(const struct vg_rules *r, uint32_t *nrs, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; r && i < r->n; i++) {
		const struct vg_rule_spec *s = r->rules[i].priv;

		if (!r->rules[i].enabled || r->rules[i].kind != VG_RK_SYSCALL)
			continue;
		for (size_t j = 0; j < s->nnrs; j++) {
			bool seen = false;

			for (size_t k = 0; k < n && !seen; k++)
				seen = nrs[k] == s->nrs[j];
			if (!seen && n < max)
				nrs[n++] = s->nrs[j];
		}
	}
	return n;
}
