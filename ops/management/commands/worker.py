"""`python manage.py worker`: run the background tasks (ops/worker.py says what it adds to
django-tasks-db's `db_worker`, whose options it takes)."""

import os
from pathlib import Path

from django.utils.autoreload import DJANGO_AUTORELOAD_ENV, run_with_reloader
from django_tasks_db.management.commands import db_worker

from ops.worker import LOST_AFTER, TICK_EVERY, Worker, new_worker_id


class Command(db_worker.Command):
    help = (
        "Run the background tasks. SIGTERM: the running task finishes, then the worker exits. "
        "Reloads on code changes when DEBUG is on."
    )

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument(
            "--heartbeat",
            type=Path,
            help=f"a file touched every {TICK_EVERY:g} s while the worker reaches the "
            "database (for a container healthcheck)",
        )
        parser.add_argument(
            "--lost-after",
            type=float,
            default=LOST_AFTER,
            help="seconds after which a task whose worker died is marked failed "
            f"({LOST_AFTER:g}; longer than a database restart takes)",
        )
        # An id that names the host and process, in the form the sweep recognises.
        parser.set_defaults(worker_id=None)

    def handle(
        self, *, verbosity, queue_name, exclude_queues, reload, heartbeat, lost_after, **options
    ):
        self.configure_logging(verbosity)
        queues = queue_name.split(",")
        worker = Worker(
            queue_names=queues,
            excluded_queue_names=exclude_queues.split(",") if exclude_queues else [],
            interval=options["interval"],
            batch=options["batch"],
            backend_name=options["backend_name"],
            startup_delay=options["startup_delay"],
            max_tasks=options["max_tasks"],
            worker_id=options["worker_id"] or new_worker_id(),
            heartbeat=heartbeat,
            lost_after=lost_after,
        )
        if reload and not options["batch"]:
            # The reloader's child runs the worker, and takes the signals.
            if os.environ.get(DJANGO_AUTORELOAD_ENV) == "true":
                worker.configure_signals()
            run_with_reloader(worker.run)
        else:
            worker.configure_signals()
            worker.run()
