"""Reading what bench/report.lua prints at the end of a wrk run."""

import json

import pytest

from bench import wrk

WRK_OUTPUT = """Running 4s test @ http://127.0.0.1:8000/
  2 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     7.01ms    3.10ms  41.20ms   90.00%
  16000 requests in 4.00s, 2.50MB read
  Non-2xx or 3xx responses: 12
Requests/sec:   4000.00
BENCH_JSON {payload}
"""


def output(**changes) -> str:
    payload = {
        "requests": 16000,
        "duration_us": 4_000_000,
        "bytes": 2_621_440,
        "latency_us": {"p50": 6500, "p90": 9000, "p99": 21000, "max": 41200, "mean": 7010.5},
        "socket_errors": {"connect": 0, "read": 1, "write": 0, "timeout": 2},
        "statuses": {"200": 15980, "302": 8, "404": 2, "503": 10},
        "histogram_us": [900, 3, 6500, 15990, 41200, 7],
    }
    payload.update(changes)
    return WRK_OUTPUT.format(payload=json.dumps(payload))


def test_rate_and_latencies_come_from_the_script_line():
    load = wrk.parse(output())
    assert load.rps == 4000
    assert (load.p50_ms, load.p90_ms, load.p99_ms, load.max_ms) == (6.5, 9.0, 21.0, 41.2)
    assert load.bytes_per_request == pytest.approx(163.84)


def test_statuses_are_counted_by_number():
    assert wrk.parse(output()).statuses == {200: 15980, 302: 8, 404: 2, 503: 10}


def test_errors_are_socket_errors_plus_responses_of_another_status():
    """A redirect to the sign-in page is an error where the page was expected, and so are a
    404, a 503 and every socket error."""
    load = wrk.parse(output())
    assert load.bad_statuses == 8 + 2 + 10
    assert load.errors == 20 + 3


def test_the_expected_status_is_the_scenarios_own():
    load = wrk.parse(output(statuses={"302": 16000}), expected_status=302)
    assert load.bad_statuses == 0


def test_the_histogram_comes_as_microseconds_and_counts():
    assert wrk.parse(output()).histogram == {900: 3, 6500: 15990, 41200: 7}


def test_a_clean_run_has_no_errors():
    load = wrk.parse(
        output(
            statuses={"200": 16000},
            socket_errors={"connect": 0, "read": 0, "write": 0, "timeout": 0},
        )
    )
    assert load.errors == 0


def test_a_run_without_the_script_line_is_refused():
    with pytest.raises(ValueError, match="BENCH_JSON"):
        wrk.parse("Running 4s test @ http://127.0.0.1:8000/\nRequests/sec: 1.00\n")


def test_no_requests_means_no_rate_rather_than_a_division_by_zero():
    load = wrk.parse(output(requests=0, duration_us=0, bytes=0, statuses={}))
    assert (load.rps, load.bytes_per_request, load.errors) == (0, 0, 3)


def test_every_scenario_gets_the_same_wrk_settings():
    args = wrk.command("http://127.0.0.1:1/", seconds=4, headers={"Cookie": "sessionid=x"})
    assert "--threads=2" in args
    assert "--connections=32" in args
    assert "--duration=4s" in args
    assert f"--script={wrk.SCRIPT}" in args
    assert args[-3:] == ["--header", "Cookie: sessionid=x", "http://127.0.0.1:1/"]
