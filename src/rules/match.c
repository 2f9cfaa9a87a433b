// SPDX-License-Identifier: GPL-2.0
/*
 * The user-space half of a rule: given a kernel candidate (or a synthetic
 * vg_match in tests), does the rule hold? Everything is checked again here,
 * the kernel's cheap predicates included, so a relaxed kernel table (a glob
 * compiled to its literal prefix, bits shared by several shapes) never turns
 * into a false finding.
 */
#include <dirent.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "rules/rules_int.h"

#define CMDLINE_MAX 8192

const char *vg_basename(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && !memcmp(s + a - b, suffix, b);
}

static bool path_sel_match1(const struct vg_path_sel *s, const char *path)
{
	const char *base = vg_basename(path);

	for (size_t i = 0; i < s->exact.n; i++)
		if (!strcmp(s->exact.v[i], path))
			return true;
	for (size_t i = 0; i < s->prefix.n; i++)
		if (!strncmp(s->prefix.v[i], path, strlen(s->prefix.v[i])))
			return true;
	for (size_t i = 0; i < s->basename.n; i++)
		if (!strcmp(s->basename.v[i], base))
			return true;
	for (size_t i = 0; i < s->glob.n; i++)
		if (vg_glob_match(s->glob.v[i], path))
			return true;
	for (size_t i = 0; i < s->suffix.n; i++)
		if (ends_with(path, s->suffix.v[i]))
			return true;
	return false;
}

bool vg_path_sel_match(const struct vg_path_sel *s, const char *path)
{
	static const char deleted[] = " (deleted)";
	char buf[VG_STR_MAX];
	size_t n;

	if (!path || !*path)
		return false;
	if (path_sel_match1(s, path))
		return true;
	/* an unlinked executable may be named "<path> (deleted)", as d_path does */
	n = strlen(path);
	if (n > sizeof(deleted) - 1 && n < sizeof(buf) && ends_with(path, deleted)) {
		memcpy(buf, path, n - (sizeof(deleted) - 1));
		buf[n - (sizeof(deleted) - 1)] = 0;
		return path_sel_match1(s, buf);
	}
	return false;
}

/* argv joined by single spaces (the "command line" patterns see). */
static const char *cmdline(const struct vg_match_proc *p, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = 0;
	for (size_t i = 0; p->argv && i < p->argc && off + 1 < len; i++) {
		int k = snprintf(buf + off, len - off, "%s%s", i ? " " : "",
				 p->argv[i] ? p->argv[i] : "");

		if (k < 0)
			break;
		off += (size_t)k;
	}
	return buf;
}

static bool argv_sel_match(const struct vg_argv_sel *a, const struct vg_match_proc *p)
{
	char *line;
	bool ok = true;

	if (!a->set)
		return true;
	line = malloc(CMDLINE_MAX);
	if (!line)
		return false;
	cmdline(p, line, CMDLINE_MAX);
	if (a->contains.n) {
		bool hit = false;

		for (size_t i = 0; i < a->contains.n && !hit; i++)
			hit = strstr(line, a->contains.v[i]);
		ok &= hit;
	}
	if (ok && a->regex_src.n) {
		bool hit = false;

		for (size_t i = 0; a->regex && i < a->regex_src.n && !hit; i++)
			hit = !regexec(&a->regex[i], line, 0, NULL, 0);
		ok &= hit;
	}
	if (ok && a->any_arg_glob.n) {
		bool hit = false;

		for (size_t i = 1; p->argv && i < p->argc && !hit; i++)
			for (size_t j = 0; p->argv[i] && j < a->any_arg_glob.n && !hit; j++)
				hit = !fnmatch(a->any_arg_glob.v[j], p->argv[i], 0);
		ok &= hit;
	}
	free(line);
	return ok;
}

static bool is_kthread(const struct vg_match_proc *p)
{
	return p->rec && (p->rec->flags & VG_PF_KTHREAD);
}

static bool proc_sel_match(const struct vg_proc_sel *s, const struct vg_match_proc *p)
{
	if (s->exe.set && !vg_path_sel_match(&s->exe, p->exe))
		return false;
	if (s->argv.set && !argv_sel_match(&s->argv, p))
		return false;
	if (s->kthread >= 0 && is_kthread(p) != (bool)s->kthread)
		return false;
	return true;
}

static bool parent_match(const struct vg_proc_sel *s, const struct vg_match *m)
{
	return m->nancestry > 0 && m->ancestry && proc_sel_match(s, &m->ancestry[0]);
}

static bool ancestor_match(const struct vg_proc_sel *s, const struct vg_match *m)
{
	size_t n = m->ancestry ? m->nancestry : 0;

	if (s->max_depth && n > s->max_depth)
		n = s->max_depth;
	for (size_t i = 0; i < n; i++)
		if (proc_sel_match(s, &m->ancestry[i]))
			return true;
	return false;
}

/* The effective uid: what file access and privilege checks see. */
static bool uid_match(const struct vg_uid_sel *u, const struct vg_match *m)
{
	bool in = false;

	if (!m->self.rec)
		return false;
	for (size_t i = 0; i < u->n; i++)
		in |= u->v[i] == m->self.rec->euid;
	return in != u->negate;
}

static uint32_t self_tgid(const struct vg_match *m)
{
	return m->self.rec ? m->self.rec->key.tgid : 0;
}

/* ---- environment ---- */

static bool env_has(const char *const *env, size_t n, const char *name)
{
	size_t k = strlen(name);

	for (size_t i = 0; i < n; i++)
		if (env[i] && !strncmp(env[i], name, k) && env[i][k] == '=')
			return true;
	return false;
}

/*
 * Every name present? From m->env when the caller has it, else from
 * /proc/PID/environ: only while the process is alive, and only what it was
 * started with (later setenv() is invisible). Unknown counts as absent.
 */
static bool env_present(const struct vg_strv *names, const struct vg_match *m)
{
	char path[64], *buf = NULL;
	const char **env = NULL;
	size_t n = 0, len = 0, cap = 0;
	bool ok = true;
	FILE *f;

	if (!names->n)
		return true;
	if (m->env) {
		for (size_t i = 0; i < names->n; i++)
			if (!env_has(m->env, m->nenv, names->v[i]))
				return false;
		return true;
	}
	if (!self_tgid(m))
		return false;
	snprintf(path, sizeof(path), "/proc/%u/environ", self_tgid(m));
	f = fopen(path, "re");
	if (!f)
		return false;
	for (;;) {
		size_t k;

		if (len + 4096 + 1 > cap) {
			char *nb;

			if (cap >= (1 << 20))
				break;
			cap = cap ? cap * 2 : 8192;
			nb = realloc(buf, cap);
			if (!nb)
				break;
			buf = nb;
		}
		k = fread(buf + len, 1, cap - len - 1, f);
		if (!k)
			break;
		len += k;
	}
	fclose(f);
	if (!buf)
		return false;
	buf[len] = 0;
	for (size_t off = 0; off < len; off += strlen(buf + off) + 1) {
		const char **ne = realloc(env, (n + 1) * sizeof(*env));

		if (!ne)
			break;
		env = ne;
		env[n++] = buf + off;
	}
	for (size_t i = 0; i < names->n && ok; i++)
		ok = env_has(env, n, names->v[i]);
	free(env);
	free(buf);
	return ok;
}

/* ---- the process an operation names ---- */

/* Tgid and parent of a live pid from /proc; -1 if gone. */
static int proc_status(uint32_t pid, uint32_t *tgid, uint32_t *ppid)
{
	char path[64], line[256];
	FILE *f;
	int got = 0;

	snprintf(path, sizeof(path), "/proc/%u/status", pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f) && got < 2) {
		if (!strncmp(line, "Tgid:", 5))
			got += sscanf(line + 5, "%u", tgid) == 1;
		else if (!strncmp(line, "PPid:", 5))
			got += sscanf(line + 5, "%u", ppid) == 1;
	}
	fclose(f);
	return got == 2 ? 0 : -1;
}

static uint32_t relation_of(uint32_t self, uint32_t target, const struct vg_proc *trec)
{
	uint32_t tgid = target, ppid = 0;
	bool known;

	if (!self || !target)
		return VG_REL_OTHER;
	if (target == self)
		return VG_REL_SELF;
	if (trec) { /* the record: the parent as at fork, even if reparented since */
		tgid = trec->key.tgid;
		ppid = trec->ppid;
		known = true;
	} else {
		known = proc_status(target, &tgid, &ppid) == 0;
	}
	if (!known)
		return VG_REL_OTHER; /* gone: nothing shows it was ours */
	if (tgid == self)
		return VG_REL_SELF; /* a thread of the caller */
	if (ppid == self)
		return VG_REL_CHILD;
	for (int depth = 0; depth < 64 && ppid > 1; depth++) {
		uint32_t t, p;

		if (proc_status(ppid, &t, &p))
			break;
		if (p == self)
			return VG_REL_DESCENDANT;
		ppid = p;
	}
	return VG_REL_OTHER;
}

/* pid in "/proc/<pid>/..." (0 if the path is not under a numeric /proc entry). */
static uint32_t proc_path_pid(const char *path)
{
	unsigned long v;
	char *end;

	if (!path || strncmp(path, "/proc/", 6) || path[6] < '0' || path[6] > '9')
		return 0;
	v = strtoul(path + 6, &end, 10);
	return (*end == '/' || !*end) && v < UINT32_MAX ? v : 0;
}

/* The pid a syscall names, by syscall (x86_64). */
static uint32_t syscall_target(const struct vg_match *m)
{
	if (m->target)
		return m->target->key.tgid;
	switch (m->nr) {
	case 101: /* ptrace(request, pid, ...) */
		return (uint32_t)m->args[1];
	case 62:  /* kill(pid, sig) */
	case 310: /* process_vm_readv(pid, ...) */
	case 311: /* process_vm_writev */
	case 434: /* pidfd_open(pid, flags) */
		return (int64_t)m->args[0] > 0 ? (uint32_t)m->args[0] : 0;
	case 200: /* tkill(tid, sig) */
		return (uint32_t)m->args[0];
	case 234: /* tgkill(tgid, tid, sig) */
		return (uint32_t)m->args[0];
	}
	return 0;
}

static bool relation_match(uint32_t want, const struct vg_match *m)
{
	uint32_t target;

	if (!want)
		return true;
	target = m->kind == VG_RK_SYSCALL ? syscall_target(m) : proc_path_pid(m->path);
	if (!target)
		return false; /* the operation names no process */
	return want & relation_of(self_tgid(m), target,
				  m->kind == VG_RK_SYSCALL ? m->target : NULL);
}

/* ---- exec conditions the kernel can't fully judge ---- */

/* "socket:[12345]" -> inode */
static bool read_link(const char *path, char *buf, size_t len)
{
	ssize_t n = readlink(path, buf, len - 1);

	if (n <= 0)
		return false;
	buf[n] = 0;
	return true;
}

/* The inode of what fd of pid is when it is of this kind ("socket", "pipe": /proc names
 * it "socket:[N]", "pipe:[N]"), 0 if it is something else or gone. */
static unsigned long fd_inode(uint32_t pid, int fd, const char *kind)
{
	char path[64], link[64];
	unsigned long ino = 0;
	size_t kl = strlen(kind);

	snprintf(path, sizeof(path), "/proc/%u/fd/%d", pid, fd);
	if (!read_link(path, link, sizeof(link)) || strncmp(link, kind, kl) ||
	    sscanf(link + kl, ":[%lu]", &ino) != 1)
		return 0;
	return ino;
}

static bool inode_in(uint32_t pid, const char *table, unsigned long ino)
{
	char path[64], line[512];
	bool hit = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%u/net/%s", pid, table);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (!hit && fgets(line, sizeof(line), f)) {
		unsigned long v;

		/* sl local rem st tx:rx tr:when retrnsmt uid timeout inode */
		if (sscanf(line, "%*s %*s %*s %*s %*s %*s %*s %*s %*s %lu", &v) == 1)
			hit = v == ino;
	}
	fclose(f);
	return hit;
}

/*
 * Domain of the socket at fd of pid: borrowed with pidfd_getfd (Linux 5.6,
 * root), asked with SO_DOMAIN, closed. 0 if it can't be asked, -1 if not a
 * socket.
 */
static int fd_socket_domain(uint32_t pid, int fd)
{
	int pfd, sfd, dom = 0;
	socklen_t len = sizeof(dom);

	pfd = syscall(SYS_pidfd_open, pid, 0);
	if (pfd < 0)
		return 0;
	sfd = syscall(SYS_pidfd_getfd, pfd, fd, 0);
	close(pfd);
	if (sfd < 0)
		return 0;
	if (getsockopt(sfd, SOL_SOCKET, SO_DOMAIN, &dom, &len))
		dom = -1;
	close(sfd);
	return dom;
}

/*
 * A program taking its program from stdin: nothing after argv[0] but options, none of them
 * -c (sh, bash -i, sh -s, python3 -, perl). A shell given a script or a command (a CI
 * step's bash -e script, sshd's sh -c) is not.
 */
static bool program_from_stdin(const struct vg_match_proc *p)
{
	for (size_t i = 1; p->argv && i < p->argc; i++) {
		const char *a = p->argv[i];

		if (a[0] != '-' || (a[1] != '-' && strchr(a + 1, 'c')))
			return false;
	}
	return true;
}

/*
 * A pipe relay: pid's stdin is a pipe (or a unix socket: socat's socketpair) whose other
 * end its parent ppid holds, and the parent holds an inet socket — ncat -e, socat EXEC,
 * a Go implant's exec.Cmd with the connection as Stdin/Stdout copy between the two. Every
 * fd of the parent is looked at (only for a program on pipes taking its commands from
 * stdin: rare).
 */
static bool parent_relays(uint32_t pid, uint32_t ppid)
{
	unsigned long pipe = fd_inode(pid, 0, "pipe"), ino;
	bool unix_in = !pipe && fd_inode(pid, 0, "socket") && fd_socket_domain(pid, 0) == AF_UNIX;
	bool holds = false, inet = false;
	char path[300], link[64];
	struct dirent *e;
	DIR *d;

	if (!pipe && !unix_in)
		return false;
	snprintf(path, sizeof(path), "/proc/%u/fd", ppid);
	d = opendir(path);
	if (!d)
		return false;
	while (!(holds && inet) && (e = readdir(d))) {
		int dom;

		snprintf(path, sizeof(path), "/proc/%u/fd/%s", ppid, e->d_name);
		if (e->d_name[0] < '0' || e->d_name[0] > '9' || !read_link(path, link, sizeof(link)))
			continue;
		if (sscanf(link, "pipe:[%lu]", &ino) == 1) {
			holds |= ino == pipe;
			continue;
		}
		if (strncmp(link, "socket:", 7))
			continue;
		dom = fd_socket_domain(ppid, atoi(e->d_name));
		if (dom == AF_INET || dom == AF_INET6)
			inet = true;
		else if (dom == AF_UNIX && unix_in)
			holds = true; /* a socket pair's peer is not named in /proc: any will do */
	}
	closedir(d);
	return holds && inet;
}

/*
 * The kernel sees "stdin or stdout is a socket"; that includes the AF_UNIX
 * stream journald gives every service. A reverse shell talks to the network:
 * confirm that stdin or stdout is an inet socket — the process's own, or, when
 * the kernel saw a pty relay (VG_XC_VIA_PTY: the shell on a pseudo-terminal, the
 * socket on its parent's stdio), the parent's; or, for a program taking its commands
 * from stdin, a parent relaying its pipes to an inet socket (parent_relays). A process
 * already gone can't be confirmed (a reverse shell lives as long as it is used).
 */
static bool stdio_is_inet(const struct vg_match *m)
{
	static const char *const tables[] = { "tcp", "tcp6", "udp", "udp6" };
	bool relay = m->conds_known && (m->conds & (1u << VG_XC_VIA_PTY));
	uint32_t pid = self_tgid(m);

	if (relay)
		pid = m->nancestry > 0 && m->ancestry && m->ancestry[0].rec ?
			      m->ancestry[0].rec->key.tgid : 0;

	for (int fd = 0; pid && fd <= 1; fd++) {
		unsigned long ino;
		int dom;

		if (!(ino = fd_inode(pid, fd, "socket")))
			continue;
		dom = fd_socket_domain(pid, fd);
		if (dom == AF_INET || dom == AF_INET6)
			return true;
		if (dom)
			continue;
		/* no pidfd_getfd here: look the inode up in the process's own netns */
		for (int t = 0; t < 4; t++)
			if (inode_in(pid, tables[t], ino))
				return true;
	}
	/* not a network socket of its own: a parent relaying pipes (or a unix socket pair)
	 * to one, for a program that takes its commands from them */
	if (!relay && m->nancestry > 0 && m->ancestry && m->ancestry[0].rec &&
	    program_from_stdin(&m->self))
		return parent_relays(pid, m->ancestry[0].rec->key.tgid);
	return false;
}

/* ---- stdout_pipe_to: who reads the pipe on our stdout ---- */

/* /proc/PID/cmdline, NUL-separated, into buf; its length (0 if gone or empty) */
static size_t read_cmdline(uint32_t pid, char *buf, size_t len)
{
	char path[64];
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%u/cmdline", pid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	n = fread(buf, 1, len - 1, f);
	fclose(f);
	buf[n] = 0;
	return n;
}

/*
 * The other end of a pipeline found: its program as it is now (after its
 * exec). The shell forks every part of a pipeline and each child then execs:
 * a peer still showing its parent's program and command line has not exec'd
 * yet; it gets a moment (at most 100 ms, only in this case). One that still
 * has not is a subshell of the parent (echo x | ..., a while loop) or slow:
 * undecided, left to the records (a subshell never execs there either).
 */
enum peer_res { PEER_NO, PEER_YES, PEER_UNKNOWN };

static enum peer_res pipe_peer_match(const struct vg_proc_sel *sel, uint32_t peer, uint32_t ppid)
{
	char path[64], exe[VG_STR_MAX], pexe[VG_STR_MAX], *cmd, *pcmd;
	const char *argv[64];
	size_t n = 0, pn = 0, argc = 0;
	enum peer_res ok = PEER_UNKNOWN;
	bool execd = false;

	cmd = malloc(CMDLINE_MAX);
	pcmd = malloc(CMDLINE_MAX);
	if (!cmd || !pcmd)
		goto out;
	snprintf(path, sizeof(path), "/proc/%u/exe", ppid);
	if (!read_link(path, pexe, sizeof(pexe)))
		pexe[0] = 0;
	pn = read_cmdline(ppid, pcmd, CMDLINE_MAX);
	for (int tries = 0; tries < 50 && !execd; tries++) {
		if (tries)
			usleep(2000);
		snprintf(path, sizeof(path), "/proc/%u/exe", peer);
		if (!read_link(path, exe, sizeof(exe)))
			goto out;
		n = read_cmdline(peer, cmd, CMDLINE_MAX);
		execd = !pexe[0] || strcmp(exe, pexe) || n != pn || memcmp(cmd, pcmd, n);
	}
	if (!execd)
		goto out;
	for (size_t off = 0; off < n && argc < 64; off += strlen(cmd + off) + 1)
		argv[argc++] = cmd + off;
	{
		struct vg_match_proc rp = { .exe = exe, .argv = argv, .argc = argc };

		ok = proc_sel_match(sel, &rp) ? PEER_YES : PEER_NO;
	}
out:
	free(cmd);
	free(pcmd);
	return ok;
}

/*
 * The pipeline in vigil's records. Every exec records the pipes on fds 0 and
 * 1 (VG_PF_STDIO_SEEN): the neighbour is the process whose stdin_pipe is our
 * stdout_pipe (a reader: stdout_pipe_to) or whose stdout_pipe is our
 * stdin_pipe (a writer: stdin_pipe_from), whoever its parent, alive or
 * exited, and that exec'd a program (a subshell never does) matching sel.
 *
 * A process recorded without them (from the start-up snapshot) falls back to
 * timing: a process the same parent started right after (reader) or right
 * before (writer) this one, alive at the same time. A shell forks a
 * pipeline's commands left to right without waiting; commands run one after
 * the other never overlap.
 */
struct nb_arg {
	const struct vg_proc_sel *sel;
	const struct vg_proc *self;
	bool reader;  /* looking for the reader of our stdout (else the writer of our stdin) */
	bool by_pipe; /* our pipes were recorded: match on them */
};

static bool nb_keep(void *arg, const struct vg_proc *r)
{
	const struct nb_arg *a = arg;
	const struct vg_proc *s = a->self;

	if (!r->exec_ns)
		return false;
	if (a->by_pipe)
		return (r->flags & VG_PF_STDIO_SEEN) &&
		       (a->reader ? r->stdin_pipe == s->stdout_pipe : r->stdout_pipe == s->stdin_pipe);
	if (r->parent.tgid != s->parent.tgid || r->parent.start_ns != s->parent.start_ns)
		return false;
	if (a->reader ? r->key.start_ns < s->key.start_ns : r->key.start_ns > s->key.start_ns)
		return false;
	return !((s->exit_ns && r->key.start_ns > s->exit_ns) ||
		 (r->exit_ns && s->key.start_ns > r->exit_ns));
}

static bool nb_pred(void *arg, const struct vg_match_proc *p)
{
	const struct nb_arg *a = arg;

	return proc_sel_match(a->sel, p);
}

/*
 * The other end may not have exec'd yet when the candidate is handled (the
 * writer of a short payload can exit before the shell has even forked the
 * reader), and several processes may read one pipe in turn ({ cmd; sh; }):
 * with no match on a pipe, "no" is not final and the caller may judge again
 * later (m->undecided). A stdout that is not a pipe is decided at once.
 */
static bool pipe_peer_records(const struct vg_proc_sel *sel, const struct vg_match *m,
			      int mine)
{
	const struct vg_proc *self = m->self.rec;
	struct nb_arg a = { .sel = sel, .self = self, .reader = mine == 1 };

	if (!m->procs || !self)
		return false;
	a.by_pipe = self->flags & VG_PF_STDIO_SEEN;
	if (a.by_pipe && !(mine == 1 ? self->stdout_pipe : self->stdin_pipe))
		return false; /* not a pipe at exec */
	if (m->procs(m->procs_ctx, m, nb_keep, nb_pred, &a))
		return true;
	if (a.by_pipe && m->undecided)
		*m->undecided = true;
	return false;
}

/*
 * stdout_pipe_to / stdin_pipe_from: the process's fd `mine` (1: stdout, 0:
 * stdin) is a pipe, and a process holding the same pipe as fd `theirs` (the
 * next / previous command of a pipeline) matches sel. From the pipes the
 * kernel recorded at exec (pipe_peer_records); for a process recorded
 * without them, looked up in /proc when it is still alive.
 */
static bool pipe_peer(const struct vg_proc_sel *sel, const struct vg_match *m, int mine,
		      int theirs)
{
	uint32_t pid = self_tgid(m), ppid = m->self.rec ? m->self.rec->ppid : 0;
	char path[64], pipe[64], other[64];
	struct dirent *e;
	bool ok = false, decided = false;
	DIR *d;

	if (!pid)
		return false;
	if (m->self.rec && (m->self.rec->flags & VG_PF_STDIO_SEEN))
		return pipe_peer_records(sel, m, mine);
	snprintf(path, sizeof(path), "/proc/%u/fd/%d", pid, mine);
	if (!read_link(path, pipe, sizeof(pipe)))
		return pipe_peer_records(sel, m, mine); /* gone */
	if (strncmp(pipe, "pipe:", 5))
		return false;
	d = opendir("/proc");
	if (!d)
		return false;
	while (!ok && (e = readdir(d))) {
		unsigned long r;
		char *end;

		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		r = strtoul(e->d_name, &end, 10);
		if (*end || r == pid)
			continue;
		snprintf(path, sizeof(path), "/proc/%lu/fd/%d", r, theirs);
		if (read_link(path, other, sizeof(other)) && !strcmp(other, pipe)) {
			enum peer_res res = pipe_peer_match(sel, (uint32_t)r, ppid);

			ok = res == PEER_YES;
			decided |= res != PEER_UNKNOWN;
		}
	}
	closedir(d);
	/* no peer with a program of its own seen (gone, or not exec'd yet): the records */
	return ok || (!decided && pipe_peer_records(sel, m, mine));
}

/* ---- namespaces (setns) ---- */

/* setns's nstype flags and the /proc/PID/ns entry each one changes */
static const struct {
	uint64_t flag;
	const char *name;
} ns_types[] = {
	{ 0x00020000, "mnt" },  { 0x02000000, "cgroup" }, { 0x04000000, "uts" },
	{ 0x08000000, "ipc" },  { 0x10000000, "user" },   { 0x20000000, "pid_for_children" },
	{ 0x40000000, "net" },  { 0x00000080, "time_for_children" },
};

/* "net:[4026531833]" -> inode; pid 0: vigil itself. */
static bool ns_inode(uint32_t pid, const char *name, unsigned long *ino)
{
	char path[64], link[64];
	ssize_t n;

	if (pid)
		snprintf(path, sizeof(path), "/proc/%u/ns/%s", pid, name);
	else
		snprintf(path, sizeof(path), "/proc/self/ns/%s", name);
	n = readlink(path, link, sizeof(link) - 1);
	if (n <= 0)
		return false;
	link[n] = 0;
	return sscanf(link, "%*[a-z_]:[%lu]", ino) == 1;
}

/* The namespace of a type the record holds (as at fork: before any setns); 0: unknown. */
static unsigned long rec_ns(const struct vg_proc *r, const char *name)
{
	if (!r)
		return 0;
	if (!strcmp(name, "mnt"))
		return r->ns_mnt;
	if (!strcmp(name, "net"))
		return r->ns_net;
	if (!strcmp(name, "uts"))
		return r->ns_uts;
	if (!strcmp(name, "ipc"))
		return r->ns_ipc;
	if (!strcmp(name, "cgroup"))
		return r->ns_cgroup;
	if (!strcmp(name, "user"))
		return r->ns_user;
	if (!strcmp(name, "pid_for_children"))
		return r->ns_pid;
	return 0;
}

/*
 * host_namespace: the setns succeeded and left the caller in one of the
 * host's namespaces (the ones vigil runs in) of a type it asked for (any type
 * for nstype 0, a pidfd joining several), while it was not in that namespace
 * when it started (its record, as at fork; else its parent's now): a process
 * that came from a container (or any other namespace) and joined the host's.
 * Where it is now is read in /proc: a caller already gone can't be confirmed
 * and does not match.
 */
static bool joined_host_ns(const struct vg_match *m)
{
	uint32_t pid = self_tgid(m), ppid = m->self.rec ? m->self.rec->ppid : 0;
	uint64_t flags = m->args[1];

	if (m->ret != 0 || !pid || !ppid)
		return false;
	for (size_t i = 0; i < sizeof(ns_types) / sizeof(ns_types[0]); i++) {
		unsigned long host, mine, parent;

		if (flags && !(flags & ns_types[i].flag))
			continue;
		if (!ns_inode(0, ns_types[i].name, &host) ||
		    !ns_inode(pid, ns_types[i].name, &mine) || mine != host)
			continue;
		/* where it came from: its own record (as at fork), else its parent now */
		parent = rec_ns(m->self.rec, ns_types[i].name);
		if (parent ? parent != host
			   : ns_inode(ppid, ns_types[i].name, &parent) && parent != host)
			return true;
	}
	return false;
}

/* ---- exceptions ---- */

static const char *object_path(const struct vg_match *m)
{
	switch (m->kind) {
	case VG_RK_FILE:
		return m->path;
	case VG_RK_SYSCALL:
		return m->str;
	default:
		return m->self.exe;
	}
}

static bool in_container(const struct vg_match *m)
{
	return m->container && *m->container;
}

static bool except_match(const struct vg_except *x, const struct vg_match *m)
{
	if (x->exe.set && !vg_path_sel_match(&x->exe, m->self.exe))
		return false;
	if (x->argv.set && !argv_sel_match(&x->argv, &m->self))
		return false;
	if (x->parent.set && !parent_match(&x->parent, m))
		return false;
	if (x->ancestor.set && !ancestor_match(&x->ancestor, m))
		return false;
	if (x->path.set && !vg_path_sel_match(&x->path, object_path(m)))
		return false;
	if (x->uid.set && !uid_match(&x->uid, m))
		return false;
	if (x->container >= 0 && in_container(m) != (bool)x->container)
		return false;
	if (x->env_present.n && !env_present(&x->env_present, m))
		return false;
	return true;
}

/* ---- per kind ---- */

/* memfd: an anonymous or unlinked executable, as the record and the path show it */
static bool exe_is_fileless(const struct vg_match *m)
{
	const char *exe = m->self.exe ? m->self.exe : "";

	return (m->self.rec && (m->self.rec->flags & VG_PF_EXE_DELETED)) ||
	       !strncmp(exe, "/memfd:", 7) || ends_with(exe, " (deleted)");
}

static bool conds_hold(uint32_t want, const struct vg_match *m)
{
	if (m->conds_known && (m->conds & want) != want)
		return false;
	if ((want & (1 << VG_XC_MEMFD)) && !exe_is_fileless(m))
		return false;
	/* the kernel sees any socket; a reverse shell's is a network one */
	if ((want & (1 << VG_XC_STDIO_SOCK)) && !stdio_is_inet(m))
		return false;
	return true;
}

static bool exec_match(const struct vg_rule_spec *s, const struct vg_match *m)
{
	if (s->exe.set && !vg_path_sel_match(&s->exe, m->self.exe))
		return false;
	if (s->argv.set && !argv_sel_match(&s->argv, &m->self))
		return false;
	if (s->parent.set && !parent_match(&s->parent, m))
		return false;
	if (s->ancestor.set && !ancestor_match(&s->ancestor, m))
		return false;
	if (s->conds && !conds_hold(s->conds, m))
		return false;
	if (s->pipe_to.set && !pipe_peer(&s->pipe_to, m, 1, 0))
		return false;
	if (s->pipe_from.set && !pipe_peer(&s->pipe_from, m, 0, 1))
		return false;
	return true;
}

/* lstat() type of the object; an object gone by now passes (unknown). */
static bool type_match(uint32_t types, const char *path)
{
	struct stat st;
	uint32_t t;

	if (!types || !path || lstat(path, &st))
		return true;
	t = S_ISREG(st.st_mode)	  ? VG_FT_FILE
	    : S_ISDIR(st.st_mode) ? VG_FT_DIR
	    : S_ISLNK(st.st_mode) ? VG_FT_SYMLINK
				  : VG_FT_OTHER;
	return types & t;
}

/* The operation's file is the executable of the process doing it. */
static bool is_own_exe(const struct vg_match *m)
{
	struct vg_path_sel one = { .set = true };
	char *p = (char *)m->path;

	if (!m->path || !m->self.exe || !*m->self.exe)
		return false;
	if (!strcmp(m->path, m->self.exe))
		return true;
	/* the exe may already read "<path> (deleted)" */
	one.exact = (struct vg_strv){ .v = &p, .n = 1 };
	return vg_path_sel_match(&one, m->self.exe);
}

static bool file_match(const struct vg_rule_spec *s, const struct vg_match *m)
{
	if ((m->actions & VG_FA_FAILED) && !s->include_failed)
		return false;
	if (!(m->actions & s->actions))
		return false;
	if (!vg_path_sel_match(&s->path, m->path))
		return false;
	if (s->mode_bits && !(m->mode & s->mode_bits))
		return false;
	if (s->own_exe && !is_own_exe(m))
		return false;
	if (s->exe.set && !vg_path_sel_match(&s->exe, m->self.exe))
		return false;
	if (s->types && !type_match(s->types, m->path))
		return false;
	return true;
}

static bool args_match(const struct vg_rule_spec *s, const struct vg_match *m)
{
	for (size_t i = 0; i < s->nargs; i++) {
		const struct vg_arg_cond *a = &s->args[i];
		uint64_t v = m->args[a->arg];
		bool hit = false;

		for (size_t j = 0; j < a->n && !hit; j++)
			hit = a->op == VG_ARG_MASK ? (v & a->v[j]) != 0 : v == a->v[j];
		if (hit == (a->op == VG_ARG_NOT_IN))
			return false;
	}
	return true;
}

static bool syscall_match(const struct vg_rule_spec *s, const struct vg_match *m)
{
	bool nr = false;

	for (size_t i = 0; i < s->nnrs && !nr; i++)
		nr = s->nrs[i] == m->nr;
	if (!nr || !args_match(s, m))
		return false;
	if (s->host_ns && !joined_host_ns(m))
		return false;
	if (s->path.set && !vg_path_sel_match(&s->path, m->str))
		return false;
	if (s->exe.set && !vg_path_sel_match(&s->exe, m->self.exe))
		return false;
	return true;
}

bool vg_rule_matches(const struct vg_rule *r, const struct vg_match *m)
{
	const struct vg_rule_spec *s = r ? r->priv : NULL;

	if (!s || !m || !r->enabled || r->kind != m->kind)
		return false;
	switch (r->kind) {
	case VG_RK_EXEC:
		if (!exec_match(s, m))
			return false;
		break;
	case VG_RK_FILE:
		if (!file_match(s, m))
			return false;
		break;
	case VG_RK_SYSCALL:
		if (!syscall_match(s, m))
			return false;
		break;
	default:
		return false;
	}
	if (s->uid.set && !uid_match(&s->uid, m))
		return false;
	if (s->relation && !relation_match(s->relation, m))
		return false;
	if (s->env_present.n && !env_present(&s->env_present, m))
		return false;
	for (size_t i = 0; i < s->nexcept; i++)
		if (except_match(&s->except[i], m))
			return false;
	return true;
}
