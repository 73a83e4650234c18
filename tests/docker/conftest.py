"""The Docker suite's harness: a real engine, the project's unmodified compose files, a compose
project of its own (never a user's stack), and a teardown that runs even when a step fails."""

import re
import secrets
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from decouple import RepositoryEnv

from tests.support.binaries import require
from tests.support.project import ROOT, clean_environ

PROJECT = "django-starter-test"
WEB_IMAGE = f"{PROJECT}-web:latest"
DEV = ("compose.yaml", "compose.override.yaml")
PROD = ("compose.yaml",)
MIGRATE = ("compose.migrate.yaml",)
ALL = DEV + MIGRATE
NGINX = "http://127.0.0.1:8088"
# psql in the db container as the cluster's superuser, over its local socket (no password):
# the SQL on stdin, bare values out. Every suite's run_sql uses it.
PSQL = ("sh", "-c", 'psql -U "$POSTGRES_USER" -d "$POSTGRES_DB" -v ON_ERROR_STOP=1 -Atq')


def compose_environ() -> dict[str, str]:
    # Only .env configures the stack: none of pytest-env's test values may leak into it.
    return clean_environ(WEB_IMAGE=WEB_IMAGE)


def run_compose(
    *args: str,
    project: str,
    files,
    env: dict[str, str],
    check: bool = True,
    timeout: float = 300,
    input: str | None = None,
):
    """`docker compose` in `project` with `files`; a failure shows the services' last logs."""
    command = ["docker", "compose", "-p", project]
    for file in files:
        command += ["-f", file]
    result = subprocess.run(
        [*command, *args],
        cwd=ROOT,
        env=env,
        input=input,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if check and result.returncode != 0:
        logs = subprocess.run(
            [*command, "logs", "--no-color", "--tail", "40"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        pytest.fail(
            f"{' '.join(command[2:])} {' '.join(args)} failed ({result.returncode}):\n"
            f"{result.stdout}\n{result.stderr}\n--- service logs ---\n{logs.stdout}",
            pytrace=False,
        )
    return result


def compose(*args: str, files=DEV, **kwargs):
    return run_compose(*args, project=PROJECT, files=files, env=compose_environ(), **kwargs)


def docker(*args: str, check: bool = True, timeout: float = 120, **kwargs):
    result = subprocess.run(
        ["docker", *args], capture_output=True, text=True, timeout=timeout, **kwargs
    )
    if check and result.returncode != 0:
        pytest.fail(
            f"docker {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}", pytrace=False
        )
    return result


def wait_until(condition, *, timeout: float, interval: float = 0.5, message: str):
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"{message} (waited {timeout:g}s)", pytrace=False)
        time.sleep(interval)


def http_status(url: str) -> int | None:
    try:
        return requests.get(url, timeout=5).status_code
    except requests.RequestException:
        return None


def base_images() -> list[str]:
    """Every image the stack runs that is not built from this repository."""
    listed = compose("config", "--images", files=ALL).stdout.split()
    python = re.search(r"^ARG PYTHON_IMAGE=(\S+)$", (ROOT / "Dockerfile").read_text(), re.M)
    return sorted({python[1], *listed} - {WEB_IMAGE})


@pytest.fixture(scope="session")
def engine():
    """A Docker engine that answers (`make test-docker` starts one with engine.sh)."""
    docker_cli = shutil.which("docker")
    running = (
        docker_cli
        and subprocess.run(["docker", "info"], capture_output=True, timeout=30).returncode == 0
    )
    require(
        "docker" if running else None,
        "A running Docker engine",
        "docker.io (then: bash tests/docker/engine.sh)",
    )


@pytest.fixture(scope="session")
def dotenv(engine) -> dict[str, str]:
    """The .env that `make env` makes (an existing one is kept, as make env does)."""
    subprocess.run(["make", "env"], cwd=ROOT, check=True, capture_output=True)
    return RepositoryEnv(str(ROOT / ".env")).data


@pytest.fixture(scope="session")
def images(engine, dotenv):
    """Base images present (real ones where a registry answers, else look-alikes) and the
    project's image built from the Dockerfile, through compose as users build it."""
    subprocess.run(
        [sys.executable, str(Path(__file__).parent / "lookalikes.py"), *base_images()], check=True
    )
    compose("build", timeout=900)
    return WEB_IMAGE


@pytest.fixture(scope="session")
def project(images):
    """The test project's containers, networks and volumes, removed before and after."""
    compose("down", "--volumes", "--remove-orphans", files=ALL)
    yield
    compose("down", "--volumes", "--remove-orphans", files=ALL, check=False)


def migrate(files=DEV, check: bool = True):
    return compose("run", "--rm", "migrate", files=files + MIGRATE, check=check)


def run_sql(sql: str, files=DEV) -> str:
    """psql in the db container as the cluster's superuser; the SQL goes in on stdin."""
    return compose(
        "exec",
        "-T",
        "db",
        *PSQL,
        files=files,
        input=sql,
        timeout=60,
    ).stdout.strip()


def admin_login(username: str, password: str) -> requests.Response:
    session = requests.Session()
    page = session.get(f"{NGINX}/admin/login/", timeout=10)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)[1]
    return session.post(
        f"{NGINX}/admin/login/?next=/admin/",
        data={
            "csrfmiddlewaretoken": token,
            "username": username,
            "password": password,
            "next": "/admin/",
        },
        headers={"Origin": NGINX, "Referer": f"{NGINX}/admin/login/"},
        timeout=10,
    )


def random_name(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(4)}"
