// SPDX-License-Identifier: GPL-2.0
/* The subcommands: argument parsing, a request to the daemon, rendering. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "api/api.h"
#include "cli/cli.h"
#include "cli/table.h"
#include "daemon/daemon.h"
#include "query/query.h"
#include "sensor/probe.h"
#include "state/filetab.h"
#include "util/log.h"
#include "util/timefmt.h"

static const char *socket_path(void)
{
	const char *s = getenv("VIGIL_SOCKET");

	return s && *s ? s : VG_SOCKET_PATH;
}

static int __attribute__((format(printf, 2, 3))) usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "vigil %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'vigil %s --help'.\n", cmd);
	return VG_EXIT_USAGE;
}

static int parse_u64(const char *s, uint64_t *v, uint64_t min, uint64_t max)
{
	char *end;
	unsigned long long n;

	errno = 0;
	n = strtoull(s, &end, 10);
	if (errno || end == s || *end || n < min || n > max || *s == '-')
		return -EINVAL;
	*v = n;
	return 0;
}

static void print_json(struct json_object *o)
{
	puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
						       JSON_C_TO_STRING_NOSLASHESCAPE));
}

/* Send a request; on failure print why and return the exit code. */
static int call(struct json_object *req, struct json_object **res)
{
	char err[512] = "";
	int rc = vg_api_call(socket_path(), req, res, err, sizeof(err));

	json_object_put(req);
	if (rc == 0)
		return 0;
	vg_err("%s", err);
	return rc == -EINVAL ? VG_EXIT_FAIL : VG_EXIT_NODAEMON;
}

/* ---- rendering helpers ---- */

static const char *jstr(struct json_object *o, const char *k)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, k, &v) || !v)
		return NULL;
	return json_object_get_string(v);
}

static bool jhas(struct json_object *o, const char *k)
{
	struct json_object *v;

	return json_object_object_get_ex(o, k, &v) && v;
}

/* "2026-11-27T01:16:49.123456789Z" -> "01:16:49.123" */
static void clock_of(const char *rfc, char *buf, size_t len)
{
	if (!rfc || strlen(rfc) < 23) {
		snprintf(buf, len, "-");
		return;
	}
	snprintf(buf, len, "%.12s", rfc + 11);
}

static void lifetime(struct json_object *p, char *buf, size_t len)
{
	uint64_t s, e;

	if (!jhas(p, "exit_time")) {
		snprintf(buf, len, "alive");
		return;
	}
	if (vg_parse_rfc3339(jstr(p, "start_time"), &s) || vg_parse_rfc3339(jstr(p, "exit_time"), &e) ||
	    e < s) {
		snprintf(buf, len, "exited");
		return;
	}
	vg_fmt_duration(e - s, buf, len);
}

static void exit_of(struct json_object *p, char *buf, size_t len)
{
	if (jhas(p, "exit_signal"))
		snprintf(buf, len, "sig %s", jstr(p, "exit_signal"));
	else if (jhas(p, "exit_code"))
		snprintf(buf, len, "%s", jstr(p, "exit_code"));
	else
		snprintf(buf, len, jhas(p, "exit_time") ? "?" : "");
}

static void argv_of(struct json_object *p, char *buf, size_t len)
{
	struct json_object *a;
	size_t off = 0;

	buf[0] = 0;
	if (!json_object_object_get_ex(p, "argv", &a) || !a)
		return;
	for (size_t i = 0; i < json_object_array_length(a) && off + 1 < len; i++)
		off += snprintf(buf + off, len - off, "%s%s", i ? " " : "",
				json_object_get_string(json_object_array_get_idx(a, i)));
	if (off >= len - 1 && len > 4)
		strcpy(buf + len - 4, "...");
}

static void render_procs(struct json_object *arr, bool tree)
{
	static const char *const hdr[] = { "PID", "PPID", "START", "LIFETIME", "EXIT", "UID",
					   "EXE", "ARGV" };
	struct vg_table *t = vg_table_new(8, hdr);
	size_t n = json_object_array_length(arr);

	for (size_t i = 0; i < n; i++) {
		struct json_object *p = json_object_array_get_idx(arr, i);
		char start[32], life[32], ex[32], exe[VG_STR_MAX + 128], argv[512];
		struct json_object *d;
		int depth = 0;

		if (jhas(p, "missing")) {
			snprintf(exe, sizeof(exe), "(not in vigil's table: aged out or never seen)");
			vg_table_row(t, (const char *const[]){ jstr(p, "pid"), "?", "", "", "", "",
							       exe, "" });
			continue;
		}
		if (tree && json_object_object_get_ex(p, "depth", &d))
			depth = json_object_get_int(d);
		clock_of(jstr(p, "start_time"), start, sizeof(start));
		lifetime(p, life, sizeof(life));
		exit_of(p, ex, sizeof(ex));
		argv_of(p, argv, sizeof(argv));
		snprintf(exe, sizeof(exe), "%*s%s%s%s", depth > 0 ? (depth - 1) * 3 : 0, "",
			 depth > 0 ? "└─ " : "",
			 jhas(p, "exe") ? jstr(p, "exe") : jstr(p, "comm"),
			 json_object_get_boolean(json_object_object_get(p, "from_snapshot")) ? " *" : "");
		vg_table_row(t, (const char *const[]){ jstr(p, "pid"), jstr(p, "ppid"), start, life,
						       ex, jstr(p, "uid"), exe, argv });
	}
	vg_table_print(t, stdout);
	vg_table_free(t);
}

/* "read,write" from a JSON array of names. */
static void join_names(struct json_object *a, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = 0;
	for (size_t i = 0; a && i < json_object_array_length(a) && off + 1 < len; i++)
		off += snprintf(buf + off, len - off, "%s%s", i ? "," : "",
				json_object_get_string(json_object_array_get_idx(a, i)));
}

static void render_files(struct json_object *arr)
{
	static const char *const hdr[] = { "PID", "EXE", "ACTIONS", "COUNT", "FIRST", "LAST",
					   "PATH" };
	struct vg_table *t = vg_table_new(7, hdr);
	size_t n = json_object_array_length(arr);

	for (size_t i = 0; i < n; i++) {
		struct json_object *f = json_object_array_get_idx(arr, i);
		struct json_object *p = json_object_object_get(f, "process");
		struct json_object *flags = json_object_object_get(f, "flags");
		const char *exe = jstr(p, "exe"), *base;
		char acts[256], first[32], last[32], path[VG_STR_MAX + 64], fl[64];

		base = exe ? strrchr(exe, '/') : NULL;
		base = base ? base + 1 : exe ? exe : "?";
		join_names(json_object_object_get(f, "actions"), acts, sizeof(acts));
		clock_of(jstr(f, "first_time"), first, sizeof(first));
		clock_of(jstr(f, "last_time"), last, sizeof(last));
		join_names(flags, fl, sizeof(fl));
		snprintf(path, sizeof(path), "%s%s%s%s", jhas(f, "path") ? jstr(f, "path") : "?",
			 fl[0] ? " (" : "", fl, fl[0] ? ")" : "");
		vg_table_row(t, (const char *const[]){ jstr(p, "pid"), base, acts, jstr(f, "count"),
						       first, last, path });
	}
	vg_table_print(t, stdout);
	vg_table_free(t);
}

/* ---- network ---- */

static void human_bytes(uint64_t b, char *buf, size_t len)
{
	if (b < 10000)
		snprintf(buf, len, "%llu", (unsigned long long)b);
	else if (b < 10000ULL * 1024)
		snprintf(buf, len, "%.1fK", b / 1024.0);
	else if (b < 10000ULL * 1024 * 1024)
		snprintf(buf, len, "%.1fM", b / 1048576.0);
	else
		snprintf(buf, len, "%.1fG", b / 1073741824.0);
}

/* Indentation by lineage depth relative to the shallowest row, the process shown once. */
static size_t lineage_len(struct json_object *row)
{
	struct json_object *l = json_object_object_get(row, "lineage");

	return l ? json_object_array_length(l) : 0;
}

static void proc_cell(struct json_object *row, size_t base, const char **last_id, char *buf,
		      size_t len, const char **pid)
{
	struct json_object *p = json_object_object_get(row, "process");
	const char *id = jhas(p, "id") ? jstr(p, "id") : "(no process)";
	const char *exe = jhas(p, "exe") ? jstr(p, "exe") : jhas(p, "comm") ? jstr(p, "comm") : "?";
	size_t depth = lineage_len(row) - base;

	if (*last_id && !strcmp(*last_id, id)) {
		buf[0] = 0;
		*pid = "";
		return;
	}
	*last_id = id;
	*pid = jstr(p, "pid");
	snprintf(buf, len, "%*s%s%s%s", depth > 0 ? (int)(depth - 1) * 3 : 0, "",
		 depth > 0 ? "└─ " : "", exe,
		 json_object_get_boolean(json_object_object_get(p, "exited")) ? " (exited)" : "");
}

static size_t min_lineage(struct json_object *arr)
{
	size_t n = json_object_array_length(arr), m = (size_t)-1;

	for (size_t i = 0; i < n; i++) {
		size_t l = lineage_len(json_object_array_get_idx(arr, i));

		m = l < m ? l : m;
	}
	return n ? m : 0;
}

static void render_flows(struct json_object *arr)
{
	static const char *const hdr[] = { "PID", "PROCESS", "PROTO", "LOCAL", "REMOTE", "INIT",
					   "STATE", "TX", "RX", "LAST", "REMOTE NAMES" };
	struct vg_table *t = vg_table_new(11, hdr);
	size_t n = json_object_array_length(arr), base = min_lineage(arr);
	const char *last_id = NULL;

	for (size_t i = 0; i < n; i++) {
		struct json_object *f = json_object_array_get_idx(arr, i);
		char proc[512], local[96], remote[96], tx[48], rx[48], last[32], names[512];
		char bt[16], br[16];
		const char *pid;
		bool v6 = json_object_get_int(json_object_object_get(f, "ip_version")) == 6;

		proc_cell(f, base, &last_id, proc, sizeof(proc), &pid);
		snprintf(local, sizeof(local), v6 ? "[%s]:%s" : "%s:%s", jstr(f, "local_addr"),
			 jstr(f, "local_port"));
		if (jhas(f, "remote_addr"))
			snprintf(remote, sizeof(remote), v6 ? "[%s]:%s" : "%s:%s",
				 jstr(f, "remote_addr"), jstr(f, "remote_port"));
		else
			snprintf(remote, sizeof(remote), "*"); /* a listener's handshakes */
		human_bytes(json_object_get_uint64(json_object_object_get(f, "tx_bytes")), bt,
			    sizeof(bt));
		human_bytes(json_object_get_uint64(json_object_object_get(f, "rx_bytes")), br,
			    sizeof(br));
		snprintf(tx, sizeof(tx), "%s/%s", bt, jstr(f, "tx_packets"));
		snprintf(rx, sizeof(rx), "%s/%s", br, jstr(f, "rx_packets"));
		clock_of(jstr(f, "last_time"), last, sizeof(last));
		join_names(json_object_object_get(f, "remote_names"), names, sizeof(names));
		vg_table_row(t, (const char *const[]){ pid, proc, jstr(f, "proto"), local, remote,
						       jstr(f, "initiator"), jstr(f, "state"), tx, rx,
						       last, names });
	}
	vg_table_print(t, stdout);
	vg_table_free(t);
	printf("(TX/RX: payload bytes/packets)\n");
}

static void render_dns(struct json_object *arr)
{
	static const char *const hdr[] = { "PID", "PROCESS", "TYPE", "QUERIES", "RCODE", "LAST",
					   "NAME", "ADDRESSES" };
	struct vg_table *t = vg_table_new(8, hdr);
	size_t n = json_object_array_length(arr), base = min_lineage(arr);
	const char *last_id = NULL;

	for (size_t i = 0; i < n; i++) {
		struct json_object *d = json_object_array_get_idx(arr, i);
		struct json_object *a = json_object_object_get(d, "addresses");
		char proc[512], last[32], addrs[512];
		const char *pid;
		size_t off = 0;

		proc_cell(d, base, &last_id, proc, sizeof(proc), &pid);
		clock_of(jstr(d, "last_time"), last, sizeof(last));
		addrs[0] = 0;
		for (size_t j = 0; a && j < json_object_array_length(a) && off + 1 < sizeof(addrs); j++)
			off += snprintf(addrs + off, sizeof(addrs) - off, "%s%s", j ? "," : "",
					jstr(json_object_array_get_idx(a, j), "addr"));
		vg_table_row(t, (const char *const[]){ pid, proc, jstr(d, "qtype"), jstr(d, "queries"),
						       jhas(d, "rcode") ? jstr(d, "rcode") : "-", last,
						       jhas(d, "name") ? jstr(d, "name") : "?", addrs });
	}
	vg_table_print(t, stdout);
	vg_table_free(t);
}

/* ---- vigil query ---- */

static void query_help(void)
{
	puts("usage: vigil query procs    [filters] [--json]\n"
	     "       vigil query ancestry PID[@START_NS] [--json]\n"
	     "       vigil query tree     PID[@START_NS] [--depth N] [--json]\n"
	     "       vigil query files    [--pid PID[@START_NS] [--tree]] [filters] [--json]\n"
	     "       vigil query flows    [--pid PID[@START_NS] [--tree]] [--exe X] [--since DUR]\n"
	     "                            [--domain NAME] [--json]\n"
	     "       vigil query dns      [--pid PID[@START_NS] [--tree]] [--exe X] [--since DUR]\n"
	     "                            [--domain NAME] [--json]\n"
	     "\n"
	     "Answers from the kernel's process and file tables, through the running daemon.\n"
	     "Exited processes (and their files) stay queryable for the retention window\n"
	     "(vigil run --retention). A PID names its newest process; PID@START_NS (the \"id\"\n"
	     "field) names one exactly.\n"
	     "\n"
	     "procs filters:\n"
	     "  --exe PATTERN     executable path or basename, glob allowed (--exe true, --exe '/tmp/*')\n"
	     "  --comm PATTERN    kernel comm, glob allowed\n"
	     "  --argv TEXT       an argument contains TEXT\n"
	     "  --pid N, --ppid N, --uid N\n"
	     "  --cgroup PREFIX   cgroup v2 path prefix\n"
	     "  --exited | --alive\n"
	     "  --since DUR       alive, or exited within DUR (5m, 30s, 1h)\n"
	     "  --limit N         the newest N matches\n"
	     "\n"
	     "files: one row per (process, file): what it did (ACTIONS), how often, first/last time.\n"
	     "  --pid N[@START]   that process's files; with --tree, its descendants' too\n"
	     "  --exe PATTERN     processes by executable path or basename, glob allowed\n"
	     "  --path PREFIX     paths starting with PREFIX\n"
	     "  --since DUR       touched within DUR\n"
	     "  --actions LIST    any of: read write create trunc unlink rename_from rename_to\n"
	     "                    chmod chown link symlink exec mmap_exec setid utimes xattr_caps\n"
	     "                    memfd failed; \"writes\" = write,create,trunc,rename_to,link,symlink\n"
	     "  --limit N         the newest N matches\n"
	     "  Paths are resolved by the kernel (symlinks followed) for opens and calls on a\n"
	     "  descriptor; paths only named (unlink, rename, chmod by name) and failed attempts\n"
	     "  are the caller's, made absolute and normalised, and flagged (unresolved).\n"
	     "\n"
	     "flows: one row per (process, protocol, local, remote address/port), TCP and UDP,\n"
	     "  IPv4 and IPv6, loopback included; bytes are L4 payload, packets as the hooks saw\n"
	     "  them. REMOTE NAMES come from DNS answers the kernel saw for that address.\n"
	     "  Rows are grouped by process lineage; exited processes included.\n"
	     "dns: one row per (process, name, type): queries, responses, last rcode, addresses.\n"
	     "  --pid N[@START]   that process; with --tree, its descendants too\n"
	     "  --exe PATTERN     processes by executable path or basename, glob allowed\n"
	     "  --since DUR       active within DUR\n"
	     "  --domain NAME     flows to addresses NAME (or a name under it, or a CNAME on the\n"
	     "                    way) resolved to; dns: names equal to or under NAME\n"
	     "\n"
	     "examples:\n"
	     "  vigil query procs --exe true --exited\n"
	     "  vigil query ancestry 4242\n"
	     "  vigil query tree 1 --depth 2 --json\n"
	     "  vigil query files --pid 4242 --tree --actions writes   # what did this build write?\n"
	     "  vigil query files --path /etc/ --since 10m\n"
	     "  vigil query flows --pid 4242 --tree --since 5m   # what did this job talk to?\n"
	     "  vigil query flows --domain example.com\n"
	     "  vigil query dns --exe curl\n"
	     "\n"
	     "In tables, * marks processes that predate the daemon (from the start-up snapshot).\n"
	     "exit codes: 0 ok, 1 query failed, 2 usage error, 3 daemon not reachable");
}

int vg_cmd_query(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "exe", required_argument, 0, 'e' },	 { "comm", required_argument, 0, 'c' },
		{ "argv", required_argument, 0, 'a' },	 { "pid", required_argument, 0, 'p' },
		{ "ppid", required_argument, 0, 'P' },	 { "uid", required_argument, 0, 'u' },
		{ "cgroup", required_argument, 0, 'g' }, { "exited", no_argument, 0, 'x' },
		{ "alive", no_argument, 0, 'A' },	 { "since", required_argument, 0, 's' },
		{ "limit", required_argument, 0, 'l' },	 { "depth", required_argument, 0, 'd' },
		{ "json", no_argument, 0, 'j' },	 { "help", no_argument, 0, 'h' },
		{ "tree", no_argument, 0, 'T' },	 { "path", required_argument, 0, 'f' },
		{ "actions", required_argument, 0, 'F' }, { "domain", required_argument, 0, 'D' },
		{ 0 }
	};
	struct json_object *req, *res;
	const char *what;
	bool json = false, net;
	uint64_t v;
	int c, rc;

	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		query_help();
		return argc < 2 ? VG_EXIT_USAGE : 0;
	}
	what = argv[1];
	if (strcmp(what, "procs") && strcmp(what, "ancestry") && strcmp(what, "tree") &&
	    strcmp(what, "files") && strcmp(what, "flows") && strcmp(what, "dns"))
		return usage_error("query", "unknown query '%s' (procs, ancestry, tree, files, flows, "
				   "dns)", what);
	net = !strcmp(what, "flows") || !strcmp(what, "dns");
	req = json_object_new_object();
	json_object_object_add(req, "cmd", json_object_new_string(what));
	optind = 2;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		const char *key = NULL;

		switch (c) {
		case 'e': key = "exe"; break;
		case 'c': key = "comm"; break;
		case 'a': key = "argv"; break;
		case 'g': key = "cgroup"; break;
		case 'x': json_object_object_add(req, "exited", json_object_new_boolean(1)); continue;
		case 'A': json_object_object_add(req, "alive", json_object_new_boolean(1)); continue;
		case 'j': json = true; continue;
		case 'h': query_help(); json_object_put(req); return 0;
		case 'T': json_object_object_add(req, "tree", json_object_new_boolean(1)); continue;
		case 'f': key = "path"; break;
		case 'D': key = "domain"; break;
		case 'F': {
			uint32_t mask;
			char bad[64];

			if (vg_fact_parse(optarg, &mask, bad, sizeof(bad))) {
				json_object_put(req);
				return usage_error("query", "--actions: unknown action '%s'", bad);
			}
			key = "actions";
			break;
		}
		case 's':
			if (vg_parse_duration(optarg, &v)) {
				json_object_put(req);
				return usage_error("query", "--since: '%s' is not a duration (30s, 5m, 1h)", optarg);
			}
			json_object_object_add(req, "since_ns", json_object_new_int64(v));
			continue;
		case 'p':
			if (!strcmp(what, "files") || net) {
				uint32_t pid;
				uint64_t start;

				if (vg_parse_proc_ref(optarg, &pid, &start)) {
					json_object_put(req);
					return usage_error("query", "--pid: expected PID or PID@START_NS, "
							   "got '%s'", optarg);
				}
				json_object_object_add(req, "pid", json_object_new_int64(pid));
				if (start)
					json_object_object_add(req, "start_ns", json_object_new_int64(start));
				continue;
			}
			/* fall through */
		case 'P': case 'u': case 'l': case 'd': {
			static const char *const names[] = { ['p'] = "pid", ['P'] = "ppid", ['u'] = "uid",
							     ['l'] = "limit", ['d'] = "depth" };
			if (parse_u64(optarg, &v, c == 'u' ? 0 : 1, 0xffffffffULL)) {
				json_object_put(req);
				return usage_error("query", "expected a positive number, got '%s'", optarg);
			}
			json_object_object_add(req, names[c], json_object_new_int64(v));
			continue;
		}
		default:
			json_object_put(req);
			return usage_error("query", "%s", "bad option");
		}
		json_object_object_add(req, key, json_object_new_string(optarg));
	}
	if (json_object_object_get_ex(req, "domain", NULL) && !net) {
		json_object_put(req);
		return usage_error("query", "--domain is for 'query flows' and 'query dns'");
	}
	if (net && (json_object_object_get_ex(req, "path", NULL) ||
		    json_object_object_get_ex(req, "actions", NULL))) {
		json_object_put(req);
		return usage_error("query", "--path and --actions are for 'query files'");
	}
	if (!strcmp(what, "files") || net) {
		if (optind != argc) {
			json_object_put(req);
			return usage_error("query", "unexpected argument '%s' (%s takes --pid N)",
					   argv[optind], what);
		}
		if (json_object_object_get_ex(req, "tree", NULL) &&
		    !json_object_object_get_ex(req, "pid", NULL)) {
			json_object_put(req);
			return usage_error("query", "--tree needs --pid");
		}
	} else if (json_object_object_get_ex(req, "tree", NULL) ||
		   json_object_object_get_ex(req, "path", NULL) ||
		   json_object_object_get_ex(req, "actions", NULL)) {
		json_object_put(req);
		return usage_error("query", "--tree, --path and --actions are for 'query files' "
				   "(--tree also for flows and dns)");
	} else if (strcmp(what, "procs")) {
		uint32_t pid;
		uint64_t start;

		if (optind != argc - 1 || vg_parse_proc_ref(argv[optind], &pid, &start)) {
			json_object_put(req);
			return usage_error("query", "%s needs one PID or PID@START_NS", what);
		}
		json_object_object_add(req, "pid", json_object_new_int64(pid));
		if (start)
			json_object_object_add(req, "start_ns", json_object_new_int64(start));
	} else if (optind != argc) {
		json_object_put(req);
		return usage_error("query", "unexpected argument '%s'", argv[optind]);
	}
	rc = call(req, &res);
	if (rc)
		return rc;
	if (json)
		print_json(res);
	else if (!strcmp(what, "files"))
		render_files(res);
	else if (!strcmp(what, "flows"))
		render_flows(res);
	else if (!strcmp(what, "dns"))
		render_dns(res);
	else
		render_procs(res, !strcmp(what, "tree"));
	json_object_put(res);
	return 0;
}

/* ---- vigil status ---- */

static void render_detections(struct json_object *det)
{
	struct json_object *r = json_object_object_get(det, "rules");
	struct json_object *last = json_object_object_get(r, "last_reload");
	struct json_object *c = json_object_object_get(det, "counters");
	struct json_object *out = json_object_object_get(det, "output");
	struct json_object *act;

	if (!det)
		return;
	printf("\ndetections:\n");
	if (json_object_get_boolean(json_object_object_get(r, "installed")))
		printf("  rules: %s loaded (%s builtin, %s from %s), generation %s%s\n",
		       jstr(r, "loaded"), jstr(r, "builtin"), jstr(r, "from_dir"), jstr(r, "dir"),
		       jstr(r, "generation"),
		       json_object_get_boolean(json_object_object_get(r, "defaults_only")) ?
		       " — DEFAULTS ONLY: the rules directory is invalid" : "");
	else
		printf("  rules: NONE INSTALLED — no detections\n");
	printf("  last reload: %s %s — %s (%s reloads, %s rejected)\n",
	       jhas(last, "time") ? jstr(last, "time") : "-",
	       json_object_get_boolean(json_object_object_get(last, "ok")) ? "ok" : "FAILED",
	       jstr(last, "result"), jstr(r, "reloads"), jstr(r, "reload_failures"));
	json_object_object_foreach(c, k, v)
		printf("  %-26s %s\n", k, json_object_get_string(v));
	printf("  output: %s (%s), %s lines, %s rotations, %s errors\n", jstr(out, "destination"),
	       jstr(out, "format"), jstr(out, "lines"), jstr(out, "rotations"), jstr(out, "errors"));
	if (jhas(det, "avg_us_per_alert"))
		printf("  cost: %.1f us CPU per alert (%.1f ms in all)\n",
		       json_object_get_double(json_object_object_get(det, "avg_us_per_alert")),
		       json_object_get_double(json_object_object_get(det, "busy_ms")));
	act = json_object_object_get(det, "rules_activity");
	if (json_object_array_length(act)) {
		static const char *const hdr[] = { "  RULE", "CANDIDATES", "FINDINGS", "NOT MATCHED",
						   "RATE LIMITED" };
		struct vg_table *t = vg_table_new(5, hdr);

		printf("\n");
		for (size_t i = 0; i < json_object_array_length(act) && i < 10; i++) {
			struct json_object *x = json_object_array_get_idx(act, i);
			char id[128];

			snprintf(id, sizeof(id), "  %s", jstr(x, "id"));
			vg_table_row(t, (const char *const[]){ id, jstr(x, "candidates"),
							       jstr(x, "findings"), jstr(x, "not_matched"),
							       jstr(x, "rate_limited") });
		}
		vg_table_print(t, stdout);
		vg_table_free(t);
	}
}

static void render_network(struct json_object *net)
{
	struct json_object *c = json_object_object_get(net, "counters");

	if (!net)
		return;
	printf("\nnetwork: hooks at %s\n", jhas(net, "cgroup_root") ? jstr(net, "cgroup_root") : "?");
	printf("  flows %s/%s, dns questions %s/%s, dns answers %s/%s\n",
	       jstr(net, "flows"), jstr(net, "flows_max"), jstr(net, "dns_questions"),
	       jstr(net, "dns_questions_max"),
	       jstr(net, "dns_answers"), jstr(net, "dns_answers_max"));
	printf("  tcp connection slots %s/%s (%s open)\n", jstr(net, "connections"),
	       jstr(net, "connections_max"), jstr(net, "connections_open"));
	json_object_object_foreach(c, k, v)
		printf("  %-26s %s\n", k, json_object_get_string(v));
}

static void render_enforcement(struct json_object *e)
{
	if (!e)
		return;
	printf("\nenforcement: %s, tier %s, policies from %s (%s kernel rules, %s syscalls hooked)\n",
	       jstr(e, "enforce"), jstr(e, "tier"), jstr(e, "dir"), jstr(e, "kernel_rules"),
	       jstr(e, "syscalls_hooked"));
	printf("  enforced %s, audited %s, on detections %s, stale %s, reloads %s (%s failed)\n",
	       jstr(e, "enforced"), jstr(e, "audited"), jstr(e, "on_detection"), jstr(e, "stale"),
	       jstr(e, "reloads"), jstr(e, "reload_failures"));
}

static void render_status(struct json_object *s)
{
	static const char *const mh[] = { "MAP", "TYPE", "ENTRIES", "MAX", "FILL", "KERNEL MEMORY" };
	static const char *const ph[] = { "PROGRAM", "RUNS", "AVG NS", "TOTAL MS" };
	struct json_object *procs = json_object_object_get(s, "processes");
	struct json_object *ctr = json_object_object_get(s, "counters");
	struct json_object *maps = json_object_object_get(s, "maps");
	struct json_object *progs = json_object_object_get(s, "programs");
	struct vg_table *t;

	printf("vigil %s  kernel %s  tier %s  up %.0f s\n", jstr(s, "version"), jstr(s, "kernel"),
	       jstr(s, "tier"), json_object_get_double(json_object_object_get(s, "uptime_s")));
	printf("processes: %s tracked (%s alive, %s exited), capacity %s (%.1f%% full), retention %.0f s\n\n",
	       jstr(procs, "tracked"), jstr(procs, "alive"), jstr(procs, "exited"),
	       jstr(procs, "capacity"), json_object_get_double(json_object_object_get(procs, "fill_pct")),
	       json_object_get_double(json_object_object_get(s, "retention_s")));
	printf("counters:\n");
	json_object_object_foreach(ctr, k, v)
		printf("  %-26s %s\n", k, json_object_get_string(v));
	render_detections(json_object_object_get(s, "detections"));
	render_network(json_object_object_get(s, "network"));
	vg_netpolicy_render_status(json_object_object_get(s, "network_policy"));
	render_enforcement(json_object_object_get(s, "enforcement"));
	t = vg_table_new(6, mh);
	for (size_t i = 0; i < json_object_array_length(maps); i++) {
		struct json_object *m = json_object_array_get_idx(maps, i);
		char fill[16] = "-", mem[32] = "-";

		if (jhas(m, "fill_pct"))
			snprintf(fill, sizeof(fill), "%.1f%%",
				 json_object_get_double(json_object_object_get(m, "fill_pct")));
		if (jhas(m, "memlock_bytes"))
			snprintf(mem, sizeof(mem), "%.1f KiB",
				 json_object_get_int64(json_object_object_get(m, "memlock_bytes")) / 1024.0);
		vg_table_row(t, (const char *const[]){ jstr(m, "name"), jstr(m, "type"),
						       jstr(m, "entries"), jstr(m, "max_entries"), fill, mem });
	}
	printf("\n");
	vg_table_print(t, stdout);
	vg_table_free(t);
	printf("kernel memory, all maps: %.1f MiB\n\n",
	       json_object_get_int64(json_object_object_get(s, "kernel_memory_bytes")) / 1048576.0);
	t = vg_table_new(4, ph);
	for (size_t i = 0; i < json_object_array_length(progs); i++) {
		struct json_object *p = json_object_array_get_idx(progs, i);
		char avg[32] = "-", tot[32];

		if (jhas(p, "avg_ns"))
			snprintf(avg, sizeof(avg), "%.0f",
				 json_object_get_double(json_object_object_get(p, "avg_ns")));
		snprintf(tot, sizeof(tot), "%.1f",
			 json_object_get_int64(json_object_object_get(p, "run_time_ns")) / 1e6);
		vg_table_row(t, (const char *const[]){ jstr(p, "name"), jstr(p, "run_count"), avg, tot });
	}
	vg_table_print(t, stdout);
	vg_table_free(t);
	if (!json_object_get_boolean(json_object_object_get(s, "bpf_stats")))
		printf("(per-program cost not measured: run the daemon with --bpf-stats, or\n"
		       " sysctl kernel.bpf_stats_enabled=1 — it costs every BPF program two clock reads)\n");
}

int vg_cmd_status(int argc, char **argv)
{
	struct json_object *req, *res;
	bool json = argc > 1 && !strcmp(argv[1], "--json");
	int rc;

	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		puts("usage: vigil status [--json]\n\n"
		     "The running daemon's state: processes tracked (alive/exited), table fill,\n"
		     "evictions, insert failures, truncations, ring-buffer drops, kernel memory per\n"
		     "map and per-program run count and average cost (bpf_stats).");
		return 0;
	}
	if (argc > 1 && !json)
		return usage_error("status", "unexpected argument '%s'", argv[1]);
	req = json_object_new_object();
	json_object_object_add(req, "cmd", json_object_new_string("status"));
	rc = call(req, &res);
	if (rc)
		return rc;
	if (json)
		print_json(res);
	else
		render_status(res);
	json_object_put(res);
	return 0;
}

/* ---- vigil probe ---- */

int vg_cmd_probe(int argc, char **argv)
{
	struct vg_probe p;
	bool json = argc > 1 && !strcmp(argv[1], "--json");

	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		puts("usage: vigil probe [--json]\n\n"
		     "Loads tiny BPF programs to find what this kernel offers (BTF, tp_btf, ring\n"
		     "buffer, task iterator, cgroup v2 and its hooks, bpf_send_signal, fentry,\n"
		     "kprobes, BPF-LSM) and prints the enforcement tier vigil will use:\n"
		     "  lsm      BPF-LSM: operations are denied with EPERM before they happen\n"
		     "  signal   tracepoints + bpf_send_signal: the offender is killed at syscall entry\n"
		     "  observe  no in-kernel enforcement; detection only");
		return 0;
	}
	if (argc > 1 && !json)
		return usage_error("probe", "unexpected argument '%s'", argv[1]);
	if (vg_probe_run(&p)) {
		vg_err("%s", p.tier_reason[0] ? p.tier_reason : "probing needs root: sudo vigil probe");
		return VG_EXIT_FAIL;
	}
	if (json) {
		struct json_object *o = vg_probe_json(&p);

		print_json(o);
		json_object_put(o);
	} else {
		vg_probe_print(&p, stdout);
	}
	return 0;
}

/* ---- vigil run ---- */

static void run_help(void)
{
	puts("usage: vigil run [options]\n"
	     "\n"
	     "Load the sensor and run in the foreground until SIGINT/SIGTERM. Diagnostics go to\n"
	     "stderr; findings (JSON lines) to stdout. State is pinned under the state directory\n"
	     "so a restarted daemon keeps the history.\n"
	     "\n"
	     "  --trace              print one line per exec/exit (debug view)\n"
	     "  --retention DUR      keep exited processes this long (default 15m)\n"
	     "  --max-procs N        process table size (default 65536)\n"
	     "  --max-strings N      interned strings per size class (default 65536; the\n"
	     "                       short class, file paths mostly, gets 4x, the\n"
	     "                       medium one, command lines mostly, 2x)\n"
	     "  --argv-max BYTES     argv bytes kept per exec, 64..4096 (default 4096)\n"
	     "  --max-flows N        network flow table size, and TCP connection slots (the next\n"
	     "                       power of two) (default 65536; docs/network.md)\n"
	     "  --no-conn-slots      keep TCP connections' rows in the flow hash, as on kernels\n"
	     "                       without BPF compare-and-exchange (< 5.12; docs/network.md)\n"
	     "  --gc-interval DUR    how often exited processes are aged out (default 1s)\n"
	     "  --state-dir DIR      pinned state (default /sys/fs/bpf/vigil)\n"
	     "  --socket PATH        API socket (default /run/vigil/vigil.sock, or $VIGIL_SOCKET)\n"
	     "  --reset-state        discard the pinned state and start fresh\n"
	     "  --proc-snapshot      take the start-up snapshot from /proc instead of the task iterator\n"
	     "  --bpf-stats          measure each BPF program's run count and time (vigil status);\n"
	     "                       off by default: it costs every BPF program on the machine\n"
	     "                       two clock reads per run\n"
	     "\n"
	     "detections:\n"
	     "  --rules-dir DIR      rule files (*.yaml) added to the embedded defaults\n"
	     "                       (default /etc/vigil/rules.d); reloaded on SIGHUP and when a\n"
	     "                       file changes; an invalid set is rejected, the old one stays\n"
	     "  --output DEST        stdout (default) or file:PATH — findings only, one per line\n"
	     "  --format FMT         json (default, schema in docs/findings.md) or text\n"
	     "  --output-max-size S  file: rotate before PATH passes S bytes (K/M/G; default 100M)\n"
	     "  --output-keep N      file: rotated files kept, PATH.1 newest (default 5)\n"
	     "\n"
	     "enforcement (docs/policies.md):\n"
	     "  --policies DIR       RuntimePolicy files (default /etc/vigil/policies.d); reloaded\n"
	     "                       on SIGHUP and when a file changes; an invalid set is\n"
	     "                       rejected, the last good one stays\n"
	     "  --enforce on|off     off: every policy action is reported, none taken (default on)\n"
	     "network policy (docs/network-policy.md):\n"
	     "  --network-policy FILE  enforce this policy (default: /etc/vigil/network.yaml and\n"
	     "                       /etc/vigil/network.d/*.yaml if present); reloaded on SIGHUP and\n"
	     "                       when the file changes; an invalid policy is rejected, the old\n"
	     "                       one stays in force. Check it first: vigil netpolicy check FILE\n"
	     "\n"
	     "examples:\n"
	     "  sudo vigil run --trace --retention 30m\n"
	     "  sudo vigil run --format text\n"
	     "  sudo vigil run --rules-dir ./rules.d --output file:/var/log/vigil/findings.jsonl \\\n"
	     "                 --output-max-size 50M --output-keep 10\n"
	     "  sudo vigil run --network-policy /etc/vigil/network.yaml\n"
	     "  sudo kill -HUP $(pidof vigil)      # reload the rules and the network policy");
}

int vg_cmd_run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "trace", no_argument, 0, 't' },
		{ "retention", required_argument, 0, 'r' },
		{ "max-procs", required_argument, 0, 'p' },
		{ "max-strings", required_argument, 0, 'S' },
		{ "argv-max", required_argument, 0, 'a' },
		{ "gc-interval", required_argument, 0, 'g' },
		{ "state-dir", required_argument, 0, 'd' },
		{ "socket", required_argument, 0, 's' },
		{ "reset-state", no_argument, 0, 'R' },
		{ "proc-snapshot", no_argument, 0, 'P' },
		{ "rules-dir", required_argument, 0, 'D' },
		{ "output", required_argument, 0, 'o' },
		{ "format", required_argument, 0, 'f' },
		{ "output-max-size", required_argument, 0, 'M' },
		{ "output-keep", required_argument, 0, 'k' },
		{ "policies", required_argument, 0, 'Y' },
		{ "enforce", required_argument, 0, 'E' },
		{ "network-policy", required_argument, 0, 'N' },
		{ "max-flows", required_argument, 0, 'F' }, /* network */
		{ "no-conn-slots", no_argument, 0, 'C' },
		{ "bpf-stats", no_argument, 0, 'B' },
		{ "help", no_argument, 0, 'h' },
		{ 0 }
	};
	struct vg_config cfg;
	struct vg_run_opts ro;
	struct vg_output probe_out = {};
	struct stat st;
	uint64_t v;
	int c;

	vg_config_defaults(&cfg);
	vg_run_opts_defaults(&ro);
	cfg.socket_path = socket_path();
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 't': cfg.trace = true; break;
		case 'R': cfg.reset_state = true; break;
		case 'B': cfg.bpf_stats = true; break;
		case 'P': cfg.force_proc_snapshot = true; break;
		case 'C': cfg.no_conn_slots = true; break;
		case 'd': cfg.state_dir = optarg; break;
		case 's': cfg.socket_path = optarg; break;
		case 'h': run_help(); return 0;
		case 'r':
		case 'g':
			if (vg_parse_duration(optarg, &v) || v < 1000000ULL)
				return usage_error("run", "'%s' is not a duration (e.g. 90s, 15m, 2h)", optarg);
			*(c == 'r' ? &cfg.retention_ns : &cfg.gc_interval_ns) = v;
			break;
		case 'p':
			if (parse_u64(optarg, &v, 1024, 1 << 24))
				return usage_error("run", "--max-procs: expected 1024..16777216, got '%s'", optarg);
			cfg.max_procs = v;
			break;
		case 'F':
			if (parse_u64(optarg, &v, 1024, 1 << 24))
				return usage_error("run", "--max-flows: expected 1024..16777216, got '%s'", optarg);
			cfg.max_flows = v;
			break;
		case 'S':
			if (parse_u64(optarg, &v, 1024, 1 << 24))
				return usage_error("run", "--max-strings: expected 1024..16777216, got '%s'", optarg);
			cfg.max_strs = v;
			break;
		case 'a':
			if (parse_u64(optarg, &v, 64, VG_STR_MAX))
				return usage_error("run", "--argv-max: expected 64..4096, got '%s'", optarg);
			cfg.argv_max = v;
			break;
		case 'D':
			if (stat(optarg, &st) || !S_ISDIR(st.st_mode))
				return usage_error("run", "--rules-dir %s: not a directory", optarg);
			ro.rules_dir = optarg;
			ro.rules_dir_given = true;
			break;
		case 'o':
			if (vg_output_parse(&probe_out, optarg))
				return usage_error("run", "--output: expected stdout or file:PATH, got '%s'", optarg);
			free(probe_out.path);
			probe_out.path = NULL;
			ro.output = optarg;
			break;
		case 'f':
			if (vg_output_parse_format(optarg, &ro.format))
				return usage_error("run", "--format: expected json or text, got '%s'", optarg);
			break;
		case 'M':
			if (vg_output_parse_size(optarg, &v) || v < 4096)
				return usage_error("run", "--output-max-size: expected a size >= 4K (e.g. 100M), got '%s'", optarg);
			ro.output_max_size = v;
			break;
		case 'Y':
			if (stat(optarg, &st) || !S_ISDIR(st.st_mode))
				return usage_error("run", "--policies %s: not a directory", optarg);
			ro.policies_dir = optarg;
			break;
		case 'E':
			if (strcmp(optarg, "on") && strcmp(optarg, "off"))
				return usage_error("run", "--enforce: expected on or off, got '%s'", optarg);
			ro.enforce_off = !strcmp(optarg, "off");
			break;
		case 'N':
			if (stat(optarg, &st) || !S_ISREG(st.st_mode))
				return usage_error("run", "--network-policy %s: not a file", optarg);
			ro.network_policy = optarg;
			break;
		case 'k':
			if (parse_u64(optarg, &v, 0, 1000))
				return usage_error("run", "--output-keep: expected 0..1000, got '%s'", optarg);
			ro.output_keep = v;
			break;
		default:
			return usage_error("run", "%s", "bad option");
		}
	}
	if (optind != argc)
		return usage_error("run", "unexpected argument '%s'", argv[optind]);
	return vg_daemon_main(&cfg, &ro) ? VG_EXIT_FAIL : 0;
}
