import time

from django.core.management.base import BaseCommand, CommandError
from django.db import OperationalError, connections


class Command(BaseCommand):
    help = "Wait until the database accepts a real connection (not just an open port)."

    def add_arguments(self, parser):
        parser.add_argument("--timeout", type=float, default=60, help="seconds to wait (60)")
        parser.add_argument("--database", default="default")

    def handle(self, *args, timeout, database, **options):
        connection = connections[database]
        deadline = time.monotonic() + timeout
        while True:
            try:
                connection.ensure_connection()
            except OperationalError as error:
                if time.monotonic() >= deadline:
                    raise CommandError(
                        f"database {database!r} not reachable after {timeout:g}s: {error}"
                    ) from error
                self.stderr.write(f"waiting for database {database!r}: {str(error).strip()}")
                connection.close()
                time.sleep(1)
            else:
                self.stdout.write(f"database {database!r} is up")
                return
