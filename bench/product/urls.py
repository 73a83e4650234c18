from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.urls import path

from bench.product import EMPTY_PATH
from config.urls import handler500
from config.urls import urlpatterns as product


@login_required
def signed_in_empty(request: HttpRequest) -> HttpResponse:
    """What every signed-in page pays before it renders anything: the whole middleware stack,
    the session read and the user loaded (login_required asks request.user), and no more. An
    anonymous request is redirected to the sign-in page, which the bench counts as an error."""
    return HttpResponse(b"ok", content_type="text/plain")


urlpatterns = [*product, path(EMPTY_PATH, signed_in_empty)]

__all__ = ["handler500", "urlpatterns"]
