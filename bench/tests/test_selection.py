"""Choosing scenarios: a chosen scenario brings the ceilings it is divided by."""

import pytest

from bench.scenarios import Expect, Scenario, selected


def scenario(name: str, ceiling: str | None = None) -> Scenario:
    return Scenario(name, f"http://127.0.0.1:1/{name}", ceiling, None, Expect())


FOUND = [
    scenario("nginx-static-bare"),
    scenario("hello-direct"),
    scenario("hello", "hello-direct"),
    scenario("static", "nginx-static-bare"),
    scenario("todo-list", "hello"),
]


def test_every_scenario_runs_when_none_is_named():
    assert selected(FOUND, "") == FOUND


def test_a_named_scenario_brings_its_ceilings_in_their_order():
    names = [found.name for found in selected(FOUND, "todo-list")]
    assert names == ["hello-direct", "hello", "todo-list"]


def test_an_unknown_name_stops_the_run():
    with pytest.raises(SystemExit, match="unknown scenarios: nope"):
        selected(FOUND, "static,nope")
