from http import HTTPStatus

from django.conf import settings
from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe


@never_cache
@require_safe
def health(request):
    """Liveness and readiness in one: 200 when the database answers, 503 when it does not.

    `host` names the container that answered, which shows load balancing at work.
    """
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        database, status = "ok", HTTPStatus.OK
    except DatabaseError:
        database, status = "unavailable", HTTPStatus.SERVICE_UNAVAILABLE
    return JsonResponse(
        {
            "status": "ok" if status == HTTPStatus.OK else "error",
            "database": database,
            "host": settings.HOSTNAME,
        },
        status=status,
    )
