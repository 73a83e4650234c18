#!/bin/sh
# Reloads nginx when its certificate or key is replaced (a renewal by certbot, a new one
# copied in by hand), so that the new one is served without a restart: a reload lets the old
# workers finish their requests. Started by the nginx image's entrypoint
# (/docker-entrypoint.d/), it leaves a loop in the background that compares the files'
# checksums every NGINX_CERT_CHECK_SECONDS (60; 0: never). POSIX sh and coreutils only, as
# in any nginx image. A pair caught half-written fails `nginx -t` and is tried again next time.
set -eu

directory="${NGINX_CERTS_DIR_IN_CONTAINER:-/etc/nginx/certs}"
interval="${NGINX_CERT_CHECK_SECONDS:-60}"
case "$interval" in
    "" | *[!0-9]*)
        echo "$0: NGINX_CERT_CHECK_SECONDS: '$interval' is not a number of seconds" >&2
        exit 1
        ;;
esac
if [ "$interval" = 0 ] || [ ! -f "$directory/fullchain.pem" ]; then
    echo "$0: not watching for a new certificate"
    exit 0
fi

checksum() {
    cksum "$directory/fullchain.pem" "$directory/privkey.pem" 2>/dev/null || true
}

watch_certificate() {
    served=$(checksum)
    while sleep "$interval"; do
        now=$(checksum)
        [ "$now" = "$served" ] && continue
        if nginx -t -q 2>/dev/null && nginx -s reload; then
            served=$now
            echo "$0: the certificate changed: nginx reloaded"
        else
            echo "$0: the certificate changed, but nginx -t fails with it: trying again" >&2
        fi
    done
}

# Out of the entrypoint's way: it goes on to start nginx, whose child the loop becomes.
watch_certificate </dev/null &
echo "$0: reloading nginx when $directory/ changes (every ${interval}s)"
