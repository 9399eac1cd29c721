# hydrascope build. `make help` lists the targets; V=1 shows commands.
CLANG      ?= clang-19
BPFTOOL    ?= bpftool
CC         := $(CLANG)
BUILD      := build
BPF_ARCH   := $(shell uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/')
SHARED_TESTDATA ?= ../shared/testdata

ifeq ($(V),1)
Q :=
msg = @true
else
Q := @
msg = @printf '  %-8s %s\n' $(1) $(2)
endif

WARN       := -Wall -Wextra -Werror
CFLAGS     ?= -O2 -g
CFLAGS     += $(WARN) -Iinclude -I$(BUILD) -Iuser -std=gnu11 -D_GNU_SOURCE
# every object records the headers it read: an edit rebuilds its readers only
DEPFLAGS   = -MMD -MP
LDLIBS     := -lbpf -lelf -lz -lpcap -lmicrohttpd -ljson-c -lcrypto -lmaxminddb -lhiredis -lcurl -lm -lpthread

BPF_SRC    := bpf/hydrascope.bpf.c
BPF_OBJ    := $(BUILD)/hydrascope.bpf.o
SKEL       := $(BUILD)/hydrascope.skel.h
# UAPI headers for the BPF target: Debian keeps asm/ under the multiarch dir
BPF_CFLAGS := -O2 -g -target bpf -mcpu=v3 -D__TARGET_ARCH_$(BPF_ARCH) $(WARN) \
	      -Iinclude -Ibpf -I/usr/include/$(shell uname -m)-linux-gnu
USER_SRC   := $(sort $(shell find user -name '*.c'))
CONFIG_H   := $(BUILD)/config.h
USER_OBJ   := $(patsubst user/%.c,$(BUILD)/user/%.o,$(USER_SRC))
USER_LIB_OBJ := $(filter-out $(BUILD)/user/cli/main.o,$(USER_OBJ))

.PHONY: all
all: deps $(BUILD)/hydrascope

.PHONY: help
help:
	@echo "hydrascope targets:"
	@echo "  make            install missing Debian packages, build build/hydrascope"
	@echo "  make demo       replay the bundled capture of real clients, then a generated hydra cluster"
	@echo "  make test       all suites: unit (one binary per module), datapath, enforce, peer,"
	@echo "                  cli, install, scenario, detection, spoofing, adversarial, hostile,"
	@echo "                  schemas, fuzz, alert rules, live netns, relays, faults, hardening,"
	@echo "                  Prometheus, status page, fleet"
	@echo "                  (needs root, ../shared/testdata)"
	@echo "  make test-unit  the tests/unit binaries only (ASan/UBSan)"
	@echo "  make demo-capture  regenerate tests/data/demo.pcap from real clients in netns"
	@echo "  make bench      datapath ns/packet vs a bare XDP_PASS and xdp-filter (BPF_PROG_TEST_RUN),"
	@echo "                  memory at 100k/1M flows, replay vs tshark and p0f on >= 1M packets,"
	@echo "                  live veth packets/s with and without hydrascope (build/bench.json)"
	@echo "  make bench-replay  the replay part of make bench alone (replay --threads 1/2/N)"
	@echo "  make bench-detect-live  a live farm of real proxies (36 exits, 6 device stacks,"
	@echo "                  detours 5-100 ms) among real users and browsers; recall, cuts,"
	@echo "                  benign flagged/blocked (build/bench-detect-live/score.json)"
	@echo "  make bench-detect  detection on held-out generated farms (>= 500 farm, >= 5,000 benign"
	@echo "                  sources, several seeds): recall, time to flag, benign flagged/blocked,"
	@echo "                  relay per detour (build/bench-detect.json); SEEDS=1,2,3"
	@echo "  make bench-fleet  the fleet transport: decisions/s through Redis, decision to"
	@echo "                  enforcement on 3 live instances (median, p99), Redis memory per"
	@echo "                  100k sources (build/bench-fleet.json)"
	@echo "  make fuzz       every tests/fuzz/fuzz_*.c libFuzzer target, FUZZ_SECONDS each"
	@echo "  make thresholds-docs  regenerate deploy/hydrascope.conf.example and the README's"
	@echo "                  threshold table from user/correlate/thresholds.h"
	@echo "  make format     clang-format the C sources in place"
	@echo "  make install    PREFIX=/usr/local DESTDIR=: binary (sbin), data, man page,"
	@echo "                  completion, systemd unit, logrotate, /etc/hydrascope (if absent)"
	@echo "  make man        build/hydrascope.8 from the option tables"
	@echo "  make completion regenerate deploy/completion/hydrascope from the option tables"
	@echo "  make status-screenshot  regenerate deploy/screenshots/status-page.png (the"
	@echo "                  status page live test, in headless Chromium; root)"
	@echo "  make clean      remove build/"
	@echo "variables: V=1 (show commands), SHARED_TESTDATA=$(SHARED_TESTDATA), PREFIX=$(PREFIX)"

# Dependencies by use (tools/install-deps.sh): a stamp per group, so that
# make does not look again once a group is present.
.PHONY: deps deps-test deps-bench
deps: $(BUILD)/.deps-build
deps-test: $(BUILD)/.deps-test
deps-bench: $(BUILD)/.deps-bench
$(BUILD)/.deps-%: tools/install-deps.sh | $(BUILD)
	$(Q)tools/install-deps.sh $*
	$(Q)touch $@

$(BUILD):
	$(Q)mkdir -p $@

# ---- version and install paths, compiled in -----------------------------
# The version: `git describe` of a v* tag, else the VERSION file plus the
# commit when built from git. Paths follow PREFIX; the data directory is
# compiled in so that the installed binary finds its p0f supplement from
# any working directory. A binary that runs from this build directory
# reads the data of this source tree instead (lib/datadir.c).
PREFIX     ?= /usr/local
SBINDIR    ?= $(PREFIX)/sbin
DATADIR    ?= $(PREFIX)/share/hydrascope
MANDIR     ?= $(PREFIX)/share/man
UNITDIR    ?= $(PREFIX)/lib/systemd/system
COMPLETIONDIR ?= $(PREFIX)/share/bash-completion/completions
SYSCONFDIR ?= /etc
VERSION    := $(shell v=$$(git describe --tags --match 'v[0-9]*' --dirty 2>/dev/null) && \
		echo $${v\#v} || { b=$$(cat VERSION); \
		h=$$(git rev-parse --short HEAD 2>/dev/null) && echo $$b+g$$h || echo $$b; })

# Rewritten only when a value changes, so that only its readers rebuild.
.PHONY: FORCE
$(CONFIG_H): FORCE | $(BUILD)
	$(Q)printf '%s\n' '/* generated by the Makefile */' \
		'#define HS_VERSION "$(VERSION)"' \
		'#define HS_DATADIR "$(DATADIR)"' \
		'#define HS_SBINDIR "$(SBINDIR)"' \
		'#define HS_SYSCONFDIR "$(SYSCONFDIR)/hydrascope"' \
		'#define HS_BUILD_DIR "$(abspath $(BUILD))"' \
		'#define HS_SOURCE_DATADIR "$(CURDIR)/deploy"' > $@.tmp
	$(Q)cmp -s $@.tmp $@ && rm -f $@.tmp || mv $@.tmp $@

$(BPF_OBJ): $(BPF_SRC) | $(BUILD)/.deps-build
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) $(DEPFLAGS) -c $< -o $@

$(SKEL): $(BPF_OBJ)
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name hydrascope > $@.tmp && mv $@.tmp $@

# The skeleton is order-only: the first build needs it before any object;
# afterwards the .d files say which objects read it.
$(BUILD)/user/%.o: user/%.c | $(SKEL)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) $(DEPFLAGS) -c $< -o $@

# the first build has no .d files yet to say who reads config.h
$(BUILD)/user/lib/version.o $(BUILD)/san/lib/version.o \
$(BUILD)/fuzzobj/lib/version.o: $(CONFIG_H)

# The rest of what hydrascope_build_info reports (its version is
# HS_VERSION above). Rewritten only when its text changes, so a new commit
# rebuilds metrics.o and nothing else. Without git (a source tarball, a
# minimal root) the commit is "unknown".
BUILD_INFO := $(BUILD)/build_info.h
$(BUILD_INFO): FORCE | $(BUILD)
	$(Q){ c=$$(git rev-parse --short=12 HEAD 2>/dev/null) && \
	  { git diff --quiet HEAD 2>/dev/null || c=$$c-dirty; } || c=unknown; \
	  echo '#define HS_BUILD_COMMIT "'"$$c"'"'; \
	  echo '#define HS_BUILD_COMPILER "clang '"$$($(CLANG) -dumpversion)"'"'; } > $@.tmp
	$(Q)cmp -s $@.tmp $@ && rm $@.tmp || mv $@.tmp $@
$(BUILD)/user/output/metrics.o $(BUILD)/san/output/metrics.o \
	$(BUILD)/fuzzobj/output/metrics.o: $(BUILD_INFO)

$(BUILD)/hydrascope: $(USER_OBJ)
	$(call msg,LD,$@)
	$(Q)$(CC) $(CFLAGS) $^ -o $@ $(LDLIBS)

# The man page and the bash completion come from the option tables of
# the binary itself (user/cli/options.c), as its --help does.
$(BUILD)/hydrascope.8: $(BUILD)/hydrascope
	$(call msg,GEN,$@)
	$(Q)$< --help-man > $@.tmp && mv $@.tmp $@

# the version this tree builds as (tests/install compares --version)
.PHONY: print-version
print-version:
	@echo $(VERSION)

.PHONY: man completion
man: $(BUILD)/hydrascope.8
# deploy/completion/hydrascope is committed; tests/install checks it is
# what the binary generates
completion: $(BUILD)/hydrascope
	$(Q)$< --help-completion > deploy/completion/hydrascope

# ---- install -----------------------------------------------------------
# make install PREFIX=/usr DESTDIR=/tmp/pkg: the binary, its data, the man
# page, the completion, the systemd template and the logrotate file;
# configuration files under /etc are installed only when absent, so a
# reinstall keeps the operator's edits.
INSTALL    ?= install
define install_conf
	$(Q)if [ -e $(2) ]; then echo "  KEEP     $(2)"; \
	else $(INSTALL) -D -m $(3) $(1) $(2); fi
endef

.PHONY: install uninstall
install: $(BUILD)/hydrascope $(BUILD)/hydrascope.8 $(BUILD)/hydrascope@.service
	$(call msg,INSTALL,$(DESTDIR)$(PREFIX))
	$(Q)$(INSTALL) -D -m 755 $(BUILD)/hydrascope $(DESTDIR)$(SBINDIR)/hydrascope
	$(Q)$(INSTALL) -D -m 644 deploy/p0f/hydrascope.fp $(DESTDIR)$(DATADIR)/p0f/hydrascope.fp
	$(Q)$(INSTALL) -D -m 644 deploy/prometheus/hydrascope.rules.yml \
		$(DESTDIR)$(DATADIR)/prometheus/hydrascope.rules.yml
	$(Q)$(INSTALL) -D -m 644 deploy/hydrascope.conf.example \
		$(DESTDIR)$(DATADIR)/hydrascope.conf.example
	$(Q)for d in schema grafana; do [ -d deploy/$$d ] || continue; \
		$(INSTALL) -d $(DESTDIR)$(DATADIR)/$$d; \
		$(INSTALL) -m 644 deploy/$$d/* $(DESTDIR)$(DATADIR)/$$d/; done
	$(Q)$(INSTALL) -D -m 644 $(BUILD)/hydrascope.8 $(DESTDIR)$(MANDIR)/man8/hydrascope.8
	$(Q)$(INSTALL) -D -m 644 deploy/completion/hydrascope \
		$(DESTDIR)$(COMPLETIONDIR)/hydrascope
	$(Q)$(INSTALL) -D -m 644 $(BUILD)/hydrascope@.service \
		$(DESTDIR)$(UNITDIR)/hydrascope@.service
	$(Q)$(INSTALL) -D -m 644 deploy/logrotate/hydrascope \
		$(DESTDIR)$(SYSCONFDIR)/logrotate.d/hydrascope
	$(call install_conf,deploy/hydrascope.conf.example,$(DESTDIR)$(SYSCONFDIR)/hydrascope/hydrascope.conf,644)
	$(call install_conf,deploy/systemd/hydrascope.env,$(DESTDIR)$(SYSCONFDIR)/hydrascope/hydrascope.env,644)

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/hydrascope $(DESTDIR)$(MANDIR)/man8/hydrascope.8 \
		$(DESTDIR)$(COMPLETIONDIR)/hydrascope $(DESTDIR)$(UNITDIR)/hydrascope@.service \
		$(DESTDIR)$(SYSCONFDIR)/logrotate.d/hydrascope
	rm -rf $(DESTDIR)$(DATADIR)

# the unit names the binary where this PREFIX puts it
$(BUILD)/hydrascope@.service: deploy/systemd/hydrascope@.service.in $(CONFIG_H)
	$(call msg,GEN,$@)
	$(Q)sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)/hydrascope|g' \
		$< > $@.tmp && mv $@.tmp $@

# ---- tests -----------------------------------------------------------
# Test binaries and the objects they test are built with ASan/UBSan. Every
# tests/unit/test_*.c and tests/bpf/test_*.c is one cmocka binary (a new
# test file needs no edit here); tests/run.sh runs them all.
SAN        := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
SAN_OBJ    := $(patsubst $(BUILD)/user/%.o,$(BUILD)/san/%.o,$(USER_LIB_OBJ))
TEST_LIBS  := $(LDLIBS) -lcmocka
TEST_SRC   := $(sort $(wildcard tests/unit/test_*.c tests/bpf/test_*.c))
TEST_PROGS := $(patsubst tests/%.c,$(BUILD)/tests/%,$(TEST_SRC))
TEST_BINS  := $(TEST_PROGS) $(BUILD)/hydrascope-san
FUZZ_SECONDS ?= 10
FUZZ_TARGETS ?= $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS  := $(patsubst %,$(BUILD)/fuzz_%,$(FUZZ_TARGETS))

$(BUILD)/san/%.o: user/%.c | $(SKEL)
	$(call msg,CC-SAN,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) $(DEPFLAGS) $(SAN) -c $< -o $@

$(BUILD)/tests/%.o: tests/%.c | $(SKEL)
	$(call msg,CC-SAN,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) $(DEPFLAGS) $(SAN) -Itests/bpf -Itests/unit -c $< -o $@

$(BUILD)/tests/%: $(BUILD)/tests/%.o $(BUILD)/tests/bpf/frames.o $(SAN_OBJ)
	$(call msg,LD,$@)
	$(Q)$(CC) $(CFLAGS) $(SAN) $^ -o $@ $(TEST_LIBS)

# the product itself with ASan/UBSan (tests/scenario/sanitized_replay.sh)
$(BUILD)/hydrascope-san: $(BUILD)/san/cli/main.o $(SAN_OBJ)
	$(call msg,LD,$@)
	$(Q)$(CC) $(CFLAGS) $(SAN) $^ -o $@ $(LDLIBS)

# Documents generated from the threshold list (user/correlate/thresholds.h):
# the example config, its copy among the fuzz seeds (first byte: the config
# parser) and the README's table between its markers.
# tests/docs/thresholds_test.sh checks that they are up to date.
$(BUILD)/tools/%.o: tools/%.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) $(DEPFLAGS) -c $< -o $@

$(BUILD)/gen-thresholds: $(BUILD)/tools/gen-thresholds.o \
		$(BUILD)/user/correlate/config.o $(BUILD)/user/fingerprint/client_family.o
	$(call msg,LD,$@)
	$(Q)$(CC) $(CFLAGS) $^ -o $@ -lm

.PHONY: thresholds-docs
thresholds-docs: $(BUILD)/gen-thresholds
	$(Q)$(BUILD)/gen-thresholds conf > deploy/hydrascope.conf.example
	$(Q){ printf '\002'; cat deploy/hydrascope.conf.example; } \
		> tests/fuzz/corpus/config/corr-example
	$(Q)$(BUILD)/gen-thresholds readme > $(BUILD)/thresholds.md
	$(Q)awk -v t=$(BUILD)/thresholds.md '/^<!-- end of thresholds/ { skip = 0 } \
		!skip { print } \
		/^<!-- thresholds:/ { while ((getline l < t) > 0) print l; skip = 1 }' \
		README.md > $(BUILD)/README.md && mv $(BUILD)/README.md README.md

# The README's screenshot of the status page, from the live test (root,
# network namespaces, headless Chromium), which writes it under
# $(BUILD)/status-page/: make test never rewrites the committed one.
.PHONY: status-screenshot
status-screenshot: all deps-test $(BUILD)/delaylink
	$(Q)tests/live/status_page_test.sh > $(BUILD)/status-screenshot.log 2>&1 || \
		{ tail -20 $(BUILD)/status-screenshot.log; exit 1; }
	$(Q)mkdir -p deploy/screenshots
	$(Q)cp $(BUILD)/status-page/dry-run.png deploy/screenshots/status-page.png
	$(call msg,SHOT,deploy/screenshots/status-page.png)

# test tools: a delayed point-to-point link for relay tests (no netem here)
$(BUILD)/delaylink: tools/delaylink.c | $(BUILD)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $< -o $@

.PHONY: test
test: all deps-test $(TEST_BINS) $(FUZZ_BINS) $(BUILD)/delaylink $(BUILD)/gen-thresholds
	@SHARED_TESTDATA=$(SHARED_TESTDATA) tests/run.sh

.PHONY: test-unit
test-unit: deps-test $(filter $(BUILD)/tests/unit/%,$(TEST_PROGS))
	@set -e; for t in $(filter $(BUILD)/tests/unit/%,$(TEST_PROGS)); do $$t; done

# ---- demo ------------------------------------------------------------
.PHONY: demo
demo: all deps-test
	@echo "== real clients (curl, openssl, gnutls-cli, a scripted client) in netns"
	@$(BUILD)/hydrascope replay tests/data/demo.pcap --local-net 198.18.77.1/32 \
		--local-net fd00:77::1/128
	@echo
	@echo "== a generated hydra cluster: a scripted client behind rotating residential"
	@echo "   proxies and a datacenter farm, among browsers sharing a popular stack, a"
	@echo "   corporate NAT and proxy, a mobile CGNAT, SDK customers with the farm's"
	@echo "   exact stack, a VPN user and a health checker (tools/gen-scenario.py)"
	@python3 tools/gen-scenario.py $(BUILD)/demo-scenario.pcap --span 660
	@perl tools/gen-asn-db.pl $(BUILD)/demo-scenario.pcap.networks.json $(BUILD)/demo-networks.mmdb
	@$(BUILD)/hydrascope replay $(BUILD)/demo-scenario.pcap --no-flows --no-sources \
		--asn-db $(BUILD)/demo-networks.mmdb

.PHONY: demo-capture
demo-capture: all
	@tools/gen-demo-capture.sh tests/data/demo.pcap

.PHONY: format
format:
	clang-format -i bpf/*.c bpf/*.h include/hydrascope/*.h tests/*/*.c \
		tests/*/*.h tools/*.c tools/bench/*.c $(shell find user -name '*.[ch]')

.PHONY: clean
clean:
	rm -rf $(BUILD)

# ---- fuzzing (clang libFuzzer + ASan/UBSan) ---------------------------
FUZZ_SAN   := -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer
FUZZ_OBJ   := $(patsubst $(BUILD)/user/%.o,$(BUILD)/fuzzobj/%.o,$(USER_LIB_OBJ))

$(BUILD)/fuzzobj/%.o: user/%.c | $(SKEL)
	$(call msg,CC-FUZZ,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) $(DEPFLAGS) $(FUZZ_SAN) -c $< -o $@

$(BUILD)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_OBJ)
	$(call msg,LD-FUZZ,$@)
	$(Q)$(CC) $(CFLAGS) -fsanitize=fuzzer,address,undefined $^ -o $@ $(LDLIBS)

# the differential target drives the datapath: it builds frames too
$(BUILD)/fuzz_hello_ids: tests/bpf/frames.c

.PHONY: fuzz-build fuzz
fuzz-build: deps-test $(FUZZ_BINS)

# Each target runs FUZZ_SECONDS from its seed corpus (copied, so the
# committed seeds stay as they are); a crash stops with a reproducer. The
# differential target (kernel vs userspace ids, ~0.2 ms an input through
# BPF_PROG_TEST_RUN) runs FUZZ_RUNS_hello_ids inputs from seed 1 and its
# committed seeds only: the same inputs every time (raise it for a longer
# hunt).
FUZZ_RUNS_hello_ids ?= 20000
fuzz: fuzz-build
	@set -e; for t in $(FUZZ_TARGETS); do \
		[ $$t != hello_ids ] || rm -rf $(BUILD)/fuzz-corpus/$$t; \
		mkdir -p $(BUILD)/fuzz-corpus/$$t; \
		cp -n tests/fuzz/corpus/$$t/* $(BUILD)/fuzz-corpus/$$t/ 2>/dev/null || true; \
		case $$t in \
		hello_ids) lim="-seed=1 -runs=$(FUZZ_RUNS_hello_ids)"; \
			echo "  FUZZ     $$t ($(FUZZ_RUNS_hello_ids) runs)";; \
		*) lim="-max_total_time=$(FUZZ_SECONDS)"; \
			echo "  FUZZ     $$t ($(FUZZ_SECONDS) s)";; \
		esac; \
		LSAN_OPTIONS=suppressions=$(CURDIR)/tests/fuzz/lsan.supp \
		$(BUILD)/fuzz_$$t $$lim -rss_limit_mb=2048 \
			-artifact_prefix=$(BUILD)/fuzz-crash-$$t- $(BUILD)/fuzz-corpus/$$t \
			> $(BUILD)/fuzz-$$t.log 2>&1 || { tail -30 $(BUILD)/fuzz-$$t.log; exit 1; }; \
		grep -E '^#[0-9]+.*DONE' $(BUILD)/fuzz-$$t.log | tail -1; \
	done

# keep intermediate objects of the pattern chains
.SECONDARY:

# ---- benchmarks ---------------------------------------------------------
$(BUILD)/bench_pass.bpf.o: tools/bench/pass.bpf.c | $(BUILD)/.deps-build
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/bench_%: tools/bench/bench_%.c tests/bpf/frames.c $(USER_LIB_OBJ)
	$(call msg,LD,$@)
	$(Q)$(CC) $(CFLAGS) -Itests/bpf $^ -o $@ $(LDLIBS)

# xdp-filter from Debian's xdp-tools, the reference of the datapath table
XDP_FILTER_OBJ ?= /usr/lib/$(shell uname -m)-linux-gnu/bpf/xdpfilt_dny_all.o

$(BUILD)/netblast: tools/bench/netblast.c | $(BUILD)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $< -o $@

# detection quality on generated, labelled farms (not in make test: a
# short version is tests/scenario/detect_test.py)
SEEDS ?= 1,2,3
.PHONY: bench-detect
bench-detect: all
	@python3 tools/bench/bench_detect.py --seeds $(SEEDS) --classic --json $(BUILD)/bench-detect.json

.PHONY: bench
bench: all deps-bench $(BUILD)/bench_datapath $(BUILD)/bench_memory $(BUILD)/bench_pass.bpf.o $(BUILD)/netblast
	@$(BUILD)/bench_datapath $(BUILD)/bench-datapath.json $(BUILD)/bench_pass.bpf.o $(XDP_FILTER_OBJ)
	@$(BUILD)/bench_memory 100000 > $(BUILD)/bench-memory-100k.json
	@$(BUILD)/bench_memory 1000000 > $(BUILD)/bench-memory-1m.json
	@python3 tools/bench/bench_replay.py $(BUILD)/bench-replay.pcap \
		$(BUILD)/bench-replay-scenario.pcap > $(BUILD)/bench-replay.json
	@tools/bench/bench_live.sh > $(BUILD)/bench-live.json
	@python3 tools/bench/report.py $(BUILD)/bench.json $(BUILD)/bench-datapath.json \
		$(BUILD)/bench-memory-100k.json $(BUILD)/bench-memory-1m.json \
		$(BUILD)/bench-replay.json $(BUILD)/bench-live.json


# The replay part of make bench alone: hydrascope, tshark and p0f on the
# bench capture, and replay --threads 1, 2 and one per CPU on it and on a
# scenario capture (build/bench-replay.json and its table).
.PHONY: bench-replay
bench-replay: all deps-bench
	@python3 tools/bench/bench_replay.py $(BUILD)/bench-replay.pcap \
		$(BUILD)/bench-replay-scenario.pcap > $(BUILD)/bench-replay.json
	@python3 tools/bench/report.py --replay $(BUILD)/bench-replay.json

# The fleet transport against a real redis-server and three live instances:
# decisions/s through the stream, decision-to-enforcement time on every
# host (median, p99), Redis memory per 100k tracked sources.
.PHONY: bench-fleet
bench-fleet: all deps-test $(BUILD)/bench_fleet
	@tools/bench/bench_fleet.sh | tee $(BUILD)/bench-fleet.json

# Live farm testbed (tools/testbed/farm.sh): real proxies with per-exit
# device stacks and detours, cloud members, SDK customers, real users and
# headless browsers; hydrascope live in enforce mode. ~4 minutes.
FARM_SECONDS ?= 150
FARM_SEED ?= 1
.PHONY: bench-detect-live
bench-detect-live: all deps-bench $(BUILD)/delaylink
	@tools/testbed/farm.sh --seconds $(FARM_SECONDS) --seed $(FARM_SEED) \
		--out $(BUILD)/bench-detect-live

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
