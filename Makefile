# liaison — the two commands a newcomer needs are `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
FLASK  := $(BIN)/flask --app liaison
HOST   ?= 127.0.0.1
PORT   ?= 5000

.PHONY: run test install install-test translations compile-translations db demo serve bench reliability clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip setuptools wheel

$(VENV)/.installed: $(BIN)/python setup.cfg pyproject.toml
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed setup.cfg
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

compile-translations: $(VENV)/.installed
	$(BIN)/python -m liaison.i18n_tools compile

db: $(VENV)/.installed compile-translations
	$(FLASK) db upgrade heads

demo: db
	$(FLASK) demo load --if-empty

## make run: set everything up and serve the demo on http://127.0.0.1:5000
run: demo
	@echo "Serving on http://$(HOST):$(PORT) — Ctrl+C stops."
	$(FLASK) run --host $(HOST) --port $(PORT)

## make test: the whole suite (SQLite; PostgreSQL too when DATABASE_URL points at one), with the
## browser journeys (tests/browser) when Chromium is installed; in CI (CI=true) Chromium is required
test: $(VENV)/.installed-test compile-translations
	@if command -v chromium >/dev/null 2>&1 || [ -n "$${LIAISON_CHROMIUM:-}" ]; then \
		$(BIN)/python -m pytest -n auto $(PYTEST_ARGS) && { cat tests/browser/screenshots/slow-link.txt 2>/dev/null || true; }; \
	elif [ "$${CI:-}" = "true" ]; then \
		echo "make test: Chromium is missing and CI must run the browser journeys: apt-get install -y chromium" >&2; exit 1; \
	else \
		echo "make test: browser journeys (tests/browser) SKIPPED: no Chromium (apt-get install chromium to run them)."; \
		$(BIN)/python -m pytest -n auto --ignore=tests/browser $(PYTEST_ARGS); \
	fi

## make translations: extract messages and update the catalogs (developers)
translations: $(VENV)/.installed
	$(BIN)/python -m liaison.i18n_tools update

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis build *.egg-info

## make bench: the app under gunicorn against its ceiling app, with wrk, at 100,000 leads
## (SQLite; PostgreSQL too when one answers on 127.0.0.1:5432); figures in docs/performance.md
$(VENV)/.installed-bench: $(VENV)/.installed-test setup.cfg
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	touch $@

bench: $(VENV)/.installed-bench compile-translations
	@command -v wrk >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
		{ apt-get install -y -qq wrk || { apt-get update -qq && apt-get install -y -qq wrk; }; } >/dev/null 2>&1; } \
		|| { echo "make bench needs the load generator wrk: apt-get install wrk (or brew install wrk)"; exit 2; }
	$(BIN)/python bench/run.py

## make serve: production serving with gunicorn (needs SECRET_KEY; DATABASE_URL for PostgreSQL)
serve: db
	LIAISON_ENV=production $(BIN)/gunicorn -c gunicorn.conf.py wsgi:app

## make reliability: concurrent submissions through gunicorn, a worker killed mid-run, reviewer races
reliability: $(VENV)/.installed-test compile-translations
	$(BIN)/python bench/reliability.py
