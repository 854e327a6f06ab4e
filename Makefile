# Portal de Atendimento. `make help` lists the targets.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP_QUIET := --quiet --disable-pip-version-check
PYTEST_ARGS ?=
BENCH_REQUESTS ?= 100000
export FLASK_APP := wsgi

.DEFAULT_GOAL := help
.PHONY: help install vendor chromium db demo-data demo backup run scheduler lint format test test-sqlite test-postgres bench bench-autoclose clean

help: ## list the targets
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  make %-14s %s\n", $$1, $$2}'

$(VENV)/.installed: setup.cfg pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install $(PIP_QUIET) --upgrade pip 2>&1 | grep -v "^WARNING: Location" || true
	$(BIN)/pip install $(PIP_QUIET) -e '.[dev]' 2>&1 | grep -v "^WARNING: Location" ; test $${PIPESTATUS[0]} -eq 0
	@touch $@

install: $(VENV)/.installed ## create .venv and install the package with its dev tools

node_modules/.installed: package.json package-lock.json
	npm ci --no-fund --no-audit --ignore-scripts
	@touch $@

static/vendor/.built: node_modules/.installed scripts/build_vendor.py | $(VENV)/.installed
	$(BIN)/python scripts/build_vendor.py
	@touch $@

vendor: static/vendor/.built ## install front-end packages (npm) and copy what is served to static/vendor

chromium: ## install Debian's chromium for the browser tests when missing (needs root)
	@if [ -x /usr/bin/chromium ]; then :; \
	elif [ "$$(id -u)" = "0" ]; then \
	  echo "Installing Debian's chromium for the browser tests..."; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	  || echo "!!! could not install chromium: browser tests will be SKIPPED !!!"; \
	else \
	  echo "!!! /usr/bin/chromium is missing and we are not root: browser tests will be SKIPPED !!!"; \
	fi

db: install ## create or upgrade the database schema (SQLite in instance/ by default)
	$(BIN)/flask portal init

demo-data: db ## load the demo data (safe to run again)
	$(BIN)/flask portal demo-data

demo: install vendor demo-data ## set everything up and run the portal with its scheduler on http://127.0.0.1:5000
	@bash scripts/run_demo.sh

backup: install ## copy the database, the attachments and a manifest into instance/backups/ (portal backup)
	$(BIN)/flask portal backup

run: install vendor ## run only the web server (development)
	$(BIN)/flask run --host 127.0.0.1 --port 5000

scheduler: install ## run only the scheduler process
	$(BIN)/python scheduler.py

lint: install ## ruff check, ruff format --check and the type checker (mypy over portal/)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: install ## format the code with ruff
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

test-sqlite: install vendor chromium
	PORTAL_TEST_DATABASE_URL= $(BIN)/python -m pytest $(PYTEST_ARGS)

test-postgres: install vendor chromium
	@if [ -n "$$PORTAL_TEST_DATABASE_URL" ]; then \
	  echo "== the same suite on $$PORTAL_TEST_DATABASE_URL =="; \
	  $(BIN)/python -m pytest $(PYTEST_ARGS); \
	else echo "PORTAL_TEST_DATABASE_URL is not set: PostgreSQL run skipped"; fi

test: install vendor chromium ## lint (ruff, mypy), then every test on SQLite, then on PostgreSQL when PORTAL_TEST_DATABASE_URL is set
	@$(MAKE) --no-print-directory lint
	@echo "== the suite on SQLite =="
	@$(MAKE) --no-print-directory test-sqlite
	@$(MAKE) --no-print-directory test-postgres

bench: install ## benchmark against the stack's own ceiling (BENCH_REQUESTS=100000; 1000000 for the big run)
	$(BIN)/python bench/run.py --requests $(BENCH_REQUESTS) $(BENCH_ARGS)

bench-autoclose: install ## time the auto-close job on a copy of the bench database (100,000 due at a million)
	$(BIN)/python bench/autoclose.py --requests $(BENCH_REQUESTS) $(BENCH_ARGS)

clean: ## remove the virtualenv, node_modules, static/vendor and caches (keeps instance/)
	rm -rf $(VENV) node_modules static/vendor .pytest_cache .ruff_cache .hypothesis *.egg-info
