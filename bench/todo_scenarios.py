"""The example app's pages under load: a signed-in list of many items, and its board, divided
by the hello view through nginx."""

import json
import secrets
from pathlib import Path

from bench.report import Target
from bench.scenarios import HELLO, Scenario, expect
from harness.accounts import Account, sign_in
from harness.project import run_django_script


def todo_scenarios(stack, items: int = 50) -> list[Scenario]:
    """The signed-in pages of the example app: a list of `items` items, and its board."""
    account = Account("bench", secrets.token_urlsafe(18))
    seeded = run_django_script(
        Path(__file__).parent / "todo_seed.py",
        env={
            **stack.env,
            "HARNESS_USERNAME": account.username,
            "HARNESS_PASSWORD": account.password,
            "HARNESS_ITEMS": str(items),
        },
    )
    made = json.loads(seeded.stdout.strip().splitlines()[-1])
    session, _ = sign_in(stack.url, account)
    cookie = {"Cookie": "; ".join(f"{k}={v}" for k, v in session.cookies.get_dict().items())}
    lists = f"{stack.url}/todo/lists/{made['list']}/"
    return [
        Scenario(
            "todo-list",
            lists,
            HELLO,
            Target(min_ratio=0.30, max_p99_ms=50, max_errors=0),
            expect(contains=made["first_item"]),
            cookie,
        ),
        Scenario(
            "todo-board", f"{lists}board/", HELLO, None, expect(contains=made["first_item"]), cookie
        ),
    ]
