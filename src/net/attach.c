// SPDX-License-Identifier: GPL-2.0
/*
 * Network hooks: the cgroup programs (sockets, connect, packets) attached at
 * the cgroup v2 root, found at run time, with BPF links (multi-attach: other
 * programs on the root keep running), and the TCP state tracepoint.
 */
#include <errno.h>
#include <fcntl.h>
#include <mntent.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/statfs.h>
#include <bpf/libbpf.h>
#include "vigil.skel.h"
#include "net/net.h"
#include "util/log.h"

#define CGROUP2_SUPER_MAGIC 0x63677270

static bool is_cgroup2(const char *path)
{
	struct statfs st;

	return statfs(path, &st) == 0 && st.f_type == CGROUP2_SUPER_MAGIC;
}

int vg_cgroup2_root(char *buf, size_t len)
{
	static const char *const known[] = { "/sys/fs/cgroup", "/sys/fs/cgroup/unified" };
	struct mntent *e;
	FILE *f;

	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (is_cgroup2(known[i])) {
			snprintf(buf, len, "%s", known[i]);
			return 0;
		}
	f = setmntent("/proc/mounts", "r");
	if (!f)
		return -errno;
	while ((e = getmntent(f)))
		if (!strcmp(e->mnt_type, "cgroup2") && is_cgroup2(e->mnt_dir)) {
			snprintf(buf, len, "%s", e->mnt_dir);
			endmntent(f);
			return 0;
		}
	endmntent(f);
	return -ENOENT;
}

int vg_net_attach(struct vg_sensor *s, char *why, size_t whylen)
{
	struct vigil_bpf *k = s->skel;
	struct bpf_program *cg[] = {
		k->progs.vg_sock_create, k->progs.vg_connect4,    k->progs.vg_connect6,
		k->progs.vg_skb_egress,  k->progs.vg_skb_ingress,
	};
	struct bpf_program *prog;
	struct bpf_link *l;
	int fd, err;

	err = vg_cgroup2_root(s->cgroot, sizeof(s->cgroot));
	if (err) {
		snprintf(why, whylen, "network: no cgroup v2 hierarchy mounted (%s)", strerror(-err));
		return err;
	}
	fd = open(s->cgroot, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		snprintf(why, whylen, "network: opening %s: %s", s->cgroot, strerror(-err));
		return err;
	}
	for (size_t i = 0; i < sizeof(cg) / sizeof(cg[0]); i++) {
		l = bpf_program__attach_cgroup(cg[i], fd);
		if (!l) {
			err = -errno;
			snprintf(why, whylen, "network: attaching %s at %s: %s",
				 bpf_program__name(cg[i]), s->cgroot, strerror(-err));
			close(fd);
			return err;
		}
		s->net_links[s->nnet_links++] = l;
	}
	close(fd);
	prog = s->cfg.conn_slots ? k->progs.vg_sock_state : k->progs.vg_sock_state_hash;
	l = bpf_program__attach(prog);
	if (!l) {
		err = -errno;
		snprintf(why, whylen, "network: attaching %s (sock:inet_sock_set_state): %s",
			 bpf_program__name(prog), strerror(-err));
		return err;
	}
	s->net_links[s->nnet_links++] = l;
	if (s->cfg.sock_acct) {
		l = bpf_program__attach_iter(s->cfg.conn_slots ? k->progs.vg_flow_flush :
					     k->progs.vg_flow_flush_hash, NULL);
		if (!l) {
			err = -errno;
			snprintf(why, whylen, "network: attaching vg_flow_flush (iterator over "
				 "open files): %s", strerror(-err));
			return err;
		}
		s->net_links[s->nnet_links++] = l;
		s->maps.flow_flush = bpf_link__fd(l);
	}
	return 0;
}

void vg_net_detach(struct vg_sensor *s)
{
	for (size_t i = 0; i < s->nnet_links; i++)
		bpf_link__destroy(s->net_links[i]);
	s->nnet_links = 0;
	s->maps.flow_flush = -1;
}
