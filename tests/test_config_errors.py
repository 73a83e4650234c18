"""A setting that is missing or wrong stops start-up with one line that names it and says what
to do: never a traceback, whichever way the app is started."""

import subprocess
import sys

import pytest

from harness.project import ROOT, clean_environ, free_port, manage

KEY = {"DJANGO_SECRET_KEY": "k" * 50}


def error_lines(**environ: str) -> list[str]:
    result = manage("check", env=clean_environ(**environ), check=False)
    assert result.returncode != 0
    return result.stderr.strip().splitlines()


def test_a_missing_secret_key_without_an_env_file_says_make_env_creates_one(tmp_path):
    lines = error_lines(DJANGO_ENV_FILE=str(tmp_path / ".env"))
    assert lines == [
        "Configuration error: DJANGO_SECRET_KEY is not set. Set it in the environment or in "
        ".env (`make env` creates .env from .env.example with fresh secrets)."
    ]


def test_a_missing_secret_key_in_an_existing_env_file_says_to_add_it(tmp_path):
    """`make env` never changes an existing .env, so the hint is to add the line."""
    env_file = tmp_path / ".env"
    env_file.write_text("DJANGO_DEBUG=True\n")
    assert error_lines(DJANGO_ENV_FILE=str(env_file)) == [
        f"Configuration error: DJANGO_SECRET_KEY is not set. Add it to {env_file} "
        "(.env.example shows it) or set it in the environment."
    ]


def test_a_missing_secret_key_in_a_container_says_to_set_the_environment():
    assert error_lines(DJANGO_ENV_FILE="") == [
        "Configuration error: DJANGO_SECRET_KEY is not set. Set it in the environment."
    ]


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("DJANGO_DEBUG", "maybe", "True or False (1/0, yes/no and on/off work too)"),
        ("DJANGO_DB_CONN_MAX_AGE", "a minute", "a whole number"),
        ("DJANGO_LOG_FORMAT", "xml", "one of plain, json"),
        ("DJANGO_LOG_LEVEL", "loud", "one of DEBUG, INFO, WARNING, ERROR, CRITICAL"),
        ("DJANGO_MAX_UPLOAD_MB", "ten", "a whole number"),
        ("DJANGO_MEDIA_STORAGE", "ftp", "one of local, s3"),
        (
            "DJANGO_ADMIN_URL",
            "/admin",
            "a path such as admin/ or staff-only/ (letters, digits, - _ . ~, ending in /, "
            "no leading /)",
        ),
    ],
)
def test_a_value_that_cannot_be_used_is_named_with_what_would_do(variable, value, expected):
    environ = {**KEY, variable: value}
    if variable == "DJANGO_DB_CONN_MAX_AGE":
        environ.update(DJANGO_DB_HOST="db", POSTGRES_USER="app", POSTGRES_PASSWORD="pw")
    assert error_lines(**environ) == [
        f"Configuration error: {variable}={value!r} is not valid: use {expected}."
    ]


@pytest.mark.parametrize("variable", ["DJANGO_SIGN_IN_FAILURES", "DJANGO_SIGN_IN_LOCKOUT_MINUTES"])
def test_sign_in_throttling_cannot_be_set_to_zero(variable):
    assert error_lines(**KEY, **{variable: "0"}) == [
        f"Configuration error: {variable}=0 is not valid: use a whole number from 1 up."
    ]


def test_a_missing_database_password_is_named_when_postgresql_is_configured():
    lines = error_lines(**KEY, DJANGO_DB_HOST="db", POSTGRES_USER="app")
    assert len(lines) == 1
    assert "POSTGRES_PASSWORD is not set" in lines[0]
    lines = error_lines(**KEY, DJANGO_DB_HOST="db", DJANGO_DB_USER="django")
    assert "DJANGO_DB_PASSWORD is not set" in lines[0]


def test_an_unreachable_database_is_one_line_naming_where_it_was_looked_for():
    """`make run` with DJANGO_DB_HOST pointing nowhere: migrate says where it looked."""
    port = str(free_port())
    result = manage(
        "migrate",
        env=clean_environ(
            **KEY,
            DJANGO_DB_HOST="127.0.0.1",
            DJANGO_DB_PORT=port,
            DJANGO_DB_CONNECT_TIMEOUT="1",
            POSTGRES_USER="app",
            POSTGRES_PASSWORD="pw",
        ),
        check=False,
    )
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith(
        f"Database error: PostgreSQL at 127.0.0.1:{port} (DJANGO_DB_HOST, DJANGO_DB_PORT): "
    )


def test_gunicorn_refuses_to_start_without_a_secret_key():
    """Set but empty counts as missing; one line from the master, not one per worker."""
    command = [sys.executable, "-m", "gunicorn", "--config", "python:config.gunicorn"]
    command += ["--bind", f"127.0.0.1:{free_port()}", "config.wsgi"]
    result = subprocess.run(
        command,
        cwd=ROOT,
        env=clean_environ(DJANGO_SECRET_KEY=""),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [
        "Configuration error: DJANGO_SECRET_KEY is not set. Set it in the environment."
    ]


def test_s3_storage_without_a_bucket_names_the_setting():
    assert error_lines(DJANGO_ENV_FILE="", DJANGO_MEDIA_STORAGE="s3", **KEY) == [
        "Configuration error: DJANGO_S3_BUCKET is not set. Set it in the environment."
    ]


def test_an_upload_limit_below_one_mb_is_refused():
    assert error_lines(DJANGO_MAX_UPLOAD_MB="0", **KEY) == [
        "Configuration error: DJANGO_MAX_UPLOAD_MB=0 is not valid: use a whole number from 1 up."
    ]
