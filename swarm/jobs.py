"""Deploys, and the migrate job: Swarm runs a `replicated-job` again on every deploy; the tool
waits for that run to complete and shows its logs."""

import json
import subprocess
import sys
import time

from swarm.engine import SwarmError, docker, say
from swarm.settings import TIMEOUT

# Deploys to try when another one changes the stack at the same moment.
DEPLOY_ATTEMPTS = 5
# Task states that end a run of the job without success.
FAILED = ("failed", "rejected")
# Runs of the job to try when its container could not even start: the engine sometimes
# fails to mount the secrets (moby/moby#48783), and then no code of the job has run.
JOB_STARTS = 3
NOT_STARTED = "starting container failed"


def service(stack: str, name: str) -> dict | None:
    result = docker("service", "inspect", f"{stack}_{name}", check=False)
    return json.loads(result.stdout)[0] if result.returncode == 0 else None


def tasks(stack: str) -> str:
    result = docker(
        "stack",
        "ps",
        stack,
        "--no-trunc",
        "--format",
        "{{.Name}} {{.Image}} {{.CurrentState}} {{.Error}}",
        check=False,
    )
    return result.stdout.strip() or result.stderr.strip()


def stack_deploy(config: dict, stack: str, *, wait: bool) -> None:
    # Swarm refuses an update made from a service version that another update has just
    # replaced ("update out of sequence"), as when two `make swarm-migrate` run at once:
    # deploying again, from the new version, is what the second one meant.
    for attempt in range(1, DEPLOY_ATTEMPTS + 1):
        try:
            result = subprocess.run(
                ["docker", "stack", "deploy", "--compose-file", "-", "--quiet"]
                + (["--detach=false"] if wait else [])
                + [stack],
                input=json.dumps(config),
                capture_output=True,
                text=True,
                timeout=TIMEOUT,
            )
        except subprocess.TimeoutExpired:
            raise SwarmError(
                f"the stack did not converge within {TIMEOUT:g}s\n{tasks(stack)}"
            ) from None
        if "out of sequence" not in result.stderr or attempt == DEPLOY_ATTEMPTS:
            break
        say("another deploy changed the stack at the same moment: deploying again")
        time.sleep(attempt)
    # What Swarm ignores (build, restart, security_opt) and unpinned images are worth a look.
    for line in result.stderr.splitlines():
        if line.strip():
            print(f"  {line}", file=sys.stderr)
    if result.returncode != 0:
        raise SwarmError(f"docker stack deploy failed:\n{result.stderr.strip()}\n{tasks(stack)}")


def job_iteration(job: dict | None) -> int:
    """Which run of the job this is: Swarm counts them from 0 (and then leaves the field out)."""
    return ((job or {}).get("JobStatus") or {}).get("JobIteration", {}).get("Index", 0)


def job_tasks(name: str, iteration: int) -> list[dict]:
    """The tasks of that run of the job, as `docker inspect` describes them.

    Swarm keeps a few tasks per service and drops older ones at any moment: a task listed a
    moment ago may be gone by the time it is inspected. `docker inspect` then fails for that
    one and still describes the others, as JSON; a vanished task is simply not there.
    """
    ids = docker("service", "ps", "--quiet", "--no-trunc", name, check=False).stdout.split()
    if not ids:
        return []
    found = docker("inspect", *ids, check=False).stdout.strip()
    try:
        described = json.loads(found) if found else []
    except json.JSONDecodeError:
        return []
    return [
        task
        for task in described
        if isinstance(task, dict) and (task.get("JobIteration") or {}).get("Index", 0) == iteration
    ]


def run_job(config: dict, stack: str) -> None:
    """Deploy the migrate job and wait for this run of it to complete."""
    name = f"{stack}_migrate"
    before = service(stack, "migrate")
    last = job_iteration(before) if before else -1
    say(f"running the migrate job ({config['services']['migrate']['image']})")
    stack_deploy(config, stack, wait=False)
    deadline = time.monotonic() + TIMEOUT
    starts = 1
    while True:
        iteration = job_iteration(service(stack, "migrate"))
        run = job_tasks(name, iteration) if iteration > last else []
        states = [task.get("Status", {}).get("State") for task in run]
        if states and all(state == "complete" for state in states):
            break
        failed = [task for task in run if task.get("Status", {}).get("State") in FAILED]
        error = failed[0]["Status"].get("Err", "") if failed else ""
        if NOT_STARTED in error and starts < JOB_STARTS:
            say(f"the migrate job's container did not start ({error}): running it again")
            last, starts = iteration, starts + 1
            stack_deploy(config, stack, wait=False)
            continue
        if failed:
            logs = docker("service", "logs", "--raw", failed[0]["ID"], check=False)
            print(logs.stdout + logs.stderr, end="", file=sys.stderr)
            raise SwarmError(f"the migrate job failed: {error}")
        if time.monotonic() > deadline:
            raise SwarmError(f"the migrate job did not finish within {TIMEOUT:g}s\n{tasks(stack)}")
        time.sleep(1)
    print(docker("service", "logs", "--raw", run[0]["ID"], check=False).stdout, end="")
    say("the migrate job completed")
