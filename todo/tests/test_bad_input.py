"""Bad input in every field of every to-do form, against the production-like stack (real nginx
with the project's config, real gunicorn, PostgreSQL): each gets a clear 4xx or the form again
with its error, nothing is written, and the app keeps serving."""

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass
from http import HTTPStatus

import pytest
import requests

from harness.accounts import create_account, post_form, sign_in
from harness.stack import Stack

pytestmark = [pytest.mark.stack, pytest.mark.usefixtures("stack_still_serving")]

DJANGO_BODY_LIMIT = 2_621_440  # DATA_UPLOAD_MAX_MEMORY_SIZE, Django's default

SQL_INJECTIONS = [
    "'; DROP TABLE todo_item; --",
    "1' OR '1'='1",
    "x\\'); DELETE FROM todo_todolist; --",
]
TEMPLATE_INJECTIONS = ["{{ 7|add:7 }}", "{% debug %}", "<script>alert(1)</script>", "${7*7}"]


# --- Helpers ------------------------------------------------------------------------------


@dataclass
class User:
    """A signed-in session on the to-do app (paths are the app's own, under /todo/); POSTs
    carry the CSRF token unless told not to."""

    session: requests.Session
    origin: str

    @property
    def url(self) -> str:
        return f"{self.origin}/todo"

    def get(self, path: str) -> requests.Response:
        return self.session.get(f"{self.url}{path}", allow_redirects=False, timeout=10)

    def post(self, path: str, data: dict | bytes, *, csrf: bool = True) -> requests.Response:
        return post_form(self.session, f"{self.url}{path}", data, origin=self.origin, csrf=csrf)


def signed_in_user(stack: Stack, name: str) -> User:
    """A new user, signed in through gunicorn directly: the stack's nginx limits sign-in POSTs
    per client, and the browser tests need those. The session then goes through nginx."""
    session, response = sign_in(stack.gunicorn_url, create_account(stack.env, name))
    assert response.status_code == HTTPStatus.FOUND, response.text
    return User(session, stack.url)


def snapshot(stack: Stack) -> list[tuple]:
    """Every list and item, every column that a form or a service can change."""
    with stack.database() as connection:
        return connection.execute(
            "SELECT 'list', id, owner_id, name, '', 0 FROM todo_todolist "
            "UNION ALL SELECT 'item', id, todo_list_id, title, state, position FROM todo_item "
            "ORDER BY 1, 2"
        ).fetchall()


@dataclass
class Board:
    """Alice's list with one item, and the paths of every form of the to-do app."""

    alice: User
    bob: User
    list_pk: int
    item_pk: int

    def form_posts(self) -> list[tuple[str, str, str]]:
        """(path, field, a valid value) for every field of every to-do form."""
        lists, items = f"/lists/{self.list_pk}", f"/items/{self.item_pk}"
        return [
            ("/", "name", "Groceries"),
            (f"{lists}/edit/", "name", "Groceries"),
            (f"{lists}/", "title", "Milk"),
            (f"{items}/edit/", "title", "Milk"),
            (f"{items}/edit/", "state", "done"),
            (f"{items}/state/", "state", "doing"),
            (f"{items}/move/", "direction", "down"),
        ]

    def valid_form(self, path: str) -> dict[str, str]:
        return {field: value for p, field, value in self.form_posts() if p == path}

    def all_posts(self) -> list[str]:
        """Every path that changes something, the delete confirmations included."""
        paths = {path for path, _, _ in self.form_posts()}
        return sorted(paths | {f"/lists/{self.list_pk}/delete/", f"/items/{self.item_pk}/delete/"})


@pytest.fixture(scope="module")
def board(stack) -> Board:
    alice, bob = signed_in_user(stack, "alice"), signed_in_user(stack, "bob")
    created = alice.post("/", {"name": "Alice's list"})
    assert created.status_code == HTTPStatus.FOUND
    list_pk = int(re.search(r"/lists/(\d+)/", created.headers["Location"])[1])
    assert alice.post(f"/lists/{list_pk}/", {"title": "First"}).status_code == HTTPStatus.FOUND
    assert alice.post(f"/lists/{list_pk}/", {"title": "Second"}).status_code == HTTPStatus.FOUND
    page = alice.get(f"/lists/{list_pk}/").text
    item_pk = int(re.search(r"/items/(\d+)/edit/", page)[1])
    return Board(alice, bob, list_pk, item_pk)


@pytest.fixture
def unchanged(stack, board) -> Iterator[None]:
    """The test writes nothing: every list and item is as it was before."""
    before = snapshot(stack)
    yield
    assert snapshot(stack) == before


# --- Every field of every to-do form ------------------------------------------------------


def test_a_form_body_over_djangos_limit_is_a_400_not_a_crash(stack, board, unchanged):
    """Form data over Django's 2.5 MB (under nginx's 10 MiB) gets Django's 400, every time."""
    value = "x" * (DJANGO_BODY_LIMIT + 1)
    for path, field, _ in board.form_posts():
        response = board.alice.post(path, {**board.valid_form(path), field: value})
        assert response.status_code == HTTPStatus.BAD_REQUEST, (path, field)
    # Django's own 400 each time: the app read the unread body (config/wsgi.py), so nginx
    # never lost the connection halfway through sending it.
    assert "while sending request to upstream" not in stack.log("nginx-error.log")


def test_form_data_that_is_not_utf8_is_a_400_in_every_field(board, unchanged):
    """Form data that is not UTF-8 is a 400 in every field of every to-do form."""
    for path, field, _ in board.form_posts():
        for bad in (b"%FF", b"%C3", b"caf%E9", b"\xff\xfe", b"%ED%A0%80"):
            response = board.alice.post(path, field.encode() + b"=" + bad)
            assert response.status_code == HTTPStatus.BAD_REQUEST, (path, field, bad)
            assert response.text == "Bad Request (400): the form data is not valid UTF-8.\n"


def test_over_long_values_are_refused_in_every_field(board, unchanged):
    """One character over the limit: the form again with its error, or a 400 (fixed values)."""
    for path, field, _ in board.form_posts():
        too_long = "x" * {"name": 101, "title": 201}.get(field, 1000)
        response = board.alice.post(path, {**board.valid_form(path), field: too_long})
        if field in {"name", "title"}:
            assert response.status_code == HTTPStatus.OK, (path, field)
            limit = 100 if field == "name" else 200
            assert f"Ensure this value has at most {limit} characters" in response.text
        elif path.endswith(("/state/", "/move/")):
            assert response.status_code == HTTPStatus.BAD_REQUEST, (path, field)
        else:
            assert response.status_code == HTTPStatus.OK, (path, field)
            assert "Select a valid choice." in response.text


def test_empty_blank_and_nul_values_are_refused_in_every_field(board, unchanged):
    """Empty, blank and NUL-bearing values: the form again with its error, or a 400."""
    for path, field, _ in board.form_posts():
        for value in ("", "   \t\n", "a\x00b"):
            response = board.alice.post(path, {**board.valid_form(path), field: value})
            assert response.status_code in {HTTPStatus.OK, HTTPStatus.BAD_REQUEST}, (path, field)
            if response.status_code == HTTPStatus.OK:
                assert 'class="errorlist' in response.text, (path, field, value)


def test_posts_without_a_csrf_token_are_403(board, unchanged):
    """Every POST without a CSRF token, or with a wrong one, is a 403."""
    for path in board.all_posts():
        response = board.alice.post(path, board.valid_form(path), csrf=False)
        assert response.status_code == HTTPStatus.FORBIDDEN, path
        wrong = board.alice.post(path, {**board.valid_form(path), "csrfmiddlewaretoken": "x" * 32})
        assert wrong.status_code == HTTPStatus.FORBIDDEN, path


def test_another_users_ids_are_404_for_reads_and_writes(board, unchanged):
    """Another user's list and item ids are 404s, exactly like ids that do not exist."""
    lists, items = f"/lists/{board.list_pk}", f"/items/{board.item_pk}"
    for path in (f"{lists}/", f"{lists}/board/", f"{lists}/edit/", f"{lists}/delete/"):
        assert board.bob.get(path).status_code == HTTPStatus.NOT_FOUND, path
    for path in (f"{items}/edit/", f"{items}/delete/"):
        assert board.bob.get(path).status_code == HTTPStatus.NOT_FOUND, path
    for path in board.all_posts():
        if path == "/":
            continue  # creates a list of bob's own: nothing of alice's
        response = board.bob.post(path, board.valid_form(path))
        assert response.status_code == HTTPStatus.NOT_FOUND, path


def test_injection_in_urls_and_query_strings_finds_nothing(board, unchanged):
    """Injection in URLs gives 404s, in ?page= the first page: nothing else happens."""
    for path in (
        "/lists/1%20OR%201=1/",
        "/lists/1;DROP%20TABLE%20todo_item/",
        "/lists/-1/",
        "/lists/99999999999999999999999/",
        "/items/%27/edit/",
    ):
        assert board.alice.get(path).status_code == HTTPStatus.NOT_FOUND, path
    for query in ("1' OR '1'='1", "{{7*7}}", "-1", "9" * 30, "%FF"):
        response = board.alice.get(f"/lists/{board.list_pk}/?page={query}")
        assert response.status_code == HTTPStatus.OK, query


@pytest.mark.parametrize("text", SQL_INJECTIONS + TEMPLATE_INJECTIONS)
def test_sql_and_template_injection_is_stored_as_text_and_shown_escaped(stack, board, text):
    """SQL and template injection is saved as typed, changes no other row, is shown escaped."""
    before = snapshot(stack)
    created = board.alice.post("/", {"name": text})
    assert created.status_code == HTTPStatus.FOUND
    new_pk = int(re.search(r"/lists/(\d+)/", created.headers["Location"])[1])
    added = board.alice.post(f"/lists/{new_pk}/", {"title": text})
    assert added.status_code == HTTPStatus.FOUND
    after = snapshot(stack)
    existing = {(kind, pk) for kind, pk, *_ in before}
    assert [row for row in after if tuple(row[:2]) in existing] == before
    new_rows = sorted((kind, text) for kind, pk, _, text, *_ in after if (kind, pk) not in existing)
    assert new_rows == [("item", text), ("list", text)]

    page = board.alice.get(f"/lists/{new_pk}/").text
    assert html.escape(text) in page  # shown as typed, escaped: not run as markup or template
    assert "<script>alert(1)</script>" not in page
    assert board.alice.post(f"/lists/{new_pk}/delete/", {}).status_code == HTTPStatus.FOUND
    assert snapshot(stack) == before
