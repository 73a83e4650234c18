"""What the run was made on: the commit, the machine, the servers' versions and settings."""

import os
import platform
import re
import subprocess

from harness.binaries import find_postgres_bin
from harness.project import ROOT


def git(*args: str) -> str:
    result = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)
    return result.stdout.strip()


def version(command: list[str], pattern: str) -> str:
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=10, check=False)
    except OSError:
        return "missing"
    match = re.search(pattern, result.stdout + result.stderr)
    return match[1] if match else "unknown"


def machine() -> dict:
    return {
        "cpus": os.cpu_count(),
        "cpus_usable": os.process_cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "nginx": version(["nginx", "-v"], r"nginx/(\S+)"),
        "wrk": version(["wrk", "--version"], r"wrk (\S+)"),
        "postgres": version(
            [find_postgres_bin("postgres") or "postgres", "--version"], r"(\d+\.\d+)"
        ),
        "loadavg_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def gunicorn_settings() -> dict:
    """What config/gunicorn.py gives production on this machine."""
    from config import gunicorn

    return {
        "worker_class": gunicorn.worker_class,
        "workers": gunicorn.workers,
        "threads": gunicorn.threads,
    }
