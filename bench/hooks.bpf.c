// SPDX-License-Identifier: GPL-2.0
/*
 * The hooks' own cost (bench monitor `hooks`): a program that does nothing on every hook
 * vigil's network monitoring runs on for a TCP connection — the packet hooks both ways, the
 * socket hooks and the TCP state tracepoint, with as many programs per hook as vigil attaches.
 * Its ratio is what merely being called there costs a workload; vigil's, above it, is vigil.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

SEC("cgroup_skb/egress") int hk_skb_egress(struct __sk_buff *skb) { return 1; }
SEC("cgroup_skb/ingress") int hk_skb_ingress(struct __sk_buff *skb) { return 1; }
SEC("cgroup/sock_create") int hk_sock_create(struct bpf_sock *sk) { return 1; }
/* vigil has two per address hook: the flow table's and the network policy's */
SEC("cgroup/connect4") int hk_connect4(struct bpf_sock_addr *ctx) { return 1; }
SEC("cgroup/connect4") int hk_connect4_b(struct bpf_sock_addr *ctx) { return 1; }
SEC("cgroup/connect6") int hk_connect6(struct bpf_sock_addr *ctx) { return 1; }
SEC("cgroup/connect6") int hk_connect6_b(struct bpf_sock_addr *ctx) { return 1; }
SEC("cgroup/sendmsg4") int hk_sendmsg4(struct bpf_sock_addr *ctx) { return 1; }
SEC("cgroup/sendmsg6") int hk_sendmsg6(struct bpf_sock_addr *ctx) { return 1; }
SEC("tp_btf/inet_sock_set_state") int hk_sock_state(void *ctx) { return 0; }
/* vigil's syscall rules and the policy's listen() watch */
SEC("tracepoint/syscalls/sys_exit_socket") int hk_sys_socket(void *ctx) { return 0; }
SEC("tracepoint/syscalls/sys_exit_listen") int hk_sys_listen(void *ctx) { return 0; }
