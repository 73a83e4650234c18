import re
from http import HTTPStatus

import pytest
from django.test import Client
from django.urls import reverse

from todo.models import Item, TodoList
from todo.views import ITEMS_PER_PAGE, LISTS_PER_PAGE

from .factories import make_item, make_items, make_list

pytestmark = pytest.mark.django_db

LISTS = "/todo/"


def field_with_error(html: str, name: str) -> re.Match | None:
    """The field's error list directly before its input, which points back at it (the markup
    of Django's `as_field_group`)."""
    return re.search(
        rf'<ul class="errorlist" id="id_{name}_error"><li>(?P<message>[^<]+)</li></ul>\s*'
        rf'<(input|select)[^>]*name="{name}"[^>]*aria-invalid="true"'
        rf'[^>]*aria-describedby="id_{name}_error"',
        html,
    )


# --- Signing in -------------------------------------------------------------------------


def test_the_lists_page_sends_visitors_to_sign_in(client):
    """Anonymous visitors are redirected to the sign-in page, and back afterwards."""
    response = client.get(LISTS)
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == f"/accounts/login/?next={LISTS}"


def test_the_home_page_links_the_lists(alice_client):
    """The project's home page leads to the example app."""
    assert f'href="{LISTS}"' in alice_client.get("/").text


# --- Lists -------------------------------------------------------------------------------


def test_the_lists_page_shows_my_lists_and_not_others(alice_client, alice, bob):
    """Each user sees their own lists, with their counts."""
    mine = make_list(owner=alice, name="Groceries")
    make_item(todo_list=mine, state=Item.State.DONE)
    make_list(owner=bob, name="Bob's secret plans")
    response = alice_client.get(LISTS)
    assert response.status_code == HTTPStatus.OK
    assert "Groceries" in response.text
    assert "1 of 1 done" in response.text
    assert "secret plans" not in response.text


def test_the_pages_link_the_project_and_the_app_stylesheets(alice_client):
    """todo/base.html adds todo.css to the project's site.css, through {% static %}."""
    page = alice_client.get(LISTS).text
    assert 'href="/static/site.css"' in page
    assert 'href="/static/todo/todo.css"' in page


def test_creating_a_list_leads_to_it(alice_client, alice):
    """POST /todo/ creates a list owned by the signed-in user."""
    response = alice_client.post(LISTS, {"name": "Groceries"})
    todo_list = TodoList.objects.get()
    assert todo_list.owner == alice
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == todo_list.get_absolute_url()


def test_a_list_without_a_name_shows_the_error_next_to_the_field(alice_client):
    """The error is rendered right before the name input, which refers to it."""
    response = alice_client.post(LISTS, {"name": ""})
    assert response.status_code == HTTPStatus.OK
    match = field_with_error(response.text, "name")
    assert match, response.text
    assert match["message"] == "This field is required."
    assert not TodoList.objects.exists()


def test_renaming_a_list(alice_client, alice):
    """The edit page is filled in, and a POST renames."""
    todo_list = make_list(owner=alice, name="Old")
    url = reverse("todo:list-edit", args=[todo_list.pk])
    assert 'value="Old"' in alice_client.get(url).text
    response = alice_client.post(url, {"name": "New"})
    assert response["Location"] == todo_list.get_absolute_url()
    todo_list.refresh_from_db()
    assert todo_list.name == "New"


def test_renaming_to_nothing_shows_the_error_and_keeps_the_name(alice_client, alice):
    """An invalid rename changes nothing."""
    todo_list = make_list(owner=alice, name="Old")
    response = alice_client.post(reverse("todo:list-edit", args=[todo_list.pk]), {"name": ""})
    assert field_with_error(response.text, "name")
    todo_list.refresh_from_db()
    assert todo_list.name == "Old"


def test_deleting_a_list_asks_first(alice_client, alice):
    """GET shows a confirmation; only the POST deletes."""
    todo_list = make_list(owner=alice, name="Groceries")
    url = reverse("todo:list-delete", args=[todo_list.pk])
    assert "Delete “Groceries”?" in alice_client.get(url).text
    assert TodoList.objects.exists()
    response = alice_client.post(url)
    assert response["Location"] == LISTS
    assert not TodoList.objects.exists()


# --- Items -------------------------------------------------------------------------------


def test_adding_an_item_leads_to_the_page_that_shows_it(alice_client, alice):
    """The new item is last: the redirect goes to the list's last page."""
    todo_list = make_list(owner=alice)
    make_items(todo_list, ITEMS_PER_PAGE)
    response = alice_client.post(todo_list.get_absolute_url(), {"title": "The new one"})
    assert response["Location"] == f"{todo_list.get_absolute_url()}?page=last"
    page = alice_client.get(response["Location"])
    assert page.context["page"].number == 2
    assert "The new one" in page.text


def test_an_item_without_a_title_shows_the_error_next_to_the_field(alice_client, alice):
    """The error sits by the title input; nothing is added."""
    todo_list = make_list(owner=alice)
    response = alice_client.post(todo_list.get_absolute_url(), {"title": "  "})
    assert response.status_code == HTTPStatus.OK
    assert field_with_error(response.text, "title")
    assert not todo_list.items.exists()


def test_editing_an_item(alice_client, alice):
    """Title and state are saved; back to the list."""
    item = make_item(todo_list=make_list(owner=alice), title="Milk")
    url = reverse("todo:item-edit", args=[item.pk])
    assert 'value="Milk"' in alice_client.get(url).text
    response = alice_client.post(url, {"title": "Oat milk", "state": "doing"})
    assert response["Location"] == item.todo_list.get_absolute_url()
    item.refresh_from_db()
    assert (item.title, item.state) == ("Oat milk", Item.State.DOING)


def test_an_invalid_edit_shows_errors_by_each_field_and_changes_nothing(alice_client, alice):
    """Both bad fields get their own error."""
    item = make_item(todo_list=make_list(owner=alice), title="Milk")
    response = alice_client.post(
        reverse("todo:item-edit", args=[item.pk]), {"title": "", "state": "someday"}
    )
    assert field_with_error(response.text, "title")
    assert field_with_error(response.text, "state")
    item.refresh_from_db()
    assert (item.title, item.state) == ("Milk", Item.State.TODO)


def test_completing_an_item_returns_to_the_page_it_was_done_on(alice_client, alice):
    """The state button posts `next`: the board stays the board."""
    item = make_item(todo_list=make_list(owner=alice))
    board = reverse("todo:board", args=[item.todo_list.pk])
    response = alice_client.post(
        reverse("todo:item-state", args=[item.pk]), {"state": "done", "next": board}
    )
    assert response["Location"] == board
    assert Item.objects.get(pk=item.pk).state == Item.State.DONE


def test_a_next_outside_the_site_is_ignored(alice_client, alice):
    """No open redirect: a foreign `next` falls back to the list."""
    item = make_item(todo_list=make_list(owner=alice))
    response = alice_client.post(
        reverse("todo:item-state", args=[item.pk]),
        {"state": "done", "next": "https://elsewhere.example/"},
    )
    assert response["Location"] == item.todo_list.get_absolute_url()


def test_an_unknown_state_is_a_bad_request(alice_client, alice):
    """Only the three states are accepted; the item is left alone."""
    item = make_item(todo_list=make_list(owner=alice))
    response = alice_client.post(reverse("todo:item-state", args=[item.pk]), {"state": "x"})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert Item.objects.get(pk=item.pk).state == Item.State.TODO


def test_moving_an_item_up_and_down(alice_client, alice):
    """The arrows reorder the list."""
    todo_list = make_list(owner=alice)
    make_item(todo_list=todo_list, title="a")
    b = make_item(todo_list=todo_list, title="b")
    alice_client.post(reverse("todo:item-move", args=[b.pk]), {"direction": "up"})
    assert [item.title for item in todo_list.items.all()] == ["b", "a"]
    alice_client.post(reverse("todo:item-move", args=[b.pk]), {"direction": "down"})
    assert [item.title for item in todo_list.items.all()] == ["a", "b"]
    bad = alice_client.post(reverse("todo:item-move", args=[b.pk]), {"direction": "left"})
    assert bad.status_code == HTTPStatus.BAD_REQUEST


def test_the_first_and_last_arrows_are_disabled(alice_client, alice):
    """Nothing to move past: the first up-arrow and the last down-arrow are off."""
    todo_list = make_list(owner=alice)
    make_item(todo_list=todo_list, title="only")
    text = alice_client.get(todo_list.get_absolute_url()).text
    assert re.search(r'value="up"[^>]*disabled', text)
    assert re.search(r'value="down"[^>]*disabled', text)


def test_changes_are_post_only(alice_client, alice):
    """A GET never changes state."""
    item = make_item(todo_list=make_list(owner=alice))
    for name in ("todo:item-state", "todo:item-move"):
        response = alice_client.get(reverse(name, args=[item.pk]))
        assert response.status_code == HTTPStatus.METHOD_NOT_ALLOWED


def test_deleting_an_item_asks_first(alice_client, alice):
    """GET shows a confirmation; only the POST deletes."""
    item = make_item(todo_list=make_list(owner=alice), title="Milk")
    url = reverse("todo:item-delete", args=[item.pk])
    assert "Delete “Milk”?" in alice_client.get(url).text
    assert Item.objects.exists()
    response = alice_client.post(url)
    assert response["Location"] == item.todo_list.get_absolute_url()
    assert not Item.objects.exists()


def test_the_board_shows_items_in_their_state_columns(alice_client, alice):
    """Three columns, each with its items, each item with buttons to the other states."""
    todo_list = make_list(owner=alice)
    make_item(todo_list=todo_list, title="Write tests", state=Item.State.DOING)
    response = alice_client.get(reverse("todo:board", args=[todo_list.pk]))
    assert response.status_code == HTTPStatus.OK
    doing = re.search(r'id="column-doing".*?</section>', response.text, re.DOTALL)[0]
    assert "Write tests" in doing
    assert re.findall(r'name="state" value="(\w+)"', doing) == ["todo", "done"]


# --- Cached rows: every change shows at once --------------------------------------------


def rows_and_cards(client: Client, todo_list: TodoList) -> tuple[str, str]:
    """The list page's rows and the board's cards, as a user sees them."""
    page = client.get(todo_list.get_absolute_url()).text
    board = client.get(reverse("todo:board", args=[todo_list.pk])).text
    return (
        re.search(r'<ol class="rows">.*?</ol>', page, re.DOTALL)[0],
        board[board.index('<div class="board">') :],
    )


def test_every_change_to_an_item_shows_on_the_cached_rows_and_cards(alice_client, alice):
    """Rows and cards are cached by the list's version (todo/templates): an edit, a state
    change, a move, a deletion and a save() outside the views each show on the next page,
    never the cached copy."""
    todo_list = make_list(owner=alice)
    first = make_item(todo_list=todo_list, title="Milk")
    second = make_item(todo_list=todo_list, title="Bread")
    rows, cards = rows_and_cards(alice_client, todo_list)  # now cached
    assert rows == rows_and_cards(alice_client, todo_list)[0]

    alice_client.post(
        reverse("todo:item-edit", args=[first.pk]), {"title": "Oat milk", "state": "doing"}
    )
    rows, cards = rows_and_cards(alice_client, todo_list)
    assert "Oat milk" in rows
    assert "Oat milk" in cards
    assert ">Milk<" not in rows + cards
    assert re.search(r'id="column-doing".*Oat milk', cards, re.DOTALL)

    alice_client.post(reverse("todo:item-state", args=[first.pk]), {"state": "done"})
    rows, cards = rows_and_cards(alice_client, todo_list)
    milk_row = re.search(rf'id="item-{first.pk}".*?</li>', rows, re.DOTALL)[0]
    assert "Reopen" in milk_row
    assert "badge-done" in milk_row
    assert re.search(r'id="column-done".*Oat milk', cards, re.DOTALL)

    # A move changes which row is first: the arrows follow.
    alice_client.post(reverse("todo:item-move", args=[second.pk]), {"direction": "up"})
    rows, _ = rows_and_cards(alice_client, todo_list)
    assert rows.index("Bread") < rows.index("Oat milk")
    bread_row = re.search(rf'id="item-{second.pk}".*?</li>', rows, re.DOTALL)[0]
    milk_row = re.search(rf'id="item-{first.pk}".*?</li>', rows, re.DOTALL)[0]
    assert re.search(r'value="up"[^>]*disabled', bread_row)
    assert not re.search(r'value="up"[^>]*disabled', milk_row)
    assert re.search(r'value="down"[^>]*disabled', milk_row)

    alice_client.post(reverse("todo:item-delete", args=[second.pk]))
    rows, cards = rows_and_cards(alice_client, todo_list)
    assert "Bread" not in rows + cards

    # The admin, a shell: any save() is a new version.
    first.refresh_from_db()
    first.title = "Soy milk"
    first.save()
    rows, cards = rows_and_cards(alice_client, todo_list)
    assert "Soy milk" in rows
    assert "Soy milk" in cards


def test_the_row_buttons_post_through_the_pages_one_form(alice_client, alice):
    """Each button names the page's one form (with its CSRF token and `next`) and posts to its
    own item's URL."""
    item = make_item(todo_list=make_list(owner=alice), title="Milk")
    for url, form in (
        (item.todo_list.get_absolute_url(), "row-actions"),
        (reverse("todo:board", args=[item.todo_list.pk]), "card-actions"),
    ):
        html = alice_client.get(url).text
        assert re.search(
            rf'<form id="{form}" method="post" hidden>\s*<input type="hidden" '
            r'name="csrfmiddlewaretoken"',
            html,
        )
        assert f'<input type="hidden" name="next" value="{url}">' in html
        buttons = re.findall(r"<button form=\"([\w-]+)\" formaction=\"([^\"]+)\"", html)
        assert buttons
        assert {name for name, _ in buttons} == {form}
        assert {action for _, action in buttons} <= {
            reverse("todo:item-state", args=[item.pk]),
            reverse("todo:item-move", args=[item.pk]),
        }


# --- Ownership: another user's id is a 404, and nothing changes ---------------------------


OTHER_USERS_OBJECTS = [
    ("get", "todo:list", "list", {}),
    ("post", "todo:list", "list", {"title": "sneaked in"}),
    ("get", "todo:board", "list", {}),
    ("get", "todo:list-edit", "list", {}),
    ("post", "todo:list-edit", "list", {"name": "taken over"}),
    ("get", "todo:list-delete", "list", {}),
    ("post", "todo:list-delete", "list", {}),
    ("get", "todo:item-edit", "item", {}),
    ("post", "todo:item-edit", "item", {"title": "taken over", "state": "done"}),
    ("post", "todo:item-state", "item", {"state": "done"}),
    ("post", "todo:item-move", "item", {"direction": "up"}),
    ("get", "todo:item-delete", "item", {}),
    ("post", "todo:item-delete", "item", {}),
]


def without_token(html: str) -> str:
    """The page without its CSRF token, which is masked anew on every response."""
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)


def snapshot() -> tuple[list, list]:
    return (
        list(TodoList.objects.values_list("pk", "owner", "name")),
        list(Item.objects.values_list("pk", "todo_list", "title", "state", "position")),
    )


@pytest.mark.parametrize(("method", "name", "target", "data"), OTHER_USERS_OBJECTS)
def test_another_users_list_or_item_is_not_found(alice_client, bob, method, name, target, data):
    """bob's ids are a 404 for alice, the same page as a missing id, and nothing changes."""
    bobs_list = make_list(owner=bob, name="Bob's list")
    make_item(todo_list=bobs_list, title="first")
    bobs_item = make_item(todo_list=bobs_list, title="second")
    pk = (bobs_list if target == "list" else bobs_item).pk
    before = snapshot()

    request = getattr(alice_client, method)
    response = request(reverse(name, args=[pk]), data)
    missing = request(reverse(name, args=[pk + 1000]), data)

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert without_token(response.text) == without_token(missing.text)
    # Without the token: 64 random letters and digits spell "Bob" about once in 4,000 pages.
    assert "Bob" not in without_token(response.text)
    assert snapshot() == before


@pytest.mark.parametrize(("method", "name", "target", "data"), OTHER_USERS_OBJECTS)
def test_signed_out_visitors_are_sent_to_sign_in(client, bob, method, name, target, data):
    """No page or change of the app without signing in."""
    item = make_item(todo_list=make_list(owner=bob))
    pk = (item.todo_list if target == "list" else item).pk
    before = snapshot()
    response = getattr(client, method)(reverse(name, args=[pk]), data)
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"].startswith("/accounts/login/?next=")
    assert snapshot() == before


# --- CSRF --------------------------------------------------------------------------------


@pytest.fixture
def csrf_client(alice):
    """A client that checks CSRF as browsers are checked (the test client normally skips it)."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    return client


CHANGES = [
    ("todo:lists", None, {"name": "forged"}),
    *(
        (name, target, data)
        for method, name, target, data in OTHER_USERS_OBJECTS
        if method == "post"
    ),
]


@pytest.mark.parametrize(("name", "target", "data"), CHANGES)
def test_a_post_without_a_csrf_token_is_refused(csrf_client, alice, name, target, data):
    """Every change needs the token: 403 and nothing changed."""
    item = make_item(todo_list=make_list(owner=alice), title="a")
    make_item(todo_list=item.todo_list, title="b")
    args = {"list": [item.todo_list.pk], "item": [item.pk], None: []}[target]
    before = snapshot()
    response = csrf_client.post(reverse(name, args=args), data)
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert snapshot() == before


def test_the_token_on_the_page_lets_the_form_through(csrf_client, alice):
    """The forms carry the token: the same POST with it succeeds."""
    page = csrf_client.get(LISTS)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)[1]
    response = csrf_client.post(LISTS, {"name": "Real", "csrfmiddlewaretoken": token})
    assert response.status_code == HTTPStatus.FOUND
    assert TodoList.objects.filter(owner=alice, name="Real").exists()


def test_every_page_is_csp_ready_and_every_form_posts_with_a_token(alice_client, alice, client):
    """Every form is a POST with a CSRF token; no inline style or script (ready for a CSP)."""
    item = make_item(todo_list=make_list(owner=alice))
    urls = [
        LISTS,
        item.todo_list.get_absolute_url(),
        reverse("todo:board", args=[item.todo_list.pk]),
        reverse("todo:list-edit", args=[item.todo_list.pk]),
        reverse("todo:list-delete", args=[item.todo_list.pk]),
        reverse("todo:item-edit", args=[item.pk]),
        reverse("todo:item-delete", args=[item.pk]),
        f"{LISTS}lists/0/",  # the 404 page
    ]
    pages = [alice_client.get(url).text for url in urls] + [client.get(reverse("login")).text]
    for html in pages:
        forms = re.findall(r"<form\b[^>]*>.*?</form>", html, re.DOTALL)
        assert forms
        for form in forms:
            assert 'method="post"' in form
            assert 'name="csrfmiddlewaretoken"' in form
        assert " style=" not in html
        assert "<script" not in html


# --- Pagination and query counts ---------------------------------------------------------


def test_the_lists_page_is_paginated(alice_client, alice):
    """LISTS_PER_PAGE lists a page, with a link to the next."""
    for number in range(LISTS_PER_PAGE + 5):
        make_list(owner=alice, name=f"List {number:03}")
    first = alice_client.get(LISTS)
    assert len(first.context["page"]) == LISTS_PER_PAGE
    assert "Page 1 of 2" in first.text
    assert 'href="?page=2"' in first.text
    second = alice_client.get(f"{LISTS}?page=2")
    assert [row.name for row in second.context["page"]][-1] == f"List {LISTS_PER_PAGE + 4:03}"
    assert len(second.context["page"]) == 5
    # Nonsense falls back to a page that exists.
    assert alice_client.get(f"{LISTS}?page=99").context["page"].number == 2
    assert alice_client.get(f"{LISTS}?page=x").context["page"].number == 1


def test_a_list_is_paginated(alice_client, alice):
    """ITEMS_PER_PAGE items a page."""
    todo_list = make_list(owner=alice)
    make_items(todo_list, ITEMS_PER_PAGE + 1)
    response = alice_client.get(todo_list.get_absolute_url())
    assert len(response.context["page"]) == ITEMS_PER_PAGE
    assert f"Item {ITEMS_PER_PAGE}<" not in response.text
    last = alice_client.get(f"{todo_list.get_absolute_url()}?page=2")
    assert [item.title for item in last.context["page"]] == [f"Item {ITEMS_PER_PAGE}"]


# Session, user, count, rows: the same whatever the number of rows.
LISTS_QUERIES = 4
# Session, user, the list with its count and version, items (not when the cache has them).
LIST_QUERIES = 4


@pytest.mark.parametrize("rows", [5, 50])
def test_the_lists_page_queries_do_not_grow_with_the_lists(
    alice_client, alice, django_assert_num_queries, rows
):
    """Item counts come in the lists' query: no query per list."""
    for number in range(rows):
        make_items(make_list(owner=alice, name=f"List {number:03}"), 3)
    with django_assert_num_queries(LISTS_QUERIES):
        response = alice_client.get(LISTS)
    assert len(response.context["page"]) == min(rows, LISTS_PER_PAGE)


@pytest.mark.parametrize("view", ["todo:list", "todo:board"])
@pytest.mark.parametrize("rows", [5, 50])
def test_the_item_pages_queries_do_not_grow_with_the_items(
    alice_client, alice, django_assert_num_queries, view, rows
):
    """The list and the board show their items in a fixed number of queries."""
    todo_list = make_list(owner=alice)
    make_items(todo_list, rows)
    with django_assert_num_queries(LIST_QUERIES):
        response = alice_client.get(reverse(view, args=[todo_list.pk]))
    assert response.status_code == HTTPStatus.OK
    assert len(response.context["page"]) == min(rows, response.context["page"].paginator.per_page)


@pytest.mark.parametrize(
    ("view", "items_start"), [("todo:list", '<ol class="rows">'), ("todo:board", 'class="board"')]
)
def test_an_unchanged_page_of_items_comes_from_the_cache_without_fetching_them(
    alice_client, alice, django_assert_num_queries, view, items_start
):
    """Seen again unchanged, a page serves its items from the cache (no items query), each
    page number its own; a new item is on the next view at once (the version changed)."""
    todo_list = make_list(owner=alice)
    make_items(todo_list, 70)
    url = reverse(view, args=[todo_list.pk])
    first = alice_client.get(url)
    per_page = first.context["page"].paginator.per_page
    with django_assert_num_queries(LIST_QUERIES - 1):
        again = alice_client.get(url).text
    assert again[again.index(items_start) :] == first.text[first.text.index(items_start) :]
    assert "Item 0<" in again
    second_page = alice_client.get(f"{url}?page=2").text
    assert "Item 0<" not in second_page
    assert f"Item {per_page}<" in second_page

    alice_client.post(todo_list.get_absolute_url(), {"title": "Stamps"})
    assert "Stamps" in alice_client.get(f"{url}?page=last").text
