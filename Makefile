# vigil — `make` builds build/vigil; `make run`, `make test`, `make bench`.
# Build deps come from Debian through scripts/install-deps.sh (idempotent).

BUILD      ?= build
CLANG      ?= clang
CC         ?= gcc
BPFTOOL    ?= bpftool
ARCH       := $(shell uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/')
VERSION    := $(shell git describe --always --dirty 2>/dev/null || echo dev)

# maps.bpf.c first: the linker (libbpf 1.1) mishandles an extern map met before its definition.
BPF_SRCS   := bpf/maps.bpf.c $(filter-out bpf/maps.bpf.c,$(wildcard bpf/*.bpf.c))
BPF_OBJS   := $(patsubst bpf/%.bpf.c,$(BUILD)/bpf/%.bpf.o,$(BPF_SRCS))
BPF_HDRS   := $(wildcard bpf/*.h bpf/lib/*.h include/vigil/*.h)

SRCS       := $(shell find src -name '*.c' | sort)
OBJS       := $(patsubst src/%.c,$(BUILD)/obj/%.o,$(SRCS))
LIB_OBJS   := $(filter-out $(BUILD)/obj/main.o,$(OBJS))
HDRS       := $(shell find src include -name '*.h')

CFLAGS     ?= -O2 -g
CFLAGS     += -std=gnu11 -Wall -Wextra -Wno-unused-parameter -Wshadow -Wformat=2 \
              -D_GNU_SOURCE -Iinclude -Isrc -I$(BUILD) -DVIGIL_VERSION='"$(VERSION)"' \
              -MMD -MP
LDLIBS     := -lbpf -lelf -lz -lzstd -ljson-c -lyaml -lpsl -lidn2 -lunistring -lpthread
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Ibpf -Iinclude \
              -Wall -Wno-unused-function -Wno-compare-distinct-pointer-types

TEST_SRCS  := $(wildcard tests/unit/test_*.c)
TEST_BINS  := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(TEST_SRCS))
HELPER_SRCS:= $(wildcard tests/helpers/*.c)
HELPERS    := $(patsubst tests/helpers/%.c,$(BUILD)/tests/helpers/%,$(HELPER_SRCS))

.PHONY: all deps run test test-unit test-integration test-vm bench clean vmlinux fmt
all: deps $(BUILD)/vigil

deps:
	@scripts/install-deps.sh

# net.bpf.c takes and gives back connection slots with compare-and-exchange (BPF v3 atomics,
# Linux >= 5.12); the other programs keep the default instruction set.
$(BUILD)/bpf/net.bpf.o: BPF_CFLAGS += -mcpu=v3

$(BUILD)/bpf/%.bpf.o: bpf/%.bpf.c $(BPF_HDRS)
	@mkdir -p $(@D)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

# All programs are linked into one object so they share maps, then embedded as a skeleton.
$(BUILD)/vigil.bpf.o: $(BPF_OBJS)
	$(BPFTOOL) gen object $@ $^

$(BUILD)/vigil.skel.h: $(BUILD)/vigil.bpf.o
	$(BPFTOOL) gen skeleton $< name vigil_bpf > $@.tmp && mv $@.tmp $@

$(BUILD)/obj/%.o: src/%.c $(BUILD)/vigil.skel.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c $< -o $@

# Default rules, embedded as C string literals (the binary never reads rules/).
RULE_YAMLS := $(sort $(wildcard rules/default/*.yaml))
$(BUILD)/rules_default.h: $(RULE_YAMLS) rules/default Makefile
	@mkdir -p $(@D)
	@for f in $(RULE_YAMLS); do \
		printf '\t{ "%s",\n' "$$f"; \
		sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/\t/\\t/g' -e 's/^/\t  "/' \
		    -e 's/$$/\\n"/' "$$f"; \
		printf '\t  "" },\n'; \
	done > $@.tmp && mv $@.tmp $@
$(BUILD)/obj/rules/builtin.o: $(BUILD)/rules_default.h

$(BUILD)/vigil: $(OBJS)
	$(CC) $(CFLAGS) -static -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c $(LIB_OBJS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS:-lpthread=) -lcmocka -lpthread

$(BUILD)/tests/helpers/%: tests/helpers/%.c
	@mkdir -p $(@D)
	$(CC) -O2 -Wall -static -pthread -o $@ $<

run: all
	$(BUILD)/vigil run $(ARGS)

test: all
	@scripts/install-deps.sh test
	@$(MAKE) --no-print-directory $(TEST_BINS) $(HELPERS)
	@tests/run

test-unit: $(TEST_BINS)
	@tests/run --unit

test-vm: all
	@scripts/install-deps.sh vm
	@tests/vm/run

$(BUILD)/bench/%: bench/%.c
	@mkdir -p $(@D)
	$(CC) -O2 -Wall -static -o $@ $<

# The hooks monitor: programs that do nothing, on vigil's network hooks (bench/hooks.bpf.c).
$(BUILD)/bench/hooks.bpf.o: bench/hooks.bpf.c
	@mkdir -p $(@D)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/bench/hooks: bench/hooks.c $(BUILD)/bench/hooks.bpf.o
	@mkdir -p $(@D)
	$(CC) -O2 -Wall -static -o $@ $< -lbpf -lelf -lz -lzstd

bench: all $(BUILD)/bench/hooks $(BUILD)/bench/execstorm $(BUILD)/bench/enforce $(BUILD)/bench/connstorm $(BUILD)/bench/openstorm
	@scripts/install-deps.sh bench
	@bench/run
	@bench/enforce-latency
	@bench/netpolicy-lookup

vmlinux:
	$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > bpf/vmlinux.h.new
	@echo "review and move bpf/vmlinux.h.new over bpf/vmlinux.h (keep the header comment)"

fmt:
	clang-format -i $(SRCS) $(HDRS) $(BPF_SRCS)

clean:
	rm -rf $(BUILD)

-include $(OBJS:.o=.d)
