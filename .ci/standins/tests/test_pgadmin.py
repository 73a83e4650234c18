"""dpage/pgadmin4:9 as compose.override.yaml runs it (see ../README.md)."""

import json
import re

import pytest
import requests

from conftest import PGADMIN, POSTGRES, Engine, docker, published, require, wait_until

EMAIL = "admin@example.com"
PASSWORD = "pgadmin-secret"
DB_PASSWORD = "db-secret"
PGPASS = f"db:5432:*:postgres:{DB_PASSWORD}\n"
SERVERS = {
    "Servers": {
        "1": {
            "Name": "db (test)",
            "Group": "Servers",
            "Host": "db",
            "Port": 5432,
            "MaintenanceDB": "postgres",
            "Username": "postgres",
            "SSLMode": "prefer",
            "PassFile": "/.pgpass",
        }
    }
}
BANNER = "Stand-in conformance banner"


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    """PostgreSQL as `db` and pgAdmin beside it, set up from files as the project does."""
    require(POSTGRES)
    require(PGADMIN)
    config = tmp_path_factory.mktemp("pgadmin")
    config.chmod(0o755)
    files = {"servers.json": json.dumps(SERVERS), "pgpass": PGPASS, "password": PASSWORD}
    for name, text in files.items():
        (config / name).write_text(text)
        (config / name).chmod(0o644)
    made = Engine()
    network = made.network()
    db = [f"--network={network}", "--network-alias=db", f"--env=POSTGRES_PASSWORD={DB_PASSWORD}"]
    made.run(POSTGRES, options=db)
    volume = made.volume()
    options = [
        f"--network={network}",
        f"--volume={config}:/config:ro",
        f"--volume={volume}:/var/lib/pgadmin",
        f"--env=PGADMIN_DEFAULT_EMAIL={EMAIL}",
        "--env=PGADMIN_DEFAULT_PASSWORD_FILE=/config/password",
        "--env=PGADMIN_SERVER_JSON_FILE=/config/servers.json",
        "--env=PGPASS_FILE=/config/pgpass",
        f"--env=PGADMIN_CONFIG_LOGIN_BANNER={BANNER!r}",
    ]
    first = made.run(PGADMIN, options=[*options, "--publish=127.0.0.1::80"])
    yield made, first, options
    made.remove()


def sign_in(container, port=80):
    """A signed-in session on pgAdmin's web API, as a browser has it."""
    base = f"http://{published(container, port)}"
    wait_until(lambda: answers(f"{base}/misc/ping"), 240, f"pgAdmin in {container} answers")
    session = requests.Session()
    page = session.get(f"{base}/login", timeout=10).text
    token = re.search(r'"csrfToken": "([^"]+)"', page)[1]
    form = {"email": EMAIL, "password": PASSWORD, "csrf_token": token}
    session.post(f"{base}/authenticate/login", data=form, timeout=10).raise_for_status()
    session.headers["X-pgA-CSRFToken"] = token
    return base, session, page


def answers(url):
    try:
        return requests.get(url, timeout=5).ok
    except requests.RequestException:
        return False


def servers(base, session):
    """(group id, server) of every server the signed-in user sees."""
    found = []
    for group in session.get(f"{base}/browser/server_group/nodes/", timeout=10).json()["data"]:
        nodes = session.get(f"{base}/browser/server/nodes/{group['_id']}", timeout=10).json()
        found += [(group["_id"], server) for server in nodes["result"]]
    return found


def test_runs_as_pgadmin_with_a_data_volume():
    """The pgadmin user (uid 5050, group 0) owns the volume /var/lib/pgadmin; /entrypoint.sh."""
    run = ["run", "--rm", "--entrypoint", "sh", PGADMIN, "-c"]
    out = docker(
        *run, "id -u; id -g; test -w /var/lib/pgadmin && test -x /entrypoint.sh && echo ok"
    )
    assert out.stdout.split() == ["5050", "0", "ok"]
    volumes = docker("image", "inspect", "-f", "{{json .Config.Volumes}}", PGADMIN).stdout
    assert "/var/lib/pgadmin" in volumes


def test_sign_in_and_connect_to_db_without_a_password(stack):
    """The default user signs in; the server from the JSON file connects through the passfile."""
    _, first, _ = stack
    base, session, page = sign_in(first)
    assert BANNER in page  # PGADMIN_CONFIG_LOGIN_BANNER reached pgAdmin's settings
    found = servers(base, session)
    assert [server["label"] for _, server in found] == ["db (test)"]
    group, server = found[0]
    url = f"{base}/browser/server/connect/{group}/{server['_id']}"
    connected = session.post(url, json={}, timeout=30).json()
    assert connected["data"]["connected"] is True, connected


def test_passfile_is_in_the_users_storage_folder(stack):
    """PGPASS_FILE was copied where "PassFile": "/.pgpass" points: the user's storage folder."""
    _, first, _ = stack
    path = "/var/lib/pgadmin/storage/admin_example.com/.pgpass"
    assert docker("exec", first, "cat", path).stdout == PGPASS


def test_a_later_start_keeps_the_servers_and_listens_where_told(stack):
    """A second start on the same volume imports nothing again; PGADMIN_LISTEN_PORT is used."""
    made, first, options = stack
    docker("stop", first)
    port = ["--env=PGADMIN_LISTEN_PORT=5050", "--publish=127.0.0.1::5050"]
    second = made.run(PGADMIN, options=[*options, *port])
    base, session, _ = sign_in(second, 5050)
    assert [server["label"] for _, server in servers(base, session)] == ["db (test)"]
