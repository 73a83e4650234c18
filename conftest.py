import pytest

from accounts.tests.factories import make_user

# The harness's fixtures (the production-like stack, the browser, the Docker engine), for the
# tests of every app.
pytest_plugins = ["harness.fixtures"]


@pytest.fixture(autouse=True)
def _fast_test_settings(settings, tmp_path_factory):
    """Test-speed settings: a cheap password hasher, and static files without the manifest
    (the manifest exists only after collectstatic, which the stack tests run for real).
    Uploads go to a folder of the test's own, never the project's media/."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = tmp_path_factory.mktemp("media")
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture
def alice(db):
    return make_user("alice")


@pytest.fixture
def bob(db):
    return make_user("bob")


@pytest.fixture
def alice_client(client, alice):
    """A test client signed in as alice."""
    client.force_login(alice)
    return client
