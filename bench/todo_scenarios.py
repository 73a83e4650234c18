"""The example app's pages under load: a signed-in list of many items, and its board, divided
by the hello view through nginx; and an attachment's download (Django checks, nginx sends it
by X-Accel-Redirect), divided by nginx sending the same file directly."""

import json
import secrets
from pathlib import Path

from bench.report import Target
from bench.scenarios import HELLO, Expect, Scenario, signed_in_cookie
from harness.accounts import Account
from harness.project import run_django_script

MEDIA_BARE = "nginx-media-bare"
# An attachment of a typical size: a photo, a scanned page.
DOWNLOAD_MIB = 1


def todo_scenarios(stack, bare: str, items: int = 50) -> list[Scenario]:
    """The signed-in pages of the example app: a list of `items` items, and its board; a
    download of an attachment, and its ceiling: the bench's bare nginx (`bare`) sending the
    same file from the media folder."""
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
    cookie = signed_in_cookie(stack.url, account)
    lists = f"{stack.url}/todo/lists/{made['list']}/"
    attached = json.loads(
        run_django_script(
            Path(__file__).resolve().parents[1] / "todo/tests/scripts/attach_file.py",
            env={
                **stack.env,
                "HARNESS_ITEM": str(made["first_item_id"]),
                "HARNESS_MEGABYTES": str(DOWNLOAD_MIB),
            },
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    # A 404 page or a redirect would be short.
    whole_file = Expect(length=DOWNLOAD_MIB * 1024 * 1024)
    return [
        Scenario(MEDIA_BARE, f"{bare}/media/{attached['name']}", None, None, whole_file),
        Scenario(
            "todo-download",
            f"{stack.url}{attached['path']}",
            MEDIA_BARE,
            None,
            whole_file,
            cookie,
            app=stack.gunicorn_pid,
        ),
        Scenario(
            "todo-list",
            lists,
            HELLO,
            # Issue 17: 1.8 times the 0.07 of November 2026.
            Target(min_ratio=0.12, max_errors=0),
            Expect(contains=made["first_item"]),
            cookie,
            app=stack.gunicorn_pid,
            fixed_rate=True,
            # At saturation p99 is the queue; at half the rate it is what a user waits.
            fixed_rate_target=Target(max_p99_ms=50, max_errors=0),
        ),
        Scenario(
            "todo-board",
            f"{lists}board/",
            HELLO,
            Target(min_ratio=0.12, max_errors=0),
            Expect(contains=made["first_item"]),
            cookie,
            app=stack.gunicorn_pid,
            fixed_rate=True,
        ),
    ]
