"""WSGI entry point for gunicorn: `gunicorn config.wsgi`."""

import os
import sys

from django.core.exceptions import ImproperlyConfigured
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

try:
    application = get_wsgi_application()
except ImproperlyConfigured as error:
    # One clear line instead of a traceback per worker; exit code 4 is gunicorn's
    # "application failed to load", which stops the master instead of respawning workers.
    print(f"Configuration error: {error}", file=sys.stderr, flush=True)
    sys.exit(4)
