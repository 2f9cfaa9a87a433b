// SPDX-License-Identifier: GPL-2.0
/* The one place vigil's shared maps and load-time knobs are defined. */
#define VG_DEFINE_MAPS
#include "lib/common.bpf.h"
#include "lib/net.bpf.h" /* network maps */
#include "lib/dns.bpf.h"
#include "lib/enforce.bpf.h" /* policy tables */

char LICENSE[] SEC("license") = "GPL";
