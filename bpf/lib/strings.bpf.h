/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Interned strings: a path or argv block is stored once under a 64-bit id
 * (hash + size class) so a thousand runs of the same command cost one copy.
 */
#ifndef VG_STRINGS_BPF_H
#define VG_STRINGS_BPF_H

#include "lib/common.bpf.h"

/*
 * Intern the per-CPU scratch string (sc->str, h.len bytes incl. the NUL).
 * Returns its id, or 0 if the table is full (counted). A global function:
 * its bounded hash loop is verified once.
 */
__u64 vg_intern_scratch(void);
/* The hash of the scratch string's first len bytes (shared with user space: abi.h). */
__u64 vg_hash_scratch(__u32 len);

#endif /* VG_STRINGS_BPF_H */
