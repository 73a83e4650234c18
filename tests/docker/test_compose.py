"""The compose stack on a real Docker engine, with the compose files exactly as users run them,
in a compose project of the suite's own (<project>-test), on free ports, with an env file of
its own.

The tests run in file order and build on each other: the development stack, its migrations,
what users reach through nginx, a password reset by mail (the worker sends it, the mail
catcher receives it), the database going away and coming back, pgAdmin, a restart of the
whole stack, then production mode and scaling. The `stack` fixture tears it all down.
"""

import json
import re
import secrets
import subprocess
import time
from collections import Counter
from http import HTTPStatus

import pytest
import requests

from harness.accounts import Account, csrf_token, sign_in
from harness.compose import DEV, MIGRATE, PROD, Compose, docker
from harness.waiting import wait_until
from scripts.make_env import declared_secrets

pytestmark = pytest.mark.docker

# Every service's logs, kept before each `down` removes them, for the secrets check at the end.
service_logs: list[str] = []
# What a TLS-terminating proxy in front of nginx says; nginx believes it only from a proxy
# listed in NGINX_TRUSTED_PROXIES.
BEHIND_TLS = {"X-Forwarded-Proto": "https"}
# Run by Python in the web container: a sign-in page from nginx over the compose network,
# claiming https; prints the status.
ASK_NGINX = """
import http.client
connection = http.client.HTTPConnection("nginx", 80, timeout=10)
connection.request(
    "GET", "/accounts/login/", headers={"Host": "127.0.0.1", "X-Forwarded-Proto": "https"}
)
print(connection.getresponse().status)
"""


@pytest.fixture(scope="module")
def stack(compose_env_file):
    """The development stack's compose project: built, fresh volumes, removed afterwards."""
    compose = Compose("test", compose_env_file, files=DEV)
    compose.run("build", timeout=900)
    compose.down(volumes=True, files=DEV + MIGRATE)
    yield compose
    compose.run("down", "--volumes", "--remove-orphans", files=DEV + MIGRATE, check=False)


def http_status(url: str, **headers: str) -> int | None:
    try:
        return requests.get(url, headers=headers, timeout=5, allow_redirects=False).status_code
    except requests.RequestException:
        return None


def superuser(compose: Compose) -> Account:
    values = compose.values
    return Account(values["DJANGO_SUPERUSER_USERNAME"], values["DJANGO_SUPERUSER_PASSWORD"])


def down(compose: Compose, files=DEV) -> None:
    service_logs.append(compose.logs(files=files))
    compose.down(files=files)


def stylesheet_url(page: str) -> str:
    match = re.search(r'href="(/static/site(?:\.[0-9a-f]{12})?\.css)"', page)
    assert match, "the home page links no site.css"
    return match[1]


# --- Development stack --------------------------------------------------------------------


def test_stack_comes_up_healthy(stack):
    started = time.monotonic()
    stack.up()
    print(f"compose up --wait (development): {time.monotonic() - started:.1f}s")
    services = stack.run("ps", "--status", "running", "--services").stdout.split()
    assert sorted(services) == ["db", "mailpit", "nginx", "pgadmin", "web", "worker"]


def test_development_ports_listen_on_loopback_only(stack):
    """DEBUG is on in development: nothing of it may be reachable from another machine."""
    for service in ("nginx", "web", "db", "pgadmin", "mailpit"):
        bindings = docker("port", stack.container(service)).stdout.split()
        addresses = [binding for binding in bindings if ":" in binding]
        assert addresses, f"{service} publishes no port"
        assert all(address.startswith("127.0.0.1:") for address in addresses), (
            service,
            bindings,
        )


def test_every_development_service_has_cpu_memory_and_process_limits(stack):
    services = stack.run("ps", "--status", "running", "--services").stdout.split()
    assert len(services) == 6, services
    for service in services:
        host = json.loads(
            docker("inspect", "-f", "{{json .HostConfig}}", stack.container(service)).stdout
        )
        assert min(host["NanoCpus"], host["Memory"], host["PidsLimit"]) > 0, service


def test_web_does_not_migrate_by_itself(stack):
    assert stack.sql("SELECT to_regclass('django_migrations') IS NULL;") == "t"


def test_two_migrate_jobs_at_once_apply_each_migration_once(stack):
    jobs = [stack.popen("run", "--rm", "migrate", files=DEV + MIGRATE) for _ in range(2)]
    outputs = [job.communicate(timeout=300)[0] for job in jobs]
    assert [job.returncode for job in jobs] == [0, 0], outputs
    assert sum("No migrations to apply." in output for output in outputs) == 1, outputs
    assert (
        stack.sql(
            "SELECT count(*) FROM (SELECT app, name FROM django_migrations "
            "GROUP BY app, name HAVING count(*) > 1) AS duplicates;"
        )
        == "0"
    )
    assert stack.sql("SELECT count(*) FROM django_migrations WHERE app = 'accounts';") == "2"


def test_a_failing_migrate_job_exits_non_zero(stack):
    """A job that cannot reach its database fails loudly instead of reporting success."""
    result = stack.run(
        "run",
        "--rm",
        "--env",
        "DJANGO_DB_HOST=no-such-host",
        "--env",
        "DB_WAIT_TIMEOUT=2",
        "migrate",
        files=DEV + MIGRATE,
        check=False,
    )
    assert result.returncode != 0
    assert "not reachable after 2s" in result.stdout + result.stderr


def test_the_home_page_and_its_stylesheet_come_through_nginx(stack):
    page = requests.get(f"{stack.url()}/", timeout=10)
    assert page.status_code == HTTPStatus.OK
    css = requests.get(f"{stack.url()}{stylesheet_url(page.text)}", timeout=10)
    assert css.status_code == HTTPStatus.OK
    assert css.headers["Content-Type"].startswith("text/css")
    assert ".site-header" in css.text


def test_superuser_from_the_env_file_signs_in_through_nginx(stack):
    session, response = sign_in(stack.url(), superuser(stack), path="/admin/login/", next="/admin/")
    assert response.status_code == HTTPStatus.FOUND
    assert "Site administration" in session.get(f"{stack.url()}/admin/", timeout=10).text


# % if with_example_app
# An attachment uploaded below, and what it holds: it must outlive `down` and `up`.
kept_attachment: dict[str, str] = {}


def media_files(compose: Compose, files=DEV) -> list[str]:
    """The files in the media volume, as web sees it."""
    found = compose.run("exec", "-T", "web", "find", "/srv/media", "-type", "f", files=files)
    return sorted(found.stdout.split())


def test_an_attachment_goes_up_and_comes_back_through_nginx_to_its_owner_only(stack):
    """Upload into the media volume, download sent by nginx (X-Accel-Redirect) with the
    download's headers; another user, a guessed path and an oversized body get nothing."""
    from todo.tests.site import attachments, new_item, upload

    session, _ = sign_in(stack.url(), superuser(stack))
    item = new_item(session, stack.url())
    content = f"kept {secrets.token_hex(8)}".encode()
    before = media_files(stack)
    assert upload(session, stack.url(), item, "notes.txt", content).status_code == 302
    [stored] = sorted(set(media_files(stack)) - set(before))
    assert re.fullmatch(r"/srv/media/attachments/[0-9a-f]{32}", stored)
    path = attachments(session, stack.url(), item)["notes.txt"]
    download = session.get(f"{stack.url()}{path}", timeout=10)
    assert download.content == content
    assert download.headers["Content-Disposition"] == 'inline; filename="notes.txt"'
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in download.headers["Content-Security-Policy"]
    assert "X-Accel-Redirect" not in download.headers
    kept_attachment.update(path=path, content=content.decode())

    page = upload(session, stack.url(), item, "page.html", b"<script>alert(1)</script>")
    assert page.status_code == 302
    html = session.get(f"{stack.url()}{attachments(session, stack.url(), item)['page.html']}")
    assert html.headers["Content-Disposition"] == 'attachment; filename="page.html"'

    other = Account(f"other-{secrets.token_hex(3)}", secrets.token_urlsafe(12))
    stack.django("create_user", HARNESS_USERNAME=other.username, HARNESS_PASSWORD=other.password)
    stranger, _ = sign_in(stack.url(), other)
    assert stranger.get(f"{stack.url()}{path}", timeout=10).status_code == 404
    name = stored.removeprefix("/srv/media/")
    for guess in (f"/_private-media/{name}", f"/media/{name}"):
        assert requests.get(f"{stack.url()}{guess}", timeout=10).status_code == 404, guess
        assert session.get(f"{stack.url()}{guess}", timeout=10).status_code == 404, guess

    files = media_files(stack)
    too_large = upload(session, stack.url(), item, "big.bin", b"x" * (12 * 1024 * 1024))
    assert too_large.status_code == HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    assert media_files(stack) == files
    assert stack.sql("SELECT count(*) FROM todo_attachment;") == "2"


# % endif
def mail_to(catcher: str, address: str) -> dict | None:
    """The newest message to `address` in the mail catcher, read through its API."""
    listing = requests.get(f"{catcher}/api/v1/messages", timeout=5).json()["messages"]
    for summary in listing:
        if any(to["Address"] == address for to in summary["To"]):
            return requests.get(f"{catcher}/api/v1/message/{summary['ID']}", timeout=5).json()
    return None


def test_a_password_reset_mail_reaches_the_catcher_and_its_link_works_once(stack):
    """The request enqueues the mail, the worker sends it to the catcher, and its link sets a
    new password: the old one stops working, and a second use of the link fails."""
    address = f"reset-{secrets.token_hex(3)}@example.com"
    account = Account(f"reset-{secrets.token_hex(3)}", secrets.token_urlsafe(12))
    stack.django(
        "create_user",
        HARNESS_USERNAME=account.username,
        HARNESS_PASSWORD=account.password,
        HARNESS_EMAIL=address,
    )
    site, catcher = stack.url(), stack.url("MAILPIT_PORT")
    browser = requests.Session()
    form = browser.get(f"{site}/accounts/password_reset/", timeout=10)
    asked = time.monotonic()
    response = browser.post(
        f"{site}/accounts/password_reset/",
        data={"csrfmiddlewaretoken": csrf_token(form.text), "email": address},
        headers={"Origin": site},
        allow_redirects=False,
        timeout=10,
    )
    assert response.status_code == HTTPStatus.FOUND
    assert response.headers["Location"] == "/accounts/password_reset/done/"
    message = wait_until(
        lambda: mail_to(catcher, address), timeout=30, message="no reset mail at the catcher"
    )
    print(f"password reset: the mail was at the catcher {time.monotonic() - asked:.1f}s later")
    link = re.search(r"http://\S+/accounts/reset/\S+/", message["Text"])
    assert link, message["Text"]

    choose = browser.get(link[0], timeout=10)
    assert "<h1>Choose a new password</h1>" in choose.text
    new_password = secrets.token_urlsafe(12)
    done = browser.post(
        choose.url,
        data={
            "csrfmiddlewaretoken": csrf_token(choose.text),
            "new_password1": new_password,
            "new_password2": new_password,
        },
        headers={"Origin": site},
        allow_redirects=False,
        timeout=10,
    )
    assert done.headers["Location"] == "/accounts/reset/done/"

    _, with_new = sign_in(site, Account(account.username, new_password))
    assert with_new.status_code == HTTPStatus.FOUND
    _, with_old = sign_in(site, account)
    assert with_old.status_code == HTTPStatus.OK  # the form again, with its error
    again = requests.get(link[0], timeout=10)
    assert "<h1>This link no longer works</h1>" in again.text


def test_health_follows_the_database_and_recovers_without_a_restart(stack):
    health = f"{stack.url()}/health/"
    assert http_status(health) == HTTPStatus.OK
    started_at = stack.inspect("web", "{{.State.StartedAt}}")

    stack.run("stop", "db")
    wait_until(
        lambda: http_status(health) == HTTPStatus.SERVICE_UNAVAILABLE,
        timeout=30,
        message="/health/ did not turn 503 with the database stopped",
    )
    stack.run("start", "db")
    wait_until(
        lambda: http_status(health) == HTTPStatus.OK,
        timeout=60,
        message="/health/ did not recover after the database came back",
    )
    assert stack.inspect("web", "{{.State.StartedAt}}") == started_at


def test_pgadmin_has_the_db_server_registered_and_connects_without_a_password(stack):
    """What a developer does: sign in to pgAdmin, open the server list, connect to `db`."""
    pgadmin = stack.url("PGADMIN_PORT")
    wait_until(
        lambda: http_status(f"{pgadmin}/misc/ping") == HTTPStatus.OK,
        timeout=90,
        message="pgAdmin did not answer",
    )

    def sign_in_and_connect():
        """Sign in, list the servers, connect to the one there: from a new session each try,
        as pgAdmin's first start can refuse or drop the first requests."""
        session = requests.Session()
        try:
            login = session.get(f"{pgadmin}/login", timeout=10).text
            token = re.search(r'"csrfToken": "([^"]+)"', login)[1]
            session.post(
                f"{pgadmin}/authenticate/login",
                timeout=30,
                data={
                    "email": stack.values["PGADMIN_DEFAULT_EMAIL"],
                    "password": stack.values["PGADMIN_DEFAULT_PASSWORD"],
                    "csrf_token": token,
                },
            )
            session.headers["X-pgA-CSRFToken"] = token
            groups = session.get(f"{pgadmin}/browser/server_group/nodes/", timeout=30)
            if not groups.headers.get("Content-Type", "").startswith("application/json"):
                return None  # the sign-in page again: not signed in yet
            servers = [
                (group["_id"], server)
                for group in groups.json()["data"]
                for server in session.get(
                    f"{pgadmin}/browser/server/nodes/{group['_id']}", timeout=10
                ).json()["result"]
            ]
            if len(servers) != 1:
                return servers, None  # the assertion below says what is wrong
            group_id, server = servers[0]
            connected = session.post(
                f"{pgadmin}/browser/server/connect/{group_id}/{server['_id']}",
                json={},
                timeout=30,
            ).json()
        except requests.RequestException:
            return None
        return servers, connected

    servers, connected = wait_until(
        sign_in_and_connect, timeout=90, interval=2, message="no sign-in to pgAdmin"
    )
    assert [server["label"] for _, server in servers] == ["db (compose)"]
    assert connected["data"]["connected"] is True, connected


def test_data_survives_down_and_up(stack):
    account = Account("kept", "-")
    stack.sql(
        "INSERT INTO accounts_user (password, is_superuser, username, first_name, last_name, "
        "email, is_staff, is_active, date_joined) "
        f"VALUES ('!', false, '{account.username}', '', '', '', false, true, now());"
    )
    down(stack)
    stack.up()
    kept = f"SELECT count(*) FROM accounts_user WHERE username = '{account.username}';"
    assert stack.sql(kept) == "1"
    session, _ = sign_in(stack.url(), superuser(stack), path="/admin/login/", next="/admin/")
    # % if with_example_app
    # The uploaded file too: the media volume outlives the containers.
    download = session.get(f"{stack.url()}{kept_attachment['path']}", timeout=10)
    assert download.text == kept_attachment["content"]
    # % endif
    assert "Site administration" in session.get(f"{stack.url()}/admin/", timeout=10).text


# --- Production mode: the base file alone --------------------------------------------------


def test_production_mode_has_no_development_parts(stack):
    down(stack)
    started = time.monotonic()
    stack.up(files=PROD)
    print(f"compose up --wait (production): {time.monotonic() - started:.1f}s")
    stack.migrate(files=PROD)

    assert sorted(stack.run("ps", "--services", files=PROD).stdout.split()) == [
        "db",
        "nginx",
        "web",
        "worker",
    ]
    for service in ("db", "web", "worker"):
        container = stack.container(service, files=PROD)
        assert docker("port", container).stdout.strip() == "", f"{service} publishes a port"
    assert http_status(f"{stack.url('PGADMIN_PORT')}/misc/ping") is None
    assert http_status(f"{stack.url('MAILPIT_PORT')}/readyz") is None


def test_production_mode_redirects_plain_http_and_has_debug_off(stack):
    """In production nginx serves https itself, and sends plain http there, whatever a client
    claims about its own scheme (tests/docker/test_tls.py has the rest)."""
    port = stack.ports["NGINX_HTTPS_PORT"]
    for claim in ({}, BEHIND_TLS):
        plain = requests.get(
            f"{stack.url()}/accounts/login/", headers=claim, allow_redirects=False, timeout=10
        )
        assert plain.status_code == HTTPStatus.MOVED_PERMANENTLY, claim
        assert plain.headers["Location"] == f"https://127.0.0.1:{port}/accounts/login/"

    # Or TLS ends in front of nginx, at a proxy listed in NGINX_TRUSTED_PROXIES: this machine.
    stack.trust_the_host_as_proxy(files=PROD)
    missing = requests.get(f"{stack.url()}/no-such-page/", headers=BEHIND_TLS, timeout=10)
    assert missing.status_code == HTTPStatus.NOT_FOUND
    assert "<h1>Not found</h1>" in missing.text
    assert "Traceback" not in missing.text

    page = requests.get(f"{stack.url()}/accounts/login/", headers=BEHIND_TLS, timeout=10)
    assert page.status_code == HTTPStatus.OK
    assert "max-age=3600" in page.headers["Strict-Transport-Security"]
    assert "Secure" in page.headers["Set-Cookie"]

    # Another client on the compose network is not that proxy, and is not believed.
    asked = stack.run("exec", "-T", "web", "python", "-", input=ASK_NGINX, files=PROD)
    assert asked.stdout.strip() == "301"


def test_production_mode_serves_hashed_static_files(stack):
    page = requests.get(f"{stack.url()}/", headers=BEHIND_TLS, timeout=10)
    css_path = stylesheet_url(page.text)
    assert re.search(r"\.[0-9a-f]{12}\.css$", css_path), "production serves hashed names"
    # Over https, as production's browsers fetch it (plain http is redirected there).
    css = requests.get(f"{stack.https_url()}{css_path}", verify=stack.certificates.ca, timeout=10)
    assert css.status_code == HTTPStatus.OK
    assert "immutable" in css.headers["Cache-Control"]


def test_the_app_connects_as_its_own_role_which_is_no_superuser(stack):
    """The role web uses owns the app's tables and nothing more; the cluster's superuser
    (POSTGRES_USER) stays with backups and psql."""
    role = stack.django("database_role", files=PROD)
    assert role == {
        "user": stack.values["DJANGO_DB_USER"],
        "superuser": False,
        "createrole": False,
        "createdb": False,
    }
    assert stack.values["DJANGO_DB_USER"] != stack.values["POSTGRES_USER"]
    owner = stack.sql(
        "SELECT tableowner FROM pg_tables WHERE tablename = 'accounts_user';", files=PROD
    )
    assert owner == stack.values["DJANGO_DB_USER"]
    # Nor does web hold the superuser's password, or any other service's secret.
    environment = stack.run("exec", "-T", "web", "env", files=PROD).stdout
    foreign = ("POSTGRES_PASSWORD", "DJANGO_SUPERUSER_PASSWORD", "PGADMIN_DEFAULT_PASSWORD")
    assert [name for name in foreign if stack.values[name] in environment] == []
    assert stack.values["DJANGO_DB_PASSWORD"] in environment


def test_production_containers_are_hardened(stack):
    web = stack.container("web", files=PROD)
    touched = stack.run("exec", "-T", "web", "touch", "/app/x", files=PROD, check=False)
    assert touched.returncode != 0
    assert stack.run("exec", "-T", "web", "id", "-u", files=PROD).stdout.strip() != "0"
    assert docker("inspect", "-f", "{{.HostConfig.ReadonlyRootfs}}", web).stdout.strip() == "true"
    for service in ("db", "web", "worker", "nginx"):
        host = json.loads(
            docker(
                "inspect", "-f", "{{json .HostConfig}}", stack.container(service, files=PROD)
            ).stdout
        )
        assert "no-new-privileges:true" in host["SecurityOpt"], service
        assert "ALL" in host["CapDrop"], service
        # Every root file system is read-only, and every service has its limits.
        assert host["ReadonlyRootfs"] is True, service
        assert min(host["NanoCpus"], host["Memory"], host["PidsLimit"]) > 0, service
    # db and nginx write only where they are given a place to (their volumes and tmpfs).
    for service, path in (("db", "/etc/x"), ("nginx", "/etc/nginx/x")):
        written = stack.run("exec", "-T", service, "touch", path, files=PROD, check=False)
        assert "Read-only file system" in written.stderr, service


def test_scaled_web_shares_the_load_without_errors(stack):
    stack.run(
        "up",
        "--detach",
        "--wait",
        "--wait-timeout",
        "180",
        "--scale",
        "web=3",
        files=PROD,
        timeout=240,
    )
    containers = stack.run("ps", "--quiet", "web", files=PROD).stdout.split()
    assert len(containers) == 3
    hostnames = {
        docker("inspect", "-f", "{{.Config.Hostname}}", container).stdout.strip()
        for container in containers
    }
    answered: Counter[str] = Counter()
    failures: list[int] = []

    def all_three_answered() -> bool:
        for _ in range(30):
            response = requests.get(
                f"{stack.https_url()}/health/", verify=stack.certificates.ca, timeout=10
            )
            if response.status_code != HTTPStatus.OK:
                failures.append(response.status_code)
                continue
            answered[response.json()["host"]] += 1
        return set(answered) == hostnames

    # nginx re-resolves `web` every second (docker/nginx/default.conf).
    wait_until(
        all_three_answered,
        timeout=30,
        interval=1,
        message=f"requests did not reach all three web containers: {answered}",
    )
    print(f"--scale web=3: {sum(answered.values())} requests, {dict(answered)}")
    assert failures == []


def test_no_secret_in_the_image_nor_in_any_log(stack, tmp_path):
    """The generated secrets of the env file appear neither in the image's layers nor in the
    logs of every service of the runs above."""
    generated = {name: stack.values[name] for name in declared_secrets()}
    image = tmp_path / "image.tar"
    docker("save", "--output", str(image), stack.image, timeout=300)
    layers = subprocess.run(["tar", "-xOf", str(image)], capture_output=True, timeout=300).stdout
    logs = "\n".join([*service_logs, stack.logs(files=PROD)])
    assert logs.count("GET /health/") > 0, "the logs under test are empty"
    # Names only in the assertions: a failure must not print the secret it found.
    assert [name for name, value in generated.items() if value.encode() in layers] == []
    assert [name for name, value in generated.items() if value in logs] == []
