// SPDX-License-Identifier: GPL-2.0
/*
 * File operation storms for the file-activity tests and the overhead check.
 *   file_storm open PATH N     open(PATH, O_RDONLY) + close, N times
 *   file_storm write PATH N    open once, then N one-byte write()s on the fd
 * Prints ns per operation on stdout: CPU time (user + system, what the
 * operations cost, little disturbed by other load), then wall time.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>
#include <unistd.h>

static double cpu_ns(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e9 +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e3;
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	long n;
	double t0, c0;
	int fd;

	if (argc != 4 || (strcmp(argv[1], "open") && strcmp(argv[1], "write"))) {
		fprintf(stderr, "usage: file_storm open|write PATH N\n");
		return 2;
	}
	n = atol(argv[3]);
	t0 = now_ns();
	c0 = cpu_ns();
	if (!strcmp(argv[1], "open")) {
		for (long i = 0; i < n; i++) {
			fd = open(argv[2], O_RDONLY);
			if (fd < 0) {
				perror(argv[2]);
				return 1;
			}
			close(fd);
		}
	} else {
		fd = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd < 0) {
			perror(argv[2]);
			return 1;
		}
		for (long i = 0; i < n; i++)
			if (write(fd, "x", 1) != 1) {
				perror("write");
				return 1;
			}
		close(fd);
	}
	printf("%.1f %.1f\n", (cpu_ns() - c0) / n, (now_ns() - t0) / n);
	return 0;
}
