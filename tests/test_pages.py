"""The project's own pages, whatever apps it has: home, sign-in and sign-out, the 404 page."""

import re
from http import HTTPStatus

import pytest
from django.conf import settings
from django.urls import reverse

from accounts.tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def test_the_home_page_invites_visitors_to_sign_in(client):
    response = client.get("/")
    assert response.status_code == HTTPStatus.OK
    assert f"<h1>{settings.PROJECT_NAME}</h1>" in response.text
    assert f'href="{reverse("login")}"' in response.text


def test_signing_in_leads_to_the_home_page(client, alice):
    """Django's LoginView with the project's template; LOGIN_REDIRECT_URL is the home page."""
    page = client.get(reverse("login"))
    assert page.status_code == HTTPStatus.OK
    assert "<h1>Sign in</h1>" in page.text
    response = client.post(reverse("login"), {"username": "alice", "password": PASSWORD})
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == "/"
    assert "Signed in as <strong>alice</strong>" in client.get("/").text


def test_a_wrong_password_is_said_on_the_sign_in_page(client, alice):
    """The form's own error shows; the visitor stays signed out."""
    response = client.post(reverse("login"), {"username": "alice", "password": "wrong"})
    assert response.status_code == HTTPStatus.OK
    assert "Please enter a correct username and password" in response.text
    assert "_auth_user_id" not in client.session


def test_signing_out_is_a_post_and_leads_to_sign_in(alice_client):
    """LogoutView takes POST only; then LOGOUT_REDIRECT_URL is the sign-in page."""
    assert alice_client.get(reverse("logout")).status_code == HTTPStatus.METHOD_NOT_ALLOWED
    response = alice_client.post(reverse("logout"))
    assert response["Location"] == reverse("login")
    assert "Signed in as" not in alice_client.get("/").text


def test_staff_see_the_way_to_the_admin(client, alice):
    admin_link = f'href="{reverse("admin:index")}"'
    client.force_login(alice)
    assert admin_link not in client.get("/").text
    alice.is_staff = True
    alice.save()
    assert admin_link in client.get("/").text


def test_the_404_page_is_the_projects(client):
    response = client.get("/no-such-page/")
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert "<h1>Not found</h1>" in response.text
    assert 'href="/static/site.css"' in response.text


def test_every_page_of_the_project_is_csp_ready_and_posts_with_a_token(client, alice_client):
    """No inline style or script (the CSP forbids them); every form a POST with a token."""
    pages = [client.get(url).text for url in ("/", reverse("login"), "/no-such-page/")]
    pages.append(alice_client.get("/").text)
    for html in pages:
        for form in re.findall(r"<form\b[^>]*>.*?</form>", html, re.DOTALL):
            assert 'method="post"' in form
            assert 'name="csrfmiddlewaretoken"' in form
        assert " style=" not in html
        assert "<script" not in html
