// SPDX-License-Identifier: GPL-2.0
/* A process record as JSON: the one shape every query and finding uses. */
#include <stdio.h>
#include <string.h>
#include "query/query.h"
#include "util/timefmt.h"

static struct json_object *time_or_null(uint64_t boot_ns, uint64_t off)
{
	char buf[VG_RFC3339_LEN];

	if (!boot_ns)
		return NULL;
	return json_object_new_string(vg_rfc3339(boot_ns + off, buf, sizeof(buf)));
}

static struct json_object *str_or_null(struct vg_strcache *sc, uint64_t id, bool *trunc)
{
	const char *s = vg_strcache_get(sc, id, NULL, trunc);

	return s ? json_object_new_string(s) : NULL;
}

/* argv is stored as NUL-separated words. */
static struct json_object *argv_json(struct vg_strcache *sc, uint64_t id, bool *trunc)
{
	struct json_object *a = json_object_new_array();
	uint32_t len = 0;
	const char *s = vg_strcache_get(sc, id, &len, trunc);

	for (uint32_t off = 0; s && off < len;) {
		size_t n = strnlen(s + off, len - off);

		if (n == 0 && off + 1 >= len)
			break;
		json_object_array_add(a, json_object_new_string_len(s + off, n));
		off += n + 1;
	}
	return a;
}

static struct json_object *ns_json(const struct vg_proc *p)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "mnt", json_object_new_int64(p->ns_mnt));
	json_object_object_add(o, "pid", json_object_new_int64(p->ns_pid));
	json_object_object_add(o, "net", json_object_new_int64(p->ns_net));
	json_object_object_add(o, "uts", json_object_new_int64(p->ns_uts));
	json_object_object_add(o, "ipc", json_object_new_int64(p->ns_ipc));
	json_object_object_add(o, "user", json_object_new_int64(p->ns_user));
	json_object_object_add(o, "cgroup", json_object_new_int64(p->ns_cgroup));
	return o;
}

static struct json_object *id_or_null(uint32_t id)
{
	return id == (uint32_t)-1 ? NULL : json_object_new_int64(id);
}

void vg_proc_id(const struct vg_proc_key *k, char *buf, size_t len)
{
	snprintf(buf, len, "%u@%llu", k->tgid, (unsigned long long)k->start_ns);
}

static void add_exit(struct json_object *o, const struct vg_proc *p)
{
	struct json_object *code = NULL, *sig = NULL;
	int st = p->exit_code;

	if ((p->flags & VG_PF_EXITED) && !(p->flags & VG_PF_EXIT_UNSEEN)) {
		if ((st & 0x7f) == 0) {
			code = json_object_new_int((st >> 8) & 0xff);
		} else {
			code = json_object_new_int(128 + (st & 0x7f)); /* as a shell reports it */
			sig = json_object_new_int(st & 0x7f);
		}
	}
	json_object_object_add(o, "exit_code", code);
	json_object_object_add(o, "exit_signal", sig);
}

struct json_object *vg_proc_json(const struct vg_query_ctx *q, const struct vg_proc *p)
{
	struct json_object *o = json_object_new_object();
	struct json_object *trunc = json_object_new_array();
	char id[48];
	bool t_exe = false, t_argv = false;

	vg_proc_id(&p->key, id, sizeof(id));
	json_object_object_add(o, "id", json_object_new_string(id));
	json_object_object_add(o, "pid", json_object_new_int64(p->key.tgid));
	json_object_object_add(o, "ppid", json_object_new_int64(p->ppid));
	if (p->parent.tgid) {
		vg_proc_id(&p->parent, id, sizeof(id));
		json_object_object_add(o, "parent_id", json_object_new_string(id));
	} else {
		json_object_object_add(o, "parent_id", NULL);
	}
	json_object_object_add(o, "start_time", time_or_null(p->key.start_ns, q->boot_off));
	json_object_object_add(o, "exit_time",
			       (p->flags & VG_PF_EXITED) ? time_or_null(p->exit_ns, q->boot_off) : NULL);
	add_exit(o, p);
	json_object_object_add(o, "uid", json_object_new_int64(p->uid));
	json_object_object_add(o, "gid", json_object_new_int64(p->gid));
	json_object_object_add(o, "euid", json_object_new_int64(p->euid));
	json_object_object_add(o, "egid", json_object_new_int64(p->egid));
	json_object_object_add(o, "auid", id_or_null(p->auid));
	json_object_object_add(o, "exe", str_or_null(q->strs, p->exe, &t_exe));
	json_object_object_add(o, "prev_exe", str_or_null(q->strs, p->prev_exe, NULL));
	json_object_object_add(o, "argv", argv_json(q->strs, p->argv, &t_argv));
	json_object_object_add(o, "comm", json_object_new_string_len(p->comm, strnlen(p->comm, VG_COMM_LEN)));
	json_object_object_add(o, "cgroup_id", json_object_new_uint64(p->cgroup_id));
	json_object_object_add(o, "cgroup", str_or_null(q->strs, p->cgroup, NULL));
	json_object_object_add(o, "namespaces", ns_json(p));
	json_object_object_add(o, "exec_time", (p->flags & VG_PF_EXECED) ?
				time_or_null(p->exec_ns, q->boot_off) : NULL);
	json_object_object_add(o, "exec_count", json_object_new_int64(p->exec_count));
	/* pipeline neighbours: the pipe inode on stdin/stdout at the last exec */
	json_object_object_add(o, "stdin_pipe", p->stdin_pipe ?
			       json_object_new_uint64(p->stdin_pipe) : NULL);
	json_object_object_add(o, "stdout_pipe", p->stdout_pipe ?
			       json_object_new_uint64(p->stdout_pipe) : NULL);
	if ((p->flags & VG_PF_TRUNC_EXE) || t_exe)
		json_object_array_add(trunc, json_object_new_string("exe"));
	if ((p->flags & VG_PF_TRUNC_ARGV) || t_argv)
		json_object_array_add(trunc, json_object_new_string("argv"));
	if (p->flags & VG_PF_STR_LOST)
		json_object_array_add(trunc, json_object_new_string("lost"));
	json_object_object_add(o, "truncated", trunc);
	json_object_object_add(o, "alive", json_object_new_boolean(!(p->flags & VG_PF_EXITED)));
	json_object_object_add(o, "from_snapshot",
			       json_object_new_boolean(p->flags & VG_PF_FROM_SNAPSHOT));
	json_object_object_add(o, "exit_unseen", json_object_new_boolean(p->flags & VG_PF_EXIT_UNSEEN));
	json_object_object_add(o, "approx_start", json_object_new_boolean(p->flags & VG_PF_APPROX_START));
	json_object_object_add(o, "exe_deleted", json_object_new_boolean(p->flags & VG_PF_EXE_DELETED));
	json_object_object_add(o, "kthread", json_object_new_boolean(p->flags & VG_PF_KTHREAD));
	/* enforcement (docs/policies.md): network cut, stopped by a freeze */
	json_object_object_add(o, "net_quarantine",
			       json_object_new_boolean(p->flags & VG_PF_NET_QUARANTINE));
	json_object_object_add(o, "frozen", json_object_new_boolean(p->flags & VG_PF_FROZEN));
	return o;
}
