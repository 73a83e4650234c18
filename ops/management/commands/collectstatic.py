import fcntl
from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles.management.commands.collectstatic import (
    Command as CollectStaticCommand,
)


class Command(CollectStaticCommand):
    """Django's collectstatic, one run at a time per STATIC_ROOT.

    Two migrate jobs started together share the static volume; without the lock one could
    delete a file while the other hashes it. An flock works across containers that mount the
    same volume, and the kernel releases it if the process dies.
    """

    def handle(self, **options):
        static_root = Path(settings.STATIC_ROOT)
        static_root.mkdir(parents=True, exist_ok=True)
        with (static_root / ".collectstatic.lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            return super().handle(**options)
