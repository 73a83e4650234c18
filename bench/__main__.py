"""`make bench`: the product under load next to its ceilings, then build and start-up times.

    python -m tests.support.postgres -- python -m bench [--seconds 12] [--note TEXT]

Every scenario gets the same wrk settings (bench/wrk.py) after a warm-up, in rounds taken in
turn; the best round of each counts, and the share of the CPU that other processes took during
it is reported beside it (bench/cpu.py). Each figure is divided by a ceiling measured in the
same run on the same machine, so that the ratios travel between machines where the raw numbers
do not. Writes bench/results/latest.json and appends the run to bench/results/history.jsonl.
For tuning experiments: --set NAME=VALUE adds to the environment of the app (GUNICORN_* and
WEB_CONCURRENCY also to the hello ceiling's), --nginx-site a variant of
docker/nginx/default.conf for both.
"""

import argparse
import datetime
import os
import platform
import re
import secrets
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import requests

from bench import cpu, report, seed, wrk
from bench.report import Target
from tests.support import stack as stack_module
from tests.support.binaries import find_postgres_bin
from tests.support.project import ROOT, manage

# What a browser sends, for every scenario alike.
BROWSER = {"Accept-Encoding": "gzip", "Accept": "text/html,*/*;q=0.8"}
TODO_ITEMS = 50

STATIC_BARE, HELLO_DIRECT, HELLO = "nginx-static-bare", "hello-direct", "hello"


@dataclass(frozen=True)
class Scenario:
    name: str
    url: str
    ceiling: str | None  # the scenario whose rps this one is divided by
    target: Target | None
    check: Callable[[requests.Response], str | None]  # what is wrong with a response, if anything
    headers: dict[str, str] = field(default_factory=dict)


def expect(status: int = 200, *, contains: str = ""):
    """A check that the page under load is the right one (a redirect to the sign-in page, say,
    would be fast and wrong)."""

    def check(response: requests.Response) -> str | None:
        if response.status_code != status:
            return f"status {response.status_code}, expected {status}"
        if contains and contains not in response.text:
            return f"no {contains!r} in the response"
        return None

    return check


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
        help="the seconds are split into this many rounds, scenarios in turn; the best round "
        "of each counts (env BENCH_ROUNDS, default 3)",
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
    parser.add_argument("--no-record", action="store_true", help="write no results files")
    return parser.parse_args(argv)


def git(*args: str) -> str:
    result = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)
    return result.stdout.strip()


def version(command: list[str], pattern: str) -> str:
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=10, check=False)
    except OSError:
        return "missing"
    match = re.search(pattern, result.stdout + result.stderr)
    return match[1] if match else "unknown"


def machine() -> dict:
    return {
        "cpus": os.cpu_count(),
        "cpus_usable": os.process_cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "nginx": version(["nginx", "-v"], r"nginx/(\S+)"),
        "wrk": version(["wrk", "--version"], r"wrk (\S+)"),
        "postgres": version(
            [find_postgres_bin("postgres") or "postgres", "--version"], r"(\d+\.\d+)"
        ),
        "loadavg_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def sign_in(url: str, username: str, password: str) -> dict[str, str]:
    """Signs in through nginx as a browser does; returns the session's cookies."""
    session = requests.Session()
    form = session.get(f"{url}/accounts/login/", timeout=10)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text)
    if not token:
        raise RuntimeError(f"no sign-in form at {url}/accounts/login/ ({form.status_code})")
    response = session.post(
        f"{url}/accounts/login/",
        data={"csrfmiddlewaretoken": token[1], "username": username, "password": password},
        headers={"Origin": url, "Referer": f"{url}/accounts/login/"},
        timeout=10,
    )
    if "sessionid" not in session.cookies:
        raise RuntimeError(f"sign-in failed ({response.status_code})")
    return session.cookies.get_dict()


def todo_scenarios(stack) -> list[Scenario] | str:
    """The signed-in pages of the example app, or why they cannot run."""
    username, password = "bench", secrets.token_urlsafe(18)
    seeded = manage(
        "shell",
        "--no-imports",
        "-c",
        "from bench.seed import main; main()",
        env={
            **stack.env,
            "BENCH_USERNAME": username,
            "BENCH_PASSWORD": password,
            "BENCH_ITEMS": str(TODO_ITEMS),
        },
        check=False,
    )
    if seeded.returncode != 0:
        return f"could not create the to-do data: {seeded.stderr.strip().splitlines()[-1:]}"
    list_id = int(re.search(r"^list (\d+)$", seeded.stdout, re.M)[1])
    cookies = sign_in(stack.url, username, password)
    cookie = {"Cookie": "; ".join(f"{name}={value}" for name, value in cookies.items())}
    first_item = f"{seed.VERBS[0]} {seed.THINGS[0]}"
    return [
        Scenario(
            "todo-list",
            f"{stack.url}/lists/{list_id}/",
            HELLO,
            Target(min_ratio=0.30, max_p99_ms=50, max_errors=0),
            expect(contains=first_item),
            cookie,
        ),
        Scenario(
            "todo-board",
            f"{stack.url}/lists/{list_id}/board/",
            HELLO,
            None,
            expect(contains=first_item),
            cookie,
        ),
    ]


def scenarios(stack, hello, bare: str) -> list[Scenario]:
    login = requests.get(f"{stack.url}/admin/login/", timeout=10).text
    css = re.search(r'href="(/static/admin/css/base\.[0-9a-f]{12}\.css)"', login)
    if not css:
        raise RuntimeError("the admin login page links no hashed base.css")
    asset = css[1]
    found = [
        Scenario(STATIC_BARE, f"{bare}{asset}", None, None, expect()),
        Scenario(HELLO_DIRECT, f"{hello.direct_url}/", None, None, expect(contains="Hello")),
        Scenario(
            HELLO, f"{hello.url}/", HELLO_DIRECT, Target(min_ratio=0.93), expect(contains="Hello")
        ),
        Scenario("static", f"{stack.url}{asset}", STATIC_BARE, Target(min_ratio=0.9), expect()),
        Scenario(
            "health",
            f"{stack.url}/health/",
            HELLO,
            Target(min_ratio=0.6),
            expect(contains='"database": "ok"'),
        ),
        Scenario(
            "admin-login",
            f"{stack.url}/admin/login/",
            HELLO,
            None,
            expect(contains="Django administration"),
        ),
    ]
    todo = todo_scenarios(stack)
    if isinstance(todo, str):
        print(f"to-do scenarios SKIPPED: {todo}", flush=True)
    else:
        found += todo
    return found


def selected(found: list[Scenario], only: str) -> list[Scenario]:
    """The scenarios named in `only` (all when empty) and the ceilings they are divided by."""
    if not only:
        return found
    wanted = set(only.split(","))
    by_name = {scenario.name: scenario for scenario in found}
    unknown = wanted - by_name.keys()
    if unknown:
        raise SystemExit(
            f"unknown scenarios: {', '.join(sorted(unknown))}; known: {', '.join(by_name)}"
        )
    changed = True
    while changed:
        ceilings = {by_name[name].ceiling for name in wanted} - {None}
        changed = not ceilings <= wanted
        wanted |= ceilings
    return [scenario for scenario in found if scenario.name in wanted]


def measure(todo: list[Scenario], *, seconds: float, warmup: float, rounds: int) -> dict[str, dict]:
    """Every scenario `rounds` times in turn, each for its share of `seconds`, the first time
    after a warm-up."""
    per_round = max(1, round(seconds / rounds))
    for scenario in todo:
        headers = {**BROWSER, **scenario.headers}
        problem = scenario.check(requests.get(scenario.url, headers=headers, timeout=10))
        if problem:
            raise RuntimeError(f"{scenario.name}: {scenario.url} is not right: {problem}")
    loads: dict[str, list[wrk.Load]] = {scenario.name: [] for scenario in todo}
    foreign: dict[str, list[float]] = {scenario.name: [] for scenario in todo}
    for number in range(1, rounds + 1):
        for scenario in todo:
            headers = {**BROWSER, **scenario.headers}
            if number == 1 and warmup > 0:
                wrk.run(scenario.url, seconds=warmup, headers=headers)
            before = cpu.snapshot()
            load = wrk.run(scenario.url, seconds=per_round, headers=headers)
            others = cpu.foreign_share(before, cpu.snapshot())
            loads[scenario.name].append(load)
            foreign[scenario.name].append(others)
            print(
                f"  round {number}  {scenario.name:<18} {load.rps:>9,.0f} req/s  "
                f"p50 {load.p50_ms:6.2f} ms  p99 {load.p99_ms:7.2f} ms  errors {load.errors}  "
                f"(others' CPU {others:.0%})",
                flush=True,
            )
    return {
        scenario.name: {
            **report.scenario_result(
                loads[scenario.name],
                ceiling=loads.get(scenario.ceiling or ""),
                target=scenario.target,
                foreign=foreign[scenario.name],
            ),
            "ceiling": scenario.ceiling,
            "path": re.sub(r"^http://[^/]+", "", scenario.url),
        }
        for scenario in todo
    }


def load_scenarios(args: argparse.Namespace, overrides: dict[str, str]) -> dict[str, dict]:
    from bench.servers import bare_nginx, hello_ceiling

    if not os.environ.get("DJANGO_DB_HOST"):
        raise SystemExit(
            "No PostgreSQL: run `make bench`, or "
            "`python -m tests.support.postgres -- python -m bench`"
        )
    if args.nginx_site:
        stack_module.NGINX_SITE = args.nginx_site.resolve()
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        workdir = Path(tmp)
        with stack_module.production_like_stack(workdir / "product", **overrides) as stack:
            static_root = Path(stack.env["DJANGO_STATIC_ROOT"])
            with (
                hello_ceiling(
                    workdir / "hello", static_root=static_root, overrides=overrides
                ) as hello,
                bare_nginx(workdir / "bare", static_root=static_root) as bare,
            ):
                todo = selected(scenarios(stack, hello, bare), args.only)
                print(
                    f"Load: wrk, {wrk.THREADS} threads, {wrk.CONNECTIONS} connections; "
                    f"per scenario {args.warmup:g} s warm-up, then {args.rounds} rounds "
                    f"of {max(1, round(args.seconds / args.rounds))} s (the best one counts)",
                    flush=True,
                )
                return measure(todo, seconds=args.seconds, warmup=args.warmup, rounds=args.rounds)


def gunicorn_settings() -> dict:
    """What config/gunicorn.py gives production on this machine."""
    from config import gunicorn

    return {
        "worker_class": gunicorn.worker_class,
        "workers": gunicorn.workers,
        "threads": gunicorn.threads,
    }


def main(argv: list[str]) -> int:
    args = options(argv)
    server = gunicorn_settings()
    # The stack's tests run two workers; the bench runs as many as production would.
    overrides = {
        "WEB_CONCURRENCY": str(server["workers"]),
        **dict(item.split("=", 1) for item in args.overrides),
    }
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
            "overrides": overrides,
            "nginx_site": str(args.nginx_site) if args.nginx_site else None,
        },
        "scenarios": {},
        "build": {"skipped": "--no-docker"},
    }
    if not args.no_load:
        run["scenarios"] = load_scenarios(args, overrides)
        shares = [
            share
            for entry in run["scenarios"].values()
            for share in entry.get("rounds_foreign_cpu", [])
        ]
        if shares:
            run["machine"]["others_cpu_mean"] = round(sum(shares) / len(shares), 3)
            run["machine"]["others_cpu_max"] = max(shares)
    run["machine"]["loadavg_at_end_of_load"] = [round(x, 2) for x in os.getloadavg()]
    if not args.no_docker:
        from bench.build import build_and_start

        run["build"] = build_and_start()

    print()
    if run["scenarios"]:
        print(report.load_table(run["scenarios"]))
        if "others_cpu_mean" in run["machine"]:
            print(
                f"Other processes took {run['machine']['others_cpu_mean']:.0%} of the CPU on "
                f"average during the rounds (at most {run['machine']['others_cpu_max']:.0%}); "
                "on a busy machine every figure is lower."
            )
        print()
    print(report.build_table(run["build"]))
    if not args.no_record:
        path = report.write(run)
        print(f"\nWritten: {path.relative_to(ROOT)} (and appended to history.jsonl)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
