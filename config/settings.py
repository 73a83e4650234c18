"""
Settings for the project: one module for every environment.

Every value comes from python-decouple: an environment variable first, then the `.env` file
at the project root, then the default written here. Production differs from development by
the values it is given, never by a code path. `.env.example` documents every variable.

https://docs.djangoproject.com/en/6.1/ref/settings/
"""

import re
import socket
import ssl
from datetime import timedelta

from decouple import Choices, Csv
from django.utils.csp import CSP

from config.env import BASE_DIR, InvalidSettingError, config, required, secret

# ---------------------------------------------------------------------------------------------
# Core
# https://docs.djangoproject.com/en/6.1/howto/deployment/checklist/
# ---------------------------------------------------------------------------------------------

# The project's name as people read it: in page titles and the header of every page.
# % filter replace("Django Starter", project_name)
PROJECT_NAME = "Django Starter"

# % endfilter
# SECURITY WARNING: keep the secret key used in production secret!
SECRET_KEY = secret("DJANGO_SECRET_KEY")
# Former keys, still accepted (never used to sign) while what they signed expires: sessions,
# password reset links. Rotating the key is then no mass sign-out (README: Secrets).
# Split on commas alone: decouple's Csv parses shell quoting, and would cut a key at a "#".
SECRET_KEY_FALLBACKS = [
    key.strip()
    for key in secret("DJANGO_SECRET_KEY_FALLBACKS", default="").split(",")
    if key.strip()
]

# SECURITY WARNING: don't run with debug turned on in production!
DEBUG = config("DJANGO_DEBUG", default=False, cast=bool)

# Defaults cover every documented endpoint: nginx (8088), gunicorn (8001), runserver (8000).
# nginx forwards the client's Host header, so these are the names users type.
ALLOWED_HOSTS = config("DJANGO_ALLOWED_HOSTS", default="localhost,127.0.0.1,[::1]", cast=Csv())
CSRF_TRUSTED_ORIGINS = config(
    "DJANGO_CSRF_TRUSTED_ORIGINS",
    default=",".join(
        f"http://{host}:{port}"
        for host in ("localhost", "127.0.0.1")
        for port in (8088, 8001, 8000)
    ),
    cast=Csv(),
)

INSTALLED_APPS = [
    # Project apps first, so that `ops` can extend Django's own management commands.
    "accounts",
    "ops",
    # Your apps here (`python manage.py startapp <name>` makes one that passes `make lint`).
    # % if with_example_app
    "todo",  # the example app (todo/README.md)
    # % endif
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    # The task queue's table and its admin (background tasks, below).
    "django_tasks_db",
    # Sign-in throttling (below, under Authentication).
    "axes",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    # Form data that is not UTF-8 is a 400, not text mangled with U+FFFD (ops/middleware.py).
    "ops.middleware.RejectInvalidUtf8Middleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Pages of a signed-in user stay out of shared and browser caches (ops/middleware.py).
    "ops.middleware.PrivatePagesMiddleware",
    # Last: turns a locked-out sign-in into its 429 page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

# Templates are read once and kept, except in development, where an edited template shows on
# the next request under gunicorn too (only runserver empties Django's template cache).
TEMPLATE_LOADERS = [
    "django.template.loaders.filesystem.Loader",
    "django.template.loaders.app_directories.Loader",
]
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "ops.context_processors.project",
            ],
            "loaders": (
                TEMPLATE_LOADERS
                if DEBUG
                else [("django.template.loaders.cached.Loader", TEMPLATE_LOADERS)]
            ),
        },
    },
]

# ---------------------------------------------------------------------------------------------
# Database
# https://docs.djangoproject.com/en/6.1/ref/settings/#databases
# With DJANGO_DB_HOST set (compose sets it to `db`) the app uses PostgreSQL; without it, the
# embedded default: SQLite in the project folder, so `make run` needs no server at all.
# ---------------------------------------------------------------------------------------------

DB_HOST = config("DJANGO_DB_HOST", default="")
# The app's own role, not a superuser (docker/postgres/initdb/ creates it in the compose
# stack). Without one, the app connects as POSTGRES_USER: a managed database's single role,
# or the throwaway cluster of the tests.
DB_USER = config("DJANGO_DB_USER", default="")

if DB_HOST:
    DATABASES = {
        "default": {
            # Django's backend with a cheaper health check (ops/postgresql/base.py).
            "ENGINE": "ops.postgresql",
            "HOST": DB_HOST,
            "PORT": config("DJANGO_DB_PORT", default=5432, cast=int),
            "NAME": config("POSTGRES_DB", default="postgres"),
            "USER": DB_USER or required("POSTGRES_USER"),
            "PASSWORD": secret("DJANGO_DB_PASSWORD") if DB_USER else secret("POSTGRES_PASSWORD"),
            # Persistent connections, checked before reuse so that the app recovers by itself
            # after the database restarts.
            "CONN_MAX_AGE": config("DJANGO_DB_CONN_MAX_AGE", default=60, cast=int),
            "CONN_HEALTH_CHECKS": True,
            "OPTIONS": {
                "connect_timeout": config("DJANGO_DB_CONNECT_TIMEOUT", default=5, cast=int),
                # TLS to the database, as libpq has it: `prefer` uses TLS where the server
                # offers it; a database reached over a network others share (a managed one)
                # wants `verify-full`, with the CA that signed its certificate in
                # DJANGO_DB_SSLROOTCERT (a file, or `system` for the image's CA bundle).
                "sslmode": config(
                    "DJANGO_DB_SSLMODE",
                    default="prefer",
                    cast=Choices(
                        ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"]
                    ),
                ),
            },
        }
    }
    DB_SSLROOTCERT = config("DJANGO_DB_SSLROOTCERT", default="")
    if DB_SSLROOTCERT == "system":
        # psycopg's binary wheel brings an OpenSSL of its own that looks for CAs in a folder
        # of its own: libpq's `system` would find none. Python's OpenSSL knows this system's.
        DB_SSLROOTCERT = ssl.get_default_verify_paths().cafile or DB_SSLROOTCERT
    if DB_SSLROOTCERT:
        DATABASES["default"]["OPTIONS"]["sslrootcert"] = DB_SSLROOTCERT
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": config("DJANGO_SQLITE_PATH", default=str(BASE_DIR / "db.sqlite3")),
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Each process keeps rendered fragments ({% cache %}: rows of a list, say) in its own memory. Their
# keys hold the version of what they show, so a change never meets a stale copy in another
# worker or replica, and nothing needs a shared cache (Redis or memcached would go here).
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "OPTIONS": {"MAX_ENTRIES": 5000},
    }
}
if DEBUG:
    # Development re-reads templates on every request (TEMPLATES below): a cached fragment
    # would hide an edited one.
    CACHES["default"] = {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}

# ---------------------------------------------------------------------------------------------
# Authentication
# https://docs.djangoproject.com/en/6.1/topics/auth/customizing/
# ---------------------------------------------------------------------------------------------

AUTH_USER_MODEL = "accounts.User"

# Django's own sign-in and sign-out views (config/urls.py); pages that need a user send
# visitors to sign in, and back where they were afterwards.
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "login"

# The admin's address: another path than the well-known admin/ keeps scanners off it.
ADMIN_URL = config("DJANGO_ADMIN_URL", default="admin/")
if not re.fullmatch(r"([\w.~-]+/)+", ADMIN_URL):
    raise InvalidSettingError(
        f"DJANGO_ADMIN_URL={ADMIN_URL!r} is not valid: use a path such as admin/ or "
        "staff-only/ (letters, digits, - _ . ~, ending in /, no leading /)."
    )

# Argon2 (argon2-cffi) hashes new passwords, with Django's parameters; a hash made by one of
# the others (an older account, a restored backup) still verifies and becomes Argon2 at that
# user's next sign-in.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]

PASSWORD_MIN_LENGTH = config("DJANGO_PASSWORD_MIN_LENGTH", default=12, cast=int)
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": PASSWORD_MIN_LENGTH},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Sign-in throttling (django-axes), for the site's and the admin's sign-in alike: after
# DJANGO_SIGN_IN_FAILURES wrong passwords for one account from one client address, that
# account is locked for that client (the right password included) until
# DJANGO_SIGN_IN_LOCKOUT_MINUTES have passed without another try. Other clients can still
# sign in to the account, and the client to other accounts: an attacker behind a shared
# address cannot lock everyone out. nginx limits sign-in POSTs per client on top.
# Attempts and lockouts are in the admin (Axes); an administrator lifts a lockout by
# deleting its access attempt there, or with `manage.py axes_reset_username`.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = config("DJANGO_SIGN_IN_FAILURES", default=5, cast=int)
SIGN_IN_LOCKOUT_MINUTES = config("DJANGO_SIGN_IN_LOCKOUT_MINUTES", default=15, cast=int)
# Zero would mean no sign-in at all, or (to django-axes, for a zero cool-off) locked for good.
for name, value in [
    ("DJANGO_SIGN_IN_FAILURES", AXES_FAILURE_LIMIT),
    ("DJANGO_SIGN_IN_LOCKOUT_MINUTES", SIGN_IN_LOCKOUT_MINUTES),
]:
    if value < 1:
        raise InvalidSettingError(f"{name}={value} is not valid: use a whole number from 1 up.")
AXES_COOLOFF_TIME = timedelta(minutes=SIGN_IN_LOCKOUT_MINUTES)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "accounts.signin.locked_out"
# The client address that nginx saw (accounts/signin.py), not nginx's own; the username as
# long as one can be.
AXES_CLIENT_IP_CALLABLE = "accounts.signin.client_address"
AXES_USERNAME_CALLABLE = "accounts.signin.attempted_username"
# A failed sign-in is one log line with the username and the client's address (never the
# password): accounts/signin.py writes it, the logger "axes" is kept to warnings below.
AXES_CLIENT_STR_CALLABLE = "accounts.signin.describe_client"
AXES_SENSITIVE_PARAMETERS = []

# ---------------------------------------------------------------------------------------------
# Internationalization
# ---------------------------------------------------------------------------------------------

LANGUAGE_CODE = "en-us"
TIME_ZONE = config("DJANGO_TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

# ---------------------------------------------------------------------------------------------
# Static files: collected into STATIC_ROOT and served by nginx, never by gunicorn.
# Hashed names (the manifest) make far-future caching safe.
# https://docs.djangoproject.com/en/6.1/howto/static-files/deployment/
# ---------------------------------------------------------------------------------------------

STATIC_URL = "static/"
# A relative path is the project folder's, wherever the command runs.
STATIC_ROOT = BASE_DIR / config("DJANGO_STATIC_ROOT", default="staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
if DEBUG:
    # Development: gunicorn serves the static files itself, straight from the apps' folders
    # (nginx passes /static/ on to it, compose.override.yaml), so that an edited stylesheet
    # shows on the next request without collectstatic.
    MIDDLEWARE.insert(1, "whitenoise.middleware.WhiteNoiseMiddleware")
    WHITENOISE_USE_FINDERS = True
    WHITENOISE_AUTOREFRESH = True
STORAGES = {
    # Uploaded files, in MEDIA_ROOT (or a bucket: Uploaded files, below).
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Django's manifest storage, plus a .gz beside each compressible file, made once by
    # collectstatic: nginx's `gzip_static` sends it instead of compressing on every request.
    # In production WhiteNoise only makes the files (nginx serves them); in development its
    # middleware serves them (below).
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# ---------------------------------------------------------------------------------------------
# Uploaded files (media): private, never at a public URL. A view checks who asks, then hands
# the file over (ops/private_media.py): nginx streams it from the media volume when
# DJANGO_MEDIA_X_ACCEL_REDIRECT is on (compose sets it), Django itself otherwise (`make run`,
# tests); with DJANGO_MEDIA_STORAGE=s3, a short-lived signed URL of the bucket.
# https://docs.djangoproject.com/en/6.1/topics/files/
# ---------------------------------------------------------------------------------------------

MEDIA_ROOT = BASE_DIR / config("DJANGO_MEDIA_ROOT", default="media")
# Nothing serves this prefix: a guessed /media/... is a 404 like any unknown page.
MEDIA_URL = "media/"
MEDIA_X_ACCEL_REDIRECT = config("DJANGO_MEDIA_X_ACCEL_REDIRECT", default=False, cast=bool)
# nginx's `internal` location for them (docker/nginx/private-media.conf): clients cannot ask
# for it, only a response of Django's can send nginx there.
MEDIA_X_ACCEL_PREFIX = "/_private-media/"
# The largest file a form accepts; nginx refuses bodies a little larger than this (413) before
# they reach gunicorn (docker/nginx/upload-limit.sh reads the same variable).
MAX_UPLOAD_MB = config("DJANGO_MAX_UPLOAD_MB", default=10, cast=int)
if MAX_UPLOAD_MB < 1:
    raise InvalidSettingError(
        f"DJANGO_MAX_UPLOAD_MB={MAX_UPLOAD_MB} is not valid: use a whole number from 1 up."
    )
MEDIA_STORAGE = config("DJANGO_MEDIA_STORAGE", default="local", cast=Choices(["local", "s3"]))
if MEDIA_STORAGE == "s3":
    # S3 or any S3-compatible store (MinIO, Ceph, R2...) through django-storages: web replicas
    # on several nodes then share the files. The bucket stays private; a download is a signed
    # URL valid for DJANGO_S3_URL_SECONDS. Without keys, boto3 finds credentials itself (an
    # instance role, AWS_* variables).
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": required("DJANGO_S3_BUCKET"),
            "endpoint_url": config("DJANGO_S3_ENDPOINT_URL", default="") or None,
            "region_name": config("DJANGO_S3_REGION", default="") or None,
            "access_key": config("DJANGO_S3_ACCESS_KEY_ID", default="") or None,
            "secret_key": secret("DJANGO_S3_SECRET_ACCESS_KEY", default="") or None,
            "default_acl": None,
            "querystring_auth": True,
            "querystring_expire": config("DJANGO_S3_URL_SECONDS", default=60, cast=int),
            # Signature version 4: the only one every AWS region and most other stores take.
            "signature_version": "s3v4",
            # Uploads get random names: a clash is a bug, never a reason to overwrite silently.
            "file_overwrite": False,
        },
    }

# ---------------------------------------------------------------------------------------------
# Security
# https://docs.djangoproject.com/en/6.1/ref/middleware/#module-django.middleware.security
# ---------------------------------------------------------------------------------------------

# TLS ends in front of the app, at nginx (docker/nginx/https.conf) or a load balancer in front
# of it. nginx sets X-Forwarded-Proto itself on every request, from its own connection, or
# from such a proxy's word only if NGINX_TRUSTED_PROXIES lists it; whatever a client sends in
# it never arrives, and gunicorn is reachable only through nginx. So this header is believed.
# With DEBUG off, plain http is redirected to https (by nginx already, and by Django for
# whatever reaches it otherwise), and cookies travel over https only. Each switch can be
# turned off for plain-http set-ups (loopback tests) without touching the others.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = config("DJANGO_SECURE_SSL_REDIRECT", default=not DEBUG, cast=bool)
# Container healthchecks call the app over plain http from inside the container.
SECURE_REDIRECT_EXEMPT = [r"^health/$"]
SESSION_COOKIE_SECURE = config("DJANGO_SECURE_COOKIES", default=not DEBUG, cast=bool)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE

# HSTS: once a browser has seen it, it refuses plain http for the domain for that long, so it
# is staged as Django's deployment checklist advises: an hour by default, which a mistake
# costs little of; once https is known to work everywhere the site is reached, the operator
# raises it (a day, a week, then a year: 31536000). Preloading is a commitment to the
# browsers' lists: opt in.
SECURE_HSTS_SECONDS = config("DJANGO_HSTS_SECONDS", default=0 if DEBUG else 3600, cast=int)
SECURE_HSTS_INCLUDE_SUBDOMAINS = config("DJANGO_HSTS_INCLUDE_SUBDOMAINS", default=True, cast=bool)
SECURE_HSTS_PRELOAD = config("DJANGO_HSTS_PRELOAD", default=False, cast=bool)
if not SECURE_HSTS_PRELOAD:
    # "Not preloaded" is the deliberate default above, not an oversight to warn about.
    SILENCED_SYSTEM_CHECKS = ["security.W021"]

SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Content Security Policy: only this origin's own scripts, styles and images; no inline code.
# https://docs.djangoproject.com/en/6.1/ref/csp/
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.NONCE],
    "img-src": [CSP.SELF, "data:"],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}

# ---------------------------------------------------------------------------------------------
# Logging: everything to stdout, where Docker collects it.
# DJANGO_LOG_FORMAT=json gives one JSON object per line for log shippers.
# ---------------------------------------------------------------------------------------------

LOG_LEVEL = config(
    "DJANGO_LOG_LEVEL",
    default="INFO",
    cast=Choices(["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"], cast=str.upper),
)
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "{asctime} {levelname} {name} {message}", "style": "{"},
        "json": {"()": "config.logging.JsonFormatter"},
    },
    "filters": {"without_traceback": {"()": "config.logging.WithoutTraceback"}},
    "handlers": {
        "stdout": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "formatter": config(
                "DJANGO_LOG_FORMAT", default="plain", cast=Choices(["plain", "json"])
            ),
        },
    },
    "root": {"handlers": ["stdout"], "level": LOG_LEVEL},
    "loggers": {
        # Request errors (5xx tracebacks, 4xx warnings) on stdout instead of e-mail to ADMINS.
        "django": {"handlers": ["stdout"], "level": LOG_LEVEL, "propagate": False},
        # django-axes: a warning per failed sign-in and per lockout, without its info chatter.
        "axes": {"level": LOG_LEVEL if LOG_LEVEL in ("ERROR", "CRITICAL") else "WARNING"},
        # A request naming a host not in ALLOWED_HOSTS (scanners send many) is a 400 and one
        # line saying which host, not a traceback per request.
        "django.security.DisallowedHost": {
            "handlers": ["stdout"],
            "level": LOG_LEVEL,
            "filters": ["without_traceback"],
            "propagate": False,
        },
    },
}

# Which container answered, for the health endpoint (useful behind a load balancer).
HOSTNAME = socket.gethostname()

# ---------------------------------------------------------------------------------------------
# E-mail: Django 6.1's mailers (MAILERS replaces EMAIL_BACKEND and the EMAIL_* settings).
# https://docs.djangoproject.com/en/6.1/topics/email/
# With DJANGO_EMAIL_HOST set, mail goes to that SMTP server (the development compose stack
# sets its mail catcher); without it, `make run` prints each mail on the console, and
# production tries the SMTP server on localhost, as Django always has.
# Mail is sent by the worker (ops/tasks.py), never in a request.
# ---------------------------------------------------------------------------------------------

email_host = config("DJANGO_EMAIL_HOST", default="")
if email_host or not DEBUG:
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": email_host or "localhost",
                # 0: the usual port for the connection's kind (25, 587 with TLS, 465 with SSL).
                "port": config("DJANGO_EMAIL_PORT", default=0, cast=int) or None,
                "username": config("DJANGO_EMAIL_USER", default=""),
                "password": secret("DJANGO_EMAIL_PASSWORD", default=""),
                "use_tls": config("DJANGO_EMAIL_USE_TLS", default=False, cast=bool),
                "use_ssl": config("DJANGO_EMAIL_USE_SSL", default=False, cast=bool),
                # A mail server that hangs must not hold a worker forever.
                "timeout": config("DJANGO_EMAIL_TIMEOUT", default=10, cast=int),
            },
        }
    }
else:
    MAILERS = {"default": {"BACKEND": "django.core.mail.backends.console.EmailBackend"}}
DEFAULT_FROM_EMAIL = config("DJANGO_DEFAULT_FROM_EMAIL", default="webmaster@localhost")
# The sender of the error mails to ADMINS.
SERVER_EMAIL = config("DJANGO_SERVER_EMAIL", default="root@localhost")
# Who gets a mail for every server error (500), comma-separated; nobody when empty.
ADMINS = config("DJANGO_ADMINS", default="", cast=Csv())
EMAIL_SUBJECT_PREFIX = f"[{PROJECT_NAME}] "

# Server errors go to ADMINS as well as to stdout: the mail is a task (ops/logging.py), so
# the response never waits for a mail server, and one that is down fails the task, not it.
LOGGING["handlers"]["mail_admins"] = {
    "class": "ops.logging.QueuedAdminEmailHandler",
    "level": "ERROR",
    "filters": ["require_debug_false"],
}
LOGGING["filters"]["require_debug_false"] = {"()": "django.utils.log.RequireDebugFalse"}
LOGGING["loggers"]["django.request"] = {
    "handlers": ["stdout", "mail_admins"],
    "level": LOG_LEVEL,
    "propagate": False,
}

# ---------------------------------------------------------------------------------------------
# Background tasks: Django's Tasks framework, queued in PostgreSQL.
# https://docs.djangoproject.com/en/6.1/topics/tasks/
# Django ships no production backend. django-tasks-db is the database backend by the
# framework's own author (Jake Howard, DEP 14), split out of the django-tasks reference
# implementation and kept up with Django's releases. The other maintained backends need a
# broker (Celery) or a cloud queue; with this one the queue is a table in the PostgreSQL the
# site already has: nothing more to run, back up and secure, and a task enqueued in a
# transaction exists only if that transaction commits. Its worker runs as the `worker`
# service: `python manage.py worker` (ops/worker.py adds what a container needs).
# DJANGO_TASKS_BACKEND=immediate runs each task at once in the process that enqueues it:
# `make run` and the tests, where a worker would only wait.
# ---------------------------------------------------------------------------------------------

task_backends = {
    "database": "django_tasks_db.DatabaseBackend",
    "immediate": "django.tasks.backends.immediate.ImmediateBackend",
}
tasks_backend = config(
    "DJANGO_TASKS_BACKEND", default="database", cast=Choices(list(task_backends))
)
TASKS = {"default": {"BACKEND": task_backends[tasks_backend]}}

# ---------------------------------------------------------------------------------------------
# Error reporting: Sentry, or any service that speaks its protocol, when SENTRY_DSN is set.
# Without it the SDK is not even imported (config/sentry.py).
# https://docs.sentry.io/platforms/python/integrations/django/
# ---------------------------------------------------------------------------------------------

if sentry_dsn := secret("SENTRY_DSN", default=""):
    from config.sentry import start_reporting

    start_reporting(
        dsn=sentry_dsn,
        environment=config("SENTRY_ENVIRONMENT", default="development" if DEBUG else "production"),
        release=config("SENTRY_RELEASE", default=""),
        # The share of requests and tasks whose timings are sent (slow ones show there).
        traces_sample_rate=config("SENTRY_TRACES_SAMPLE_RATE", default=0.1, cast=float),
    )
