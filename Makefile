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

## make test: the whole suite (SQLite; PostgreSQL too when DATABASE_URL points at one)
test: $(VENV)/.installed-test compile-translations
	$(BIN)/python -m pytest -n auto $(PYTEST_ARGS)

## make translations: extract messages and update the catalogs (developers)
translations: $(VENV)/.installed
	$(BIN)/python -m liaison.i18n_tools update

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis build *.egg-info

## make bench: page timings at 100,000 leads (SQLite; PostgreSQL with DATABASE_URL)
bench: $(VENV)/.installed-test compile-translations
	$(BIN)/python bench/run.py

## make serve: production serving with gunicorn (needs SECRET_KEY; DATABASE_URL for PostgreSQL)
serve: db
	LIAISON_ENV=production $(BIN)/gunicorn -c gunicorn.conf.py wsgi:app

## make reliability: concurrent submissions through gunicorn, a worker killed mid-run, reviewer races
reliability: $(VENV)/.installed-test compile-translations
	$(BIN)/python bench/reliability.py
