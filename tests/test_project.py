"""The project is consistent: system checks pass and no model change lacks a migration."""

import re
import secrets

from harness.project import ROOT, clean_environ, manage


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


def test_deployment_checks_pass_with_production_settings():
    """What the base compose file runs: DEBUG off, PostgreSQL, a generated secret."""
    env = clean_environ(
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_DB_HOST="db",
        POSTGRES_USER="django",
        POSTGRES_PASSWORD=secrets.token_urlsafe(24),
    )
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=env, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_deployment_checks_catch_a_weak_secret_key():
    env = clean_environ(DJANGO_SECRET_KEY="short", DJANGO_DB_HOST="")
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=env, check=False)
    assert result.returncode != 0
    assert "security.W009" in result.stderr


def test_nothing_in_the_product_imports_the_tooling():
    """The Django project and its apps stand alone: no module of theirs imports the harness,
    the tests, or an optional tool folder, so each can be deleted (tests/template proves it)."""
    tooling = {"harness", "tests", "bench", "swarm", "scripts"}
    product = [
        path
        for path in ROOT.rglob("*.py")
        if path.relative_to(ROOT).parts[0] not in tooling | {".venv", ".tools", ".ci"}
        and "tests" not in path.relative_to(ROOT).parts
        and path.name != "conftest.py"
    ]
    assert any(path.match("config/settings.py") for path in product)
    pattern = re.compile(rf"^\s*(from|import)\s+({'|'.join(tooling)})\b", re.MULTILINE)
    importing = [
        str(path.relative_to(ROOT)) for path in product if pattern.search(path.read_text())
    ]
    assert importing == []
