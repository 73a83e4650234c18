#!/bin/sh
# Writes the redirect from plain http to https that http-to-https.conf includes, to the port
# clients reach https at: NGINX_HTTPS_PORT (8443 by default) is the host's port, not the
# container's 443, and 443 itself is left out of the address. DJANGO_SECURE_SSL_REDIRECT, the
# switch Django reads, turns it off here too (plain http on loopback in the tests). The nginx
# image's entrypoint runs it on every start (/docker-entrypoint.d/); harness/stack.py too.
set -eu

directory="${NGINX_RUNTIME_DIR:-/run/nginx}"
mkdir -p "$directory"
target="$directory/https-redirect.conf"
port="${NGINX_HTTPS_PORT:-8443}"
case "$port" in
    "" | *[!0-9]*)
        echo "$0: NGINX_HTTPS_PORT: '$port' is not a port number" >&2
        exit 1
        ;;
esac
suffix=":$port"
[ "$port" = 443 ] && suffix=""

# The words python-decouple reads as false, an empty value among them; unset is on.
case "$(printf '%s' "${DJANGO_SECURE_SSL_REDIRECT-True}" | tr 'A-Z' 'a-z')" in
    "" | f | n | false | 0 | no | off)
        echo "# DJANGO_SECURE_SSL_REDIRECT is off: plain http is served." >"$target.partial"
        echo "$0: plain http is not redirected (DJANGO_SECURE_SSL_REDIRECT)"
        ;;
    *)
        # shellcheck disable=SC2016  # nginx's variables, not the shell's
        printf 'return 301 https://$host%s$request_uri;\n' "$suffix" >"$target.partial"
        echo "$0: plain http is redirected to https://<host>$suffix/"
        ;;
esac
mv "$target.partial" "$target"
