"""postgres:17 as compose.yaml runs it: what the stack relies on (see ../README.md)."""

import time

import pytest

from conftest import POSTGRES, docker, inspect, require, wait_until

# compose.yaml's hardening of the db service; every container here runs with it.
CAPS = ("CHOWN", "DAC_OVERRIDE", "FOWNER", "SETGID", "SETUID")
HARDENED = ["--security-opt=no-new-privileges:true", "--cap-drop=ALL"]
HARDENED += [f"--cap-add={cap}" for cap in CAPS]
PASSWORD = "secret"


@pytest.fixture(scope="module", autouse=True)
def image():
    require(POSTGRES)


def start(engine, *options, secret=PASSWORD, wait=True):
    env = [f"--env=POSTGRES_PASSWORD={secret}"] if secret else []
    name = engine.run(POSTGRES, options=[*HARDENED, *env, *options])
    if wait:
        wait_for_server(name)
    return name


def wait_for_server(name):
    # Over TCP: the server that runs the init scripts listens on the socket only.
    def ready():
        return docker("exec", name, "pg_isready", "-q", "-h", "127.0.0.1", check=False)

    wait_until(lambda: ready().returncode == 0, 60, f"{name} accepting connections")


def sql(name, query, user="postgres", db="postgres"):
    """A query over the container's socket (no password), its rows as text."""
    psql = ["psql", "-Atq", "-v", "ON_ERROR_STOP=1", "-U", user, "-d", db, "-c", query]
    return docker("exec", name, *psql).stdout.strip()


def tcp_sql(container, password, user, db, host="127.0.0.1"):
    psql = ["psql", "-h", host, "-U", user, "-d", db, "-w", "-c", "SELECT 1"]
    return docker("exec", f"--env=PGPASSWORD={password}", container, *psql, check=False)


def container_state(name, field):
    return docker("container", "inspect", "-f", f"{{{{.State.{field}}}}}", name).stdout.strip()


def test_settings_from_environment(engine):
    """POSTGRES_USER and POSTGRES_DB name the superuser and database; UTF-8, all addresses."""
    name = start(engine, "--env=POSTGRES_USER=alice", "--env=POSTGRES_DB=shop")
    who = "SELECT current_user, current_database(), rolsuper FROM pg_roles WHERE rolname = 'alice'"
    assert sql(name, who, "alice", "shop") == "alice|shop|t"
    assert sql(name, "SHOW server_encoding", "alice", "shop") == "UTF8"
    assert sql(name, "SHOW listen_addresses", "alice", "shop") == "*"


def test_defaults_and_data_directory(engine):
    """The superuser and database default to postgres; PGDATA is the image's volume."""
    name = start(engine)
    assert sql(name, "SELECT current_user, current_database()") == "postgres|postgres"
    assert sql(name, "SHOW data_directory") == "/var/lib/postgresql/data"
    assert "/var/lib/postgresql/data" in inspect(POSTGRES, "{{json .Config.Volumes}}")
    name = start(engine, "--env=PGDATA=/srv/cluster")
    assert sql(name, "SHOW data_directory") == "/srv/cluster"


def test_settings_from_files(engine, tmp_path):
    """Each POSTGRES_* may come from the file named by POSTGRES_*_FILE (Docker secrets)."""
    tmp_path.chmod(0o755)
    options = [f"--volume={tmp_path}:/run/secrets:ro"]
    for key, value in {"USER": "bob", "PASSWORD": "from-a-file", "DB": "books"}.items():
        (tmp_path / key).write_text(value + "\n")
        (tmp_path / key).chmod(0o444)
        options.append(f"--env=POSTGRES_{key}_FILE=/run/secrets/{key}")
    name = start(engine, *options, secret=None)
    assert sql(name, "SELECT current_user, current_database()", "bob", "books") == "bob|books"
    assert tcp_sql(name, "from-a-file", "bob", "books").returncode == 0


def test_password_over_tcp_trust_on_the_socket(engine):
    """Another container needs the password (stored as SCRAM); the socket inside needs none."""
    network = engine.network()
    server = start(engine, f"--network={network}", secret="right")
    client = start(engine, f"--network={network}")
    assert "no password supplied" in tcp_sql(client, "", "postgres", "postgres", server).stderr
    wrong = tcp_sql(client, "wrong", "postgres", "postgres", server)
    assert "password authentication failed" in wrong.stderr
    assert tcp_sql(client, "right", "postgres", "postgres", server).returncode == 0
    stored = "SELECT rolpassword LIKE 'SCRAM-SHA-256$%' FROM pg_authid WHERE rolname = 'postgres'"
    assert sql(server, stored) == "t"


INIT_SCRIPTS = {
    # Executed, from a read-only file of mode 0555, as Swarm mounts a config.
    "10-executed.sh": (
        0o555,
        """#!/bin/sh
set -e
if pg_isready -q -h 127.0.0.1; then tcp=yes; else tcp=no; fi
psql -v ON_ERROR_STOP=1 -U "$POSTGRES_USER" -d "$POSTGRES_DB" \\
    -c "CREATE TABLE runs (script text, seen text)" \\
    -c "INSERT INTO runs VALUES ('exec', '$POSTGRES_USER $POSTGRES_DB $POSTGRES_PASSWORD $tcp')"
""",
    ),
    # Not executable: sourced.
    "20-sourced.sh": (
        0o644,
        """psql -U "$POSTGRES_USER" -d "$POSTGRES_DB" \\
    -c "INSERT INTO runs VALUES ('sourced', '$POSTGRES_DB')"
""",
    ),
    "30-plain.sql": (0o644, "INSERT INTO runs VALUES ('sql', current_database());\n"),
}


def test_init_scripts_run_once_on_an_empty_data_directory(engine, tmp_path):
    """*.sh (executed or sourced) and *.sql run once, on a socket-only server, with POSTGRES_*."""
    volume = engine.volume()
    options = ["--env=POSTGRES_USER=carol", "--env=POSTGRES_DB=app"]
    options.append(f"--volume={volume}:/var/lib/postgresql/data")
    for script, (mode, text) in INIT_SCRIPTS.items():
        (tmp_path / script).write_text(text)
        (tmp_path / script).chmod(mode)
        options.append(f"--volume={tmp_path / script}:/docker-entrypoint-initdb.d/{script}:ro")
    first = start(engine, *options, secret="first")
    runs = "SELECT script, seen FROM runs ORDER BY script"
    expected = "exec|carol app first no\nsourced|app\nsql|app"
    assert sql(first, runs, "carol", "app") == expected
    docker("stop", first)

    # The same data again, with another password: kept as it is, no script run again.
    second = start(engine, *options, secret="second")
    assert sql(second, runs, "carol", "app") == expected
    assert tcp_sql(second, "first", "carol", "app").returncode == 0


def test_server_is_pid_1_as_the_postgres_user(engine):
    """PID 1 is the server itself, run by the unprivileged postgres user."""
    name = start(engine)
    status = docker("exec", name, "cat", "/proc/1/status").stdout
    assert "Name:\tpostgres" in status
    uid = status.split("Uid:")[1].split()[0]
    assert uid != "0"
    assert docker("exec", name, "id", "-nu", uid).stdout.strip() == "postgres"


def test_docker_stop_is_a_fast_clean_shutdown(engine):
    """docker stop sends SIGINT: the server ends its sessions and shuts down cleanly, at once."""
    assert inspect(POSTGRES, "{{.Config.StopSignal}}") == "SIGINT"
    name = start(engine)
    # An open session would hold up a smart shutdown (SIGTERM), not a fast one.
    docker("exec", "--detach", name, "psql", "-U", "postgres", "-c", "SELECT pg_sleep(60)")
    started = time.monotonic()
    docker("stop", "--time=30", name)
    assert time.monotonic() - started < 10
    assert container_state(name, "ExitCode") == "0"
    after_request = docker("logs", name).stderr.rsplit("fast shutdown request", 1)
    assert len(after_request) == 2
    assert "database system is shut down" in after_request[1]


def test_kill_and_restart_recovers(engine):
    """After SIGKILL the same container starts again and finds its committed data."""
    name = start(engine)
    sql(name, "CREATE TABLE kept AS SELECT 42 AS answer")
    docker("kill", "--signal=KILL", name)
    docker("start", name)
    wait_for_server(name)
    assert sql(name, "SELECT answer FROM kept") == "42"
    assert "not properly shut down" in docker("logs", name).stderr


def test_missing_password_is_one_clear_error(engine):
    """An empty data directory and no password: the container stops, saying what is missing."""
    name = start(engine, secret=None, wait=False)
    wait_until(lambda: container_state(name, "Running") == "false", 30, f"{name} exits")
    assert container_state(name, "ExitCode") != "0"
    assert "POSTGRES_PASSWORD" in docker("logs", name).stderr


def test_client_tools_on_path(engine):
    """pg_isready, psql, pg_dump and pg_restore are on PATH."""
    name = start(engine)
    for tool in ("pg_isready", "psql", "pg_dump", "pg_restore"):
        docker("exec", name, tool, "--version")
