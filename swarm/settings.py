"""The deploy tool's settings: the environment first, then the env file (.env, or the file
DJANGO_ENV_FILE names), as the app reads them (config/env.py)."""

import os
from functools import cache
from pathlib import Path

from decouple import RepositoryEnv

ROOT = Path(__file__).resolve().parent.parent


def env_file() -> Path:
    return Path(os.environ.get("DJANGO_ENV_FILE") or ROOT / ".env")


@cache
def _file_values() -> dict[str, str]:
    path = env_file()
    return RepositoryEnv(str(path)).data if path.exists() else {}


def setting(name: str, default: str = "") -> str:
    return os.environ.get(name) or _file_values().get(name) or default


TIMEOUT = float(setting("SWARM_TIMEOUT", "600"))
