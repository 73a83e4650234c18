"""`make bench`: the product under load next to its ceilings, then build and start-up times.

    python -m harness.postgres -- python -m bench [--seconds 12] [--note TEXT]

Every scenario gets the same wrk settings (bench/wrk.py) after a warm-up, in rounds taken in
turn; the best round's rate counts, latencies come from all rounds, and the share of the CPU
that other processes took is reported beside it (bench/cpu.py). The app scenarios then run at
half their best rate, open loop (bench/steady.py). Each figure is divided by a ceiling measured
in the same run on the same machine, so that the ratios travel between machines where the raw
numbers do not. Writes bench/results/latest.json and appends the run to
bench/results/history.jsonl.
For tuning experiments: --set NAME=VALUE adds to the environment of the app (GUNICORN_* and
WEB_CONCURRENCY also to the hello ceiling's), --nginx-site a variant of
docker/nginx/default.conf for both.
"""

import argparse
import datetime
import os
import shutil
import sys
from pathlib import Path

from bench import report, wrk
from bench.machine import git, gunicorn_settings, machine
from bench.measure import load_scenarios
from harness.binaries import find_postgres_bin
from harness.project import ROOT

NO_RECYCLING = "--max-requests=0"


def options(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--seconds",
        type=float,
        default=float(os.environ.get("BENCH_SECONDS", 12)),
        help="measured load per scenario, all rounds together (env BENCH_SECONDS, default 12)",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=int(os.environ.get("BENCH_ROUNDS", 3)),
        help="the seconds are split into this many rounds, scenarios in turn; the best round's "
        "rate counts, latencies over all rounds (env BENCH_ROUNDS, default 3)",
    )
    parser.add_argument(
        "--warmup",
        type=float,
        default=float(os.environ.get("BENCH_WARMUP", 2)),
        help="warm-up per scenario, not measured (env BENCH_WARMUP, default 2)",
    )
    parser.add_argument("--note", default=os.environ.get("BENCH_NOTE", ""), help="what changed")
    parser.add_argument("--only", default="", help="comma-separated scenario names")
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="environment for the app under test (GUNICORN_* and WEB_CONCURRENCY also for "
        "the hello ceiling)",
    )
    parser.add_argument("--nginx-site", type=Path, help="a variant of docker/nginx/default.conf")
    parser.add_argument(
        "--no-docker",
        action="store_true",
        default=os.environ.get("BENCH_DOCKER", "1") == "0",
        help="skip the build and start-up figures (env BENCH_DOCKER=0)",
    )
    parser.add_argument("--no-load", action="store_true", help="skip the load scenarios")
    parser.add_argument(
        "--no-tasks", action="store_true", help="skip the tasks through one worker (bench/tasks.py)"
    )
    parser.add_argument("--no-record", action="store_true", help="write no results files")
    return parser.parse_args(argv)


def missing_tools() -> list[str]:
    """What the load scenarios need on this machine and it lacks (Debian's package names)."""
    found = {
        "wrk": shutil.which("wrk"),
        "nginx": shutil.which("nginx", path=f"{os.environ.get('PATH', '')}:/usr/sbin"),
        "postgresql": find_postgres_bin("initdb"),
    }
    return [package for package, path in found.items() if not path]


def main(argv: list[str]) -> int:
    args = options(argv)
    server = gunicorn_settings()
    # The stack's tests run two workers; the bench runs as many as production would.
    overrides = {
        "WEB_CONCURRENCY": str(server["workers"]),
        **dict(item.split("=", 1) for item in args.overrides),
    }
    # A worker recycled by max_requests in the middle of a round would measure its own
    # restart: recycling is off for the app and the hello ceiling (gunicorn reads
    # GUNICORN_CMD_ARGS after config/gunicorn.py; arguments given with --set come after).
    overrides["GUNICORN_CMD_ARGS"] = (
        f"{NO_RECYCLING} {overrides.get('GUNICORN_CMD_ARGS', '')}".strip()
    )
    run = {
        "timestamp": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "commit": git("rev-parse", "HEAD"),
        "dirty": bool(git("status", "--porcelain", "--untracked-files=no")),
        "note": args.note,
        "machine": machine(),
        "load_settings": {
            "tool": "wrk",
            "threads": wrk.THREADS,
            "connections": wrk.CONNECTIONS,
            "seconds": args.seconds,
            "rounds": args.rounds,
            "warmup_seconds": args.warmup,
            "gunicorn": server,
            "worker_recycling": f"off ({NO_RECYCLING})",
            "overrides": overrides,
            "nginx_site": str(args.nginx_site) if args.nginx_site else None,
        },
        "scenarios": {},
        "tasks": {"skipped": "--no-tasks"},
        "build": {"skipped": "--no-docker"},
    }
    if not args.no_load:
        if missing := missing_tools():
            raise SystemExit(
                f"make bench needs {', '.join(missing)} for its load scenarios: "
                f"apt-get install {' '.join(missing)} (or `make bench ARGS=--no-load` for the "
                "build and start-up figures alone)"
            )
        run["scenarios"], run["memory"] = load_scenarios(args, overrides)
        shares = [
            share
            for entry in run["scenarios"].values()
            for share in entry.get("rounds_foreign_cpu", [])
        ]
        if shares:
            run["machine"]["others_cpu_mean"] = round(sum(shares) / len(shares), 3)
            run["machine"]["others_cpu_max"] = max(shares)
    if not args.no_tasks:
        import tempfile

        from bench.tasks import measure_tasks

        with tempfile.TemporaryDirectory(prefix="bench-tasks-") as workdir:
            run["tasks"] = measure_tasks(Path(workdir))
    run["machine"]["loadavg_at_end_of_load"] = [round(x, 2) for x in os.getloadavg()]
    if not args.no_docker:
        from bench.build import build_and_start

        run["build"] = build_and_start()

    print()
    if run["scenarios"]:
        print(report.load_table(run["scenarios"]))
        if fixed := report.fixed_rate_table(run["scenarios"]):
            print()
            print(fixed)
        print()
        print(report.restarts_line(run["scenarios"]))
        if overhead := report.overhead_line(run["scenarios"]):
            print(overhead)
        for line in report.memory_lines(run.get("memory", {})):
            print(line)
        if "others_cpu_mean" in run["machine"]:
            print(
                f"Other processes took {run['machine']['others_cpu_mean']:.0%} of the CPU on "
                f"average during the rounds (at most {run['machine']['others_cpu_max']:.0%}); "
                "on a busy machine every figure is lower."
            )
        print()
    if "curve" in run["tasks"]:
        from bench.tasks import tasks_table

        print(tasks_table(run["tasks"]))
        print()
    print(report.build_table(run["build"]))
    if not args.no_record:
        path = report.write(run)
        print(f"\nWritten: {path.relative_to(ROOT)} (and appended to history.jsonl)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
