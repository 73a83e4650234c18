"""WSGI entry point for gunicorn: `gunicorn config.wsgi`."""

import contextlib
import os
import sys

from django.core.exceptions import ImproperlyConfigured
from django.core.wsgi import get_wsgi_application
from django.urls import URLResolver, get_resolver

from config.env import config

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

MIB = 1024 * 1024


def drain_unread_body(app):
    """The app, reading what it left unread of the request body before the response goes out.

    Django answers some requests without reading their body: form data over
    DATA_UPLOAD_MAX_MEMORY_SIZE, a host not in ALLOWED_HOSTS. gunicorn would then close the
    connection while nginx is still sending that body: nginx sees a broken pipe, shows its own
    503 page instead of Django's 400, and counts a failure against that `web` container (a few
    such requests could take every container out of nginx's rotation for a while). Reading
    the rest first keeps Django's answer and the connection. nginx has the whole body already
    (it buffers request bodies), so this takes milliseconds.
    """

    # nginx lets no larger body through (docker/nginx/upload-limit.sh: the same setting, read
    # here as settings.py reads it, whatever settings module runs).
    drain_limit = (config("DJANGO_MAX_UPLOAD_MB", default=10, cast=int) + 1) * MIB

    def application(environ, start_response):
        try:
            return app(environ, start_response)
        finally:
            stream = environ["wsgi.input"]
            with contextlib.suppress(OSError, ValueError):
                # Never past the declared length: not every server's stream ends there.
                remaining = min(int(environ.get("CONTENT_LENGTH") or 0), drain_limit)
                while remaining > 0 and (chunk := stream.read(min(remaining, 65536))):
                    remaining -= len(chunk)

    return application


def build_url_tables(resolver: URLResolver) -> None:
    """The tables reverse() looks URLs up in, for every namespace, built now. Django builds
    them on the first reverse() of each process: 100-200 ms (every pattern's regex taken
    apart) on a worker's first page. gunicorn loads this module once in its master
    (preload_app) and every worker it forks, at start or when it recycles one
    (max_requests), inherits them."""
    for _prefix, namespace in resolver.namespace_dict.values():
        build_url_tables(namespace)
    resolver.reverse_dict  # noqa: B018 (built on first access)


try:
    application = drain_unread_body(get_wsgi_application())
    build_url_tables(get_resolver())
except ImproperlyConfigured as error:
    # One clear line instead of a traceback per worker; exit code 4 is gunicorn's
    # "application failed to load", which stops the master instead of respawning workers.
    print(f"Configuration error: {error}", file=sys.stderr, flush=True)
    sys.exit(4)
