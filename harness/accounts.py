"""Users and signing in, as a browser does it: the sign-in form fetched, then posted back with
its CSRF token and the Origin header a browser sends."""

import re
import secrets
from dataclasses import dataclass

import requests

from harness.project import run_django_script

_CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@dataclass(frozen=True)
class Account:
    username: str
    password: str


def create_account(
    env: dict[str, str], name: str, *, superuser: bool = False, email: str = ""
) -> Account:
    """A new user named <name>-<random> in the database `env` configures, made by the
    project's manage.py; the password goes through the environment, never a command line."""
    account = Account(f"{name}-{secrets.token_hex(3)}", secrets.token_urlsafe(12))
    run_django_script(
        "create_user",
        env={
            **env,
            "HARNESS_USERNAME": account.username,
            "HARNESS_PASSWORD": account.password,
            "HARNESS_EMAIL": email,
            **({"HARNESS_SUPERUSER": "1"} if superuser else {}),
        },
    )
    return account


def post_form(
    session: requests.Session, url: str, data: dict | bytes, *, origin: str, csrf: bool = True
) -> requests.Response:
    """A form posted as a browser posts it: with the CSRF token of the session's cookie (unless
    `csrf` is false) and the Origin header; `data` as fields, or as raw urlencoded bytes."""
    token = session.cookies["csrftoken"]
    if isinstance(data, dict):
        data = {**({"csrfmiddlewaretoken": token} if csrf else {}), **data}
    elif csrf:
        data += b"&csrfmiddlewaretoken=" + token.encode()
    return session.post(
        url,
        data=data,
        headers={"Origin": origin, "Content-Type": "application/x-www-form-urlencoded"},
        allow_redirects=False,
        timeout=30,
    )


def csrf_token(page: str) -> str:
    found = _CSRF_FIELD.search(page)
    assert found, "the page has no CSRF token"
    return found[1]


def sign_in(
    url: str,
    account: Account,
    *,
    path: str = "/accounts/login/",
    next: str | None = None,
    session: requests.Session | None = None,
    behind_tls: bool = False,
) -> tuple[requests.Session, requests.Response]:
    """Sign in at `url` + `path` (then to `next`); returns the signed-in session and the answer
    to the POST (not followed: a redirect is what success looks like).

    `behind_tls`: the requests say what a TLS proxy in front of nginx would
    (X-Forwarded-Proto: https), and the session keeps its cookies although they are marked
    Secure and travel over plain http here. nginx believes that only from an address in its
    NGINX_TRUSTED_PROXIES: the caller's test stack lists the address its requests come from.
    """
    session = session or requests.Session()
    origin = url.replace("http://", "https://") if behind_tls else url
    if behind_tls:
        session.headers["X-Forwarded-Proto"] = "https"
    form = session.get(f"{url}{path}", timeout=10)
    assert form.status_code == 200, f"GET {path}: {form.status_code}"
    headers = {"Origin": origin, "Referer": f"{origin}{path}"}
    if behind_tls:
        # requests sends no Secure cookie over http, even one passed to it: the form's go in
        # a Cookie header of our own, with those the session holds already.
        jar = {cookie.name: cookie.value for cookie in session.cookies}
        jar.update({cookie.name: cookie.value for cookie in form.cookies})
        headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in jar.items())
    response = session.post(
        f"{url}{path}",
        data={
            "csrfmiddlewaretoken": csrf_token(form.text),
            "username": account.username,
            "password": account.password,
            **({"next": next} if next else {}),
        },
        headers=headers,
        allow_redirects=False,
        timeout=10,
    )
    if behind_tls:
        # Keep them as plain cookies, which the session sends over http.
        for cookie in [*form.cookies, *response.cookies]:
            session.cookies.set(cookie.name, cookie.value)
    return session, response
