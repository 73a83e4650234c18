#!/bin/sh
# The role the app connects as: it owns POSTGRES_DB (so its migrations can create tables)
# and nothing else. Not a superuser, so a flaw in the app cannot read other databases,
# create roles or run programs on the server (COPY ... PROGRAM).
#
# The postgres image runs this once, on the first start with an empty volume, after it has
# created POSTGRES_USER (the cluster's superuser) and POSTGRES_DB. Mounted at
# /docker-entrypoint-initdb.d/ by compose.yaml (or delivered as a config file by an orchestrator).
# The image sources a script that is not executable: hence no `exit` and no `set -u` here.
set -e

if [ -z "${DJANGO_DB_USER:-}" ] || [ "$DJANGO_DB_USER" = "$POSTGRES_USER" ]; then
    echo "create-app-role: no DJANGO_DB_USER apart from POSTGRES_USER; the app connects as $POSTGRES_USER."
else
    # The password from a secret file when there is one (Docker secrets), else the environment.
    if [ -n "${DJANGO_DB_PASSWORD_FILE:-}" ]; then
        DJANGO_DB_PASSWORD="$(cat "$DJANGO_DB_PASSWORD_FILE")"
    fi
    : "${DJANGO_DB_PASSWORD:?DJANGO_DB_PASSWORD (or DJANGO_DB_PASSWORD_FILE) is not set: run make env}"
    export DJANGO_DB_PASSWORD

    # psql takes the values from the environment (\getenv) and quotes them itself (:"name"
    # as an identifier, :'name' as a literal): nothing on a command line, nothing to escape.
    psql -v ON_ERROR_STOP=1 --no-psqlrc --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" <<'SQL'
\getenv app_user DJANGO_DB_USER
\getenv app_password DJANGO_DB_PASSWORD
\getenv database POSTGRES_DB
CREATE ROLE :"app_user" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION
    PASSWORD :'app_password';
ALTER DATABASE :"database" OWNER TO :"app_user";
SQL
    echo "create-app-role: created the role $DJANGO_DB_USER, owner of the database $POSTGRES_DB, not a superuser."
fi
