"""`make run` from a fresh clone: the README's first command, end to end."""

import os
import re
import signal
import subprocess
from http import HTTPStatus

import pytest
import requests
from decouple import RepositoryEnv

from tests.docker.conftest import wait_until
from tests.support.postgres import free_port
from tests.support.project import ROOT, clean_environ

# Once is enough: it runs in the PostgreSQL leg of `make test`, though it uses SQLite.
pytestmark = pytest.mark.stack


@pytest.fixture
def fresh_clone(tmp_path):
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
    return clone


def test_make_run_serves_the_app_and_the_generated_superuser_signs_in(fresh_clone):
    port = free_port()
    log = fresh_clone / "make-run.log"
    with log.open("w") as out:
        make = subprocess.Popen(
            ["make", "run", f"RUN_PORT={port}"],
            cwd=fresh_clone,
            env=clean_environ(),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:

        def login_page():
            if make.poll() is not None:
                pytest.fail(f"make run exited:\n{log.read_text()}", pytrace=False)
            try:
                return requests.get(f"{base}/admin/login/", timeout=5)
            except requests.ConnectionError:
                return None

        page = wait_until(
            login_page, timeout=180, interval=1, message=f"make run did not serve {base}"
        )
        assert page.status_code == HTTPStatus.OK

        output = log.read_text()
        dotenv = RepositoryEnv(str(fresh_clone / ".env")).data
        assert f"Admin:    {base}/admin/" in output
        assert f"User:     {dotenv['DJANGO_SUPERUSER_USERNAME']}" in output
        assert dotenv["DJANGO_SUPERUSER_PASSWORD"] not in output

        session = requests.Session()
        token = re.search(
            r'name="csrfmiddlewaretoken" value="([^"]+)"',
            session.get(f"{base}/admin/login/", timeout=5).text,
        )[1]
        response = session.post(
            f"{base}/admin/login/?next=/admin/",
            headers={"Origin": base},
            timeout=10,
            data={
                "csrfmiddlewaretoken": token,
                "next": "/admin/",
                "username": dotenv["DJANGO_SUPERUSER_USERNAME"],
                "password": dotenv["DJANGO_SUPERUSER_PASSWORD"],
            },
        )
        assert response.url == f"{base}/admin/"
        assert "Site administration" in response.text
        assert (fresh_clone / "db.sqlite3").exists(), "make run uses SQLite by default"
    finally:
        os.killpg(make.pid, signal.SIGTERM)
        make.wait(timeout=30)
