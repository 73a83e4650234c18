"""Browser tests: Debian's Chromium driven by Playwright against the production-like stack
(the `stack` fixture: nginx serving the static files, gunicorn, PostgreSQL). Any app's
browser tests can live here and use these fixtures; each module marks itself `browser` and
`stack`."""

import re
from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.support.browser import Account, create_account, launch_chromium
from tests.support.project import ROOT

SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """One Chromium for the session.

    While Playwright's sync API is active, its event loop counts as running in this thread, and
    Django refuses ORM calls here (SynchronousOnlyOperation). Browser tests therefore never use
    the ORM in this process (users are made by manage.py, in a subprocess), and pytest-django
    runs every database test before them; so DJANGO_ALLOW_ASYNC_UNSAFE is not needed, and is
    not set.
    """
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, stack) -> Iterator[Page]:
    """A fresh browser profile (no cookies) whose relative URLs go to the stack's nginx."""
    context = browser.new_context(base_url=stack.url)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def new_account(stack) -> Callable[[str], Account]:
    """`new_account("ada")`: a new ordinary user named ada-<random>, in the stack's database."""
    return lambda name: create_account(stack, name)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """When a browser test fails, a screenshot of its page, taken while the page is still
    open, named after the test; the failure report says where it is."""
    report = yield
    page = item.funcargs.get("page") if report.when == "call" and report.failed else None
    if page is not None:
        path = SCREENSHOTS / f"{re.sub(r'[^A-Za-z0-9_.-]+', '_', item.nodeid)}.png"
        try:
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=path, full_page=True)
            message = f"saved to {path}"
        except Exception as error:  # never hide the test's own failure behind this one
            message = f"could not be taken: {error}"
        report.sections.append(("Screenshot", message))
    return report
