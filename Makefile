# The README's two commands: `make run` and `make test`.
# Both build .venv from pyproject.toml, install the web assets from web/package-lock.json,
# start the project's own PostGIS (or use GRIDGOV_DATABASE_URL) and then serve or test.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
HOST ?= 127.0.0.1

.PHONY: run test setup lint bench clean-db

run: setup
	$(BIN)/gridgov db up
	$(BIN)/gridgov db migrate
	$(BIN)/gridgov demo --if-empty
	$(BIN)/gridgov serve --host $(HOST) --port $(PORT)

test: setup browser
	$(BIN)/gridgov db up
	$(BIN)/python -m pytest $(PYTEST_ARGS)

setup: $(VENV)/.installed web/node_modules/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

web/node_modules/.installed: web/package.json web/package-lock.json
	cd web && npm ci --no-audit --no-fund --loglevel=error
	touch $@

# Browser tests drive Debian's Chromium (never a downloaded browser) with a CJK font.
browser:
	@if ! command -v chromium >/dev/null || ! fc-list 2>/dev/null | grep -qi 'WenQuanYi'; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-zenhei >/dev/null; \
	  else \
	    echo "Chromium is missing: run  sudo apt-get install -y chromium fonts-wqy-zenhei"; exit 1; \
	  fi; \
	fi

lint: setup
	$(BIN)/ruff check geo api tiles tests bench
	$(BIN)/mypy

bench: setup
	$(BIN)/gridgov db up
	$(BIN)/python bench/demo_load.py

clean-db:
	-$(BIN)/gridgov db down
	rm -rf .gridgov
