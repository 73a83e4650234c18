"""The admin signed in to over https in Chromium that trusts the local CA the way a user's
browser does once they import it (`make certs` says how): certificates are checked for real,
no certificate error is ignored."""

import re
from http import HTTPStatus

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

from harness.browser import home_trusting, launch_chromium

pytestmark = [pytest.mark.browser, pytest.mark.stack]


def test_the_superuser_signs_in_to_the_admin_over_https(stack, tls_stack, playwright, tmp_path):
    home = home_trusting(tls_stack.certificates.ca, tmp_path / "home")
    browser = launch_chromium(playwright, home=home)
    try:
        page = browser.new_context().new_page()
        # Plain http first: nginx sends the browser to https.
        page.goto(f"{tls_stack.url.replace('127.0.0.1', 'localhost')}/admin/")
        expect(page).to_have_url(re.compile(rf"^{re.escape(tls_stack.https_url)}/admin/login/"))
        page.get_by_label("Username").fill(stack.superuser.username)
        page.get_by_label("Password").fill(stack.superuser.password)
        with page.expect_response(re.compile(r"/admin/login/")) as posted:
            page.get_by_role("button", name="Log in").click()
        assert posted.value.status == HTTPStatus.FOUND
        expect(page.get_by_text("Site administration")).to_be_visible()
        assert page.url == f"{tls_stack.https_url}/admin/"
        assert page.evaluate("window.isSecureContext") is True
        cookies = {cookie["name"]: cookie for cookie in page.context.cookies()}
        assert cookies["sessionid"]["secure"] is True
    finally:
        browser.close()


def test_without_the_local_ca_chromium_refuses_the_site(tls_stack, browser):
    """The control: the same Chromium without the CA in its database stops at the
    certificate, so the test above passes by trust, not by leniency."""
    context = browser.new_context()
    try:
        with pytest.raises(PlaywrightError, match="ERR_CERT_AUTHORITY_INVALID"):
            context.new_page().goto(f"{tls_stack.https_url}/admin/login/")
    finally:
        context.close()
