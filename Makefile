# The two commands of the README:  make run   (the cloud on this machine)   make test
# make lint: style (ruff), import contracts (import-linter), types (mypy), no import cycles
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/cloudproj
TEST_BROKER_URL ?= redis://127.0.0.1:6379/15

.PHONY: run test test-fast deps deps-dev host-packages services

host-packages:
	@bash scripts/host-packages.sh

$(VENV)/.deps: requirements.txt | host-packages
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt
	@touch $@

$(VENV)/.deps-dev: $(VENV)/.deps requirements-dev.txt
	$(PY) -m pip install -q -r requirements-dev.txt
	@touch $@

# noVNC (package.json, pinned by package-lock.json), served by Django staticfiles from node_modules.
node_modules/.package-lock.json: package.json package-lock.json | host-packages
	npm ci --ignore-scripts --no-audit --no-fund

deps: host-packages $(VENV)/.deps node_modules/.package-lock.json
deps-dev: host-packages $(VENV)/.deps-dev node_modules/.package-lock.json

services:
	@bash scripts/services.sh

.PHONY: lint
lint: deps-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy
	$(PY) scripts/check_import_cycles.py

run: deps-dev
	@$(PY) scripts/run.py

# Two passes: the fast tier (markers below) on one worker per core, then everything else (real
# guests, faults, browsers, `make run`) one test at a time, as those share the host. Both always
# run; the target fails if either does (pytest's 5, nothing selected, counts as a pass: a
# PYTEST_ARGS that names only fast or only slow tests). --durations: CI's log ends with the 25
# slowest tests.
test: deps-dev services
	@DATABASE_URL=$(TEST_DATABASE_URL) CELERY_BROKER_URL=$(TEST_BROKER_URL) \
	  $(PY) -m pytest -m "$(FAST_MARKERS)" -n $(FAST_WORKERS) --dist loadfile --durations=10 $(PYTEST_ARGS); \
	fast=$$?; \
	DATABASE_URL=$(TEST_DATABASE_URL) CELERY_BROKER_URL=$(TEST_BROKER_URL) \
	  $(PY) -m pytest -m "not ($(FAST_MARKERS))" --durations=25 $(PYTEST_ARGS); \
	slow=$$?; \
	echo "make test: fast tier exit $$fast, real-process tier exit $$slow"; \
	[ $$fast -eq 0 -o $$fast -eq 5 ] && [ $$slow -eq 0 -o $$slow -eq 5 ]

# The fast tier: no real guests, fault tests, browsers, `make run` end to end or other real
# processes and clients (markers: pytest.ini, set by cloudproj/testing/plugin.py), one pytest
# worker per core (pytest-xdist; a test module's tests stay on one worker).
FAST_MARKERS := not slow and not qemu and not faults and not browser and not e2e
FAST_WORKERS ?= auto
test-fast: deps-dev services
	DATABASE_URL=$(TEST_DATABASE_URL) CELERY_BROKER_URL=$(TEST_BROKER_URL) \
	  $(PY) -m pytest -m "$(FAST_MARKERS)" -n $(FAST_WORKERS) --dist loadfile --durations=10 $(PYTEST_ARGS)

# OpenStack's tempest (pinned: conformance/requirements.txt, own venv .cache/tempest-venv) against a
# private cloud (.cache/conformance-cloud, ports 18774/18775, bridge cptconf0, DB cloudproj_conformance,
# Redis db 12): tempest.api.{compute,image,volume,identity}, minus conformance/skip.txt; non-zero on any
# failure. Runs next to `make run`. Not part of `make test` yet: it joins `make test` (and so .ci/run)
# once it reports 0 failures (today's failures, by cause: conformance/FAILURES.md).
.PHONY: conformance
conformance: deps-dev services
	$(PY) scripts/conformance.py $(CONFORMANCE_ARGS)
