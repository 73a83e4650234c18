#!/bin/sh
# certbot runs this once it has a new certificate (RENEWED_LINEAGE: its folder under
# /etc/letsencrypt/live/): copies it where nginx reads it, under the names nginx reads, each
# file complete before it is renamed into place, the key first and readable by its owner
# only. nginx looks for a changed certificate every minute and reloads
# (docker/nginx/reload-on-new-certificate.sh).
set -eu
umask 077

for name in privkey.pem fullchain.pem; do
    cp -L "$RENEWED_LINEAGE/$name" "/certs/.$name.new"
    mv "/certs/.$name.new" "/certs/$name"
done
chmod 644 /certs/fullchain.pem
echo "deploy-hook.sh: the certificate of $RENEWED_LINEAGE is in place for nginx"
