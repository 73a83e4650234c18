"""Settings for the hello ceiling: the least Django needs to answer a request."""

# Not a secret: this module serves one constant page on loopback, during the bench only.
SECRET_KEY = "bench-hello-ceiling-not-a-secret"  # noqa: S105
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

INSTALLED_APPS: list[str] = []
MIDDLEWARE: list[str] = []
ROOT_URLCONF = "bench.hello.urls"
DATABASES: dict = {}
TEMPLATES: list = []

USE_I18N = False
USE_TZ = True
