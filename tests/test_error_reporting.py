"""Errors reported to Sentry: the real SDK in the app under gunicorn, sending to an endpoint
of our own on loopback that keeps what arrives. With SENTRY_DSN unset the SDK is not even
imported."""

import gzip
import json
import threading
import tomllib
from collections.abc import Iterator
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from harness.project import ROOT, clean_environ, free_port, run_django_script
from harness.stack import start_gunicorn
from harness.waiting import wait_until


class Receiver(ThreadingHTTPServer):
    """Sentry's ingestion endpoint, as far as the SDK needs it: envelopes in, 200 out."""

    def __init__(self):
        super().__init__(("127.0.0.1", 0), Envelope)
        self.items: list[tuple[dict, dict]] = []  # (item header, payload)

    @property
    def dsn(self) -> str:
        return f"http://public-key@127.0.0.1:{self.server_port}/1"

    def of_type(self, kind: str) -> list[dict]:
        return [payload for header, payload in self.items if header.get("type") == kind]


class Envelope(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        # An envelope: a header line, then for each item a header line and a payload line.
        lines = body.decode().splitlines()[1:]
        for header, payload in zip(lines[::2], lines[1::2], strict=False):
            self.server.items.append((json.loads(header), json.loads(payload)))
        self.send_response(HTTPStatus.OK)
        self.end_headers()

    def log_message(self, format, *args):
        pass


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def project_release() -> str:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return f"{project['name']}@{project['version']}"


def test_a_server_error_and_its_transaction_reach_sentry_with_release_and_environment(
    receiver, tmp_path
):
    env = clean_environ(
        DJANGO_SETTINGS_MODULE="ops.tests.failing_settings",
        DJANGO_SECRET_KEY="k" * 50,
        DJANGO_SQLITE_PATH=str(tmp_path / "db.sqlite3"),
        DJANGO_SECURE_SSL_REDIRECT="False",
        SENTRY_DSN=receiver.dsn,
        SENTRY_ENVIRONMENT="staging",
        SENTRY_TRACES_SAMPLE_RATE="1.0",
        WEB_CONCURRENCY="1",
    )
    port = free_port()
    with start_gunicorn(env, port, tmp_path / "gunicorn.log"):
        response = requests.get(f"http://127.0.0.1:{port}/fails/", timeout=10)
        assert response.status_code == HTTPStatus.INTERNAL_SERVER_ERROR
        assert "RuntimeError" not in response.text  # the visitor sees the 500 page only
        wait_until(
            lambda: receiver.of_type("event") and receiver.of_type("transaction"),
            timeout=15,
            message="Sentry received no event and transaction",
        )
    [event] = receiver.of_type("event")
    exception = event["exception"]["values"][-1]
    assert (exception["type"], exception["value"]) == ("RuntimeError", "a bug in a view")
    assert event["request"]["url"].endswith("/fails/")
    transactions = [t for t in receiver.of_type("transaction") if t["transaction"] == "/fails/"]
    assert transactions, receiver.of_type("transaction")
    # A transaction carries its timing: that is how slow ones show.
    assert transactions[0]["timestamp"] > transactions[0]["start_timestamp"]
    for report in (event, transactions[0]):
        assert report["release"] == project_release()
        assert report["environment"] == "staging"
        # No personal data unless a project opts in: no cookies, no client address.
        assert "cookies" not in report.get("request", {})


def test_without_a_dsn_the_sdk_is_not_loaded():
    loaded = run_django_script(
        "loaded_modules",
        env=clean_environ(DJANGO_SECRET_KEY="k" * 50, HARNESS_MODULES="sentry_sdk,django"),
    )
    found = json.loads(loaded.stdout.strip().splitlines()[-1])
    assert found == {"sentry_sdk": False, "django": True}
