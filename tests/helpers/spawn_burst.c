// SPDX-License-Identifier: GPL-2.0
/*
 * spawn_burst TOTAL PARENTS PROGRAM [ARGS...]
 * PARENTS processes each fork+exec PROGRAM TOTAL/PARENTS times, one at a
 * time, and reap every child. Prints "spawned N failed M".
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/wait.h>

static int run_parent(int n, char **argv)
{
	int bad = 0;

	for (int i = 0; i < n; i++) {
		int st;
		pid_t p = fork();

		if (p == 0) {
			execv(argv[0], argv);
			_exit(127);
		}
		if (p < 0 || waitpid(p, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st))
			bad++;
	}
	return bad;
}

int main(int argc, char **argv)
{
	int total, parents, spawned = 0, failed = 0;

	if (argc < 4) {
		fprintf(stderr, "usage: spawn_burst TOTAL PARENTS PROGRAM [ARGS...]\n");
		return 2;
	}
	total = atoi(argv[1]);
	parents = atoi(argv[2]);
	for (int i = 0; i < parents; i++) {
		int n = total / parents + (i < total % parents);

		if (fork() == 0)
			_exit(run_parent(n, argv + 3) ? 1 : 0);
	}
	for (int i = 0; i < parents; i++) {
		int st;

		wait(&st);
		if (!WIFEXITED(st) || WEXITSTATUS(st))
			failed++;
	}
	spawned = total;
	printf("spawned %d failed_parents %d\n", spawned, failed);
	return failed ? 1 : 0;
}
