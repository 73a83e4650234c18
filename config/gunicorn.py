"""gunicorn settings, read with `gunicorn --config python:config.gunicorn config.wsgi`, from the
environment (or the env file) through config/env.py like every other setting.

Every value can be overridden on the command line or with GUNICORN_CMD_ARGS.
https://docs.gunicorn.org/en/stable/settings.html
"""

import gc
import math
import os
from pathlib import Path

from config.env import BASE_DIR

# Named apart from `config`, which gunicorn would read as its own setting (the config file).
from config.env import config as setting

bind = setting("GUNICORN_BIND", default="0.0.0.0:8001")

# Threads let nginx keep its upstream connections alive (sync workers close every one) and
# hide the wait on the database; one process per CPU keeps memory flat.
worker_class = "gthread"
threads = setting("GUNICORN_THREADS", default=4, cast=int)

CGROUP = Path("/sys/fs/cgroup")
MIB = 1024 * 1024
# Measured in the web container: about 60 MiB per worker, and 100 MiB more for each thread
# hashing a password at the same moment (Argon2).
WORKER_MEMORY = 60 * MIB
THREAD_MEMORY = 100 * MIB


def _cgroup_values(*paths: str, root: Path) -> list[str] | None:
    """The first of the files that exists, split on whitespace (cgroup v2 before v1)."""
    for path in paths:
        try:
            return (root / path).read_text().split()
        except OSError:
            continue
    return None


def cpu_limit(root: Path = CGROUP) -> float | None:
    """The CPUs the container's quota allows (`docker run --cpus`, compose's limits), or None."""
    values = _cgroup_values("cpu.max", root=root)  # v2: "<quota> <period>" or "max <period>"
    if values is None:
        quota = _cgroup_values("cpu/cpu.cfs_quota_us", root=root)  # v1: -1 when unlimited
        period = _cgroup_values("cpu/cpu.cfs_period_us", root=root)
        values = quota + period if quota and period else None
    if not values or values[0] in ("max", "-1"):
        return None
    return int(values[0]) / int(values[1])


def memory_limit(root: Path = CGROUP) -> int | None:
    """The container's memory limit in bytes, or None."""
    values = _cgroup_values("memory.max", "memory/memory.limit_in_bytes", root=root)
    if not values or values[0] == "max" or int(values[0]) >= 2**60:  # v1: "unlimited" is ~2**63
        return None
    return int(values[0])


def default_workers(threads: int, root: Path = CGROUP) -> int:
    """One process per CPU the container may use, as many as its memory holds, at least one.
    os.process_cpu_count() alone sees the host's CPUs (or a cpuset), not a CPU quota: 32
    workers in a container limited to one CPU and 256 MiB on a 32-core host."""
    workers = os.process_cpu_count() or 1
    if (cpus := cpu_limit(root)) is not None:
        workers = min(workers, math.ceil(cpus))
    if (memory := memory_limit(root)) is not None:
        workers = min(workers, memory // (WORKER_MEMORY + threads * THREAD_MEMORY))
    return max(1, workers)


workers = setting("WEB_CONCURRENCY", default=default_workers(threads), cast=int)
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


def pre_fork(server, worker):
    """In the master, before each worker is forked, the app loaded (preload_app): what the app
    allocated at load is moved out of the collector's reach, so a worker's full collection
    walks a few thousand objects, not ~90,000 (measured: 4 ms instead of 58-80 ms, a pause for
    all of a worker's threads at once), and leaves the pages shared with the master unwritten."""
    gc.freeze()


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
