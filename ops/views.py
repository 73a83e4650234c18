import sys
from http import HTTPStatus

from django import db
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connection, connections
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.log import log_response
from django.views import defaults
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from ops.management.commands.migrate import MIGRATE_LOCK_KEY


@never_cache
@require_safe
def health(request):
    """Liveness and readiness in one: 200 when the database answers, 503 when it does not.

    `host` names the container that answered, which shows load balancing at work.
    """
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as error:
        response = JsonResponse(
            {"status": "error", "database": "unavailable", "host": settings.HOSTNAME},
            status=HTTPStatus.SERVICE_UNAVAILABLE,
        )
        # The reason goes to the log (a wrong password, a host that does not resolve), so that
        # an unhealthy container says why; the response tells the outside world no more.
        log_response(
            "Service Unavailable: %s: the database does not answer (%s: %s)",
            request.path,
            type(error).__name__,
            first_line(error),
            response=response,
            request=request,
        )
        return response
    return JsonResponse({"status": "ok", "database": "ok", "host": settings.HOSTNAME})


# --- Errors ------------------------------------------------------------------------------

# What the 503 page says, and when a client should try again, for each database problem.
DATABASE_UNAVAILABLE = ("The database is not answering.", 5)
DATABASE_NOT_MIGRATED = ("The database has not been set up yet (its migrations have not run).", 30)


# The SQLSTATEs of a query that names a table or a column the database does not have.
UNDEFINED_TABLE_OR_COLUMN = {"42P01", "42703"}


def names_what_is_not_there(error: db.Error) -> bool:
    """The query named a table or a column that the database does not have (yet)."""
    if getattr(error.__cause__, "sqlstate", None) in UNDEFINED_TABLE_OR_COLUMN:
        return True
    return str(error).startswith(("no such table", "no such column"))  # SQLite's words


def database_problem(error: db.Error, using: str = DEFAULT_DB_ALIAS) -> tuple[str, int] | None:
    """Why the database could not serve the request that just failed (down, or not migrated),
    or None if it could.

    A connection that never opened, or that the error left broken, means the database went
    away: asking it again could find it back already (a restart takes a second or two) and
    wrongly blame the code. Otherwise the error came from a query: a 503 only if migrations
    are missing (a table or column the code expects is not there yet), or were being applied
    when the query found a table missing (the migrate job may have finished since).
    """
    connection = connections[using]
    if connection.connection is None or not connection.is_usable():
        return DATABASE_UNAVAILABLE
    try:
        executor = MigrationExecutor(connection)
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
        migrating = names_what_is_not_there(error) and migration_running(connection)
    except db.Error:
        return DATABASE_UNAVAILABLE
    return DATABASE_NOT_MIGRATED if pending or migrating else None


def first_line(error: Exception) -> str:
    """The line of an error's message that says what went wrong (psycopg adds details below)."""
    message = str(error).strip()
    return message.splitlines()[0] if message else ""


def migration_running(connection) -> bool:
    """A migrate job holds its lock (ops/management/commands/migrate.py) until it is done,
    post-migrate work included."""
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted "
            "AND ((classid::bigint << 32) | objid::bigint) = %s)",
            [MIGRATE_LOCK_KEY],
        )
        return cursor.fetchone()[0]


def server_error(request):
    """handler500 (config/urls.py): a database error caused by the database being down or not
    migrated yet is a 503 Service Unavailable, with Retry-After and a page saying so; any other
    error stays Django's 500.

    Django calls this, with DEBUG off, while it handles an exception that a view or a
    middleware let through. A 503 tells clients and load balancers the truth (come back
    later), where a 500 would say the code is broken. It is logged as one line, not a
    traceback per request for as long as the outage lasts.
    """
    error = sys.exception()
    problem = database_problem(error) if isinstance(error, db.Error) else None
    if problem is None:
        return defaults.server_error(request)
    explanation, retry_after = problem
    response = HttpResponse(
        render_to_string("503.html", {"explanation": explanation}),
        status=HTTPStatus.SERVICE_UNAVAILABLE,
        headers={"Retry-After": str(retry_after)},
    )
    log_response(
        "Service Unavailable: %s: %s (%s: %s)",
        request.path,
        explanation,
        type(error).__name__,
        first_line(error),
        response=response,
        request=request,
    )
    return response
