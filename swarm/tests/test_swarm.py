"""The stack on Docker Swarm, deployed by the `make swarm-*` targets (compose.yaml with
compose.swarm.yaml on top) to a one-node swarm of the local engine.

The tests run in file order and build on each other: deploy and migrate, sign in, scale out,
roll out a new tag, roll back a broken one, lose a replica, then look for secrets. Requests
go through nginx on 127.0.0.1:18089 while the stack changes; each test prints how many were
sent and how many failed. The `swarm` fixture removes the stack, its secrets, configs and
volumes afterwards, even when a step fails, and leaves the swarm if it created it.
"""

import base64
import json
import re
import subprocess
import threading
import time
from collections import Counter
from http import HTTPStatus

import pytest
import requests

from tests.docker.conftest import (
    PSQL,
    ROOT,
    WEB_IMAGE,
    compose,
    compose_environ,
    docker,
    wait_until,
)

pytestmark = [pytest.mark.docker, pytest.mark.usefixtures("swarm")]

STACK = "django-starter-swarmtest"
PORT = 18089
NGINX = f"http://127.0.0.1:{PORT}"
DATA_LABEL = "django-starter.data"
REPOSITORY = WEB_IMAGE.rpartition(":")[0]
NEW_IMAGE = f"{REPOSITORY}:swarmtest-next"
BROKEN_IMAGE = f"{REPOSITORY}:swarmtest-broken"
SECRETS = (
    "DJANGO_SECRET_KEY",
    "POSTGRES_PASSWORD",
    "DJANGO_DB_PASSWORD",
    "DJANGO_SUPERUSER_PASSWORD",
)
# What Swarm replaces with files, and what the stack leaves out (pgAdmin is development only).
NOT_IN_THE_SWARM_ENVIRONMENT = (*SECRETS, "PGADMIN_DEFAULT_EMAIL", "PGADMIN_DEFAULT_PASSWORD")

# Figures printed at the end of the module: what each change cost.
figures: list[str] = []


def swarm_environ() -> dict[str, str]:
    # One replica on the first deploy; later deploys keep the count Swarm has.
    return {**compose_environ(), "SWARM_STACK": STACK, "NGINX_PORT": str(PORT), "WEB_REPLICAS": "1"}


def make(*args: str, check: bool = True, timeout: float = 600) -> subprocess.CompletedProcess:
    result = subprocess.run(
        ["make", *args],
        cwd=ROOT,
        env=swarm_environ(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if check and result.returncode != 0:
        pytest.fail(
            f"make {' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n"
            f"{result.stderr}\n--- tasks ---\n{stack_tasks()}",
            pytrace=False,
        )
    return result


def stack_tasks() -> str:
    return docker(
        "stack",
        "ps",
        STACK,
        "--no-trunc",
        "--format",
        "{{.Name}} {{.Image}} {{.CurrentState}} {{.Error}}",
        check=False,
    ).stdout


def swarm_config(*services: str) -> dict:
    result = subprocess.run(
        ["python3", "scripts/swarm.py", "config", *services],
        cwd=ROOT,
        env=swarm_environ(),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(result.stdout)


def containers(service: str, *, running: bool = True) -> list[str]:
    return docker(
        "ps",
        *([] if running else ["--all"]),
        "--quiet",
        "--filter",
        f"label=com.docker.swarm.service.name={STACK}_{service}",
    ).stdout.split()


def healthy_web_hosts() -> set[str]:
    """The host names of the web containers that are running and healthy."""
    ids = containers("web")
    if not ids:
        return set()
    found = docker(
        "inspect", "--format", "{{.Config.Hostname}} {{.State.Health.Status}}", *ids, check=False
    ).stdout
    return {line.split()[0] for line in found.splitlines() if line.endswith(" healthy")}


def web_images() -> list[str]:
    """The image of every web task Swarm wants running."""
    return docker(
        "service",
        "ps",
        f"{STACK}_web",
        "--filter",
        "desired-state=running",
        "--format",
        "{{.Image}}",
    ).stdout.split()


def web_service() -> dict:
    return json.loads(docker("service", "inspect", f"{STACK}_web").stdout)[0]


def run_sql(sql: str) -> str:
    return docker(
        "exec",
        "-i",
        containers("db")[0],
        *PSQL,
        input=sql,
    ).stdout.strip()


class Load:
    """GET /health/ through nginx from a few threads until the block ends: every answer other
    than 200 (or no answer) is a failure. Each thread pauses between requests, which bounds the
    load to what two CPUs serve while Swarm starts and stops replicas beside it."""

    def __init__(self, threads: int = 4, pause: float = 0.02):
        self.threads = [threading.Thread(target=self._run) for _ in range(threads)]
        self.pause = pause
        self.hosts: Counter[str] = Counter()
        self.answered: list[tuple[float, str]] = []
        self.failures: list[tuple[float, str]] = []
        self.sent = 0
        self._stop = threading.Event()
        self._lock = threading.Lock()

    def __enter__(self):
        self.started = time.monotonic()
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc_info):
        self._stop.set()
        for thread in self.threads:
            thread.join()
        self.seconds = time.monotonic() - self.started

    def _run(self):
        session = requests.Session()
        while not self._stop.is_set():
            try:
                response = session.get(f"{NGINX}/health/", timeout=20)
                host = response.json()["host"] if response.status_code == HTTPStatus.OK else None
                failure = None if host else f"{response.status_code} {response.text[:80]!r}"
            except (requests.RequestException, ValueError, KeyError) as error:
                host, failure = None, repr(error)[:200]
            with self._lock:
                self.sent += 1
                now = time.monotonic()
                if failure:
                    self.failures.append((now, failure))
                else:
                    self.hosts[host] += 1
                    self.answered.append((now, host))
            time.sleep(self.pause)

    def hosts_since(self, moment: float) -> set[str]:
        with self._lock:
            return {host for at, host in self.answered if at >= moment}

    def failures_since(self, moment: float) -> list[tuple[float, str]]:
        with self._lock:
            return [failure for failure in self.failures if failure[0] >= moment]

    def report(self, change: str, seconds: float) -> str:
        line = (
            f"{change}: {seconds:.1f}s; {self.sent} requests through nginx in "
            f"{self.seconds:.1f}s, {len(self.failures)} failed, "
            f"answered by {len(self.hosts)} containers"
        )
        figures.append(line)
        print(line)
        return line


# --- The swarm and its cleanup ------------------------------------------------------------


def remove_stack() -> None:
    """The stack, then what it leaves behind: task containers, volumes, secrets, configs."""
    docker("stack", "rm", "--detach=false", STACK, check=False, timeout=180)
    # Swarm removes the tasks' containers a moment after their services; they hold the volumes.
    labelled = ("--filter", f"label=com.docker.stack.namespace={STACK}")
    wait_until(
        lambda: not docker("ps", "--quiet", *labelled).stdout.strip(),
        timeout=60,
        message=f"the containers of {STACK} did not stop",
    )
    leftovers = docker("ps", "--all", "--quiet", *labelled).stdout.split()
    if leftovers:
        docker("rm", "--force", *leftovers, check=False)
    for kind in ("volume", "secret", "config"):
        names = docker(kind, "ls", "--quiet", "--filter", f"name={STACK}_").stdout.split()
        if names:
            docker(kind, "rm", *names, check=False)
    wait_until(
        lambda: not docker("network", "ls", "--quiet", "--filter", f"name={STACK}_").stdout.strip(),
        timeout=60,
        message=f"the network of {STACK} was not removed",
    )


@pytest.fixture(scope="module")
def swarm(images):
    """A one-node swarm on the local engine (created here unless the engine is in one
    already), the test stack removed before and after, and the engine as it was found."""
    state = docker("info", "--format", "{{.Swarm.LocalNodeState}}").stdout.strip()
    created = state == "inactive"
    label_before = None
    try:
        if created:
            docker("swarm", "init", "--advertise-addr", "127.0.0.1")
        elif state != "active":
            pytest.fail(f"the engine's swarm is {state!r}", pytrace=False)
        node = docker("info", "--format", "{{.Swarm.NodeID}}").stdout.strip()
        label_before = docker(
            "node", "inspect", "--format", f'{{{{index .Spec.Labels "{DATA_LABEL}"}}}}', node
        ).stdout.strip()
        remove_stack()
        yield node
    finally:
        try:
            remove_stack()
            for image in (NEW_IMAGE, BROKEN_IMAGE):
                docker("image", "rm", image, check=False)
        finally:
            if created:
                docker("swarm", "leave", "--force", check=False)
            elif label_before == "":
                docker("node", "update", "--label-rm", DATA_LABEL, node, check=False)
        left = {
            kind: docker(kind, "ls", "--quiet", "--filter", f"name={STACK}_", check=False).stdout
            for kind in ("volume", "secret")
        }
        print("\n".join(["", "Swarm figures:", *figures]))
        assert not any(left.values()), f"left behind: {left}"


# --- One configuration ----------------------------------------------------------------------


def test_the_swarm_stack_is_compose_yaml_with_only_swarm_keys_on_top():
    """Same images, commands, healthchecks and non-secret settings as compose.yaml; secrets
    as files instead; the migrate job as compose.migrate.yaml has it."""
    compose_config = json.loads(
        compose("config", "--format", "json", files=("compose.yaml", "compose.migrate.yaml")).stdout
    )["services"]
    stack = swarm_config("db", "web", "nginx", "migrate")["services"]

    assert sorted(stack) == ["db", "migrate", "nginx", "web"]
    for name in ("db", "web", "nginx", "migrate"):
        for key in ("image", "command", "entrypoint", "cap_drop", "cap_add", "read_only"):
            assert stack[name].get(key) == compose_config[name].get(key), (name, key)
        assert stack[name].get("stop_grace_period") == compose_config[name].get(
            "stop_grace_period"
        ), name
    for name in ("db", "web", "nginx"):
        assert stack[name]["healthcheck"] == compose_config[name]["healthcheck"], name
    assert stack["migrate"]["healthcheck"] == {"disable": True}

    for name in ("web", "migrate"):
        in_compose = set(compose_config[name]["environment"]) - set(NOT_IN_THE_SWARM_ENVIRONMENT)
        in_swarm = {key for key in stack[name]["environment"] if not key.endswith("_FILE")}
        assert in_swarm == in_compose, name
        for key in in_compose:
            assert stack[name]["environment"][key] == compose_config[name]["environment"][key]
    for name, secrets in {
        "db": ["django_db_password", "postgres_password"],
        # The app's own role: web and the job never hold the superuser's password.
        "web": ["django_db_password", "django_secret_key"],
        "migrate": ["django_db_password", "django_secret_key", "django_superuser_password"],
    }.items():
        assert sorted(secret["source"] for secret in stack[name]["secrets"]) == secrets
        assert not set(SECRETS) & set(stack[name]["environment"]), name

    web = stack["web"]["deploy"]
    assert web["endpoint_mode"] == "dnsrr"
    assert web["update_config"]["order"] == "start-first"
    assert web["update_config"]["failure_action"] == "rollback"
    assert "rollback_config" in web
    assert stack["migrate"]["deploy"]["mode"] == "replicated-job"
    assert stack["nginx"]["ports"] == [
        {"mode": "host", "target": 80, "published": PORT, "protocol": "tcp"}
    ]
    assert stack["nginx"]["configs"][0]["target"] == "/etc/nginx/conf.d/default.conf"
    assert "placement" in stack["db"]["deploy"]


# --- Deploy, migrate, sign in -----------------------------------------------------------------


def test_swarm_up_and_migrate_serve_the_app_through_nginx(swarm):
    started = time.monotonic()
    make("swarm-up")
    up = time.monotonic() - started
    started = time.monotonic()
    migrated = make("swarm-migrate")
    job = time.monotonic() - started
    line = f"swarm-up: {up:.1f}s; swarm-migrate: {job:.1f}s"
    figures.append(line)
    print(line)

    assert "accounts.0002_create_superuser... OK" in migrated.stdout
    assert len(containers("web")) == 1
    assert (
        docker(
            "node", "inspect", "--format", f'{{{{index .Spec.Labels "{DATA_LABEL}"}}}}', swarm
        ).stdout.strip()
        == "true"
    )
    health = requests.get(f"{NGINX}/health/", timeout=10)
    assert health.status_code == HTTPStatus.OK
    assert health.json()["database"] == "ok"

    # nginx's files come from Swarm configs, the same bytes as the repository's.
    configs = json.loads(
        docker(
            "service",
            "inspect",
            "--format",
            "{{json .Spec.TaskTemplate.ContainerSpec.Configs}}",
            f"{STACK}_nginx",
        ).stdout
    )
    sources = {
        "/etc/nginx/conf.d/default.conf": "docker/nginx/default.conf",
        "/docker-entrypoint.d/40-server-names.sh": "docker/nginx/server-names.sh",
    }
    assert sorted(config["File"]["Name"] for config in configs) == sorted(sources)
    for config in configs:
        data = docker("config", "inspect", "--format", "{{json .Spec.Data}}", config["ConfigID"])
        source = ROOT / sources[config["File"]["Name"]]
        assert base64.b64decode(json.loads(data.stdout)) == source.read_bytes(), source


def test_two_migrate_jobs_at_once_both_succeed_and_apply_nothing_twice(dotenv):
    jobs = [
        subprocess.Popen(
            ["make", "swarm-migrate"],
            cwd=ROOT,
            env=swarm_environ(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [job.communicate(timeout=300)[0] for job in jobs]
    if [job.returncode for job in jobs] != [0, 0]:
        pytest.fail("a migrate job failed:\n" + "\n---\n".join(outputs), pytrace=False)
    assert (
        run_sql(
            "SELECT count(*) FROM (SELECT app, name FROM django_migrations "
            "GROUP BY app, name HAVING count(*) > 1) AS duplicates;"
        )
        == "0"
    )
    assert run_sql("SELECT count(*) FROM accounts_user WHERE is_superuser;") == "1"
    # Made by the app's role (owner of its tables), which is no database superuser.
    assert (
        run_sql(
            "SELECT tableowner, rolsuper FROM pg_tables JOIN pg_roles ON rolname = tableowner "
            "WHERE tablename = 'accounts_user';"
        )
        == f"{dotenv['DJANGO_DB_USER']}|f"
    )


def test_the_generated_superuser_signs_in_through_nginx(dotenv):
    """Over plain http with DEBUG off, the cookies are Secure: the client says what a TLS
    proxy in front of nginx would (X-Forwarded-Proto) and returns the cookies itself."""
    behind_tls = {"X-Forwarded-Proto": "https"}
    origin = f"https://127.0.0.1:{PORT}"
    page = requests.get(f"{NGINX}/admin/login/", headers=behind_tls, timeout=10)
    assert page.status_code == HTTPStatus.OK
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)[1]
    signed_in = requests.post(
        f"{NGINX}/admin/login/?next=/admin/",
        data={
            "csrfmiddlewaretoken": token,
            "username": dotenv["DJANGO_SUPERUSER_USERNAME"],
            "password": dotenv["DJANGO_SUPERUSER_PASSWORD"],
            "next": "/admin/",
        },
        headers={**behind_tls, "Origin": origin, "Referer": f"{origin}/admin/login/"},
        cookies={"csrftoken": page.cookies["csrftoken"]},
        allow_redirects=False,
        timeout=10,
    )
    assert signed_in.status_code == HTTPStatus.FOUND, signed_in.text[:500]
    assert signed_in.headers["Location"] == "/admin/"
    assert "Secure" in signed_in.headers["Set-Cookie"]
    admin = requests.get(
        f"{NGINX}/admin/",
        headers=behind_tls,
        cookies={"sessionid": signed_in.cookies["sessionid"]},
        allow_redirects=False,
        timeout=10,
    )
    assert admin.status_code == HTTPStatus.OK
    assert "Site administration" in admin.text


# --- Changes under load -------------------------------------------------------------------


def test_scaling_web_from_one_to_four_drops_no_request():
    with Load() as load:
        time.sleep(2)
        started = time.monotonic()
        make("swarm-scale", "N=4")
        # nginx re-resolves `web` every second (docker/nginx/default.conf).
        wait_until(
            lambda: (
                len(healthy_web_hosts()) == 4
                and load.hosts_since(time.monotonic() - 3) >= healthy_web_hosts()
            ),
            timeout=60,
            message="requests did not reach four web replicas",
        )
        spread = time.monotonic() - started
        time.sleep(2)
    load.report("scale web 1 -> 4 (until all four answer)", spread)
    assert len(containers("web")) == 4
    assert load.failures == []


def test_a_rolling_update_to_a_new_tag_drops_no_request():
    docker("tag", WEB_IMAGE, NEW_IMAGE)
    with Load() as load:
        time.sleep(2)
        started = time.monotonic()
        make("swarm-deploy", "TAG=swarmtest-next")
        seconds = time.monotonic() - started
        time.sleep(2)
    load.report("rolling update of 4 replicas to a new tag (migrate job included)", seconds)
    assert load.failures == []
    assert web_images() == [NEW_IMAGE] * 4
    assert (
        sorted(
            docker(
                "ps",
                "--filter",
                f"label=com.docker.swarm.service.name={STACK}_web",
                "--format",
                "{{.Image}}",
            ).stdout.split()
        )
        == [NEW_IMAGE] * 4
    )
    assert web_service()["UpdateStatus"]["State"] == "completed"


def test_a_broken_release_rolls_back_by_itself_while_the_service_answers(tmp_path):
    """The release starts but its /health/ fails, so it never turns healthy. (The service's
    healthcheck, from compose.yaml, replaces any HEALTHCHECK of an image: breaking the
    image's own instruction would change nothing.)"""
    # Appended to ops/views.py, a later `health` replaces the real one; the rest still works
    # (the migrate job that runs first passes its checks).
    (tmp_path / "broken_health.py").write_text(
        "\n\ndef health(request):\n"
        "    from django.conf import settings\n"
        "    from django.http import JsonResponse\n\n"
        '    return JsonResponse({"status": "broken", "host": settings.HOSTNAME}, status=503)\n'
    )
    (tmp_path / "Dockerfile").write_text(
        f"FROM {NEW_IMAGE}\n"
        "USER root\n"
        "COPY broken_health.py /tmp/\n"
        "RUN cat /tmp/broken_health.py >> /app/ops/views.py && rm /tmp/broken_health.py\n"
        "USER app\n"
    )
    docker(
        "build",
        "--quiet",
        "--tag",
        BROKEN_IMAGE,
        str(tmp_path),
        env={**compose_environ(), "DOCKER_BUILDKIT": "0"},
        timeout=300,
    )
    with Load() as load:
        time.sleep(2)
        started = time.monotonic()
        result = make("swarm-deploy", "TAG=swarmtest-broken", check=False)
        seconds = time.monotonic() - started
        time.sleep(2)
    load.report("broken release, rolled back by Swarm", seconds)
    assert result.returncode != 0, result.stdout
    assert "Swarm rolled it back" in result.stderr, result.stderr
    assert load.failures == []
    status = web_service()["UpdateStatus"]
    assert status["State"] == "rollback_completed", status
    assert web_images() == [NEW_IMAGE] * 4


def test_a_killed_replica_is_replaced_and_nothing_fails_once_it_is_healthy():
    with Load() as load:
        time.sleep(2)
        victim = containers("web")[0]
        hosts_before = healthy_web_hosts()
        killed_at = time.monotonic()
        docker("kill", "--signal", "KILL", victim)
        wait_until(
            lambda: len(healthy_web_hosts() - hosts_before) == 1 and len(healthy_web_hosts()) == 4,
            timeout=90,
            message="Swarm did not replace the killed replica",
        )
        replaced_at = time.monotonic()
        time.sleep(8)
    during = len(load.failures) - len(load.failures_since(replaced_at))
    load.report("SIGKILL of one replica, until its replacement is healthy", replaced_at - killed_at)
    figures.append(f"  ({during} of them before the replacement was healthy)")
    print(figures[-1])
    assert victim not in containers("web")
    assert load.failures_since(replaced_at) == []


# --- Secrets ------------------------------------------------------------------------------


def test_secrets_are_files_and_appear_in_no_service_definition_nor_log(dotenv):
    values = {name: dotenv[name] for name in (*SECRETS, "PGADMIN_DEFAULT_PASSWORD")}
    services = docker("stack", "services", "--quiet", STACK).stdout.split()
    assert len(services) == 4, services
    definitions = docker("service", "inspect", *services).stdout
    everything = containers("web", running=False) + containers("db", running=False)
    everything += containers("nginx", running=False) + containers("migrate", running=False)
    definitions += docker("inspect", *everything).stdout
    started = time.monotonic()
    logs = ""
    # Task by task: on Engine 20.10, `docker service logs SERVICE` stalls when several tasks
    # stream thousands of lines at once; each task's own logs come at once.
    tasks = docker("service", "ps", "--quiet", "--no-trunc", *services).stdout.split()
    for task in tasks:
        result = docker("service", "logs", "--raw", task, timeout=120)
        logs += result.stdout + result.stderr
    print(f"docker service logs of {len(tasks)} tasks: {time.monotonic() - started:.1f}s")
    assert "GET /health/" in logs, "the logs under test are empty"
    assert "/run/secrets/django_secret_key" in definitions
    # Names only in the assertions: a failure must not print the secret it found.
    assert [name for name, value in values.items() if value in definitions] == []
    assert [name for name, value in values.items() if value in logs] == []

    web = containers("web")[0]
    files = docker("exec", web, "ls", "/run/secrets").stdout.split()
    assert sorted(files) == ["django_db_password", "django_secret_key"]
    names = {line.split("=", 1)[0] for line in docker("exec", web, "env").stdout.splitlines()}
    assert not names & set(SECRETS)
    assert {"DJANGO_SECRET_KEY_FILE", "DJANGO_DB_PASSWORD_FILE"} <= names
