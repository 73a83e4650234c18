"""RejectInvalidUtf8Middleware: form data must be UTF-8."""

from http import HTTPStatus

import pytest
from django.urls import reverse

from ops.middleware import is_utf8_form

FORM = "application/x-www-form-urlencoded"


@pytest.mark.parametrize(
    "body",
    [b"", b"name=Groceries", b"name=Caf%C3%A9&x=%E2%9C%93", "name=Café".encode(), b"a+b=c+d"],
)
def test_utf8_form_bodies_pass(body):
    """Urlencoded UTF-8, percent-encoded or not, passes."""
    assert is_utf8_form(body)


@pytest.mark.parametrize(
    "body",
    [b"name=%FF", b"name=%C3", b"name=%C3&x=%A9", b"name=\xff\xfe", b"%ED%A0%80=x", b"x=%C0%AF"],
)
def test_bodies_that_are_not_utf8_once_decoded_are_caught(body):
    """Bad bytes, a truncated sequence, a surrogate, an overlong encoding are caught."""
    assert not is_utf8_form(body)


@pytest.mark.django_db
def test_a_form_post_that_is_not_utf8_is_a_400(client):
    """A form POST that is not UTF-8 gets a 400 that says so."""
    response = client.post(reverse("login"), b"username=%FF&password=x", content_type=FORM)
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.content == b"Bad Request (400): the form data is not valid UTF-8.\n"


@pytest.mark.django_db
def test_a_form_post_in_utf8_reaches_the_view(client):
    """A form POST in UTF-8 reaches the view."""
    response = client.post(reverse("login"), "username=Zoë&password=x".encode(), content_type=FORM)
    assert response.status_code == HTTPStatus.OK  # the sign-in form again, with its error


# --- PrivatePagesMiddleware: a signed-in user's pages stay out of caches ---------------------


def cache_directives(response) -> set[str]:
    return {part.strip() for part in response.get("Cache-Control", "").split(",") if part}


@pytest.mark.django_db
def test_pages_of_a_signed_in_user_are_private_and_not_stored(alice_client):
    for path in ("/", reverse("admin:index")):
        assert {"private", "no-store"} <= cache_directives(alice_client.get(path)), path


@pytest.mark.django_db
def test_pages_for_visitors_keep_their_own_caching(client):
    """Nothing is added for a visitor who is not signed in; the sign-in page keeps the
    never-cache headers of Django's view."""
    assert "no-store" not in cache_directives(client.get("/"))
    assert "no-store" in cache_directives(client.get(reverse("login")))
