#!/bin/sh
# The certbot service (compose.certbot.yaml): `certbot renew` twice a day. It renews each
# certificate due within 30 days through the webroot nginx serves, and its deploy hook hands
# a renewed one to nginx. A failed try is said and tried again at the next round.
set -u

while :; do
    certbot renew --webroot --webroot-path /var/www/acme \
        --deploy-hook /docker/certbot/deploy-hook.sh --no-random-sleep-on-renew ||
        echo "renew.sh: certbot renew failed; trying again in 12 hours" >&2
    sleep 43200
done
