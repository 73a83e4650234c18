"""Tasks through one worker: how many a second it completes against the rate they are
enqueued at, and how long a task waits from enqueue to start at a fixed, moderate rate.

The worker is the project's own command with its production settings (`manage.py worker`,
polling every second when idle), on a fresh database of the throwaway cluster; the tasks are
the project's probe (a task that does nothing), enqueued by the app's own code at a paced
rate from another process."""

import json
import secrets
import subprocess
import sys
import time
from pathlib import Path

from harness.project import ROOT, clean_environ, manage, run_django_script
from harness.stack import fresh_database
from harness.waiting import wait_until

# Enqueue rates (tasks a second) for the throughput curve, each held for SECONDS; then the
# latency at a moderate rate.
RATES = (10, 50, 100, 200, 400)
SECONDS = 4.0
MODERATE_RATE = 20
MODERATE_SECONDS = 10.0


def percentile(values: list[float], share: float) -> float:
    return values[min(len(values) - 1, int(len(values) * share))]


def run_batch(env: dict[str, str], *, rate: float, seconds: float) -> dict:
    count = max(1, round(rate * seconds))
    enqueued = run_django_script(
        "enqueue_probes",
        env={**env, "HARNESS_COUNT": str(count), "HARNESS_RATE": str(rate)},
        timeout=seconds * 4 + 60,
    )
    ids = json.loads(enqueued.stdout.strip().splitlines()[-1])

    def outcome():
        found = json.loads(
            run_django_script("task_outcomes", env={**env, "HARNESS_IDS": ",".join(ids)})
            .stdout.strip()
            .splitlines()[-1]
        )
        return found if found["statuses"].get("SUCCESSFUL", 0) == count else None

    found = wait_until(outcome, timeout=300, interval=1, message=f"{count} tasks not done")
    waits = found["waits"]
    span = found["last_finished"] - found["first_enqueued"]
    busy = found["last_finished"] - found["first_started"]
    return {
        "enqueue_rate": rate,
        "tasks": count,
        "completed_per_s": round(count / span, 1),
        "worker_busy_per_s": round(count / busy, 1) if busy > 0 else None,
        "wait_p50_ms": round(percentile(waits, 0.5) * 1000),
        "wait_p99_ms": round(percentile(waits, 0.99) * 1000),
        "wait_max_ms": round(waits[-1] * 1000),
    }


def measure_tasks(workdir: Path) -> dict:
    with fresh_database("bench_tasks") as database:
        env = clean_environ(
            **database,
            DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
            DJANGO_TASKS_BACKEND="database",
            DJANGO_LOG_LEVEL="WARNING",
        )
        manage("migrate", "--no-input", env=env, timeout=300)
        workdir.mkdir(parents=True, exist_ok=True)
        with (workdir / "worker.log").open("w") as log:
            worker = subprocess.Popen(
                [sys.executable, "manage.py", "worker"],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            time.sleep(2)
            curve = []
            for rate in RATES:
                curve.append(run_batch(env, rate=rate, seconds=SECONDS))
                print(f"  tasks  enqueued {rate:>4}/s -> {curve[-1]}", flush=True)
            moderate = run_batch(env, rate=MODERATE_RATE, seconds=MODERATE_SECONDS)
            print(f"  tasks  latency at {MODERATE_RATE}/s -> {moderate}", flush=True)
            return {
                "worker": "manage.py worker (one process)",
                "curve": curve,
                "moderate": moderate,
            }
        finally:
            worker.terminate()
            worker.wait(timeout=60)


def tasks_table(tasks: dict) -> str:
    lines = [
        "tasks through one worker      enqueued/s  completed/s  worker busy/s  wait p50  p99",
    ]
    for row in [*tasks["curve"], {**tasks["moderate"], "moderate": True}]:
        label = "latency, moderate rate" if row.get("moderate") else "throughput"
        lines.append(
            f"  {label:<27} {row['enqueue_rate']:>10g}  {row['completed_per_s']:>11g}  "
            f"{row['worker_busy_per_s'] or 0:>13g}  {row['wait_p50_ms']:>5} ms  "
            f"{row['wait_p99_ms']:>4} ms"
        )
    return "\n".join(lines)
