# SPDX-License-Identifier: Apache-2.0
# Convenience wrapper around CMake (GNU make). The real build is CMakeLists.txt;
# `make help` lists the targets. A build folder is configured only once (when
# it has no CMakeCache.txt): later runs just build, incrementally. To change
# options, delete the folder (or `make clean`), or run cmake on it yourself.

JOBS ?= $(shell nproc)
MAKEFLAGS += --no-print-directory
BUILD_TYPE ?= RelWithDebInfo
PREFIX ?= /usr/local
DESTDIR ?=
FUZZ_SECONDS ?= 30

BUILD_DIR ?= build
ASAN_DIR ?= build-asan
FUZZ_DIR ?= build-fuzz

# The sanitizer build uses gcc: with clang, shared libraries built with
# -fsanitize=address leave the runtime's symbols undefined, which the
# -Wl,--no-undefined of src/CMakeLists.txt rejects.
ASAN_CC ?= gcc
FUZZ_CC ?= clang

CMAKE ?= cmake
CTEST ?= ctest
CLANG_FORMAT ?= clang-format
DEPS := scripts/install-deps.sh

# Extra -D options for every configure step, e.g. CMAKE_ARGS=-DBLAKE3_C_DIR=/src/BLAKE3/c
CMAKE_ARGS ?=
# CI sets CI=true: there, warnings are errors.
ifeq ($(CI),true)
CMAKE_ARGS += -DSECUREIO_WERROR=ON
endif

# Our own sources, for `make format`.
FORMAT_DIRS := include src tools tests bench fuzz
FORMAT_FILES = $(shell find $(FORMAT_DIRS) -name '*.[ch]' -not -path 'fuzz/corpus/*' 2>/dev/null)

.PHONY: all build test demo bench fuzz asan install clean format format-check deps help

all: build

# ------------------------------------------------------------ configure steps
# A failed configure leaves a CMakeCache.txt behind; remove it so that the next
# run configures again.
$(BUILD_DIR)/CMakeCache.txt:
	$(CMAKE) -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) \
	    -DCMAKE_INSTALL_PREFIX=$(PREFIX) $(CMAKE_ARGS) || { rm -f $@; exit 1; }

$(ASAN_DIR)/CMakeCache.txt:
	CC=$(ASAN_CC) $(CMAKE) -S . -B $(ASAN_DIR) -DCMAKE_BUILD_TYPE=Debug \
	    -DSECUREIO_SANITIZE=ON $(CMAKE_ARGS) || { rm -f $@; exit 1; }

# Only the libraries and the fuzz targets: no tests, tools or benchmarks.
$(FUZZ_DIR)/CMakeCache.txt:
	CC=$(FUZZ_CC) $(CMAKE) -S . -B $(FUZZ_DIR) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	    -DSECUREIO_FUZZ=ON -DBUILD_TESTING=OFF -DSECUREIO_BUILD_BENCH=OFF \
	    -DSECUREIO_BUILD_TOOLS=OFF $(CMAKE_ARGS) || { rm -f $@; exit 1; }

# ---------------------------------------------------------------- targets
build: $(BUILD_DIR)/CMakeCache.txt
	$(CMAKE) --build $(BUILD_DIR) -j $(JOBS)

deps:
	$(DEPS)

test: deps
	$(MAKE) --no-print-directory build
	$(CTEST) --test-dir $(BUILD_DIR) --output-on-failure

# Only what the demo runs: two secureio endpoints (secureio-demo), the
# libtwoway example, the twoway CLI, and Oblivious HTTP through a relay and
# a gateway to an origin on loopback (scripts/ohttp_demo.sh).
demo: deps
	$(MAKE) --no-print-directory $(BUILD_DIR)/CMakeCache.txt
	$(CMAKE) --build $(BUILD_DIR) -j $(JOBS) --target secureio-demo hpke-demo twoway-cli
	@for t in secureio-demo hpke-demo twoway; do test -x $(BUILD_DIR)/tools/$$t || \
	    { echo "demo: $(BUILD_DIR)/tools/$$t was not built" >&2; exit 1; }; done
	$(BUILD_DIR)/tools/secureio-demo
	@echo
	$(BUILD_DIR)/tools/hpke-demo
	@echo
	scripts/demo.sh $(BUILD_DIR)/tools/twoway
	@echo
	scripts/ohttp_demo.sh $(BUILD_DIR)/tools/twoway

bench: build
	@set -e; found=0; \
	for b in $$(find $(BUILD_DIR)/bench -maxdepth 1 -type f -perm -u+x -name 'bench-*' 2>/dev/null | sort); do \
	    found=1; echo "==> $$b"; $$b; \
	done; \
	if [ $$found = 0 ]; then echo "bench: no bench-* program in $(BUILD_DIR)/bench"; fi

# Each fuzz-NAME runs for FUZZ_SECONDS, seeded from fuzz/corpus/NAME/ when that
# exists. New inputs go to $(FUZZ_DIR)/corpus/NAME/ and crashes to
# $(FUZZ_DIR)/artifacts/, so the checked-in corpus is never modified.
fuzz:
	$(DEPS) --with-fuzz
	$(MAKE) --no-print-directory $(FUZZ_DIR)/CMakeCache.txt
	$(CMAKE) --build $(FUZZ_DIR) -j $(JOBS)
	@set -e; found=0; mkdir -p $(FUZZ_DIR)/artifacts; \
	for f in $$(find $(FUZZ_DIR)/fuzz -maxdepth 1 -type f -perm -u+x -name 'fuzz-*' 2>/dev/null | sort); do \
	    found=1; name=$$(basename $$f); name=$${name#fuzz-}; \
	    mkdir -p $(FUZZ_DIR)/corpus/$$name; \
	    seeds=; if [ -d fuzz/corpus/$$name ]; then seeds=fuzz/corpus/$$name; fi; \
	    echo "==> $$f for $(FUZZ_SECONDS) s (corpus $(FUZZ_DIR)/corpus/$$name $$seeds)"; \
	    $$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	        -artifact_prefix=$(FUZZ_DIR)/artifacts/$$name- \
	        $(FUZZ_DIR)/corpus/$$name $$seeds; \
	done; \
	if [ $$found = 0 ]; then echo "fuzz: no fuzz-* target in $(FUZZ_DIR)/fuzz"; fi

# ASan + UBSan (no recovery: the first error fails the test), leak checks on.
asan: $(ASAN_DIR)/CMakeCache.txt
	$(CMAKE) --build $(ASAN_DIR) -j $(JOBS)
	ASAN_OPTIONS=$${ASAN_OPTIONS:-detect_leaks=1} \
	UBSAN_OPTIONS=$${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
	    $(CTEST) --test-dir $(ASAN_DIR) --output-on-failure

# Configure again with PREFIX, so that the installed CMake package and
# paths match it (the .pc files find their prefix from their own folder).
install: $(BUILD_DIR)/CMakeCache.txt
	$(CMAKE) -S . -B $(BUILD_DIR) -DCMAKE_INSTALL_PREFIX=$(PREFIX) > /dev/null
	$(CMAKE) --build $(BUILD_DIR) -j $(JOBS)
	DESTDIR=$(DESTDIR) $(CMAKE) --install $(BUILD_DIR)

clean:
	rm -rf $(BUILD_DIR) $(ASAN_DIR) $(FUZZ_DIR)

# (With no file, clang-format would read standard input: hence the test.)
format:
	@test -n "$(FORMAT_FILES)" || { echo "format: no .c/.h file"; exit 0; }; \
	$(CLANG_FORMAT) -i $(FORMAT_FILES)

# Fails when a file is not formatted; changes nothing.
format-check:
	@test -n "$(FORMAT_FILES)" || { echo "format-check: no .c/.h file"; exit 0; }; \
	$(CLANG_FORMAT) --dry-run --Werror $(FORMAT_FILES)

help:
	@echo "Targets:"
	@echo "  all (default)  configure (once) and build into $(BUILD_DIR)/ ($(BUILD_TYPE))"
	@echo "  test           install missing packages, build, run ctest"
	@echo "  demo           install missing packages, build what the demo needs, run secureio-demo"
	@echo "                 (two sessions on loopback UDP), hpke-demo and the twoway CLI"
	@echo "  bench          build, run every $(BUILD_DIR)/bench/bench-* program"
	@echo "  fuzz           clang + libFuzzer build in $(FUZZ_DIR)/, run each fuzz-* FUZZ_SECONDS"
	@echo "  asan           ASan+UBSan build in $(ASAN_DIR)/ ($(ASAN_CC)), run ctest there"
	@echo "  install        build, then install to DESTDIR/PREFIX"
	@echo "  deps           install missing Debian packages (scripts/install-deps.sh)"
	@echo "  format         clang-format -i our .c/.h files; format-check only reports"
	@echo "  clean          remove $(BUILD_DIR)/ $(ASAN_DIR)/ $(FUZZ_DIR)/"
	@echo "Variables (now):"
	@echo "  JOBS=$(JOBS) BUILD_TYPE=$(BUILD_TYPE) PREFIX=$(PREFIX) DESTDIR=$(DESTDIR)"
	@echo "  FUZZ_SECONDS=$(FUZZ_SECONDS) CMAKE_ARGS=$(CMAKE_ARGS)"
	@echo "  BUILD_DIR=$(BUILD_DIR) ASAN_DIR=$(ASAN_DIR) FUZZ_DIR=$(FUZZ_DIR)"
