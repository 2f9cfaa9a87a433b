#!/bin/sh
# Install vigil's build and test dependencies from Debian's archive.
# Idempotent: installs only what is missing, and talks to no network but apt's.
#   scripts/install-deps.sh          build deps (make, make run)
#   scripts/install-deps.sh test     + what `make test` drives (python3-pytest, iproute2, ...)
#   scripts/install-deps.sh bench    + reference monitors for `make bench` (auditd, bpftrace), iperf3
#   scripts/install-deps.sh vm       + qemu and busybox for the LSM-kernel suite
set -eu

build="make gcc clang llvm bpftool libbpf-dev libelf-dev zlib1g-dev libzstd-dev \
libjson-c-dev libyaml-dev libcmocka-dev libpsl-dev libidn2-dev libunistring-dev pkg-config file"
test="python3 python3-pytest iproute2 procps util-linux dnsmasq-base curl git"
# the default-rule scenarios and the benign CI job (tests/integration/test_rule_scenarios.py,
# test_benign_ci.py) drive these tools for real
test="$test python3-venv netcat-traditional sudo kmod tcpdump at strace openssh-client \
libcap2-bin perl wget zip gawk"
# the network shapes against third-party tools (tests/integration/test_third_party.py)
test="$test nmap iodine dns2tcp"
bench="auditd bpftrace hyperfine iperf3"
vm="qemu-system-x86 busybox-static cpio"

want="$build"
for set in "$@"; do
	case "$set" in
	build) ;;
	test) want="$want $test" ;;
	bench) want="$want $bench" ;;
	vm) want="$want $vm" ;;
	all) want="$want $test $bench $vm" ;;
	*) echo "install-deps: unknown set '$set' (build|test|bench|vm|all)" >&2; exit 2 ;;
	esac
done

missing=""
for p in $want; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "install-deps: missing packages:$missing; run as root (or: sudo $0 $*)" >&2
	exit 1
fi
echo "install-deps: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
# auditd must not start its daemon at install time: the bench starts it on purpose.
printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
trap 'rm -f /usr/sbin/policy-rc.d' EXIT
apt-get update -qq
apt-get install -y -qq --no-install-recommends $missing >/dev/null
