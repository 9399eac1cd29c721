# hydrascope build. `make help` lists the targets.
CLANG      ?= clang-19
LLVM_STRIP ?= llvm-strip-19
BPFTOOL    ?= bpftool
CC         := $(CLANG)
BUILD      := build
BPF_ARCH   := $(shell uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/')

WARN       := -Wall -Wextra -Werror
INCLUDES   := -Iinclude -I$(BUILD)
CFLAGS     ?= -O2 -g
CFLAGS     += $(WARN) $(INCLUDES) -std=gnu11 -D_GNU_SOURCE
LDLIBS     := -lbpf -lelf -lz -lpcap -lmicrohttpd -ljson-c -lcrypto -lm

BPF_SRC    := bpf/hydrascope.bpf.c
BPF_HDRS   := $(wildcard bpf/*.h) $(wildcard include/hydrascope/*.h)
BPF_OBJ    := $(BUILD)/hydrascope.bpf.o
SKEL       := $(BUILD)/hydrascope.skel.h
VMLINUX    := $(BUILD)/vmlinux.h

.PHONY: all
all: deps-check $(BUILD)/hydrascope

$(BUILD):
	@mkdir -p $@

$(VMLINUX): | $(BUILD)
	$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@.tmp && mv $@.tmp $@

$(BPF_OBJ): $(BPF_SRC) $(BPF_HDRS) $(VMLINUX)
	$(CLANG) -O2 -g -target bpf -mcpu=v3 -D__TARGET_ARCH_$(BPF_ARCH) \
		$(WARN) -Iinclude -I$(BUILD) -Ibpf -c $< -o $@

$(SKEL): $(BPF_OBJ)
	$(BPFTOOL) gen skeleton $< name hydrascope > $@.tmp && mv $@.tmp $@

.PHONY: deps-check
deps-check:
	@tools/install-deps.sh

USER_SRC   := $(wildcard user/*.c)
USER_OBJ   := $(patsubst user/%.c,$(BUILD)/user/%.o,$(USER_SRC))
USER_LIB_OBJ := $(filter-out $(BUILD)/user/main.o,$(USER_OBJ))

$(BUILD)/user/%.o: user/%.c $(wildcard user/*.h) $(wildcard include/hydrascope/*.h) $(SKEL)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Iuser -c $< -o $@

$(BUILD)/hydrascope: $(USER_OBJ)
	$(CC) $(CFLAGS) $^ -o $@ $(LDLIBS)

# ---- tests -----------------------------------------------------------
# Userspace tests are built with ASan/UBSan; the objects under test are
# rebuilt with the sanitizers into build/san/.
SAN        := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
SAN_OBJ    := $(patsubst $(BUILD)/user/%.o,$(BUILD)/san/%.o,$(USER_LIB_OBJ))
TEST_LIBS  := $(LDLIBS) -lcmocka

$(BUILD)/san/%.o: user/%.c $(wildcard user/*.h) $(wildcard include/hydrascope/*.h) $(SKEL)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(SAN) -Iuser -c $< -o $@

$(BUILD)/tests/%.o: tests/%.c $(wildcard tests/*/*.h) $(wildcard user/*.h) $(SKEL)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(SAN) -Iuser -Itests/bpf -c $< -o $@

$(BUILD)/test_datapath: $(BUILD)/tests/bpf/test_datapath.o $(BUILD)/tests/bpf/frames.o $(SAN_OBJ)
	$(CC) $(CFLAGS) $(SAN) $^ -o $@ $(TEST_LIBS)

$(BUILD)/test_user: $(BUILD)/tests/unit/test_user.o $(BUILD)/tests/bpf/frames.o $(SAN_OBJ)
	$(CC) $(CFLAGS) $(SAN) $^ -o $@ $(TEST_LIBS)
