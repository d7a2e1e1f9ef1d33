# Everyday commands. They use the active virtualenv, or .venv when none is active
# (`make install` creates it). .ci/run is what CI runs; these are for people.
VENV ?= .venv
BIN := $(if $(VIRTUAL_ENV),$(VIRTUAL_ENV)/bin,$(VENV)/bin)
PYTHON := $(BIN)/python
FLASK := $(BIN)/flask --app app
PORT ?= 5000
PG_URL ?= postgresql://postgres@127.0.0.1:5432/test
BENCH ?= tests/bench/bench_pages.py
LOCK_DIR := /tmp/opora-lock

.PHONY: help install run lint mypy test test-pg e2e bench lock

help:
	@echo "make install   virtualenv .venv with the runtime and the tools (pinned by requirements.lock)"
	@echo "make run       the demo panel on SQLite at http://127.0.0.1:$(PORT) (development only)"
	@echo "make lint      ruff check, ruff format --check, mypy on models/ and workflows/"
	@echo "make test      the suite on SQLite (the README's test command)"
	@echo "make test-pg   the suite on PostgreSQL ($(PG_URL); each run makes its own database)"
	@echo "make e2e       the end-to-end tests in headless Chromium"
	@echo "make bench     the page benchmark on PostgreSQL (BENCH=tests/bench/bench_export.py …)"
	@echo "make lock      regenerate requirements.lock from a clean venv"

install:
	test -x $(VENV)/bin/python || python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -r requirements-dev.txt
	$(VENV)/bin/pip check

run:
	$(FLASK) db upgrade
	$(FLASK) seed --demo
	$(FLASK) run --port $(PORT)

lint:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

mypy:
	$(BIN)/mypy

# pytest exits 5 when it collected nothing: a failure here as in .ci/run.
test:
	env -u DATABASE_URL $(PYTHON) -m pytest -q $(ARGS); status=$$?; \
	  if [ $$status -eq 5 ]; then echo "no tests were collected" >&2; exit 1; fi; exit $$status

test-pg:
	DATABASE_URL=$(PG_URL) $(PYTHON) -m pytest -q $(ARGS); status=$$?; \
	  if [ $$status -eq 5 ]; then echo "no tests were collected" >&2; exit 1; fi; exit $$status

e2e:
	$(PYTHON) -m pytest -q tests/e2e $(ARGS); status=$$?; \
	  if [ $$status -eq 5 ]; then echo "no tests were collected" >&2; exit 1; fi; exit $$status

bench:
	$(PYTHON) $(BENCH) $(ARGS)

# The lock is made without the old lock: the -c lines are dropped from copies of
# the requirements files, a clean venv installs them, and pip freeze writes the result.
lock:
	rm -rf $(LOCK_DIR) && mkdir -p $(LOCK_DIR)
	sed '/^-c /d' requirements.txt > $(LOCK_DIR)/requirements.txt
	sed '/^-c /d' requirements-dev.txt > $(LOCK_DIR)/requirements-dev.txt
	python3 -m venv $(LOCK_DIR)/venv
	$(LOCK_DIR)/venv/bin/pip install -q -r $(LOCK_DIR)/requirements-dev.txt
	{ sed -n '/^#/p' requirements.lock; $(LOCK_DIR)/venv/bin/pip freeze; } > requirements.lock.new
	mv requirements.lock.new requirements.lock
