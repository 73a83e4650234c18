"""Percentiles over the merged latency histograms of a scenario's rounds."""

import pytest

from bench import latency


def test_merging_adds_the_counts_of_equal_latencies():
    merged = latency.merge([{100: 2, 250: 1}, {250: 3, 900: 1}, {}])
    assert merged == {100: 2, 250: 4, 900: 1}


@pytest.mark.parametrize(("p", "expected"), [(1, 1), (50, 50), (99, 99), (99.5, 100), (100, 100)])
def test_a_percentile_is_the_nearest_rank(p, expected):
    """One request at each of 1 to 100 µs: the p-th percentile is p µs."""
    assert latency.percentile({us: 1 for us in range(1, 101)}, p) == expected


def test_the_p99_of_merged_rounds_sees_the_slow_round():
    """The best round alone (fast, few samples) hides the tail the other rounds had."""
    fast = {1_000: 100}
    slow = {2_000: 95, 300_000: 5}
    assert latency.percentile(fast, 99) == 1_000
    assert latency.percentile(latency.merge([fast, slow]), 99) == 300_000
    assert latency.percentile(latency.merge([fast, slow]), 50) == 1_000


def test_no_requests_no_percentile():
    assert latency.percentile({}, 99) is None
    assert latency.summary({}) == {"p50_ms": None, "p99_ms": None, "max_ms": None, "samples": 0}


def test_the_summary_is_in_milliseconds_with_its_sample_count():
    assert latency.summary({1_500: 98, 20_000: 1, 45_250: 1}) == {
        "p50_ms": 1.5,
        "p99_ms": 20.0,
        "max_ms": 45.25,
        "samples": 100,
    }
