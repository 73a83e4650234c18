"""The web image on its own: built from the Dockerfile through compose, as users build it; it
holds the product and nothing else, runs as a non-root user and serves without any mount."""

import json
import os
import re
from http import HTTPStatus

import pytest
import requests

from harness.compose import PROD, Compose, docker, run_image_alone
from harness.project import ROOT, django_script, free_port
from harness.waiting import wait_until

pytestmark = pytest.mark.docker

# What may never be in the image, whatever .dockerignore says: tests, the harness, anything
# secret or local.
FORBIDDEN = re.compile(
    r"^/app/(\.env|\.git|\.ci|tests/|harness/|docs/|conftest\.py|test-artifacts/|backups/)"
    r"|/tests/|\.(pem|key|crt|sqlite3)$|/\.env"
)


def excluded_folders() -> list[str]:
    """The top-level names .dockerignore keeps out (the tooling folders among them)."""
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    return [line for line in lines if re.fullmatch(r"[A-Za-z][\w.-]*", line)]


@pytest.fixture(scope="module")
def image(compose_env_file) -> str:
    compose = Compose("image", compose_env_file, files=PROD)
    compose.run("build", "web", timeout=900)
    yield compose.image
    docker("image", "rm", compose.image, check=False)


def test_the_image_holds_the_product_and_no_test_tool_or_secret(image):
    listed = docker("run", "--rm", "--entrypoint", "find", image, "/app", "-type", "f")
    files = [path for path in listed.stdout.split() if "/__pycache__/" not in path]
    assert "/app/manage.py" in files
    assert "/app/config/settings.py" in files
    assert "/app/docker/web/migrate.sh" in files
    assert any(path.startswith("/app/staticfiles/") for path in files), "no collected files"
    assert [path for path in files if FORBIDDEN.search(path)] == []
    # The image collects its own static files; the local ones stay out of the build context.
    excluded = tuple(f"/app/{name}" for name in excluded_folders() if name != "staticfiles")
    assert "/app/harness" in excluded
    assert [path for path in files if path.startswith(excluded)] == []


def test_the_image_runs_as_a_non_root_user(image):
    assert docker("run", "--rm", "--entrypoint", "id", image, "-u").stdout.strip() != "0"
    assert docker("image", "inspect", "-f", "{{.Config.User}}", image).stdout.strip() == "app"


def test_no_program_in_the_image_gains_rights_when_run(image):
    """No setuid or setgid file: nothing to gain privileges with, where no-new-privileges is
    not applied (by an orchestrator that ignores it)."""
    found = docker(
        "run", "--rm", "--user", "0", "--entrypoint", "find", image,
        "/", "-xdev", "-type", "f", "-perm", "/6000",
    )  # fmt: skip
    assert found.stdout.split() == []


def test_the_image_checks_a_managed_databases_certificate_against_its_ca_bundle(image):
    """DJANGO_DB_SSLROOTCERT=system names the image's own CA bundle (Debian's), not the
    folder that psycopg's bundled OpenSSL would look in, where there is none."""
    # Values only to load the settings; passed by name, as secrets are.
    environ = {
        "DJANGO_SECRET_KEY": "only-to-load-the-settings",
        "DJANGO_DB_HOST": "db.example.com",
        "POSTGRES_USER": "app",
        "POSTGRES_PASSWORD": "unused",
        "DJANGO_DB_SSLROOTCERT": "system",
    }
    shown = docker(
        "run",
        "--rm",
        *[option for name in environ for option in ("--env", name)],
        image,
        "python",
        "-c",
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.DATABASES['default']['OPTIONS']['sslrootcert'])",
        env={**os.environ, **environ},
    ).stdout.strip()
    assert shown.startswith("/"), shown
    certificates = docker("run", "--rm", image, "grep", "-c", "BEGIN CERTIFICATE", shown)
    assert int(certificates.stdout) > 50, f"{shown}: {certificates.stdout}"


def test_the_image_serves_without_any_mount(image, compose_env_file):
    """gunicorn answers from the image alone: code, dependencies and static manifest inside."""
    port = free_port()
    container = run_image_alone(image, "--publish", f"127.0.0.1:{port}:8001")
    try:
        assert docker("inspect", "-f", "{{len .Mounts}}", container).stdout.strip() == "0"
        url = f"http://127.0.0.1:{port}"

        def answers() -> bool:
            try:
                return requests.get(f"{url}/health/", timeout=2).status_code == HTTPStatus.OK
            except requests.RequestException:
                return False

        wait_until(answers, timeout=60, message="the image alone did not answer /health/")
        # DEBUG is off: the page's static URLs come from the manifest baked into the image.
        page = requests.get(f"{url}/", headers={"X-Forwarded-Proto": "https"}, timeout=5)
        assert page.status_code == HTTPStatus.OK
        assert re.search(r"/static/site\.[0-9a-f]{12}\.css", page.text)
    finally:
        docker("rm", "--force", container, check=False)


@pytest.mark.parametrize(
    ("cpus", "memory", "workers"),
    [
        ("1", "256m", 1),  # one CPU: one worker, whatever the host has
        ("2", "2g", 2),  # a worker per CPU of the quota
        ("2", "600m", 1),  # but no more than the memory holds (460 MiB each with 4 threads)
    ],
)
def test_gunicorn_starts_a_worker_per_cpu_of_the_containers_limits(image, cpus, memory, workers):
    """Sized from the limits Docker applies (compose's and orchestrators' are the same cgroup
    settings), not from the host's CPUs that Python sees."""
    host_cpus = int(docker("info", "--format", "{{.NCPU}}").stdout)
    if float(cpus) > host_cpus:
        pytest.fail(f"this test needs a host with {cpus} CPUs; this one has {host_cpus}")
    container = run_image_alone(image, "--cpus", cpus, "--memory", memory)
    try:
        health = "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8001/health/')"
        wait_until(
            lambda: docker("exec", container, "python", "-c", health, check=False).returncode == 0,
            timeout=60,
            message="the image did not answer /health/",
        )
        # The master forks every worker before any of them answers.
        listed = docker(
            "exec", "-i", container, "python", "-", input=django_script("gunicorn_processes")
        )
        rows = json.loads(listed.stdout.strip().splitlines()[-1])
        assert len([pid for pid, parent, _ in rows if parent == 1]) == workers, rows
    finally:
        docker("rm", "--force", container, check=False)
