"""Bad input, against the production-like stack (real nginx with the project's config, real
gunicorn, PostgreSQL): each gets a clear 4xx or the form again with its error, nothing is
written, the logs stay one line per request, and the app keeps serving."""

import html
import re
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from http import HTTPStatus

import psycopg
import pytest
import requests

from tests.support.browser import create_account
from tests.support.stack import Stack

pytestmark = pytest.mark.stack

FORM = "application/x-www-form-urlencoded"
NGINX_BODY_LIMIT = 10 * 1024 * 1024  # client_max_body_size 10m
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
    """A signed-in session; POSTs carry the CSRF token unless told not to."""

    session: requests.Session
    url: str

    def get(self, path: str) -> requests.Response:
        return self.session.get(f"{self.url}{path}", allow_redirects=False, timeout=10)

    def post(self, path: str, data: dict | bytes, *, csrf: bool = True) -> requests.Response:
        if isinstance(data, dict):
            data = {**({"csrfmiddlewaretoken": self.token} if csrf else {}), **data}
        elif csrf:
            data += b"&csrfmiddlewaretoken=" + self.token.encode()
        return self.session.post(
            f"{self.url}{path}",
            data=data,
            headers={"Origin": self.url, "Content-Type": FORM},
            allow_redirects=False,
            timeout=30,
        )

    @property
    def token(self) -> str:
        return self.session.cookies["csrftoken"]


def sign_in(stack: Stack, name: str) -> User:
    """A new user, signed in through gunicorn directly: the stack's nginx limits sign-in POSTs
    per client, and the browser tests need those. The session then goes through nginx."""
    account = create_account(stack, name)
    session = requests.Session()
    session.get(f"{stack.gunicorn_url}/accounts/login/", timeout=10)
    response = session.post(
        f"{stack.gunicorn_url}/accounts/login/",
        data={
            "username": account.username,
            "password": account.password,
            "csrfmiddlewaretoken": session.cookies["csrftoken"],
        },
        headers={"Origin": stack.gunicorn_url},
        allow_redirects=False,
        timeout=10,
    )
    assert response.status_code == HTTPStatus.FOUND, response.text
    return User(session, stack.url)


def database(stack: Stack) -> psycopg.Connection:
    env = stack.env
    return psycopg.connect(
        host=env["DJANGO_DB_HOST"],
        port=env["DJANGO_DB_PORT"],
        user=env["POSTGRES_USER"],
        password=env["POSTGRES_PASSWORD"],
        dbname=env["POSTGRES_DB"],
        autocommit=True,
    )


def snapshot(stack: Stack) -> list[tuple]:
    """Every list and item, every column that a form or a service can change."""
    with database(stack) as connection:
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
    alice, bob = sign_in(stack, "alice"), sign_in(stack, "bob")
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


@pytest.fixture(autouse=True)
def still_serving(stack) -> Iterator[None]:
    """After each test, the app still answers, through nginx, from the database."""
    yield
    response = requests.get(f"{stack.url}/health/", timeout=10)
    assert response.status_code == HTTPStatus.OK
    assert response.json()["database"] == "ok"


def raw_exchange(stack: Stack, request: bytes, *, body_chunks: int = 0) -> bytes:
    """Sends bytes to nginx as they are (then body_chunks MiB of body, as long as nginx reads)
    and returns what nginx answers."""
    port = int(stack.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        try:
            for _ in range(body_chunks):
                sock.sendall(b"x" * 1024 * 1024)
        except (BrokenPipeError, ConnectionResetError):
            pass  # nginx has answered and closed: the answer is what counts
        answer = b""
        try:
            while chunk := sock.recv(65536):
                answer += chunk
        except ConnectionResetError:
            pass
        return answer


def log_lines(stack: Stack) -> list[str]:
    """gunicorn's log, less the health checks between tests (their lines come late)."""
    return [line for line in stack.log("gunicorn.log").splitlines() if "GET /health/ " not in line]


# --- Malformed HTTP and oversized bodies: nginx answers alone ---------------------------

MALFORMED = {
    "binary garbage": b"\x00\x01\x02\xff garbage \r\n\r\n",
    "no request line": b"\r\nHost: 127.0.0.1\r\n\r\n",
    "a header line without a colon": b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nnot a header\r\n\r\n",
    "no Host in HTTP/1.1": b"GET / HTTP/1.1\r\n\r\n",
    "a NUL in the path": b"GET /\x00 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
    "a negative Content-Length": b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    b"Content-Length: -1\r\n\r\n",
    "Content-Length and chunked (smuggling)": b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    b"Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    "a bad chunk size": b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    b"Transfer-Encoding: chunked\r\n\r\nzz\r\n",
    "a 64 KiB header": b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"a" * 65536 + b"\r\n\r\n",
}


@pytest.mark.parametrize("request_bytes", MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_http_gets_a_400_from_nginx_and_never_reaches_the_app(stack, request_bytes):
    """Malformed HTTP gets nginx's 400 and never reaches gunicorn."""
    lines_before = len(log_lines(stack))
    answer = raw_exchange(stack, request_bytes)
    status_line, _, rest = answer.partition(b"\r\n")
    print(f"{status_line.decode()!r}")
    assert status_line.startswith(b"HTTP/1.1 400 "), answer[:300]
    assert b"\r\nServer: nginx\r\n" in b"\r\n" + rest
    assert len(log_lines(stack)) == lines_before, "gunicorn saw the request"


def test_a_body_over_10_mib_is_refused_by_nginx_with_413(stack, unchanged):
    """A body over 10 MiB, declared or chunked, gets nginx's 413; gunicorn never sees it."""
    lines_before = len(log_lines(stack))
    declared = raw_exchange(
        stack,
        b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: " + FORM.encode() + b"\r\n"
        b"Content-Length: " + str(NGINX_BODY_LIMIT + 1).encode() + b"\r\n\r\n",
    )
    assert declared.startswith(b"HTTP/1.1 413 "), declared[:300]
    chunk_header = b"100000\r\n"  # 1 MiB chunks: 11 of them, more than nginx takes
    chunked = raw_exchange(
        stack,
        b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n"
        + (chunk_header + b"x" * 0x100000 + b"\r\n") * 11
        + b"0\r\n\r\n",
    )
    assert chunked.startswith(b"HTTP/1.1 413 "), chunked[:300]
    assert len(log_lines(stack)) == lines_before


def test_a_form_body_over_djangos_limit_is_a_400_not_a_crash(stack, board, unchanged):
    """Form data over Django's 2.5 MB (under nginx's 10 MiB) gets Django's 400, every time."""
    value = "x" * (DJANGO_BODY_LIMIT + 1)
    for path, field, _ in board.form_posts():
        response = board.alice.post(path, {**board.valid_form(path), field: value})
        assert response.status_code == HTTPStatus.BAD_REQUEST, (path, field)
    # Django's own 400 each time: the app read the unread body (config/wsgi.py), so nginx
    # never lost the connection halfway through sending it.
    assert "while sending request to upstream" not in stack.log("nginx-error.log")


# --- Hosts -----------------------------------------------------------------------------


UNKNOWN_HOSTS = ["evil.example", "127.0.0.1.evil.example", "localhost:1@evil", "x" * 200] * 5


def test_nginx_refuses_an_unknown_host_without_an_answer_and_django_never_sees_it(stack):
    """A host outside DJANGO_ALLOWED_HOSTS: nginx closes the connection (444), nothing reaches
    gunicorn nor its log, and the known hosts are served as before."""
    lines_before = len(log_lines(stack))
    for host in ["evil.example", "127.0.0.1.evil.example", "x" * 200, "[::2]:80"] * 5:
        with pytest.raises(requests.ConnectionError):
            requests.get(f"{stack.url}/accounts/login/", headers={"Host": host}, timeout=10)
    assert log_lines(stack)[lines_before:] == []
    # nginx takes the name before the colon ("localhost") for the host and lets it through;
    # Django, which reads the whole header, refuses it.
    odd = requests.get(f"{stack.url}/", headers={"Host": "localhost:1@evil"}, timeout=10)
    assert odd.status_code == HTTPStatus.BAD_REQUEST
    port = stack.url.rsplit(":", 1)[1]
    for host in ("localhost", f"127.0.0.1:{port}", f"[::1]:{port}"):
        response = requests.get(f"{stack.url}/accounts/login/", headers={"Host": host}, timeout=10)
        assert response.status_code == HTTPStatus.OK, host


def test_an_unknown_host_that_reaches_django_is_a_400_logged_in_one_line_each(stack):
    """Past nginx (gunicorn's port, published in development), Django refuses an unknown
    Host with a 400, logged in one line each, never a traceback."""
    lines_before = len(log_lines(stack))
    for host in UNKNOWN_HOSTS:
        response = requests.get(f"{stack.gunicorn_url}/", headers={"Host": host}, timeout=10)
        assert response.status_code == HTTPStatus.BAD_REQUEST, host
    new_lines = log_lines(stack)[lines_before:]
    refused = [line for line in new_lines if "django.security.DisallowedHost" in line]
    print(f"{len(UNKNOWN_HOSTS)} requests with unknown hosts: {len(new_lines)} log lines")
    assert len(refused) == len(UNKNOWN_HOSTS), new_lines
    assert "Invalid HTTP_HOST header: 'evil.example'." in refused[0]
    assert len(new_lines) <= 2 * len(UNKNOWN_HOSTS), new_lines  # the access log's and that one
    assert not any("Traceback" in line for line in new_lines)


# --- Every field of every to-do form ------------------------------------------------------


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
