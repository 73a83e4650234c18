"""A URL whose view fails, for the tests of what a server error sets off."""

from django.urls import path


def failing_view(request):
    raise RuntimeError("a bug in a view")


urlpatterns = [path("fails/", failing_view)]
