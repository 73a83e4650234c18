"""Chromium for the browser tests, driven by Playwright.

Where Playwright's own browser download cannot work (no internet for it, as on this project's
CI machines), the tests launch the system's Chromium by its path (Debian's `chromium`);
elsewhere Playwright's own Chromium (`playwright install chromium`) does as well.
"""

import os
import shutil
import subprocess
from pathlib import Path

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


def home_trusting(ca: str, home: Path) -> Path:
    """A home folder whose NSS database (where Chromium on Linux looks for the authorities a
    user added) trusts the CA in the file `ca` for web sites, as a user's browser does once
    they import it: certificates are checked for real, no error is ignored."""
    certutil = require(shutil.which("certutil"), "certutil", "libnss3-tools")
    database = home / ".pki" / "nssdb"
    database.mkdir(parents=True, exist_ok=True)
    for command in (
        ["-N", "--empty-password"],
        ["-A", "-t", "C,,", "-n", "local development CA", "-i", ca],
    ):
        subprocess.run(
            [certutil, "-d", f"sql:{database}", *command], check=True, capture_output=True
        )
    return home


def launch_chromium(playwright: Playwright, *, home: Path | None = None) -> Browser:
    """Headless Chromium; where none is found, a failure in CI and a skip elsewhere. `home`:
    its HOME (from home_trusting), else the caller's."""
    if os.path.exists(SYSTEM_CHROMIUM):
        executable = SYSTEM_CHROMIUM
    elif os.path.exists(playwright.chromium.executable_path):
        executable = playwright.chromium.executable_path
    else:
        executable = require(None, "Chromium", "chromium (or: playwright install chromium)")
    env = {**os.environ, "HOME": str(home)} if home else None
    return playwright.chromium.launch(
        executable_path=executable, headless=True, args=CHROMIUM_ARGS, env=env
    )
