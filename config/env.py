"""The one configuration reader: environment variable, then `.env` at the project root, then
the default given where a value is read. Settings and data migrations both read through it."""

import os
from pathlib import Path

from decouple import Config, RepositoryEmpty, RepositoryEnv, UndefinedValueError
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
ENV_FILE = BASE_DIR / ".env"

# `make env` makes .env readable by its owner only. The development container runs as another
# user and sees it through the bind mount without being able to read it; compose hands it the
# same values as environment variables, so there the file is rightly skipped.
config = Config(RepositoryEnv(ENV_FILE) if os.access(ENV_FILE, os.R_OK) else RepositoryEmpty())


class MissingSettingError(ImproperlyConfigured):
    """A required setting has no value; the message names the variable and where to set it."""


def required(name: str) -> str:
    """A setting without a safe default: stop start-up with a message naming the variable."""
    try:
        value = config(name)
    except UndefinedValueError:
        value = ""
    if not value:
        raise MissingSettingError(
            f"{name} is not set. Set it in the environment or in .env "
            "(`make env` creates .env from .env.example with fresh secrets)."
        )
    return value


def secret(name: str, default: str | None = None) -> str:
    """A secret, read from the file named by NAME_FILE (Docker secrets) or from NAME itself.
    Without either: `default` where one is given, else a MissingSettingError."""
    if path := config(f"{name}_FILE", default=""):
        try:
            return Path(path).read_text().strip()
        except OSError as error:
            raise MissingSettingError(f"{name}_FILE points at {path}: {error.strerror}.") from None
    if default is not None:
        return config(name, default=default)
    return required(name)
