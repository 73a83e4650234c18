"""Choosing scenarios: a chosen scenario brings the ceilings it is divided by; what a
scenario expects of its answer."""

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


class Answer:
    def __init__(self, status: int, text: str = "") -> None:
        self.status_code, self.text, self.content = status, text, text.encode()


def test_a_redirect_where_a_page_was_expected_is_wrong():
    assert Expect(contains="Hello")(Answer(200, "Hello, world!")) is None
    assert Expect(contains="Hello")(Answer(302)) == "status 302, expected 200"
    assert Expect(302)(Answer(302)) is None


def test_a_short_file_is_wrong():
    assert Expect(length=5)(Answer(200, "12345")) is None
    assert Expect(length=5)(Answer(200, "123")) == "3 bytes, expected 5"


def test_missing_text_is_wrong():
    assert Expect(contains="ok")(Answer(200, "sign in")) == "no 'ok' in the response"
