// SPDX-License-Identifier: GPL-2.0
/*
 * thread_exec NTHREADS PROGRAM [ARGS...]
 * Start NTHREADS threads that sleep, then exec PROGRAM from the last thread
 * (not the leader): the kernel makes it the leader and keeps the pid.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static char **prog;

static void *idle(void *arg)
{
	sleep(30);
	return NULL;
}

static void *execer(void *arg)
{
	usleep(100000);
	execv(prog[0], prog);
	perror("execv");
	exit(127);
}

int main(int argc, char **argv)
{
	pthread_t t;
	int n;

	if (argc < 3)
		return 2;
	n = atoi(argv[1]);
	prog = argv + 2;
	for (int i = 0; i < n; i++)
		pthread_create(&t, NULL, idle, NULL);
	pthread_create(&t, NULL, execer, NULL);
	pause();
	return 0;
}
