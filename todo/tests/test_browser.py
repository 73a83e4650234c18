"""The to-do app in a real browser, against the production-like stack. Users are created
in the stack's database by manage.py; everything else happens through the pages, as a person
would do it."""

import re
from http import HTTPStatus
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from harness.accounts import Account

pytestmark = [pytest.mark.browser, pytest.mark.stack]

LISTS = "/todo/"
# A value that only todo.css gives: the board's "doing" column (`--doing`).
TODO_CSS_DOING = "rgb(255, 243, 214)"
RECORD_VIOLATIONS = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
    window.cspViolations.push(`${event.violatedDirective} ${event.blockedURI}`);
});
"""


def sign_in(page: Page, account: Account) -> None:
    page.goto(f"/accounts/login/?next={LISTS}")
    page.get_by_label("Username").fill(account.username)
    page.get_by_label("Password").fill(account.password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Your lists")).to_be_visible()


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


def create_list(page: Page, name: str, items: list[str]) -> str:
    """A list made through the lists page, with `items` added in order; returns its URL."""
    page.goto(LISTS)
    page.get_by_label("Name").fill(name)
    page.get_by_role("button", name="Create list").click()
    expect(page.get_by_role("heading", name=name)).to_be_visible()
    for title in items:
        page.get_by_label("New item").fill(title)
        page.get_by_role("button", name="Add").click()
        expect(page.locator(".row-title").last).to_have_text(title)
    return page.url


def test_a_user_keeps_a_to_do_board(page, new_account):
    """Sign in, make a list of three, complete one on the board, reload: still done; sign out."""
    account = new_account("ada")
    page.goto(LISTS)
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/todo/$"))
    page.get_by_label("Username").fill(account.username)
    page.get_by_label("Password").fill(account.password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("No lists yet")).to_be_visible()

    create_list(page, "Groceries", ["Milk", "Eggs", "Bread"])
    expect(page.locator(".row-title")).to_have_text(["Milk", "Eggs", "Bread"])

    page.get_by_role("link", name="Board").click()
    todo, done = page.locator("#column-todo"), page.locator("#column-done")
    expect(todo.locator(".card-title")).to_have_text(["Milk", "Eggs", "Bread"])
    todo.locator(".card", has_text="Eggs").get_by_role("button", name="Done").click()
    expect(done.locator(".card-title")).to_have_text(["Eggs"])

    page.reload()
    expect(done.locator(".card-title")).to_have_text(["Eggs"])
    expect(todo.locator(".card-title")).to_have_text(["Milk", "Bread"])

    page.goto(LISTS)
    expect(page.locator(".row", has_text="Groceries")).to_contain_text("1 of 3 done")

    sign_out(page)
    page.goto(LISTS)
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/todo/$"))


def test_items_move_up_and_down(page, new_account):
    """The arrows reorder the list, and the order is kept."""
    sign_in(page, new_account("grace"))
    create_list(page, "Chores", ["Dishes", "Laundry", "Bins"])
    page.locator(".row", has_text="Bins").get_by_role("button", name="Move up").click()
    expect(page.locator(".row-title")).to_have_text(["Dishes", "Bins", "Laundry"])
    page.locator(".row", has_text="Dishes").get_by_role("button", name="Move down").click()
    # The move's page first: a reload while its form is still posting would race it.
    expect(page.locator(".row-title")).to_have_text(["Bins", "Dishes", "Laundry"])
    page.reload()
    expect(page.locator(".row-title")).to_have_text(["Bins", "Dishes", "Laundry"])


def test_another_user_cannot_open_my_list(page, new_account):
    """A second user who has the first user's URL gets the 404 page, and nothing of the list."""
    sign_in(page, new_account("owner"))
    url = create_list(page, "Surprise party", ["Cake"])
    board_url = f"{url}board/"
    sign_out(page)

    sign_in(page, new_account("intruder"))
    for address in (url, board_url):
        response = page.goto(address)
        assert response.status == HTTPStatus.NOT_FOUND
        expect(page.get_by_role("heading", name="Not found")).to_be_visible()
        expect(page.locator("body")).not_to_contain_text("Surprise party")
        expect(page.locator("body")).not_to_contain_text("Cake")


def test_the_apps_stylesheet_is_served_by_nginx_and_applied(page, new_account):
    """todo.css comes from nginx under its hashed name and applies (a colour only it sets)."""
    sign_in(page, new_account("styled"))
    create_list(page, "Colours", ["Paint"])
    with page.expect_response(re.compile(r"/static/todo/todo\.[0-9a-f]{12}\.css$")) as css:
        page.get_by_role("link", name="Board").click()
    assert css.value.status == HTTPStatus.OK
    assert css.value.headers["server"] == "nginx"
    doing = page.locator("#column-doing").evaluate("e => getComputedStyle(e).backgroundColor")
    assert doing == TODO_CSS_DOING


def test_the_apps_pages_break_no_csp_rule(page, new_account):
    """No inline script or style slipped into the app's pages: the policy can stay strict."""
    page.add_init_script(RECORD_VIOLATIONS)
    sign_in(page, new_account("csp"))
    url = create_list(page, "Policy", ["Rule"]).split("?")[0]
    for path in (LISTS, url, f"{url}board/", f"{LISTS}lists/0/"):
        page.goto(path)
        page.wait_for_load_state("load")
        assert page.evaluate("window.cspViolations") == [], path


def test_an_attached_svg_is_downloaded_never_shown(page, new_account, tmp_path):
    """A file attached through the item's page: an SVG with a script comes back as a
    download, never a page of the site that could run it."""
    sign_in(page, new_account("files"))
    create_list(page, "Files", ["Scan"])
    page.get_by_role("link", name="Edit").click()
    drawing = tmp_path / "drawing.svg"
    drawing.write_text('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>')
    page.get_by_label("File").set_input_files(drawing)
    page.get_by_role("button", name="Attach").click()
    link = page.get_by_role("link", name="drawing.svg")
    expect(link).to_be_visible()

    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    with page.expect_download() as download:
        link.click()
    assert download.value.suggested_filename == "drawing.svg"
    assert Path(download.value.path()).read_bytes() == drawing.read_bytes()
    assert dialogs == []
    expect(page.get_by_role("heading", name="Edit item")).to_be_visible()
