# mpolice-agent — the two quick-start commands are `make demo` and `make test`; both run
# `make setup` first, which installs the Debian packages the project needs when missing.
SHELL := /bin/bash
.DEFAULT_GOAL := build

SWIFT        ?= swift
DEBUG_BIN    := .build/debug
RELEASE_BIN  := .build/release
BENCH_RECORDS ?= 1000000
BENCH_CHECKS  ?= 10000

# Build: SQLite, libgps, libcurl and zlib headers. Tests and demo: sqlite3 shell, gpsd with
# gpsfake, nginx, openssl, curl, systemd-analyze, python3 with venv (schemathesis from PyPI).
APT_PACKAGES := libsqlite3-dev libgps-dev libcurl4-openssl-dev zlib1g-dev pkg-config sqlite3 gpsd gpsd-clients \
                nginx openssl curl ca-certificates python3 python3-venv systemd util-linux
PYTOOLS      := .build/pytools
SCHEMATHESIS := schemathesis==4.32.5

.PHONY: setup build test bench demo clean

setup:
	@missing=""; \
	for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' "$$p" 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -z "$$missing" ]; then echo "setup: all Debian packages present"; exit 0; fi; \
	echo "setup: installing$$missing"; \
	SUDO=""; [ "$$(id -u)" -eq 0 ] || SUDO="sudo"; \
	$$SUDO apt-get update -qq && \
	DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing >/dev/null
	@# schemathesis for the API conformance test, in a venv of its own (PyPI, pinned).
	@if [ ! -x $(PYTOOLS)/bin/schemathesis ]; then \
	  echo "setup: installing $(SCHEMATHESIS) into $(PYTOOLS)"; \
	  python3 -m venv $(PYTOOLS) && $(PYTOOLS)/bin/pip install -q --disable-pip-version-check $(SCHEMATHESIS); \
	fi

build: setup
	$(SWIFT) build

test: setup
	$(SWIFT) build --build-tests
	MPOLICE_BIN_DIR=$(CURDIR)/$(DEBUG_BIN) $(SWIFT) test --skip-build

bench: setup
	$(SWIFT) build -c release --product mpolice-bench
	$(SWIFT) build -c release --product mpoliced
	$(RELEASE_BIN)/mpolice-bench --records $(BENCH_RECORDS) --checks $(BENCH_CHECKS) --work bench-work --out bench-results.json

demo: setup
	$(SWIFT) build
	MPOLICE_BIN_DIR=$(CURDIR)/$(DEBUG_BIN) ./scripts/demo.sh

clean:
	rm -rf .build bench-work demo-state
