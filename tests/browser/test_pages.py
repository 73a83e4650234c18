"""The project's own pages in a real browser: the home page with its stylesheet, signing in
and out."""

import re
from http import HTTPStatus

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.stack]

# A value that only site.css gives: the page's background (`--ground`).
SITE_CSS_BACKGROUND = "rgb(244, 245, 247)"


def test_the_stylesheet_is_served_by_nginx_and_applied(page):
    """site.css comes from nginx under its hashed name and applies."""
    with page.expect_response(re.compile(r"/static/site\.[0-9a-f]{12}\.css$")) as css:
        page.goto("/")
    assert css.value.status == HTTPStatus.OK
    assert css.value.headers["server"] == "nginx"
    background = page.locator("body").evaluate("e => getComputedStyle(e).backgroundColor")
    assert background == SITE_CSS_BACKGROUND


def test_a_user_signs_in_and_out_from_the_home_page(page, new_account):
    account = new_account("ada")
    page.goto("/")
    page.get_by_role("link", name="Sign in").first.click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_label("Username").fill(account.username)
    page.get_by_label("Password").fill(account.password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.get_by_text(f"Signed in as {account.username}")).to_be_visible()

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.goto("/")
    expect(page.get_by_text("Signed in as")).to_have_count(0)
