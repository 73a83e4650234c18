"""The production-like stack without Docker: real gunicorn, real nginx with the project's
config, real PostgreSQL. What a user meets on port 8088, checked on loopback."""

import re
import signal
import socket
import time
from http import HTTPStatus

import pytest
import requests

from harness.accounts import sign_in
from harness.project import free_port
from harness.stack import start_gunicorn, start_nginx

pytestmark = pytest.mark.stack


def stylesheet_url(page: str) -> str:
    match = re.search(r'href="(/static/admin/css/base\.[0-9a-f]{12}\.css)"', page)
    assert match, "the admin page links no hashed base.css"
    return match[1]


def test_admin_login_page_is_served_through_nginx(stack):
    response = requests.get(f"{stack.url}/admin/login/", timeout=5)
    assert response.status_code == HTTPStatus.OK
    assert response.headers["Server"] == "nginx"  # server_tokens off: no version
    assert "Django administration" in response.text


def test_admin_css_is_served_by_nginx_not_django(stack):
    page = requests.get(f"{stack.url}/admin/login/", timeout=5).text
    path = stylesheet_url(page)

    through_nginx = requests.get(f"{stack.url}{path}", timeout=5)
    assert through_nginx.status_code == HTTPStatus.OK
    assert through_nginx.headers["Content-Type"] == "text/css"
    assert through_nginx.headers["Server"] == "nginx"
    # A hashed name never changes: browsers may keep it forever.
    assert "immutable" in through_nginx.headers["Cache-Control"]
    assert "max-age=315360000" in through_nginx.headers["Cache-Control"]

    # gunicorn itself does not serve static files: had nginx passed the request on, it
    # would have been a 404.
    assert requests.get(f"{stack.gunicorn_url}{path}", timeout=5).status_code == (
        HTTPStatus.NOT_FOUND
    )


def test_static_files_are_gzipped_for_clients_that_accept_it(stack):
    page = requests.get(f"{stack.url}/admin/login/", timeout=5).text
    response = requests.get(
        f"{stack.url}{stylesheet_url(page)}", headers={"Accept-Encoding": "gzip"}, timeout=5
    )
    assert response.headers["Content-Encoding"] == "gzip"


def test_static_files_are_compressed_once_by_collectstatic(stack):
    """nginx sends the .gz that collectstatic made (with its length: nothing compressed on
    the fly, which is chunked), far cheaper than gzip on every request."""
    page = requests.get(f"{stack.url}/admin/login/", timeout=5).text
    path = stylesheet_url(page)
    compressed = stack.logs / "static" / f"{path.removeprefix('/static/')}.gz"
    assert compressed.exists()
    response = requests.get(
        f"{stack.url}{path}", headers={"Accept-Encoding": "gzip"}, timeout=5, stream=True
    )
    assert response.headers["Content-Encoding"] == "gzip"
    assert int(response.headers["Content-Length"]) == compressed.stat().st_size


def test_static_root_cannot_be_escaped(stack):
    for path in ("/static/../nginx.conf", "/static/..%2fnginx.conf", "/static../nginx.conf"):
        response = requests.get(f"{stack.url}{path}", timeout=5)
        assert "worker_processes" not in response.text, path


def test_superuser_logs_in_through_nginx_with_csrf(stack):
    """The browser's Origin is http://127.0.0.1:<nginx port>: Django must see the same host,
    which only holds if nginx forwards the Host header with its port."""
    session, response = sign_in(stack.url, stack.superuser, path="/admin/login/", next="/admin/")
    assert response.status_code == HTTPStatus.FOUND
    assert response.headers["Location"] == "/admin/"
    admin = session.get(f"{stack.url}/admin/", timeout=5)
    assert "Site administration" in admin.text


def test_a_post_without_csrf_token_is_refused(stack):
    response = requests.post(
        f"{stack.url}/admin/login/",
        data={"username": stack.superuser.username, "password": stack.superuser.password},
        timeout=5,
    )
    assert response.status_code == HTTPStatus.FORBIDDEN


def test_health_through_nginx(stack):
    response = requests.get(f"{stack.url}/health/", timeout=5)
    assert response.status_code == HTTPStatus.OK
    assert response.json()["database"] == "ok"


def test_gunicorn_logs_requests_on_stdout_without_secrets(stack):
    requests.get(f"{stack.url}/admin/login/", timeout=5)
    log = stack.log("gunicorn.log")
    assert re.search(r'"GET /admin/login/ HTTP/1\.[01]" 200', log)
    assert stack.superuser.password not in log
    assert stack.env["DJANGO_SECRET_KEY"] not in log


def test_health_answers_503_while_the_database_is_unreachable(tmp_path, stack):
    """A real gunicorn whose database port has nothing behind it."""
    env = {**stack.env, "DJANGO_DB_PORT": str(free_port()), "DJANGO_DB_CONNECT_TIMEOUT": "1"}
    port = free_port()
    with start_gunicorn(env, port, tmp_path / "gunicorn.log"):
        response = requests.get(f"http://127.0.0.1:{port}/health/", timeout=10)
    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert response.json()["database"] == "unavailable"
    # An unhealthy container's log says why, in one line.
    log = (tmp_path / "gunicorn.log").read_text()
    assert re.search(
        rf"Service Unavailable: /health/: the database does not answer \(OperationalError: "
        rf".*port {env['DJANGO_DB_PORT']} failed",
        log,
    ), log


def test_dotfiles_under_static_are_not_served(stack):
    """collectstatic's lock file sits in the static root; nginx keeps it to itself."""
    assert (stack.logs / "static" / ".collectstatic.lock").exists()
    response = requests.get(f"{stack.url}/static/.collectstatic.lock", timeout=5)
    assert response.status_code == HTTPStatus.NOT_FOUND


def test_sign_in_posts_are_rate_limited_per_client(stack, tmp_path):
    """A private nginx (its own rate-limit zone) in front of the stack's gunicorn."""
    port = free_port()
    upstream = stack.gunicorn_url.removeprefix("http://")
    with start_nginx(tmp_path / "nginx", port, upstream, stack.logs / "static"):
        url = f"http://127.0.0.1:{port}/accounts/login/"
        statuses = [requests.post(url, data={}, timeout=5).status_code for _ in range(20)]
        # The burst passes (and meets Django's CSRF check); the rest is refused by nginx.
        assert statuses[:10] == [HTTPStatus.FORBIDDEN] * 10
        assert HTTPStatus.TOO_MANY_REQUESTS in statuses[11:]
        # Reading the form is never limited.
        assert requests.get(url, timeout=5).status_code == HTTPStatus.OK


def test_nginx_answers_a_clear_503_at_once_when_no_web_answers(tmp_path):
    port = free_port()
    with start_nginx(tmp_path / "nginx", port, f"127.0.0.1:{free_port()}", tmp_path):
        started = time.monotonic()
        response = requests.get(f"http://127.0.0.1:{port}/admin/login/", timeout=10)
        elapsed = time.monotonic() - started
    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert response.headers["Retry-After"] == "5"
    assert "starting or restarting" in response.text
    assert elapsed < 5, "nginx must not hang when web is down"


def test_static_files_carry_security_headers(stack):
    page = requests.get(f"{stack.url}/admin/login/", timeout=5).text
    css = requests.get(f"{stack.url}{stylesheet_url(page)}", timeout=5)
    assert css.headers["X-Content-Type-Options"] == "nosniff"
    assert css.headers["Referrer-Policy"] == "same-origin"


def test_pages_carry_a_content_security_policy(stack):
    response = requests.get(f"{stack.url}/admin/login/", timeout=5)
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy
    assert response.headers["X-Frame-Options"] == "DENY"


def test_gunicorn_answers_the_request_in_flight_when_told_to_stop(stack, tmp_path):
    """SIGTERM (`docker stop`, a rolling update, scaling down): gunicorn finishes the request
    it is serving, within graceful_timeout, before it exits; the client gets Django's answer,
    not a reset connection."""
    port = free_port()
    body = b"username=someone&password=wrong"
    head = (
        b"POST /accounts/login/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n"
    )
    with start_gunicorn(stack.env, port, tmp_path / "gunicorn.log") as gunicorn:
        with socket.create_connection(("127.0.0.1", port), timeout=30) as client:
            # Half the body: a worker thread has the request and waits for the rest.
            client.sendall(head + body[:10])
            time.sleep(0.5)
            gunicorn.send_signal(signal.SIGTERM)
            time.sleep(1)
            assert gunicorn.poll() is None, "gunicorn exited with a request in flight"
            client.sendall(body[10:])
            response = client.recv(65536)
        # Django's answer to a sign-in POST without its CSRF cookie.
        assert response.startswith(b"HTTP/1.1 403 Forbidden\r\n"), response[:200]
        assert gunicorn.wait(timeout=25) == 0
    assert "Shutting down: Master" in (tmp_path / "gunicorn.log").read_text()


def test_the_home_page_and_its_stylesheet_come_through_nginx(stack):
    """The project's own page, with its hashed site.css served by nginx from STATIC_ROOT."""
    page = requests.get(f"{stack.url}/", timeout=5)
    assert page.status_code == HTTPStatus.OK
    css = re.search(r'href="(/static/site\.[0-9a-f]{12}\.css)"', page.text)
    assert css, "the home page links no hashed site.css"
    response = requests.get(f"{stack.url}{css[1]}", timeout=5)
    assert response.status_code == HTTPStatus.OK
    assert response.headers["Server"] == "nginx"
    assert ".site-header" in response.text


def test_the_404_page_comes_from_django_through_nginx(stack):
    response = requests.get(f"{stack.url}/no-such-page/", timeout=5)
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert "<h1>Not found</h1>" in response.text
