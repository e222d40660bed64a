# The commands the README documents. Each one installs missing Debian
# packages first (scripts/install-deps), so a fresh machine needs nothing else.
#   make scenarios   the scenario suite against a freshly launched sil-sim
#   make test        every test: C++ unit tests, Python tests, scenarios
BUILD ?= build
BUILD_TYPE ?= RelWithDebInfo
PYTHON := /usr/bin/python3
JOBS ?= $(shell nproc)

.PHONY: all deps configure build test scenarios clean bench

all: build

deps:
	./scripts/install-deps

configure: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) -DPython_EXECUTABLE=$(PYTHON)

build: configure
	cmake --build $(BUILD) -j$(JOBS)

test: build
	ctest --test-dir $(BUILD) --output-on-failure

scenarios: build
	PYTHONPATH=$(CURDIR)/$(BUILD)/python SIL_SIM=$(CURDIR)/$(BUILD)/bin/sil-sim \
	  $(PYTHON) -m pytest -v -p no:cacheprovider scenarios

# Speed benchmarks (tests/bench/run.py): always a Release build, in its own
# directory so it never reconfigures $(BUILD). Results: $(BENCH_BUILD)/bench/results.json.
# BENCH_ARGS=--quick for a short smoke run.
BENCH_BUILD ?= build-bench
BENCH_ARGS ?=

bench: deps
	cmake -S . -B $(BENCH_BUILD) -DCMAKE_BUILD_TYPE=Release -DPython_EXECUTABLE=$(PYTHON)
	cmake --build $(BENCH_BUILD) -j$(JOBS)
	PYTHONPATH=$(CURDIR)/$(BENCH_BUILD)/python PYTHONDONTWRITEBYTECODE=1 \
	  $(PYTHON) tests/bench/run.py --build $(CURDIR)/$(BENCH_BUILD) $(BENCH_ARGS)

clean:
	rm -rf $(BUILD)
