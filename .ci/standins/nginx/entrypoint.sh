#!/bin/sh
# Entrypoint of the nginx stand-in. Before nginx starts: the start-up scripts of
# /docker-entrypoint.d in name order (*.sh run, *.envsh sourced so that what they export
# reaches what follows; either only when executable), then each template rendered into a
# configuration file with the values of the environment variables that are set.
set -eu

say() { echo "nginx-entrypoint: $*" >&2; }

render_templates() {
    templates=${NGINX_ENVSUBST_TEMPLATE_DIR:-/etc/nginx/templates}
    suffix=${NGINX_ENVSUBST_TEMPLATE_SUFFIX:-.template}
    output=${NGINX_ENVSUBST_OUTPUT_DIR:-/etc/nginx/conf.d}
    [ -d "$templates" ] || return 0
    # Only the variables that are set: any other ${...} is left for nginx, whose own
    # variables are written the same way.
    set_variables=$(awk 'BEGIN { for (name in ENVIRON) printf "${%s} ", name }')
    for template in "$templates"/*"$suffix"; do
        [ -f "$template" ] || continue
        target="$output/$(basename "$template" "$suffix")"
        envsubst "$set_variables" <"$template" >"$target"
        say "$template rendered as $target"
    done
}

case "${1:-}" in
    nginx | nginx-debug | */nginx)
        for script in /docker-entrypoint.d/*; do
            [ -f "$script" ] || continue
            if [ ! -x "$script" ]; then
                say "skipping $script: not executable"
                continue
            fi
            case "$script" in
                *.envsh)
                    say "sourcing $script"
                    # shellcheck source=/dev/null
                    . "$script"
                    ;;
                *.sh) say "running $script"; "$script" ;;
                *) say "skipping $script: neither .sh nor .envsh" ;;
            esac
        done
        render_templates
        ;;
esac

exec "$@"
