"""gunicorn settings, read with `gunicorn --config python:config.gunicorn config.wsgi`, from the
environment (or the env file) through config/env.py like every other setting.

Every value can be overridden on the command line or with GUNICORN_CMD_ARGS.
https://docs.gunicorn.org/en/stable/settings.html
"""

import os

from config.env import BASE_DIR

# Named apart from `config`, which gunicorn would read as its own setting (the config file).
from config.env import config as setting

bind = setting("GUNICORN_BIND", default="0.0.0.0:8001")

# Threads let nginx keep its upstream connections alive (sync workers close every one) and
# hide the wait on the database; one process per CPU keeps memory flat.
worker_class = "gthread"
workers = setting("WEB_CONCURRENCY", default=os.process_cpu_count() or 1, cast=int)
threads = setting("GUNICORN_THREADS", default=4, cast=int)
keepalive = 75  # longer than nginx keeps idle upstream connections (60 s), so nginx closes first

# Development (compose.override.yaml) reloads on code changes. Otherwise the app is loaded
# once in the master before forking: workers start faster and share memory, and a
# configuration error stops the master with one line instead of failing in every worker.
reload = setting("GUNICORN_RELOAD", default=False, cast=bool)
preload_app = not reload
if reload:
    # Every Python file of the project's packages is watched from the start, not only the
    # modules a worker has imported so far: a worker that first imports a module just as it
    # is edited would otherwise never see the change.
    reload_extra_files = [
        str(package / "**" / "*.py")
        for package in BASE_DIR.iterdir()
        if (package / "__init__.py").exists()
    ]

timeout = 30
# On SIGTERM, finish in-flight requests for up to this long (below compose's stop_grace_period).
graceful_timeout = 20
# Recycle workers now and then, with jitter, so that a slow leak cannot grow without bound.
max_requests = 10_000
max_requests_jitter = 1_000

# Heartbeat files in memory: no disk writes, and the root file system can stay read-only.
SHARED_MEMORY = "/dev/shm"  # noqa: S108 (a tmpfs for gunicorn's own heartbeat files)
worker_tmp_dir = SHARED_MEMORY if os.path.isdir(SHARED_MEMORY) else None

# No runtime control socket: nothing here uses it, and it would need a writable home.
control_socket_disable = True

# Logs on stdout/stderr, where Docker collects them.
accesslog = "-"
errorlog = "-"
access_log_format = '%({x-forwarded-for}i)s "%(r)s" %(s)s %(B)s %(M)sms "%(f)s" "%(a)s"'

# nginx is the only client in the stack: trust the scheme it sets in X-Forwarded-Proto, and
# that header only (gunicorn's default list also takes X-Forwarded-Ssl and -Protocol).
forwarded_allow_ips = "*"
secure_scheme_headers = {"X-FORWARDED-PROTO": "https"}
