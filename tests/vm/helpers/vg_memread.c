// SPDX-License-Identifier: GPL-2.0
/*
 * VM scenario helper (static): a child holds a secret; the parent reads it with
 * process_vm_readv, N times, and reports what happened: the errno, whether the
 * secret was seen, and how long each denied call took (entry to the error: the
 * LSM tier's enforcement latency). Also tries /proc/CHILD/mem.
 *   vg_memread [N]   prints "readv: ok|EPERM|errno=E", "secret: seen|not seen",
 *                    "mem: ok|EPERM|...", "latency_ns median=M p99=P n=N", "alive"
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/uio.h>
#include <sys/wait.h>

static char secret[64] = "vg-vm-secret-7f3a9c";

static long long ns(void)
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
	int n = argc > 1 ? atoi(argv[1]) : 1, denied = 0, seen = 0, err = 0;
	long long *lat = calloc(n > 0 ? n : 1, sizeof(*lat));
	int p[2];
	pid_t child;
	char buf[64], path[64];

	if (pipe(p))
		return 2;
	child = fork();
	if (child == 0) {
		close(p[0]);
		if (write(p[1], "x", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	close(p[1]);
	if (read(p[0], buf, 1) != 1)
		return 2;
	for (int i = 0; i < n; i++) {
		struct iovec l = { buf, sizeof(buf) }, r = { secret, sizeof(secret) };
		long long t0 = ns();
		ssize_t got;

		memset(buf, 0, sizeof(buf));
		got = process_vm_readv(child, &l, 1, &r, 1, 0);
		lat[i] = ns() - t0;
		if (got < 0) {
			err = errno;
			denied += errno == EPERM;
		} else if (strstr(buf, "vg-vm-secret")) {
			seen = 1;
		}
	}
	printf("readv: %s\n", denied == n ? "EPERM" : err ? strerror(err) : "ok");
	printf("secret: %s\n", seen ? "seen" : "not seen");
	snprintf(path, sizeof(path), "/proc/%d/mem", child);
	{
		int fd = open(path, O_RDONLY);

		printf("mem: %s\n", fd >= 0 ? "ok" : errno == EPERM ? "EPERM" :
		       errno == EACCES ? "EACCES" : strerror(errno));
		if (fd >= 0)
			close(fd);
	}
	qsort(lat, n, sizeof(*lat), cmp);
	printf("latency_ns median=%lld p99=%lld n=%d\n", lat[n / 2], lat[(n * 99) / 100 < n ? (n * 99) / 100 : n - 1], n);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	printf("alive\n");
	return 0;
}
