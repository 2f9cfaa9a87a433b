// openstorm — open/close storm for overhead benchmarks (bench/run).
//
//   openstorm [-n N] [-j WORKERS] [-w] PATH
//
// N open()+close() pairs of PATH in total (default 1,000,000), split over WORKERS parallel
// processes (default 2), each in a tight loop: openat(AT_FDCWD, PATH, O_RDONLY|O_CLOEXEC) — or
// O_WRONLY with -w — then close. No read or write: the cost measured is the open path itself,
// which is where a file monitor hooks. Prints one machine-readable line on stdout:
//
//   openstorm n=1000000 workers=2 seconds=1.234567 rate=810000.0 cpu=2.401 failed=0
//
// seconds is wall time; cpu is the user+system CPU time of the workers (getrusage
// RUSAGE_CHILDREN) — less sensitive than wall time to other load on the machine.
// Exit status is non-zero if any open failed.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void usage(const char *argv0)
{
	fprintf(stderr,
		"usage: %s [-n N] [-j WORKERS] [-w] PATH\n"
		"  -n N        total opens (default 1000000)\n"
		"  -j WORKERS  parallel worker processes (default 2)\n"
		"  -w          open for writing (O_WRONLY) instead of reading\n",
		argv0);
	exit(2);
}

static long worker(long count, const char *path, int flags)
{
	long failed = 0;

	for (long i = 0; i < count; i++) {
		int fd = openat(AT_FDCWD, path, flags);

		if (fd < 0) {
			failed++;
			continue;
		}
		close(fd);
	}
	return failed;
}

int main(int argc, char **argv)
{
	long n = 1000000, workers = 2;
	int flags = O_RDONLY | O_CLOEXEC, c;

	while ((c = getopt(argc, argv, "n:j:wh")) != -1) {
		switch (c) {
		case 'n': n = strtol(optarg, NULL, 10); break;
		case 'j': workers = strtol(optarg, NULL, 10); break;
		case 'w': flags = O_WRONLY | O_CLOEXEC; break;
		default: usage(argv[0]);
		}
	}
	if (n < 1 || workers < 1 || workers > 4096 || optind != argc - 1)
		usage(argv[0]);
	const char *path = argv[optind];
	int probe = openat(AT_FDCWD, path, flags);
	if (probe < 0) {
		fprintf(stderr, "openstorm: %s: %s\n", path, strerror(errno));
		return 2;
	}
	close(probe);

	int fds[2];
	if (pipe(fds) < 0) {
		perror("openstorm: pipe");
		return 2;
	}
	double t0 = now();
	for (long w = 0; w < workers; w++) {
		long count = n / workers + (w < n % workers ? 1 : 0);
		pid_t pid = fork();
		if (pid < 0) {
			perror("openstorm: fork");
			return 2;
		}
		if (pid == 0) {
			prctl(PR_SET_PDEATHSIG, SIGTERM);
			if (getppid() == 1)
				_exit(3);
			close(fds[0]);
			long failed = worker(count, path, flags);
			if (write(fds[1], &failed, sizeof(failed)) != sizeof(failed))
				_exit(3);
			_exit(0);
		}
	}
	close(fds[1]);
	long failed = 0, got, reports = 0;
	while (read(fds[0], &got, sizeof(got)) == sizeof(got)) {
		failed += got;
		reports++;
	}
	int bad = 0, st;
	while (wait(&st) > 0)
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
			bad++;
	double secs = now() - t0;
	struct rusage ru;
	getrusage(RUSAGE_CHILDREN, &ru);
	double cpu = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
		     ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
	if (reports != workers || bad) {
		fprintf(stderr, "openstorm: %d worker(s) failed\n", bad);
		failed += 1;
	}
	printf("openstorm n=%ld workers=%ld seconds=%.6f rate=%.1f cpu=%.3f failed=%ld\n",
	       n, workers, secs, n / secs, cpu, failed);
	return failed ? 1 : 0;
}
