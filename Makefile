# The two entry points (README): `make demo` and `make check`.  Both set up a
# fresh Debian 12 machine first (scripts/bootstrap: packages, then the pinned
# llama.cpp, built once per machine and cached under ~/.cache/moat; for make
# check also a bare Debian 12 root, cached there too, for the install test).
SHELL := /bin/bash
LLAMA_DIR := $(shell scripts/llama-dir)
export MOAT_LLAMA_DIR := $(LLAMA_DIR)
JOBS ?= $(shell nproc)

.PHONY: all bootstrap build check check-dev check-asan demo fuzz bench clean

all: build

bootstrap:
	@scripts/bootstrap

build: bootstrap
	@cmake --preset dev >/dev/null
	@cmake --build build/dev -j $(JOBS)

# Every test: under AddressSanitizer + UndefinedBehaviorSanitizer the unit
# tests, the fuzz corpora and the command-line tests (but the kill -9 loop,
# label slow), then all of them in the dev build (-Werror).
check: bootstrap check-asan check-dev

check-dev:
	@cmake --preset dev >/dev/null
	@cmake --build build/dev -j $(JOBS)
	cd build/dev && ctest --output-on-failure -j $(JOBS)

check-asan:
	@cmake --preset asan >/dev/null
	@cmake --build build/asan -j $(JOBS)
	cd build/asan && ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure -j $(JOBS) -L 'unit|fuzz|cli' -LE slow

demo:
	@MOAT_BOOTSTRAP_DEBROOT=0 scripts/bootstrap
	@cmake --preset release >/dev/null
	@cmake --build build/release -j $(JOBS)
	@scripts/demo build/release/moat

# libFuzzer builds (clang): `make fuzz`, then run build/fuzz/tests/fuzz_NAME.
fuzz: bootstrap
	@cmake --preset fuzz >/dev/null
	@cmake --build build/fuzz -j $(JOBS)

bench: bootstrap
	@cmake --preset release >/dev/null
	@cmake --build build/release -j $(JOBS)
	@bench/run-all build/release/moat

clean:
	rm -rf build
