"""Middleware of the project's own (config/settings.py lists it in MIDDLEWARE)."""

from urllib.parse import unquote_to_bytes

from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.utils.cache import patch_cache_control

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"


def is_utf8_form(body: bytes) -> bool:
    """Whether every name and value of an urlencoded body is UTF-8 once percent-decoded.

    The separators (`&`, `=`) are ASCII and never part of a multi-byte character, so decoding
    the whole body at once checks each name and value."""
    try:
        unquote_to_bytes(body.replace(b"+", b" ")).decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


class RejectInvalidUtf8Middleware:
    """A form body that is not valid UTF-8 gets 400 Bad Request, before any view sees it.

    Django would decode it anyway, each bad byte becoming U+FFFD, and a form would then save
    the mangled text. Browsers send this site's forms in UTF-8 (its pages are UTF-8), so only a
    broken or hostile client sends anything else. (A body that declares another charset is
    refused by Django itself.)
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.content_type == FORM_CONTENT_TYPE and not is_utf8_form(request.body):
            return HttpResponseBadRequest(
                "Bad Request (400): the form data is not valid UTF-8.\n",
                content_type="text/plain; charset=utf-8",
            )
        return self.get_response(request)


class PrivatePagesMiddleware:
    """Every answer to a signed-in user says `Cache-Control: private, no-store`: no proxy or
    CDN on the way keeps a page meant for one person, and the browser keeps no copy on disk
    that the Back button would show after signing out, on a shared computer say.

    Static files never get here (nginx serves them); pages for visitors who are not signed
    in keep whatever caching their views chose, and so do error pages (5xx), which hold
    nothing personal: asking the database who signed in would only fail again there.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code < 500 and signed_in(request):
            patch_cache_control(response, private=True, no_store=True)
        return response


def signed_in(request: HttpRequest) -> bool:
    user = getattr(request, "user", None)
    try:
        return user is not None and user.is_authenticated
    except DatabaseError:
        # The database went away after the view answered: nothing to add to its answer.
        return False
