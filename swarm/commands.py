"""What `make swarm-*` does: deploy, migrate, scale, roll over to another tag, remove."""

import json
import os
import subprocess
import time

from swarm.cluster import ensure_data_node, ensure_swarm
from swarm.engine import SwarmError, docker, say
from swarm.jobs import run_job, service, stack_deploy, tasks
from swarm.secrets import ensure_secrets, remove_unused_versions
from swarm.settings import ROOT, TIMEOUT, env_file, setting
from swarm.stackfile import long_running, stack_config, stack_name

# How an update that failed ended, by its UpdateStatus.State.
UPDATE_FAILED = {
    "rollback_completed": "rolled it back",
    "rollback_paused": "paused its rollback",
    "paused": "paused it",
}


def running_image(stack: str) -> str | None:
    web = service(stack, "web")
    if web is None:
        return None
    return web["Spec"]["TaskTemplate"]["ContainerSpec"]["Image"].split("@")[0]


def running_replicas(stack: str, name: str = "web") -> int | None:
    """Later deploys keep the count Swarm has (after `make swarm-scale`, say)."""
    found = service(stack, name)
    return found["Spec"]["Mode"]["Replicated"]["Replicas"] if found else None


def with_tag(image: str, tag: str) -> str:
    name, _, last = image.rpartition(":")
    repository = name if name and "/" not in last else image
    return f"{repository}:{tag}"


def summary(stack: str) -> None:
    listing = docker(
        "stack", "services", stack, "--format", "{{.Name}} {{.Mode}} {{.Replicas}} {{.Image}}"
    )
    for line in sorted(listing.stdout.splitlines()):
        say(f"  {line}")


def deployed(stack: str, image: str | None = None) -> dict:
    """The stack file of the long-running services, as the next deploy would have it."""
    counts = {
        "replicas": running_replicas(stack),
        "workers": running_replicas(stack, "worker"),
    }
    everything = stack_config(stack=stack, image=image, **counts)
    return stack_config(*long_running(everything), stack=stack, image=image, **counts)


def update_started(stack: str, name: str) -> str | None:
    return ((service(stack, name) or {}).get("UpdateStatus") or {}).get("StartedAt")


def check_update(stack: str, name: str, *, started_before: str | None) -> None:
    """Wait for the update that the deploy started (if it started one) to end; fail if Swarm
    rolled it back or paused it. A rollback can still be under way when the CLI returns."""
    deadline = time.monotonic() + TIMEOUT
    while True:
        status = (service(stack, name) or {}).get("UpdateStatus") or {}
        state = status.get("State")
        if status.get("StartedAt") == started_before or state == "completed":
            return
        if state in UPDATE_FAILED:
            raise SwarmError(
                f"the update of {name} failed and Swarm {UPDATE_FAILED[state]} "
                f"({status.get('Message', state)}); {name} runs {running_image(stack)}\n"
                f"{tasks(stack)}"
            )
        if time.monotonic() > deadline:
            raise SwarmError(
                f"the update of {name} did not end within {TIMEOUT:g}s\n{tasks(stack)}"
            )
        time.sleep(1)


def up(args) -> None:
    stack = stack_name()
    ensure_swarm()
    ensure_data_node(f"{stack}.data")
    # web and the job read only the app role's password (DJANGO_DB_PASSWORD_FILE).
    if not setting("DJANGO_DB_USER"):
        raise SwarmError(
            "DJANGO_DB_USER is not set: on Swarm the app connects as a role of its own "
            "(.env.example documents it)."
        )
    config = deployed(stack, image=running_image(stack))
    ensure_secrets(config, stack)
    image = config["services"]["web"]["image"]
    if docker("image", "inspect", image, check=False).returncode != 0:
        say(f"{image} is not on this node: building it (other nodes pull it from a registry)")
        command = ["docker", "compose", "--file", "compose.yaml", "--project-name", stack]
        if env_file().exists():
            command += ["--env-file", str(env_file())]
        environ = {**os.environ, "WEB_IMAGE": image}
        subprocess.run([*command, "build", "web"], cwd=ROOT, env=environ, check=True)
    say(f"deploying the stack {stack} (web: {image})")
    before = update_started(stack, "web")
    stack_deploy(config, stack, wait=True)
    check_update(stack, "web", started_before=before)
    remove_unused_versions(config)
    summary(stack)
    port = config["services"]["nginx"]["ports"][0]["published"]
    say(f"up: http://<this node>:{port}/ (run `make swarm-migrate` on a new database)")


def migrate(args) -> None:
    stack = stack_name()
    ensure_swarm()
    # The image web runs (compose.yaml's before the first deploy), under another tag if given.
    image = running_image(stack)
    if args.tag:
        image = with_tag(
            image or stack_config("web", stack=stack)["services"]["web"]["image"], args.tag
        )
    config = stack_config("migrate", stack=stack, image=image)
    ensure_secrets(config, stack)
    run_job(config, stack)


def scale(args) -> None:
    stack = stack_name()
    if service(stack, "web") is None:
        raise SwarmError(f"no stack {stack} here: run `make swarm-up` first")
    scaled = {"web": args.replicas}
    if args.workers is not None:
        scaled["worker"] = args.workers
    for name, count in scaled.items():
        say(f"scaling {name} to {count}")
        docker(
            "service",
            "update",
            "--replicas",
            str(count),
            "--detach=false",
            "--quiet",
            f"{stack}_{name}",
            timeout=TIMEOUT,
        )
    summary(stack)


def deploy(args) -> None:
    stack = stack_name()
    ensure_swarm()
    current = running_image(stack)
    if current is None:
        raise SwarmError(f"no stack {stack} here: run `make swarm-up` first")
    image = with_tag(current, args.tag)
    if docker("image", "inspect", image, check=False).returncode != 0:
        say(f"{image} is not on this node: the nodes pull it from its registry")
    # Migrations first, so that the new code finds its schema; they must suit the old code
    # too, which serves until the last old replica stops.
    job = stack_config("migrate", stack=stack, image=image)
    ensure_secrets(job, stack)
    run_job(job, stack)
    say(f"rolling web over to {image}, one replica at a time")
    config = deployed(stack, image=image)
    ensure_secrets(config, stack)
    before = update_started(stack, "web")
    stack_deploy(config, stack, wait=True)
    try:
        check_update(stack, "web", started_before=before)
    except SwarmError:
        # The workers run the same image: a release that web refused goes from them too.
        if service(stack, "worker") is not None:
            say("rolling worker back with web")
            docker(
                "service",
                "rollback",
                "--detach=false",
                "--quiet",
                f"{stack}_worker",
                check=False,
                timeout=TIMEOUT,
            )
        raise
    remove_unused_versions(config)
    summary(stack)


def show_config(args) -> None:
    """Print the stack file that `up` deploys, or the named services only (for a review)."""
    stack = stack_name()
    if args.services:
        config = stack_config(*args.services, stack=stack, image=running_image(stack))
    else:
        config = deployed(stack, image=running_image(stack))
    print(json.dumps(config, indent=2))


def down(args) -> None:
    stack = stack_name()
    docker("stack", "rm", "--detach=false", stack, timeout=TIMEOUT)
    say(
        f"removed the stack {stack}; kept its volumes ({stack}_postgres-data, {stack}_static) "
        f"and secrets ({stack}_*): `docker volume rm` / `docker secret rm` remove them"
    )
