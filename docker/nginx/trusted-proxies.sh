#!/bin/sh
# Writes the proxies nginx believes about the client (docker/nginx/default.conf includes both
# files) from NGINX_TRUSTED_PROXIES, comma-separated addresses or CIDR ranges: a
# `set_real_ip_from` line for each, and the same list for nginx's `geo`. Empty, the default:
# no proxy is trusted, and nginx goes by the connection it sees itself. The nginx image's
# entrypoint runs it on every start (/docker-entrypoint.d/); harness/stack.py runs it too.
set -eu
set -f  # the entries are addresses, not file name patterns

directory="${NGINX_RUNTIME_DIR:-/run/nginx}"
mkdir -p "$directory"
real_ip="$directory/real-ip.conf"
geo="$directory/trusted-proxies.geo"
echo "# Written by $0 from NGINX_TRUSTED_PROXIES." >"$real_ip.partial"
echo "# Written by $0 from NGINX_TRUSTED_PROXIES." >"$geo.partial"
trusted=""
for proxy in $(printf '%s' "${NGINX_TRUSTED_PROXIES:-}" | tr ',' ' '); do
    case "$proxy" in
        *[!0-9A-Fa-f.:/]*)
            echo "$0: NGINX_TRUSTED_PROXIES: '$proxy' is neither an address nor a range" \
                "(such as 10.0.0.7 or 10.0.0.0/24)" >&2
            exit 1
            ;;
    esac
    printf 'set_real_ip_from %s;\n' "$proxy" >>"$real_ip.partial"
    printf '%s 1;\n' "$proxy" >>"$geo.partial"
    trusted="$trusted $proxy"
done
mv "$real_ip.partial" "$real_ip"
mv "$geo.partial" "$geo"
echo "$0: proxies trusted about the client:${trusted:- none}"
