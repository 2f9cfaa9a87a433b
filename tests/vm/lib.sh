# tests/vm/lib.sh (bash) — boot Debian's 6.1 kernel under qemu with a busybox initramfs.
# Sourced by tests/vm/run (and by anyone who wants a VM by hand). See tests/vm/README.md.
#
#   vm_kernel                 fetch + extract the kernel (cached); sets VM_KERNEL VM_KVER VM_KDIR
#   vm_stage DIR              start a guest root in DIR: busybox, /init, /vm/guest.sh
#   vm_add SRC DEST           copy a file or directory into the guest at DEST
#   vm_add_bin SRC [NAME]     copy an executable to /bin/NAME (refuses dynamic ELF binaries)
#   vm_add_modules NAME...    copy kernel modules and their dependencies; /init insmods them
#   vm_pack OUT               write the staged root as a gzip'd newc cpio
#   vm_qemu INITRD            set the array VM_QEMU to the qemu command (for interactive use)
#   vm_boot INITRD OUTDIR SECS [SCENARIO...]
#                             boot, run the named /vm/scenarios/* in order, power off;
#                             console in OUTDIR/console.log, markers in OUTDIR/results;
#                             returns 0 if the guest reached the end, else 1; sets VM_STATUS
#   vm_rc OUTDIR NAME         print the exit code of scenario NAME, or nothing if it never ended
#   vm_run_scenario SCRIPT [SECS]
#                             all of the above for one script: returns its exit code, or 255
#                             with VM_STATUS=noboot|timeout|crash when the VM let it down
#
# Environment (all optional):
#   VM_CACHE        cache dir for the kernel (default build/vm)
#   VM_KERNEL       use this bzImage instead of Debian's (no modules then)
#   VM_KERNEL_PKG   Debian package to use (default: what linux-image-amd64 depends on)
#   VM_ACCEL        qemu accelerator (default tcg; KVM does not work on this machine kind)
#   VM_MEM VM_SMP   guest memory in MiB (1024) and CPUs (2)
#   VM_LSM          the lsm= list (default below)
#   VM_APPEND       extra kernel command line
#   VM_VERBOSE=1    stream the guest console to stderr while it runs

VM_LSM=${VM_LSM:-landlock,lockdown,yama,integrity,apparmor,bpf}
VM_HERE=$(cd "$(dirname "${BASH_SOURCE:-$0}")" && pwd)

vm_log() { echo "vm: $*" >&2; }
vm_die() { echo "vm: error: $*" >&2; exit 2; }

# The newest 6.1 image package apt knows: linux-image-amd64's dependency, else the highest ABI.
vm__pick_pkg() {
	apt-cache depends linux-image-amd64 2>/dev/null |
		sed -n 's/^ *Depends: \(linux-image-6\.1\.0-[0-9]*-amd64\)$/\1/p' | head -n1 | grep . ||
		apt-cache search --names-only '^linux-image-6\.1\.0-[0-9]+-amd64$' 2>/dev/null |
		cut -d' ' -f1 | sort -V | tail -n1 | grep .
}

vm__download() { (cd "$1" && apt-get download -q -o APT::Sandbox::User=root "$2" >&2); }

vm_kernel() {
	if [ -n "${VM_KERNEL:-}" ]; then
		[ -f "$VM_KERNEL" ] || vm_die "VM_KERNEL=$VM_KERNEL: no such file"
		VM_KVER=custom VM_KDIR=
		return 0
	fi
	local cache=${VM_CACHE:-build/vm} pkg=${VM_KERNEL_PKG:-} dir
	mkdir -p "$cache"
	if [ -z "$pkg" ]; then
		# Reuse what is cached (no apt, no network); newest first.
		pkg=$(ls -d "$cache"/linux-image-*/.done 2>/dev/null | sed 's,.*/\(linux-image-[^/]*\)/.done,\1,' |
			sort -V | tail -n1)
	fi
	if [ -z "$pkg" ]; then
		pkg=$(vm__pick_pkg) || { apt-get update -qq >&2 && pkg=$(vm__pick_pkg); } ||
			vm_die "apt knows no linux-image-6.1.0-*-amd64 package"
	fi
	dir=$cache/$pkg
	if [ ! -f "$dir/.done" ]; then
		vm_log "fetching $pkg"
		rm -rf "$dir" "$cache"/dl && mkdir -p "$cache"/dl
		vm__download "$cache"/dl "$pkg" || { apt-get update -qq >&2 && vm__download "$cache"/dl "$pkg"; } ||
			vm_die "apt-get download $pkg failed"
		dpkg-deb -x "$cache"/dl/"$pkg"_*.deb "$dir"
		rm -rf "$cache"/dl
		touch "$dir/.done"
	fi
	VM_KDIR=$(cd "$dir" && pwd)
	VM_KERNEL=$(ls "$VM_KDIR"/boot/vmlinuz-* | head -n1)
	VM_KVER=${VM_KERNEL##*/vmlinuz-}
	[ -f "$VM_KERNEL" ] || vm_die "no vmlinuz in $dir"
}

vm_stage() {
	local bb a
	VM_STAGE=$1
	rm -rf "$VM_STAGE"
	mkdir -p "$VM_STAGE"
	(cd "$VM_STAGE" && mkdir -p bin usr dev proc sys run tmp root etc lib/modules vm/scenarios &&
		ln -s bin sbin && ln -s ../bin usr/bin && ln -s ../bin usr/sbin)
	bb=$(command -v busybox) || vm_die "busybox not found (apt-get install busybox-static)"
	vm_add_bin "$bb" busybox
	for a in $(busybox --list); do
		[ -e "$VM_STAGE/bin/$a" ] || ln -s busybox "$VM_STAGE/bin/$a"
	done
	install -m 755 "$VM_HERE/init" "$VM_STAGE/init"
	install -m 644 "$VM_HERE/guest.sh" "$VM_STAGE/vm/guest.sh"
	: >"$VM_STAGE/vm/modules"
	echo "root:x:0:0:root:/root:/bin/sh" >"$VM_STAGE/etc/passwd"
	echo "root:x:0:" >"$VM_STAGE/etc/group"
	echo "127.0.0.1 localhost vigil-vm" >"$VM_STAGE/etc/hosts"
}

vm_add() {
	mkdir -p "$VM_STAGE$(dirname "$2")"
	cp -a "$1" "$VM_STAGE$2"
}

vm_add_bin() {
	local name=${2:-$(basename "$1")}
	[ -f "$1" ] || vm_die "$1: no such file"
	if head -c4 "$1" | grep -q ELF && readelf -l "$1" 2>/dev/null | grep -q 'Requesting program interpreter'; then
		vm_die "$1 is dynamically linked; the guest has no libc: build it with -static"
	fi
	install -m 755 "$1" "$VM_STAGE/bin/$name"
}

# Resolve each NAME (module name, e.g. veth or nf_tables, or an alias such as crc32c) and what it
# needs: modules.dep dependencies and "softdep=pre:" modules, which load first.
vm_add_modules() {
	local mdir m p
	[ $# -gt 0 ] || return 0
	[ -n "${VM_KDIR:-}" ] || vm_die "modules requested but VM_KERNEL is a custom image"
	mdir=$VM_KDIR/lib/modules/$VM_KVER
	[ -f "$mdir/modules.dep" ] || busybox depmod -b "$VM_KDIR" "$VM_KVER"
	for m in "$@"; do
		p=$(vm__modpath "$m") || vm_die "kernel $VM_KVER has no module $m"
		vm__mod "$p"
	done
}
vm__modpath() { # uses mdir
	local p alias
	p=$(grep -E "(^|/)$(echo "$1" | sed 's/[-_]/[-_]/g')\.ko:" "$mdir/modules.dep" | head -n1 | cut -d: -f1)
	[ -n "$p" ] && { echo "$p"; return 0; }
	alias=$(awk -v a="$1" '$1 == "alias" && $2 == a { print $3; exit }' "$mdir/modules.alias")
	[ -n "$alias" ] && [ "$alias" != "$1" ] && vm__modpath "$alias"
}
vm__mod() { # uses mdir
	local d
	grep -qxF "$1" "$VM_STAGE/vm/modules" && return 0
	for d in $(tr '\0' '\n' <"$mdir/$1" | sed -n 's/^softdep=.*pre: *\([^:]*\).*/\1/p' | sed 's/post$//'); do
		vm__mod "$(vm__modpath "$d" || vm_die "no module $d (softdep of $1)")"
	done
	for d in $(grep "^$1:" "$mdir/modules.dep" | cut -d: -f2); do vm__mod "$d"; done
	mkdir -p "$VM_STAGE/lib/modules/$(dirname "$1")"
	cp "$mdir/$1" "$VM_STAGE/lib/modules/$1"
	echo "$1" >>"$VM_STAGE/vm/modules"
}

vm_pack() {
	(cd "$VM_STAGE" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet | gzip -1) >"$1"
}

# A soft lockup panics the guest (its backtrace on the console, the boot ends at once)
# rather than hanging it until the harness's timeout.
vm_cmdline() {
	echo "console=ttyS0 panic=-1 oops=panic softlockup_panic=1 quiet lsm=$VM_LSM vm.run=$1 ${VM_APPEND:-}"
}

# vm_qemu INITRD: set VM_QEMU to the qemu command line, less serial ports and -append.
vm_qemu() {
	local accel=${VM_ACCEL:-tcg} cpu=max
	[ "$accel" = kvm ] && cpu=host
	VM_QEMU=(qemu-system-x86_64 -accel "$accel" -cpu "$cpu" -m "${VM_MEM:-1024}" -smp "${VM_SMP:-2}"
		-nographic -nodefaults -no-reboot -kernel "$VM_KERNEL" -initrd "$1")
}

vm_boot() {
	local initrd=$1 out=$2 secs=$3 run tailpid="" rc=0
	shift 3
	run=$(echo "$@" | tr ' ' ,)
	mkdir -p "$out"
	: >"$out/console.log"
	: >"$out/results"
	if [ "${VM_VERBOSE:-0}" = 1 ]; then
		tail -n +1 -f "$out/console.log" >&2 &
		tailpid=$!
	fi
	vm_qemu "$initrd"
	timeout -k 5 "$secs" "${VM_QEMU[@]}" -monitor none \
		-serial "file:$out/console.log" -serial "file:$out/results" -append "$(vm_cmdline "$run")" \
		</dev/null >"$out/qemu.log" 2>&1 || rc=$?
	[ -n "$tailpid" ] && kill "$tailpid" 2>/dev/null
	sed -i 's/\r$//' "$out/results"
	if grep -q '^DONE' "$out/results"; then
		VM_STATUS="done"
		return 0
	elif [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
		VM_STATUS=timeout
	elif grep -q '^BOOTED' "$out/results"; then
		VM_STATUS=crash
	else
		VM_STATUS=noboot
	fi
	[ -s "$out/qemu.log" ] && sed 's/^/qemu: /' "$out/qemu.log" >&2
	return 1
}

vm_rc() { sed -n "s/^END $2 \([0-9]*\) .*/\1/p" "$1/results"; }

vm_run_scenario() {
	local work rc name
	name=$(basename "$1")
	[ -n "${VM_KERNEL:-}" ] || vm_kernel
	work=${VM_CACHE:-build/vm}/one
	vm_stage "$work/root"
	vm_add_modules $(vm_directive "$1" modules)
	vm_add "$1" "/vm/scenarios/$(basename "$1")"
	vm_pack "$work/initrd.gz"
	vm_boot "$work/initrd.gz" "$work" "$((${2:-$(vm_timeout "$1")} + 120))" "$name" || true
	rc=$(vm_rc "$work" "$name")
	[ -n "$rc" ] && { VM_STATUS="done"; return "$rc"; }
	[ "$VM_STATUS" = "done" ] && VM_STATUS=crash
	return 255
}

# "# vm-KEY: VALUE" lines in a scenario's header.
vm_directive() { sed -n "s/^# vm-$2: *//p" "$1" | tr '\n' ' '; }
vm_timeout() { local t; t=$(vm_directive "$1" timeout); echo "${t:-${VM_TIMEOUT:-120}}" | tr -d ' '; }
