# The two commands of the README:  make run   (the cloud on this machine)   make test
# make lint: style (ruff), import contracts (import-linter), types (mypy), no import cycles
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/cloudproj
TEST_BROKER_URL ?= redis://127.0.0.1:6379/15

.PHONY: run test deps deps-dev host-packages services

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

deps: host-packages $(VENV)/.deps
deps-dev: host-packages $(VENV)/.deps-dev

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

test: deps-dev services
	DATABASE_URL=$(TEST_DATABASE_URL) CELERY_BROKER_URL=$(TEST_BROKER_URL) \
	  $(PY) -m pytest $(PYTEST_ARGS)
