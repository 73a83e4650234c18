"""Users for tests, in a plain function: every app's tests make their users here."""

from itertools import count

from accounts.models import User

PASSWORD = "a-test-password-1234"
_serial = count(1)


def make_user(username: str | None = None, **fields) -> User:
    return User.objects.create_user(
        username=username or f"user{next(_serial)}", password=PASSWORD, **fields
    )
