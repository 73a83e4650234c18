"""Build and start-up figures, on a Docker engine where there is one: cold image build, rebuild
after a one-line code change, image size over its base, `up --wait` to healthy, the migrate job;
then a fresh `git clone` to `make run` serving its first page.

Everything happens in temporary copies of the repository, under a compose project of its own
(<project>-bench, on free ports), torn down at the end: the working tree, the developer's
stack and the Docker suite's are never touched.
"""

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable
from http import HTTPStatus
from pathlib import Path

import requests

from bench.report import Target
from harness.compose import (
    MIGRATE,
    PROD,
    CommandFailed,
    Compose,
    run_image_alone,
    write_env_file,
)
from harness.project import ROOT, clean_environ, copy_working_tree, free_port

MB = 1_000_000

TARGETS = {
    "image over base": Target(max_value=80),
    "code-only rebuild": Target(max_value=10),
    "up --wait to healthy, fresh volumes": Target(max_value=15),
    "up --wait to healthy, existing volumes": Target(max_value=15),
    # The whole stack's start against the web image's own, taken in the same run.
    "stopped stack to first page, over the image alone": Target(max_value=1.5),
    "CPU at rest, whole stack": Target(max_value=0.01),
}


def docker_unavailable() -> str | None:
    """Why the Docker figures cannot be taken here, or None."""
    if not shutil.which("docker"):
        return "no docker CLI (install Docker Engine and Compose v2)"
    for command in (["docker", "info"], ["docker", "compose", "version"]):
        result = subprocess.run(command, capture_output=True, timeout=30, check=False)
        if result.returncode != 0:
            return f"`{' '.join(command)}` failed (is the Docker engine running?)"
    return None


def timed(run: Callable[[], object]) -> float:
    started = time.monotonic()
    run()
    return time.monotonic() - started


def image_size(name: str) -> int:
    result = subprocess.run(
        ["docker", "image", "inspect", "-f", "{{.Size}}", name],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(result.stdout.strip())


def base_image(directory: Path) -> str:
    match = re.search(r"^FROM (\S+) AS base$", (directory / "Dockerfile").read_text(), re.M)
    if not match:
        raise RuntimeError("the Dockerfile has no `FROM <image> AS base`")
    return match[1]


def wait_for_page(
    url: str,
    *,
    timeout: float,
    alive: Callable[[], bool] = lambda: True,
    headers: dict[str, str] | None = None,
    interval: float = 0.2,
) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and alive():
        with contextlib.suppress(requests.RequestException):
            response = requests.get(url, headers=headers, timeout=2, allow_redirects=False)
            if response.status_code == HTTPStatus.OK:
                return True
        time.sleep(interval)
    return False


def image_alone_to_health(image: str, *, timeout: float = 60) -> float:
    """Seconds from `docker run` of the web image alone (SQLite, no limits, no other service)
    to its first 200 on /health/."""
    port = free_port()
    started = time.monotonic()
    container = run_image_alone(image, "--publish", f"127.0.0.1:{port}:8001")
    try:
        if not wait_for_page(f"http://127.0.0.1:{port}/health/", timeout=timeout, interval=0.05):
            raise RuntimeError(f"the image alone did not answer /health/ within {timeout:g} s")
        return time.monotonic() - started
    finally:
        subprocess.run(["docker", "rm", "--force", container], capture_output=True)


def container_stats(container: str) -> dict:
    """The engine's stats of a running container (cgroup v1 or v2 alike): the CLI shows only
    rates, the API has the counters, on the engine's Unix socket."""
    path = (os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock").removeprefix("unix://")
    with socket.socket(socket.AF_UNIX) as engine:
        engine.connect(path)
        engine.sendall(
            f"GET /containers/{container}/stats?stream=false&one-shot=true HTTP/1.0\r\n"
            "Host: docker\r\n\r\n".encode()
        )
        answer = b"".join(iter(lambda: engine.recv(65536), b""))
    return json.loads(answer.split(b"\r\n\r\n", 1)[1])


def container_cpu_seconds(container: str) -> float:
    return container_stats(container)["cpu_stats"]["cpu_usage"]["total_usage"] / 1e9


def cpu_at_rest(compose: Compose, *, settle: float = 15, seconds: float = 60) -> dict[str, float]:
    """CPUs each running service uses with no request coming in (healthchecks, the task
    worker's polling), over `seconds` after `settle`: which one to look at, when the whole
    stack's figure moves."""
    containers = compose.run("ps", "--quiet").stdout.split()
    services = {container: docker_service(container) for container in containers}
    time.sleep(settle)
    before = {container: container_cpu_seconds(container) for container in containers}
    time.sleep(seconds)
    return {
        services[container]: (container_cpu_seconds(container) - before[container]) / seconds
        for container in sorted(containers, key=services.get)
    }


def docker_service(container: str) -> str:
    return subprocess.run(
        [
            "docker",
            "inspect",
            "-f",
            '{{index .Config.Labels "com.docker.compose.service"}}',
            container,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def docker_figures(figures: dict[str, tuple[float | None, str]]) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-build-") as tmp:
        copy = Path(tmp) / "repo"
        copy_working_tree(copy)
        env_file = Path(tmp) / "bench.env"
        write_env_file(env_file)
        base = base_image(copy)
        # Nothing terminates TLS in front of nginx here: plain http, without the redirect.
        compose = Compose(
            "bench",
            env_file,
            directory=copy,
            settings={"DJANGO_SECURE_SSL_REDIRECT": "False"},
        )
        everything = (*PROD, *MIGRATE)
        compose.down(volumes=True, files=everything)
        try:
            print("  cold build (no layer cache) ...", flush=True)
            figures["cold build"] = (timed(lambda: compose.run("build", "--no-cache", "web")), "s")
            size, base_size = image_size(compose.image), image_size(base)
            figures["image"] = (round(size / MB), "MB")
            figures["base image"] = (round(base_size / MB), "MB")
            figures["image over base"] = (round((size - base_size) / MB), "MB")

            with (copy / "ops" / "views.py").open("a") as code:
                code.write("# bench: a one-line code change\n")
            figures["code-only rebuild"] = (timed(lambda: compose.run("build", "web")), "s")

            print("  up --wait, migrate ...", flush=True)
            up = ("up", "--detach", "--wait", "--no-build", "--wait-timeout", "120")
            figures["up --wait to healthy, fresh volumes"] = (timed(lambda: compose.run(*up)), "s")
            figures["migrate job"] = (timed(compose.migrate), "s")
            page = f"{compose.url()}/admin/login/"
            if not wait_for_page(page, timeout=10):
                raise RuntimeError(f"{page} did not answer 200 after migrate")
            compose.down()
            figures["up --wait to healthy, existing volumes"] = (
                timed(lambda: compose.run(*up)),
                "s",
            )
            print("  CPU at rest, stopped stack to first page, the image alone ...", flush=True)
            at_rest = cpu_at_rest(compose)
            figures["CPU at rest, whole stack"] = (round(sum(at_rest.values()), 4), "CPUs")
            for service, cpus in at_rest.items():
                figures[f"CPU at rest, {service}"] = (round(cpus, 4), "CPUs")
            memory = container_stats(compose.container("web"))["memory_stats"]["usage"]
            figures["web container's memory at rest (as the engine counts it)"] = (
                memory / 2**20,
                "MiB",
            )
            compose.run("stop")

            def start_and_serve() -> None:
                compose.run("up", "--detach", "--no-build")
                if not wait_for_page(page, timeout=120, interval=0.05):
                    raise RuntimeError(f"{page} did not answer 200 after a restart")

            first_page = timed(start_and_serve)
            # The image alone on a machine as quiet as the stack found it: not beside the
            # stack's worker still starting, nor its healthchecks every second until healthy.
            compose.run("stop")
            alone = image_alone_to_health(compose.image)
            figures["stopped stack to first page"] = (first_page, "s")
            figures["web image alone to /health/"] = (alone, "s")
            figures["stopped stack to first page, over the image alone"] = (
                round(first_page / alone, 2),
                "times",
            )
        finally:
            with contextlib.suppress(Exception):
                compose.down(volumes=True, files=everything)
            # The image, and the one the rebuild replaced: only this project's.
            subprocess.run(["docker", "image", "rm", compose.image], capture_output=True)
            subprocess.run(
                [
                    "docker",
                    "image",
                    "prune",
                    "--force",
                    "--filter",
                    f"label=com.docker.compose.project={compose.name}",
                ],
                capture_output=True,
            )


def clone_to_first_page(timeout: float = 240) -> float | str:
    """Seconds from `git clone` to `make run` answering 200 on its admin login page, or why
    that could not be measured."""
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="bench-clone-") as tmp:
        clone = Path(tmp) / "clone"
        started = time.monotonic()
        subprocess.run(
            ["git", "clone", "--quiet", str(ROOT), str(clone)], check=True, capture_output=True
        )
        # As a newcomer's shell would be: none of our variables, no virtualenv active.
        env = clean_environ(dotenv=True)
        env.pop("VIRTUAL_ENV", None)
        log = Path(tmp) / "make-run.log"
        with log.open("w") as out:
            process = subprocess.Popen(
                ["make", "run", f"RUN_PORT={port}"],
                cwd=clone,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: runserver's reloader included
            )
        try:
            served = wait_for_page(
                f"http://127.0.0.1:{port}/admin/login/",
                timeout=timeout,
                alive=lambda: process.poll() is None,
            )
            elapsed = time.monotonic() - started
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        if not served:
            return f"make run served no page within {timeout:g} s: {log.read_text()[-500:]}"
        return elapsed


def build_and_start() -> dict:
    reason = docker_unavailable()
    figures: dict[str, tuple[float | None, str]] = {}
    problems: list[str] = []
    print("Build and start:", flush=True)
    if reason:
        print(f"  Docker figures SKIPPED: {reason}", flush=True)
        problems.append(f"docker: {reason}")
    else:
        try:
            docker_figures(figures)
        except (RuntimeError, CommandFailed, subprocess.SubprocessError) as error:
            print(f"  Docker figures FAILED: {error}", flush=True)
            problems.append(f"docker: {str(error)[:2000]}")
    print("  git clone to make run serving its first page ...", flush=True)
    clone = clone_to_first_page()
    if isinstance(clone, str):
        print(f"  clone to first page SKIPPED: {clone}", flush=True)
        problems.append(f"clone: {clone}")
    else:
        figures["git clone to make run serving a page"] = (clone, "s")
    result: dict = {"figures": {}, "problems": problems}
    for name, (value, unit) in figures.items():
        entry: dict = {"value": None if value is None else float(f"{value:.3g}"), "unit": unit}
        if name in TARGETS:
            entry["target"] = f"{TARGETS[name].describe()} {unit}"
            entry["target_met"] = TARGETS[name].met(value=value)
        result["figures"][name] = entry
    return result
