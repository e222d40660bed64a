# The commands README.md and docs/testing.md document. Each one installs missing Debian
# packages first (scripts/install-deps), so a fresh machine needs nothing else.
#   make scenarios   the scenario suites against freshly launched simulators (builds only what they run)
#   make install     installs sil into PREFIX (default /usr/local)
#   make test        every test: C++ unit tests, Python tests, scenarios
#   make sanitize    the C++ tests under ASan+UBSan, and the threaded ones under TSan
#   make fuzz        each libFuzzer target for FUZZ_SECONDS (clang, build-fuzz/)
#   make soak        sil-sim under sustained load and overload (SOAK_SECONDS)
BUILD ?= build
BUILD_TYPE ?= RelWithDebInfo
PYTHON := /usr/bin/python3
JOBS ?= $(shell nproc)

.PHONY: all deps configure build test scenarios sanitize clean bench fuzz soak install

all: build

deps:
	@./scripts/install-deps

configure: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) -DPython_EXECUTABLE=$(PYTHON)

build: configure
	cmake --build $(BUILD) -j$(JOBS)

test: build
	ctest --test-dir $(BUILD) --output-on-failure

# The quick edit-run loop. scenarios/ hold for any system: against sil-sim
# (the framework's own), then with the thermal example's scenarios against
# its simulator. It builds only what they run (the two simulators and their
# Python modules, which bring the sil package with them), not the tests,
# benchmarks and fuzz programs `make test` builds, and shows only warnings,
# errors and pytest's summary (the build's full output: $(BUILD)/scenarios-build.log).
SCENARIO_TARGETS := sil-sim thermal-sim _core thermal_sil
QUIET_BUILD := $(PYTHON) scripts/quiet-build $(BUILD)/scenarios-build.log

scenarios: deps
	@mkdir -p $(BUILD)
	@test -f $(BUILD)/CMakeCache.txt || $(QUIET_BUILD) \
	  cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) -DPython_EXECUTABLE=$(PYTHON)
	@$(QUIET_BUILD) cmake --build $(BUILD) -j$(JOBS) --target $(SCENARIO_TARGETS)
	@PYTHONPATH=$(CURDIR)/$(BUILD)/python $(PYTHON) -m pytest -q -p no:cacheprovider \
	  --sil-sim=$(CURDIR)/$(BUILD)/bin/sil-sim scenarios
	@PYTHONPATH=$(CURDIR)/$(BUILD)/python $(PYTHON) -m pytest -q -p no:cacheprovider \
	  --sil-sim=$(CURDIR)/$(BUILD)/bin/thermal-sim --sil-module=thermal_sil scenarios examples/thermal/scenarios

# Installs sil (headers, libraries, CMake package, sil-sim, sil-rec, the
# Python package) into PREFIX (docs/cmake.md "Installing sil").
PREFIX ?= /usr/local
install: build
	cmake --install $(BUILD) --prefix $(PREFIX)

# Speed benchmarks (tests/bench/run.py): always a Release build, in its own
# directory so it never reconfigures $(BUILD). Results: $(BENCH_BUILD)/bench/results.json.
# BENCH_ARGS=--quick for a short smoke run.
BENCH_BUILD ?= build-bench
BENCH_ARGS ?=

bench: deps
	cmake -S . -B $(BENCH_BUILD) -DCMAKE_BUILD_TYPE=Release -DSIL_LTO=ON -DPython_EXECUTABLE=$(PYTHON)
	cmake --build $(BENCH_BUILD) -j$(JOBS) --target bench_programs
	PYTHONPATH=$(CURDIR)/$(BENCH_BUILD)/python PYTHONDONTWRITEBYTECODE=1 \
	  $(PYTHON) tests/bench/run.py --build $(CURDIR)/$(BENCH_BUILD) $(BENCH_ARGS)

# Sanitizer builds, each in its own directory (the Python extension is left
# out: the interpreter is not built with the sanitizers). Any report fails.
ASAN_BUILD ?= build-asan
TSAN_BUILD ?= build-tsan
SAN_FLAGS := -fno-omit-frame-pointer -fno-sanitize-recover=all

sanitize: deps
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DSIL_BUILD_PYTHON=OFF \
	  -DCMAKE_CXX_FLAGS="-fsanitize=address,undefined $(SAN_FLAGS)"
	cmake --build $(ASAN_BUILD) -j$(JOBS)
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  ctest --test-dir $(ASAN_BUILD) --output-on-failure
	# -Wno-tsan: GCC warns that asio's atomic_thread_fence is not modelled.
	cmake -S . -B $(TSAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DSIL_BUILD_PYTHON=OFF \
	  -DCMAKE_CXX_FLAGS="-fsanitize=thread -O1 -Wno-tsan $(SAN_FLAGS)"
	cmake --build $(TSAN_BUILD) -j$(JOBS) --target bridge_tests integration_tests alloc_tests record_tests
	TSAN_OPTIONS=halt_on_error=1 \
	  ctest --test-dir $(TSAN_BUILD) -L 'bridge_tests|integration_tests|alloc_tests|record_tests' --output-on-failure

# libFuzzer targets (tests/fuzz), built with clang: the libraries carry the
# coverage instrumentation (fuzzer-no-link), each target links libFuzzer.
# Runs each target FUZZ_SECONDS on a scratch copy of its seed corpus.
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 60

fuzz: deps
	cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ \
	  -DSIL_BUILD_PYTHON=OFF -DSIL_BUILD_FUZZERS=ON \
	  -DCMAKE_CXX_FLAGS="-fsanitize=fuzzer-no-link,address,undefined $(SAN_FLAGS)"
	cmake --build $(FUZZ_BUILD) -j$(JOBS) --target sil_fuzzers
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  tests/fuzz/run $(FUZZ_BUILD) $(FUZZ_SECONDS)

# Sustained load, then overload, against a launched sil-sim (tests/soak):
# prints a summary, fails if anything is lost uncounted, grows or stalls.
SOAK_SECONDS ?= 60
SOAK_RATE ?= 20000

soak: build
	$(BUILD)/bin/sil_soak --seconds $(SOAK_SECONDS) --rate $(SOAK_RATE)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(TSAN_BUILD) $(FUZZ_BUILD)
