"""The worker (`manage.py worker`, ops/worker.py) as real processes on PostgreSQL: what it
does with a task, with SIGTERM, with SIGKILL, and beside another worker. Every figure is
printed (-s, or the CI log)."""

import json
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connection
from django.tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from harness.project import ROOT, clean_environ, manage
from harness.waiting import wait_until
from ops.tasks import probe

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

STARTED = re.compile(r"Task id=(\S+) path=ops\.tasks\.probe state=RUNNING")


@pytest.fixture
def database_queue(settings):
    """Tasks enqueued here wait in the test database for the workers."""
    assert connection.vendor == "postgresql", "run it on PostgreSQL: make test-postgres"
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


class Workers:
    """`manage.py worker` processes on the test database, each logging to a file of its own;
    killed at the end of the test, whatever happened."""

    def __init__(self, logs: Path):
        self.logs = logs
        self.processes: list[subprocess.Popen] = []
        database = connection.settings_dict
        self.env = clean_environ(
            DJANGO_SECRET_KEY="k" * 50,
            DJANGO_DB_HOST=database["HOST"],
            DJANGO_DB_PORT=str(database["PORT"]),
            POSTGRES_USER=database["USER"],
            POSTGRES_PASSWORD=database["PASSWORD"],
            POSTGRES_DB=database["NAME"],
            DJANGO_LOG_LEVEL="INFO",
        )

    def start(self, *args: str) -> subprocess.Popen:
        log = self.logs / f"worker-{len(self.processes)}.log"
        with log.open("w") as out:
            process = subprocess.Popen(
                [sys.executable, "manage.py", "worker", "--interval", "0.1", *args],
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        process.log = log
        self.processes.append(process)
        wait_until(
            lambda: "Starting worker" in log.read_text() or process.poll() is not None,
            timeout=30,
            message="the worker did not start",
        )
        assert process.poll() is None, log.read_text()
        return process

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.kill()
                process.wait()


@pytest.fixture
def workers(database_queue, tmp_path) -> Iterator[Workers]:
    running = Workers(tmp_path)
    yield running
    running.stop_all()


def result_of(task_id: str) -> DBTaskResult:
    return DBTaskResult.objects.get(id=task_id)


def running_on(task_id: str) -> bool:
    return result_of(task_id).status == TaskResultStatus.RUNNING


def test_two_workers_never_run_one_task_twice(workers, capsys):
    """100 tasks, two workers: each task started once, by one of them, and finished."""
    first, second = workers.start(), workers.start()
    started = time.monotonic()
    ids = [probe.enqueue(seconds=0.02).id for _ in range(100)]
    wait_until(
        lambda: DBTaskResult.objects.filter(id__in=ids).finished().count() == 100,
        timeout=120,
        interval=0.2,
        message="the 100 tasks did not all finish",
    )
    elapsed = time.monotonic() - started
    starts = Counter()
    per_worker = []
    for process in (first, second):
        found = STARTED.findall(process.log.read_text())
        starts.update(found)
        per_worker.append(len(found))
    results = DBTaskResult.objects.filter(id__in=ids)
    with capsys.disabled():
        print(f"\n  [worker] 100 tasks, two workers: {per_worker} started by each, {elapsed:.1f}s")
    assert {str(result.id) for result in results.successful()} == set(ids)
    assert set(starts) == set(ids)
    assert set(starts.values()) == {1}, "a task started twice"
    assert all(len(result.worker_ids) == 1 for result in results)
    assert all(per_worker), f"one worker took every task: {per_worker}"


def test_sigterm_lets_the_running_task_finish_then_the_worker_exits(workers, tmp_path, capsys):
    """The heartbeat file shows the worker alive; SIGTERM mid-task: the task finishes, the
    worker exits 0."""
    heartbeat = tmp_path / "alive"
    worker = workers.start("--heartbeat", str(heartbeat))
    wait_until(heartbeat.exists, timeout=20, message="no heartbeat file")
    first = heartbeat.stat().st_mtime
    wait_until(
        lambda: heartbeat.stat().st_mtime > first,
        timeout=10,
        message="the heartbeat file is not touched again",
    )
    result = probe.enqueue(seconds=3)
    wait_until(lambda: running_on(result.id), timeout=20, message="the task did not start")
    signalled = time.monotonic()
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(timeout=30) == 0
    stopped = time.monotonic() - signalled
    result.refresh()
    with capsys.disabled():
        print(
            f"\n  [worker] SIGTERM during a 3 s task: exited 0 after {stopped:.1f}s, "
            f"the task {result.status}"
        )
    assert result.status == TaskResultStatus.SUCCESSFUL
    assert "shutting down gracefully" in worker.log.read_text()


def test_a_task_whose_worker_is_killed_is_marked_failed_by_another(workers, capsys):
    """SIGKILL mid-task: the task is not left RUNNING forever; another worker marks it FAILED
    (WorkerLost), once the dead worker's lock has stayed free for --lost-after seconds."""
    victim = workers.start("--lost-after", "2")
    result = probe.enqueue(seconds=60)
    wait_until(lambda: running_on(result.id), timeout=20, message="the task did not start")
    survivor = workers.start("--lost-after", "2")
    victim.kill()
    killed = time.monotonic()
    wait_until(
        lambda: result_of(result.id).status == TaskResultStatus.FAILED,
        timeout=30,
        message="the killed worker's task stayed RUNNING",
    )
    noticed = time.monotonic() - killed
    lost = result_of(result.id)
    with capsys.disabled():
        print(
            f"\n  [worker] SIGKILL mid-task: marked FAILED by the other worker {noticed:.1f}s "
            "later (--lost-after 2)"
        )
    assert lost.exception_class_path == "ops.worker.WorkerLost"
    assert "stopped while running this task; not retried" in lost.traceback
    assert "state=FAILED: its worker" in survivor.log.read_text()
    # A task that is running on a live worker is never taken for lost.
    alive = probe.enqueue(seconds=5)
    wait_until(lambda: running_on(alive.id), timeout=20, message="the task did not start")
    time.sleep(3.5)  # past --lost-after and a look at the running tasks
    assert running_on(alive.id)


def test_probe_worker_reports_through_a_real_worker(workers):
    workers.start()
    report = manage("probe_worker", "--timeout", "30", env=workers.env)
    found = json.loads(report.stdout.strip().splitlines()[-1])
    assert found["status"] == "SUCCESSFUL"
    assert found["wait_seconds"] < 30
