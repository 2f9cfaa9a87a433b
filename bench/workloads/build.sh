# Build: compile a mid-size C code base with make -j2 — vigil's own user-space sources
# (src/ with its headers), BUILD_COPIES times per run (default 2,
# each copy into its own object directory), then archive each copy's objects with ar. The
# tree is copied to the bench scratch directory once; every run starts from `make clean`.
#   BUILD_COPIES  compilations of the tree per run (default 2)
#   -j / BENCH_J  make -j (default 2)
BUILD_COPIES=${BUILD_COPIES:-2}
BUILD_J=${BENCH_J:-2}

wl_build_title() { echo "Build (make -j$BUILD_J)"; }

wl_build_describe() {
	echo "\`make -j$BUILD_J\` compiling vigil's user-space sources ($(_build_nfiles) C files) $BUILD_COPIES times with gcc -O2 -g and archiving the objects, from \`make clean\`; vigil runs every default rule"
}

_build_dir() { echo "$TMP/build-src"; }
_build_nfiles() { find "$ROOT/src" -name '*.c' | wc -l; }
wl_build_ops() { echo "$(($(_build_nfiles) * BUILD_COPIES))"; }
wl_build_unit() { echo "file"; }

wl_build_prepare() {
	local d
	d=$(_build_dir)
	command -v make >/dev/null && command -v "${CC:-gcc}" >/dev/null || return 1
	[[ -f $ROOT/build/vigil.skel.h && -f $ROOT/build/rules_default.h ]] ||
		make -s -C "$ROOT" >/dev/null 2>&1 || return 1
	rm -rf "$d"
	mkdir -p "$d/gen"
	cp -r "$ROOT/src" "$ROOT/include" "$d/"
	cp "$ROOT/build/vigil.skel.h" "$ROOT/build/rules_default.h" "$d/gen/"
	cat >"$d/Makefile" <<'MK'
CC ?= gcc
COPIES ?= 2
SRCS := $(shell find src -name '*.c' | sort)
CFLAGS := -O2 -g -std=gnu11 -D_GNU_SOURCE -Wall -Wextra -Wno-unused-parameter -Iinclude -Isrc -Igen \
          -DVIGIL_VERSION='"bench"'
LIBS := $(foreach c,$(shell seq $(COPIES)),out$(c)/libvigil.a)
all: $(LIBS)
define copy
out$(1)/%.o: src/%.c
	@mkdir -p $$(@D)
	$$(CC) $$(CFLAGS) -c -o $$@ $$<
out$(1)/libvigil.a: $(patsubst src/%.c,out$(1)/%.o,$(SRCS))
	ar rcs $$@ $$^
endef
$(foreach c,$(shell seq $(COPIES)),$(eval $(call copy,$(c))))
clean:
	rm -rf out*
.PHONY: all clean
MK
}

# CPU seconds of this shell's children so far, from the second line of `times` (written to a
# file: in a command substitution it would describe the subshell).
_build_cpu() {
	awk 'NR == 2 { split($1, u, /[ms]/); split($2, s, /[ms]/); printf "%.3f", u[1] * 60 + u[2] + s[1] * 60 + s[2] }' "$1"
}

wl_build_run() {
	local d t0 t1
	d=$(_build_dir)
	make -s -C "$d" clean >/dev/null || return 1
	times >"$d/times0"
	t0=$(date +%s.%N)
	make -s -C "$d" -j"$BUILD_J" COPIES="$BUILD_COPIES" >"$d/make.log" 2>&1 || { tail -n5 "$d/make.log" >&2; return 1; }
	t1=$(date +%s.%N)
	times >"$d/times1"
	awk -v a="$t0" -v b="$t1" -v c="$(_build_cpu "$d/times0")" -v e="$(_build_cpu "$d/times1")" \
		-v n="$(wl_build_ops)" 'BEGIN { printf "build files=%d seconds=%.6f cpu=%.3f failed=0\n", n, b - a, e - c }'
}

wl_build_audit_rules() { _file_audit_rules; }
wl_build_bpftrace_prog() { _file_bpftrace_prog; }

# Goal from the issue: at most 3 % slower, and below every reference monitor.
wl_build_target() { echo 1.03; }
