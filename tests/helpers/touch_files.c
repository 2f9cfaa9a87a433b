// SPDX-License-Identifier: GPL-2.0
/*
 * touch_files DIR N [open|create]
 * Opens N distinct files DIR/f0 .. DIR/f<N-1>, one after the other, as fast
 * as it can: "create" (default) creates them (O_CREAT|O_WRONLY), "open" opens
 * existing ones for reading. Each file is closed before the next. Prints
 * "touched N failed M" and exits 0 only if every open succeeded.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	char path[4096];
	int n, flags = O_CREAT | O_WRONLY | O_CLOEXEC, done = 0, failed = 0;

	if (argc < 3 || (argc > 3 && strcmp(argv[3], "open") && strcmp(argv[3], "create"))) {
		fprintf(stderr, "usage: touch_files DIR N [open|create]\n");
		return 2;
	}
	n = atoi(argv[2]);
	if (argc > 3 && !strcmp(argv[3], "open"))
		flags = O_RDONLY | O_CLOEXEC;
	for (int i = 0; i < n; i++) {
		int fd;

		snprintf(path, sizeof(path), "%s/f%d", argv[1], i);
		fd = open(path, flags, 0600);
		if (fd < 0) {
			failed++;
			continue;
		}
		close(fd);
		done++;
	}
	printf("touched %d failed %d\n", done, failed);
	return failed ? 1 : 0;
}
