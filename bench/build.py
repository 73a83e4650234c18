"""Build and start-up figures, on a Docker engine where there is one: cold image build, rebuild
after a one-line code change, image size over its base, `up --wait` to healthy, the migrate job;
then a fresh `git clone` to `make run` serving its first page.

Everything happens in temporary copies of the repository, under a compose project of its own
(`django-starter-bench`, nginx on port 18088), torn down at the end: the working tree, the
developer's stack and the Docker suite's are never touched.
"""

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from http import HTTPStatus
from pathlib import Path

import requests

from bench.report import Target
from tests.support.project import ROOT, clean_environ

PROJECT = "django-starter-bench"
IMAGE = f"{PROJECT}-web:latest"
NGINX_PORT = 18088
RUN_URL = "http://127.0.0.1:8000/admin/login/"
MB = 1_000_000

TARGETS = {
    "image over base": Target(max_value=80),
    "code-only rebuild": Target(max_value=10),
    "up --wait to healthy, fresh volumes": Target(max_value=15),
    "up --wait to healthy, existing volumes": Target(max_value=15),
}


def docker_unavailable() -> str | None:
    """Why the Docker figures cannot be taken here, or None."""
    if not shutil.which("docker"):
        return "no docker CLI (apt-get install docker.io, then bash tests/docker/engine.sh)"
    for command in (["docker", "info"], ["docker", "compose", "version"]):
        result = subprocess.run(command, capture_output=True, timeout=30, check=False)
        if result.returncode != 0:
            return f"`{' '.join(command)}` failed (bash tests/docker/engine.sh starts an engine)"
    return None


def copy_working_tree(destination: Path) -> None:
    """Tracked and untracked files that git does not ignore: what a commit of now would hold."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():
            target = destination / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target, follow_symlinks=False)


class Compose:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        # Only the copy's .env configures the stack: nothing of the bench's environment
        # (the throwaway cluster's POSTGRES_*) may leak into it.
        self.env = clean_environ(WEB_IMAGE=IMAGE, NGINX_PORT=str(NGINX_PORT))

    def __call__(self, *args: str, files=("compose.yaml",), timeout: float = 600) -> float:
        """Runs `docker compose ARGS`; returns how long it took, raises with its output."""
        command = ["docker", "compose", "-p", PROJECT]
        for file in files:
            command += ["-f", file]
        started = time.monotonic()
        result = subprocess.run(
            [*command, *args],
            cwd=self.directory,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        elapsed = time.monotonic() - started
        if result.returncode != 0:
            raise RuntimeError(
                f"docker compose {' '.join(args)} failed ({result.returncode}):\n"
                f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
            )
        return elapsed


def image_size(name: str) -> int:
    result = subprocess.run(
        ["docker", "image", "inspect", "-f", "{{.Size}}", name],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(result.stdout.strip())


def base_image(directory: Path) -> str:
    match = re.search(r"^ARG PYTHON_IMAGE=(\S+)$", (directory / "Dockerfile").read_text(), re.M)
    if not match:
        raise RuntimeError("the Dockerfile names no PYTHON_IMAGE")
    return match[1]


def wait_for_page(
    url: str,
    *,
    timeout: float,
    alive: Callable[[], bool] = lambda: True,
    headers: dict[str, str] | None = None,
) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and alive():
        with contextlib.suppress(requests.RequestException):
            response = requests.get(url, headers=headers, timeout=2, allow_redirects=False)
            if response.status_code == HTTPStatus.OK:
                return True
        time.sleep(0.2)
    return False


def docker_figures(figures: dict[str, tuple[float | None, str]]) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-build-") as tmp:
        copy = Path(tmp) / "repo"
        copy_working_tree(copy)
        subprocess.run(
            [sys.executable, "scripts/make_env.py"], cwd=copy, check=True, capture_output=True
        )
        base = base_image(copy)
        # The base images, as the Docker suite gets them: local, pulled, or look-alikes.
        subprocess.run(
            [sys.executable, "tests/docker/lookalikes.py", base, "postgres:17", "nginx:1.30"],
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        compose = Compose(copy)
        everything = ("compose.yaml", "compose.migrate.yaml")
        compose("down", "--volumes", "--remove-orphans", files=everything)
        try:
            print("  cold build (no layer cache) ...", flush=True)
            figures["cold build"] = (compose("build", "--no-cache", "web"), "s")
            size, base_size = image_size(IMAGE), image_size(base)
            figures["image"] = (round(size / MB), "MB")
            figures["base image"] = (round(base_size / MB), "MB")
            figures["image over base"] = (round((size - base_size) / MB), "MB")

            with (copy / "ops" / "views.py").open("a") as code:
                code.write("# bench: a one-line code change\n")
            figures["code-only rebuild"] = (compose("build", "web"), "s")

            print("  up --wait, migrate ...", flush=True)
            figures["up --wait to healthy, fresh volumes"] = (
                compose("up", "--detach", "--wait", "--no-build", "--wait-timeout", "120"),
                "s",
            )
            figures["migrate job"] = (
                compose("run", "--rm", "migrate", files=everything),
                "s",
            )
            page = f"http://127.0.0.1:{NGINX_PORT}/admin/login/"
            # As a TLS-terminating proxy in front of nginx would say (DEBUG off redirects
            # plain http to https).
            if not wait_for_page(page, timeout=10, headers={"X-Forwarded-Proto": "https"}):
                raise RuntimeError(f"{page} did not answer 200 after migrate")
            compose("down")
            figures["up --wait to healthy, existing volumes"] = (
                compose("up", "--detach", "--wait", "--no-build", "--wait-timeout", "120"),
                "s",
            )
        finally:
            with contextlib.suppress(Exception):
                compose("down", "--volumes", "--remove-orphans", files=everything)
            # The image, and the one the rebuild replaced: only this project's.
            subprocess.run(["docker", "image", "rm", IMAGE], capture_output=True, check=False)
            subprocess.run(
                [
                    "docker",
                    "image",
                    "prune",
                    "--force",
                    "--filter",
                    f"label=com.docker.compose.project={PROJECT}",
                ],
                capture_output=True,
                check=False,
            )


def port_in_use(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def clone_to_first_page(timeout: float = 240) -> float | str:
    """Seconds from `git clone` to `make run` answering 200 on its admin login page, or why
    that could not be measured."""
    if port_in_use(8000):
        return "port 8000 is in use"
    with tempfile.TemporaryDirectory(prefix="bench-clone-") as tmp:
        clone = Path(tmp) / "clone"
        started = time.monotonic()
        subprocess.run(
            ["git", "clone", "--quiet", str(ROOT), str(clone)], check=True, capture_output=True
        )
        # As a newcomer's shell would be: none of our variables, no virtualenv active.
        env = clean_environ()
        env.pop("VIRTUAL_ENV", None)
        log = Path(tmp) / "make-run.log"
        with log.open("w") as out:
            process = subprocess.Popen(
                ["make", "run"],
                cwd=clone,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: runserver's reloader included
            )
        try:
            served = wait_for_page(RUN_URL, timeout=timeout, alive=lambda: process.poll() is None)
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
        except (RuntimeError, subprocess.SubprocessError) as error:
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
        entry: dict = {"value": None if value is None else round(value, 1), "unit": unit}
        if name in TARGETS:
            entry["target"] = f"{TARGETS[name].describe()} {unit}"
            entry["target_met"] = TARGETS[name].met(value=value)
        result["figures"][name] = entry
    return result
