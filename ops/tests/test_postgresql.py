"""ops/postgresql: the health check of a persistent connection, before a request's first query,
replaces a connection that the server closed and keeps one that works."""

import pytest
from django.db import DataError, close_old_connections, connection

from harness.postgres import another_connection
from harness.waiting import wait_until

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


@pytest.fixture(autouse=True)
def _on_postgresql_with_persistent_connections():
    assert connection.vendor == "postgresql", "run it on PostgreSQL: make test-postgres"
    assert connection.settings_dict["CONN_MAX_AGE"] > 0
    assert connection.settings_dict["CONN_HEALTH_CHECKS"]
    yield
    connection.close()


def test_a_connection_that_works_is_kept_from_one_request_to_the_next():
    before = backend_pid()
    close_old_connections()  # what Django does when a request starts and ends
    assert backend_pid() == before


def test_a_connection_the_server_closed_is_replaced_before_the_next_query_fails():
    """pg_terminate_backend, as a database restart or an administrator does: the next
    request gets a new connection, not an error."""
    before = backend_pid()
    with another_connection(connection.settings_dict) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [before])

        def gone() -> bool:
            found = admin.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [before])
            return found.fetchone() is None

        wait_until(gone, timeout=10, interval=0.05, message=f"backend {before} still runs")
    close_old_connections()
    after = backend_pid()
    assert after != before


def test_a_connection_left_in_a_failed_transaction_is_replaced():
    """Code that opened a transaction by hand and let a statement fail: the server stays
    silent, but every query would fail until a rollback. The next request gets a new
    connection, as with Django's own check."""
    before = backend_pid()
    with connection.cursor() as cursor:
        cursor.execute("BEGIN")
        with pytest.raises(DataError, match="division by zero"):
            cursor.execute("SELECT 1 / 0")
    close_old_connections()
    assert backend_pid() != before
