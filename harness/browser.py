"""Chromium for the browser tests, driven by Playwright.

Where Playwright's own browser download cannot work (no internet for it, as on this project's
CI machines), the tests launch the system's Chromium by its path (Debian's `chromium`);
elsewhere Playwright's own Chromium (`playwright install chromium`) does as well.
"""

import os

from playwright.sync_api import Browser, Playwright

from harness.binaries import require

SYSTEM_CHROMIUM = "/usr/bin/chromium"
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


def launch_chromium(playwright: Playwright) -> Browser:
    """Headless Chromium; where none is found, a failure in CI and a skip elsewhere."""
    if os.path.exists(SYSTEM_CHROMIUM):
        executable = SYSTEM_CHROMIUM
    elif os.path.exists(playwright.chromium.executable_path):
        executable = playwright.chromium.executable_path
    else:
        executable = require(None, "Chromium", "chromium (or: playwright install chromium)")
    return playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
