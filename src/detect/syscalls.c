// SPDX-License-Identifier: GPL-2.0
/* Syscall names for findings: the rules' table (src/rules/syscalls.c) is the one list. */
#include <stdio.h>
#include "detect/detect.h"
#include "rules/rules.h"

const char *vg_detect_syscall_name(uint32_t nr, char *buf, size_t len)
{
	const char *name = vg_syscall_name(nr);

	if (name)
		return name;
	snprintf(buf, len, "syscall_%u", nr);
	return buf;
}
