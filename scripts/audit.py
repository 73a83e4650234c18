"""pip-audit on the locked dependencies: `make audit`, run by CI.

The requirements come from uv.lock (`uv export`, with their hashes); pip-audit looks each one
up in PyPI's vulnerability data and fails on any known vulnerability, or on a package it could
not check. Where that data cannot be reached (a machine whose way out serves packages only),
one line says so and nothing fails: the audit runs where it can, never silently half-done.
Usage: python scripts/audit.py REQUIREMENTS
"""

import json
import re
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

# PyPI's JSON API for one release, which lists that release's known vulnerabilities: the
# database pip-audit queries by default.
RELEASE = "https://pypi.org/pypi/{name}/{version}/json"
PINNED = re.compile(r"^([A-Za-z0-9._-]+)==([^\s;\\]+)", re.MULTILINE)


def database_answers(name: str, version: str) -> bool:
    try:
        with urllib.request.urlopen(RELEASE.format(name=name, version=version), timeout=15) as page:  # noqa: S310 (a fixed https URL)
            return "vulnerabilities" in json.load(page)
    except (urllib.error.URLError, OSError, ValueError):
        return False


def main(requirements: Path) -> int:
    pinned = PINNED.findall(requirements.read_text())
    if not pinned:
        print(f"audit: no pinned requirement in {requirements}", file=sys.stderr)
        return 1
    name, version = pinned[0]
    if not database_answers(name, version):
        print(
            "audit: SKIPPED, PyPI's vulnerability data does not answer from here "
            f"({RELEASE.format(name=name, version=version)}); run `make audit` where it does."
        )
        return 0
    command = [
        sys.executable,
        "-m",
        "pip_audit",
        "--strict",
        "--disable-pip",
        "--require-hashes",
        "--progress-spinner",
        "off",
        "--requirement",
        str(requirements),
    ]
    return subprocess.run(command).returncode


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    sys.exit(main(Path(sys.argv[1])))
