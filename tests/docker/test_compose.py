"""The compose stack on a real Docker engine, with the compose files exactly as users run them.

The tests run in file order and build on each other: the image, the development stack, its
migrations, what users reach through nginx, the database going away and coming back, pgAdmin,
a restart of the whole stack, then production mode and scaling. `project` tears it all down.
"""

import re
import subprocess
import time
from collections import Counter
from http import HTTPStatus

import pytest
import requests

from tests.docker.conftest import (
    DEV,
    MIGRATE,
    NGINX,
    PROD,
    PROJECT,
    ROOT,
    WEB_IMAGE,
    admin_login,
    compose,
    compose_environ,
    docker,
    http_status,
    migrate,
    random_name,
    run_sql,
    wait_until,
)

pytestmark = [pytest.mark.docker, pytest.mark.usefixtures("project")]

# Every service's logs, kept before each `down` removes them, for the secrets check at the end.
service_logs: list[str] = []


def down(files=DEV):
    service_logs.append(compose("logs", "--no-color", files=files).stdout)
    compose("down", files=files)


def django_shell(code: str, files=DEV) -> str:
    """`manage.py shell -c code` in the running web container; its output."""
    return compose(
        "exec", "-T", "web", "python", "manage.py", "shell", "--no-imports", "-c", code, files=files
    ).stdout


def stylesheet_url(page: str) -> str:
    match = re.search(r'href="(/static/admin/css/base(?:\.[0-9a-f]{12})?\.css)"', page)
    assert match, "the admin login page links no base.css"
    return match[1]


# --- The image on its own ---------------------------------------------------------------


def test_image_runs_as_a_non_root_user():
    assert docker("run", "--rm", "--entrypoint", "id", WEB_IMAGE, "-u").stdout.strip() != "0"
    assert docker("image", "inspect", "-f", "{{.Config.User}}", WEB_IMAGE).stdout.strip() == "app"


def test_image_serves_without_any_bind_mount(dotenv):
    """gunicorn answers from the image alone: code, dependencies and static manifest inside."""
    name = random_name("web-alone")
    docker(
        "run",
        "--detach",
        "--name",
        name,
        "--publish",
        "127.0.0.1::8001",
        # The value comes from this process's environment, never from the command line.
        "--env",
        "DJANGO_SECRET_KEY",
        "--env",
        "DJANGO_SQLITE_PATH=/tmp/db.sqlite3",
        WEB_IMAGE,
        env={**compose_environ(), "DJANGO_SECRET_KEY": dotenv["DJANGO_SECRET_KEY"]},
    )
    try:
        assert docker("inspect", "-f", "{{len .Mounts}}", name).stdout.strip() == "0"
        port = docker("port", name, "8001").stdout.split(":")[-1].strip()
        url = f"http://127.0.0.1:{port}"
        wait_until(
            lambda: http_status(f"{url}/health/") == HTTPStatus.OK,
            timeout=60,
            message=f"the image alone did not answer /health/:\n"
            f"{docker('logs', name, check=False).stderr}",
        )
        # DEBUG is off: the page's static URLs come from the manifest baked into the image.
        page = requests.get(
            f"{url}/admin/login/", headers={"X-Forwarded-Proto": "https"}, timeout=5
        )
        assert page.status_code == HTTPStatus.OK
        assert re.search(r"/static/admin/css/base\.[0-9a-f]{12}\.css", page.text)
    finally:
        docker("rm", "--force", name, check=False)


# --- Development stack --------------------------------------------------------------------


def test_stack_comes_up_healthy():
    started = time.monotonic()
    compose("up", "--detach", "--wait", "--wait-timeout", "180", timeout=240)
    print(f"compose up --wait (development): {time.monotonic() - started:.1f}s")
    services = compose("ps", "--status", "running", "--services").stdout.split()
    assert sorted(services) == ["db", "nginx", "pgadmin", "web"]
    assert compose("exec", "-T", "web", "id", "-u").stdout.strip() != "0"


def test_web_does_not_migrate_by_itself():
    assert run_sql("SELECT to_regclass('django_migrations') IS NULL;") == "t"


def test_two_migrate_jobs_at_once_apply_each_migration_once():
    command = ["docker", "compose", "-p", PROJECT]
    for file in DEV + MIGRATE:
        command += ["-f", file]
    jobs = [
        subprocess.Popen(
            [*command, "run", "--rm", "migrate"],
            cwd=ROOT,
            env=compose_environ(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [job.communicate(timeout=300)[0] for job in jobs]
    assert [job.returncode for job in jobs] == [0, 0], outputs
    assert sum("No migrations to apply." in output for output in outputs) == 1, outputs
    assert (
        run_sql(
            "SELECT count(*) FROM (SELECT app, name FROM django_migrations "
            "GROUP BY app, name HAVING count(*) > 1) AS duplicates;"
        )
        == "0"
    )
    assert run_sql("SELECT count(*) FROM django_migrations WHERE app = 'accounts';") == "2"


def test_a_failing_migrate_job_exits_non_zero():
    """A job that cannot reach its database fails loudly instead of reporting success."""
    result = compose(
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


def test_admin_login_page_and_its_css_come_through_nginx():
    page = requests.get(f"{NGINX}/admin/login/", timeout=10)
    assert page.status_code == HTTPStatus.OK
    css = requests.get(f"{NGINX}{stylesheet_url(page.text)}", timeout=10)
    assert css.status_code == HTTPStatus.OK
    assert css.headers["Content-Type"] == "text/css"
    assert css.headers["Server"] == "nginx"
    assert "body" in css.text


def test_superuser_from_dotenv_logs_in_through_nginx(dotenv):
    response = admin_login(dotenv["DJANGO_SUPERUSER_USERNAME"], dotenv["DJANGO_SUPERUSER_PASSWORD"])
    assert response.status_code == HTTPStatus.OK
    assert response.url == f"{NGINX}/admin/"
    assert "Site administration" in response.text


def test_health_follows_the_database_and_recovers_without_a_restart():
    assert http_status(f"{NGINX}/health/") == HTTPStatus.OK
    web_started = compose("ps", "--format", "{{.ID}}", "web").stdout.strip()
    started_at = docker("inspect", "-f", "{{.State.StartedAt}}", web_started).stdout

    compose("stop", "db")
    wait_until(
        lambda: http_status(f"{NGINX}/health/") == HTTPStatus.SERVICE_UNAVAILABLE,
        timeout=30,
        message="/health/ did not turn 503 with the database stopped",
    )

    compose("start", "db")
    wait_until(
        lambda: http_status(f"{NGINX}/health/") == HTTPStatus.OK,
        timeout=60,
        message="/health/ did not recover after the database came back",
    )
    assert docker("inspect", "-f", "{{.State.StartedAt}}", web_started).stdout == started_at


def test_pgadmin_has_the_db_server_registered_and_connects_without_a_password(dotenv):
    """What a developer does: sign in to pgAdmin, open the server list, connect to `db`."""
    pgadmin = "http://127.0.0.1:8080"
    wait_until(
        lambda: http_status(f"{pgadmin}/misc/ping") == HTTPStatus.OK,
        timeout=90,
        message="pgAdmin did not answer on 127.0.0.1:8080",
    )
    session = requests.Session()
    token = re.search(r'"csrfToken": "([^"]+)"', session.get(f"{pgadmin}/login", timeout=10).text)[
        1
    ]
    session.post(
        f"{pgadmin}/authenticate/login",
        timeout=10,
        data={
            "email": dotenv["PGADMIN_DEFAULT_EMAIL"],
            "password": dotenv["PGADMIN_DEFAULT_PASSWORD"],
            "csrf_token": token,
        },
    ).raise_for_status()
    session.headers["X-pgA-CSRFToken"] = token

    groups = session.get(f"{pgadmin}/browser/server_group/nodes/", timeout=10).json()["data"]
    servers = [
        (group["_id"], server)
        for group in groups
        for server in session.get(
            f"{pgadmin}/browser/server/nodes/{group['_id']}", timeout=10
        ).json()["result"]
    ]
    assert [server["label"] for _, server in servers] == ["db (compose)"]
    group_id, server = servers[0]
    connected = session.post(
        f"{pgadmin}/browser/server/connect/{group_id}/{server['_id']}", json={}, timeout=30
    ).json()
    assert connected["data"]["connected"] is True, connected


def test_data_survives_down_and_up(dotenv):
    username = random_name("kept")
    django_shell(f"from accounts.models import User; User.objects.create(username='{username}')")
    down()
    compose("up", "--detach", "--wait", "--wait-timeout", "180", timeout=240)
    assert run_sql(f"SELECT count(*) FROM accounts_user WHERE username = '{username}';") == "1"
    response = admin_login(dotenv["DJANGO_SUPERUSER_USERNAME"], dotenv["DJANGO_SUPERUSER_PASSWORD"])
    assert "Site administration" in response.text


# --- Production mode: the base file alone --------------------------------------------------


def test_production_mode_has_no_development_parts():
    down()
    started = time.monotonic()
    compose("up", "--detach", "--wait", "--wait-timeout", "180", files=PROD, timeout=240)
    print(f"compose up --wait (production): {time.monotonic() - started:.1f}s")
    migrate(files=PROD)

    assert sorted(compose("ps", "--services", files=PROD).stdout.split()) == ["db", "nginx", "web"]
    for service in ("db", "web"):
        container = compose("ps", "--quiet", service, files=PROD).stdout.strip()
        assert docker("port", container).stdout.strip() == "", f"{service} publishes a port"
    assert http_status("http://127.0.0.1:8080/misc/ping") is None


def test_production_mode_redirects_plain_http_and_has_debug_off():
    """In production TLS ends in front of nginx; without it, Django sends browsers to https."""
    plain = requests.get(f"{NGINX}/admin/login/", allow_redirects=False, timeout=10)
    assert plain.status_code == HTTPStatus.MOVED_PERMANENTLY
    assert plain.headers["Location"] == "https://127.0.0.1:8088/admin/login/"

    # What a TLS-terminating proxy in front of nginx sends along.
    behind_tls = {"X-Forwarded-Proto": "https"}
    missing = requests.get(f"{NGINX}/no-such-page/", headers=behind_tls, timeout=10)
    assert missing.status_code == HTTPStatus.NOT_FOUND
    assert "DEBUG = True" not in missing.text
    assert "Traceback" not in missing.text

    page = requests.get(f"{NGINX}/admin/login/", headers=behind_tls, timeout=10)
    assert page.status_code == HTTPStatus.OK
    assert "max-age=31536000" in page.headers["Strict-Transport-Security"]
    assert "csrftoken" in page.headers["Set-Cookie"]
    assert "Secure" in page.headers["Set-Cookie"]


def test_production_mode_serves_hashed_static_files():
    page = requests.get(f"{NGINX}/admin/login/", headers={"X-Forwarded-Proto": "https"}, timeout=10)
    css_path = stylesheet_url(page.text)
    assert re.search(r"\.[0-9a-f]{12}\.css$", css_path), "production serves hashed names"
    css = requests.get(f"{NGINX}{css_path}", timeout=10)
    assert css.status_code == HTTPStatus.OK
    assert css.headers["Content-Type"] == "text/css"
    assert "immutable" in css.headers["Cache-Control"]


def test_the_app_connects_as_its_own_role_which_is_no_superuser(dotenv):
    """The role web uses owns the app's tables and nothing more; the cluster's superuser
    (POSTGRES_USER) stays with backups and psql."""
    role = django_shell(
        "from django.db import connection; cursor = connection.cursor(); "
        "cursor.execute('SELECT current_user, rolsuper, rolcreaterole, rolcreatedb "
        "FROM pg_roles WHERE rolname = current_user'); print(*cursor.fetchone())",
        files=PROD,
    ).split()
    assert role == [dotenv["DJANGO_DB_USER"], "False", "False", "False"]
    assert dotenv["DJANGO_DB_USER"] != dotenv["POSTGRES_USER"]
    owner = run_sql("SELECT tableowner FROM pg_tables WHERE tablename = 'todo_item';", files=PROD)
    assert owner == dotenv["DJANGO_DB_USER"]
    # Nor does web hold the superuser's password, or any other service's secret.
    environment = compose("exec", "-T", "web", "env", files=PROD).stdout
    foreign = ("POSTGRES_PASSWORD", "DJANGO_SUPERUSER_PASSWORD", "PGADMIN_DEFAULT_PASSWORD")
    assert [name for name in foreign if dotenv[name] in environment] == []
    assert dotenv["DJANGO_DB_PASSWORD"] in environment


def test_production_containers_are_hardened():
    web = compose("ps", "--quiet", "web", files=PROD).stdout.split()[0]
    assert docker("inspect", "-f", "{{.HostConfig.ReadonlyRootfs}}", web).stdout.strip() == "true"
    assert compose("exec", "-T", "web", "touch", "/app/x", files=PROD, check=False).returncode != 0
    for service in ("db", "web", "nginx"):
        container = compose("ps", "--quiet", service, files=PROD).stdout.split()[0]
        options = docker(
            "inspect",
            "-f",
            "{{json .HostConfig.SecurityOpt}} {{json .HostConfig.CapDrop}}",
            container,
        ).stdout
        assert "no-new-privileges:true" in options, service
        assert '"ALL"' in options, service


def test_scaled_web_shares_the_load_without_errors():
    compose(
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
    containers = compose("ps", "--quiet", "web", files=PROD).stdout.split()
    assert len(containers) == 3
    hostnames = {
        docker("inspect", "-f", "{{.Config.Hostname}}", container).stdout.strip()
        for container in containers
    }

    answered: Counter[str] = Counter()
    failures: list[int] = []

    def all_three_answered() -> bool:
        for _ in range(30):
            response = requests.get(f"{NGINX}/health/", timeout=10)
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


def test_no_secret_in_the_image_nor_in_any_log(dotenv, tmp_path):
    """The generated secrets of .env appear neither in the image's layers nor in the logs of
    every service of the runs above."""
    generated = [
        dotenv[name]
        for name in (
            "DJANGO_SECRET_KEY",
            "POSTGRES_PASSWORD",
            "DJANGO_DB_PASSWORD",
            "DJANGO_SUPERUSER_PASSWORD",
            "PGADMIN_DEFAULT_PASSWORD",
        )
    ]
    image = tmp_path / "image.tar"
    docker("save", "--output", str(image), WEB_IMAGE, timeout=300)
    layers = subprocess.run(["tar", "-xOf", str(image)], capture_output=True, timeout=300).stdout
    logs = "\n".join([*service_logs, compose("logs", "--no-color", files=PROD).stdout])
    assert logs.count("GET /health/") > 0, "the logs under test are empty"
    for value in generated:
        assert value.encode() not in layers
        assert value not in logs
