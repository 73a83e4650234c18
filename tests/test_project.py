"""The project is consistent: system checks pass and no model change lacks a migration."""

from tests.support.project import clean_environ, manage


def test_system_checks_pass():
    result = manage(
        "check",
        "--fail-level",
        "WARNING",
        env=clean_environ(DJANGO_SECRET_KEY="k" * 50, DJANGO_DB_HOST=""),
    )
    assert "no issues" in result.stdout


def test_no_model_change_lacks_a_migration():
    result = manage(
        "makemigrations",
        "--check",
        "--dry-run",
        env=clean_environ(DJANGO_SECRET_KEY="k" * 50, DJANGO_DB_HOST=""),
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
