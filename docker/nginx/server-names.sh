#!/bin/sh
# Writes nginx's `server_name` for the app from DJANGO_ALLOWED_HOSTS, the comma-separated
# list Django reads (with the same default), so that nginx refuses other hosts itself
# (docker/nginx/default.conf) and one list configures both. The nginx image's entrypoint
# runs it on every start (/docker-entrypoint.d/); harness/stack.py runs it too. It writes to
# a tmpfs: the container's root file system is read-only.
set -eu
set -f  # Django's "*" is a host pattern here, not a file name pattern.

directory="${NGINX_RUNTIME_DIR:-/run/nginx}"
mkdir -p "$directory"
target="$directory/server-names.conf"
names=""
for host in $(printf '%s' "${DJANGO_ALLOWED_HOSTS:-localhost,127.0.0.1,[::1]}" | tr ',' ' '); do
    case "$host" in
        # Any host: a regular expression that matches every name.
        "*") names="$names ~." ;;
        # ".example.com" means the domain and its subdomains to nginx as to Django.
        *) names="$names $host" ;;
    esac
done

printf 'server_name%s;\n' "${names:- \"\"}" > "$target.partial"
mv "$target.partial" "$target"
echo "$0: nginx answers for:${names:- no host}"
