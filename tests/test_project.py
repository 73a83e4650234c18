"""The project is consistent: system checks pass and no model change lacks a migration."""

import re
import secrets
import subprocess

from django.conf import settings

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
    packages = {
        path.name
        for path in ROOT.iterdir()
        if path.is_dir() and not path.name.startswith(".") and any(path.glob("*.py"))
    }
    product = {"config"} | {app.split(".")[0] for app in settings.INSTALLED_APPS} & packages
    tooling = packages - product
    assert {"accounts", "ops"} <= product
    assert {"harness", "tests"} <= tooling
    modules = [
        path
        for package in product
        for path in (ROOT / package).rglob("*.py")
        if "tests" not in path.relative_to(ROOT).parts
    ]
    pattern = re.compile(rf"^\s*(from|import)\s+({'|'.join(sorted(tooling))})\b", re.MULTILINE)
    importing = [
        str(path.relative_to(ROOT)) for path in modules if pattern.search(path.read_text())
    ]
    assert importing == []


def test_the_targets_after_make_up_follow_the_stack_it_started(tmp_path):
    """`make up ENV=prod` then `make migrate`: the job runs on the production stack, not on a
    development one that would recreate its services; `make up` alone is development again."""
    env_file = tmp_path / "stack.env"
    env_file.touch()

    def planned(*args: str) -> str:
        shown = subprocess.run(
            ["make", "--dry-run", *args, f"DJANGO_ENV_FILE={env_file}"],
            cwd=ROOT,
            env=clean_environ(),
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        return next(line for line in shown.splitlines() if line.startswith("docker compose"))

    assert "compose.override.yaml" in planned("migrate")  # nothing started yet: development
    (tmp_path / "stack.env.stack").write_text("prod\n")  # what `make up ENV=prod` leaves
    assert "compose.override.yaml" not in planned("migrate")
    assert "compose.override.yaml" not in planned("logs")
    assert "compose.override.yaml" in planned("migrate", "ENV=dev")
    assert "compose.override.yaml" in planned("up")
