"""axllent/mailpit as compose.override.yaml runs it, and as the project's tests read it: mail
in over SMTP on 1025, out through the HTTP API on 8025 (see ../README.md)."""

import smtplib
import time
from email.message import EmailMessage

import pytest
import requests

from conftest import MAILPIT, docker, inspect, published, require, wait_until


@pytest.fixture
def catcher(engine):
    """A running catcher; its SMTP and HTTP ports published on 127.0.0.1."""
    require(MAILPIT)
    name = engine.run(MAILPIT, options=["--publish=127.0.0.1::1025", "--publish=127.0.0.1::8025"])
    api = f"http://{published(name, 8025)}"

    def ready():
        try:
            return requests.get(f"{api}/readyz", timeout=2).status_code == 200
        except requests.ConnectionError:
            return False

    wait_until(ready, 30, f"{name} answers /readyz")
    return name, api


def send(catcher, subject="A reset link", to="ada@example.com"):
    name, _ = catcher
    host, port = published(name, 1025).rsplit(":", 1)
    message = EmailMessage()
    message["From"] = "Site <noreply@example.com>"
    message["To"] = to
    message["Subject"] = subject
    message.set_content("Plain words: https://example.com/reset/abc/\n")
    message.add_alternative("<p>Rich words</p>", subtype="html")
    with smtplib.SMTP(host, int(port), timeout=10) as smtp:
        smtp.send_message(message)


def test_mail_sent_over_smtp_is_listed_and_read_through_the_api(catcher):
    _, api = catcher
    send(catcher, subject="First")
    send(catcher, subject="Second", to="bob@example.com")
    listing = requests.get(f"{api}/api/v1/messages", timeout=5).json()
    assert listing["total"] == 2
    newest = listing["messages"][0]
    assert newest["Subject"] == "Second"
    assert newest["To"] == [{"Name": "", "Address": "bob@example.com"}]
    assert newest["From"] == {"Name": "Site", "Address": "noreply@example.com"}

    message = requests.get(f"{api}/api/v1/message/{newest['ID']}", timeout=5).json()
    assert message["Subject"] == "Second"
    assert "https://example.com/reset/abc/" in message["Text"]
    assert "<p>Rich words</p>" in message["HTML"]


def test_delete_empties_the_mailbox(catcher):
    _, api = catcher
    send(catcher)
    assert requests.delete(f"{api}/api/v1/messages", timeout=5).status_code == 200
    assert requests.get(f"{api}/api/v1/messages", timeout=5).json()["messages"] == []


def test_the_image_checks_its_own_health_and_stops_at_once(catcher):
    """/mailpit readyz is the program's own healthcheck; docker stop ends it cleanly."""
    name, _ = catcher
    assert docker("exec", name, "/mailpit", "readyz").returncode == 0
    assert "readyz" in inspect(MAILPIT, "{{json .Config.Healthcheck}}")
    started = time.monotonic()
    docker("stop", "--time=20", name)
    assert time.monotonic() - started < 10
