"""`make run` from a fresh clone: the README's first command, end to end."""

import os
import signal
import socket
import subprocess
from http import HTTPStatus

import pytest
import requests
from decouple import RepositoryEnv

from harness.accounts import Account, sign_in
from harness.project import ROOT, clean_environ, free_port
from harness.waiting import wait_until

# Once is enough: it runs in the PostgreSQL leg of `make test`, though it uses SQLite.
pytestmark = pytest.mark.stack


@pytest.fixture
def fresh_clone(tmp_path):
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
    return clone


def newcomers_environ() -> dict[str, str]:
    """As a newcomer's shell would be: none of our variables, no virtualenv active."""
    env = clean_environ(dotenv=True)
    env.pop("VIRTUAL_ENV", None)
    return env


def test_make_run_serves_the_app_and_the_generated_superuser_signs_in(fresh_clone):
    port = free_port()
    log = fresh_clone / "make-run.log"
    with log.open("w") as out:
        make = subprocess.Popen(
            ["make", "run", f"RUN_PORT={port}"],
            cwd=fresh_clone,
            env=newcomers_environ(),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:

        def home_page():
            if make.poll() is not None:
                pytest.fail(f"make run exited:\n{log.read_text()}", pytrace=False)
            try:
                return requests.get(f"{base}/", timeout=5)
            except requests.ConnectionError:
                return None

        page = wait_until(
            home_page, timeout=180, interval=1, message=f"make run did not serve {base}"
        )
        assert page.status_code == HTTPStatus.OK

        output = log.read_text()
        dotenv = RepositoryEnv(str(fresh_clone / ".env")).data
        assert f"Admin:    {base}/admin/" in output
        assert f"User:     {dotenv['DJANGO_SUPERUSER_USERNAME']}" in output
        assert dotenv["DJANGO_SUPERUSER_PASSWORD"] not in output

        superuser = Account(
            dotenv["DJANGO_SUPERUSER_USERNAME"], dotenv["DJANGO_SUPERUSER_PASSWORD"]
        )
        session, response = sign_in(base, superuser, path="/admin/login/", next="/admin/")
        assert response.status_code == HTTPStatus.FOUND
        assert "Site administration" in session.get(f"{base}/admin/", timeout=10).text
        assert (fresh_clone / "db.sqlite3").exists(), "make run uses SQLite by default"
    finally:
        os.killpg(make.pid, signal.SIGTERM)
        make.wait(timeout=30)


def test_make_run_on_a_port_in_use_says_how_to_choose_another(fresh_clone):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            ["make", "run", f"RUN_PORT={port}"],
            cwd=fresh_clone,
            env=newcomers_environ(),
            capture_output=True,
            text=True,
            timeout=300,
        )
    assert result.returncode != 0
    assert f"Port {port} is in use. Choose another: make run RUN_PORT=8010" in result.stdout
