# The commands the README documents. Each one installs missing Debian
# packages first (scripts/install-deps), so a fresh machine needs nothing else.
#   make scenarios   the scenario suite against a freshly launched sil-sim
#   make test        every test: C++ unit tests, Python tests, scenarios
BUILD ?= build
BUILD_TYPE ?= RelWithDebInfo
PYTHON := /usr/bin/python3
JOBS ?= $(shell nproc)

.PHONY: all deps configure build test scenarios clean

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

clean:
	rm -rf $(BUILD)
