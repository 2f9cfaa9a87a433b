// SPDX-License-Identifier: GPL-2.0
/*
 * bench/hooks — attach the programs of build/bench/hooks.bpf.o (bench/hooks.bpf.c: each does
 * nothing) at the cgroup v2 root given and on their tracepoints, print "attached", wait for
 * a signal. The bench monitor `hooks` (bench/monitors/hooks.sh).
 *
 *   hooks OBJECT CGROUP_DIR [PROGRAM,...]
 *
 * With a list, only the programs named (to take the hooks' cost apart).
 */
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void on_signal(int sig) { (void)sig; }

/* Is `name` in the comma-separated list (NULL: every program is)? */
static int wanted(const char *list, const char *name)
{
	size_t n = strlen(name);

	for (const char *at = list; at && (at = strstr(at, name)); at += n)
		if ((at == list || at[-1] == ',') && (at[n] == ',' || at[n] == 0))
			return 1;
	return list == NULL;
}

int main(int argc, char **argv)
{
	const char *only = argc == 4 ? argv[3] : NULL;
	struct bpf_object *obj;
	struct bpf_program *p;
	int cg, n = 0;

	if (argc != 3 && argc != 4) {
		fprintf(stderr, "usage: hooks OBJECT CGROUP_DIR [PROGRAM,...]\n");
		return 2;
	}
	obj = bpf_object__open_file(argv[1], NULL);
	if (!obj) {
		fprintf(stderr, "hooks: cannot open %s\n", argv[1]);
		return 1;
	}
	bpf_object__for_each_program(p, obj)
		bpf_program__set_autoload(p, wanted(only, bpf_program__name(p)));
	if (bpf_object__load(obj)) {
		fprintf(stderr, "hooks: cannot load %s\n", argv[1]);
		return 1;
	}
	cg = open(argv[2], O_RDONLY | O_DIRECTORY);
	if (cg < 0) {
		perror(argv[2]);
		return 1;
	}
	bpf_object__for_each_program(p, obj) {
		const char *sec = bpf_program__section_name(p);
		struct bpf_link *l;

		if (!bpf_program__autoload(p))
			continue;
		l = strncmp(sec, "cgroup", 6) == 0 ? bpf_program__attach_cgroup(p, cg)
						   : bpf_program__attach(p);
		if (!l) {
			fprintf(stderr, "hooks: cannot attach %s (%s)\n", bpf_program__name(p), sec);
			return 1;
		}
		n++;
	}
	printf("attached %d\n", n);
	fflush(stdout);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	pause();
	return 0;
}
