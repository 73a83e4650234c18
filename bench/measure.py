"""Measuring: the product's stack and the ceilings started side by side, then every scenario
under wrk in rounds taken in turn, with the share of the CPU other processes took."""

import os
import re
import tempfile
from collections.abc import Callable
from functools import partial
from pathlib import Path

import requests

from bench import cpu, report, steady, workers, wrk
from bench.scenarios import Scenario, scenarios, selected
from harness import stack as stack_module

# config.settings plus the signed-in empty page (bench/product/).
PRODUCT_SETTINGS = "bench.product.settings"

# What a browser sends, for every scenario alike.
BROWSER = {"Accept-Encoding": "gzip", "Accept": "text/html,*/*;q=0.8"}


def measure(
    todo: list[Scenario], *, seconds: float, warmup: float, rounds: int, product: int | None = None
) -> tuple[dict[str, dict], dict]:
    """Every scenario `rounds` times in turn, each for its share of `seconds`, the first time
    after a warm-up. Returns the scenarios' results, and the memory of the `product`'s
    gunicorn (the master's pid) at rest and after the last round of its last scenario."""
    per_round = max(1, round(seconds / rounds))
    for scenario in todo:
        headers = {**BROWSER, **scenario.headers}
        problem = scenario.check(requests.get(scenario.url, headers=headers, timeout=10))
        if problem:
            raise RuntimeError(f"{scenario.name}: {scenario.url} is not right: {problem}")
    memory = {"at_rest": workers.memory(product)} if product else {}
    loads: dict[str, list[wrk.Load]] = {scenario.name: [] for scenario in todo}
    foreign: dict[str, list[float]] = {scenario.name: [] for scenario in todo}
    splits: dict[str, list[dict]] = {scenario.name: [] for scenario in todo}
    for number in range(1, rounds + 1):
        for scenario in todo:
            headers = {**BROWSER, **scenario.headers}
            if number == 1 and warmup > 0:
                wrk.run(scenario.url, seconds=warmup, headers=headers)
            load, others, used = observed(
                scenario,
                partial(
                    wrk.run,
                    scenario.url,
                    seconds=per_round,
                    headers=headers,
                    expected_status=scenario.check.status,
                ),
            )
            loads[scenario.name].append(load)
            foreign[scenario.name].append(others)
            split = ""
            if used is not None:
                splits[scenario.name].append(used)
                split = f"workers {workers.describe_shares(used['shares'])}  "
            if product and scenario.app == product:
                memory["after_load"] = {**workers.memory(product), "after": scenario.name}
            print(
                f"  round {number}  {scenario.name:<18} {load.rps:>9,.0f} req/s  "
                f"p50 {load.p50_ms:6.2f} ms  p99 {load.p99_ms:7.2f} ms  errors {load.errors}  "
                f"{split}(others' CPU {others:.0%})",
                flush=True,
            )
    fixed = at_half_rate(todo, loads, seconds=seconds)
    results = {
        scenario.name: {
            **report.scenario_result(
                loads[scenario.name],
                ceiling=loads.get(scenario.ceiling or ""),
                target=scenario.target,
                foreign=foreign[scenario.name],
                workers=splits[scenario.name],
            ),
            "ceiling": scenario.ceiling,
            "path": re.sub(r"^http://[^/]+", "", scenario.url),
            **({"fixed_rate": fixed[scenario.name]} if scenario.name in fixed else {}),
        }
        for scenario in todo
    }
    return results, memory


def observed[T](scenario: Scenario, load: Callable[[], T]) -> tuple[T, float, dict | None]:
    """`load()`'s result, with the share of the CPU that other processes took meanwhile and,
    for a scenario with an app, how its workers split their CPU (workers.split)."""
    before = cpu.snapshot()
    ticks = workers.worker_ticks(scenario.app) if scenario.app else {}
    result = load()
    after = cpu.snapshot()
    used = None
    if scenario.app:
        used = workers.split(ticks, workers.worker_ticks(scenario.app), after.at - before.at)
    return result, cpu.foreign_share(before, after), used


def at_half_rate(
    todo: list[Scenario], loads: dict[str, list[wrk.Load]], *, seconds: float
) -> dict[str, dict]:
    """The app scenarios again, at half the rate of their best round, open loop: the latency a
    user sees on a busy but not saturated server. Long enough for about a thousand requests
    (a p99 with ten behind it) where that fits in `seconds`, and never shorter than half."""
    fixed = {}
    chosen = [scenario for scenario in todo if scenario.fixed_rate]
    if chosen:
        print("At half the best round's rate, open loop:", flush=True)
    for scenario in chosen:
        rate = report.best(loads[scenario.name]).rps / 2
        if rate < 1:
            continue
        duration = round(max(seconds / 2, min(1000 / rate, seconds)), 1)
        measured, others, used = observed(
            scenario,
            partial(
                steady.run,
                scenario.url,
                rate=rate,
                seconds=duration,
                headers={**BROWSER, **scenario.headers},
                expected_status=scenario.check.status,
            ),
        )
        entry = {**steady.result(measured), "foreign_cpu": others}
        if used is not None:
            entry["workers"] = used
        target = scenario.fixed_rate_target
        if target is not None:
            entry["target"] = target.describe()
            # A generator that fell behind measured itself: no verdict on the server.
            entry["target_met"] = (
                target.met(p99_ms=entry["p99_ms"], errors=entry["errors"])
                if measured.generator_kept_up
                else None
            )
        fixed[scenario.name] = entry
        print(f"  {scenario.name:<18} {report.describe_fixed_rate(entry)}", flush=True)
    return fixed


def load_scenarios(args, overrides: dict[str, str]) -> tuple[dict[str, dict], dict]:
    from bench.servers import bare_nginx, hello_ceiling

    if not os.environ.get("DJANGO_DB_HOST"):
        raise SystemExit(
            "No PostgreSQL: run `make bench`, or `python -m harness.postgres -- python -m bench`"
        )
    if args.nginx_site:
        stack_module.NGINX_SITE = args.nginx_site.resolve()
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        workdir = Path(tmp)
        with stack_module.production_like_stack(
            workdir / "product", **{"DJANGO_SETTINGS_MODULE": PRODUCT_SETTINGS, **overrides}
        ) as stack:
            static_root = Path(stack.env["DJANGO_STATIC_ROOT"])
            with (
                hello_ceiling(
                    workdir / "hello", static_root=static_root, overrides=overrides
                ) as hello,
                bare_nginx(
                    workdir / "bare", static_root=static_root, media_root=stack.media
                ) as bare,
            ):
                todo = selected(scenarios(stack, hello, bare), args.only)
                print(
                    f"Load: wrk, {wrk.THREADS} threads, {wrk.CONNECTIONS} connections; "
                    f"per scenario {args.warmup:g} s warm-up, then {args.rounds} rounds "
                    f"of {max(1, round(args.seconds / args.rounds))} s (the best one's rate "
                    "counts, latencies from all); "
                    "gunicorn's worker recycling (max_requests) off",
                    flush=True,
                )
                return measure(
                    todo,
                    seconds=args.seconds,
                    warmup=args.warmup,
                    rounds=args.rounds,
                    product=stack.gunicorn_pid,
                )
