"""Account settings at work: the admin's path, and a secret key rotated without signing
anyone out."""

from http import HTTPStatus

import pytest
from django.test import Client
from django.urls import clear_url_caches, reverse

from accounts.tests.factories import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_moved(settings):
    """config/urls.py as DJANGO_ADMIN_URL=staff-only/ makes it."""
    import importlib

    import config.urls

    settings.ADMIN_URL = "staff-only/"
    clear_url_caches()
    importlib.reload(config.urls)
    yield
    settings.ADMIN_URL = "admin/"
    clear_url_caches()
    importlib.reload(config.urls)


def test_the_admin_answers_at_the_path_of_the_setting(client, admin_moved):
    assert reverse("admin:index") == "/staff-only/"
    assert client.get("/staff-only/login/").status_code == HTTPStatus.OK
    assert client.get("/admin/login/").status_code == HTTPStatus.NOT_FOUND


def test_a_rotated_secret_key_keeps_sessions_while_the_old_one_is_a_fallback(settings):
    """A session carries a hash signed with the key. With the former key in
    SECRET_KEY_FALLBACKS, users signed in before the rotation stay signed in, and their
    sessions move to the new key on their next request; once the fallback is gone, only a
    session that was not used meanwhile has to sign in again."""
    staff = reverse("admin:index")
    active, away = Client(), Client()
    active.force_login(make_user("ada", is_staff=True))
    away.force_login(make_user("bob", is_staff=True))

    old = settings.SECRET_KEY
    settings.SECRET_KEY = "a-new-key-" + "n" * 50
    settings.SECRET_KEY_FALLBACKS = [old]
    assert active.get(staff).status_code == HTTPStatus.OK

    settings.SECRET_KEY_FALLBACKS = []
    assert active.get(staff).status_code == HTTPStatus.OK
    assert away.get(staff).status_code == HTTPStatus.FOUND
