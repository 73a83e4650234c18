import pytest


@pytest.fixture(autouse=True)
def _fast_test_settings(settings):
    """Test-speed settings: a cheap password hasher, and static files without the manifest
    (the manifest exists only after collectstatic, which the stack tests run for real)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
