"""Ratios, targets, the table on stdout and the results files."""

import json
from dataclasses import dataclass
from pathlib import Path

from bench import latency
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
) -> dict:
    """One scenario's entry in latest.json: the rate of its best round (the ratio is best round
    to the ceiling's best round), and the latencies, errors and statuses of every round (one
    round of a slow page has too few requests for a p99).
    `foreign`: per round, the share of the CPU that other processes took (bench/cpu.py)."""
    chosen = best(loads)
    spread = latency.summary(latency.merge(load.histogram for load in loads))
    statuses: dict[int, int] = {}
    socket_errors: dict[str, int] = {}
    for load in loads:
        for status, n in load.statuses.items():
            statuses[status] = statuses.get(status, 0) + n
        for kind, n in load.socket_errors.items():
            socket_errors[kind] = socket_errors.get(kind, 0) + n
    entry = {
        "rps": round(chosen.rps, 1),
        "p50_ms": spread["p50_ms"],
        "p99_ms": spread["p99_ms"],
        "max_ms": spread["max_ms"],
        "latency_samples": spread["samples"],
        "errors": sum(load.errors for load in loads),
        "ratio": ratio(chosen.rps, best(ceiling).rps if ceiling else None),
        "rounds_rps": [round(load.rps) for load in loads],
        "requests": sum(load.requests for load in loads),
        "bytes_per_request": round(chosen.bytes_per_request),
        "statuses": {str(status): n for status, n in sorted(statuses.items())},
        "socket_errors": socket_errors,
    }
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


def load_table(scenarios: dict[str, dict]) -> str:
    header = (
        "scenario",
        "req/s",
        "p50 ms",
        "p99 ms",
        "errors",
        "ratio",
        "of",
        "target",
        "met",
        "others' CPU",
    )
    rows = [header]
    for name, entry in scenarios.items():
        rows.append(
            (
                name,
                f"{entry['rps']:,.0f}",
                f"{entry['p50_ms']:.2f}",
                f"{entry['p99_ms']:.2f}",
                str(entry["errors"]),
                "" if entry["ratio"] is None else f"{entry['ratio']:.2f}",
                entry.get("ceiling") or "(ceiling)",
                entry.get("target", ""),
                _mark(entry.get("target_met")),
                f"{entry['foreign_cpu']:.0%}" if "foreign_cpu" in entry else "",
            )
        )
    return _format(rows, right={1, 2, 3, 4, 5, 9})


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
