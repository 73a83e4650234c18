"""Bad input against the production-like stack (real nginx with the project's config, real
gunicorn, PostgreSQL), on the project's own pages: malformed HTTP and oversized bodies answered
by nginx alone, unknown hosts refused, and the sign-in form given every kind of wrong value.
Each gets a clear 4xx, nothing is written, the logs stay one line per request, and the app
keeps serving."""

import socket
from collections.abc import Iterator
from http import HTTPStatus

import pytest
import requests

from harness.accounts import post_form
from harness.stack import Stack

pytestmark = [pytest.mark.stack, pytest.mark.usefixtures("stack_still_serving")]

FORM = "application/x-www-form-urlencoded"
# DJANGO_MAX_UPLOAD_MB's default, 10, and 1 MB for the rest of a form (upload-limit.sh).
NGINX_BODY_LIMIT = 11 * 1024 * 1024
DJANGO_BODY_LIMIT = 2_621_440  # DATA_UPLOAD_MAX_MEMORY_SIZE, Django's default
SIGN_IN = "/accounts/login/"
INJECTIONS = [
    "'; DROP TABLE accounts_user; --",
    "1' OR '1'='1",
    "{{ 7|add:7 }}",
    "{% debug %}",
    "<script>alert(1)</script>",
]


@pytest.fixture
def unchanged(stack) -> Iterator[None]:
    """The test writes nothing: no user, no session, no sign-in recorded."""

    def snapshot() -> list[tuple]:
        with stack.database() as connection:
            return connection.execute(
                "SELECT 'user', id::text, username, last_login::text FROM accounts_user "
                "UNION ALL SELECT 'session', session_key, '', '' FROM django_session "
                "ORDER BY 1, 2"
            ).fetchall()

    before = snapshot()
    yield
    assert snapshot() == before


class Visitor:
    """A browser on the sign-in page: its CSRF cookie and token, posting form data as given.
    Straight to gunicorn: nginx limits sign-in POSTs per client, and the browser tests need
    those (the limit has a test of its own in test_stack.py)."""

    def __init__(self, stack: Stack):
        self.url = stack.gunicorn_url
        self.session = requests.Session()
        self.session.get(f"{self.url}{SIGN_IN}", timeout=10).raise_for_status()

    def post(self, data: dict | bytes, *, csrf: bool = True) -> requests.Response:
        return post_form(self.session, f"{self.url}{SIGN_IN}", data, origin=self.url, csrf=csrf)


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


def test_a_body_over_nginxs_limit_is_refused_by_nginx_with_413(stack, unchanged):
    """A body over nginx's limit, declared or chunked, gets its 413; gunicorn never sees it."""
    lines_before = len(log_lines(stack))
    declared = raw_exchange(
        stack,
        b"POST /accounts/login/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
        + FORM.encode()
        + b"\r\n"
        b"Content-Length: " + str(NGINX_BODY_LIMIT + 1).encode() + b"\r\n\r\n",
    )
    assert declared.startswith(b"HTTP/1.1 413 "), declared[:300]
    chunk_header = b"100000\r\n"  # 1 MiB chunks: one more than nginx takes
    chunked = raw_exchange(
        stack,
        b"POST /accounts/login/ HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n"
        + (chunk_header + b"x" * 0x100000 + b"\r\n") * (NGINX_BODY_LIMIT // 0x100000 + 1)
        + b"0\r\n\r\n",
    )
    assert chunked.startswith(b"HTTP/1.1 413 "), chunked[:300]
    assert len(log_lines(stack)) == lines_before


def test_a_form_body_over_djangos_limit_is_a_400_not_a_crash(stack, unchanged):
    """Form data over Django's 2.5 MB (under nginx's 11 MiB) gets Django's 400, every time."""
    value = "x" * (DJANGO_BODY_LIMIT + 1)
    for field in ("username", "password"):
        response = Visitor(stack).post({"username": "a", "password": "b", field: value})
        assert response.status_code == HTTPStatus.BAD_REQUEST, field
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


# --- The sign-in form ----------------------------------------------------------------------


def test_form_data_that_is_not_utf8_is_a_400_in_every_field(stack, unchanged):
    visitor = Visitor(stack)
    for field in ("username", "password"):
        for bad in (b"%FF", b"%C3", b"caf%E9", b"\xff\xfe", b"%ED%A0%80"):
            response = visitor.post(field.encode() + b"=" + bad)
            assert response.status_code == HTTPStatus.BAD_REQUEST, (field, bad)
            assert response.text == "Bad Request (400): the form data is not valid UTF-8.\n"


@pytest.mark.parametrize(
    "credentials",
    [
        {},
        {"username": "", "password": ""},
        {"username": "   \t\n", "password": "x"},
        {"username": "a\x00b", "password": "x"},
        {"username": "x" * 10_000, "password": "x" * 10_000},
        *({"username": text, "password": text} for text in INJECTIONS),
    ],
)
def test_wrong_values_get_the_form_again_and_sign_no_one_in(stack, unchanged, credentials):
    """Empty, blank, NUL-bearing, over-long and injected values: the form again (or a 400),
    escaped, and nobody signed in."""
    response = Visitor(stack).post(credentials)
    assert response.status_code in {HTTPStatus.OK, HTTPStatus.BAD_REQUEST}
    if response.status_code == HTTPStatus.OK:
        assert 'class="errorlist' in response.text
        assert "<script>alert(1)</script>" not in response.text
    assert "sessionid" not in response.cookies


def test_posts_without_a_csrf_token_are_403(stack, unchanged):
    """A sign-in without the token, or with a wrong one, is refused even with the right
    password."""
    credentials = {"username": stack.superuser.username, "password": stack.superuser.password}
    visitor = Visitor(stack)
    assert visitor.post(credentials, csrf=False).status_code == HTTPStatus.FORBIDDEN
    wrong = visitor.post({**credentials, "csrfmiddlewaretoken": "x" * 32}, csrf=False)
    assert wrong.status_code == HTTPStatus.FORBIDDEN
