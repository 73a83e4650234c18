#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys


def database_error(error: Exception) -> str:
    """One line saying which database failed and why, instead of a traceback."""
    from django.db import connection

    settings = connection.settings_dict
    if connection.vendor == "postgresql":
        where = (
            f"PostgreSQL at {settings['HOST']}:{settings['PORT']} (DJANGO_DB_HOST, DJANGO_DB_PORT)"
        )
    else:
        where = f"{connection.display_name} at {settings['NAME']}"
    reason = next((line.strip() for line in str(error).splitlines() if line.strip()), "")
    return f"Database error: {where}: {reason}"


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line
    from django.db import OperationalError

    try:
        execute_from_command_line(sys.argv)
    except ImproperlyConfigured as error:
        sys.exit(f"Configuration error: {error}")
    except OperationalError as error:
        sys.exit(database_error(error))


if __name__ == "__main__":
    main()
