// SPDX-License-Identifier: GPL-2.0
/*
 * VM scenario helper (static): one TCP connection on loopback between two
 * processes. The parent listens on 127.0.0.1:PORT; a child connects and sends
 * N bytes, the parent accepts (after the child has closed: the accepted
 * socket was made by the kernel from the listener, not by any call of the
 * parent's) and reads them all.
 *   vg_tcppair PORT N   prints "server PID", "client PID", "got BYTES"
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/wait.h>

int main(int argc, char **argv)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	int port = argc > 1 ? atoi(argv[1]) : 9099, n = argc > 2 ? atoi(argv[2]) : 1000;
	int l, one = 1, st;
	long got = 0;
	char buf[4096];
	pid_t c;

	a.sin_port = htons(port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	l = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (l < 0 || bind(l, (void *)&a, sizeof(a)) || listen(l, 8)) {
		perror("listen");
		return 1;
	}
	c = fork();
	if (c == 0) {
		int s = socket(AF_INET, SOCK_STREAM, 0);

		memset(buf, 'x', sizeof(buf));
		if (s < 0 || connect(s, (void *)&a, sizeof(a))) {
			perror("connect");
			_exit(1);
		}
		for (int left = n; left > 0;) {
			int w = write(s, buf, left < (int)sizeof(buf) ? left : (int)sizeof(buf));

			if (w <= 0)
				_exit(1);
			left -= w;
		}
		close(s);
		_exit(0);
	}
	if (waitpid(c, &st, 0) != c || !WIFEXITED(st) || WEXITSTATUS(st)) {
		fprintf(stderr, "client failed\n");
		return 1;
	}
	{
		int s = accept(l, NULL, NULL);
		ssize_t r;

		if (s < 0) {
			perror("accept");
			return 1;
		}
		while ((r = read(s, buf, sizeof(buf))) > 0)
			got += r;
		close(s);
	}
	printf("server %d\nclient %d\ngot %ld\n", (int)getpid(), (int)c, got);
	return 0;
}
