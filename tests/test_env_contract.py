"""`.env.example` is the configuration's contract: every variable that the code, the compose
files, the Makefile and the scripts read is documented there, and the app in its container
gets every setting it reads, through compose's allow list, and no other service's secret."""

import re
from pathlib import Path

import yaml

from harness.project import ROOT
from scripts.make_env import declared_secrets, optional_secrets

EXAMPLE = (ROOT / ".env.example").read_text()
DOCUMENTED = set(re.findall(r"^(?:# )?([A-Z][A-Z0-9_]+)=", EXAMPLE, re.MULTILINE))

# Where code reads a variable: the project's readers (config/env.py, the deploy tools) and
# the standard library's.
READ_IN_PYTHON = re.compile(
    r"""(?P<how>\bconfig|\bsecret|\brequired|\bsetting|os\.environ\.get|os\.getenv|os\.environ)"""
    r"""\s*[\(\[]\s*"""
    r"""["'](?P<name>[A-Z][A-Z0-9_]+)["']"""
)
# Not settings of the project: what a process gets from elsewhere (Docker's own DOCKER_HOST
# among them), and variables that only pass parameters from the harness to its scripts.
NOT_SETTINGS = {"HOSTNAME", "PATH", "HOME", "CI", "DOCKER_HOST"}


def product_python() -> list[Path]:
    """The project's Python, its tools included; not the tests and their harness."""
    return [
        path
        for path in ROOT.rglob("*.py")
        if not {".venv", ".tools", ".ci", "harness", "tests", "node_modules"}
        & set(path.relative_to(ROOT).parts)
    ]


def read_in_python() -> dict[str, str]:
    found = {}
    for path in product_python():
        for match in READ_IN_PYTHON.finditer(path.read_text()):
            found[match["name"]] = str(path.relative_to(ROOT))
            if match["how"] == "secret":
                found[f"{match['name']}_FILE"] = str(path.relative_to(ROOT))
    return found


def compose_files() -> list[Path]:
    return sorted(ROOT.glob("compose*.yaml")) + sorted(ROOT.glob("*/compose*.yaml"))


def read_by_compose() -> dict[str, str]:
    """${NAME} interpolations, and environment entries whose value comes from .env; not the
    variables a tool sets itself (`${NAME:?set by ...}`)."""
    found = {}
    for path in compose_files():
        text = path.read_text()
        internal = set(re.findall(r"\$\{([A-Z][A-Z0-9_]+):\?set by ", text))
        names = re.findall(r"\$\{([A-Z][A-Z0-9_]+)", text)
        names += re.findall(r"^\s+([A-Z][A-Z0-9_]+):\s*$", text, re.MULTILINE)
        found.update(dict.fromkeys(set(names) - internal, str(path.relative_to(ROOT))))
    return found


def read_by_make() -> dict[str, str]:
    """Variables the Makefiles let the environment set (NAME ?= default)."""
    found = {}
    for path in [ROOT / "Makefile", *ROOT.glob("*/*.mk")]:
        for name in re.findall(r"^(?:export )?([A-Z][A-Z0-9_]+) \?=", path.read_text(), re.M):
            found[name] = str(path.relative_to(ROOT))
    return found


def test_every_variable_read_is_documented_in_the_example():
    read = {**read_in_python(), **read_by_compose(), **read_by_make()}
    assert len(read) > 40, "the search for variables found too little to be trusted"
    file_forms = {f"{name}_FILE" for name in [*declared_secrets(), *optional_secrets()]}
    missing = {
        name: where
        for name, where in sorted(read.items())
        if name not in DOCUMENTED | file_forms | NOT_SETTINGS and not name.startswith("HARNESS_")
    }
    assert missing == {}, "read but not documented in .env.example"


def app_environment() -> dict:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    return compose["x-app-environment"]


def test_web_gets_every_setting_the_app_reads():
    """A setting read by settings.py reaches the container (or is one the containers fix)."""
    settings_read = {
        name
        for name, where in read_in_python().items()
        if where.startswith("config/") and not name.endswith("_FILE")
    }
    # Values the image or another service fixes, and SQLite-only ones.
    fixed_elsewhere = {
        "DJANGO_STATIC_ROOT",  # the image's /app/staticfiles, the migrate job's volume
        "DJANGO_SQLITE_PATH",  # compose always uses PostgreSQL
        "DJANGO_DB_PORT",  # the db service's 5432
        "POSTGRES_USER",  # the app connects as DJANGO_DB_USER
        "POSTGRES_PASSWORD",  # never web's to hold
        "GUNICORN_BIND",  # the image's 0.0.0.0:8001
        "GUNICORN_RELOAD",  # the development override sets it
    }
    assert settings_read - fixed_elsewhere - set(app_environment()) == set()


def test_web_holds_no_secret_but_its_own():
    """The allow list passes the app's secrets only: the superuser's and pgAdmin's
    passwords stay with the services that need them."""
    web_secrets = set(declared_secrets()) & set(app_environment())
    assert web_secrets == {"DJANGO_SECRET_KEY", "DJANGO_DB_PASSWORD"}
