#!/bin/sh
# Writes nginx's limit on request bodies from DJANGO_MAX_UPLOAD_MB, the largest file the app's
# forms accept (with the same default), plus 1 MB for the rest of a multipart form: one
# setting for both. A larger body is refused here with 413, before it reaches gunicorn. The
# nginx image's entrypoint runs it on every start (/docker-entrypoint.d/); harness/stack.py
# runs it too. It writes to a tmpfs: the container's root file system is read-only.
set -eu

directory="${NGINX_RUNTIME_DIR:-/run/nginx}"
mkdir -p "$directory"
target="$directory/upload-limit.conf"
limit="${DJANGO_MAX_UPLOAD_MB:-10}"
case "$limit" in
    "" | 0* | *[!0-9]*)
        echo "$0: DJANGO_MAX_UPLOAD_MB: '$limit' is not valid: use a whole number from 1 up" >&2
        exit 1
        ;;
esac
body=$((limit + 1))
printf '# Written by %s from DJANGO_MAX_UPLOAD_MB.\nclient_max_body_size %sm;\n' "$0" "$body" \
    >"$target.partial"
mv "$target.partial" "$target"
echo "$0: uploads up to $limit MB, request bodies up to $body MB"
