"""Run the stack on Docker Swarm: compose.yaml with compose.swarm.yaml on top.

The `make swarm-*` targets call this script (standard library only, like make_env.py):
  up             deploy db, web and nginx (the engine becomes a one-node swarm if it is in none)
  migrate [TAG]  run the migrate job to completion: migrate, then collectstatic
  scale N        run N web replicas
  deploy TAG     migrate with the image tagged TAG, then roll web over to it
  down           remove the stack (volumes and secrets are kept)
  config [SERVICE...]  print the stack file that `up` deploys (no secret is in it)

No stack file is written by hand: `docker compose config` merges compose.yaml,
compose.migrate.yaml and compose.swarm.yaml, and the result reaches `docker stack deploy` on
stdin. On the way, a few things change because the docker CLI's stack loader reads an older
schema than Compose writes: the top-level `name` goes, published ports and file modes become
numbers.

Secrets never reach a command line nor a service's environment: each is read from the
environment or `.env` and handed to `docker secret create NAME -` on stdin; the services get
them as files under /run/secrets/ and read them through NAME_FILE.

Settings, from the environment:
  SWARM_STACK           the stack's name (django-starter)
  NGINX_PORT            the port nginx publishes on its node (8088)
  WEB_IMAGE             the web image (compose.yaml's default); TAG picks another tag of it
  WEB_REPLICAS          web replicas on the first deploy (2); later deploys keep the count
  SWARM_DB_HOST         a managed PostgreSQL instead of the `db` service
  SWARM_TIMEOUT         seconds to wait for a deploy or the job (600)
  SWARM_ADVERTISE_ADDR  the address `docker swarm init` advertises, where it must choose
"""

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ENV_FILE = ROOT / ".env"
FILES = ("compose.yaml", "compose.migrate.yaml", "compose.swarm.yaml")
NGINX_SITE = ROOT / "docker" / "nginx" / "default.conf"
NGINX_SERVER_NAMES = ROOT / "docker" / "nginx" / "server-names.sh"
CREATE_APP_ROLE = ROOT / "docker" / "postgres" / "initdb" / "create-app-role.sh"
DATA_LABEL = "django-starter.data"

STACK = os.environ.get("SWARM_STACK") or "django-starter"
TIMEOUT = float(os.environ.get("SWARM_TIMEOUT") or 600)

# Docker secret (its name after the stack's) -> the variable that holds its value.
SECRETS = {
    "django_secret_key": "DJANGO_SECRET_KEY",
    "postgres_password": "POSTGRES_PASSWORD",
    "django_db_password": "DJANGO_DB_PASSWORD",
    "django_superuser_password": "DJANGO_SUPERUSER_PASSWORD",
}
# Deploys to try when another one changes the stack at the same moment.
DEPLOY_ATTEMPTS = 5
# Task states that end a run of the job without success.
FAILED = ("failed", "rejected")
# How an update that failed ended, by its UpdateStatus.State.
UPDATE_FAILED = {
    "rollback_completed": "rolled it back",
    "rollback_paused": "paused its rollback",
    "paused": "paused it",
}
# Never copied into the services' environment: the secrets, and pgAdmin's settings
# (pgAdmin is development only).
PRIVATE = (*SECRETS.values(), "PGADMIN_")


class SwarmError(Exception):
    """Stops the script with a one-line message (and a non-zero exit code)."""


def docker(*args: str, input: str | None = None, check: bool = True, timeout: float = 120):
    result = subprocess.run(
        ["docker", *args], input=input, capture_output=True, text=True, timeout=timeout
    )
    if check and result.returncode != 0:
        raise SwarmError(f"docker {' '.join(args)} failed:\n{result.stderr.strip()}")
    return result


def say(message: str) -> None:
    print(f"swarm: {message}", flush=True)


# --- .env -----------------------------------------------------------------------------


def dotenv_lines() -> list[tuple[str, str, str]]:
    """(name, value, line) for each assignment in .env, read the way python-decouple does."""
    if not ENV_FILE.exists():
        return []
    entries = []
    for line in ENV_FILE.read_text().splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#") or "=" not in stripped:
            continue
        name, value = (part.strip() for part in stripped.split("=", 1))
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        entries.append((name, value, line))
    return entries


def setting(name: str) -> str:
    """An environment variable wins over .env, as in config/env.py."""
    return os.environ.get(name) or dict((n, v) for n, v, _ in dotenv_lines()).get(name, "")


def write_public_env(directory: str) -> str:
    """.env without the secrets, for the services' environment."""
    path = Path(directory) / "swarm.env"
    public = [line for name, _, line in dotenv_lines() if not name.startswith(PRIVATE)]
    path.write_text("".join(f"{line}\n" for line in public))
    return str(path)


# --- The swarm, its node label and secrets --------------------------------------------------


def ensure_swarm() -> None:
    state = docker("info", "--format", "{{.Swarm.LocalNodeState}}").stdout.strip()
    if state == "inactive":
        advertise = os.environ.get("SWARM_ADVERTISE_ADDR")
        init = ["swarm", "init", *(["--advertise-addr", advertise] if advertise else [])]
        result = docker(*init, check=False)
        if result.returncode != 0:
            raise SwarmError(
                f"docker swarm init failed: {result.stderr.strip()}\n"
                "Set SWARM_ADVERTISE_ADDR to this node's address, or join a swarm first."
            )
        say("this engine is now a one-node swarm (`docker swarm leave --force` undoes it)")
    elif state != "active":
        raise SwarmError(f"this engine's swarm is {state}: see `docker info`")
    if docker("info", "--format", "{{.Swarm.ControlAvailable}}").stdout.strip() != "true":
        raise SwarmError("run this on a manager node of the swarm")


def ensure_data_node() -> None:
    nodes = docker("node", "ls", "--quiet").stdout.split()
    labels = docker(
        "node", "inspect", "--format", f'{{{{index .Spec.Labels "{DATA_LABEL}"}}}}', *nodes
    ).stdout.split()
    if "true" not in labels:
        node = docker("info", "--format", "{{.Swarm.NodeID}}").stdout.strip()
        docker("node", "update", "--label-add", f"{DATA_LABEL}=true", node)
        say(f"labelled this node {DATA_LABEL}=true: db, nginx and the migrate job run here")


def ensure_secrets(names) -> None:
    existing = set(docker("secret", "ls", "--format", "{{.Name}}").stdout.split())
    for name in names:
        secret_name = f"{STACK}_{name}"
        if secret_name in existing:
            continue
        variable = SECRETS[name]
        value = setting(variable)
        if not value:
            raise SwarmError(
                f"{variable} is not set. Set it in the environment or in .env "
                "(`make env` creates .env from .env.example with fresh secrets)."
            )
        docker("secret", "create", secret_name, "-", input=value)
        say(f"created the secret {secret_name} from {variable}")


# --- The stack file ---------------------------------------------------------------------


def service(name: str) -> dict | None:
    result = docker("service", "inspect", f"{STACK}_{name}", check=False)
    return json.loads(result.stdout)[0] if result.returncode == 0 else None


def running_image() -> str | None:
    web = service("web")
    if web is None:
        return None
    return web["Spec"]["TaskTemplate"]["ContainerSpec"]["Image"].split("@")[0]


def with_tag(image: str, tag: str) -> str:
    name, _, last = image.rpartition(":")
    repository = name if name and "/" not in last else image
    return f"{repository}:{tag}"


def stack_config(*services: str, image: str | None = None) -> dict:
    """The merged compose files as `docker stack deploy` reads them, for `services`."""
    environ = {
        **os.environ,
        "SWARM_STACK": STACK,
        "NGINX_SITE_HASH": file_hash(NGINX_SITE),
        "NGINX_SERVER_NAMES_HASH": file_hash(NGINX_SERVER_NAMES),
        "CREATE_APP_ROLE_HASH": file_hash(CREATE_APP_ROLE),
    }
    if image:
        environ["WEB_IMAGE"] = image
    web = service("web")
    if web is not None:
        environ["WEB_REPLICAS"] = str(web["Spec"]["Mode"]["Replicated"]["Replicas"])
    with tempfile.TemporaryDirectory() as directory:
        environ["SWARM_ENV_FILE"] = write_public_env(directory)
        command = ["docker", "compose", "--project-name", STACK]
        for file in FILES:
            command += ["--file", file]
        result = subprocess.run(
            [*command, "config", "--format", "json", *services],
            cwd=ROOT,
            env=environ,
            capture_output=True,
            text=True,
            timeout=60,
        )
    if result.returncode != 0:
        raise SwarmError(f"docker compose config failed:\n{result.stderr.strip()}")
    # Extension fields (x-…) were only there for the anchors.
    config = {
        key: value
        for key, value in json.loads(result.stdout).items()
        if key != "name" and not key.startswith("x-")
    }
    for spec in config["services"].values():
        for port in spec.get("ports", []):
            port["published"] = int(port["published"])
        # Compose writes a file mode as an octal string ("0555"), the stack loader wants a number.
        for mounted in (*spec.get("configs", []), *spec.get("secrets", [])):
            if isinstance(mounted.get("mode"), str):
                mounted["mode"] = int(mounted["mode"], 8)
    return without_nulls(config)


def file_hash(path: Path) -> str:
    """Part of a Swarm config's name: configs cannot change, new content needs a new name."""
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def without_nulls(value):
    if isinstance(value, dict):
        return {key: without_nulls(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [without_nulls(item) for item in value]
    return value


def stack_deploy(config: dict, *, wait: bool) -> None:
    # Swarm refuses an update made from a service version that another update has just
    # replaced ("update out of sequence"), as when two `make swarm-migrate` run at once:
    # deploying again, from the new version, is what the second one meant.
    for attempt in range(1, DEPLOY_ATTEMPTS + 1):
        try:
            result = subprocess.run(
                ["docker", "stack", "deploy", "--compose-file", "-", "--quiet"]
                + (["--detach=false"] if wait else [])
                + [STACK],
                input=json.dumps(config),
                capture_output=True,
                text=True,
                timeout=TIMEOUT,
            )
        except subprocess.TimeoutExpired:
            raise SwarmError(f"the stack did not converge within {TIMEOUT:g}s\n{tasks()}") from None
        if "out of sequence" not in result.stderr or attempt == DEPLOY_ATTEMPTS:
            break
        say("another deploy changed the stack at the same moment: deploying again")
        time.sleep(attempt)
    # What Swarm ignores (build, restart, security_opt) and unpinned images are worth a look.
    for line in result.stderr.splitlines():
        if line.strip():
            print(f"  {line}", file=sys.stderr)
    if result.returncode != 0:
        raise SwarmError(f"docker stack deploy failed:\n{result.stderr.strip()}\n{tasks()}")


def tasks() -> str:
    result = docker(
        "stack",
        "ps",
        STACK,
        "--no-trunc",
        "--format",
        "{{.Name}} {{.Image}} {{.CurrentState}} {{.Error}}",
        check=False,
    )
    return result.stdout.strip() or result.stderr.strip()


def summary() -> None:
    listing = docker(
        "stack",
        "services",
        STACK,
        "--format",
        "{{.Name}} {{.Mode}} {{.Replicas}} {{.Image}}",
    )
    for line in sorted(listing.stdout.splitlines()):
        say(f"  {line}")


# --- Commands ---------------------------------------------------------------------------


def stack_services() -> list[str]:
    """The long-running services; without `db` where SWARM_DB_HOST names another server."""
    external_db = os.environ.get("SWARM_DB_HOST", "db") not in ("", "db")
    return ["web", "nginx"] if external_db else ["db", "web", "nginx"]


def up(args) -> None:
    ensure_swarm()
    ensure_data_node()
    # web and the job read only the app role's password (DJANGO_DB_PASSWORD_FILE).
    if not setting("DJANGO_DB_USER"):
        raise SwarmError(
            "DJANGO_DB_USER is not set: on Swarm the app connects as a role of its own "
            "(.env.example documents it)."
        )
    ensure_secrets(["django_secret_key", "postgres_password", "django_db_password"])
    config = stack_config(*stack_services(), image=running_image())
    image = config["services"]["web"]["image"]
    if docker("image", "inspect", image, check=False).returncode != 0:
        say(f"{image} is not on this node: building it (other nodes pull it from a registry)")
        subprocess.run(
            ["docker", "compose", "--file", "compose.yaml", "build", "web"],
            cwd=ROOT,
            env={**os.environ, "WEB_IMAGE": image},
            check=True,
        )
    say(f"deploying the stack {STACK} (web: {image})")
    before = update_started("web")
    stack_deploy(config, wait=True)
    check_update("web", started_before=before)
    summary()
    port = config["services"]["nginx"]["ports"][0]["published"]
    say(f"up: http://<this node>:{port}/ (run `make swarm-migrate` on a new database)")


def migrate(args) -> None:
    ensure_swarm()
    ensure_secrets(SECRETS)
    # The image web runs (compose.yaml's before the first deploy), under another tag if given.
    image = running_image()
    if args.tag:
        image = with_tag(image or stack_config("web")["services"]["web"]["image"], args.tag)
    run_job(stack_config("migrate", image=image))


def run_job(config: dict) -> None:
    """Deploy the migrate job (Swarm runs a job again on every deploy) and wait for it."""
    name = f"{STACK}_migrate"
    before = service("migrate")
    last = job_iteration(before) if before else -1
    say(f"running the migrate job ({config['services']['migrate']['image']})")
    stack_deploy(config, wait=False)
    deadline = time.monotonic() + TIMEOUT
    while True:
        iteration = job_iteration(service("migrate"))
        states = job_states(name, iteration) if iteration > last else []
        if states and all(state == "complete" for _, state, _ in states):
            break
        failed = [(task, error) for task, state, error in states if state in FAILED]
        if failed:
            task, error = failed[0]
            logs = docker("service", "logs", "--raw", task, check=False)
            print(logs.stdout + logs.stderr, end="", file=sys.stderr)
            raise SwarmError(f"the migrate job failed: {error}")
        if time.monotonic() > deadline:
            raise SwarmError(f"the migrate job did not finish within {TIMEOUT:g}s\n{tasks()}")
        time.sleep(1)
    task = job_tasks(name, iteration)[0]
    print(docker("service", "logs", "--raw", task, check=False).stdout, end="")
    say("the migrate job completed")


def job_iteration(job: dict) -> int:
    """Which run of the job this is: Swarm counts them from 0 (and then leaves the field out)."""
    return job.get("JobStatus", {}).get("JobIteration", {}).get("Index", 0)


def job_tasks(name: str, iteration: int) -> list[str]:
    ids = docker("service", "ps", "--quiet", "--no-trunc", name).stdout.split()
    if not ids:
        return []
    # A task may vanish between the two calls (Swarm keeps a few per service).
    found = docker("inspect", "--format", "{{.ID}} {{.JobIteration.Index}}", *ids, check=False)
    found = found.stdout
    return [line.split()[0] for line in found.splitlines() if line.split()[1] == str(iteration)]


def job_states(name: str, iteration: int) -> list[tuple[str, str, str]]:
    """(task, state, error) for each task of that run of the job."""
    ids = job_tasks(name, iteration)
    if not ids:
        return []
    found = docker(
        "inspect", "--format", "{{.ID}}|{{.Status.State}}|{{.Status.Err}}", *ids, check=False
    ).stdout
    return [tuple(line.split("|", 2)) for line in found.splitlines()]


def scale(args) -> None:
    if service("web") is None:
        raise SwarmError(f"no stack {STACK} here: run `make swarm-up` first")
    say(f"scaling web to {args.replicas}")
    docker(
        "service",
        "update",
        "--replicas",
        str(args.replicas),
        "--detach=false",
        "--quiet",
        f"{STACK}_web",
        timeout=TIMEOUT,
    )
    summary()


def deploy(args) -> None:
    ensure_swarm()
    current = running_image()
    if current is None:
        raise SwarmError(f"no stack {STACK} here: run `make swarm-up` first")
    image = with_tag(current, args.tag)
    if docker("image", "inspect", image, check=False).returncode != 0:
        say(f"{image} is not on this node: the nodes pull it from its registry")
    ensure_secrets(SECRETS)
    # Migrations first, so that the new code finds its schema; they must suit the old code
    # too, which serves until the last old replica stops.
    run_job(stack_config("migrate", image=image))
    say(f"rolling web over to {image}, one replica at a time")
    before = update_started("web")
    stack_deploy(stack_config(*stack_services(), image=image), wait=True)
    check_update("web", started_before=before)
    summary()


def update_started(name: str) -> str | None:
    found = service(name)
    return (found or {}).get("UpdateStatus", {}).get("StartedAt")


def check_update(name: str, *, started_before: str | None) -> None:
    """Wait for the update that the deploy started (if it started one) to end; fail if Swarm
    rolled it back or paused it. A rollback can still be under way when the CLI returns."""
    deadline = time.monotonic() + TIMEOUT
    while True:
        status = (service(name) or {}).get("UpdateStatus") or {}
        state = status.get("State")
        if status.get("StartedAt") == started_before or state == "completed":
            return
        if state in UPDATE_FAILED:
            raise SwarmError(
                f"the update of {name} failed and Swarm {UPDATE_FAILED[state]} "
                f"({status.get('Message', state)}); {name} runs {running_image()}\n{tasks()}"
            )
        if time.monotonic() > deadline:
            raise SwarmError(f"the update of {name} did not end within {TIMEOUT:g}s\n{tasks()}")
        time.sleep(1)


def show_config(args) -> None:
    """Print the stack file that `up` deploys, or the named services only (for a review)."""
    config = stack_config(*(args.services or stack_services()), image=running_image())
    print(json.dumps(config, indent=2))


def down(args) -> None:
    docker("stack", "rm", "--detach=false", STACK, timeout=TIMEOUT)
    say(
        f"removed the stack {STACK}; kept its volumes ({STACK}_postgres-data, {STACK}_static) "
        f"and secrets ({STACK}_*): `docker volume rm` / `docker secret rm` remove them"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("up").set_defaults(run=up)
    job = commands.add_parser("migrate")
    job.add_argument("tag", nargs="?", default="", help="another tag of the web image")
    job.set_defaults(run=migrate)
    scaling = commands.add_parser("scale")
    scaling.add_argument("replicas", type=int, help="make swarm-scale N=4")
    scaling.set_defaults(run=scale)
    rollout = commands.add_parser("deploy")
    rollout.add_argument("tag", help="make swarm-deploy TAG=v2")
    rollout.set_defaults(run=deploy)
    commands.add_parser("down").set_defaults(run=down)
    printing = commands.add_parser("config")
    printing.add_argument("services", nargs="*", help="db, web, nginx, migrate")
    printing.set_defaults(run=show_config)
    args = parser.parse_args()
    try:
        args.run(args)
    except SwarmError as error:
        print(f"swarm: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
