"""The project's URLs plus one whose view fails, for the tests of what a server error sets
off (mail to ADMINS, a report to Sentry)."""

from django.urls import path

from config.urls import urlpatterns as project_urlpatterns


def failing_view(request):
    raise RuntimeError("a bug in a view")


urlpatterns = [path("fails/", failing_view), *project_urlpatterns]
