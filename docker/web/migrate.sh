#!/bin/sh
# The one-off deployment job (compose.migrate.yaml): wait for a real database connection,
# apply migrations (serialised by an advisory lock, see ops/management/commands/migrate.py),
# then publish the static files to the volume nginx serves. Any failure stops the job with a
# non-zero exit code.
set -eu

python manage.py wait_for_db --timeout "${DB_WAIT_TIMEOUT:-60}"
python manage.py migrate --no-input
python manage.py collectstatic --no-input
