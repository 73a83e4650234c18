"""How django-axes (config/settings.py, Authentication) tells sign-in clients apart and
describes them in the log."""

import ipaddress
import json
from http import HTTPStatus

from django.conf import settings
from django.contrib.auth import get_user_model
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def client_address(request: HttpRequest) -> str:
    """The address of the client that signs in, as nginx saw it.

    nginx sets X-Real-IP to the address it took the connection from (or, behind a proxy the
    operator lists in NGINX_TRUSTED_PROXIES, to the client's address that proxy reports) and
    replaces any X-Real-IP a client sent. gunicorn is reached only through nginx, on the
    compose network or on loopback: the header counts only from such a private address, so
    an app server reachable from elsewhere by mistake cannot be told any client address.
    """
    peer = request.META.get("REMOTE_ADDR", "")
    forwarded = request.META.get("HTTP_X_REAL_IP", "").strip()
    peer_address = _address(peer)
    if forwarded and peer_address and peer_address.is_private and _address(forwarded):
        return forwarded
    return peer


def attempted_username(request: HttpRequest, credentials: dict | None) -> str | None:
    """The username a sign-in tried, cut to the longest an account can have: anything longer
    belongs to no account, and django-axes keeps it in a column of 255 characters, which
    PostgreSQL would refuse to overflow (a 500 instead of the form again)."""
    username = (credentials or {}).get("username")
    if username is None:
        username = request.POST.get("username")
    if username is None:
        return None
    return username[: get_user_model().username.field.max_length]


def describe_client(username, ip_address, user_agent, path_info, request) -> str:
    """One line for the log: the username and the client's address, quoted as JSON strings so
    that a username with a line break in it cannot forge a second line; never the password."""
    if isinstance(path_info, tuple | list):
        path_info = path_info[0]
    fields = {"username": username, "client": ip_address, "path": path_info}
    return " ".join(f"{name}={json.dumps(value or '')}" for name, value in fields.items())


def locked_out(request: HttpRequest, response=None, credentials=None) -> HttpResponse:
    """The answer to a sign-in while its account is locked for this client: 429 Too Many
    Requests, with Retry-After, on the site's own page (the admin's sign-in too)."""
    seconds = int(settings.AXES_COOLOFF_TIME.total_seconds())
    page = render(
        request,
        "registration/locked_out.html",
        {"failure_limit": settings.AXES_FAILURE_LIMIT, "minutes": seconds // 60},
        status=HTTPStatus.TOO_MANY_REQUESTS,
    )
    page["Retry-After"] = str(seconds)
    return page


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None
