"""The task worker: django-tasks-db's own worker loop, plus what a worker in a container needs
and that backend leaves out.

- **A task left running by a dead worker is marked failed, never forgotten.** The backend
  marks a task RUNNING when a worker claims it, in its own transaction; a worker killed then
  (SIGKILL, the kernel's OOM killer, a lost node) would leave it RUNNING forever. Here each
  worker holds a PostgreSQL advisory lock named after its id, on a connection of its own, for
  as long as it lives; the database lets go of it the moment the process dies, however it
  dies. Every few seconds each worker looks at the RUNNING tasks: one whose worker's lock has
  stayed free for LOST_AFTER seconds (long enough for a live worker to take its lock back after a
  database restart) is marked FAILED with `WorkerLost`. At most once: such a task is not run
  again behind its author's back (a mail may have gone out); the admin's Task Results show it.
- **The database going away does not end the worker**, nor lose what a task did: the
  outcome of a task that finished during an outage is recorded once the database is back,
  and the loop waits for it too.
- **A heartbeat file** for the container's healthcheck, touched every TICK_EVERY seconds
  while the worker reaches the database and holds its lock.

SIGTERM is the backend's: the running task finishes, then the worker exits (0); a second
SIGTERM ends the task, which is recorded as failed.
"""

import contextlib
import logging
import os
import socket
import threading
import time
from pathlib import Path

from django.db import DatabaseError, InterfaceError, connection, transaction
from django.utils.crypto import get_random_string
from django_tasks_db.management.commands.db_worker import Worker as DatabaseWorker
from django_tasks_db.models import DBTaskResult

logger = logging.getLogger("ops.worker")

# The first key of every worker's advisory lock (the second is its id's hash): "task".
LOCK_NAMESPACE = 0x7461736B
# Ids of workers that hold such a lock; tasks claimed by any other worker are left alone.
ID_PREFIX = "w-"
# Seconds a dead worker's lock must stay free before its task is marked failed (`manage.py
# worker --lost-after`), and between two looks at the running tasks.
LOST_AFTER = 10.0
SWEEP_EVERY = 5.0
# Seconds between two checks of the lock (and touches of the heartbeat file). At rest these
# checks were half of what the worker cost (a query a second, and the database's side of it);
# every 5 s is still twice within LOST_AFTER, so a worker takes its lock back after a database
# restart long before anyone takes its task for lost. compose.yaml's healthcheck allows three.
TICK_EVERY = 5.0
# What a database that went away raises: a broken connection, or one already closed.
DATABASE_GONE = (DatabaseError, InterfaceError)


class WorkerLost(Exception):
    """The worker running the task stopped before the task finished."""


def new_worker_id() -> str:
    """w-<host>-<pid>-<random>: readable in the admin, unique, at most 64 characters."""
    return f"{ID_PREFIX}{socket.gethostname()[:32]}-{os.getpid()}-{get_random_string(8)}"


class Liveness(threading.Thread):
    """Holds the worker's lock, touches the heartbeat file, and marks the tasks of dead
    workers failed; on a database connection of this thread's own."""

    def __init__(self, worker_id: str, heartbeat: Path | None, lost_after: float):
        super().__init__(name="liveness", daemon=True)
        self.worker_id = worker_id
        self.heartbeat = heartbeat
        self.lost_after = lost_after
        self.interval = min(TICK_EVERY, lost_after / 2)
        self.locked = False
        self.next_sweep = 0.0
        # Task id: when its worker's lock was first seen free.
        self.suspects: dict[str, float] = {}

    def run(self) -> None:
        said = ""
        while True:
            try:
                self.tick()
                said = ""
            except DATABASE_GONE as error:
                # Once per problem, not at every tick (no migrations yet, an outage).
                if str(error) != said:
                    said = str(error)
                    logger.warning("worker %s: %s", self.worker_id, error)
                self.locked = False
                with contextlib.suppress(*DATABASE_GONE):
                    connection.close()
            except Exception:
                # Never end the thread: without it the worker turns unhealthy for good.
                logger.exception("worker %s: liveness check failed", self.worker_id)
            time.sleep(self.interval)

    def tick(self) -> None:
        postgresql = connection.vendor == "postgresql"
        if postgresql and not self.locked:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_try_advisory_lock(%s, hashtext(%s))",
                    [LOCK_NAMESPACE, self.worker_id],
                )
                self.locked = cursor.fetchone()[0]
            if not self.locked:
                raise DatabaseError(f"another process holds the lock of {self.worker_id}")
        else:
            connection.ensure_connection()
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
        if self.heartbeat:
            self.heartbeat.touch()
        if postgresql and time.monotonic() >= self.next_sweep:
            self.sweep()
            self.next_sweep = time.monotonic() + min(SWEEP_EVERY, self.lost_after / 2)

    def alive(self, worker_id: str) -> bool:
        """Whether that worker holds its lock: if this transaction can take it, nobody does
        (a transaction-level lock, let go at commit)."""
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_try_advisory_xact_lock(%s, hashtext(%s))",
                [LOCK_NAMESPACE, worker_id],
            )
            return not cursor.fetchone()[0]

    def sweep(self) -> None:
        now = time.monotonic()
        with transaction.atomic():
            # Row locks: two workers sweeping at once take different tasks.
            running = list(
                DBTaskResult.objects.running()
                .select_for_update(skip_locked=True)
                .only("id", "worker_ids", "task_path")
            )
            for result in running:
                owner = result.worker_ids[-1] if result.worker_ids else ""
                if not owner.startswith(ID_PREFIX) or owner == self.worker_id:
                    continue
                if self.alive(owner):
                    self.suspects.pop(str(result.id), None)
                    continue
                first_seen = self.suspects.setdefault(str(result.id), now)
                if now - first_seen < self.lost_after:
                    continue
                result.set_failed(
                    WorkerLost(f"worker {owner} stopped while running this task; not retried")
                )
                self.suspects.pop(str(result.id), None)
                # ERROR: it reaches the logs and, with SENTRY_DSN set, Sentry.
                logger.error(
                    "Task id=%s path=%s state=FAILED: its worker %s stopped while running it",
                    result.id,
                    result.task_path,
                    owner,
                )
        running_ids = {str(result.id) for result in running}
        self.suspects = {key: seen for key, seen in self.suspects.items() if key in running_ids}


def patiently(record):
    """`record` (saving a task's outcome) tried again every second until the database takes
    it: a task that finished during an outage keeps its outcome."""

    def call(*args):
        while True:
            try:
                return record(*args)
            except DATABASE_GONE as error:
                logger.warning("cannot record a task's outcome yet: %s", error)
                with contextlib.suppress(*DATABASE_GONE):
                    connection.close()
                time.sleep(1)

    return call


class Worker(DatabaseWorker):
    """The backend's worker loop, with a Liveness thread beside it."""

    def __init__(self, *, heartbeat: Path | None = None, lost_after: float = LOST_AFTER, **options):
        super().__init__(**options)
        self.heartbeat = heartbeat
        self.lost_after = lost_after

    def run(self) -> None:
        Liveness(self.worker_id, self.heartbeat, self.lost_after).start()
        said = ""
        while True:
            try:
                return super().run()
            except DATABASE_GONE as error:
                # The database went away between tasks, or has no migrations yet: wait for it
                # rather than exit, saying so once, not every second.
                if str(error) != said:
                    said = str(error)
                    logger.warning(
                        "worker %s: %s; trying again every second", self.worker_id, error
                    )
                with contextlib.suppress(*DATABASE_GONE):
                    connection.close()
                time.sleep(1)

    def run_task(self, db_task_result: DBTaskResult) -> None:
        # The backend's own retries of these last a third of a second, not an outage.
        db_task_result.set_successful = patiently(db_task_result.set_successful)
        db_task_result.set_failed = patiently(db_task_result.set_failed)
        super().run_task(db_task_result)
