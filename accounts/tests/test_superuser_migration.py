"""The data migration accounts/0002 creates the superuser from DJANGO_SUPERUSER_*."""

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from config.env import InvalidSettingError
from harness.project import clean_environ, manage

BEFORE = [("accounts", "0001_initial")]
AFTER = [("accounts", "0002_create_superuser")]

pytestmark = pytest.mark.django_db(transaction=True)


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)


@pytest.fixture
def superuser_env(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_USERNAME", "boss")
    monkeypatch.setenv("DJANGO_SUPERUSER_EMAIL", "boss@example.com")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "a-long-generated-password")


@pytest.fixture
def rerun_migration():
    """Unapply 0002 (a no-op backwards) so that each test runs it forwards itself."""
    migrate(BEFORE)
    yield lambda: migrate(AFTER)
    migrate(AFTER)


def test_creates_a_superuser_of_the_custom_user_model(superuser_env, rerun_migration):
    rerun_migration()
    user = get_user_model().objects.get(username="boss")
    assert user._meta.label == "accounts.User"
    assert user.is_superuser
    assert user.is_staff
    assert user.is_active
    assert user.email == "boss@example.com"
    assert user.check_password("a-long-generated-password")


def test_is_a_no_op_without_the_environment(rerun_migration):
    """pytest-env sets the variables empty, as absent ones would be."""
    rerun_migration()
    assert not get_user_model().objects.exists()


def test_running_again_keeps_the_existing_user_and_its_password(
    superuser_env, rerun_migration, monkeypatch
):
    rerun_migration()
    user = get_user_model().objects.get(username="boss")
    user.set_password("changed-by-the-admin-since")
    user.save()

    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "another-password-in-env")
    migrate(BEFORE)
    migrate(AFTER)

    assert get_user_model().objects.filter(username="boss").count() == 1
    assert (
        get_user_model().objects.get(username="boss").check_password("changed-by-the-admin-since")
    )


def test_is_reversible_and_leaves_the_account_alone(superuser_env, rerun_migration):
    rerun_migration()
    migrate(BEFORE)
    assert get_user_model().objects.filter(username="boss").exists()


def test_reads_the_password_from_a_docker_secret_file(rerun_migration, monkeypatch, tmp_path):
    """DJANGO_SUPERUSER_PASSWORD_FILE, as Docker secrets are mounted."""
    secret_file = tmp_path / "django_superuser_password"
    secret_file.write_text("a-password-from-a-secret\n")
    monkeypatch.setenv("DJANGO_SUPERUSER_USERNAME", "boss")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD_FILE", str(secret_file))
    rerun_migration()
    assert get_user_model().objects.get(username="boss").check_password("a-password-from-a-secret")


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("short-1", "This password is too short. It must contain at least 12 characters."),
        ("password1234", "This password is too common."),
        ("boss@example.com", "The password is too similar to the email address."),
    ],
)
def test_a_weak_password_stops_the_migration_with_the_reason(
    superuser_env, rerun_migration, monkeypatch, password, reason
):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", password)
    try:
        with pytest.raises(InvalidSettingError) as refused:
            rerun_migration()
        assert str(refused.value).startswith(f"DJANGO_SUPERUSER_PASSWORD is too weak: {reason}")
        assert not get_user_model().objects.exists()
    finally:
        # rerun_migration's teardown applies 0002 again, before monkeypatch undoes this.
        monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "a-long-generated-password")


def test_manage_py_migrate_says_in_one_line_that_the_password_is_weak(tmp_path):
    result = manage(
        "migrate",
        "--no-input",
        env=clean_environ(
            DJANGO_SECRET_KEY="k" * 50,
            DJANGO_SQLITE_PATH=str(tmp_path / "db.sqlite3"),
            DJANGO_SUPERUSER_USERNAME="boss",
            DJANGO_SUPERUSER_PASSWORD="12345678",
            DJANGO_PASSWORD_MIN_LENGTH="10",
        ),
        check=False,
    )
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [
        "Configuration error: DJANGO_SUPERUSER_PASSWORD is too weak: This password is too "
        "short. It must contain at least 10 characters. This password is too common. This "
        "password is entirely numeric. Choose another (`make env` generates a strong one)."
    ]
