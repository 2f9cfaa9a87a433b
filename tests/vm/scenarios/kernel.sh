# The VM itself: the kernel and mounts the other scenarios rely on. Needs no vigil.
. /vm/guest.sh
expect "bpf is an active LSM" grep -qw bpf /sys/kernel/security/lsm
expect "kernel BTF at /sys/kernel/btf/vmlinux" test -s /sys/kernel/btf/vmlinux
expect "kernel 6.1" sh -c 'uname -r | grep -q "^6\.1\."'
expect "bpffs mounted" grep -q ' /sys/fs/bpf bpf ' /proc/mounts
expect "cgroup2 mounted" grep -q ' /sys/fs/cgroup cgroup2 ' /proc/mounts
expect "tracefs mounted" test -d /sys/kernel/tracing/events
expect "loopback up" sh -c 'ip link show lo | grep -q UP'
