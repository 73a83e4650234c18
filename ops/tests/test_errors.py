"""handler500: a database that is down or not migrated yet is a 503 that says so; any other
error stays a 500."""

from http import HTTPStatus

import pytest
from django import db
from django.db import connection, transaction

from harness.postgres import another_connection
from harness.project import clean_environ, free_port, run_django_script
from ops.management.commands.migrate import MIGRATE_LOCK_KEY
from ops.views import server_error


def sign_in_on(**database: str) -> tuple[str, str, list[str]]:
    """The status and Retry-After, the page, and the lines logged."""
    env = clean_environ(
        DJANGO_SECRET_KEY="k" * 50,
        DJANGO_SECURE_SSL_REDIRECT="False",
        DJANGO_ALLOWED_HOSTS="testserver",
        DJANGO_LOG_LEVEL="ERROR",
        **database,
    )
    result = run_django_script("post_sign_in", env=env)
    logged, _, answer = result.stdout.partition("STATUS ")
    status, _, page = answer.partition("\n")
    return status, page, (logged + result.stderr).splitlines()


def test_a_database_without_migrations_answers_503_not_500(tmp_path):
    """web started before the migrate job ran: a clear 503, logged as one line."""
    status, page, logged = sign_in_on(DJANGO_SQLITE_PATH=str(tmp_path / "empty.sqlite3"))
    assert status == f"{HTTPStatus.SERVICE_UNAVAILABLE} 30"
    assert "The database has not been set up yet (its migrations have not run)." in page
    assert len(logged) == 1, logged
    assert "ERROR django.request Service Unavailable: /accounts/login/: The database" in logged[0]


def test_an_unreachable_database_answers_503_not_500():
    """Nothing listens on the database port: a 503 asking to come back in a few seconds."""
    status, page, logged = sign_in_on(
        DJANGO_DB_HOST="127.0.0.1",
        DJANGO_DB_PORT=str(free_port()),
        DJANGO_DB_CONNECT_TIMEOUT="1",
        POSTGRES_USER="app",
        POSTGRES_PASSWORD="pw",
    )
    assert status == f"{HTTPStatus.SERVICE_UNAVAILABLE} 5"
    assert "The database is not answering." in page
    assert len(logged) == 1, logged
    assert "(OperationalError: connection failed:" in logged[0]


@pytest.mark.django_db
def test_a_database_error_of_the_code_itself_stays_a_500(rf):
    """A wrong query while the database is up and migrated is a bug: 500, as before."""
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT * FROM no_such_table")
    except db.Error:
        response = server_error(rf.get("/"))
    assert response.status_code == HTTPStatus.INTERNAL_SERVER_ERROR


def test_an_error_that_is_not_the_database_stays_a_500(rf):
    """An error that is not the database's stays a 500."""
    try:
        raise ValueError("a bug")
    except ValueError:
        response = server_error(rf.get("/"))
    assert response.status_code == HTTPStatus.INTERNAL_SERVER_ERROR


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_connection_the_database_dropped_is_a_503_even_once_it_is_back(rf):
    """A connection the database dropped is a 503, even when a new one would work."""
    assert connection.vendor == "postgresql", "run it on PostgreSQL: make test-postgres"
    try:
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_terminate_backend(pg_backend_pid())")
        except db.Error:
            response = server_error(rf.get("/"))
        assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
        assert response["Retry-After"] == "5"
    finally:
        connection.close()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_table_missing_while_a_migrate_job_runs_is_a_503(rf):
    """The first migration under load: a query found a table missing while the migrate job
    held its lock; by the time the error is handled, no migration may be pending any more.
    Still a 503 (come back soon), not a 500."""
    assert connection.vendor == "postgresql", "run it on PostgreSQL: make test-postgres"
    with another_connection(connection.settings_dict) as migrate_job:
        migrate_job.execute("SELECT pg_advisory_lock(%s)", [MIGRATE_LOCK_KEY])
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SELECT * FROM table_of_a_migration_under_way")
        except db.Error:
            response = server_error(rf.get("/"))
    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert response["Retry-After"] == "30"
