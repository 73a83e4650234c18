"""What the browser tests drive: Debian's Chromium through Playwright, and ordinary users made
in the stack's database.

Playwright's own browser download cannot work on these machines (no internet for it), so the
tests launch the system's Chromium by its path.
"""

import os
import secrets
from dataclasses import dataclass

from playwright.sync_api import Browser, Playwright

from tests.support.binaries import require
from tests.support.project import manage
from tests.support.stack import Stack

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",  # CI runs as root, where Chromium's sandbox cannot start
    "--disable-gpu",
    "--disable-dev-shm-usage",  # /dev/shm is small in containers
    # Nothing but the page under test on the network: no updates, no sync, no first-run.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

_CREATE_USER = (
    "import os; from django.contrib.auth import get_user_model; "
    "get_user_model().objects.create_user("
    "os.environ['BROWSER_TEST_USERNAME'], password=os.environ['BROWSER_TEST_PASSWORD'])"
)


def launch_chromium(playwright: Playwright) -> Browser:
    """Headless Chromium; where it is missing, a failure in CI and a skip elsewhere."""
    executable = require(CHROMIUM if os.path.exists(CHROMIUM) else None, "Chromium", "chromium")
    return playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)


@dataclass(frozen=True)
class Account:
    username: str
    password: str


def create_account(stack: Stack, name: str) -> Account:
    """An ordinary user (not staff) in the stack's database, made by the project's manage.py
    as an operator would; the password goes through the environment, never a command line."""
    account = Account(f"{name}-{secrets.token_hex(3)}", secrets.token_urlsafe(12))
    manage(
        "shell",
        "--command",
        _CREATE_USER,
        env={
            **stack.env,
            "BROWSER_TEST_USERNAME": account.username,
            "BROWSER_TEST_PASSWORD": account.password,
        },
    )
    return account
