#!/bin/sh
# Writes the `db` server definition and its password file from the environment, then hands
# over to the image's own entrypoint. That entrypoint imports servers.json and PGPASS_FILE
# only on pgAdmin's first start (an empty pgadmin-data volume): after changing the database
# password, `docker compose down` and `docker volume rm <project>_pgadmin-data`.
set -eu

umask 077
printf 'db:5432:*:%s:%s\n' "$POSTGRES_USER" "$POSTGRES_PASSWORD" > "$PGPASS_FILE"
cat > "$PGADMIN_SERVER_JSON_FILE" <<JSON
{
  "Servers": {
    "1": {
      "Name": "db (compose)",
      "Group": "Servers",
      "Host": "db",
      "Port": 5432,
      "MaintenanceDB": "$POSTGRES_DB",
      "Username": "$POSTGRES_USER",
      "SSLMode": "prefer",
      "PassFile": "/.pgpass"
    }
  }
}
JSON
exec /entrypoint.sh "$@"
