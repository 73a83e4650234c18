# The front door. `make help` lists every target.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

PYTHON ?= python3
# uv comes from the machine if it has one, else from PyPI into .tools/ (nothing to install by hand).
UV ?= $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
# Use the machine's Python 3.13; fail clearly rather than download an interpreter.
export UV_PYTHON_DOWNLOADS ?= never
VENV := .venv
MANAGE := $(UV) run --locked --no-sync python manage.py

# Development by default; `make up ENV=prod` runs the base file alone, as production does.
ENV ?= dev
COMPOSE_FILES := -f compose.yaml $(if $(filter dev,$(ENV)),-f compose.override.yaml)
COMPOSE := docker compose $(COMPOSE_FILES)

.PHONY: help
help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

# --- Set-up -----------------------------------------------------------------------------

.tools/bin/uv:
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check uv

$(VENV)/.synced: uv.lock pyproject.toml | $(UV)
	$(UV) sync --locked
	@touch $@

.PHONY: venv
venv: $(VENV)/.synced ## Create or update .venv from uv.lock

.PHONY: env
env: ## Create .env from .env.example with fresh secrets (never overwrites)
	@$(PYTHON) scripts/make_env.py

# --- Without Docker ---------------------------------------------------------------------

.PHONY: run
RUN_PORT ?= 8000
run: env venv ## Run the app on http://127.0.0.1:8000 (SQLite unless DJANGO_DB_HOST is set)
	@DJANGO_DEBUG=True $(MANAGE) migrate --no-input
	@echo
	@echo "  App:      http://127.0.0.1:$(RUN_PORT)/ (the example to-do board)"
	@echo "  Admin:    http://127.0.0.1:$(RUN_PORT)/admin/"
	@echo "  User:     $$(grep -E '^DJANGO_SUPERUSER_USERNAME=' .env | cut -d= -f2-)"
	@echo "  Password: DJANGO_SUPERUSER_PASSWORD in .env"
	@echo
	DJANGO_DEBUG=True $(MANAGE) runserver 127.0.0.1:$(RUN_PORT)

.PHONY: manage
manage: venv ## Run a manage.py command: make manage ARGS="createsuperuser"
	$(MANAGE) $(ARGS)

# --- Quality ----------------------------------------------------------------------------

.PHONY: lint
lint: venv ## ruff lint and format check, hadolint on the Dockerfile
	$(UV) run --no-sync ruff check .
	$(UV) run --no-sync ruff format --check .
	$(UV) run --no-sync hadolint Dockerfile

.PHONY: format
format: venv ## Format and fix what ruff can
	$(UV) run --no-sync ruff format .
	$(UV) run --no-sync ruff check --fix .

.PHONY: test
test: lint test-sqlite test-postgres test-docker-if-possible ## Every test: lint, SQLite, PostgreSQL + nginx + gunicorn, Docker

.PHONY: test-sqlite
test-sqlite: venv ## Unit tests on SQLite
	$(UV) run --no-sync pytest -m "not postgres and not stack and not docker" $(ARGS)

.PHONY: test-postgres
test-postgres: venv ## All but the Docker suite, on a throwaway PostgreSQL cluster
	$(UV) run --no-sync python -m tests.support.postgres -- pytest -m "not docker" $(ARGS)

.PHONY: test-docker
test-docker: venv ## The Docker suite: the compose files on a real engine
	bash tests/docker/engine.sh
	$(UV) run --no-sync pytest -m docker $(ARGS)

# Where no engine can be started, say so in one line and go on; CI sets REQUIRE_DOCKER=1.
.PHONY: test-docker-if-possible
test-docker-if-possible: venv
	@if bash tests/docker/engine.sh >/tmp/docker-engine-setup.log 2>&1; then \
	  $(MAKE) test-docker; \
	elif [ -n "$${REQUIRE_DOCKER:-}" ]; then \
	  cat /tmp/docker-engine-setup.log; echo "Docker suite: no engine could be started (see above)"; exit 1; \
	else \
	  echo "Docker suite SKIPPED: no Docker engine could be started (log: /tmp/docker-engine-setup.log)"; \
	fi

# wrk on loopback against ceilings measured in the same run (bare nginx, a hello view), then
# build and start-up times. BENCH_SECONDS=3 for a quick run; ARGS=--help for the options.
.PHONY: bench
bench: venv ## Measure: load vs ceilings, build and start-up (bench/results/latest.json)
	$(UV) run --no-sync python -m tests.support.postgres -- python -m bench $(ARGS)

# --- Docker -----------------------------------------------------------------------------

.PHONY: up
up: env ## Start the stack (ENV=prod: the base file only, as production runs it)
	$(COMPOSE) up --build --detach --wait

.PHONY: migrate
migrate: env ## Run migrations and collectstatic as a one-off job
	$(COMPOSE) -f compose.migrate.yaml run --rm --build migrate

.PHONY: down
down: ## Stop the stack (volumes are kept)
	$(COMPOSE) down

.PHONY: logs
logs: ## Follow the logs of every service
	$(COMPOSE) logs --follow

.PHONY: shell
shell: ## A Django shell in the web container
	$(COMPOSE) exec web python manage.py shell

.PHONY: psql
psql: ## psql in the db container, as the application's role
	$(COMPOSE) exec db sh -c 'psql -U "$${DJANGO_DB_USER:-$$POSTGRES_USER}" -d "$$POSTGRES_DB"'

# pg_dump and pg_restore run in the db container, over its local socket: no password is
# typed or passed. The dump is written under a temporary name and renamed once complete.
# The restored tables belong to the app's role (--role), as the ones migrate created did.
# Another stack: COMPOSE_PROJECT_NAME=… (compose reads it from the environment).
BACKUP_DIR ?= backups
.PHONY: backup
backup: ## Dump the database (pg_dump, custom format) to backups/db-<UTC time>.dump
	@mkdir -p $(BACKUP_DIR)
	@file="$(BACKUP_DIR)/db-$$(date -u +%Y%m%dT%H%M%SZ).dump"; \
	  $(COMPOSE) exec -T db sh -c 'pg_dump -U "$$POSTGRES_USER" -d "$$POSTGRES_DB" --format=custom' \
	    >"$$file.partial" || { rm -f "$$file.partial"; exit 1; }; \
	  mv "$$file.partial" "$$file"; echo "Backup written: $$file"

.PHONY: restore
restore: ## Restore a backup into the database, replacing its tables: make restore FILE=…
	@test -f "$(FILE)" || { echo "usage: make restore FILE=$(BACKUP_DIR)/db-<time>.dump"; exit 1; }
	$(COMPOSE) exec -T db sh -c 'pg_restore -U "$$POSTGRES_USER" -d "$$POSTGRES_DB" \
	  $${DJANGO_DB_USER:+--role="$$DJANGO_DB_USER"} \
	  --clean --if-exists --no-owner --single-transaction' <"$(FILE)"

# --- Swarm ------------------------------------------------------------------------------
# The same stack on Docker Swarm: compose.yaml with compose.swarm.yaml on top, deployed by
# scripts/swarm.py. SWARM_STACK names the stack (django-starter); NGINX_PORT is nginx's port.

SWARM := $(PYTHON) scripts/swarm.py

.PHONY: swarm-up
swarm-up: env ## Deploy to Docker Swarm: secrets from .env, db on a labelled node
	$(SWARM) up

.PHONY: swarm-migrate
swarm-migrate: env ## Run migrations and collectstatic as a Swarm job
	$(SWARM) migrate $(TAG)

.PHONY: swarm-scale
swarm-scale: ## Run N web replicas: make swarm-scale N=4
	@test -n "$(N)" || { echo "usage: make swarm-scale N=4"; exit 1; }
	$(SWARM) scale $(N)

.PHONY: swarm-deploy
swarm-deploy: env ## Roll web over to another image tag: make swarm-deploy TAG=v2
	@test -n "$(TAG)" || { echo "usage: make swarm-deploy TAG=v2"; exit 1; }
	$(SWARM) deploy $(TAG)

.PHONY: swarm-down
swarm-down: ## Remove the Swarm stack (volumes and secrets are kept)
	$(SWARM) down
