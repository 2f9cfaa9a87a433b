// execstorm — fork+exec storm for overhead benchmarks (bench/run).
//
//   execstorm [-n N] [-j WORKERS] [-p PATH] [-m fork|vfork|spawn]
//
// N executions of PATH (default /bin/true, no arguments) in total, split over WORKERS
// parallel parent processes (default 2). Each worker starts one child at a time (fork+execve
// by default; vfork+execve or posix_spawn with -m) and waits for it, so every exec is a full
// fork+exec+exit+wait cycle. Prints one machine-readable line on stdout:
//
//   execstorm n=20000 workers=2 seconds=4.123456 rate=4850.6 cpu=7.912 failed=0
//
// seconds is wall time; cpu is the user+system CPU time of the workers and all their children
// (getrusage RUSAGE_CHILDREN) — less sensitive than wall time to other load on the machine.
// Exit status is non-zero if any child failed to start or exited non-zero.
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

enum mode { M_SPAWN, M_FORK, M_VFORK };

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void usage(const char *argv0)
{
	fprintf(stderr,
		"usage: %s [-n N] [-j WORKERS] [-p PATH] [-m fork|vfork|spawn]\n"
		"  -n N        total executions (default 20000)\n"
		"  -j WORKERS  parallel parent workers (default 2)\n"
		"  -p PATH     program to execute (default /bin/true)\n"
		"  -m MODE     fork+execve (default), vfork+execve or posix_spawn\n",
		argv0);
	exit(2);
}

/* Run `count` executions; returns the number that failed. */
static long worker(long count, const char *path, enum mode mode)
{
	char *const args[] = { (char *)path, NULL };
	long failed = 0;

	for (long i = 0; i < count; i++) {
		pid_t pid = -1;
		int st;

		if (mode == M_SPAWN) {
			int err = posix_spawn(&pid, path, NULL, NULL, args, environ);
			if (err) {
				failed++;
				continue;
			}
		} else {
			pid = mode == M_VFORK ? vfork() : fork();
			if (pid == 0) {
				execve(path, args, environ);
				_exit(127);
			}
			if (pid < 0) {
				failed++;
				continue;
			}
		}
		while (waitpid(pid, &st, 0) < 0) {
			if (errno != EINTR) {
				st = -1;
				break;
			}
		}
		if (st != 0)
			failed++;
	}
	return failed;
}

int main(int argc, char **argv)
{
	long n = 20000, workers = 2;
	const char *path = "/bin/true";
	enum mode mode = M_FORK;
	int c;

	while ((c = getopt(argc, argv, "n:j:p:m:h")) != -1) {
		switch (c) {
		case 'n': n = strtol(optarg, NULL, 10); break;
		case 'j': workers = strtol(optarg, NULL, 10); break;
		case 'p': path = optarg; break;
		case 'm':
			if (!strcmp(optarg, "spawn")) mode = M_SPAWN;
			else if (!strcmp(optarg, "fork")) mode = M_FORK;
			else if (!strcmp(optarg, "vfork")) mode = M_VFORK;
			else usage(argv[0]);
			break;
		default: usage(argv[0]);
		}
	}
	if (n < 1 || workers < 1 || workers > 4096 || optind != argc)
		usage(argv[0]);
	if (access(path, X_OK) != 0) {
		fprintf(stderr, "execstorm: %s: %s\n", path, strerror(errno));
		return 2;
	}

	/* Pipe from each worker back to the parent for its failure count. */
	int fds[2];
	if (pipe(fds) < 0) {
		perror("execstorm: pipe");
		return 2;
	}

	double t0 = now();
	for (long w = 0; w < workers; w++) {
		long count = n / workers + (w < n % workers ? 1 : 0);
		pid_t pid = fork();
		if (pid < 0) {
			perror("execstorm: fork");
			return 2;
		}
		if (pid == 0) {
			/* Die with the parent (an interrupted bench/run kills only that). */
			prctl(PR_SET_PDEATHSIG, SIGTERM);
			if (getppid() == 1)
				_exit(3);
			close(fds[0]);
			long failed = worker(count, path, mode);
			if (write(fds[1], &failed, sizeof(failed)) != sizeof(failed))
				_exit(3);
			_exit(0);
		}
	}
	close(fds[1]);

	long failed = 0, got, total_reports = 0;
	while (read(fds[0], &got, sizeof(got)) == sizeof(got)) {
		failed += got;
		total_reports++;
	}
	int bad_workers = 0, st;
	while (wait(&st) > 0)
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
			bad_workers++;
	double secs = now() - t0;
	/* CPU time of the whole storm: workers and every child they waited for. */
	struct rusage ru;
	getrusage(RUSAGE_CHILDREN, &ru);
	double cpu = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
		     ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;

	if (total_reports != workers || bad_workers) {
		fprintf(stderr, "execstorm: %d worker(s) failed\n", bad_workers);
		failed += 1;
	}
	printf("execstorm n=%ld workers=%ld seconds=%.6f rate=%.1f cpu=%.3f failed=%ld\n",
	       n, workers, secs, n / secs, cpu, failed);
	return failed ? 1 : 0;
}
