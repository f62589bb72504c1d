# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
HOST ?= 127.0.0.1
PORT ?= 8000
# The development settings manage.py reads (README, Settings).
ENV_FILE ?= .env
CHROMIUM ?= /usr/bin/chromium
REDIS_SERVER ?= /usr/bin/redis-server
# The gateway's data plane: nginx with Debian's Lua module (nginx-extras), on its port.
NGINX_LUA_MODULE ?= /usr/lib/nginx/modules/ngx_http_lua_module.so
GATEWAY_PORT ?= 8001

.PHONY: help install install-dev env-file run serve migrate demo test test-fast test-e2e test-postgres \
	test-tools test-tools-fast test-tools-e2e npm-tools lint format clean bench

help:
	@echo "make run     install, migrate, load the demo data and serve http://$(HOST):$(PORT)"
	@echo "             (make run PORT=8123 HOST=0.0.0.0 serves elsewhere; .env keeps the settings)"
	@echo "make test    install what the tests need and run them all (browser tests included)"
	@echo "make test-postgres  the same on PostgreSQL 15 and Redis (installed and started as root)"
	@echo "make serve   the production profile: gunicorn, DEBUG off, DATABASE_URL and REDIS_URL"
	@echo "make lint    ruff check, ruff format --check, the migrations, mypy and import-linter"
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

# The development settings: written from .env.example the first time, with a secret key
# of its own, then left to the developer; every run records the HOST and PORT it serves
# on, so that manage.py commands run later (replay...) agree with the server.
$(ENV_FILE): | $(PY)
	@umask 077; sed "s|^SECRET_KEY=.*|SECRET_KEY=$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(50))')|" \
		.env.example > $@.tmp && mv $@.tmp $@
	@echo "Wrote $@: the development settings (DEBUG=true, a new SECRET_KEY) that manage.py reads."

env-file: $(ENV_FILE)
	@umask 077; awk -v host='$(HOST)' -v port='$(PORT)' \
		'/^HOST=/ { print "HOST=" host; h = 1; next } /^PORT=/ { print "PORT=" port; p = 1; next } { print } \
		END { if (!h) print "HOST=" host; if (!p) print "PORT=" port }' \
		$(ENV_FILE) > $(ENV_FILE).tmp && mv $(ENV_FILE).tmp $(ENV_FILE)

migrate: install env-file
	$(PY) manage.py migrate --noinput

demo: migrate
	$(PY) manage.py load_demo

run: demo
	@echo "Serving the portal at http://$(HOST):$(PORT)/ (settings: $(ENV_FILE))"
	$(PY) manage.py runserver $(HOST):$(PORT)

# The production profile on this machine: gunicorn with threaded workers, static files
# through whitenoise, DEBUG off, against whatever DATABASE_URL and REDIS_URL say. Plain
# http on loopback, so the HTTPS-only settings are relaxed unless given, and a demo
# profile: the sample backend is on (PORTAL_DEMO_BACKEND_ENABLED). It reads no
# .env (PORTAL_ENV_FILE may name one), and its commands share one SECRET_KEY: load_demo
# stores the demo's keys encrypted with it, for gunicorn to read. Without REDIS_URL
# gunicorn runs one worker, the limits being counted in its memory (gunicorn.conf.py).
SERVE_ENV = PORTAL_ENV_FILE=$${PORTAL_ENV_FILE:-} \
	DEBUG=false \
	SECRET_KEY=$${SECRET_KEY:-$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(50))')} \
	ALLOWED_HOSTS=$${ALLOWED_HOSTS:-127.0.0.1,localhost} \
	SECURE_SSL_REDIRECT=$${SECURE_SSL_REDIRECT:-false} \
	SESSION_COOKIE_SECURE=$${SESSION_COOKIE_SECURE:-false} \
	CSRF_COOKIE_SECURE=$${CSRF_COOKIE_SECURE:-false} \
	SECURE_HSTS_SECONDS=$${SECURE_HSTS_SECONDS:-0} \
	PORTAL_OUTBOUND_ALLOWED_NETWORKS=$${PORTAL_OUTBOUND_ALLOWED_NETWORKS:-127.0.0.1/32} \
	PORTAL_OUTBOUND_ALLOWED_PORTS=$${PORTAL_OUTBOUND_ALLOWED_PORTS:-80,443,8080,8443,$(PORT)} \
	PORTAL_DEMO_BACKEND_URL=$${PORTAL_DEMO_BACKEND_URL:-http://$(HOST):$(PORT)/demo-backend} \
	PORTAL_SITE_URL=$${PORTAL_SITE_URL:-http://$(HOST):$(PORT)} \
	PORTAL_DEMO_BACKEND_ENABLED=$${PORTAL_DEMO_BACKEND_ENABLED:-true} \
	GUNICORN_BIND=$${GUNICORN_BIND:-$(HOST):$(PORT)}

serve: install
	export $(SERVE_ENV) && \
	$(PY) manage.py collectstatic --noinput -v0 && \
	$(PY) manage.py migrate --noinput && \
	$(PY) manage.py load_demo && \
	if [ -n "$$REDIS_URL" ] && [ -e $(NGINX_LUA_MODULE) ]; then \
		$(PY) manage.py dataplane --listen $(HOST):$(GATEWAY_PORT) --directory var/dataplane & \
		dataplane=$$!; trap 'kill $$dataplane 2>/dev/null; wait $$dataplane' EXIT INT TERM; \
	else \
		echo "No data plane on nginx (it needs REDIS_URL and Debian's nginx-extras)."; \
	fi && \
	echo "Serving the production profile at http://$(HOST):$(PORT)/" && \
	$(BIN)/gunicorn -c gunicorn.conf.py portal.wsgi

# Commands the tests run, each with the Debian package that has it: Chromium for the
# browser tests (Playwright cannot download browsers here), redis-server for the
# gateway's tests, nginx with its Lua module for the gateway's data plane, curl, Node.js
# and a JDK for the code samples' tests.
E2E_TOOLS := $(CHROMIUM):chromium
FAST_TOOLS := $(REDIS_SERVER):redis-server $(NGINX_LUA_MODULE):nginx-extras curl:curl node:nodejs npm:npm javac:default-jdk-headless \
	java:default-jdk-headless
# npm tools the tests run (package.json, pinned by package-lock.json): Prism, the
# validator that judges what Try it sends against each OpenAPI document.
PRISM := node_modules/.bin/prism

# Installs the packages of the tools (commands or files) in $(1) that are missing, with apt-get when root;
# otherwise names them and stops.
define install_missing
@missing=""; for tool in $(1); do \
	[ -e "$${tool%%:*}" ] || command -v "$${tool%%:*}" >/dev/null 2>&1 || missing="$$missing $${tool#*:}"; \
done; \
missing=$$(printf '%s\n' $$missing | sort -u | tr '\n' ' '); \
if [ -z "$${missing% }" ]; then exit 0; fi; \
if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null; then \
	echo "Installing Debian's $${missing% } for the tests..."; \
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
else \
	echo "The tests need Debian's packages: $${missing% }"; \
	echo "Install them with: sudo apt-get install $${missing% }"; \
	exit 1; \
fi
endef

test-tools:
	$(call install_missing,$(E2E_TOOLS) $(FAST_TOOLS))
	@$(MAKE) --no-print-directory npm-tools

test-tools-fast:
	$(call install_missing,$(FAST_TOOLS))
	@$(MAKE) --no-print-directory npm-tools

npm-tools: $(PRISM)

$(PRISM): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $(PRISM)

test-tools-e2e:
	$(call install_missing,$(E2E_TOOLS))

# The suite runs in TEST_WORKERS processes (pytest-xdist): most of its time is spent
# waiting on Chromium, servers and subprocesses, and those waits overlap even on 2 CPUs.
# Each test module runs whole on one worker (--dist loadfile): its module fixtures (the
# README's served portal) are set up once. TEST_WORKERS=0 runs it in this one process.
TEST_WORKERS ?= 2
PYTEST := $(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile

test: install-dev test-tools
	CHROMIUM=$(CHROMIUM) REDIS_SERVER=$(REDIS_SERVER) $(PYTEST)

test-fast: install-dev test-tools-fast
	REDIS_SERVER=$(REDIS_SERVER) $(PYTEST) -m "not e2e"

test-e2e: install-dev test-tools-e2e
	CHROMIUM=$(CHROMIUM) $(PYTEST) -m e2e

# The whole suite again on the production services: PostgreSQL 15 and Redis from
# Debian's packages, installed and started by .ci/services (as root).
POSTGRES_TEST_URL ?= postgres://portal:portal@127.0.0.1:5432/portal
REDIS_TEST_URL ?= redis://127.0.0.1:6379/0

test-postgres:
	@if [ "$$(id -u)" != "0" ]; then \
		echo "make test-postgres installs and starts PostgreSQL 15 and Redis, which needs root."; \
		echo "As another user: sudo apt-get install postgresql-15 redis-server, start both, create"; \
		echo "the role and database of POSTGRES_TEST_URL ($(POSTGRES_TEST_URL)), then run"; \
		echo "DATABASE_URL=$(POSTGRES_TEST_URL) REDIS_URL=$(REDIS_TEST_URL) make test"; \
		exit 1; \
	fi
	.ci/services
	DATABASE_URL=$(POSTGRES_TEST_URL) REDIS_URL=$(REDIS_TEST_URL) $(MAKE) test

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(PY) manage.py makemigrations --check --dry-run
	PORTAL_ENV_FILE= DEBUG=true $(BIN)/mypy
	PORTAL_ENV_FILE= DEBUG=true $(BIN)/lint-imports

# Each script starts its own portal on loopback and prints its figures; see bench/README.md.
# bench/summary.py runs them one after the other, the rest after a failure too, and prints
# one table of every figure, its goal and whether it was met at the end.
BENCHES := conformance hostile replay import tryit_overhead catalog_scale pages search \
	operation_page concurrency large_responses upload_memory load gateway accessibility
# The gateway's bench measures the nginx data plane beside nginx alone and the in-process one.
BENCH_OPTIONS_gateway := --planes

bench: install-dev npm-tools
	$(PY) bench/summary.py $(foreach name,$(BENCHES),'bench/$(name).py $(BENCH_OPTIONS_$(name))')

format: install-dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache node_modules
