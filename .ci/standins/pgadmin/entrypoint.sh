#!/bin/sh
# Entrypoint of the pgAdmin stand-in. At every start: config_distro.py from the environment.
# At the first start (no configuration database yet): the database with the default user,
# that user's servers from PGADMIN_SERVER_JSON_FILE and their password file from PGPASS_FILE.
# Then gunicorn serves pgAdmin, or the command given runs instead.
set -eu

app=/pgadmin4
data=/var/lib/pgadmin
say() { echo "pgadmin-entrypoint: $*" >&2; }

if [ -n "${PGADMIN_DEFAULT_PASSWORD_FILE:-}" ]; then
    PGADMIN_DEFAULT_PASSWORD=$(cat "$PGADMIN_DEFAULT_PASSWORD_FILE")
fi

# PGADMIN_CONFIG_<NAME>=<python value> becomes the line `NAME = <python value>`.
{
    cat "$app/config_distro.packaged.py"
    echo "UPGRADE_CHECK_ENABLED = False  # the stand-in's: no call to pgadmin.org"
    awk 'BEGIN { for (name in ENVIRON) if (name ~ /^PGADMIN_CONFIG_/) print substr(name, 16) " = " ENVIRON[name] }'
} >"$app/config_distro.py"

if [ ! -f "$data/pgadmin4.db" ]; then
    email=${PGADMIN_DEFAULT_EMAIL:-}
    if [ -z "$email" ] || [ -z "${PGADMIN_DEFAULT_PASSWORD:-}" ]; then
        say "the first start needs PGADMIN_DEFAULT_EMAIL and PGADMIN_DEFAULT_PASSWORD (or _FILE)"
        exit 1
    fi
    cd "$app"
    # pgAdmin's own set-up makes its first user from these two variables.
    PGADMIN_SETUP_EMAIL=$email PGADMIN_SETUP_PASSWORD=$PGADMIN_DEFAULT_PASSWORD python setup.py setup-db
    if [ -n "${PGADMIN_SERVER_JSON_FILE:-}" ] && [ -f "$PGADMIN_SERVER_JSON_FILE" ]; then
        python setup.py load-servers "$PGADMIN_SERVER_JSON_FILE" --user "$email"
    fi
    if [ -n "${PGPASS_FILE:-}" ] && [ -f "$PGPASS_FILE" ]; then
        # The user's storage folder, named as pgAdmin names it: "@" and "/" replaced, a
        # prefix before a leading digit. A PassFile of "/.pgpass" is found there.
        folder=$(printf '%s' "$email" | sed 's/@/_/g; s|/|slash|g; s/^[0-9]/pga_user_&/')
        install -d -m 0700 "$data/storage" "$data/storage/$folder"
        cp "$PGPASS_FILE" "$data/storage/$folder/.pgpass"
        chmod 0600 "$data/storage/$folder/.pgpass"
    fi
fi

[ "$#" = 0 ] || exec "$@"
cd "$app"
# One process, as pgAdmin keeps each user's database connections in its memory. Its import
# takes a minute on a busy 2-CPU machine: more than gunicorn's default 30 s for a worker.
exec gunicorn --bind "${PGADMIN_LISTEN_ADDRESS:-0.0.0.0}:${PGADMIN_LISTEN_PORT:-80}" \
    --workers 1 --threads 16 --timeout 300 --access-logfile - pgAdmin4:app
