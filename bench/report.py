"""Ratios, targets, the table on stdout and the results files."""

import json
import statistics
from dataclasses import dataclass
from pathlib import Path

from bench import latency
from bench.workers import describe_shares
from bench.wrk import Load

RESULTS = Path(__file__).with_name("results")


@dataclass(frozen=True)
class Target:
    """A goal for tuning: reported next to the numbers, never asserted."""

    min_ratio: float | None = None
    max_p99_ms: float | None = None
    max_errors: int | None = None
    max_value: float | None = None  # for the build and start-up figures

    def describe(self) -> str:
        parts = []
        if self.min_ratio is not None:
            parts.append(f"ratio ≥ {self.min_ratio:g}")
        if self.max_p99_ms is not None:
            parts.append(f"p99 < {self.max_p99_ms:g} ms")
        if self.max_errors is not None:
            parts.append(f"≤ {self.max_errors} errors" if self.max_errors else "0 errors")
        if self.max_value is not None:
            parts.append(f"≤ {self.max_value:g}")
        return ", ".join(parts)

    def met(self, *, ratio: float | None = None, p99_ms=None, errors=None, value=None) -> bool:
        checks = [
            (self.min_ratio, ratio, lambda goal, got: got >= goal),
            (self.max_p99_ms, p99_ms, lambda goal, got: got < goal),
            (self.max_errors, errors, lambda goal, got: got <= goal),
            (self.max_value, value, lambda goal, got: got <= goal),
        ]
        return all(
            got is not None and holds(goal, got) for goal, got, holds in checks if goal is not None
        )


def ratio(value: float | None, ceiling: float | None) -> float | None:
    """value ÷ ceiling, to three places; None when either is missing or the ceiling is zero."""
    if value is None or not ceiling:
        return None
    return round(value / ceiling, 3)


# Every round within ±10 % of the middle one (issue 17): (max - min) / median at most 0.2.
MAX_SPREAD = 0.2


def spread(rates: list[float]) -> float | None:
    """(max - min) / median of the rounds' rates; None with fewer than two rounds."""
    if len(rates) < 2 or not statistics.median(rates):
        return None
    return round((max(rates) - min(rates)) / statistics.median(rates), 3)


def best(loads: list[Load]) -> Load:
    """The round with the most requests per second. Whatever else runs on the machine only
    ever slows a round down, so the best round is the one closest to what the stack can do."""
    return max(loads, key=lambda load: load.rps)


def scenario_result(
    loads: list[Load],
    *,
    ceiling: list[Load] | None,
    target: Target | None,
    foreign: list[float] | None = None,
    workers: list[dict] | None = None,
) -> dict:
    """One scenario's entry in latest.json: the rate of its best round (the ratio is best round
    to the ceiling's best round), and the latencies, errors and statuses of every round (one
    round of a slow page has too few requests for a p99).
    `foreign`: per round, the share of the CPU that other processes took (bench/cpu.py);
    `workers`: per round, how the app's workers shared the CPU (bench/workers.py)."""
    chosen = best(loads)
    latencies = latency.summary(latency.merge(load.histogram for load in loads))
    statuses: dict[int, int] = {}
    socket_errors: dict[str, int] = {}
    for load in loads:
        for status, n in load.statuses.items():
            statuses[status] = statuses.get(status, 0) + n
        for kind, n in load.socket_errors.items():
            socket_errors[kind] = socket_errors.get(kind, 0) + n
    entry = {
        "rps": round(chosen.rps, 1),
        "p50_ms": latencies["p50_ms"],
        "p99_ms": latencies["p99_ms"],
        "max_ms": latencies["max_ms"],
        "latency_samples": latencies["samples"],
        "errors": sum(load.errors for load in loads),
        "ratio": ratio(chosen.rps, best(ceiling).rps if ceiling else None),
        "rounds_rps": [round(load.rps) for load in loads],
        "rounds_spread": spread([load.rps for load in loads]),
        "requests": sum(load.requests for load in loads),
        "bytes_per_request": round(chosen.bytes_per_request),
        "statuses": {str(status): n for status, n in sorted(statuses.items())},
        "socket_errors": socket_errors,
    }
    if entry["rounds_spread"] is not None:
        entry["rounds_spread_met"] = entry["rounds_spread"] <= MAX_SPREAD
    if workers:
        entry["rounds_workers"] = workers
        entry["workers_restarted"] = sum(split["restarted"] for split in workers)
        cpu_seconds = sum(split["cpu_seconds"] for split in workers)
        entry["worker_cpu_ms_per_request"] = round(1000 * cpu_seconds / entry["requests"], 3)
    if foreign:
        entry["foreign_cpu"] = foreign[loads.index(chosen)]
        entry["rounds_foreign_cpu"] = foreign
    if target is not None:
        entry["target"] = target.describe()
        entry["target_met"] = target.met(
            ratio=entry["ratio"], p99_ms=entry["p99_ms"], errors=entry["errors"]
        )
    return entry


def _mark(met: bool | None) -> str:
    return "" if met is None else ("yes" if met else "NO")


def _spread(entry: dict) -> str:
    if entry.get("rounds_spread") is None:
        return ""
    return f"±{entry['rounds_spread'] / 2:.0%}" + ("" if entry["rounds_spread_met"] else " NO")


def _workers(entry: dict) -> str:
    return " ".join(describe_shares(split["shares"]) for split in entry.get("rounds_workers", []))


def load_table(scenarios: dict[str, dict]) -> str:
    """Rate of the best round and its spread over the rounds (goal ±10 %), latencies over all
    rounds, and, per round, how the CPU of the app's workers split between them."""
    header = (
        "scenario",
        "req/s",
        "rounds ±10%",
        "p50 ms",
        "p99 ms",
        "errors",
        "ratio",
        "of",
        "target",
        "met",
        "others' CPU",
        "workers' CPU % per round",
    )
    rows = [header]
    for name, entry in scenarios.items():
        rows.append(
            (
                name,
                f"{entry['rps']:,.0f}",
                _spread(entry),
                _ms(entry["p50_ms"]),
                _ms(entry["p99_ms"]),
                str(entry["errors"]),
                "" if entry["ratio"] is None else f"{entry['ratio']:.2f}",
                entry.get("ceiling") or "(ceiling)",
                entry.get("target", ""),
                _mark(entry.get("target_met")),
                f"{entry['foreign_cpu']:.0%}" if "foreign_cpu" in entry else "",
                _workers(entry),
            )
        )
    return _format(rows, right={1, 2, 3, 4, 5, 6, 10})


def describe_fixed_rate(entry: dict) -> str:
    """One line: the rate asked and achieved, p50 and p99, or why they are not shown."""
    rates = f"{entry['rate']:,.0f} req/s asked, {entry['achieved_rps']:,.0f} answered"
    if not entry["generator_kept_up"]:
        return (
            f"{rates}: the load generator fell behind (its own lag p99 "
            f"{entry['generator_lag_p99_ms']:.1f} ms, {entry['generator_on_time_share']:.0%} "
            "sent on time), latencies not shown"
        )
    return (
        f"{rates}  p50 {_ms(entry['p50_ms'])} ms  p99 {_ms(entry['p99_ms'])} ms "
        f"({entry['samples']} requests)  errors {entry['errors']}  "
        f"(generator lag p99 {entry['generator_lag_p99_ms']:.1f} ms)"
    )


def fixed_rate_table(scenarios: dict[str, dict]) -> str:
    """Latency at half of each app scenario's best rate, from each request's due time."""
    header = (
        "at half rate",
        "asked",
        "answered",
        "p50 ms",
        "p99 ms",
        "requests",
        "errors",
        "target",
        "met",
        "generator lag p99",
        "others' CPU",
        "workers' CPU %",
    )
    rows = [header]
    for name, entry in scenarios.items():
        if "fixed_rate" not in entry:
            continue
        fixed = entry["fixed_rate"]
        kept_up = fixed["generator_kept_up"]
        rows.append(
            (
                name,
                f"{fixed['rate']:,.0f}",
                f"{fixed['achieved_rps']:,.0f}",
                _ms(fixed["p50_ms"]) if kept_up else "behind",
                _ms(fixed["p99_ms"]) if kept_up else "behind",
                str(fixed["samples"]),
                str(fixed["errors"]),
                fixed.get("target", ""),
                _mark(fixed.get("target_met")),
                f"{fixed['generator_lag_p99_ms']:.1f} ms",
                f"{fixed['foreign_cpu']:.0%}",
                describe_shares(fixed["workers"]["shares"]) if "workers" in fixed else "",
            )
        )
    if len(rows) == 1:
        return ""
    lines = [
        "Latency at half of each app scenario's best rate, open loop (bench/steady.py), "
        "timed from when each request was due:",
        _format(rows, right={1, 2, 3, 4, 5, 6, 9, 10}),
    ]
    if any(row[3] == "behind" for row in rows[1:]):
        lines.append(
            "behind: the load generator could not keep the rate on this machine; its latencies "
            "would be its own, so they are not shown."
        )
    return "\n".join(lines)


def _ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def overhead_line(scenarios: dict[str, dict]) -> str:
    """What every signed-in page pays before rendering: the workers' CPU per request of the
    signed-in empty page beyond the hello view's."""
    empty, hello = scenarios.get("signed-in-empty", {}), scenarios.get("hello", {})
    key = "worker_cpu_ms_per_request"
    if key not in empty or key not in hello:
        return ""
    return (
        f"Per-request overhead: signed-in-empty takes {empty[key]:.2f} ms of the workers' CPU a "
        f"request, hello {hello[key]:.2f} ms: sessions, authentication and the middleware cost "
        f"{empty[key] - hello[key]:.2f} ms on every signed-in page."
    )


def restarts_line(scenarios: dict[str, dict]) -> str:
    """Whether a gunicorn worker was replaced during a round (recycling is off: a crash)."""
    restarted = {
        name: entry["workers_restarted"]
        for name, entry in scenarios.items()
        if entry.get("workers_restarted")
    }
    if not restarted:
        return "No gunicorn worker was restarted during the rounds (max_requests recycling off)."
    listed = ", ".join(f"{name} {count}" for name, count in restarted.items())
    return f"gunicorn workers restarted during the rounds: {listed}; those rounds measured it."


def memory_lines(memory: dict) -> list[str]:
    """The product's gunicorn at rest and after its last round under load, in MiB."""
    lines = []
    for moment, label in (("at_rest", "at rest"), ("after_load", "after the load")):
        if moment not in memory:
            continue
        figures = memory[moment]
        after = f" ({figures['after']}'s last round)" if "after" in figures else ""
        lines.append(
            f"App memory {label}{after}: {figures['workers']['count']} workers "
            f"{figures['workers']['pss_kib'] / 1024:.0f} MiB Pss "
            f"({figures['workers']['rss_kib'] / 1024:.0f} MiB Rss), master "
            f"{figures['master'].get('pss_kib', 0) / 1024:.0f} MiB Pss"
        )
    return lines


def build_table(build: dict) -> str:
    if "skipped" in build:
        return f"Build and start: SKIPPED ({build['skipped']})"
    rows = [("build and start", "value", "target", "met")]
    for name, entry in build["figures"].items():
        value = entry["value"]
        rows.append(
            (
                name,
                "n/a" if value is None else f"{value:g} {entry['unit']}",
                entry.get("target", ""),
                _mark(entry.get("target_met")),
            )
        )
    lines = [_format(rows, right={1})] if len(rows) > 1 else []
    lines += [f"not measured: {problem}" for problem in build.get("problems", [])]
    return "\n".join(lines)


def _format(rows: list[tuple[str, ...]], *, right: set[int]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for number, row in enumerate(rows):
        cells = [
            cell.rjust(width) if i in right else cell.ljust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
        if number == 0:
            lines.append("  ".join("-" * width for width in widths))
    return "\n".join(lines)


def write(run: dict, results: Path = RESULTS) -> Path:
    """latest.json replaced, history.jsonl appended (one line per run, oldest first)."""
    results.mkdir(parents=True, exist_ok=True)
    latest = results / "latest.json"
    latest.write_text(json.dumps(run, indent=2, ensure_ascii=False) + "\n")
    with (results / "history.jsonl").open("a") as history:
        history.write(json.dumps(run, ensure_ascii=False, separators=(",", ":")) + "\n")
    return latest
