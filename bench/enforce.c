// SPDX-License-Identifier: GPL-2.0
/*
 * Enforcement latency: from the offending syscall's entry to the process being
 * dead, as its parent sees it (waitpid returns). Per run, a child notes the time
 * (CLOCK_MONOTONIC, in memory shared with the parent) right before the call.
 *   enforce N sys        the child calls getppid() (a policy kills it at sys_enter)
 *   enforce N exec PATH  the child execs PATH (a policy kills it at exec / EPERM)
 *   enforce N exit       baseline: the child exits by itself at that point
 * Prints: "<mode> n=N killed=K median_us=M p99_us=P".
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>

static long long now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000000000LL + t.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	int n = argc > 2 ? atoi(argv[1]) : 0, killed = 0;
	const char *mode = argc > 2 ? argv[2] : "";
	volatile long long *t0 = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
				      -1, 0);
	long long *lat = calloc(n > 0 ? n : 1, sizeof(*lat));

	if (n <= 0 || t0 == MAP_FAILED || (strcmp(mode, "sys") && strcmp(mode, "exit") &&
					   (strcmp(mode, "exec") || argc < 4))) {
		fprintf(stderr, "usage: enforce N sys|exit|exec PATH\n");
		return 2;
	}
	for (int i = 0; i < n; i++) {
		int st;
		pid_t c = fork();

		if (c == 0) {
			char *av[] = { argv[3], NULL };

			*t0 = now();
			if (!strcmp(mode, "sys"))
				syscall(SYS_getppid);
			else if (!strcmp(mode, "exec"))
				execv(argv[3], av);
			_exit(0);
		}
		waitpid(c, &st, 0);
		lat[i] = now() - *t0;
		killed += WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL;
	}
	qsort(lat, n, sizeof(*lat), cmp);
	printf("%s n=%d killed=%d median_us=%.1f p99_us=%.1f\n", mode, n, killed, lat[n / 2] / 1e3,
	       lat[(n * 99) / 100 < n ? (n * 99) / 100 : n - 1] / 1e3);
	return 0;
}
