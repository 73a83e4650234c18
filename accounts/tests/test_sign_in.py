"""Sign-in throttling (django-axes): per account and client address, for the site's and the
admin's sign-in, visible in the admin and the log. Django's test client, on the test database;
tests/test_stack.py does the same through nginx and gunicorn."""

import logging
from http import HTTPStatus

import pytest
from django.urls import reverse

from accounts.signin import client_address, describe_client
from accounts.tests.factories import PASSWORD, make_user

pytestmark = pytest.mark.django_db

LIMIT = 5  # settings.AXES_FAILURE_LIMIT, by default (DJANGO_SIGN_IN_FAILURES)


def sign_in(client, username: str, password: str, *, address: str, path: str | None = None):
    """A sign-in POST as nginx passes it on: from nginx's address, saying the client's."""
    return client.post(
        path or reverse("login"),
        {"username": username, "password": password},
        REMOTE_ADDR="172.18.0.5",
        HTTP_X_REAL_IP=address,
    )


@pytest.mark.parametrize("path", ["/accounts/login/", "/admin/login/"])
def test_the_limit_locks_the_account_for_that_client_even_with_the_right_password(client, path):
    user = make_user("ada", is_staff=True)
    answers = [
        sign_in(client, "ada", "wrong", address="203.0.113.5", path=path).status_code
        for _ in range(LIMIT)
    ]
    assert answers == [HTTPStatus.OK] * (LIMIT - 1) + [HTTPStatus.TOO_MANY_REQUESTS]
    locked = sign_in(client, user.username, PASSWORD, address="203.0.113.5", path=path)
    assert locked.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert locked["Retry-After"] == "900"
    assert "Sign-in paused" in locked.text
    assert "_auth_user_id" not in client.session


def test_another_client_still_signs_in_to_a_locked_account(client):
    make_user("ada")
    for _ in range(LIMIT):
        sign_in(client, "ada", "wrong", address="203.0.113.5")
    elsewhere = sign_in(client, "ada", PASSWORD, address="198.51.100.20")
    assert elsewhere.status_code == HTTPStatus.FOUND


def test_the_locked_client_still_signs_in_to_other_accounts(client):
    make_user("ada")
    make_user("bob")
    for _ in range(LIMIT):
        sign_in(client, "ada", "wrong", address="203.0.113.5")
    assert sign_in(client, "bob", PASSWORD, address="203.0.113.5").status_code == HTTPStatus.FOUND


def test_a_successful_sign_in_forgets_the_earlier_failures(client):
    make_user("ada")
    for _ in range(LIMIT - 1):
        sign_in(client, "ada", "wrong", address="203.0.113.5")
    assert sign_in(client, "ada", PASSWORD, address="203.0.113.5").status_code == HTTPStatus.FOUND
    client.logout()
    for _ in range(LIMIT - 1):
        sign_in(client, "ada", "wrong", address="203.0.113.5")
    assert sign_in(client, "ada", PASSWORD, address="203.0.113.5").status_code == HTTPStatus.FOUND


def test_each_failure_is_one_log_line_with_username_and_client_never_the_password(client, caplog):
    make_user("ada")
    with caplog.at_level(logging.INFO):
        sign_in(client, "ada", "my-secret-guess", address="203.0.113.5")
    lines = [r.getMessage() for r in caplog.records if r.name.startswith("axes")]
    assert lines == [
        'AXES: New login failure by username="ada" client="203.0.113.5" '
        'path="/accounts/login/". Created new record in the database.'
    ]
    assert "my-secret-guess" not in caplog.text


def test_a_username_cannot_forge_a_second_log_line():
    described = describe_client("ada\n2026 WARNING forged", "203.0.113.5", "", "/x/", None)
    assert "\n" not in described
    assert described.startswith('username="ada\\n2026 WARNING forged" client="203.0.113.5"')


def test_lockouts_are_listed_in_the_admin(client, admin_client):
    make_user("ada")
    for _ in range(LIMIT):
        sign_in(client, "ada", "wrong", address="203.0.113.5")
    page = admin_client.get(reverse("admin:axes_accessattempt_changelist"))
    assert page.status_code == HTTPStatus.OK
    assert "ada" in page.text
    assert "203.0.113.5" in page.text


class Request:
    def __init__(self, **meta):
        self.META = meta


@pytest.mark.parametrize(
    ("meta", "expected"),
    [
        # nginx (on a private network or loopback) says who the client is.
        ({"REMOTE_ADDR": "172.18.0.5", "HTTP_X_REAL_IP": "203.0.113.5"}, "203.0.113.5"),
        ({"REMOTE_ADDR": "127.0.0.1", "HTTP_X_REAL_IP": "2001:db8::1"}, "2001:db8::1"),
        # A client reaching the app from a public address is not believed.
        ({"REMOTE_ADDR": "8.8.4.4", "HTTP_X_REAL_IP": "203.0.113.5"}, "8.8.4.4"),
        # Nor is anything that is not an address.
        ({"REMOTE_ADDR": "172.18.0.5", "HTTP_X_REAL_IP": "203.0.113.5, 1.2.3.4"}, "172.18.0.5"),
        ({"REMOTE_ADDR": "172.18.0.5"}, "172.18.0.5"),
    ],
)
def test_the_client_address_comes_from_nginx_only(meta, expected):
    assert client_address(Request(**meta)) == expected
