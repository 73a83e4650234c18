"""Latency histograms: {microseconds: requests}, from wrk (bench/report.lua) or from the
fixed-rate load (bench/steady.py), merged over rounds so that a p99 has enough requests behind
it (one round of a slow page holds a few hundred)."""

import math
from collections import Counter
from collections.abc import Iterable


def merge(histograms: Iterable[dict[int, int]]) -> dict[int, int]:
    total: Counter[int] = Counter()
    for histogram in histograms:
        total.update(histogram)
    return dict(total)


def percentile(histogram: dict[int, int], p: float) -> int | None:
    """The nearest-rank percentile in microseconds: the smallest latency that at least p % of
    the requests did not exceed; None without requests."""
    total = sum(histogram.values())
    if not total:
        return None
    rank = max(1, math.ceil(total * p / 100))
    seen = 0
    for microseconds in sorted(histogram):
        seen += histogram[microseconds]
        if seen >= rank:
            return microseconds
    raise AssertionError("unreachable: the ranks add up to the total")


def summary(histogram: dict[int, int]) -> dict:
    """p50, p99 and max in milliseconds, and how many requests they are read from."""

    def ms(microseconds: int | None) -> float | None:
        return None if microseconds is None else round(microseconds / 1000, 2)

    return {
        "p50_ms": ms(percentile(histogram, 50)),
        "p99_ms": ms(percentile(histogram, 99)),
        "max_ms": ms(max(histogram, default=None)),
        "samples": sum(histogram.values()),
    }
