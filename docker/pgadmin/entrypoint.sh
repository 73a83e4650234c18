#!/bin/sh
# Writes the `db` server definition and its password file from the environment, then hands
# over to the image's own entrypoint, which imports servers.json on its first start.
set -eu

pgpass=/var/lib/pgadmin/pgpass
umask 077
printf 'db:5432:*:%s:%s\n' "$POSTGRES_USER" "$POSTGRES_PASSWORD" > "$pgpass"
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
      "PassFile": "$pgpass"
    }
  }
}
JSON
exec /entrypoint.sh "$@"
