"""The commands the deployment runs: wait_for_db and the serialised migrate."""

import subprocess
import sys

import pytest
from django.db import connection

from harness.project import ROOT, clean_environ, free_port, manage


def test_wait_for_db_gives_up_with_a_clear_error_when_nothing_answers():
    env = clean_environ(
        DJANGO_SECRET_KEY="k" * 50,
        DJANGO_DB_HOST="127.0.0.1",
        DJANGO_DB_PORT=str(free_port()),
        POSTGRES_USER="app",
        POSTGRES_PASSWORD="pw",
    )
    result = manage("wait_for_db", "--timeout", "2", env=env, check=False)
    assert result.returncode == 1
    assert "database 'default' not reachable after 2s" in result.stderr
    assert "waiting for database 'default'" in result.stderr


@pytest.mark.django_db
def test_wait_for_db_returns_at_once_when_the_database_answers():
    from django.core.management import call_command

    call_command("wait_for_db", "--timeout", "1")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_migrate_runs_at_once_apply_each_migration_once():
    """One run takes the advisory lock and applies; the other waits, then has nothing to do."""
    assert connection.vendor == "postgresql", "run it on PostgreSQL: make test-postgres"
    database = f"migrate_race_{free_port()}"
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{database}"')
    try:
        settings_dict = connection.settings_dict
        env = clean_environ(
            DJANGO_SECRET_KEY="k" * 50,
            DJANGO_DB_HOST=settings_dict["HOST"],
            DJANGO_DB_PORT=str(settings_dict["PORT"]),
            POSTGRES_USER=settings_dict["USER"],
            POSTGRES_PASSWORD=settings_dict["PASSWORD"],
            POSTGRES_DB=database,
        )
        runs = [
            subprocess.Popen(
                [sys.executable, "manage.py", "migrate", "--no-input"],
                cwd=ROOT,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            for _ in range(2)
        ]
        outputs = [run.communicate(timeout=120)[0] for run in runs]
        assert [run.returncode for run in runs] == [0, 0], outputs
        assert sum("No migrations to apply" in output for output in outputs) == 1, outputs

        result = manage("showmigrations", "--plan", env=env)
        assert "[ ]" not in result.stdout
    finally:
        connection.close()
        with connection.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
