"""The production-like stack without Docker: real gunicorn, real nginx with the project's
config, real PostgreSQL. What a user meets on port 8088, checked on loopback."""

import re
import secrets
import signal
import socket
import ssl
import time
from http import HTTPStatus
from pathlib import Path

import pytest
import requests

from harness.accounts import Account, sign_in
from harness.project import free_port
from harness.stack import start_gunicorn, start_nginx
from harness.tls import (
    client,
    handshake,
    health_load_over_https,
    legacy_client,
    permissive_server,
    replace_certificate,
)
from harness.waiting import wait_until

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


def test_nginx_logs_pages_but_not_each_static_hit_and_a_missing_file_as_an_error(stack):
    path = stylesheet_url(requests.get(f"{stack.url}/admin/login/", timeout=5).text)
    marker = secrets.token_hex(6)
    assert requests.get(f"{stack.url}{path}?{marker}", timeout=5).status_code == HTTPStatus.OK
    missing = f"/static/missing-{marker}.css"
    assert requests.get(f"{stack.url}{missing}", timeout=5).status_code == HTTPStatus.NOT_FOUND
    page = f"/health/?{marker}"
    requests.get(f"{stack.url}{page}", timeout=5)
    wait_until(
        lambda: page in stack.log("nginx-access.log"), timeout=5, message="the page's log line"
    )
    assert marker not in stack.log("nginx-access.log").replace(page, "")
    assert f"missing-{marker}.css" in stack.log("nginx-error.log")


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


def connections_to(port: int) -> set[int]:
    """The client ports of the TCP connections established to local `port`, from the kernel's
    table (IPv4: gunicorn listens on 127.0.0.1 here)."""
    established = "01"
    ports = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        local, remote, state = line.split()[1:4]
        if state == established and int(local.split(":")[1], 16) == port:
            ports.add(int(remote.split(":")[1], 16))
    return ports


def test_nginx_keeps_connections_to_gunicorn_for_5_seconds_at_most(stack):
    """Most requests reuse a connection nginx has open to gunicorn, but none is kept longer
    than 5 s: each new one goes to the worker that accepts it first, so no worker keeps
    nginx's busiest connections, and with them most of the load (docker/nginx/default.conf)."""
    gunicorn_port = int(stack.gunicorn_url.rsplit(":", 1)[1])
    seen: dict[int, list[float]] = {}  # nginx's end of a connection: first and last seen
    sent = 0
    with requests.Session() as browser:
        started = time.monotonic()
        while time.monotonic() - started < 8:
            assert browser.get(f"{stack.url}/", timeout=5).status_code == HTTPStatus.OK
            sent += 1
            now = time.monotonic()
            for port in connections_to(gunicorn_port):
                seen.setdefault(port, [now, now])[1] = now
    kept_for = [last - first for first, last in seen.values()]
    assert seen, "no connection from nginx to gunicorn was seen"
    assert sent > 10 * len(seen), f"{len(seen)} connections for {sent} requests: not kept alive"
    assert len(seen) >= 2, f"one connection carried all {sent} requests for 8 s"
    assert max(kept_for) < 6.5, f"a connection was used for {max(kept_for):.1f} s"


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


# --- Who the client is: nginx believes only the proxies it is told to trust -----------------


@pytest.fixture(scope="module")
def behind_a_proxy(stack, tmp_path_factory) -> str:
    """A second nginx with the project's site in front of the stack's gunicorn, configured as
    behind a TLS-terminating proxy on this machine (NGINX_TRUSTED_PROXIES=127.0.0.1): the
    test's requests play that proxy, and say which client they forward with X-Forwarded-For."""
    port = free_port()
    upstream = stack.gunicorn_url.removeprefix("http://")
    workdir = tmp_path_factory.mktemp("behind-a-proxy")
    with start_nginx(workdir, port, upstream, stack.logs / "static", trusted_proxies="127.0.0.1"):
        yield f"http://127.0.0.1:{port}"


def client_seen_by_django(stack, url: str, **headers: str) -> str:
    """The client address Django logs for a failed sign-in sent through `url` (a fresh
    username each time, so the line is this request's)."""
    username = f"nobody-{secrets.token_hex(4)}"
    session = requests.Session()
    session.headers.update(headers)
    response = sign_in(url, Account(username, "not-the-password"), session=session)[1]
    assert response.status_code == HTTPStatus.OK  # the form again, with an error
    logged = wait_until(
        lambda: re.findall(rf'username="{username}" client="([^"]*)"', stack.log("gunicorn.log")),
        timeout=10,
        interval=0.2,
        message=f"no log line for the failed sign-in of {username}",
    )
    assert len(logged) == 1, logged
    return logged[0]


def test_a_clients_own_forwarding_headers_are_ignored(stack):
    """Nobody is trusted by default: a client saying it came over https, or from elsewhere,
    changes neither the scheme nor the address Django is told."""
    forged = {
        "X-Forwarded-Proto": "https",
        "X-Forwarded-For": "203.0.113.9",
        # Other ways of saying https that gunicorn or Django could be made to believe.
        "X-Forwarded-Ssl": "on",
        "X-Forwarded-Protocol": "https",
        "Forwarded": "for=203.0.113.9;proto=https",
    }
    page = requests.get(f"{stack.url}/accounts/login/", headers=forged, timeout=5)
    assert page.status_code == HTTPStatus.OK
    # HSTS goes out only on requests Django takes for https.
    assert "Strict-Transport-Security" not in page.headers
    assert client_seen_by_django(stack, stack.url, **forged, **{"X-Real-IP": "203.0.113.10"}) == (
        "127.0.0.1"
    )


def test_a_trusted_proxy_says_which_client_and_scheme(stack, behind_a_proxy):
    page = requests.get(
        f"{behind_a_proxy}/accounts/login/", headers={"X-Forwarded-Proto": "https"}, timeout=5
    )
    assert "max-age=3600" in page.headers["Strict-Transport-Security"]
    # The client is the last address the proxy added; what the client claimed before is not.
    chain = {"X-Forwarded-For": "198.51.100.1, 203.0.113.9"}
    assert client_seen_by_django(stack, behind_a_proxy, **chain) == "203.0.113.9"
    # Neither is a scheme other than http or https.
    odd = requests.get(
        f"{behind_a_proxy}/accounts/login/", headers={"X-Forwarded-Proto": "ftp"}, timeout=5
    )
    assert "Strict-Transport-Security" not in odd.headers


# --- Sign-in throttling (django-axes), per account and client --------------------------------


def sign_in_from(url: str, address: str, account: Account, path: str = "/accounts/login/"):
    """A sign-in from the client `address`, through the proxy of `behind_a_proxy`."""
    session = requests.Session()
    session.headers["X-Forwarded-For"] = address
    return sign_in(url, account, path=path, session=session)[1]


def test_wrong_passwords_lock_the_account_for_that_client_only(
    stack, behind_a_proxy, new_account, capsys
):
    """Five wrong passwords from one client: the fifth answer is the lockout (429), and the
    right password from that client is refused too; from another client it still works. One
    log line per failed sign-in, with the username and the client; never the password."""
    account = new_account("target")
    wrong = Account(account.username, "guessed-wrong-1")
    attacker, owner = "203.0.113.66", "198.51.100.7"
    statuses = [sign_in_from(behind_a_proxy, attacker, wrong).status_code for _ in range(5)]
    locked = sign_in_from(behind_a_proxy, attacker, account)
    elsewhere = sign_in_from(behind_a_proxy, owner, account)
    with capsys.disabled():
        print(
            f"\n  [throttling] 5 wrong passwords from one client: {statuses}; then the right "
            f"one from it: {locked.status_code}; from another client: {elsewhere.status_code}"
        )
    assert statuses == [HTTPStatus.OK] * 4 + [HTTPStatus.TOO_MANY_REQUESTS]
    assert locked.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert locked.headers["Retry-After"] == "900"
    assert "Sign-in paused" in locked.text
    assert elsewhere.status_code == HTTPStatus.FOUND

    log = stack.log("gunicorn.log")
    failures = [
        line
        for line in log.splitlines()
        if f'username="{account.username}"' in line and "login failure by" in line
    ]
    assert len(failures) == 6, failures  # five wrong passwords, and the right one while locked
    assert all(f'client="{attacker}"' in line for line in failures)
    assert f'Locking out username="{account.username}" client="{attacker}"' in log
    assert "guessed-wrong-1" not in log
    assert account.password not in log


def test_the_admin_sign_in_is_throttled_and_shows_the_lockouts(stack, behind_a_proxy, new_account):
    account = new_account("staffer", superuser=True)
    wrong = Account(account.username, "guessed-wrong-2")
    client = "203.0.113.77"
    for _ in range(5):
        answer = sign_in_from(behind_a_proxy, client, wrong, path="/admin/login/")
    assert answer.status_code == HTTPStatus.TOO_MANY_REQUESTS

    # Another administrator, from elsewhere, sees the lockout in the admin.
    session = requests.Session()
    session.headers["X-Forwarded-For"] = "198.51.100.8"
    session, signed_in = sign_in(
        behind_a_proxy, stack.superuser, path="/admin/login/", session=session
    )
    assert signed_in.status_code == HTTPStatus.FOUND
    attempts = session.get(f"{behind_a_proxy}/admin/axes/accessattempt/", timeout=5)
    assert attempts.status_code == HTTPStatus.OK
    assert account.username in attempts.text
    assert client in attempts.text


def test_passwords_are_stored_with_argon2(stack):
    with stack.database() as connection:
        stored = connection.execute(
            "SELECT password FROM accounts_user WHERE username = %s", [stack.superuser.username]
        ).fetchone()[0]
    assert stored.startswith("argon2$argon2id$")


def test_signed_in_pages_are_not_kept_in_any_cache(stack):
    session, _ = sign_in(stack.url, stack.superuser, path="/admin/login/", next="/admin/")
    # The home page: no view of its own says anything about caching (the admin's do).
    directives = session.get(f"{stack.url}/", timeout=5).headers["Cache-Control"]
    assert {"private", "no-store"} <= {d.strip() for d in directives.split(",")}


# --- Slow and greedy clients -------------------------------------------------------------------


def test_a_client_trickling_its_header_is_cut_off_after_ten_seconds(stack):
    """The header must arrive within client_header_timeout (10 s), which nginx applies before
    it knows the request's server: a line every second does not keep the connection open. (Its
    default, 60 s, applied before.)"""
    with socket.create_connection(("127.0.0.1", int(stack.url.rsplit(":", 1)[1]))) as client:
        client.settimeout(1.5)
        started = time.monotonic()
        client.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        closed = None
        while closed is None and time.monotonic() - started < 30:
            try:
                client.sendall(b"X-Slow: yes\r\n")
                if client.recv(1024) == b"":
                    closed = time.monotonic() - started
            except TimeoutError:
                continue
            except OSError:
                closed = time.monotonic() - started
    assert closed is not None, "nginx still held the connection after 30 s"
    print(f"header trickled line by line: connection closed after {closed:.1f}s")
    assert closed < 15


def test_one_client_has_at_most_128_requests_in_flight(stack, tmp_path):
    """A private nginx in front of an upstream that takes requests and never answers: 128
    requests of one client are let through and wait; the 129th is refused at once."""
    with socket.create_server(("127.0.0.1", 0), backlog=512) as black_hole:
        black_hole.settimeout(10)
        upstream = f"127.0.0.1:{black_hole.getsockname()[1]}"
        port = free_port()
        with start_nginx(tmp_path / "nginx", port, upstream, stack.logs / "static"):
            clients, held = [], []
            try:
                for n in range(128):
                    client = socket.create_connection(("127.0.0.1", port), timeout=10)
                    clients.append(client)
                    client.sendall(f"GET /wait/{n} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
                # Each waiting request holds a connection to the upstream: all 128 are in.
                held = [black_hole.accept()[0] for _ in range(128)]
                one_more = requests.get(f"http://127.0.0.1:{port}/one-more/", timeout=10)
                assert one_more.status_code == HTTPStatus.TOO_MANY_REQUESTS
            finally:
                for connection in clients + held:
                    connection.close()


# --- HTTPS, as production serves it (nginx with docker/nginx/https.conf) ----------------------

LEGACY = {"TLSv1": ssl.TLSVersion.TLSv1, "TLSv1.1": ssl.TLSVersion.TLSv1_1}
CURRENT = {"TLSv1.2": ssl.TLSVersion.TLSv1_2, "TLSv1.3": ssl.TLSVersion.TLSv1_3}


def test_tls_1_0_and_1_1_are_refused_and_1_2_and_1_3_accepted(tls_stack, capsys):
    results = {}
    # The legacy client offers what it says: a Python server that allows it agrees to it.
    with permissive_server(tls_stack.certificates) as port:
        for name, version in LEGACY.items():
            assert handshake(port, legacy_client(version)).version == name
    for name, version in LEGACY.items():
        with pytest.raises(ssl.SSLError) as refused:
            handshake(tls_stack.https_port, legacy_client(version))
        assert refused.value.reason in {"TLSV1_ALERT_PROTOCOL_VERSION", "UNSUPPORTED_PROTOCOL"}
        results[name] = f"refused ({refused.value.reason})"
    for name, version in CURRENT.items():
        context = client(tls_stack.certificates.ca)
        context.minimum_version = context.maximum_version = version
        assert handshake(tls_stack.https_port, context).version == name
        results[name] = "accepted"
    with capsys.disabled():
        print(f"\n  [tls] production-like stack, nginx: {results}")


def test_alpn_negotiates_http2_and_sessions_are_resumed(tls_stack):
    ca = tls_stack.certificates.ca
    assert handshake(tls_stack.https_port, client(ca, alpn=["h2", "http/1.1"])).alpn == "h2"
    for version in CURRENT.values():
        context = client(ca)
        context.minimum_version = context.maximum_version = version
        first = handshake(tls_stack.https_port, context)
        again = handshake(tls_stack.https_port, context, session=first.session)
        assert (first.reused, again.reused) == (False, True), version


def test_plain_http_redirects_to_https_but_for_health_and_acme(tls_stack):
    plain = requests.get(f"{tls_stack.url}/admin/?x=1", allow_redirects=False, timeout=5)
    assert plain.status_code == HTTPStatus.MOVED_PERMANENTLY
    assert plain.headers["Location"] == f"https://127.0.0.1:{tls_stack.https_port}/admin/?x=1"
    health = requests.get(f"{tls_stack.url}/nginx-health", allow_redirects=False, timeout=5)
    assert health.status_code == HTTPStatus.OK
    challenge = tls_stack.acme_root / ".well-known" / "acme-challenge" / "token-1"
    challenge.parent.mkdir(parents=True, exist_ok=True)
    challenge.write_text("token-1.thumbprint")
    answer = requests.get(
        f"{tls_stack.url}/.well-known/acme-challenge/token-1", allow_redirects=False, timeout=5
    )
    assert (answer.status_code, answer.text) == (HTTPStatus.OK, "token-1.thumbprint")


def test_https_carries_hsts_and_secure_cookies_and_the_superuser_signs_in(stack, tls_stack):
    session = requests.Session()
    # requests would take REQUESTS_CA_BUNDLE over the session's own CA.
    session.trust_env = False
    session.verify = tls_stack.certificates.ca
    page = session.get(f"{tls_stack.https_url}/accounts/login/", timeout=5)
    assert page.headers["Strict-Transport-Security"] == "max-age=3600; includeSubDomains"
    assert re.search(r"csrftoken=[^;]+;.*Secure", page.headers["Set-Cookie"])
    session, signed_in = sign_in(
        tls_stack.https_url, stack.superuser, path="/admin/login/", next="/admin/", session=session
    )
    assert signed_in.status_code == HTTPStatus.FOUND
    assert re.search(r"sessionid=[^;]+;.*Secure", signed_in.headers["Set-Cookie"])
    assert "Site administration" in session.get(f"{tls_stack.https_url}/admin/", timeout=5).text


def test_a_certificate_replaced_under_load_is_served_after_a_reload_without_a_failure(
    tls_stack, capsys
):
    """nginx reloads (as the container's watcher makes it do) with a new certificate while
    requests keep coming over https: the old workers finish theirs, none fails."""
    certificates, port = tls_stack.certificates, tls_stack.https_port
    with health_load_over_https(tls_stack.https_url, certificates) as load:
        time.sleep(2)
        before = handshake(port, client(certificates.ca)).serial
        new = replace_certificate(certificates)
        replaced = time.monotonic()  # the files in place (making them took a moment before)
        tls_stack.reload_nginx()
        wait_until(
            lambda: handshake(port, client(certificates.ca)).serial == new,
            timeout=10,
            interval=0.05,
            message="nginx did not serve the new certificate",
        )
        picked_up = time.monotonic() - replaced
        time.sleep(2)
    with capsys.disabled():
        print(
            f"\n  [tls] production-like stack, certificate replaced under load: "
            f"{load.summary()}; new certificate served {picked_up:.2f}s after the swap"
        )
    assert new != before
    assert load.failures() == []
    assert len(load.outcomes) > 100
    # At most the connections that were idle in an old worker when it stopped, per reload.
    assert load.retried <= load.connections * 1
