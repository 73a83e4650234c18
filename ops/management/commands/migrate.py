from django.core.management.commands.migrate import Command as DjangoMigrateCommand
from django.db import connections

# An arbitrary, fixed key for pg_advisory_lock: "migrate" in ASCII.
MIGRATE_LOCK_KEY = 0x6D696772617465


class Command(DjangoMigrateCommand):
    """Django's migrate, serialised on PostgreSQL with an advisory lock.

    Two migrate runs started at the same moment (two deploys, a scaled-out job) would both
    see the same unapplied migrations and collide. With the lock, one applies them while the
    other waits, then finds nothing left to do. The lock is session-level, so PostgreSQL
    releases it even if this process dies.
    """

    def handle(self, *args, **options):
        connection = connections[options["database"]]
        if connection.vendor != "postgresql":
            return super().handle(*args, **options)
        with connection.cursor() as cursor:
            if options["verbosity"] >= 1:
                self.stdout.write("Waiting for the migration lock...")
            cursor.execute("SELECT pg_advisory_lock(%s)", [MIGRATE_LOCK_KEY])
            try:
                return super().handle(*args, **options)
            finally:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [MIGRATE_LOCK_KEY])
