"""The one configuration reader: environment variable, then the env file (`.env` at the project
root), then the default given where a value is read. Settings, gunicorn's settings and data
migrations all read through it.

A value that is missing or cannot be read stops start-up with one line that names the
variable and says what to do (manage.py and config/wsgi.py print it without a traceback).
"""

import os
from pathlib import Path

from decouple import Choices, Config, RepositoryEmpty, RepositoryEnv, UndefinedValueError, undefined
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_file() -> Path | None:
    """The file read after the environment: `.env`, or the one DJANGO_ENV_FILE names. Set
    empty, it turns the file off: the containers and the tests take the environment alone."""
    name = os.environ.get("DJANGO_ENV_FILE")
    if name is None:
        return BASE_DIR / ".env"
    return Path(name) if name else None


class InvalidSettingError(ImproperlyConfigured):
    """A setting is missing or has a value that cannot be used; the message says which."""


# What a value must look like, for the message about one that does not.
_EXPECTED = {
    bool: "True or False (1/0, yes/no and on/off work too)",
    int: "a whole number",
    float: "a number",
}


class Settings(Config):
    """decouple's reader, with a one-line error naming the variable when a value cannot be
    cast (DJANGO_DEBUG=maybe) instead of a traceback from deep inside the settings."""

    def get(self, option, default=undefined, cast=undefined):
        try:
            return super().get(option, default=default, cast=cast)
        except ValueError:
            raw = os.environ.get(option)
            if raw is None:
                raw = self.repository.get(option, default)
            if isinstance(cast, Choices):
                expected = "one of " + ", ".join([*cast.flat, *(v for v, _ in cast.choices)])
            else:
                expected = _EXPECTED.get(cast, "a valid value")
            raise InvalidSettingError(f"{option}={raw!r} is not valid: use {expected}.") from None


def _repository() -> RepositoryEnv | RepositoryEmpty:
    path = env_file()
    if path is None or not path.exists():
        return RepositoryEmpty()
    try:
        return RepositoryEnv(str(path))
    except OSError as error:
        raise InvalidSettingError(f"{path} cannot be read: {error.strerror}.") from None


config = Settings(_repository())


def _where_to_set(name: str) -> str:
    path = env_file()
    if path is None:
        return f"{name} is not set. Set it in the environment."
    if not path.exists():
        return (
            f"{name} is not set. Set it in the environment or in {path.name} "
            "(`make env` creates .env from .env.example with fresh secrets)."
        )
    # `make env` never touches an existing file: say what to add, and where.
    return (
        f"{name} is not set. Add it to {path} (.env.example shows it) or set it in the environment."
    )


def required(name: str) -> str:
    """A setting without a safe default: stop start-up with a message naming the variable."""
    try:
        value = config(name)
    except UndefinedValueError:
        value = ""
    if not value:
        raise InvalidSettingError(_where_to_set(name))
    return value


def secret(name: str, default: str | None = None) -> str:
    """A secret, read from the file named by NAME_FILE (Docker secrets) or from NAME itself.
    Without either: `default` where one is given, else an InvalidSettingError."""
    if path := config(f"{name}_FILE", default=""):
        try:
            return Path(path).read_text().strip()
        except OSError as error:
            raise InvalidSettingError(f"{name}_FILE points at {path}: {error.strerror}.") from None
    if default is not None:
        return config(name, default=default)
    return required(name)
