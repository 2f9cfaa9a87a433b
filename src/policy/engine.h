/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Policies in the daemon: load the policy directory, install the kernel tables
 * (two generations, flipped), hook the syscalls the policies name at sys_enter,
 * turn enforcement messages into findings, act on detections (kill, freeze,
 * quarantine), reload when the files change keeping the last good set.
 */
#ifndef VG_POLICY_ENGINE_H
#define VG_POLICY_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <json-c/json.h>

struct vg_sensor;
struct vg_detect;
struct vg_enforce;

struct vg_enforce_opts {
	const char *dir;   /* policies directory */
	bool enforce_off;  /* --enforce=off */
	bool lsm;          /* the LSM programs were loaded (probe: BPF-LSM works) */
	const char *cgroup2;
	struct vg_netpolicy *np; /* where RuntimePolicy network rules go (NULL: none) */
};

struct vg_enforce *vg_enforce_new(struct vg_sensor *s, struct vg_detect *det,
				  const struct vg_enforce_opts *o);
void vg_enforce_free(struct vg_enforce *e);
/* A VG_MSG_ENFORCE message from the ring buffer. */
void vg_enforce_msg(struct vg_enforce *e, const void *data, size_t len);
/* Reload if a policy file changed (call every second or so), or now. */
void vg_enforce_poll(struct vg_enforce *e);
void vg_enforce_reload(struct vg_enforce *e, const char *why);
/* `vigil policy list` from the daemon, and `vigil status` (thread-safe). */
struct json_object *vg_enforce_json(struct vg_enforce *e);
/* `vigil unfreeze PID|CGROUP` through the daemon: 0 or -errno, msg says what was done. */
int vg_enforce_unfreeze(struct vg_enforce *e, const char *what, char *msg, size_t len);
/* Thaw without a daemon (SIGCONT, cgroup.freeze 0). */
int vg_unfreeze_direct(const char *what, const char *cgroup2, char *msg, size_t len);

#endif
