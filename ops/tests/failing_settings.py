"""The project's settings with ops/tests/failing_urls.py as the URLs: for a server (gunicorn)
that must meet a server error."""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "ops.tests.failing_urls"
