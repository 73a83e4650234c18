"""Ratios, targets, best rounds and the results files."""

import json

import pytest

from bench import report
from bench.report import Target
from bench.wrk import Load


def load(rps: float, *, p99_ms: float = 10.0, errors: int = 0, statuses=None) -> Load:
    """A round of 4 s whose requests took p99_ms / 4, but for two in a hundred: p99_ms."""
    requests = int(rps * 4)
    slow = requests // 50
    return Load(
        requests=int(rps * 4),
        seconds=4.0,
        bytes=int(rps * 4) * 100,
        p50_ms=p99_ms / 4,
        p90_ms=p99_ms / 2,
        p99_ms=p99_ms,
        max_ms=p99_ms * 2,
        socket_errors={"connect": 0, "read": 0, "write": 0, "timeout": errors},
        statuses=statuses or {200: int(rps * 4)},
        histogram={int(p99_ms * 250): requests - slow, int(p99_ms * 1000): slow},
    )


@pytest.mark.parametrize(
    ("value", "ceiling", "expected"),
    [(900, 3000, 0.3), (3000, 3000, 1.0), (51_500, 36_200, 1.423), (2, 3, 0.667)],
)
def test_ratio_is_value_over_ceiling_to_three_places(value, ceiling, expected):
    assert report.ratio(value, ceiling) == expected


@pytest.mark.parametrize(("value", "ceiling"), [(100, None), (None, 100), (100, 0)])
def test_no_ratio_without_a_ceiling(value, ceiling):
    assert report.ratio(value, ceiling) is None


def test_the_best_round_is_the_fastest():
    rounds = [load(2000), load(3500), load(2900)]
    assert report.best(rounds) is rounds[1]


def test_a_scenario_reports_its_best_round_against_the_ceilings_best_round():
    result = report.scenario_result(
        [load(900, p99_ms=40), load(1000, p99_ms=30)],
        ceiling=[load(4000), load(3000)],
        target=Target(min_ratio=0.2, max_p99_ms=50, max_errors=0),
        foreign=[0.3, 0.05],
    )
    assert (result["rps"], result["ratio"]) == (1000, 0.25)
    assert result["rounds_rps"] == [900, 1000]
    assert result["foreign_cpu"] == 0.05
    assert result["target"] == "ratio ≥ 0.2, p99 < 50 ms, 0 errors"
    assert result["target_met"] is True


def test_latencies_are_read_from_every_round_not_the_best_one_alone():
    result = report.scenario_result(
        [load(900, p99_ms=40), load(1000, p99_ms=30)], ceiling=None, target=None
    )
    assert result["latency_samples"] == 3600 + 4000
    assert (result["p50_ms"], result["p99_ms"], result["max_ms"]) == (7.5, 30.0, 40.0)


def test_errors_of_every_round_count_even_when_the_best_round_had_none():
    result = report.scenario_result(
        [load(900, errors=3, statuses={200: 3000, 503: 2}), load(1000)],
        ceiling=None,
        target=Target(max_errors=0),
    )
    assert result["errors"] == 5
    assert result["statuses"] == {"200": 7000, "503": 2}
    assert result["socket_errors"] == {"connect": 0, "read": 0, "write": 0, "timeout": 3}
    assert result["ratio"] is None
    assert result["target_met"] is False


@pytest.mark.parametrize(
    ("target", "figures", "met"),
    [
        (Target(min_ratio=0.3), {"ratio": 0.31}, True),
        (Target(min_ratio=0.3), {"ratio": 0.29}, False),
        (Target(min_ratio=0.3), {"ratio": None}, False),
        (Target(max_p99_ms=50), {"p99_ms": 50.0}, False),
        (Target(max_value=10), {"value": 10}, True),
        (Target(max_value=10), {"value": 10.5}, False),
    ],
)
def test_a_target_is_met_only_by_figures_that_reach_it(target, figures, met):
    assert target.met(**figures) is met


def test_results_replace_latest_and_append_to_history(tmp_path):
    report.write({"note": "first"}, tmp_path)
    latest = report.write({"note": "second"}, tmp_path)
    assert json.loads(latest.read_text()) == {"note": "second"}
    history = (tmp_path / "history.jsonl").read_text().splitlines()
    assert [json.loads(line)["note"] for line in history] == ["first", "second"]


def test_the_table_shows_ratios_and_marks_missed_targets():
    scenarios = {
        "hello": {**report.scenario_result([load(3000)], ceiling=None, target=None)},
        "todo-list": {
            **report.scenario_result(
                [load(600), load(500)],
                ceiling=[load(3000)],
                target=Target(min_ratio=0.3),
                workers=[split([0.62, 0.38]), split([0.5, 0.5])],
            ),
            "ceiling": "hello",
        },
    }
    lines = report.load_table(scenarios).splitlines()
    assert lines[0].split()[:4] == ["scenario", "req/s", "rounds", "±10%"]
    assert "(ceiling)" in lines[2]
    assert lines[3].split() == [
        "todo-list",
        "600",
        "±9%",
        "2.50",
        "10.00",
        "0",
        "0.20",
        "hello",
        "ratio",
        "≥",
        "0.3",
        "NO",
        "62/38",
        "50/50",
    ]


def split(shares: list[float], restarted: int = 0) -> dict:
    return {"shares": shares, "cpus": 1.0, "cpu_seconds": 2.2, "restarted": restarted}


@pytest.mark.parametrize(
    ("rates", "expected"),
    [([1000, 1100, 900], 0.2), ([1000], None), ([1700, 3500, 3400], 0.529), ([0, 0], None)],
)
def test_the_spread_is_max_minus_min_over_the_median(rates, expected):
    assert report.spread(rates) == expected


def test_rounds_further_apart_than_ten_percent_either_way_miss_the_goal():
    close = report.scenario_result([load(1000), load(1100), load(900)], ceiling=None, target=None)
    bimodal = report.scenario_result([load(1700), load(3500)], ceiling=None, target=None)
    assert close["rounds_spread_met"] is True
    assert bimodal["rounds_spread_met"] is False


def test_the_workers_cpu_per_request_and_restarts_come_from_every_round():
    result = report.scenario_result(
        [load(1000), load(1000)],
        ceiling=None,
        target=None,
        workers=[split([0.9, 0.1]), split([0.5, 0.5], restarted=1)],
    )
    assert result["worker_cpu_ms_per_request"] == round(1000 * 4.4 / 8000, 3)
    assert result["workers_restarted"] == 1
    assert [each["shares"] for each in result["rounds_workers"]] == [[0.9, 0.1], [0.5, 0.5]]


def test_memory_is_shown_in_mib_with_the_scenario_it_was_read_after():
    figures = {"master": {"rss_kib": 40960, "pss_kib": 20480}}
    workers = {"count": 2, "rss_kib": 204800, "pss_kib": 102400}
    lines = report.memory_lines(
        {
            "at_rest": {**figures, "workers": workers},
            "after_load": {**figures, "workers": workers, "after": "todo-board"},
        }
    )
    assert lines == [
        "App memory at rest: 2 workers 100 MiB Pss (200 MiB Rss), master 20 MiB Pss",
        "App memory after the load (todo-board's last round): 2 workers 100 MiB Pss "
        "(200 MiB Rss), master 20 MiB Pss",
    ]


def fixed_rate(p99_ms: float, *, kept_up: bool = True, target: bool = False) -> dict:
    entry = {
        "rate": 40.0,
        "achieved_rps": 39.8,
        "p50_ms": 12.0,
        "p99_ms": p99_ms,
        "samples": 1000,
        "errors": 0,
        "generator_lag_p99_ms": 2.5 if kept_up else 40.0,
        "generator_on_time_share": 1.0 if kept_up else 0.5,
        "generator_kept_up": kept_up,
        "foreign_cpu": 0.1,
        "workers": split([0.7, 0.3]),
    }
    if target:
        entry["target"] = "p99 < 50 ms"
        entry["target_met"] = p99_ms < 50 if kept_up else None
    return entry


def test_the_fixed_rate_table_shows_latencies_and_the_split_at_half_rate():
    table = report.fixed_rate_table(
        {
            "hello": {"rps": 3000},
            "todo-list": {"rps": 80, "fixed_rate": fixed_rate(61.5, target=True)},
        }
    )
    lines = table.splitlines()
    assert len(lines) == 4  # the caption, the header, its rule, todo-list
    assert lines[3].split() == [
        "todo-list",
        "40",
        "40",
        "12.00",
        "61.50",
        "1000",
        "0",
        "p99",
        "<",
        "50",
        "ms",
        "NO",
        "2.5",
        "ms",
        "10%",
        "70/30",
    ]


def test_latencies_of_a_generator_that_fell_behind_are_not_shown():
    table = report.fixed_rate_table(
        {"todo-list": {"fixed_rate": fixed_rate(12.0, kept_up=False, target=True)}}
    )
    row = table.splitlines()[3]
    assert "12.00" not in row
    assert row.split()[3:5] == ["behind", "behind"]
    assert "could not keep the rate" in table
    assert "fell behind" in report.describe_fixed_rate(fixed_rate(12.0, kept_up=False))


def test_no_fixed_rate_scenario_no_table():
    assert report.fixed_rate_table({"static": {"rps": 9000}}) == ""


def test_the_overhead_is_the_signed_in_empty_pages_worker_cpu_beyond_hellos():
    line = report.overhead_line(
        {
            "hello": {"worker_cpu_ms_per_request": 1.25},
            "signed-in-empty": {"worker_cpu_ms_per_request": 6.0},
        }
    )
    assert "cost 4.75 ms on every signed-in page" in line
    assert report.overhead_line({"hello": {"worker_cpu_ms_per_request": 1.25}}) == ""


def test_a_worker_restarted_during_a_round_is_named():
    assert report.restarts_line({"hello": {"workers_restarted": 0}}).startswith("No gunicorn")
    line = report.restarts_line(
        {"hello": {"workers_restarted": 0}, "health": {"workers_restarted": 1}}
    )
    assert "health 1" in line
    assert "hello" not in line
