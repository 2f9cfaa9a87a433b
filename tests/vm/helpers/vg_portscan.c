// SPDX-License-Identifier: GPL-2.0
/*
 * VM scenario helper (static): a connect scan from one process. Connects to
 * 127.0.0.1:FIRST .. FIRST+N-1 in turn (nothing listens there: each is refused).
 *   vg_portscan FIRST N   prints "pid PID refused R"
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/socket.h>

int main(int argc, char **argv)
{
	int first = argc > 1 ? atoi(argv[1]) : 9100, n = argc > 2 ? atoi(argv[2]) : 25, refused = 0;

	for (int i = 0; i < n; i++) {
		struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(first + i) };
		int s = socket(AF_INET, SOCK_STREAM, 0);

		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		if (s < 0)
			return 1;
		refused += connect(s, (struct sockaddr *)&a, sizeof(a)) != 0;
		close(s);
	}
	printf("pid %d refused %d\n", getpid(), refused);
	return 0;
}
