#!/bin/sh
# Entrypoint of the postgres stand-in. As root it only makes the data directory the postgres
# user's, then starts itself again as that user. As postgres, an empty data directory gets
# a cluster (superuser, database, the scripts of /docker-entrypoint-initdb.d) and then the
# server replaces this script as PID 1.
set -eu

fail() {
    echo "postgres-entrypoint: $*" >&2
    exit 1
}

case "${1:-}" in -*) set -- postgres "$@" ;; esac

# Docker secrets arrive as files: NAME_FILE names the file that holds NAME's value. Read
# here, while still root if started so, as the files may be readable by root alone.
for name in POSTGRES_USER POSTGRES_PASSWORD POSTGRES_DB; do
    eval "file=\${${name}_FILE:-}"
    if [ -n "$file" ]; then
        value=$(cat "$file") || fail "cannot read ${name}_FILE ($file)"
        export "$name=$value"
        unset "${name}_FILE"
    fi
done
export PGDATA="${PGDATA:-/var/lib/postgresql/data}"
export POSTGRES_USER="${POSTGRES_USER:-postgres}"
export POSTGRES_DB="${POSTGRES_DB:-$POSTGRES_USER}"

[ "$1" = postgres ] || exec "$@"

if [ "$(id -u)" = 0 ]; then
    mkdir -p "$PGDATA"
    # Walk the tree only when it is not ours yet: a large cluster makes that slow.
    [ "$(stat -c %u "$PGDATA")" = "$(id -u postgres)" ] || chown -R postgres:postgres "$PGDATA"
    chmod 0700 "$PGDATA"
    install -d -o postgres -g postgres -m 2775 /var/run/postgresql
    exec setpriv --reuid=postgres --regid=postgres --init-groups "$0" "$@"
fi

if [ ! -s "$PGDATA/PG_VERSION" ]; then
    [ -n "${POSTGRES_PASSWORD:-}" ] \
        || fail "POSTGRES_PASSWORD (or POSTGRES_PASSWORD_FILE) is needed to set up the empty $PGDATA"
    # A failure from here on leaves a cluster that is only partly set up.
    trap '[ $? = 0 ] || echo "postgres-entrypoint: set-up failed: empty $PGDATA before trying again" >&2' EXIT

    printf '%s\n' "$POSTGRES_PASSWORD" | initdb --username="$POSTGRES_USER" --pwfile=/dev/stdin \
        --encoding=UTF8 --locale=C.UTF-8 --auth-local=trust --auth-host=scram-sha-256
    # Inside the container the socket is trusted; from anywhere else a password is needed.
    cat >"$PGDATA/pg_hba.conf" <<'EOF'
local all         all     trust
local replication all     trust
host  all         all all scram-sha-256
host  replication all all scram-sha-256
EOF
    echo "listen_addresses = '*'" >>"$PGDATA/postgresql.conf"

    # The scripts talk to a server that nobody else can reach yet: no TCP, the socket only.
    pg_ctl --wait --silent --options="-c listen_addresses=''" start
    export PGUSER="$POSTGRES_USER" PGDATABASE=postgres
    if [ "$POSTGRES_DB" != postgres ]; then
        echo 'CREATE DATABASE :"db";' | psql --no-psqlrc --quiet -v ON_ERROR_STOP=1 -v db="$POSTGRES_DB"
    fi
    export PGDATABASE="$POSTGRES_DB"
    for init_script in /docker-entrypoint-initdb.d/*; do
        case "$init_script" in
            *.sh)
                echo "postgres-entrypoint: running $init_script"
                if [ -x "$init_script" ]; then
                    "$init_script"
                else
                    # shellcheck source=/dev/null
                    . "$init_script"
                fi
                ;;
            *.sql)
                echo "postgres-entrypoint: running $init_script"
                psql --no-psqlrc -v ON_ERROR_STOP=1 --file="$init_script"
                ;;
            *)
                if [ -e "$init_script" ]; then echo "postgres-entrypoint: ignoring $init_script"; fi
                ;;
        esac
    done
    pg_ctl --wait --silent --mode=fast stop
    unset PGUSER PGDATABASE
    trap - EXIT
    echo "postgres-entrypoint: $PGDATA is set up; starting the server"
fi

exec "$@"
