"""Configuration: environment, then .env, then defaults; clear errors; `make env`."""

import json
import shutil
import stat
import subprocess
import sys

import pytest
from decouple import RepositoryEnv

from tests.support.project import ROOT, clean_environ, manage
from tests.support.stack import write_server_names

PRINT_SETTINGS = (
    "from django.conf import settings; "
    "print(settings.ALLOWED_HOSTS, settings.DEBUG, settings.DATABASES['default']['ENGINE'])"
)


@pytest.fixture
def project_copy(tmp_path):
    """The project's code in a folder of its own, so that a .env there is the only one read."""
    copy = tmp_path / "project"
    shutil.copytree(
        ROOT,
        copy,
        ignore=shutil.ignore_patterns(
            ".git",
            ".venv",
            ".tools",
            "*.sqlite3",
            ".env",
            "staticfiles",
            "__pycache__",
            ".*_cache",
            "tests",
        ),
    )
    return copy


def settings_line(project, **environ):
    return manage(
        "shell", "--no-imports", "-c", PRINT_SETTINGS, env=clean_environ(**environ), cwd=project
    )


def test_missing_secret_key_stops_start_up_with_one_clear_line(project_copy):
    """Without DJANGO_SECRET_KEY anywhere, manage.py exits non-zero naming the variable."""
    result = manage("check", env=clean_environ(), cwd=project_copy, check=False)
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [
        "Configuration error: DJANGO_SECRET_KEY is not set. Set it in the environment or in "
        ".env (`make env` creates .env from .env.example with fresh secrets)."
    ]


def test_missing_database_password_is_named_when_postgres_is_configured(project_copy):
    result = manage(
        "check",
        env=clean_environ(DJANGO_SECRET_KEY="k" * 50, DJANGO_DB_HOST="db", POSTGRES_USER="app"),
        cwd=project_copy,
        check=False,
    )
    assert result.returncode != 0
    assert "POSTGRES_PASSWORD is not set" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_app_connects_as_its_own_role_when_one_is_configured(project_copy):
    """DJANGO_DB_USER and its password, not the superuser's, once the app has a role."""
    show = (
        "from django.db import connection as c; "
        "print(c.settings_dict['USER'], c.settings_dict['PASSWORD'])"
    )
    base = {"DJANGO_SECRET_KEY": "k" * 50, "DJANGO_DB_HOST": "db"}
    superuser = {"POSTGRES_USER": "postgres", "POSTGRES_PASSWORD": "superuser-pw"}

    own_role = manage(
        "shell",
        "--no-imports",
        "-c",
        show,
        cwd=project_copy,
        env=clean_environ(
            **base, **superuser, DJANGO_DB_USER="django", DJANGO_DB_PASSWORD="app-pw"
        ),
    )
    assert own_role.stdout.strip() == "django app-pw"

    single_role = manage(
        "shell",
        "--no-imports",
        "-c",
        show,
        cwd=project_copy,
        env=clean_environ(**base, **superuser),
    )
    assert single_role.stdout.strip() == "postgres superuser-pw"

    missing = manage(
        "check",
        cwd=project_copy,
        check=False,
        env=clean_environ(**base, **superuser, DJANGO_DB_USER="django"),
    )
    assert "DJANGO_DB_PASSWORD is not set" in missing.stderr


def test_secret_can_come_from_a_file(project_copy, tmp_path):
    """DJANGO_SECRET_KEY_FILE (Docker secrets) is read when DJANGO_SECRET_KEY is absent."""
    secret_file = tmp_path / "secret_key"
    secret_file.write_text("s" * 50 + "\n")
    result = manage(
        "shell",
        "--no-imports",
        "-c",
        "from django.conf import settings; print(settings.SECRET_KEY)",
        env=clean_environ(DJANGO_SECRET_KEY_FILE=str(secret_file)),
        cwd=project_copy,
    )
    assert result.stdout.strip() == "s" * 50


def test_defaults_apply_without_env_or_dotenv(project_copy):
    """Only the secret given: DEBUG off, SQLite, hosts for every documented endpoint."""
    result = settings_line(project_copy, DJANGO_SECRET_KEY="k" * 50)
    assert result.stdout.strip() == (
        "['localhost', '127.0.0.1', '[::1]'] False django.db.backends.sqlite3"
    )


def test_nginx_answers_for_the_hosts_django_allows(project_copy, tmp_path):
    """docker/nginx/server-names.sh turns DJANGO_ALLOWED_HOSTS into nginx's server_name, with
    Django's default list when it is not set."""
    django_default = manage(
        "shell",
        "--no-imports",
        "-c",
        "from django.conf import settings; print(*settings.ALLOWED_HOSTS)",
        env=clean_environ(DJANGO_SECRET_KEY="k" * 50),
        cwd=project_copy,
    ).stdout.strip()
    hosts = {
        None: f"server_name {django_default};",
        "example.com,.example.org": "server_name example.com .example.org;",
        "*": "server_name ~.;",
    }
    for allowed_hosts, expected in hosts.items():
        target = write_server_names(tmp_path / "server-names.conf", allowed_hosts)
        assert target.read_text().strip() == expected, allowed_hosts


def test_dotenv_overrides_defaults_and_environment_overrides_dotenv(project_copy):
    (project_copy / ".env").write_text(
        f"DJANGO_SECRET_KEY={'k' * 50}\nDJANGO_ALLOWED_HOSTS=from-dotenv.example\n"
        "DJANGO_DEBUG=True\n"
    )
    from_dotenv = settings_line(project_copy)
    assert from_dotenv.stdout.strip() == "['from-dotenv.example'] True django.db.backends.sqlite3"

    from_env = settings_line(
        project_copy, DJANGO_ALLOWED_HOSTS="from-env.example", DJANGO_DEBUG="False"
    )
    assert from_env.stdout.strip() == "['from-env.example'] False django.db.backends.sqlite3"


def test_database_host_switches_to_postgresql(project_copy):
    result = settings_line(
        project_copy,
        DJANGO_SECRET_KEY="k" * 50,
        DJANGO_DB_HOST="db",
        POSTGRES_USER="app",
        POSTGRES_PASSWORD="pw",
    )
    assert result.stdout.strip().endswith("django.db.backends.postgresql")


def make_env(target):
    return subprocess.run(
        [sys.executable, "scripts/make_env.py", "--target", str(target)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )


def test_make_env_fills_every_secret_and_documents_every_variable(tmp_path):
    target = tmp_path / ".env"
    make_env(target)
    values = RepositoryEnv(str(target)).data
    example = (ROOT / ".env.example").read_text()
    for name in (
        "DJANGO_SECRET_KEY",
        "POSTGRES_PASSWORD",
        "DJANGO_DB_PASSWORD",
        "DJANGO_SUPERUSER_PASSWORD",
        "PGADMIN_DEFAULT_PASSWORD",
    ):
        assert f"\n{name}=\n" in example, f"{name} must be left empty in .env.example"
        assert len(values[name]) >= 20, f"{name} was not generated"
    assert len(values["DJANGO_SECRET_KEY"]) >= 50
    assert len({values[n] for n in values if "PASSWORD" in n or "SECRET" in n}) == 5
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    # What the example shows, the .env keeps: the same variables, in the same order.
    assert [line.split("=")[0] for line in target.read_text().splitlines()] == [
        line.split("=")[0] for line in example.splitlines()
    ]
    # The app gets a role of its own, apart from the cluster's superuser.
    assert values["POSTGRES_USER"] == "postgres"
    assert values["DJANGO_DB_USER"] == "django"


def test_make_env_never_overwrites_an_existing_env(tmp_path):
    target = tmp_path / ".env"
    target.write_text("DJANGO_SECRET_KEY=mine\n")
    result = make_env(target)
    assert target.read_text() == "DJANGO_SECRET_KEY=mine\n"
    assert "left unchanged" in result.stdout


def test_make_env_generates_different_secrets_each_time(tmp_path):
    make_env(tmp_path / "a.env")
    make_env(tmp_path / "b.env")
    a = RepositoryEnv(str(tmp_path / "a.env")).data
    b = RepositoryEnv(str(tmp_path / "b.env")).data
    assert a["DJANGO_SECRET_KEY"] != b["DJANGO_SECRET_KEY"]
    assert a["POSTGRES_PASSWORD"] != b["POSTGRES_PASSWORD"]


def test_json_log_format_gives_one_json_object_per_line(project_copy):
    """DJANGO_LOG_FORMAT=json: each log record is one JSON line on stdout, for log shippers."""
    code = (
        "import logging; logging.getLogger('todo').warning('two\\nlines'); "
        "logging.getLogger('django.request').error('Internal Server Error: /x')"
    )
    result = manage(
        "shell",
        "--no-imports",
        "-c",
        code,
        cwd=project_copy,
        env=clean_environ(DJANGO_SECRET_KEY="k" * 50, DJANGO_LOG_FORMAT="json"),
    )
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(r["level"], r["logger"], r["message"]) for r in records] == [
        ("WARNING", "todo", "two\nlines"),
        ("ERROR", "django.request", "Internal Server Error: /x"),
    ]


def test_plain_log_format_goes_to_stdout_by_default(project_copy):
    result = manage(
        "shell",
        "--no-imports",
        "-c",
        "import logging; logging.getLogger('todo').warning('hello')",
        cwd=project_copy,
        env=clean_environ(DJANGO_SECRET_KEY="k" * 50),
    )
    assert result.stdout.rstrip().endswith("WARNING todo hello")
    assert result.stderr == ""
