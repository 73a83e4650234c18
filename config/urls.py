from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.generic import TemplateView

from ops.views import health

urlpatterns = [
    path("", TemplateView.as_view(template_name="home.html"), name="home"),
    # admin/ unless DJANGO_ADMIN_URL moves it.
    path(settings.ADMIN_URL, admin.site.urls),
    path("health/", health, name="health"),
    path("accounts/", include("accounts.urls")),
    # Your apps' URLs here.
    # % if with_example_app
    path("todo/", include("todo.urls")),
    # % endif
]

# A database that is down or not migrated yet answers 503 instead of 500 (ops/views.py).
handler500 = "ops.views.server_error"
