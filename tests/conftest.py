import pytest

from tests.support.stack import production_like_stack


@pytest.fixture(scope="session")
def stack(tmp_path_factory):
    """gunicorn + nginx + PostgreSQL, migrated, static files collected, superuser created."""
    with production_like_stack(tmp_path_factory.mktemp("stack")) as running_stack:
        yield running_stack
