"""`python manage.py probe_worker`: is a worker taking tasks, and how soon? Enqueues the
`probe` task and waits for its result: a check for after a deploy."""

import json
import time

from django.core.management.base import BaseCommand, CommandError

from ops.tasks import probe


class Command(BaseCommand):
    help = "Enqueue a probe task and wait until a worker has run it; print what it reported."

    def add_arguments(self, parser):
        parser.add_argument("--timeout", type=float, default=60, help="seconds to wait (60)")
        parser.add_argument(
            "--seconds", type=float, default=0, help="how long the task itself takes (0)"
        )
        parser.add_argument(
            "--no-wait", action="store_true", help="print the task's id and return at once"
        )

    def handle(self, *args, timeout, seconds, no_wait, **options):
        result = probe.enqueue(seconds=seconds)
        if no_wait:
            self.stdout.write(json.dumps({"id": result.id, "status": result.status}))
            return
        deadline = time.monotonic() + timeout
        while not result.is_finished:
            if time.monotonic() > deadline:
                raise CommandError(
                    f"no worker finished the probe {result.id} within {timeout:g}s "
                    f"(status {result.status}): is the worker running?"
                )
            time.sleep(0.2)
            result.refresh()
        if result.errors:
            raise CommandError(f"the probe failed: {result.errors[-1].traceback}")
        latency = (result.started_at - result.enqueued_at).total_seconds()
        report = {
            "id": result.id,
            "status": result.status,
            **result.return_value,
            "wait_seconds": round(latency, 3),
        }
        self.stdout.write(json.dumps(report))
