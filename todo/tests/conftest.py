import pytest

from .factories import make_user


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
