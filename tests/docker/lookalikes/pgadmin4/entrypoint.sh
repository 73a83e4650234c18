#!/usr/bin/env bash
# Entry point of the dpage/pgadmin4:9 look-alike, following the official image's
# /entrypoint.sh: write config_distro.py (with PGADMIN_CONFIG_* settings) on first start, create
# the configuration database with the default user, load servers.json / preferences.json /
# the pgpass file for that user, then run gunicorn (one worker, threads) in server mode.

# usage: file_env VAR [DEFAULT] -- VAR from "$VAR" or from the file named by "$VAR_FILE".
file_env() {
	local var="$1" fileVar="${1}_FILE" def="${2:-}"
	if [ "${!var:-}" ] && [ "${!fileVar:-}" ]; then
		printf >&2 'error: both %s and %s are set (but are exclusive)\n' "$var" "$fileVar"
		exit 1
	fi
	local val="$def"
	if [ "${!var:-}" ]; then
		val="${!var}"
	elif [ "${!fileVar:-}" ]; then
		val="$(< "${!fileVar}")"
	fi
	export "$var"="$val"
	unset "$fileVar"
}

if [ -n "${PGADMIN_CONFIG_CONFIG_DATABASE_URI_FILE}" ]; then
	file_env PGADMIN_CONFIG_CONFIG_DATABASE_URI
fi
file_env PGADMIN_DEFAULT_PASSWORD

export CONFIG_DISTRO_FILE_PATH="${PGADMIN_CUSTOM_CONFIG_DISTRO_FILE:-/pgadmin4/config_distro.py}"
# Only on first launch: the empty file is made at build time with the right owner.
if [ "$(wc -m < "${CONFIG_DISTRO_FILE_PATH}")" = "0" ]; then
	cat << EOCONF > "${CONFIG_DISTRO_FILE_PATH}"
CA_FILE = '/etc/ssl/certs/ca-certificates.crt'
LOG_FILE = '/dev/null'
HELP_PATH = '../../docs/en_US/_build/html/'
MINIFY_HTML = False
DEFAULT_BINARY_PATHS = {
        'pg': '/usr/lib/postgresql/17/bin',
        'pg-17': '/usr/lib/postgresql/17/bin'
}
EOCONF
	for var in $(env | grep "^PGADMIN_CONFIG_" | cut -d "=" -f 1); do
		# shellcheck disable=SC2086,SC2046
		echo ${var#PGADMIN_CONFIG_} = $(eval "echo \$$var") >> "${CONFIG_DISTRO_FILE_PATH}"
	done
fi

external_config_db_exists="False"
if [ -n "${PGADMIN_CONFIG_CONFIG_DATABASE_URI}" ]; then
	external_config_db_exists=$(cd /pgadmin4/pgadmin/utils && /venv/bin/python3 -c "from check_external_config_db import check_external_config_db; val = check_external_config_db(\"${PGADMIN_CONFIG_CONFIG_DATABASE_URI}\"); print(val)")
fi

if [ ! -f /var/lib/pgadmin/pgadmin4.db ] && [ "${external_config_db_exists}" = "False" ]; then
	if [ -z "${PGADMIN_DEFAULT_EMAIL}" ] || [ -z "${PGADMIN_DEFAULT_PASSWORD}" ]; then
		echo 'You need to define the PGADMIN_DEFAULT_EMAIL and PGADMIN_DEFAULT_PASSWORD or PGADMIN_DEFAULT_PASSWORD_FILE environment variables.'
		exit 1
	fi

	CHECK_EMAIL_DELIVERABILITY="${PGADMIN_CONFIG_CHECK_EMAIL_DELIVERABILITY:-False}"
	ALLOW_SPECIAL_EMAIL_DOMAINS="${PGADMIN_CONFIG_ALLOW_SPECIAL_EMAIL_DOMAINS:-[]}"
	GLOBALLY_DELIVERABLE="${PGADMIN_CONFIG_GLOBALLY_DELIVERABLE:-True}"
	email_config="{'CHECK_EMAIL_DELIVERABILITY': ${CHECK_EMAIL_DELIVERABILITY}, 'ALLOW_SPECIAL_EMAIL_DOMAINS': ${ALLOW_SPECIAL_EMAIL_DOMAINS}, 'GLOBALLY_DELIVERABLE': ${GLOBALLY_DELIVERABLE}}"
	echo "email config is ${email_config}"
	is_valid_email=$(cd /pgadmin4/pgadmin/utils && /venv/bin/python3 -c "from validation_utils import validate_email; val = validate_email('${PGADMIN_DEFAULT_EMAIL}', ${email_config}); print(val)")
	if [ "$(echo "${is_valid_email}" | tail -n 1)" != "True" ]; then
		echo "${is_valid_email}"
		echo "'${PGADMIN_DEFAULT_EMAIL}' does not appear to be a valid email address. Please reset the PGADMIN_DEFAULT_EMAIL environment variable and try again."
		exit 1
	fi
	cd /pgadmin4 || exit 1

	export PGADMIN_SETUP_EMAIL="${PGADMIN_DEFAULT_EMAIL}"
	export PGADMIN_SETUP_PASSWORD="${PGADMIN_DEFAULT_PASSWORD}"

	# Create the configuration database (importing the app is enough).
	/venv/bin/python3 run_pgadmin.py

	export PGADMIN_SERVER_JSON_FILE="${PGADMIN_SERVER_JSON_FILE:-/pgadmin4/servers.json}"
	export PGADMIN_PREFERENCES_JSON_FILE="${PGADMIN_PREFERENCES_JSON_FILE:-/pgadmin4/preferences.json}"

	if [ -f "${PGADMIN_SERVER_JSON_FILE}" ]; then
		if [ "${PGADMIN_CONFIG_SERVER_MODE}" = "False" ]; then
			/venv/bin/python3 /pgadmin4/setup.py load-servers "${PGADMIN_SERVER_JSON_FILE}"
		else
			/venv/bin/python3 /pgadmin4/setup.py load-servers "${PGADMIN_SERVER_JSON_FILE}" --user "${PGADMIN_DEFAULT_EMAIL}"
		fi
	fi
	if [ -f "${PGADMIN_PREFERENCES_JSON_FILE}" ]; then
		if [ "${PGADMIN_CONFIG_SERVER_MODE}" = "False" ]; then
			DESKTOP_USER=$(cd /pgadmin4 && /venv/bin/python3 -c 'import config; print(config.DESKTOP_USER)')
			/venv/bin/python3 /pgadmin4/setup.py set-prefs "${DESKTOP_USER}" --input-file "${PGADMIN_PREFERENCES_JSON_FILE}"
		else
			/venv/bin/python3 /pgadmin4/setup.py set-prefs "${PGADMIN_DEFAULT_EMAIL}" --input-file "${PGADMIN_PREFERENCES_JSON_FILE}"
		fi
	fi
	# A pgpass file (e.g. a secret) goes to the default user's storage directory, where a
	# servers.json "PassFile" / "passfile" is looked up in server mode.
	if [ -f "${PGPASS_FILE}" ]; then
		if [ "${PGADMIN_CONFIG_SERVER_MODE}" = "False" ]; then
			cp "${PGPASS_FILE}" /var/lib/pgadmin/.pgpass
			chmod 600 /var/lib/pgadmin/.pgpass
		else
			PGADMIN_USER_CONFIG_DIR="${PGADMIN_DEFAULT_EMAIL//@/_}"
			mkdir -p "/var/lib/pgadmin/storage/${PGADMIN_USER_CONFIG_DIR}"
			cp "${PGPASS_FILE}" "/var/lib/pgadmin/storage/${PGADMIN_USER_CONFIG_DIR}/.pgpass"
			chmod 600 "/var/lib/pgadmin/storage/${PGADMIN_USER_CONFIG_DIR}/.pgpass"
		fi
	fi
fi

cd /pgadmin4 || exit 1

# Gunicorn's worker timeout from pgAdmin's session expiry (as the official image).
TIMEOUT=$(/venv/bin/python3 -c 'import config; print(config.SESSION_EXPIRATION_TIME * 60 * 60 * 24)')

# pgAdmin can only run one worker (sessions): one worker, many threads.
if [ -n "${PGADMIN_ENABLE_SOCK}" ]; then
	BIND_ADDRESS="unix:/run/pgadmin/pgadmin.sock"
elif [ -n "${PGADMIN_ENABLE_TLS}" ]; then
	BIND_ADDRESS="${PGADMIN_LISTEN_ADDRESS:-[::]}:${PGADMIN_LISTEN_PORT:-443}"
else
	BIND_ADDRESS="${PGADMIN_LISTEN_ADDRESS:-[::]}:${PGADMIN_LISTEN_PORT:-80}"
fi

if [ -n "${PGADMIN_ENABLE_TLS}" ]; then
	exec /venv/bin/gunicorn --limit-request-line "${GUNICORN_LIMIT_REQUEST_LINE:-8190}" --timeout "${TIMEOUT}" --bind "${BIND_ADDRESS}" -w 1 --threads "${GUNICORN_THREADS:-25}" --access-logfile "${GUNICORN_ACCESS_LOGFILE:--}" --keyfile /certs/server.key --certfile /certs/server.cert -c gunicorn_config.py run_pgadmin:app
else
	exec /venv/bin/gunicorn --limit-request-line "${GUNICORN_LIMIT_REQUEST_LINE:-8190}" --timeout "${TIMEOUT}" --bind "${BIND_ADDRESS}" -w 1 --threads "${GUNICORN_THREADS:-25}" --access-logfile "${GUNICORN_ACCESS_LOGFILE:--}" -c gunicorn_config.py run_pgadmin:app
fi
