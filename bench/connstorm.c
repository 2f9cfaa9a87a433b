// SPDX-License-Identifier: GPL-2.0
/*
 * Connect/close storm on loopback: N TCP connections to a listener in this
 * process, from J client threads; each connects, sends one byte, and closes
 * with an RST (SO_LINGER 0) so no TIME_WAIT piles up and ports never run out.
 * The clients take connections from one shared count, so they finish together:
 * with a fixed share each, the time was the slower thread's, and a thread that
 * fell behind early (the scheduler's placement of 4 threads on 2 cores) ran its
 * rest alone with a core idle — a tail of up to 40 % of a run, in any
 * configuration, that measured the scheduler rather than the connections.
 *
 *   connstorm -n N -j J [-6]
 * Prints "seconds=ELAPSED cpu=CPU_S failed=F".
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int n = 50000, j = 2, v6;
static struct sockaddr_storage srv;
static socklen_t srvlen;
static volatile int failed;
static long left; /* connections not yet taken by a client */

static void *server(void *arg)
{
	int l = *(int *)arg;
	char b[16];

	for (;;) {
		int c = accept(l, NULL, NULL);

		if (c < 0)
			continue;
		while (read(c, b, sizeof(b)) > 0)
			;
		close(c);
	}
	return NULL;
}

static void *client(void *arg)
{
	struct linger lg = { 1, 0 };

	(void)arg;
	while (__sync_fetch_and_sub(&left, 1) > 0) {
		int s = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM, 0);

		if (s < 0 || connect(s, (struct sockaddr *)&srv, srvlen) || write(s, "x", 1) != 1) {
			__sync_fetch_and_add(&failed, 1);
			if (s >= 0)
				close(s);
			continue;
		}
		setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		close(s);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t st[2], *ct;
	struct timespec t0, t1;
	struct rusage ru;
	int opt, l, one = 1;

	while ((opt = getopt(argc, argv, "n:j:6")) != -1) {
		if (opt == 'n')
			n = atoi(optarg);
		else if (opt == 'j')
			j = atoi(optarg);
		else if (opt == '6')
			v6 = 1;
		else
			return fprintf(stderr, "usage: connstorm -n N -j J [-6]\n"), 2;
	}
	if (n <= 0 || j <= 0)
		return 2;
	l = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM, 0);
	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&srv, 0, sizeof(srv));
	if (v6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&srv;

		a->sin6_family = AF_INET6;
		a->sin6_addr = in6addr_loopback;
		srvlen = sizeof(*a);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&srv;

		a->sin_family = AF_INET;
		a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		srvlen = sizeof(*a);
	}
	if (bind(l, (struct sockaddr *)&srv, srvlen) || listen(l, 4096) ||
	    getsockname(l, (struct sockaddr *)&srv, &srvlen)) {
		perror("listen");
		return 1;
	}
	for (int i = 0; i < 2; i++)
		pthread_create(&st[i], NULL, server, &l);
	ct = calloc(j, sizeof(*ct));
	left = n;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < j; i++)
		pthread_create(&ct[i], NULL, client, NULL);
	for (int i = 0; i < j; i++)
		pthread_join(ct[i], NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	getrusage(RUSAGE_SELF, &ru);
	printf("seconds=%.6f cpu=%.6f failed=%d\n",
	       (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9,
	       ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
		       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6,
	       failed);
	return 0;
}
