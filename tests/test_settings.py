"""Settings come from the environment, then the env file, then the defaults in settings.py."""

import json
import os
import subprocess

import pytest

from harness.project import ROOT, clean_environ, run_django_script
from harness.stack import postgres_environ


@pytest.fixture
def env_file(tmp_path):
    """An env file of the test's own (DJANGO_ENV_FILE names it), never the developer's."""
    return tmp_path / "settings.env"


def settings_of(*names: str, **environ: str) -> dict:
    """The named settings as a process started with `environ` alone sees them."""
    result = run_django_script(
        "print_settings",
        env=clean_environ(HARNESS_SETTINGS=",".join(names), **environ),
    )
    return json.loads(result.stdout.splitlines()[-1])


KEY = {"DJANGO_SECRET_KEY": "k" * 50}


def test_defaults_apply_without_environment_or_env_file():
    """Only the secret given: DEBUG off, SQLite, hosts for every documented endpoint."""
    found = settings_of("ALLOWED_HOSTS", "DEBUG", "DATABASES", **KEY)
    assert found["ALLOWED_HOSTS"] == ["localhost", "127.0.0.1", "[::1]"]
    assert found["DEBUG"] is False
    assert found["DATABASES"]["default"]["ENGINE"] == "django.db.backends.sqlite3"


def test_the_env_file_overrides_defaults_and_the_environment_overrides_the_file(env_file):
    env_file.write_text(
        f"DJANGO_SECRET_KEY={'k' * 50}\nDJANGO_ALLOWED_HOSTS=from-file.example\nDJANGO_DEBUG=True\n"
    )
    from_file = settings_of("ALLOWED_HOSTS", "DEBUG", DJANGO_ENV_FILE=str(env_file))
    assert from_file == {"ALLOWED_HOSTS": ["from-file.example"], "DEBUG": True}

    from_env = settings_of(
        "ALLOWED_HOSTS",
        "DEBUG",
        DJANGO_ENV_FILE=str(env_file),
        DJANGO_ALLOWED_HOSTS="from-env.example",
        DJANGO_DEBUG="False",
    )
    assert from_env == {"ALLOWED_HOSTS": ["from-env.example"], "DEBUG": False}


def test_an_empty_env_file_setting_reads_no_file(env_file):
    """DJANGO_ENV_FILE set empty (the containers, the tests): the environment alone counts."""
    env_file.write_text("DJANGO_DEBUG=True\n")
    assert settings_of("DEBUG", DJANGO_ENV_FILE="", **KEY) == {"DEBUG": False}


def test_the_env_file_is_dot_env_in_the_project_folder_by_default():
    """Without DJANGO_ENV_FILE, config/env.py reads ROOT/.env (what `make env` writes)."""
    from config.env import env_file

    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("DJANGO_ENV_FILE", raising=False)
        assert env_file() == ROOT / ".env"


def test_a_database_host_switches_to_postgresql():
    found = settings_of(
        "DATABASES", DJANGO_DB_HOST="db", POSTGRES_USER="app", POSTGRES_PASSWORD="pw", **KEY
    )
    database = found["DATABASES"]["default"]
    assert database["ENGINE"] == "ops.postgresql"
    assert (database["HOST"], database["USER"], database["NAME"]) == ("db", "app", "postgres")


def test_the_app_connects_as_its_own_role_when_one_is_configured():
    """DJANGO_DB_USER and its password, not the superuser's, once the app has a role."""
    superuser = {"POSTGRES_USER": "postgres", "POSTGRES_PASSWORD": "superuser-pw"}
    base = {**KEY, "DJANGO_DB_HOST": "db", **superuser}
    own_role = settings_of("DATABASES", DJANGO_DB_USER="django", DJANGO_DB_PASSWORD="app", **base)
    database = own_role["DATABASES"]["default"]
    assert (database["USER"], database["PASSWORD"]) == ("django", "app")

    single_role = settings_of("DATABASES", **base)["DATABASES"]["default"]
    assert (single_role["USER"], single_role["PASSWORD"]) == ("postgres", "superuser-pw")


def test_a_secret_can_come_from_a_file(tmp_path):
    """DJANGO_SECRET_KEY_FILE (Docker secrets) is read when DJANGO_SECRET_KEY is absent."""
    secret_file = tmp_path / "secret_key"
    secret_file.write_text("s" * 50 + "\n")
    found = settings_of("SECRET_KEY", DJANGO_SECRET_KEY_FILE=str(secret_file))
    assert found == {"SECRET_KEY": "s" * 50}


def test_templates_are_cached_in_production_and_read_afresh_in_development():
    """Under gunicorn only the uncached loaders show an edited template on the next request."""
    production = settings_of("TEMPLATES", **KEY)["TEMPLATES"][0]["OPTIONS"]["loaders"]
    assert production[0][0] == "django.template.loaders.cached.Loader"
    development = settings_of("TEMPLATES", DJANGO_DEBUG="True", **KEY)
    loaders = development["TEMPLATES"][0]["OPTIONS"]["loaders"]
    assert "django.template.loaders.cached.Loader" not in str(loaders)


def test_gunicorn_serves_static_files_only_in_development():
    """WhiteNoise, reading the apps' folders, with DEBUG on; nginx alone in production."""
    whitenoise = "whitenoise.middleware.WhiteNoiseMiddleware"
    assert whitenoise not in settings_of("MIDDLEWARE", **KEY)["MIDDLEWARE"]
    development = settings_of(
        "MIDDLEWARE", "WHITENOISE_USE_FINDERS", "WHITENOISE_AUTOREFRESH", DJANGO_DEBUG="1", **KEY
    )
    assert whitenoise in development["MIDDLEWARE"]
    assert development["WHITENOISE_USE_FINDERS"] is development["WHITENOISE_AUTOREFRESH"] is True


def test_argon2_hashes_new_passwords_and_the_minimum_length_is_a_setting():
    found = settings_of(
        "PASSWORD_HASHERS", "AUTH_PASSWORD_VALIDATORS", DJANGO_PASSWORD_MIN_LENGTH="16", **KEY
    )
    assert found["PASSWORD_HASHERS"][0] == "django.contrib.auth.hashers.Argon2PasswordHasher"
    # Hashes made before (an older account, a restored backup) still verify.
    assert "django.contrib.auth.hashers.PBKDF2PasswordHasher" in found["PASSWORD_HASHERS"]
    lengths = [
        validator["OPTIONS"]["min_length"]
        for validator in found["AUTH_PASSWORD_VALIDATORS"]
        if validator["NAME"].endswith("MinimumLengthValidator")
    ]
    assert lengths == [16]


def test_former_secret_keys_are_a_list_of_the_keys_as_written():
    """Keys as Django's get_random_secret_key() makes them (#, quotes, backslashes) survive."""
    old = ["a#b$c(d", "x'y\\z", "plain"]
    found = settings_of("SECRET_KEY_FALLBACKS", DJANGO_SECRET_KEY_FALLBACKS=" , ".join(old), **KEY)
    assert found == {"SECRET_KEY_FALLBACKS": old}


@pytest.mark.postgres
def test_verify_full_reaches_a_database_whose_certificate_the_ca_file_vouches_for(tmp_path):
    """The throwaway cluster offers TLS with a certificate for 127.0.0.1 from a CA of its
    own: DJANGO_DB_SSLMODE=verify-full connects with that CA in DJANGO_DB_SSLROOTCERT, and
    refuses the server when another CA is named."""
    database = postgres_environ()

    def connect(**tls: str):
        return run_django_script(
            "database_tls", env=clean_environ(**KEY, **database, **tls), check=False
        )

    verified = connect(
        DJANGO_DB_SSLMODE="verify-full", DJANGO_DB_SSLROOTCERT=os.environ["HARNESS_POSTGRES_CA"]
    )
    assert verified.returncode == 0, verified.stderr
    assert json.loads(verified.stdout.splitlines()[-1])["ssl"] is True

    stranger = tmp_path / "another-ca.crt"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=another CA",
            "-keyout",
            str(tmp_path / "ca.key"),
            "-out",
            str(stranger),
        ],
        check=True,
        capture_output=True,
    )
    refused = connect(DJANGO_DB_SSLMODE="verify-full", DJANGO_DB_SSLROOTCERT=str(stranger))
    assert refused.returncode != 0
    assert "certificate verify failed" in refused.stderr


def test_uploads_default_to_a_local_folder_sent_by_django():
    found = settings_of(
        "MEDIA_ROOT", "MEDIA_STORAGE", "MEDIA_X_ACCEL_REDIRECT", "MAX_UPLOAD_MB", "STORAGES", **KEY
    )
    assert found["MEDIA_ROOT"] == str(ROOT / "media")
    assert (found["MEDIA_STORAGE"], found["MEDIA_X_ACCEL_REDIRECT"]) == ("local", False)
    assert found["MAX_UPLOAD_MB"] == 10
    assert found["STORAGES"]["default"]["BACKEND"] == (
        "django.core.files.storage.FileSystemStorage"
    )


def test_s3_storage_is_built_from_its_settings_with_the_secret_from_a_file(tmp_path):
    """DJANGO_MEDIA_STORAGE=s3: django-storages' S3 backend, private, signed links of
    DJANGO_S3_URL_SECONDS; the secret key as Docker secrets give it (test_private_media.py
    runs the same against a real S3 API)."""
    secret_file = tmp_path / "s3_secret"
    secret_file.write_text("from-a-file\n")
    found = settings_of(
        "STORAGES",
        DJANGO_MEDIA_STORAGE="s3",
        DJANGO_S3_BUCKET="uploads",
        DJANGO_S3_ENDPOINT_URL="https://s3.example.net",
        DJANGO_S3_ACCESS_KEY_ID="key-id",
        DJANGO_S3_SECRET_ACCESS_KEY_FILE=str(secret_file),
        DJANGO_S3_URL_SECONDS="30",
        **KEY,
    )
    assert found["STORAGES"]["default"] == {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": "uploads",
            "endpoint_url": "https://s3.example.net",
            "region_name": None,
            "access_key": "key-id",
            "secret_key": "from-a-file",
            "default_acl": None,
            "querystring_auth": True,
            "querystring_expire": 30,
            "signature_version": "s3v4",
            "file_overwrite": False,
        },
    }
    # Without keys, boto3's own search (an instance role, AWS_* variables) applies.
    bare = settings_of("STORAGES", DJANGO_MEDIA_STORAGE="s3", DJANGO_S3_BUCKET="b", **KEY)
    options = bare["STORAGES"]["default"]["OPTIONS"]
    assert (options["access_key"], options["secret_key"], options["endpoint_url"]) == (
        None,
        None,
        None,
    )
