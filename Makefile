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

# The env file every target and the app read (config/env.py): .env unless DJANGO_ENV_FILE
# names another.
override DJANGO_ENV_FILE := $(abspath $(or $(DJANGO_ENV_FILE),.env))
export DJANGO_ENV_FILE

# Development by default; `make up ENV=prod` runs the base file alone, as production does.
# The targets after `make up` (migrate, logs, down, backup, ...) follow the stack it started,
# remembered beside the env file, unless they are given ENV themselves.
STACK_FILE := $(DJANGO_ENV_FILE).stack
ifeq ($(filter up,$(MAKECMDGOALS)),)
ENV ?= $(or $(shell cat $(STACK_FILE) 2>/dev/null),dev)
else
ENV ?= dev
endif
COMPOSE_FILES := -f compose.yaml $(if $(filter dev,$(ENV)),-f compose.override.yaml)
COMPOSE := docker compose --env-file $(DJANGO_ENV_FILE) $(COMPOSE_FILES)
# The development container runs as you, so that files it writes through the bind mount are
# yours (as root, it keeps the image's own user).
ifneq ($(shell id -u),0)
export DEV_UID ?= $(shell id -u)
export DEV_GID ?= $(shell id -g)
endif

.PHONY: help
help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

# --- Set-up -----------------------------------------------------------------------------

.tools/bin/uv:
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check uv

$(VENV)/.synced: uv.lock pyproject.toml | $(UV)
	$(UV) sync --locked
	@touch $@

.PHONY: venv
venv: $(VENV)/.synced ## Create or update .venv from uv.lock

.PHONY: lock
lock: | $(UV) ## Update uv.lock after changing dependencies in pyproject.toml
	$(UV) lock

.PHONY: env
env: ## Create .env from .env.example with fresh secrets (never overwrites)
	@$(PYTHON) scripts/make_env.py --target $(DJANGO_ENV_FILE)

# Where the certificate is (NGINX_CERTS_DIR): one there already (a real one on a server) needs
# no .venv to be made, nor anything else.
CERTS_DIR = $(or $(NGINX_CERTS_DIR),$(shell sed -n 's/^NGINX_CERTS_DIR=//p' $(DJANGO_ENV_FILE) 2>/dev/null | tail -n 1),certs)
.PHONY: certs
certs: env ## A local CA and a certificate for DJANGO_ALLOWED_HOSTS in certs/ (never overwrites)
	@if [ -f "$(CERTS_DIR)/fullchain.pem" ] && [ -f "$(CERTS_DIR)/privkey.pem" ]; then \
	  echo "$(CERTS_DIR): kept (delete fullchain.pem and privkey.pem for a new certificate)"; \
	else \
	  $(MAKE) venv && $(UV) run --locked --no-sync python scripts/make_certs.py; \
	fi

# --- Without Docker ---------------------------------------------------------------------

RUN_PORT ?= 8000
.PHONY: run
run: env venv ## Run the app on http://127.0.0.1:8000 on SQLite (RUN_PORT=8010: another port)
	@$(PYTHON) -c 'import socket, sys; s = socket.socket(); s.bind(("127.0.0.1", $(RUN_PORT)))' 2>/dev/null \
	  || { echo "Port $(RUN_PORT) is in use. Choose another: make run RUN_PORT=8010"; exit 1; }
	@DJANGO_DEBUG=True $(MANAGE) migrate --no-input
	@echo
	@echo "  App:      http://127.0.0.1:$(RUN_PORT)/"
	@admin=$${DJANGO_ADMIN_URL:-$$(sed -n 's/^DJANGO_ADMIN_URL=//p' $(DJANGO_ENV_FILE) | tail -n 1)}; \
	  echo "  Admin:    http://127.0.0.1:$(RUN_PORT)/$${admin:-admin/}"
	@echo "  User:     $$(grep -E '^DJANGO_SUPERUSER_USERNAME=' $(DJANGO_ENV_FILE) | cut -d= -f2-)"
	@echo "  Password: DJANGO_SUPERUSER_PASSWORD in $(notdir $(DJANGO_ENV_FILE))"
	@echo "  Mail:     printed below; background tasks run at once (make up runs a worker)"
	@echo
	DJANGO_DEBUG=True DJANGO_TASKS_BACKEND=immediate $(MANAGE) runserver 127.0.0.1:$(RUN_PORT)

.PHONY: manage
manage: venv ## Run a manage.py command: make manage ARGS="createsuperuser"
	$(MANAGE) $(ARGS)

# --- Quality ----------------------------------------------------------------------------

WORKFLOWS := $(wildcard .github/workflows/*.yml)
.PHONY: lint
lint: venv ## ruff lint and format check, hadolint on the Dockerfile, the CI and Dependabot schemas
	$(UV) run --no-sync ruff check .
	$(UV) run --no-sync ruff format --check .
	$(UV) run --no-sync hadolint Dockerfile
	$(if $(WORKFLOWS),$(UV) run --no-sync check-jsonschema --builtin-schema vendor.github-workflows $(WORKFLOWS))
	$(if $(wildcard .github/dependabot.yml),$(UV) run --no-sync check-jsonschema --builtin-schema vendor.dependabot .github/dependabot.yml)

.PHONY: audit
audit: venv ## Check the locked dependencies for known vulnerabilities (pip-audit)
	@$(UV) export --frozen --format requirements-txt --no-emit-project --quiet \
	  --output-file $(VENV)/audit-requirements.txt
	@$(UV) run --no-sync python scripts/audit.py $(VENV)/audit-requirements.txt

.PHONY: format
format: venv ## Format and fix what ruff can
	$(UV) run --no-sync ruff format .
	$(UV) run --no-sync ruff check --fix .

.PHONY: test
test: lint test-sqlite test-postgres test-docker-if-engine ## Every test: lint, SQLite, PostgreSQL + nginx + gunicorn, Docker

.PHONY: test-sqlite
test-sqlite: venv ## Unit tests on SQLite
	$(UV) run --no-sync pytest -m "not postgres and not stack and not docker" $(ARGS)

.PHONY: test-postgres
test-postgres: venv ## All but the Docker suite, on a throwaway PostgreSQL cluster
	$(UV) run --no-sync python -m harness.postgres -- pytest -m "not docker" $(ARGS)

.PHONY: test-docker
test-docker: venv ## The Docker suite: the compose files on a running Docker engine
	$(UV) run --no-sync pytest -m docker $(ARGS)

# The Docker suite where an engine answers; where none does, one line says so (and CI, which
# sets REQUIRE_DOCKER=1, fails). Nothing is installed or started here.
.PHONY: test-docker-if-engine
test-docker-if-engine: venv
	@if docker info >/dev/null 2>&1; then \
	  $(MAKE) test-docker; \
	elif [ -n "$${REQUIRE_DOCKER:-}" ]; then \
	  echo "Docker suite: no Docker engine answers (docker info failed)"; exit 1; \
	else \
	  echo "Docker suite SKIPPED: no Docker engine answers here (install and start one to run it)"; \
	fi

# --- Docker -----------------------------------------------------------------------------

.PHONY: up
# Production serves https, with the certificate of certs/ (a local one unless there is one).
up: env $(if $(filter dev,$(ENV)),,certs) ## Start the stack (ENV=prod: the base file only, as production runs it)
	@echo '$(ENV)' >$(STACK_FILE)
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
# It holds password hashes and session keys: readable by its owner only, like .env.
# The restored tables belong to the app's role (--role), as the ones migrate created did.
# The uploaded files (the media volume) go to a tar archive of the same time, made by tar in
# the web container, which mounts the volume, right after the dump: a file uploaded in between
# is archived without its row (harmless), one deleted in between is in neither, and its row
# then points at nothing; take backups when few deletions happen. With DJANGO_MEDIA_STORAGE=s3
# the files are in the bucket, which keeps its own versions: the archive is then empty.
BACKUP_DIR ?= backups
.PHONY: backup
backup: ## Dump the database and archive the uploaded files: backups/db-<UTC time>.dump, media-<…>.tar
	@umask 077; mkdir -p $(BACKUP_DIR)
	@umask 077; stamp="$$(date -u +%Y%m%dT%H%M%SZ)"; file="$(BACKUP_DIR)/db-$$stamp.dump"; \
	  $(COMPOSE) exec -T db sh -c 'pg_dump -U "$$POSTGRES_USER" -d "$$POSTGRES_DB" --format=custom' \
	    >"$$file.partial" || { rm -f "$$file.partial"; exit 1; }; \
	  mv "$$file.partial" "$$file"; echo "Backup written: $$file"; \
	  media="$(BACKUP_DIR)/media-$$stamp.tar"; \
	  $(COMPOSE) exec -T web sh -c 'tar -C /srv/media --exclude=./.restoring \
	    --warning=no-file-changed --ignore-failed-read -cf - .; test $$? -le 1' \
	    >"$$media.partial" || { rm -f "$$media.partial"; exit 1; }; \
	  mv "$$media.partial" "$$media"; echo "Media archive written: $$media"

# The media archive of the dump's time, beside it (MEDIA=… names another; MEDIA=none restores
# the database alone, from a backup older than the archives). Its files replace the volume's
# only once all of them are out of the archive: a broken archive changes nothing.
MEDIA ?= $(if $(filter db-%.dump,$(notdir $(FILE))),$(dir $(FILE))$(patsubst db-%.dump,media-%.tar,$(notdir $(FILE))))
.PHONY: restore
restore: ## Restore a backup, the database's tables and the uploaded files: make restore FILE=…
	@test -f "$(FILE)" || { echo "usage: make restore FILE=$(BACKUP_DIR)/db-<time>.dump [MEDIA=$(BACKUP_DIR)/media-<time>.tar]"; exit 1; }
	@test "$(MEDIA)" = none || test -f "$(MEDIA)" || \
	  { echo "No media archive $(MEDIA): name it with MEDIA=…, or MEDIA=none for the database alone"; exit 1; }
	@test "$(MEDIA)" = none || tar -tf "$(MEDIA)" >/dev/null || \
	  { echo "$(MEDIA) is not a readable tar archive: nothing was restored"; exit 1; }
	$(COMPOSE) exec -T db sh -c 'pg_restore -U "$$POSTGRES_USER" -d "$$POSTGRES_DB" \
	  $${DJANGO_DB_USER:+--role="$$DJANGO_DB_USER"} \
	  --clean --if-exists --no-owner --single-transaction' <"$(FILE)"
ifneq ($(MEDIA),none)
	$(COMPOSE) exec -T web sh -c 'set -eu; cd /srv/media; trap "rm -rf .restoring" EXIT; \
	  rm -rf .restoring; mkdir .restoring; \
	  tar -C .restoring -xf -; \
	  find . -mindepth 1 -maxdepth 1 ! -name .restoring -exec rm -rf {} +; \
	  find .restoring -mindepth 1 -maxdepth 1 -exec mv {} . \;; rmdir .restoring' <"$(MEDIA)"
endif
	@echo "Restored: $(FILE)$(if $(filter-out none,$(MEDIA)), and $(MEDIA))"

# --- The template -----------------------------------------------------------------------

.PHONY: update-template
update-template: venv ## Bring the template's later changes into this project (copier update)
	$(UV) run --no-sync copier update --trust --skip-answered

# --- Optional parts: each folder brings its own targets ------------------------------------
# % if with_swarm
include swarm/swarm.mk
# % endif
# % if with_bench
include bench/bench.mk
# % endif
