# mpolice-agent — the two quick-start commands are `make demo` and `make test`; both run
# `make setup` first, which installs the Debian packages the project needs when missing.
SHELL := /bin/bash
.DEFAULT_GOAL := build

SWIFT        ?= swift
DEBUG_BIN    := .build/debug
RELEASE_BIN  := .build/release
BENCH_RECORDS ?= 1000000
BENCH_CHECKS  ?= 10000
BENCH_REGISTRATIONS ?= 5000000
BENCH_LICENCES ?= 2000000
# Parts of `make bench` (comma-separated: core, photos, documents, fleet); empty: all of them.
BENCH ?=

# Build: SQLite, libgps, libcurl and zlib headers. Tests and demo: sqlite3 shell, gpsd with
# gpsfake, nginx, openssl, curl, systemd-analyze, faketime (diag under a skewed clock),
# python3 with venv (schemathesis and openapi-spec-validator from PyPI).
# libturbojpeg0-dev: the reference center's synthetic photos (JPEG).
# Packaging: binutils (strip, objcopy), icu-devtools (icupkg checks the package's ICU table), help2man (man pages), lintian. oathtool: the TOTP oracle in tests; cryptsetup-bin: the LUKS oracle;
# chromium, chromium-driver and fonts-noto-cjk: the officer's screen in a real browser (Selenium from PyPI).
APT_PACKAGES := oathtool postgresql-15 libpq-dev libsqlite3-dev libgps-dev libcurl4-openssl-dev zlib1g-dev libturbojpeg0-dev pkg-config sqlite3 gpsd gpsd-clients \
                nginx openssl curl ca-certificates python3 python3-venv systemd util-linux binutils icu-devtools help2man lintian faketime \
                cryptsetup-bin chromium chromium-driver fonts-noto-cjk
PYTOOLS      := .build/pytools
SCHEMATHESIS := schemathesis==4.32.5
OPENAPI_VALIDATOR := openapi-spec-validator==0.9.0
SELENIUM     := selenium==4.27.1

# The package's version is the agent's own (AgentVersion.current, sent in health reports).
DEB_VERSION  ?= $(shell sed -n 's/.*static let current = "\(.*\)".*/\1/p' Sources/FieldWire/HealthReport.swift)
DEB_BUILD    := .build/deb
# The toolchain's static libraries (--static-swift-stdlib links them).
SWIFT_STATIC := $(realpath $(dir $(realpath $(shell command -v swiftc)))../lib/swift_static/linux)
ARCH         := $(shell dpkg --print-architecture)
DEB          := dist/mpolice-agent_$(DEB_VERSION)_$(ARCH).deb

.PHONY: setup build test test-swift test-deb bench deb demo clean

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
	@# schemathesis and openapi-spec-validator for the API document's tests, Selenium for the
	@# screen's, in a venv of their own (PyPI, pinned).
	@if [ ! -x $(PYTOOLS)/bin/schemathesis ] || [ ! -x $(PYTOOLS)/bin/openapi-spec-validator ] \
	    || ! $(PYTOOLS)/bin/python3 -c 'import selenium' 2>/dev/null; then \
	  echo "setup: installing $(SCHEMATHESIS) $(OPENAPI_VALIDATOR) $(SELENIUM) into $(PYTOOLS)"; \
	  python3 -m venv $(PYTOOLS) && $(PYTOOLS)/bin/pip install -q --disable-pip-version-check $(SCHEMATHESIS) $(OPENAPI_VALIDATOR) $(SELENIUM); \
	fi

build: setup
	$(SWIFT) build

test: test-swift test-deb

test-swift: setup
	$(SWIFT) build --build-tests
	@# One test at a time: many tests block on real processes, and on a 2-core machine
	@# parallel suites starve the cooperative pool that the async tests need.
	MPOLICE_BIN_DIR=$(CURDIR)/$(DEBUG_BIN) $(SWIFT) test --skip-build --no-parallel

# The package: release binaries with the Swift runtime linked in, so a terminal needs no
# Swift; lintian must report no error (warnings: docs/packaging.md).
deb: setup
	@# ICU's data table cut down to the terminal's locales (docs/packaging.md), built in through Sources/CICUData.
	Packaging/icu-data.py $(SWIFT_STATIC)/lib_FoundationICU.a $(DEB_BUILD)/icu
	$(SWIFT) build -c release --static-swift-stdlib --scratch-path $(DEB_BUILD) --product mpolice \
	    -Xcc -DMPOLICE_ICU_SUBSET -Xcc -I$(CURDIR)/$(DEB_BUILD)/icu
	Packaging/build-deb.sh $(DEB_VERSION) $(DEB_BUILD)/release dist
	lintian --fail-on error,warning --tag-display-limit 0 $(DEB)

# Installs, upgrades (N → N+1 with data) and purges the package on this machine (root).
test-deb: deb
	Packaging/build-deb.sh $(DEB_VERSION)+next $(DEB_BUILD)/release dist
	Packaging/test-deb.sh $(DEB) dist/mpolice-agent_$(DEB_VERSION)+next_$(ARCH).deb

# The package is built only when the core part (its footprint figures) runs.
bench: setup $(if $(BENCH),$(if $(findstring core,$(BENCH)),deb),deb)
	$(SWIFT) build -c release --product mpolice-bench
	$(SWIFT) build -c release --product mpoliced
	$(SWIFT) build -c release --product mpolice-central
	$(RELEASE_BIN)/mpolice-bench --records $(BENCH_RECORDS) --checks $(BENCH_CHECKS) --registrations $(BENCH_REGISTRATIONS) --licences $(BENCH_LICENCES) --work bench-work --out bench-results.json --readme README.md \
	    --deb $(DEB) --packaged $(DEB_BUILD)/release/mpolice $(if $(BENCH),--only $(BENCH))

demo: setup
	$(SWIFT) build
	MPOLICE_BIN_DIR=$(CURDIR)/$(DEBUG_BIN) ./scripts/demo.sh

clean:
	rm -rf .build bench-work demo-state dist
