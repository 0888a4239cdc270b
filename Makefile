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

ifeq ($(strip $(REDIS_URL)),)
RUN_REDIS := $(shell scripts/redis.sh url dev)
TEST_REDIS := $(shell scripts/redis.sh url test)
START_RUN_REDIS := scripts/redis.sh start dev
START_TEST_REDIS := scripts/redis.sh start test
STOP_TEST_REDIS := scripts/redis.sh stop test
else
RUN_REDIS := $(REDIS_URL)
TEST_REDIS := $(REDIS_URL)
START_RUN_REDIS := true
START_TEST_REDIS := true
STOP_TEST_REDIS := true
endif

# Uploads: azurite (Azure Blob emulator) for `make run` unless storage is configured; with
# USE_LOCAL_DISK=1 they go to media/ instead.
ifeq ($(strip $(AZURE_STORAGE_CONNECTION_STRING)$(USE_LOCAL_DISK)),)
RUN_STORAGE := $(shell scripts/azurite.sh url)
START_RUN_STORAGE := scripts/azurite.sh start
else
RUN_STORAGE := $(AZURE_STORAGE_CONNECTION_STRING)
START_RUN_STORAGE := true
endif

ifeq ($(strip $(DATABASE_URL)),)
RUN_DB := $(shell scripts/pg.sh url dev)
TEST_DB := $(shell scripts/pg.sh url test)
START_RUN_DB := scripts/pg.sh start dev
START_TEST_DB := scripts/pg.sh start test
# A part of the suite runs again through PgBouncer in transaction-pooling mode (scripts/pgbouncer.sh).
POOLED_TEST := scripts/pgbouncer.sh run --
else
RUN_DB := $(DATABASE_URL)
TEST_DB := $(DATABASE_URL)
START_RUN_DB := true
START_TEST_DB := true
POOLED_TEST := true
endif

# The tests that run a second time behind PgBouncer: concurrency, the dashboards' SET LOCAL and
# streamed exports, search's SET LOCAL, the health check.
POOLED_TESTS := tests/test_pooling.py tests/test_acknowledgements.py tests/test_workflow.py \
	tests/test_dashboards.py tests/test_views_manager.py tests/test_search.py tests/test_health.py

.PHONY: help install run serve test cluster lint bench stop clean-db

help:
	@echo "make run    install, start PostgreSQL, migrate, load the handbook, serve on http://$(HOST):$(PORT)"
	@echo "make test   install, start the test PostgreSQL, ruff, migrations check, the whole test suite"
	@echo "make cluster  the cluster tests alone (two app servers, a worker, nginx; the deployment guide's installation; part of make test)"
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
	@$(START_RUN_REDIS)
	@$(START_RUN_STORAGE)
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
	DATABASE_URL=$(RUN_DB) AZURE_STORAGE_CONNECTION_STRING='$(RUN_STORAGE)' $(PY) manage.py ensure_storage
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
	@# The worker sends every e-mail (the outbox) and runs the periodic jobs; it stops with gunicorn.
	export DATABASE_URL=$(RUN_DB) REDIS_URL=$(RUN_REDIS) AZURE_STORAGE_CONNECTION_STRING='$(RUN_STORAGE)' GUNICORN_BIND=$(HOST):$(PORT) WEB_CONCURRENCY=$(WORKERS); \
	$(PY) manage.py procrastinate worker & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	$(VENV)/bin/gunicorn --config docs/deploy/gunicorn.conf.py

test: install
	@$(START_TEST_DB)
	@$(START_TEST_REDIS)
	scripts/ensure-chromium.sh
	scripts/ensure-cluster-tools.sh
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	DATABASE_URL=$(TEST_DB) $(PY) manage.py makemigrations --check --dry-run -v 1
	scripts/messages.sh check
	scripts/messages.sh compile
	DATABASE_URL=$(TEST_DB) REDIS_URL=$(TEST_REDIS) $(VENV)/bin/pytest --create-db -p no:cacheprovider $(PYTEST_ARGS); \
		status=$$?; $(STOP_TEST_REDIS); exit $$status
	$(POOLED_TEST) $(VENV)/bin/pytest -p no:cacheprovider -q $(POOLED_TESTS)

# The cluster tests alone: PostgreSQL, Redis, two gunicorn servers, a worker and nginx on loopback;
# then the installation of docs/deployment.md (PgBouncer, TLS, production settings).
cluster: install
	@$(START_TEST_DB)
	scripts/ensure-cluster-tools.sh
	scripts/messages.sh compile
	DATABASE_URL=$(TEST_DB) $(VENV)/bin/pytest -p no:cacheprovider -s tests/test_cluster.py tests/test_deployment.py $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

bench: install
	@$(START_TEST_DB)
	@# bench.cluster runs nginx and redis-server like the cluster test, and loads nginx with wrk.
	scripts/ensure-cluster-tools.sh wrk
	@$(START_TEST_REDIS)
	@# Each suite builds its own data set in its own database on the test cluster (first run: minutes).
	@# REDIS_URL: the shared cache (search plans, page cache) as in production, not the in-memory one.
	export DATABASE_URL=$(TEST_DB) REDIS_URL=$(TEST_REDIS); \
	$(PY) -m bench $(BENCH_ARGS) \
	&& $(PY) -m bench.managers $(BENCH_MANAGERS_ARGS) \
	&& $(PY) -m bench.rendering \
	&& $(PY) -m bench.signin $(BENCH_SIGNIN_ARGS); \
		status=$$?; $(STOP_TEST_REDIS); exit $$status

stop:
	scripts/oidc.sh stop
	scripts/azurite.sh stop
	scripts/pg.sh stop dev
	scripts/pg.sh stop test
	scripts/redis.sh stop dev
	scripts/redis.sh stop test
