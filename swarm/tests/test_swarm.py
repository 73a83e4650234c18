"""The stack on Docker Swarm, deployed by the `make swarm-*` targets (compose.yaml with
swarm/compose.swarm.yaml on top) to a one-node swarm of the local engine.

The tests run in file order and build on each other: deploy and migrate, sign in, scale out,
roll out a new tag, roll back a broken one, lose a replica, then look for secrets. Requests
go through nginx (on a free port) while the stack changes; each test prints how many were sent
and how many failed. The `swarm` fixture removes the stack, its secrets, configs and volumes
afterwards, even when a step fails, and leaves the swarm if it created it.
"""

import base64
import contextlib
import json
import os
import re
import secrets
import subprocess
import time
from http import HTTPStatus

import pytest
import requests

from harness.accounts import Account, sign_in
from harness.compose import MIGRATE, PROD, PSQL, Compose, docker, network_gateway
from harness.load import Load, Request
from harness.project import ROOT
from harness.tls import client, handshake
from harness.waiting import WaitTimeout, wait_until
from scripts.make_env import declared_secrets, optional_secrets

pytestmark = [pytest.mark.docker, pytest.mark.usefixtures("swarm")]

# Figures printed at the end of the module: what each change cost.
figures: list[str] = []
# What the TLS-terminating proxy this machine plays says (swarm_environ): nginx, which trusts
# it, serves such requests on plain http instead of redirecting them to its own https.
BEHIND_TLS = {"X-Forwarded-Proto": "https"}


@pytest.fixture(scope="module")
def project(compose_env_file) -> Compose:
    """The compose project whose image the stack runs; its name is the stack's."""
    compose = Compose("swarmtest", compose_env_file, files=PROD)
    compose.run("build", "web", timeout=900)
    return compose


def stack_name(project: Compose) -> str:
    return project.name


# Secret values that replace .env's from the test that rotates them on: every later deploy
# runs with them, as an operator's would after editing .env.
rotated: dict[str, str] = {}


def swarm_environ(project: Compose) -> dict[str, str]:
    # One replica on the first deploy; later deploys keep the count Swarm has. This machine's
    # clients play the TLS-terminating proxy in front of nginx: they reach its port, published
    # on the node, from the gateway of the node's docker_gwbridge network.
    return project.environ(
        SWARM_STACK=project.name,
        WEB_IMAGE=project.image,
        WEB_REPLICAS="1",
        NGINX_TRUSTED_PROXIES=network_gateway("docker_gwbridge"),
        **rotated,
    )


def make(project: Compose, *args: str, check: bool = True, timeout: float = 600):
    result = subprocess.run(
        ["make", *args],
        cwd=ROOT,
        env=swarm_environ(project),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if check and result.returncode != 0:
        pytest.fail(
            f"make {' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n"
            f"{result.stderr}\n--- tasks ---\n{stack_tasks(project)}",
            pytrace=False,
        )
    return result


def stack_tasks(project: Compose) -> str:
    return docker(
        "stack",
        "ps",
        project.name,
        "--no-trunc",
        "--format",
        "{{.Name}} {{.Image}} {{.CurrentState}} {{.Error}}",
        check=False,
    ).stdout


def swarm_config(project: Compose, *services: str) -> dict:
    result = subprocess.run(
        [".venv/bin/python", "-m", "swarm", "config", *services],
        cwd=ROOT,
        env=swarm_environ(project),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(result.stdout)


def containers(project: Compose, service: str, *, running: bool = True) -> list[str]:
    return docker(
        "ps",
        *([] if running else ["--all"]),
        "--quiet",
        "--filter",
        f"label=com.docker.swarm.service.name={project.name}_{service}",
    ).stdout.split()


def healthy_web_hosts(project: Compose) -> set[str]:
    """The host names of the web containers that are running and healthy."""
    ids = containers(project, "web")
    if not ids:
        return set()
    found = docker(
        "inspect", "--format", "{{.Config.Hostname}} {{.State.Health.Status}}", *ids, check=False
    ).stdout
    return {line.split()[0] for line in found.splitlines() if line.endswith(" healthy")}


def web_images(project: Compose, service: str = "web") -> list[str]:
    """The image of every web (or worker) task Swarm wants running."""
    return docker(
        "service",
        "ps",
        f"{project.name}_{service}",
        "--filter",
        "desired-state=running",
        "--format",
        "{{.Image}}",
    ).stdout.split()


def web_service(project: Compose) -> dict:
    return json.loads(docker("service", "inspect", f"{project.name}_web").stdout)[0]


def run_sql(project: Compose, sql: str) -> str:
    return docker("exec", "-i", containers(project, "db")[0], *PSQL, input=sql).stdout.strip()


def health_load(project: Compose) -> Load:
    """GET /health/ through nginx from a few threads, noting which container answered. Each
    thread pauses between requests, which bounds the load to what two CPUs serve while Swarm
    starts and stops replicas beside it."""
    return Load(
        project.url(),
        lambda index, n: Request("GET", "/health/", headers=BEHIND_TLS),
        connections=4,
        pause=0.02,
        timeout=20,
        observe=lambda response: response.json().get("host"),
    )


def report(load: Load, change: str, seconds: float) -> None:
    line = (
        f"{change}: {seconds:.1f}s; {len(load.outcomes)} requests through nginx in "
        f"{load.stopped - load.started:.1f}s, {len(load.failures())} failed, "
        f"answered by {len(load.notes())} containers"
    )
    figures.append(line)
    print(line)


# --- The swarm and its cleanup ------------------------------------------------------------


def data_label(project: Compose) -> str:
    return f"{project.name}.data"


def remove_stack(project: Compose) -> None:
    """The stack, then what it leaves behind: task containers, volumes, secrets, configs."""
    stack = project.name
    # Not `--detach=false`: that wait can outlast the removal by minutes on a busy engine.
    docker("stack", "rm", stack, check=False, timeout=60)
    # Swarm removes the tasks' containers a moment after their services; they hold the volumes.
    # One still stopping after its grace period (30 s at most) is removed by force below.
    labelled = ("--filter", f"label=com.docker.stack.namespace={stack}")
    with contextlib.suppress(WaitTimeout):
        wait_until(
            lambda: not docker("ps", "--quiet", *labelled).stdout.strip(),
            timeout=60,
            message=f"the containers of {stack} did not stop",
        )
    leftovers = docker("ps", "--all", "--quiet", *labelled).stdout.split()
    if leftovers:
        docker("rm", "--force", *leftovers, check=False)
    # The stack's removal may have found its network still in use by those containers.
    for kind in ("volume", "secret", "config", "network"):
        names = docker(kind, "ls", "--quiet", "--filter", f"name={stack}_").stdout.split()
        if names:
            docker(kind, "rm", *names, check=False)
    wait_until(
        lambda: not docker("network", "ls", "--quiet", "--filter", f"name={stack}_").stdout.strip(),
        timeout=60,
        message=f"the network of {stack} was not removed",
    )


@pytest.fixture(scope="module")
def swarm(project):
    """A one-node swarm on the local engine (created here unless the engine is in one
    already), the test stack removed before and after, and the engine as it was found."""
    state = docker("info", "--format", "{{.Swarm.LocalNodeState}}").stdout.strip()
    created = state == "inactive"
    label = data_label(project)
    label_before = None
    try:
        if created:
            docker("swarm", "init", "--advertise-addr", "127.0.0.1")
        elif state != "active":
            pytest.fail(f"the engine's swarm is {state!r}", pytrace=False)
        node = docker("info", "--format", "{{.Swarm.NodeID}}").stdout.strip()
        label_before = docker(
            "node", "inspect", "--format", f'{{{{index .Spec.Labels "{label}"}}}}', node
        ).stdout.strip()
        remove_stack(project)
        yield node
    finally:
        try:
            remove_stack(project)
            for tag in ("swarmtest-next", "swarmtest-broken"):
                docker("image", "rm", tagged(project, tag), check=False)
        finally:
            if created:
                docker("swarm", "leave", "--force", check=False)
            elif label_before == "":
                docker("node", "update", "--label-rm", label, node, check=False)
        left = {
            kind: docker(
                kind, "ls", "--quiet", "--filter", f"name={project.name}_", check=False
            ).stdout
            for kind in ("volume", "secret")
        }
        print("\n".join(["", "Swarm figures:", *figures]))
        assert not any(left.values()), f"left behind: {left}"


def tagged(project: Compose, tag: str) -> str:
    return f"{project.image.rpartition(':')[0]}:{tag}"


# --- One configuration ----------------------------------------------------------------------


def test_the_swarm_stack_is_compose_yaml_with_only_swarm_keys_on_top(project):
    """Same images, commands, healthchecks and non-secret settings as compose.yaml; secrets
    as files instead; the migrate job as compose.migrate.yaml has it."""
    compose_config = json.loads(
        project.run("config", "--format", "json", files=PROD + MIGRATE).stdout
    )["services"]
    stack = swarm_config(project, "db", "web", "nginx", "migrate", "worker")["services"]

    assert sorted(stack) == ["db", "migrate", "nginx", "web", "worker"]
    for name in ("db", "web", "nginx", "migrate", "worker"):
        for key in ("image", "command", "entrypoint", "cap_drop", "cap_add", "read_only"):
            assert stack[name].get(key) == compose_config[name].get(key), (name, key)
        # The same limits (CPUs as a string for the stack loader), every root read-only.
        limits = compose_config[name]["deploy"]["resources"]["limits"]
        assert stack[name]["deploy"]["resources"]["limits"] == {
            **limits,
            "cpus": str(limits["cpus"]),
        }, name
        assert stack[name]["read_only"] is True, name
        assert stack[name].get("stop_grace_period") == compose_config[name].get(
            "stop_grace_period"
        ), name
    for name in ("db", "web", "nginx", "worker"):
        assert stack[name]["healthcheck"] == compose_config[name]["healthcheck"], name
    assert stack["migrate"]["healthcheck"] == {"disable": True}

    secret_names = {*declared_secrets(), *optional_secrets()}
    for name in ("web", "migrate", "worker"):
        in_compose = {
            key
            for key, value in compose_config[name]["environment"].items()
            if value is not None and key not in secret_names
        }
        in_swarm = {
            key
            for key in stack[name]["environment"]
            if key.removesuffix("_FILE") not in secret_names
        }
        assert in_swarm == in_compose, name
        for key in in_compose - {"DJANGO_DB_HOST"}:
            assert stack[name]["environment"][key] == compose_config[name]["environment"][key]
    for name, expected in {
        "db": ["django_db_password", "postgres_password"],
        # The app's own role: web and the job never hold the superuser's password.
        "web": ["django_db_password", "django_secret_key", "django_secret_key_fallbacks"],
        "worker": ["django_db_password", "django_secret_key", "django_secret_key_fallbacks"],
        "migrate": [
            "django_db_password",
            "django_secret_key",
            "django_secret_key_fallbacks",
            "django_superuser_password",
        ],
    }.items():
        assert sorted(secret["source"] for secret in stack[name]["secrets"]) == expected
        assert not secret_names & set(stack[name]["environment"]), name

    web = stack["web"]["deploy"]
    assert web["endpoint_mode"] == "dnsrr"
    assert web["update_config"]["order"] == "start-first"
    assert web["update_config"]["failure_action"] == "rollback"
    assert "rollback_config" in web
    assert stack["migrate"]["deploy"]["mode"] == "replicated-job"

    # Encrypted overlay networks; the database on one of its own, with no way out, that
    # nginx does not join.
    networks = swarm_config(project)["networks"]
    assert all(network["driver_opts"]["encrypted"] == "true" for network in networks.values())
    assert networks["db"]["internal"] is True
    joined = {name: set(spec["networks"]) for name, spec in stack.items()}
    assert joined == {
        "db": {"db"},
        "web": {"front", "db"},
        "worker": {"front", "db"},
        "migrate": {"front", "db"},
        "nginx": {"front"},
    }
    assert stack["nginx"]["ports"] == [
        {"mode": "host", "target": 80, "published": project.ports["NGINX_PORT"], "protocol": "tcp"},
        {
            "mode": "host",
            "target": 443,
            "published": project.ports["NGINX_HTTPS_PORT"],
            "protocol": "tcp",
        },
    ]
    # The certificate and key as secrets, the key for root's eyes only.
    assert {secret["source"]: secret["mode"] for secret in stack["nginx"]["secrets"]} == {
        "tls_certificate": 0o444,
        "tls_private_key": 0o400,
    }
    assert stack["nginx"]["configs"][0]["target"] == "/etc/nginx/conf.d/default.conf"
    assert "placement" in stack["db"]["deploy"]


# --- Deploy, migrate, sign in -----------------------------------------------------------------


def test_swarm_up_and_migrate_serve_the_app_through_nginx(project, swarm):
    started = time.monotonic()
    deployed = make(project, "swarm-up")
    up = time.monotonic() - started
    started = time.monotonic()
    migrated = make(project, "swarm-migrate")
    job = time.monotonic() - started
    line = f"swarm-up: {up:.1f}s; swarm-migrate: {job:.1f}s"
    figures.append(line)
    print(line)

    assert "accounts.0002_create_superuser... OK" in migrated.stdout
    # What Swarm leaves out of compose.yaml, said where the operator sees it.
    assert re.search(r"Ignoring unsupported options: .*security_opt", deployed.stderr)
    assert len(containers(project, "web")) == 1
    label = docker(
        "node", "inspect", "--format", f'{{{{index .Spec.Labels "{data_label(project)}"}}}}', swarm
    )
    assert label.stdout.strip() == "true"
    health = requests.get(f"{project.url()}/health/", headers=BEHIND_TLS, timeout=10)
    assert health.status_code == HTTPStatus.OK
    assert health.json()["database"] == "ok"

    # nginx's files come from Swarm configs, the same bytes as the repository's.
    configs = json.loads(
        docker(
            "service",
            "inspect",
            "--format",
            "{{json .Spec.TaskTemplate.ContainerSpec.Configs}}",
            f"{project.name}_nginx",
        ).stdout
    )
    sources = {
        "/etc/nginx/conf.d/default.conf": "docker/nginx/default.conf",
        "/etc/nginx/conf.d/https.conf": "docker/nginx/https.conf",
        "/etc/nginx/app.conf": "docker/nginx/app.conf",
        "/etc/nginx/http-to-https.conf": "docker/nginx/http-to-https.conf",
        "/etc/nginx/static-files.conf": "docker/nginx/static-files.conf",
        "/docker-entrypoint.d/40-server-names.sh": "docker/nginx/server-names.sh",
        "/docker-entrypoint.d/41-trusted-proxies.sh": "docker/nginx/trusted-proxies.sh",
        "/docker-entrypoint.d/42-https-redirect.sh": "docker/nginx/https-redirect.sh",
        "/etc/nginx/private-media.conf": "docker/nginx/private-media.conf",
        "/docker-entrypoint.d/44-upload-limit.sh": "docker/nginx/upload-limit.sh",
    }
    assert sorted(config["File"]["Name"] for config in configs) == sorted(sources)
    for config in configs:
        data = docker("config", "inspect", "--format", "{{json .Spec.Data}}", config["ConfigID"])
        source = ROOT / sources[config["File"]["Name"]]
        assert base64.b64decode(json.loads(data.stdout)) == source.read_bytes(), source


def test_nginx_serves_https_with_the_certificate_from_its_secrets(project):
    """The certificate of NGINX_CERTS_DIR, as Docker secrets: https with it, HTTP/2, and plain
    http that no proxy says came over https sent to the https port."""
    certificates = project.certificates
    port = project.ports["NGINX_HTTPS_PORT"]
    health = requests.get(f"{project.https_url()}/health/", verify=certificates.ca, timeout=10)
    assert health.status_code == HTTPStatus.OK
    served = handshake(port, client(certificates.ca, alpn=["h2", "http/1.1"]))
    assert (served.serial, served.alpn) == (certificates.serial(), "h2")
    plain = requests.get(f"{project.url()}/accounts/login/", allow_redirects=False, timeout=10)
    assert plain.headers["Location"] == f"https://127.0.0.1:{port}/accounts/login/"
    inside = containers(project, "nginx")[0]
    key = docker("exec", inside, "stat", "-c", "%a %u", "/etc/nginx/certs/privkey.pem")
    assert key.stdout.split() == ["400", "0"]


def test_swarm_applies_the_limits_and_hardening_but_not_no_new_privileges(project):
    """What the engine makes of compose.yaml's hardening on Swarm: limits, read-only root
    file systems, dropped capabilities and the networks apply; `security_opt` does not
    (`docker stack deploy` says "Ignoring unsupported options: security_opt"), which the web
    image makes up for by holding no setuid or setgid program (tests/docker/test_compose.py)."""
    for name in ("db", "web", "worker", "nginx"):
        task = json.loads(docker("service", "inspect", f"{project.name}_{name}").stdout)[0]["Spec"][
            "TaskTemplate"
        ]
        limits = task["Resources"]["Limits"]
        assert limits["NanoCPUs"] > 0, name
        assert limits["MemoryBytes"] > 0, name
        assert limits["Pids"] > 0, name
        assert task["ContainerSpec"]["ReadOnly"] is True, name
        assert task["ContainerSpec"]["CapabilityDrop"] == ["ALL"], name
        container = containers(project, name)[0]
        host = json.loads(docker("inspect", "-f", "{{json .HostConfig}}", container).stdout)
        assert "no-new-privileges:true" not in (host["SecurityOpt"] or []), name
        assert host["ReadonlyRootfs"] is True, name
        assert host["PidsLimit"] == limits["Pids"], name

    for network in ("front", "db"):
        options = docker(
            "network", "inspect", "--format", "{{json .Options}}", f"{project.name}_{network}"
        )
        assert json.loads(options.stdout)["encrypted"] == "true", network
    # nginx is not on the database's network: it cannot even resolve the name.
    nginx = containers(project, "nginx")[0]
    assert docker("exec", nginx, "getent", "hosts", "db", check=False).returncode != 0


def test_two_migrate_jobs_at_once_both_succeed_and_apply_nothing_twice(project):
    """Twenty rounds of two jobs at once: the deploy tool never trips over a task that Swarm
    drops between two looks at it, and no migration is applied twice."""
    for _ in range(20):
        jobs = [
            subprocess.Popen(
                ["make", "swarm-migrate"],
                cwd=ROOT,
                env=swarm_environ(project),
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
            project,
            "SELECT count(*) FROM (SELECT app, name FROM django_migrations "
            "GROUP BY app, name HAVING count(*) > 1) AS duplicates;",
        )
        == "0"
    )
    assert run_sql(project, "SELECT count(*) FROM accounts_user WHERE is_superuser;") == "1"
    # Made by the app's role (owner of its tables), which is no database superuser.
    owner = run_sql(
        project,
        "SELECT tableowner, rolsuper FROM pg_tables JOIN pg_roles ON rolname = tableowner "
        "WHERE tablename = 'accounts_user';",
    )
    assert owner == f"{project.values['DJANGO_DB_USER']}|f"


def test_the_generated_superuser_signs_in_through_nginx(project):
    """Over plain http with DEBUG off, the cookies are Secure: the client says what a TLS
    proxy in front of nginx would (X-Forwarded-Proto), from the address nginx trusts as that
    proxy, and returns the cookies itself."""
    superuser = Account(
        project.values["DJANGO_SUPERUSER_USERNAME"], project.values["DJANGO_SUPERUSER_PASSWORD"]
    )
    session, signed_in = sign_in(
        project.url(), superuser, path="/admin/login/", next="/admin/", behind_tls=True
    )
    assert signed_in.status_code == HTTPStatus.FOUND, signed_in.text[:500]
    assert signed_in.headers["Location"] == "/admin/"
    assert "Secure" in signed_in.headers["Set-Cookie"]
    admin = session.get(f"{project.url()}/admin/", allow_redirects=False, timeout=10)
    assert admin.status_code == HTTPStatus.OK
    assert "Site administration" in admin.text


def test_a_new_signing_key_in_env_rolls_web_over_and_signs_nobody_out(project):
    """Rotating DJANGO_SECRET_KEY as swarm/README.md says: the new key in .env, the old one
    in DJANGO_SECRET_KEY_FALLBACKS, `make swarm-up`. It says which secrets changed, web moves
    to their new versions, and a session signed in before the rotation is still signed in."""
    superuser = Account(
        project.values["DJANGO_SUPERUSER_USERNAME"], project.values["DJANGO_SUPERUSER_PASSWORD"]
    )
    session, signed_in = sign_in(
        project.url(), superuser, path="/admin/login/", next="/admin/", behind_tls=True
    )
    assert signed_in.status_code == HTTPStatus.FOUND
    rotated["DJANGO_SECRET_KEY"] = secrets.token_urlsafe(50)
    rotated["DJANGO_SECRET_KEY_FALLBACKS"] = project.values["DJANGO_SECRET_KEY"]
    started = time.monotonic()
    result = make(project, "swarm-up")
    figures.append(f"swarm-up with a new signing key: {time.monotonic() - started:.1f}s")
    print(figures[-1])
    for variable in rotated:
        assert f"{variable} is not the value the stack runs with" in result.stdout, variable
    assert "DJANGO_DB_PASSWORD is not the value" not in result.stdout

    web = web_service(project)["Spec"]["TaskTemplate"]["ContainerSpec"]["Secrets"]
    names = sorted(secret["SecretName"] for secret in web)
    assert names == [
        f"{project.name}_django_db_password_v1",
        f"{project.name}_django_secret_key_fallbacks_v2",
        f"{project.name}_django_secret_key_v2",
    ]
    # The running replica reads the new key (compared inside it: no value on a command line).
    replica = containers(project, "web")[0]
    same = docker(
        "exec",
        "--env",
        "EXPECTED",
        replica,
        "sh",
        "-c",
        'test "$(cat /run/secrets/django_secret_key)" = "$EXPECTED"',
        check=False,
        env={**os.environ, "EXPECTED": rotated["DJANGO_SECRET_KEY"]},
    )
    assert same.returncode == 0
    admin = session.get(f"{project.url()}/admin/", allow_redirects=False, timeout=10)
    assert admin.status_code == HTTPStatus.OK
    assert "Site administration" in admin.text


# --- Changes under load -------------------------------------------------------------------


def test_the_worker_service_runs_a_task_enqueued_by_web(project):
    """The probe task, enqueued in a web container, is run by the worker service's replica."""
    web = containers(project, "web")[0]
    workers = containers(project, "worker")
    assert len(workers) == 1
    probed = docker(
        "exec", web, "python", "manage.py", "probe_worker", "--timeout", "60", timeout=90
    )
    report = json.loads(probed.stdout.strip().splitlines()[-1])
    hostname = docker("inspect", "-f", "{{.Config.Hostname}}", workers[0]).stdout.strip()
    assert (report["status"], report["worker"]) == ("SUCCESSFUL", hostname)
    figures.append(
        f"probe task through the worker service: started {report['wait_seconds']}s "
        "after it was enqueued"
    )


def test_scaling_web_from_one_to_four_drops_no_request(project):
    with health_load(project) as load:
        time.sleep(2)
        started = time.monotonic()
        make(project, "swarm-scale", "N=4")
        # nginx re-resolves `web` every second (docker/nginx/default.conf).
        wait_until(
            lambda: (
                len(healthy_web_hosts(project)) == 4
                and set(load.notes(since=time.monotonic() - 3)) >= healthy_web_hosts(project)
            ),
            timeout=60,
            message="requests did not reach four web replicas",
        )
        spread = time.monotonic() - started
        time.sleep(2)
    report(load, "scale web 1 -> 4 (until all four answer)", spread)
    assert len(containers(project, "web")) == 4
    assert load.failures() == []


def test_a_rolling_update_to_a_new_tag_drops_no_request(project):
    new_image = tagged(project, "swarmtest-next")
    docker("tag", project.image, new_image)
    with health_load(project) as load:
        time.sleep(2)
        started = time.monotonic()
        make(project, "swarm-deploy", "TAG=swarmtest-next")
        seconds = time.monotonic() - started
        time.sleep(2)
    report(load, "rolling update of 4 replicas to a new tag (migrate job included)", seconds)
    assert load.failures() == []
    assert web_images(project) == [new_image] * 4
    running = docker(
        "ps",
        "--filter",
        f"label=com.docker.swarm.service.name={project.name}_web",
        "--format",
        "{{.Image}}",
    ).stdout.split()
    assert sorted(running) == [new_image] * 4
    assert web_service(project)["UpdateStatus"]["State"] == "completed"


def test_a_broken_release_rolls_back_by_itself_while_the_service_answers(project, tmp_path):
    """The release starts but its /health/ fails, so it never turns healthy. (The service's
    healthcheck, from compose.yaml, replaces any HEALTHCHECK of an image: breaking the
    image's own instruction would change nothing.)"""
    new_image, broken_image = tagged(project, "swarmtest-next"), tagged(project, "swarmtest-broken")
    # Appended to ops/views.py, a later `health` replaces the real one; the rest still works
    # (the migrate job that runs first passes its checks).
    (tmp_path / "broken_health.py").write_text(
        "\n\ndef health(request):\n"
        "    from django.conf import settings\n"
        "    from django.http import JsonResponse\n\n"
        '    return JsonResponse({"status": "broken", "host": settings.HOSTNAME}, status=503)\n'
    )
    (tmp_path / "Dockerfile").write_text(
        f"FROM {new_image}\n"
        "USER root\n"
        "COPY broken_health.py /tmp/\n"
        "RUN cat /tmp/broken_health.py >> /app/ops/views.py && rm /tmp/broken_health.py\n"
        "USER app\n"
    )
    docker(
        "build",
        "--quiet",
        "--tag",
        broken_image,
        str(tmp_path),
        env={**project.environ(), "DOCKER_BUILDKIT": "0"},
        timeout=300,
    )
    with health_load(project) as load:
        time.sleep(2)
        started = time.monotonic()
        result = make(project, "swarm-deploy", "TAG=swarmtest-broken", check=False)
        seconds = time.monotonic() - started
        time.sleep(2)
    report(load, "broken release, rolled back by Swarm", seconds)
    assert result.returncode != 0, result.stdout
    assert "Swarm rolled it back" in result.stderr, result.stderr
    assert load.failures() == []
    status = web_service(project)["UpdateStatus"]
    assert status["State"] == "rollback_completed", status
    assert web_images(project) == [new_image] * 4
    # The worker runs the release web runs, not the refused one.
    assert web_images(project, "worker") == [new_image]


def test_a_killed_replica_is_replaced_and_nothing_fails_once_it_is_healthy(project):
    with health_load(project) as load:
        time.sleep(2)
        victim = containers(project, "web")[0]
        hosts_before = healthy_web_hosts(project)
        killed_at = time.monotonic()
        docker("kill", "--signal", "KILL", victim)
        wait_until(
            lambda: (
                len(healthy_web_hosts(project) - hosts_before) == 1
                and len(healthy_web_hosts(project)) == 4
            ),
            timeout=90,
            message="Swarm did not replace the killed replica",
        )
        replaced_at = time.monotonic()
        time.sleep(8)
    during = len(load.failures()) - len(load.failures(since=replaced_at))
    report(
        load, "SIGKILL of one replica, until its replacement is healthy", replaced_at - killed_at
    )
    figures.append(f"  ({during} of them before the replacement was healthy)")
    print(figures[-1])
    assert victim not in containers(project, "web")
    assert load.failures(since=replaced_at) == []


# --- Secrets ------------------------------------------------------------------------------


def test_secrets_are_files_and_appear_in_no_service_definition_nor_log(project):
    values = {name: project.values[name] for name in declared_secrets()}
    values.update({f"rotated {name}": value for name, value in rotated.items()})
    services = docker("stack", "services", "--quiet", project.name).stdout.split()
    assert len(services) == 5, services
    definitions = docker("service", "inspect", *services).stdout
    everything = [
        container
        for service in ("web", "db", "nginx", "migrate", "worker")
        for container in containers(project, service, running=False)
    ]
    definitions += docker("inspect", *everything).stdout
    started = time.monotonic()
    logs = ""
    # Task by task: `docker service logs SERVICE` can stall when several tasks stream
    # thousands of lines at once; each task's own logs come at once.
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

    web = containers(project, "web")[0]
    files = docker("exec", web, "ls", "/run/secrets").stdout.split()
    assert sorted(files) == [
        "django_db_password",
        "django_secret_key",
        "django_secret_key_fallbacks",
    ]
    names = {line.split("=", 1)[0] for line in docker("exec", web, "env").stdout.splitlines()}
    assert not names & set(values)
    assert {"DJANGO_SECRET_KEY_FILE", "DJANGO_DB_PASSWORD_FILE"} <= names
