"""Middleware of the project's own (config/settings.py lists it in MIDDLEWARE)."""

from urllib.parse import unquote_to_bytes

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest

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
