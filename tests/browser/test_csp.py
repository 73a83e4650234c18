"""The Content Security Policy holds in a real browser: the pages users see break none of it
(no inline script or style slipped in), so the policy can stay strict."""

import pytest
from playwright.sync_api import Page, expect

pytestmark = [pytest.mark.browser, pytest.mark.stack]

RECORD_VIOLATIONS = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
    window.cspViolations.push(`${event.violatedDirective} ${event.blockedURI}`);
});
"""


def violations_on(page: Page, path: str) -> list[str]:
    page.goto(path)
    page.wait_for_load_state("load")
    return page.evaluate("window.cspViolations")


def test_admin_pages_break_no_csp_rule(page, stack):
    page.add_init_script(RECORD_VIOLATIONS)
    assert violations_on(page, "/admin/login/") == []
    page.get_by_label("Username").fill(stack.superuser.username)
    page.get_by_label("Password").fill(stack.superuser.password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Site administration")).to_be_visible()
    # The task queue's results too (django-tasks-db's admin).
    tasks = "/admin/django_tasks_database/dbtaskresult/"
    for path in ("/admin/", "/admin/accounts/user/", "/admin/accounts/user/add/", tasks):
        assert violations_on(page, path) == [], path


def test_the_projects_pages_break_no_csp_rule(page, new_account):
    page.add_init_script(RECORD_VIOLATIONS)
    account = new_account("csp")
    pages = ("/", "/accounts/login/", "/no-such-page/", "/accounts/password_reset/")
    for path in (*pages, "/accounts/password_reset/done/", "/accounts/reset/done/"):
        assert violations_on(page, path) == [], path
    page.get_by_role("link", name="Sign in").first.click()
    page.get_by_label("Username").fill(account.username)
    page.get_by_label("Password").fill(account.password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text(f"Signed in as {account.username}")).to_be_visible()
    assert violations_on(page, "/") == []
