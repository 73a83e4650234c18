"""Finding the system programs the integration tests drive (PostgreSQL, nginx)."""

import glob
import os
import shutil

import pytest


def find_postgres_bin(program: str) -> str | None:
    """A PostgreSQL server program: Debian keeps them out of PATH, under a versioned folder."""
    candidates = sorted(
        glob.glob(f"/usr/lib/postgresql/*/bin/{program}"),
        key=lambda path: int(path.split("/")[4]),
    )
    return candidates[-1] if candidates else shutil.which(program)


def require(path: str | None, what: str, package: str) -> str:
    """The program's path; where it is missing, fail in CI (CI must run every layer) and skip,
    saying what to install, elsewhere."""
    if path:
        return path
    message = f"{what} is not available: apt-get install {package}"
    if os.environ.get("CI"):
        pytest.fail(message, pytrace=False)
    pytest.skip(message)
