"""The to-do app in a real browser, against the production-like stack. Users are created
in the stack's database by manage.py; everything else happens through the pages, as a person
would do it. Remove this file with the example app (todo/README.md)."""

import re
from http import HTTPStatus

import pytest
from playwright.sync_api import Page, expect

from tests.support.browser import Account

pytestmark = [pytest.mark.browser, pytest.mark.stack]

# A value that only todo.css gives: the page's background (`--ground`).
TODO_CSS_BACKGROUND = "rgb(244, 245, 247)"


def sign_in(page: Page, account: Account) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(account.username)
    page.get_by_label("Password").fill(account.password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Your lists")).to_be_visible()


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


def create_list(page: Page, name: str, items: list[str]) -> str:
    """A list made through the home page, with `items` added in order; returns its URL."""
    page.goto("/")
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
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/$"))
    sign_in(page, account)
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

    page.goto("/")
    expect(page.locator(".row", has_text="Groceries")).to_contain_text("1 of 3 done")

    sign_out(page)
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/$"))


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


def test_the_stylesheet_is_served_by_nginx_and_applied(page):
    """todo.css comes from nginx under its hashed name and applies (a background only it sets)."""
    with page.expect_response(re.compile(r"/static/todo/todo\.[0-9a-f]{12}\.css$")) as css:
        page.goto("/accounts/login/")
    assert css.value.status == HTTPStatus.OK
    assert css.value.headers["server"] == "nginx"
    background = page.locator("body").evaluate("e => getComputedStyle(e).backgroundColor")
    assert background == TODO_CSS_BACKGROUND
