# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
HOST ?= 127.0.0.1
PORT ?= 8000
CHROMIUM ?= /usr/bin/chromium
REDIS_SERVER ?= /usr/bin/redis-server

.PHONY: help install install-dev run serve migrate demo test test-fast test-e2e lint format chromium redis-server clean bench

help:
	@echo "make run     install, migrate, load the demo data and serve http://$(HOST):$(PORT)"
	@echo "make test    install what the tests need and run them all (browser tests included)"
	@echo "make serve   the production profile: gunicorn, DEBUG off, DATABASE_URL and REDIS_URL"
	@echo "make lint    ruff check and ruff format --check"
	@echo "make format  ruff format and ruff check --fix"

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade "pip>=25.3"

# xstatic-bootstrap is built from source and its build needs an older setuptools.
$(VENV)/.installed: requirements.txt build-constraints.txt | $(PY)
	$(BIN)/pip install --quiet --build-constraint build-constraints.txt -r requirements.txt
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt
	$(BIN)/pip install --quiet --build-constraint build-constraints.txt -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed

install-dev: $(VENV)/.installed-dev

migrate: install
	DEBUG=$${DEBUG:-true} $(PY) manage.py migrate --noinput

demo: migrate
	DEBUG=$${DEBUG:-true} $(PY) manage.py load_demo

run: demo
	@echo "Serving the portal at http://$(HOST):$(PORT)/"
	DEBUG=$${DEBUG:-true} $(PY) manage.py runserver $(HOST):$(PORT)

# The production profile on this machine: gunicorn with threaded workers, static files
# through whitenoise, DEBUG off, against whatever DATABASE_URL and REDIS_URL say. Plain
# http on loopback, so the HTTPS-only settings are relaxed unless given.
SERVE_ENV = DEBUG=false \
	SECRET_KEY=$${SECRET_KEY:-$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(50))')} \
	ALLOWED_HOSTS=$${ALLOWED_HOSTS:-127.0.0.1,localhost} \
	SECURE_SSL_REDIRECT=$${SECURE_SSL_REDIRECT:-false} \
	SESSION_COOKIE_SECURE=$${SESSION_COOKIE_SECURE:-false} \
	CSRF_COOKIE_SECURE=$${CSRF_COOKIE_SECURE:-false} \
	SECURE_HSTS_SECONDS=$${SECURE_HSTS_SECONDS:-0} \
	PORTAL_OUTBOUND_ALLOWED_NETWORKS=$${PORTAL_OUTBOUND_ALLOWED_NETWORKS:-127.0.0.1/32} \
	PORTAL_OUTBOUND_ALLOWED_PORTS=$${PORTAL_OUTBOUND_ALLOWED_PORTS:-80,443,8080,8443,$(PORT)} \
	PORTAL_DEMO_BACKEND_URL=$${PORTAL_DEMO_BACKEND_URL:-http://$(HOST):$(PORT)/demo-backend} \
	GUNICORN_BIND=$${GUNICORN_BIND:-$(HOST):$(PORT)}

serve: install
	$(SERVE_ENV) $(PY) manage.py collectstatic --noinput -v0
	$(SERVE_ENV) $(PY) manage.py migrate --noinput
	$(SERVE_ENV) $(PY) manage.py load_demo
	@echo "Serving the production profile at http://$(HOST):$(PORT)/"
	$(SERVE_ENV) $(BIN)/gunicorn -c gunicorn.conf.py portal.wsgi

# Browser tests drive Debian's Chromium; Playwright cannot download browsers here.
chromium:
	@if [ -x "$(CHROMIUM)" ]; then exit 0; fi; \
	if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null; then \
		echo "Installing Debian's chromium for the browser tests..."; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else \
		echo "The browser tests need Chromium at $(CHROMIUM)."; \
		echo "Install it with: sudo apt-get install chromium  (or set CHROMIUM=/path/to/chromium)"; \
		exit 1; \
	fi

# The gateway's tests start redis-servers of their own (Debian's package).
redis-server:
	@if [ -x "$(REDIS_SERVER)" ]; then exit 0; fi; \
	if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null; then \
		echo "Installing Debian's redis-server for the gateway's tests..."; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null; \
	else \
		echo "The gateway's tests need redis-server at $(REDIS_SERVER)."; \
		echo "Install it with: sudo apt-get install redis-server"; \
		exit 1; \
	fi

test: install-dev chromium redis-server
	CHROMIUM=$(CHROMIUM) REDIS_SERVER=$(REDIS_SERVER) $(BIN)/pytest

test-fast: install-dev redis-server
	REDIS_SERVER=$(REDIS_SERVER) $(BIN)/pytest -m "not e2e"

test-e2e: install-dev chromium
	CHROMIUM=$(CHROMIUM) $(BIN)/pytest -m e2e

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(PY) manage.py makemigrations --check --dry-run

# Each script starts its own portal on loopback and prints its figures; see bench/README.md.
bench: install-dev
	$(PY) bench/hostile.py
	$(PY) bench/replay.py
	$(PY) bench/import.py
	$(PY) bench/tryit_overhead.py
	$(PY) bench/catalog_scale.py
	$(PY) bench/concurrency.py
	$(PY) bench/large_responses.py
	$(PY) bench/load.py
	$(PY) bench/gateway.py

format: install-dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache
