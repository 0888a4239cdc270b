# Håndboka: `make run` serves the portal, `make test` runs everything CI runs.
# With DATABASE_URL unset, both start a project-local PostgreSQL (scripts/pg.sh).
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
PY := $(VENV)/bin/python
PYTHON ?= python3
HOST ?= 127.0.0.1
PORT ?= 8000
# Links in e-mail point at the port `make run` serves on, unless SITE_URL says otherwise.
export SITE_URL ?= http://$(HOST):$(PORT)
WORKERS ?= 3

export DJANGO_SETTINGS_MODULE := handbook.settings

ifeq ($(strip $(DATABASE_URL)),)
RUN_DB := $(shell scripts/pg.sh url dev)
TEST_DB := $(shell scripts/pg.sh url test)
START_RUN_DB := scripts/pg.sh start dev
START_TEST_DB := scripts/pg.sh start test
else
RUN_DB := $(DATABASE_URL)
TEST_DB := $(DATABASE_URL)
START_RUN_DB := true
START_TEST_DB := true
endif

.PHONY: help install run serve test lint bench stop clean-db

help:
	@echo "make run    install, start PostgreSQL, migrate, load the handbook, serve on http://$(HOST):$(PORT)"
	@echo "make test   install, start the test PostgreSQL, ruff, migrations check, the whole test suite"
	@echo "make bench  benchmarks (prints figures; not part of make test)"
	@echo "make stop   stop the project-local PostgreSQL clusters (data is kept) and the demo OIDC providers"

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e ".[dev]"
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

install: $(VENV)/.installed node_modules/.installed

run: install
	@$(START_RUN_DB)
	scripts/messages.sh compile
	@# Development only: one local OpenID Connect provider per demo kommune (scripts/oidc.sh).
	scripts/oidc.sh start
	DATABASE_URL=$(RUN_DB) $(PY) manage.py migrate --no-input -v 0
	DATABASE_URL=$(RUN_DB) $(PY) manage.py load_handbook
	@# Bergen's demo employees come the way real ones do: from the HR system's CSV.
	DATABASE_URL=$(RUN_DB) $(PY) manage.py import_people fixtures/demo_hr/bergen.csv --organisation bergen --partial
	DATABASE_URL=$(RUN_DB) $(PY) manage.py seed_demo --if-enabled
	DATABASE_URL=$(RUN_DB) $(PY) manage.py demo_signin --if-enabled
	DATABASE_URL=$(RUN_DB) $(PY) manage.py collectstatic --no-input -v 0
	@echo
	@echo "Håndboka kjører på http://$(HOST):$(PORT)/"
	@echo "Logg inn som ansatt: «Logg inn med Bergen kommunes pålogging» på /logg-inn/, og velg"
	@echo "  nora.nyansatt på den lokale påloggingssiden (Nora er importert fra HR-filen"
	@echo "  fixtures/demo_hr/bergen.csv og har ikke passord). ragnhild.redaktor er redaktør,"
	@echo "  ukjent.person viser hva som skjer når noen ikke finnes i Håndboka."
	@echo "Lokale kontoer (under «Lokal konto», passord: demo): admin, ansatt.bergen leder.bergen"
	@echo "  redaktor.bergen ansatt.moskenes leder.moskenes redaktor.moskenes ansatt.bodo leder.bodo"
	@echo "  redaktor.bodo folkevalgt.bodo"
	@echo "Stopp med Ctrl+C; 'make stop' stopper databasen og påloggingstjenestene."
	@echo
	DATABASE_URL=$(RUN_DB) $(VENV)/bin/gunicorn handbook.wsgi --bind $(HOST):$(PORT) \
		--workers $(WORKERS) --access-logfile - --graceful-timeout 5

test: install
	@$(START_TEST_DB)
	scripts/ensure-chromium.sh
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	DATABASE_URL=$(TEST_DB) $(PY) manage.py makemigrations --check --dry-run -v 1
	scripts/messages.sh check
	scripts/messages.sh compile
	DATABASE_URL=$(TEST_DB) $(VENV)/bin/pytest --create-db -p no:cacheprovider $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

bench: install
	@$(START_TEST_DB)
	@# Each suite builds its own data set in its own database on the test cluster (first run: minutes).
	DATABASE_URL=$(TEST_DB) $(PY) -m bench $(BENCH_ARGS)
	DATABASE_URL=$(TEST_DB) $(PY) -m bench.managers $(BENCH_MANAGERS_ARGS)
	$(PY) -m bench.rendering
	DATABASE_URL=$(TEST_DB) $(PY) -m bench.signin $(BENCH_SIGNIN_ARGS)

stop:
	scripts/oidc.sh stop
	scripts/pg.sh stop dev
	scripts/pg.sh stop test
