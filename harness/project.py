"""Running the project's own programs (manage.py, gunicorn) in subprocesses, with an
environment the test controls completely (no developer .env, no pytest-env defaults)."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Variables of ours that the parent process may carry (pytest-env sets several).
_OURS = ("DJANGO_", "POSTGRES_", "PGADMIN_", "GUNICORN_")


def clean_environ(**overrides: str) -> dict[str, str]:
    """The parent's environment without any of the project's variables, plus `overrides`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_OURS)}
    env.update(overrides)
    return env


def manage(
    *args: str, env: dict[str, str], cwd: Path = ROOT, check: bool = True, timeout: float = 120
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=check,
        timeout=timeout,
    )
